/**
 * The L2 app in fabric mode: the shell around ./fabric.ts. Same contract as
 * createL2App (it runs last, it floods or forwards every packet-in it gets),
 * but its logic reads the live topology and may answer a packet-in on one
 * switch with flows on several. It listens to the graph's change events to
 * flush paths when a link or switch goes.
 */
import type { App, Datapath, Msg } from '../app.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { silentLogger, type Logger } from '../log.js';
import type { TopologyGraph } from '../topology/graph.js';
import type { L2AppOptions } from './app.js';
import { L2Fabric, type PerSwitch } from './fabric.js';
import { sendInBarrierOrder, sendMsgs } from './send.js';

export interface FabricL2AppOptions extends L2AppOptions {
  /** The live graph the topology app keeps (createTopologyApp().graph). */
  readonly topology: TopologyGraph;
}

export interface FabricL2App extends App {
  readonly fabric: L2Fabric;
}

export function createFabricL2App(opts: FabricL2AppOptions): FabricL2App {
  const fabric = new L2Fabric(opts.topology, opts);
  const log: Logger = opts.log ?? silentLogger;
  const clock: Clock = opts.clock ?? systemClock;
  const expireEvery = opts.expireIntervalMs ?? 10_000;
  const live = new Map<bigint, Datapath>();
  let timer: TimerHandle | undefined;

  const sendAll = (res: PerSwitch): void => {
    for (const [dpid, msgs] of res) {
      const dp = live.get(dpid);
      if (dp !== undefined) sendMsgs(dp, msgs);
    }
  };
  const isLive = (dp: Datapath) => live.get(dp.id) === dp;
  const sweep = (): void => {
    timer = clock.setTimer(sweep, expireEvery);
    sendAll(fabric.expire(clock.now()));
  };
  const unsubscribe = opts.topology.onChange((c) => {
    const res = fabric.topologyChanged(c);
    if (res.size > 0 && c.kind !== 'ports') log.info('l2 fabric: topology changed, paths flushed', { change: c.kind, switches: res.size });
    sendAll(res);
  });

  return {
    name: 'l2',
    fabric,

    async switchUp(dp) {
      const msgs = fabric.switchUp(dp.id);
      live.set(dp.id, dp);
      timer ??= clock.setTimer(sweep, expireEvery);
      if (!(await sendInBarrierOrder(dp, msgs, log))) return;
      log.info('l2 fabric: switch ready', { dpid: dp.idHex });
    },

    switchDown(dp) {
      if (!isLive(dp)) return;
      live.delete(dp.id);
      fabric.switchDown(dp.id);
    },

    packetIn(dp, msg: Msg<'packet_in'>) {
      if (!isLive(dp)) return false;
      opts.onPacketIn?.();
      sendAll(fabric.packetIn(clock.now(), dp.id, msg));
      return true;
    },

    error(dp, msg) {
      const sw = fabric.switch(dp.id);
      if (sw === undefined || !isLive(dp) || !sw.isOurs(msg)) return;
      const fix = fabric.error(dp.id, msg);
      if (fix.length > 0) log.warn('l2: switch refused the packet-in meter; table-miss installed without it', { dpid: dp.idHex });
      else log.warn('l2: switch rejected a message', { dpid: dp.idHex, errType: msg.errType, data: msg.data.subarray(0, 16) });
      sendMsgs(dp, fix);
    },

    stop() {
      unsubscribe();
      if (timer !== undefined) clock.clearTimer(timer);
      timer = undefined;
      live.clear();
    },
  };
}
