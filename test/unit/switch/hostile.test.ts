// Hostile or broken switches on a fake socket and clock (issue 8, items 5-8):
// what one peer can make us hold, what counts as alive, how much one connection
// handles per turn, and how many warnings it can make us write.
import test from 'ava';
import type { Msg } from '../../../controller/app.js';
import {
  encode,
  OFPBRC_MULTIPART_BUFFER_OVERFLOW,
  OFPET_BAD_REQUEST,
  OFPMPF_REPLY_MORE,
  OFPPR_ADD,
  OFPPR_MODIFY,
} from '../../../controller/openflow/index.js';
import type { OfpMessage } from '../../../controller/openflow/index.js';
import { SwitchConnection } from '../../../controller/switch/connection.js';
import { SwitchConfigError, SwitchDisconnectedError, TooManyRequestsError } from '../../../controller/switch/errors.js';
import { VirtualClock } from '../../../controller/clock.js';
import { featuresReply, port } from '../../support/switch-fakes.js';
import { FakeSocket, tick } from './fakes.js';
import { DPID, harness, up } from './harness.js';

/** n ports numbered from `first`. */
function ports(first: number, n: number): ReturnType<typeof port>[] {
  return Array.from({ length: n }, (_, i) => port(first + i, `p${first + i}`));
}

/** A port-desc part with REPLY_MORE set (the endless reply of the memory-exhaustion report). */
function morePart(xid: number, first: number): Msg<'multipart_reply'> {
  return { type: 'multipart_reply', xid, flags: OFPMPF_REPLY_MORE, body: { mpType: 'port_desc', ports: ports(first, 10) } };
}

/** Plays a switch up to the port-desc request; returns its xid. */
async function toPortDesc(h: ReturnType<typeof harness>): Promise<number> {
  h.conn.start();
  h.sock.feed({ type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [4] }] });
  await tick();
  const fr = h.sock.take().find((m) => m.type === 'features_request')!;
  h.sock.feed(featuresReply(fr.xid, DPID));
  await tick();
  return h.sock.take().find((m) => m.type === 'multipart_request')!.xid;
}

// --- 5. bounded buffering -------------------------------------------------------

test('endless port-desc parts flagged "more": OFPBRC_MULTIPART_BUFFER_OVERFLOW quoting the part, then multipart-overflow; never more than the limit held', async (t) => {
  const limit = 8 * 1024;
  const h = harness({ maxMultipartReplyBytes: limit, maxBufferedReplyBytes: limit });
  const xid = await toPortDesc(h);
  const partBytes = encode(morePart(xid, 1)).length;
  let sent = 0;
  let maxHeld = 0;
  // A bounded stand-in for "endless": 100 parts are 8x the limit.
  for (; sent < 100 && h.conn.connected; sent += 1) {
    h.sock.feed(morePart(xid, 1 + sent * 10));
    maxHeld = Math.max(maxHeld, h.conn.bufferedReplyBytes);
  }
  await tick();
  t.is(h.conn.state, 'DOWN', `still ${h.conn.state} after ${sent} parts`);
  t.is(h.conn.reason, 'multipart-overflow');
  t.deepEqual(h.downs, [['multipart-overflow', false]]);
  t.is(sent, Math.floor(limit / partBytes) + 1, 'closed on the part that crossed the limit');
  t.true(maxHeld <= limit, `held ${maxHeld} bytes`);
  const err = h.sock.takeOne('error');
  t.is(err.xid, xid);
  t.is(err.errType, OFPET_BAD_REQUEST);
  t.is('code' in err ? err.code : -1, OFPBRC_MULTIPART_BUFFER_OVERFLOW);
  // OF 1.3.5 §7.4.4: at least 64 bytes of the offending message.
  t.deepEqual(err.data, encode(morePart(xid, 1 + (sent - 1) * 10)).subarray(0, 64));
  t.true(h.sock.ended, 'graceful close: the error is written first');
  t.true(h.logs.some((l) => l.level === 'warn' && String(l.msg).startsWith('multipart reply over its byte limit')));
});

