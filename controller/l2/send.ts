// Sending an L2 app's messages to one switch: xids from the connection, and the
// barrier_request markers the logic puts in a list turned into awaited barriers.
// Shared by the single-switch learning app (app.ts) and the fabric app (fabric-app.ts).
import type { Datapath } from '../app.js';
import type { Logger } from '../log.js';
import type { OfpMessage } from '../openflow/types.js';

/** Sends `msgs` to `dp` in one write, each with a fresh xid; nothing when empty or disconnected. */
export function sendMsgs(dp: Datapath, msgs: OfpMessage[]): void {
  if (msgs.length === 0 || !dp.connected) return;
  for (const m of msgs) m.xid = dp.nextXid();
  dp.send(...msgs);
}

/**
 * Sends `msgs`, where a barrier_request in the list orders what follows after
 * what precedes (OF 1.3.5 §6.2): the messages before it are sent and the
 * switch's barrier reply awaited before the rest go. A failed barrier is
 * logged and the rest still sent, unless the connection is gone (then false).
 */
export async function sendInBarrierOrder(dp: Datapath, msgs: readonly OfpMessage[], log: Logger): Promise<boolean> {
  let batch: OfpMessage[] = [];
  for (const m of msgs) {
    if (m.type !== 'barrier_request') {
      batch.push(m);
      continue;
    }
    sendMsgs(dp, batch);
    batch = [];
    try {
      await dp.barrier();
    } catch (e) {
      log.warn('l2: barrier after meter setup failed', { dpid: dp.idHex, err: e });
      if (!dp.connected) return false;
    }
  }
  sendMsgs(dp, batch);
  return true;
}
