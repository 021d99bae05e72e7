/**
 * The L2 fabric as an App: a thin shell that feeds switch events and the clock
 * to the pure logic in ./learning.ts and sends back what it returns. It should
 * run last among the apps: it floods or forwards every packet-in it gets.
 */
import type { App, Datapath, Msg } from '../app.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { silentLogger, type Logger } from '../log.js';
import { L2Learning, type L2Options, type L2Switch } from './learning.js';
import { sendInBarrierOrder, sendMsgs } from './send.js';

export interface L2AppOptions extends L2Options {
  /** Default: silent. */
  log?: Logger;
  /** Time and the expiry sweep's timer (default: systemClock). */
  clock?: Clock;
  /** How often MACs past macAgeSec are swept, ms (default 10 000). */
  expireIntervalMs?: number;
  /** Called for every packet-in this app handles (metrics: verdict l2). */
  onPacketIn?: () => void;
}

/** The L2 app plus a read-only view of its logic (for status and tests). */
export interface L2App extends App {
  readonly logic: L2Learning;
}

/**
 * Creates the L2 learning-switch app. Throws L2ConfigError for bad options.
 * On each switch: deletes old L2 flows, installs the packet-in meter and the
 * table-miss flow, then learns MACs from packet-ins.
 */
export function createL2App(opts: L2AppOptions = {}): L2App {
  const logic = new L2Learning(opts);
  const log = opts.log ?? silentLogger;
  const clock = opts.clock ?? systemClock;
  const expireEvery = opts.expireIntervalMs ?? 10_000;
  /** The live connection for each datapath id and the state bound to it. */
  const live = new Map<bigint, { dp: Datapath; sw: L2Switch }>();
  let timer: TimerHandle | undefined;


  /** The state for this connection; undefined for a connection that was replaced or is not up. */
  const stateOf = (dp: Datapath): L2Switch | undefined => {
    const e = live.get(dp.id);
    return e !== undefined && e.dp === dp ? e.sw : undefined;
  };

  const sweep = (): void => {
    timer = clock.setTimer(sweep, expireEvery);
    for (const [dpid, msgs] of logic.expire(clock.now())) {
      const e = live.get(dpid);
      if (e !== undefined) sendMsgs(e.dp, msgs);
    }
  };

  return {
    name: 'l2',
    logic,

    async switchUp(dp) {
      const msgs = logic.switchUp(dp.id);
      live.set(dp.id, { dp, sw: logic.switch(dp.id)! });
      if (timer === undefined) timer = clock.setTimer(sweep, expireEvery);
      if (!(await sendInBarrierOrder(dp, msgs, log))) return;
      log.info('l2: switch ready', { dpid: dp.idHex, metered: logic.switch(dp.id)?.metered ?? false });
    },

    switchDown(dp) {
      if (stateOf(dp) === undefined) return; // replaced by a newer connection: keep its state
      live.delete(dp.id);
      logic.switchDown(dp.id);
    },

    packetIn(dp, msg: Msg<'packet_in'>) {
      const sw = stateOf(dp);
      if (sw === undefined) return false;
      opts.onPacketIn?.();
      sendMsgs(dp, sw.packetIn(clock.now(), msg));
      return true;
    },

    portStatus(dp, msg) {
      const sw = stateOf(dp);
      if (sw !== undefined) sendMsgs(dp, sw.portStatus(msg));
    },

    error(dp, msg) {
      const sw = stateOf(dp);
      if (sw === undefined || !sw.isOurs(msg)) return;
      const fix = sw.error(msg);
      if (fix.length > 0) log.warn('l2: switch refused the packet-in meter; table-miss installed without it', { dpid: dp.idHex });
      else log.warn('l2: switch rejected a message', { dpid: dp.idHex, errType: msg.errType, data: msg.data.subarray(0, 16) });
      sendMsgs(dp, fix);
    },

    stop() {
      if (timer !== undefined) clock.clearTimer(timer);
      timer = undefined;
      live.clear();
    },
  };
}