test('replies in flight together are bounded per connection; a request that completes releases its bytes', async (t) => {
  const h = await up({ maxMultipartReplyBytes: 4000, maxBufferedReplyBytes: 6000 });
  h.sock.take();
  const a = h.conn.multipart({ mpType: 'port_desc' });
  const b = h.conn.multipart({ mpType: 'port_desc' });
  await tick();
  const [ra, rb] = h.sock.take().filter((m) => m.type === 'multipart_request');
  // Completed replies do not count: a's 3 parts come and go.
  h.sock.feed(morePart(ra!.xid, 1), morePart(ra!.xid, 11), { ...morePart(ra!.xid, 21), flags: 0 });
  t.is((await a).ports.length, 30);
  t.is(h.conn.bufferedReplyBytes, 0);
  const c = h.conn.multipart({ mpType: 'port_desc' });
  c.catch(() => {});
  await tick();
  const rc = h.sock.take().find((m) => m.type === 'multipart_request')!;
  // b and c each stay under 4000 bytes, together they pass 6000.
  for (let i = 0; i < 5 && h.conn.connected; i += 1) {
    h.sock.feed(morePart(rb!.xid, 100 + i * 10));
    h.sock.feed(morePart(rc.xid, 200 + i * 10));
  }
  t.is(h.conn.reason, 'multipart-overflow');
  const e = await t.throwsAsync(b, { instanceOf: SwitchDisconnectedError });
  t.is(e?.reason, 'multipart-overflow');
  t.is(h.conn.bufferedReplyBytes, 0);
});

test('PORT_STATUS adds past maxPorts close the connection (too-many-ports); updates of known ports at the cap do not', async (t) => {
  const h = await up({ maxPorts: 8 }); // 3 ports from the handshake
  for (let p = 100; p < 105; p += 1) h.sock.feed({ type: 'port_status', xid: 0, reason: OFPPR_ADD, desc: port(p, `v${p}`) });
  t.is(h.conn.ports.size, 8);
  h.sock.feed({ type: 'port_status', xid: 0, reason: OFPPR_MODIFY, desc: port(100, 'v100', { linkDown: true }) });
  t.is(h.conn.state, 'UP');
  t.false(h.conn.ports.get(100)!.up);
  // The report: 500,000 adds with new port numbers; here the first one past the cap ends it.
  for (let p = 1000; p < 1100 && h.conn.connected; p += 1) h.sock.feed({ type: 'port_status', xid: 0, reason: OFPPR_ADD, desc: port(p, `x${p}`) });
  t.is(h.conn.reason, 'too-many-ports');
  t.deepEqual(h.downs, [['too-many-ports', true]]);
  t.is(h.conn.ports.size, 8);
});

test('a port-desc reply with more ports than maxPorts fails the handshake with too-many-ports', async (t) => {
  const h = harness({ maxPorts: 5 });
  const xid = await toPortDesc(h);
  h.sock.feed({ type: 'multipart_reply', xid, flags: 0, body: { mpType: 'port_desc', ports: ports(1, 6) } });
  await tick();
  t.is(h.conn.reason, 'too-many-ports');
  t.deepEqual(h.downs, [['too-many-ports', false]]);
  t.is(h.ups, 0);
});

test('requests waiting for replies are bounded: past maxPendingRequests request() rejects with TooManyRequestsError', async (t) => {
  const h = await up({ maxPendingRequests: 3 });
  h.sock.take();
  const waiting = [h.conn.barrier(), h.conn.barrier(), h.conn.barrier()];
  const e = await t.throwsAsync(h.conn.barrier(), { instanceOf: TooManyRequestsError });
  t.is(e?.code, 'OFP_TOO_MANY_PENDING');
  t.is(h.conn.pendingRequests, 3);
  await tick();
  const first = h.sock.take().find((m) => m.type === 'barrier_request')!;
  h.sock.feed({ type: 'barrier_reply', xid: first.xid });
  await waiting[0];
  const again = h.conn.barrier();
  t.is(h.conn.pendingRequests, 3, 'a slot freed by a reply is usable again');
  h.conn.close('controller-stopped');
  await Promise.allSettled([...waiting, again]);
});

