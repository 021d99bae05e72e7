/**
 * Topology discovery as an App: a thin shell that feeds switch events and the
 * clock to ./discovery.ts and sends what it returns. It must run first among
 * the apps, so LLDP packet-ins are consumed before anything could learn or
 * flood them. Probe rounds run on the injected Clock.
 */
import type { App, Datapath } from '../app.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { silentLogger, type Logger } from '../log.js';
import type { OfpMessage } from '../openflow/types.js';
import { Discovery, type DiscoveryOptions } from './discovery.js';
import type { TopologyGraph } from './graph.js';

export interface TopologyAppOptions extends DiscoveryOptions {
  readonly log?: Logger;
  readonly clock?: Clock;
}

export interface TopologyApp extends App {
  readonly discovery: Discovery;
  readonly graph: TopologyGraph;
}

export function createTopologyApp(opts: TopologyAppOptions = {}): TopologyApp {
  const discovery = new Discovery(opts);
  const log = opts.log ?? silentLogger;
  const clock = opts.clock ?? systemClock;
  const live = new Map<bigint, Datapath>();
  let timer: TimerHandle | undefined;

  const send = (dp: Datapath, msgs: OfpMessage[]): void => {
    if (msgs.length === 0 || !dp.connected) return;
    for (const m of msgs) m.xid = dp.nextXid();
    dp.send(...msgs);
  };
  const round = (): void => {
    timer = clock.setTimer(round, discovery.intervalMs);
    for (const [dpid, msgs] of discovery.tick(clock.now())) {
      const dp = live.get(dpid);
      if (dp !== undefined) send(dp, msgs);
    }
  };
  const isLive = (dp: Datapath) => live.get(dp.id) === dp;

  discovery.graph.onChange((c) => {
    if (c.kind === 'link-up') log.info('topology: link up', { a: fmtEnd(c.link.a), b: fmtEnd(c.link.b) });
    else if (c.kind === 'link-down') log.warn('topology: link down', { a: fmtEnd(c.link.a), b: fmtEnd(c.link.b), reason: c.reason });
  });

  return {
    name: 'topology',
    discovery,
    graph: discovery.graph,

    switchUp(dp) {
      live.set(dp.id, dp);
      send(dp, discovery.switchUp(clock.now(), dp.id, dp.ports));
      timer ??= clock.setTimer(round, discovery.intervalMs);
    },

    switchDown(dp) {
      if (!isLive(dp)) return; // replaced by a newer connection
      live.delete(dp.id);
      discovery.switchDown(dp.id);
    },

    portStatus(dp, msg) {
      if (isLive(dp)) send(dp, discovery.portStatus(clock.now(), dp.id, msg));
    },

    packetIn(dp, msg) {
      if (!isLive(dp)) return false;
      return discovery.packetIn(clock.now(), dp.id, msg) === true;
    },

    stop() {
      if (timer !== undefined) clock.clearTimer(timer);
      timer = undefined;
      live.clear();
    },
  };
}

function fmtEnd(e: { dpid: bigint; port: number }): string {
  return `${e.dpid.toString(16).padStart(16, '0')}:${e.port}`;
}
