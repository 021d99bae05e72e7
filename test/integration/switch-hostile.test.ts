// Hostile peers over real TCP on loopback (issue 8, items 5 and 6): a peer that
// answers port-desc with endless "more" parts, and a peer that trickles one byte
// at a time of a frame it never finishes. The controller must bound what it holds
// and drop them, while a well-behaved switch on the same controller keeps working.
// The "switches" are raw sockets speaking OpenFlow through our codec.
import test from 'ava';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startController, type Controller } from '../../controller/daemon.js';
import { createLogger } from '../../controller/log.js';
import {
  decode,
  encode,
  Framer,
  OFPBRC_MULTIPART_BUFFER_OVERFLOW,
  OFPET_BAD_REQUEST,
  OFPMPF_REPLY_MORE,
} from '../../controller/openflow/index.js';
import type { OfpMessage } from '../../controller/openflow/index.js';
import type { SwitchConnection } from '../../controller/switch/connection.js';
import { featuresReply, port } from '../support/switch-fakes.js';

const log = createLogger({ level: process.env.SEAMLESS_TEST_LOG === '1' ? 'debug' : 'error' });

/** A raw switch socket: records what the controller sends, answers echo and barrier requests. */
class RawSwitch {
  readonly sock: net.Socket;
  readonly received: OfpMessage[] = [];
  closed = false;
  private readonly framer = new Framer();
  private waiters: (() => void)[] = [];

  constructor(portNo: number) {
    this.sock = net.connect({ host: '127.0.0.1', port: portNo });
    this.sock.on('error', () => {}); // the controller may reset us
    this.sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.sock.on('data', (chunk: Buffer) => {
      for (const f of this.framer.push(chunk)) {
        const m = decode(f);
        this.received.push(m);
        if (m.type === 'echo_request' && this.answer) this.send({ type: 'echo_reply', xid: m.xid, data: m.data });
        if (m.type === 'barrier_request' && this.answer) this.send({ type: 'barrier_reply', xid: m.xid });
      }
      this.wake();
    });
  }

  /** Whether echo and barrier requests are answered (a dead switch answers nothing). */
  answer = true;

  send(m: OfpMessage): boolean {
    return this.sock.write(encode(m));
  }