test('buffer limits are checked: buffered below one reply is refused', (t) => {
  const sock = new FakeSocket();
  const e = t.throws(() => new SwitchConnection({ socket: sock, maxMultipartReplyBytes: 2000, maxBufferedReplyBytes: 1000 }), {
    instanceOf: SwitchConfigError,
  });
  t.regex(e?.message ?? '', /maxBufferedReplyBytes \(1000\) must be at least maxMultipartReplyBytes \(2000\)/);
  t.throws(() => new SwitchConnection({ socket: sock, maxPorts: 0 }), { instanceOf: SwitchConfigError });
  t.throws(() => new SwitchConnection({ socket: sock, messagesPerTurn: 1.5 }), { instanceOf: SwitchConfigError });
});

// --- 6. liveness means whole messages ------------------------------------------

test('a switch that trickles one byte every 4 s of a frame it never finishes gets an echo request and goes DOWN with echo-timeout', async (t) => {
  const h = await up({ echoIntervalMs: 5000, echoTimeoutMs: 15000 });
  h.sock.take();
  // The header of a 65,535-byte PACKET_IN, then one body byte at a time.
  const header = Buffer.from([0x04, 10, 0xff, 0xff, 0, 0, 0, 9]);
  h.sock.feedRaw(header);
  let sentEchoes = 0;
  for (let s = 0; s < 60 && h.conn.connected; s += 1) {
    h.clock.advanceSync(4000);
    h.sock.feedRaw(Buffer.from([0x00]));
    await tick();
    sentEchoes += h.sock.take().filter((m) => m.type === 'echo_request').length;
  }
  t.true(sentEchoes >= 1, 'the silent switch was probed');
  t.is(h.conn.reason, 'echo-timeout');
  t.deepEqual(h.downs, [['echo-timeout', true]]);
});

test('whole messages still count as liveness, and an echo reply ends the idle time', async (t) => {
  const h = await up({ echoIntervalMs: 1000, echoTimeoutMs: 3000 });
  h.sock.take();
  h.clock.advanceSync(1000);
  await tick();
  const echo = h.sock.takeOne('echo_request');
  h.clock.advanceSync(1900);
  h.sock.feed({ type: 'echo_reply', xid: echo.xid, data: echo.data });
  h.clock.advanceSync(2900);
  t.is(h.conn.state, 'UP');
});

// --- 7. bounded work per connection per turn -----------------------------------

function packetIn(xid: number): Msg<'packet_in'> {
  return { type: 'packet_in', xid, bufferId: 0xffffffff, totalLen: 60, reason: 0, tableId: 0, cookie: 0n, match: [{ field: 'in_port', value: 1 }], data: Buffer.alloc(60, 7) };
}

test('a chunk of packet-ins is handled messagesPerTurn at a time with the socket paused, in order, then the socket resumes', async (t) => {
  const h = await up({ messagesPerTurn: 4 });
  h.sock.feed(...Array.from({ length: 10 }, (_, i) => packetIn(100 + i)));
  t.is(h.packetIns.length, 4, 'one turn handles at most 4');
  t.true(h.sock.paused, 'the socket is paused while a backlog waits');
  t.is(h.conn.backlogMessages, 6);
  // Data that arrives anyway (a socket without pause) queues behind the backlog.
  h.sock.emit('data', encode(packetIn(200)));
  for (let i = 0; i < 10 && h.packetIns.length < 11; i += 1) await tick();
  t.deepEqual(h.packetIns.map((m) => m.xid), [100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 200]);
  t.false(h.sock.paused);
  t.is(h.conn.backlogMessages, 0);
});

