// Write backpressure on a real TCP socket: a peer that completes the handshake,
// then keeps sending ECHO_REQUESTs but stops reading, is closed with
// 'send-overflow' once net.Socket#writableLength plus our queue passes the limit.
// Loopback only; the "switch" is a raw socket speaking OpenFlow through our codec.
import test from 'ava';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startController } from '../../controller/daemon.js';
import { createLogger } from '../../controller/log.js';
import { decode, encode, Framer } from '../../controller/openflow/index.js';
import type { OfpMessage } from '../../controller/openflow/index.js';
import { SwitchDisconnectedError } from '../../controller/switch/errors.js';
import { featuresReply, port } from '../support/switch-fakes.js';

const log = createLogger({ level: process.env.SEAMLESS_TEST_LOG === '1' ? 'debug' : 'error' });

/** Reads messages from `sock` until `pick` returns one (bounded by `ms`). */
function readUntil<T>(sock: net.Socket, framer: Framer, pick: (m: OfpMessage) => T | undefined, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.off('data', onData);
      reject(new Error(`no expected message within ${ms} ms`));
    }, ms);
    const onData = (chunk: Buffer): void => {
      for (const f of framer.push(chunk)) {
        const r = pick(decode(f));
        if (r !== undefined) {
          clearTimeout(timer);
          sock.off('data', onData);
          resolve(r);
          return;
        }
      }
    };
    sock.on('data', onData);
  });
}

test('a real switch socket that stops reading is closed with send-overflow; its pending requests fail', async (t) => {
  const limit = 1024 * 1024;
  const ctl = await startController({ listen: { host: '127.0.0.1', port: 0 }, apps: [], log, maxSendQueueBytes: limit });
  t.teardown(() => ctl.stop());
  const dpid = 0x5eb0_0000_0001n;
  const sw = net.connect({ host: '127.0.0.1', port: ctl.address.port });
  t.teardown(() => sw.destroy());
  sw.on('error', () => {}); // the controller resets us at the end
  const framer = new Framer();
  sw.write(encode({ type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [4] }] }));
  const frXid = await readUntil(sw, framer, (m) => (m.type === 'features_request' ? m.xid : undefined));
  sw.write(encode(featuresReply(frXid, dpid)));
  const pdXid = await readUntil(sw, framer, (m) => (m.type === 'multipart_request' ? m.xid : undefined));
  sw.write(encode({ type: 'multipart_reply', xid: pdXid, flags: 0, body: { mpType: 'port_desc', ports: [port(1, 'p1')] } }));
  const dp = await ctl.waitForSwitch(dpid, { timeoutMs: 5000 });
  const down = ctl.waitForSwitchDown(dpid, { timeoutMs: 60_000 });
  const pending = dp.barrier({ timeoutMs: 60_000 });
  pending.catch(() => {});

  // Stop reading, keep sending: every 60 KiB ECHO_REQUEST makes the controller queue a 60 KiB reply.
  sw.pause();
  const echo = encode({ type: 'echo_request', xid: 2, data: Buffer.alloc(60 * 1024, 0x33) });
  let sent = 0;
  for (; sent < 2000 && dp.connected; sent += 1) {
    // 'close' too: after the controller resets us, 'drain' never comes.
    if (!sw.write(echo)) await new Promise((r) => (sw.once('drain', r), sw.once('close', r)));
    if (sent % 8 === 7) await sleep(1);
  }
  t.false(dp.connected, `still connected after ${sent} echo requests`);
  t.is(await down, 'send-overflow');
  t.is(dp.reason, 'send-overflow');
  const e = await t.throwsAsync(pending, { instanceOf: SwitchDisconnectedError });
  t.is(e?.reason, 'send-overflow');
  t.is(ctl.datapaths.size, 0);
  // It took more than the limit's worth of replies: the kernel's buffers absorb some first.
  t.true(sent * echo.length > limit, `closed after ${sent} requests`);
});