  /** The first received message `pick` accepts (waits for it, bounded). */
  async next<T>(pick: (m: OfpMessage) => T | undefined, ms = 10_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      for (const m of this.received) {
        const r = pick(m);
        if (r !== undefined) return r;
      }
      if (this.closed) throw new Error('connection closed before the expected message');
      if (Date.now() > end) throw new Error(`no expected message within ${ms} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** HELLO and FEATURES_REPLY; resolves with the port-desc request's xid (not answered). */
  async toPortDesc(dpid: bigint): Promise<number> {
    this.send({ type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [4] }] });
    const fr = await this.next((m) => (m.type === 'features_request' ? m.xid : undefined));
    this.send(featuresReply(fr, dpid));
    return this.next((m) => (m.type === 'multipart_request' ? m.xid : undefined));
  }

  async handshake(dpid: bigint): Promise<void> {
    const xid = await this.toPortDesc(dpid);
    this.send({ type: 'multipart_reply', xid, flags: 0, body: { mpType: 'port_desc', ports: [port(1, 'p1'), port(2, 'p2')] } });
  }

  close(): void {
    this.sock.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** The controller's connection for a peer socket (matched by the peer's local port). */
function connectionOf(ctl: Controller, peer: RawSwitch): SwitchConnection {
  for (const c of ctl.connections) if (c.remote.endsWith(`:${peer.sock.localPort}`)) return c;
  throw new Error(`no connection for local port ${peer.sock.localPort}`);
}

async function goodSwitch(ctl: Controller, dpid: bigint): Promise<{ sw: RawSwitch; dp: SwitchConnection }> {
  const sw = new RawSwitch(ctl.address.port);
  await sw.handshake(dpid);
  const dp = await ctl.waitForSwitch(dpid, { timeoutMs: 10_000 });
  return { sw, dp };
}

test('endless port-desc parts flagged "more": buffered bytes stay under the limit, the peer gets OFPBRC_MULTIPART_BUFFER_OVERFLOW and is dropped; the good switch keeps working', async (t) => {
  const limit = 1024 * 1024;
  const ctl = await startController({
    listen: { host: '127.0.0.1', port: 0 },
    apps: [],
    log,
    maxMultipartReplyBytes: limit,
    maxBufferedReplyBytes: limit,
  });
  t.teardown(() => ctl.stop());
  const good = await goodSwitch(ctl, 0x5eb1_0000_0001n);
  t.teardown(() => good.sw.close());

  const bad = new RawSwitch(ctl.address.port);
  t.teardown(() => bad.close());
  const xid = await bad.toPortDesc(0x5eb1_0000_0002n);
  const conn = connectionOf(ctl, bad);
  // 1000 ports (64 KiB) per part, REPLY_MORE on every one: the reply never ends.
  const part = encode({
    type: 'multipart_reply',
    xid,
    flags: OFPMPF_REPLY_MORE,
    body: { mpType: 'port_desc', ports: Array.from({ length: 1000 }, (_, i) => port(10 + i, `p${i}`)) },
  });
  let sent = 0;
  let maxHeld = 0;
  // Bounded stand-in for "endless": up to 64 MiB of parts, 64 times the limit.
  for (; sent < 1024 && !bad.closed && conn.connected; sent += 1) {
    if (!bad.sock.write(part)) await new Promise((r) => (bad.sock.once('drain', r), bad.sock.once('close', r)));
    maxHeld = Math.max(maxHeld, conn.bufferedReplyBytes);
    if (sent % 16 === 15) {
      await sleep(1);
      // Meanwhile the good switch is served.
      await good.dp.barrier({ timeoutMs: 10_000 });
    }
  }
  for (let i = 0; i < 100 && conn.connected; i += 1) await sleep(50);
  t.is(conn.reason, 'multipart-overflow', `after ${sent} parts of ${part.length} bytes`);
  t.true(maxHeld <= limit, `held ${maxHeld} bytes of reply parts`);
  t.true(sent * part.length < 8 * limit, `closed after ${sent} parts`);
  const err = await bad.next((m) => (m.type === 'error' ? m : undefined));
  t.is(err.xid, xid);
  t.is(err.errType, OFPET_BAD_REQUEST);
  t.is('code' in err ? err.code : -1, OFPBRC_MULTIPART_BUFFER_OVERFLOW);
  // The good switch is untouched and still answers.
  await good.dp.barrier({ timeoutMs: 10_000 });
  t.true(good.dp.connected);
  t.is(ctl.datapaths.size, 1);
});

test('a switch that trickles bytes of a never-finished 65,535-byte frame is probed and dropped with echo-timeout; the good switch stays up', async (t) => {
  const ctl = await startController({
    listen: { host: '127.0.0.1', port: 0 },
    apps: [],
    log,
    echoIntervalMs: 300,
    echoTimeoutMs: 900,
  });
  t.teardown(() => ctl.stop());
  const good = await goodSwitch(ctl, 0x5eb2_0000_0001n);
  t.teardown(() => good.sw.close());
  const dpid = 0x5eb2_0000_0002n;
  const bad = new RawSwitch(ctl.address.port);
  t.teardown(() => bad.close());
  await bad.handshake(dpid);
  await ctl.waitForSwitch(dpid, { timeoutMs: 10_000 });
  // Dropped while the bytes are still coming: once they stop, any keepalive would notice.
  let trickling = false;
  let downWhileTrickling = false;
  const down = ctl.waitForSwitchDown(dpid, { timeoutMs: 30_000 }).then((reason) => {
    downWhileTrickling = trickling;
    return reason;
  });
  down.catch(() => {});
  // A dead switch's TCP stack: it answers nothing, but a few bytes keep trickling in
  // (here every 100 ms, well inside the echo interval; the report: one every 4 s).
  bad.answer = false;
  trickling = true;
  bad.sock.write(Buffer.from([0x04, 10, 0xff, 0xff, 0, 0, 0, 9]));
  for (let i = 0; i < 100 && !bad.closed; i += 1) {
    await sleep(100);
    if (!bad.closed) bad.sock.write(Buffer.from([0]));
  }
  trickling = false;
  t.is(await down, 'echo-timeout');
  t.true(downWhileTrickling, 'dropped while bytes were still arriving');
  t.true(bad.received.some((m) => m.type === 'echo_request'), 'the controller probed it with an ECHO_REQUEST');
  // The good switch answered its echoes all along and is still up.
  t.true(good.dp.connected);
  await good.dp.barrier({ timeoutMs: 5000 });
  t.deepEqual([...ctl.datapaths.keys()], [0x5eb2_0000_0001n]);
});