test("one switch's packet-in flood does not hold up another switch's echo and barrier", async (t) => {
  const clock = new VirtualClock(1_000_000);
  const flood = await up({ messagesPerTurn: 64 }, new FakeSocket(), clock, 1n);
  const fresh = await up({ messagesPerTurn: 64 }, new FakeSocket(), clock, 2n);
  flood.sock.take();
  fresh.sock.take();
  const barrier = fresh.conn.barrier();
  await tick();
  const br = fresh.sock.takeOne('barrier_request');
  let handledWhenAnswered = -1;
  let barrierDoneAt = -1;
  void barrier.then(() => (barrierDoneAt = flood.packetIns.length));
  // 5000 packet-ins in one chunk on one connection, then the other switch's echo and barrier reply.
  flood.sock.feed(...Array.from({ length: 5000 }, (_, i) => packetIn(i + 1)));
  fresh.sock.feed({ type: 'echo_request', xid: 77, data: Buffer.alloc(0) }, { type: 'barrier_reply', xid: br.xid });
  await tick();
  if (fresh.sock.take().some((m: OfpMessage) => m.type === 'echo_reply')) handledWhenAnswered = flood.packetIns.length;
  t.true(handledWhenAnswered >= 0, 'the echo was answered on the next turn');
  t.true(handledWhenAnswered < 5000, `the flood had ${5000 - handledWhenAnswered} packet-ins still waiting`);
  t.true(barrierDoneAt >= 0 && barrierDoneAt < 5000, 'the barrier completed before the flood was through');
  for (let i = 0; i < 200 && flood.packetIns.length < 5000; i += 1) await tick();
  t.is(flood.packetIns.length, 5000, 'and the flood is handled completely');
});

// --- 8. rate-limited warnings --------------------------------------------------

/** An echo_request with version 3: non-fatal OFP_BAD_VERSION, answered with OFPT_ERROR, connection stays. */
function badVersionFrame(xid: number): Buffer {
  const b = encode({ type: 'echo_request', xid, data: Buffer.alloc(0) });
  b[0] = 3;
  return b;
}

test('a flood of malformed frames from one switch: the first warnBurst warnings per window, then one "suppressed K similar warnings" line', async (t) => {
  const clock = new VirtualClock(1_000_000);
  const h = await up({ warnBurst: 5, warnWindowMs: 10_000 }, new FakeSocket(), clock);
  const other = await up({ warnBurst: 5, warnWindowMs: 10_000 }, new FakeSocket(), clock, 2n);
  const warnings = (): Record<string, unknown>[] => h.logs.filter((l) => l.level === 'warn');
  for (let i = 0; i < 2000; i += 1) h.sock.feedRaw(badVersionFrame(i + 1));
  await tick();
  t.is(h.sock.take().filter((m) => m.type === 'error').length, 2000, 'every malformed frame is still answered');
  t.is(warnings().length, 5);
  t.is(h.conn.suppressedWarnings, 1995);
  // Another switch's warnings are its own.
  other.sock.feedRaw(badVersionFrame(1));
  t.is(other.logs.filter((l) => l.level === 'warn').length, 1);
  // The next window starts with the summary of the last one.
  clock.advanceSync(10_000);
  h.sock.feedRaw(badVersionFrame(5000));
  const w = warnings();
  t.is(w.length, 7);
  t.is(w[5]!.msg, 'suppressed 1995 similar warnings');
  t.is(w[5]!.suppressed, 1995);
  t.is(w[5]!.like, 'malformed message answered with OFPT_ERROR');
  t.is(w[5]!.code, 'OFP_BAD_VERSION');
  t.is(w[5]!.dpid, '000000000000abcd', 'the summary names the switch');
  t.is(w[6]!.msg, 'malformed message answered with OFPT_ERROR');
  // What is held back when the switch goes away is summarised on the way out.
  for (let i = 0; i < 10; i += 1) h.sock.feedRaw(badVersionFrame(6000 + i));
  h.conn.close('controller-stopped');
  t.is(warnings().at(-1)!.msg, 'suppressed 6 similar warnings');
});

test('a window whose time is up is summarised by the keepalive sweep without a new warning', async (t) => {
  const h = await up({ warnBurst: 1, warnWindowMs: 2000, echoIntervalMs: 1000, echoTimeoutMs: 3000 });
  for (let i = 0; i < 3; i += 1) h.sock.feedRaw(badVersionFrame(i + 1));
  t.is(h.logs.filter((l) => l.level === 'warn').length, 1);
  h.clock.advanceSync(2000);
  const summary = h.logs.find((l) => l.msg === 'suppressed 2 similar warnings');
  t.truthy(summary);
  t.is(summary?.like, 'malformed message answered with OFPT_ERROR');
});
