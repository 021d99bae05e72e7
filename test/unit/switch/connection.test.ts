// The switch connection state machine on a fake socket and a fake clock.
import test from 'ava';
import type { DisconnectReason, Msg } from '../../../controller/app.js';
import {
  decode,
  encode,
  Framer,
  OfpDecodeError,
  OFPBRC_BAD_TYPE,
  OFPCML_NO_BUFFER,
  OFPCR_ROLE_MASTER,
  OFPET_BAD_REQUEST,
  OFPET_FLOW_MOD_FAILED,
  OFPET_SWITCH_CONFIG_FAILED,
  OFPET_HELLO_FAILED,
  OFPHFC_INCOMPATIBLE,
  OFPMPF_REPLY_MORE,
  OFPPR_ADD,
  OFPPR_DELETE,
  OFPPR_MODIFY,
  build,
  mergeMultipart,
} from '../../../controller/openflow/index.js';
import type { FlowStats, OfpMessage } from '../../../controller/openflow/index.js';
import { SwitchConnection } from '../../../controller/switch/connection.js';
import {
  OfpErrorReplyError,
  RequestTimeoutError,
  SwitchConfigError,
  SwitchDisconnectedError,
  SwitchUsageError,
} from '../../../controller/switch/errors.js';
import { VirtualClock } from '../../../controller/clock.js';
import { featuresReply, port } from '../../support/switch-fakes.js';
import { FakeSocket, tick } from './fakes.js';
import { DPID, harness, PORTS, up, type Harness } from './harness.js';

test('happy handshake: HELLO with bitmap, FEATURES, SET_CONFIG, port-desc, then UP with ports', async (t) => {
  const h = harness();
  t.is(h.conn.state, 'HELLO_WAIT');
  h.conn.start();
  t.true(h.sock.noDelay, 'TCP_NODELAY is set');
  await tick();
  const hello = h.sock.takeOne('hello');
  t.deepEqual(hello.elements, [{ type: 'versionbitmap', versions: [4] }]);
  t.is(hello.version, 4);

  h.sock.feed({ type: 'hello', xid: 1, version: 4, elements: [{ type: 'versionbitmap', versions: [4] }] });
  await tick();
  t.is(h.conn.state, 'FEATURES_WAIT');
  const fr = h.sock.takeOne('features_request');
  t.not(fr.xid, 0);

  h.sock.feed(featuresReply(fr.xid, DPID));
  await tick();
  t.is(h.conn.state, 'CONFIGURING');
  const sent = h.sock.take();
  t.deepEqual(
    sent.map((m) => m.type),
    ['set_config', 'multipart_request'],
  );
  const sc = sent[0] as Msg<'set_config'>;
  t.is(sc.missSendLen, OFPCML_NO_BUFFER);
  t.is(sc.flags, 0);
  const pd = sent[1] as Msg<'multipart_request'>;
  t.is(pd.body.mpType, 'port_desc');
  t.is(h.ups, 0);

  h.sock.feed({ type: 'multipart_reply', xid: pd.xid, flags: 0, body: { mpType: 'port_desc', ports: PORTS } });
  await tick();
  t.is(h.conn.state, 'UP');
  t.is(h.ups, 1);
  t.is(h.conn.id, DPID);
  t.is(h.conn.idHex, '000000000000abcd');
  t.is(h.conn.features.nTables, 254);
  t.true(h.conn.connected);
  t.deepEqual([...h.conn.ports.keys()], [1, 2, 0xfffffffe]);
  t.deepEqual(h.conn.ports.get(1), { portNo: 1, name: 'eth1', hwAddr: '02:00:00:00:00:01', up: true });
  t.false(h.conn.ports.get(2)!.up, 'link down');
  t.false(h.conn.ports.get(0xfffffffe)!.up, 'administratively down');
  const transitions = h.logs.filter((l) => l.msg === 'switch state').map((l) => `${String(l.from)}>${String(l.to)}`);
  t.deepEqual(transitions, ['HELLO_WAIT>FEATURES_WAIT', 'FEATURES_WAIT>CONFIGURING', 'CONFIGURING>UP']);
  // Exactly the keepalive timer is armed in UP.
  t.is(h.clock.pending, 1);
});

test('configured miss_send_len goes into SET_CONFIG', async (t) => {
  const h = harness({ missSendLen: 128 });
  h.conn.start();
  h.sock.feed({ type: 'hello', xid: 1, elements: [] });
  await tick();
  const fr = h.sock.take().find((m) => m.type === 'features_request')!;
  h.sock.feed(featuresReply(fr.xid, DPID));
  await tick();
  t.is(h.sock.takeOne('set_config').missSendLen, 128);
});

test('bad options are refused with SwitchConfigError', (t) => {
  const sock = new FakeSocket();
  for (const bad of [
    { echoIntervalMs: 0 },
    { echoIntervalMs: 5000, echoTimeoutMs: 5000 },
    { missSendLen: 0xfff0 },
    { requestTimeoutMs: Number.NaN },
    { maxSendQueueBytes: 0 },
    { maxSendQueueBytes: 1.5 },
  ]) {
    const e = t.throws(() => new SwitchConnection({ socket: sock, ...bad }), { instanceOf: SwitchConfigError });
    t.is(e?.code, 'SWITCH_BAD_OPTION');
  }
});

async function negotiate(hello: Msg<'hello'>): Promise<Harness> {
  const h = harness();
  h.conn.start();
  await tick();
  h.sock.take();
  h.sock.feed(hello);
  await tick();
  return h;
}

test('version negotiation: peer without bitmap and version 4 or higher negotiates 1.3 (OF 1.3.5 §6.3.1)', async (t) => {
  for (const version of [4, 5, 6]) {
    const h = await negotiate({ type: 'hello', xid: 1, version, elements: [] });
    t.is(h.conn.state, 'FEATURES_WAIT', `peer version ${version}`);
    t.truthy(h.sock.take().find((m) => m.type === 'features_request'));
  }
});

test('version negotiation: a bitmap containing 4 wins whatever the header version', async (t) => {
  const h = await negotiate({ type: 'hello', xid: 1, version: 6, elements: [{ type: 'versionbitmap', versions: [1, 4, 5, 6] }] });
  t.is(h.conn.state, 'FEATURES_WAIT');
});

test('version negotiation: an OpenFlow 1.0-only peer gets HELLO_FAILED/INCOMPATIBLE and is closed', async (t) => {
  const h = await negotiate({ type: 'hello', xid: 1, version: 1, elements: [] });
  t.is(h.conn.state, 'DOWN');
  t.is(h.conn.reason, 'hello-failed');
  const err = h.sock.takeOne('error') as Msg<'error'> & { code: number };
  t.is(err.errType, OFPET_HELLO_FAILED);
  t.is(err.code, OFPHFC_INCOMPATIBLE);
  t.regex(err.data.toString('ascii'), /version 4/);
  t.true(h.sock.ended, 'closed after the error was written');
  await tick();
  t.true(h.sock.destroyed);
  t.deepEqual(h.downs, [['hello-failed', false]]);
  t.is(h.clock.pending, 0);
  t.is(h.sock.listenerTotal(), 0);
});

test('version negotiation: a bitmap without 4 fails even if the header says 4', async (t) => {
  const h = await negotiate({ type: 'hello', xid: 1, version: 4, elements: [{ type: 'versionbitmap', versions: [1, 2, 3] }] });
  t.is(h.conn.reason, 'hello-failed');
  t.is(h.sock.takeOne('error').errType, OFPET_HELLO_FAILED);
});

test('a message before HELLO fails the negotiation', async (t) => {
  const h2 = harness();
  h2.conn.start();
  h2.sock.feed({ type: 'barrier_reply', xid: 3 });
  await tick();
  t.is(h2.conn.reason, 'hello-failed');
});

test('handshake timeout closes a switch that never finishes', async (t) => {
  const h = harness({ handshakeTimeoutMs: 3000 });
  h.conn.start();
  h.sock.feed({ type: 'hello', xid: 1, elements: [] });
  await tick();
  h.clock.advanceSync(2999);
  t.is(h.conn.state, 'FEATURES_WAIT');
  h.clock.advanceSync(1);
  t.is(h.conn.state, 'DOWN');
  t.is(h.conn.reason, 'handshake-timeout');
  t.true(h.sock.destroyed);
  t.deepEqual(h.downs, [['handshake-timeout', false]]);
  t.is(h.clock.pending, 0, 'handshake and features request timers released');
  t.is(h.ups, 0);
});

test('echo keepalive: ECHO_REQUEST when idle, then echo-timeout when silent', async (t) => {
  const h = await up({ echoIntervalMs: 1000, echoTimeoutMs: 3000 });
  h.sock.take();
  h.clock.advanceSync(999);
  await tick();
  t.deepEqual(h.sock.take(), [], 'not idle yet');
  h.clock.advanceSync(1);
  await tick();
  const echo = h.sock.takeOne('echo_request');
  // The switch answers: the connection stays up and the idle timer restarts.
  h.sock.feed({ type: 'echo_reply', xid: echo.xid, data: echo.data });
  h.clock.advanceSync(2500);
  await tick();
  t.is(h.conn.state, 'UP');
  t.true(h.sock.take().every((m) => m.type === 'echo_request'));
  // Now silence: 3 s after the last message the connection is down.
  h.clock.advanceSync(499);
  t.is(h.conn.state, 'UP');
  h.clock.advanceSync(1);
  t.is(h.conn.state, 'DOWN');
  t.is(h.conn.reason, 'echo-timeout');
  t.deepEqual(h.downs, [['echo-timeout', true]]);
  t.is(h.clock.pending, 0);
});

test('any message counts as liveness: no echo while the switch is busy', async (t) => {
  const h = await up({ echoIntervalMs: 1000, echoTimeoutMs: 3000 });
  h.sock.take();
  for (let i = 0; i < 10; i += 1) {
    h.clock.advanceSync(600);
    h.sock.feed({ type: 'barrier_reply', xid: 999 });
  }
  await tick();
  t.deepEqual(h.sock.take(), []);
  t.is(h.conn.state, 'UP');
});

test("the switch's ECHO_REQUEST is answered with the same xid and data", async (t) => {
  const h = await up();
  h.sock.take();
  h.sock.feed({ type: 'echo_request', xid: 4242, data: Buffer.from('ping!') });
  await tick();
  const reply = h.sock.takeOne('echo_reply');
  t.is(reply.xid, 4242);
  t.is(reply.data.toString(), 'ping!');
});

test('request timeout rejects only that request; the connection stays up', async (t) => {
  const h = await up({ requestTimeoutMs: 2000 });
  h.sock.take();
  const p = h.conn.request({ type: 'get_config_request', xid: 0 }, { timeoutMs: 500 });
  const other = h.conn.request({ type: 'get_config_request', xid: 0 });
  await tick();
  const [a, b] = h.sock.take() as Msg<'get_config_request'>[];
  h.clock.advanceSync(500);
  const e = await t.throwsAsync(p, { instanceOf: RequestTimeoutError });
  t.is(e?.code, 'OFP_REQUEST_TIMEOUT');
  t.is(e?.xid, a!.xid);
  t.is(h.conn.state, 'UP');
  h.sock.feed({ type: 'get_config_reply', xid: b!.xid, flags: 0, missSendLen: 128 });
  const [reply] = await other;
  t.is((reply as Msg<'get_config_reply'>).missSendLen, 128);
  t.is(h.conn.pendingRequests, 0);
});

test('an OFPT_ERROR reply fails only its own request', async (t) => {
  const h = await up();
  h.sock.take();
  const p1 = h.conn.request({ type: 'barrier_request', xid: 0 });
  const p2 = h.conn.request({ type: 'barrier_request', xid: 0 });
  await tick();
  const [r1, r2] = h.sock.take();
  h.sock.feed({ type: 'error', xid: r1!.xid, errType: OFPET_BAD_REQUEST, code: 5, data: encode(r1!) });
  h.sock.feed({ type: 'barrier_reply', xid: r2!.xid });
  const e = await t.throwsAsync(p1, { instanceOf: OfpErrorReplyError });
  t.is(e?.code, 'OFP_ERROR_REPLY');
  t.is(e?.errType, OFPET_BAD_REQUEST);
  t.is(e?.errCode, 5);
  t.deepEqual(await p2, [{ type: 'barrier_reply', xid: r2!.xid }]);
  t.deepEqual(h.errors, [], 'a matched error is not an app error');
  t.is(h.conn.state, 'UP');
});

test('an unmatched OFPT_ERROR goes to the apps', async (t) => {
  const h = await up();
  const fm = build.flowMod({ xid: 77, priority: 1 });
  h.sock.feed({ type: 'error', xid: 77, errType: OFPET_FLOW_MOD_FAILED, code: 1, data: encode(fm).subarray(0, 64) });
  await tick();
  t.is(h.errors.length, 1);
  t.is(h.errors[0]!.errType, OFPET_FLOW_MOD_FAILED);
});

function flowStats(cookie: bigint): FlowStats {
  return {
    tableId: 0,
    durationSec: 1,
    durationNsec: 0,
    priority: 10,
    idleTimeout: 0,
    hardTimeout: 0,
    flags: 0,
    cookie,
    packetCount: 0n,
    byteCount: 0n,
    match: [],
    instructions: [],
  };
}

test('multipart replies are collected until OFPMPF_REPLY_MORE is clear, and merged', async (t) => {
  const h = await up();
  h.sock.take();
  const merged = h.conn.multipart({ mpType: 'flow', tableId: 0xff, outPort: 0xffffffff, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] });
  await tick();
  const req = h.sock.takeOne('multipart_request');
  const part = (flags: number, cookies: bigint[]): OfpMessage => ({
    type: 'multipart_reply',
    xid: req.xid,
    flags,
    body: { mpType: 'flow', stats: cookies.map(flowStats) },
  });
  h.sock.feed(part(OFPMPF_REPLY_MORE, [1n, 2n]));
  await tick();
  h.sock.feed(part(OFPMPF_REPLY_MORE, [3n]), part(0, [4n, 5n]));
  const result = await merged;
  t.deepEqual(
    result.stats.map((s) => s.cookie),
    [1n, 2n, 3n, 4n, 5n],
  );
  // request() gives the raw parts in order.
  const raw = h.conn.request({ type: 'multipart_request', xid: 0, flags: 0, body: { mpType: 'desc' } });
  await tick();
  const r2 = h.sock.takeOne('multipart_request');
  const descPart = { type: 'multipart_reply', xid: r2.xid, flags: 0, body: { mpType: 'desc', mfrDesc: 'm', hwDesc: 'h', swDesc: 's', serialNum: 'n', dpDesc: 'd' } } as const;
  h.sock.feed(descPart);
  t.deepEqual(await raw, [descPart]);
});

test('mergeMultipart keeps single bodies and joins experimenter data', (t) => {
  const exp = (flags: number, data: string): OfpMessage => ({
    type: 'multipart_reply',
    xid: 1,
    flags,
    body: { mpType: 'experimenter', experimenter: 0x2320, expType: 1, data: Buffer.from(data) },
  });
  const merged = mergeMultipart([exp(1, 'ab'), exp(0, 'cd')]);
  t.is(merged.mpType, 'experimenter');
  t.is((merged as { data: Buffer }).data.toString(), 'abcd');
  t.throws(() => mergeMultipart([]), { instanceOf: RangeError });
});

test('barrier resolves on its reply', async (t) => {
  const h = await up();
  h.sock.take();
  let done = false;
  const b = h.conn.barrier().then(() => void (done = true));
  await tick();
  const req = h.sock.takeOne('barrier_request');
  await tick();
  t.false(done);
  h.sock.feed({ type: 'barrier_reply', xid: req.xid });
  await b;
  t.true(done);
});

test('requestRole sends ROLE_REQUEST and resolves with ROLE_REPLY', async (t) => {
  const h = await up();
  h.sock.take();
  const p = h.conn.requestRole(OFPCR_ROLE_MASTER, 12n);
  await tick();
  const req = h.sock.takeOne('role_request');
  t.is(req.role, OFPCR_ROLE_MASTER);
  t.is(req.generationId, 12n);
  h.sock.feed({ type: 'role_reply', xid: req.xid, role: OFPCR_ROLE_MASTER, generationId: 12n });
  const reply = await p;
  t.is(reply.role, OFPCR_ROLE_MASTER);
});

test('request() refuses messages without replies and duplicate xids', async (t) => {
  const h = await up();
  const e1 = await t.throwsAsync(h.conn.request(build.flowMod({})), { instanceOf: SwitchUsageError });
  t.is(e1?.code, 'OFP_NO_REPLY_EXPECTED');
  const first = h.conn.request({ type: 'barrier_request', xid: 55 });
  const e2 = await t.throwsAsync(h.conn.request({ type: 'barrier_request', xid: 55 }), { instanceOf: SwitchUsageError });
  t.is(e2?.code, 'OFP_XID_IN_USE');
  h.sock.feed({ type: 'barrier_reply', xid: 55 });
  await first;
});

test('a reply of the wrong type does not complete a request', async (t) => {
  const h = await up();
  h.sock.take();
  const p = h.conn.request({ type: 'barrier_request', xid: 0 }, { timeoutMs: 100 });
  await tick();
  const req = h.sock.takeOne('barrier_request');
  h.sock.feed({ type: 'role_reply', xid: req.xid, role: 1, generationId: 0n });
  await tick();
  t.is(h.conn.pendingRequests, 1);
  h.clock.advanceSync(100);
  await t.throwsAsync(p, { instanceOf: RequestTimeoutError });
});

test('going down rejects every pending request with SwitchDisconnectedError', async (t) => {
  const h = await up();
  const ps = [h.conn.barrier(), h.conn.request({ type: 'get_config_request', xid: 0 })];
  await tick();
  h.sock.emit('close');
  for (const p of ps) {
    const e = await t.throwsAsync(p, { instanceOf: SwitchDisconnectedError });
    t.is(e?.reason, 'socket-closed');
  }
  t.is(h.clock.pending, 0);
  t.is(h.sock.listenerTotal(), 0);
  await t.throwsAsync(h.conn.barrier(), { instanceOf: SwitchDisconnectedError });
  h.conn.send(build.flowMod({})); // dropped, no throw
  t.false(h.conn.connected);
});

test('a socket error ends the connection with socket-error', async (t) => {
  const h = await up();
  h.sock.emit('error', new Error('ECONNRESET'));
  t.is(h.conn.reason, 'socket-error');
  t.deepEqual(h.downs, [['socket-error', true]]);
  await tick();
  t.is(h.sock.listenerTotal(), 0);
});

test('a malformed message is answered with OFPT_ERROR (type/code from the decoder, 64 bytes of it) and the connection continues', async (t) => {
  const h = await up();
  h.sock.take();
  // A packet_in whose match length runs past the message.
  const good = encode({
    type: 'packet_in',
    xid: 0x1234,
    bufferId: 0xffffffff,
    totalLen: 100,
    reason: 0,
    tableId: 0,
    cookie: 0n,
    match: build.match({ in_port: 1 }),
    data: Buffer.alloc(100, 0xaa),
  });
  const bad = Buffer.from(good);
  bad.writeUInt16BE(0x0800, 26); // ofp_match.length
  const expected = t.throws(() => decode(bad), { instanceOf: OfpDecodeError })!;
  t.false(expected.fatal);
  h.sock.emit('data', bad);
  await tick();
  const err = h.sock.takeOne('error') as Msg<'error'> & { code: number };
  t.is(err.xid, 0x1234);
  t.is(err.errType, expected.errType);
  t.is(err.code, expected.errCode);
  t.deepEqual(err.data, bad.subarray(0, 64));
  t.is(h.conn.state, 'UP');
  t.deepEqual(h.packetIns, []);
  // The next good message still gets through.
  h.sock.emit('data', good);
  await tick();
  t.is(h.packetIns.length, 1);
});

test('an unknown message type is answered with OFPBRC_BAD_TYPE', async (t) => {
  const h = await up();
  h.sock.take();
  const raw = Buffer.from([4, 200, 0, 12, 0, 0, 0, 9, 1, 2, 3, 4]);
  h.sock.emit('data', raw);
  await tick();
  const err = h.sock.takeOne('error') as Msg<'error'> & { code: number };
  t.is(err.errType, OFPET_BAD_REQUEST);
  t.is(err.code, OFPBRC_BAD_TYPE);
  t.is(err.xid, 9);
  t.deepEqual(err.data, raw);
  t.is(h.conn.state, 'UP');
});

test('a fatal framing error is answered and closes with decode-error', async (t) => {
  const h = await up();
  h.sock.take();
  h.sock.emit('data', Buffer.from([4, 2, 0, 4, 0, 0, 0, 1])); // ofp_header.length 4 < 8
  await tick();
  t.is(h.sock.takeOne('error').errType, OFPET_BAD_REQUEST);
  t.is(h.conn.reason, 'decode-error');
  t.true(h.sock.ended);
  t.deepEqual(h.downs, [['decode-error', true]]);
  await tick();
  t.is(h.sock.listenerTotal(), 0);
  t.is(h.clock.pending, 0);
});

test('a frame split across chunks is reassembled', async (t) => {
  const h = await up();
  const bytes = encode({ type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: 60, reason: 0, tableId: 0, cookie: 0n, match: build.match({ in_port: 2 }), data: Buffer.alloc(60, 1) });
  for (let i = 0; i < bytes.length; i += 1) h.sock.emit('data', bytes.subarray(i, i + 1));
  await tick();
  t.is(h.packetIns.length, 1);
  t.deepEqual(h.packetIns[0]!.match, [{ field: 'in_port', value: 2 }]);
});

test('port_status updates ports before the apps see it (add, modify, delete)', async (t) => {
  const h = await up();
  h.sock.feed({ type: 'port_status', xid: 0, reason: OFPPR_ADD, desc: port(3, 'eth3') });
  h.sock.feed({ type: 'port_status', xid: 0, reason: OFPPR_MODIFY, desc: port(1, 'eth1', { linkDown: true }) });
  h.sock.feed({ type: 'port_status', xid: 0, reason: OFPPR_DELETE, desc: port(2, 'eth2') });
  await tick();
  t.deepEqual(
    h.portStatuses.map((p) => p.portsSeen),
    [
      [1, 2, 0xfffffffe, 3],
      [1, 2, 0xfffffffe, 3],
      [1, 0xfffffffe, 3],
    ],
  );
  t.false(h.conn.ports.get(1)!.up);
  t.true(h.conn.ports.get(3)!.up);
});

test('flow_removed goes to the apps; packet_in before UP does not', async (t) => {
  const h = harness();
  h.conn.start();
  h.sock.feed({ type: 'hello', xid: 1, elements: [] });
  h.sock.feed({ type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: 0, reason: 0, tableId: 0, cookie: 0n, match: [], data: Buffer.alloc(0) });
  await tick();
  t.deepEqual(h.packetIns, []);
  const h2 = await up();
  h2.sock.feed({
    type: 'flow_removed',
    xid: 0,
    cookie: 5n,
    priority: 1,
    reason: 0,
    tableId: 0,
    durationSec: 1,
    durationNsec: 0,
    idleTimeout: 10,
    hardTimeout: 0,
    packetCount: 0n,
    byteCount: 0n,
    match: [],
  });
  await tick();
  t.is(h2.flowRemoved[0]?.cookie, 5n);
});

test('sends in one event-loop turn become one socket write', async (t) => {
  const h = await up();
  const before = h.sock.writes.length;
  h.conn.send(build.flowMod({ priority: 1 }));
  h.conn.send(build.flowMod({ priority: 2 }), build.flowMod({ priority: 3 }));
  for (let i = 0; i < 100; i += 1) h.conn.send(build.packetOut({ data: Buffer.alloc(500, i) }));
  t.is(h.sock.writes.length, before, 'nothing written synchronously');
  await tick();
  t.is(h.sock.writes.length, before + 1);
  const msgs = h.sock.take();
  t.is(msgs.length, 103);
  t.deepEqual(
    msgs.slice(0, 3).map((m) => (m as Msg<'flow_mod'>).priority),
    [1, 2, 3],
  );
  t.deepEqual((msgs[102] as Msg<'packet_out'>).data, Buffer.alloc(500, 99));
});

test('send() is all-or-nothing when a message cannot be encoded', async (t) => {
  const h = await up();
  h.sock.take();
  h.conn.send(build.flowMod({ priority: 1 }));
  t.throws(() => h.conn.send(build.flowMod({ priority: 2 }), { ...build.flowMod({}), match: [{ field: 'eth_dst', value: 'not a mac' }] }));
  h.conn.send(build.flowMod({ priority: 3 }));
  await tick();
  t.deepEqual(
    h.sock.take().map((m) => (m as Msg<'flow_mod'>).priority),
    [1, 3],
  );
});

test('1000 connect/disconnect cycles leak no timers, listeners or requests', async (t) => {
  const clock = new VirtualClock(1_000_000);
  const sockets: FakeSocket[] = [];
  const conns: SwitchConnection[] = [];
  const endings: DisconnectReason[] = ['socket-closed', 'echo-timeout', 'handshake-timeout', 'socket-error', 'replaced'];
  for (let i = 0; i < 1000; i += 1) {
    const ending = endings[i % endings.length]!;
    const sock = new FakeSocket();
    sockets.push(sock);
    if (ending === 'handshake-timeout') {
      const h = harness({ handshakeTimeoutMs: 1000 }, sock, clock);
      conns.push(h.conn);
      h.conn.start();
      h.sock.feed({ type: 'hello', xid: 1, elements: [] });
      clock.advanceSync(1000);
      continue;
    }
    const h = await up({ echoIntervalMs: 1000, echoTimeoutMs: 2000 }, sock, clock, BigInt(i));
    conns.push(h.conn);
    // Leave requests outstanding so teardown must release them.
    const pending = [h.conn.barrier(), h.conn.request({ type: 'get_config_request', xid: 0 }, { timeoutMs: 60_000 })];
    for (const p of pending) p.catch(() => {});
    if (ending === 'socket-closed') sock.emit('close');
    else if (ending === 'echo-timeout') clock.advanceSync(2000);
    else if (ending === 'socket-error') sock.emit('error', new Error('reset'));
    else h.conn.close('replaced');
    t.is(h.conn.reason, ending);
  }
  await tick();
  t.is(clock.pending, 0, 'no timers pending');
  t.true(sockets.every((s) => s.listenerTotal() === 0), 'no socket listeners left');
  t.true(sockets.every((s) => s.destroyed), 'every socket destroyed');
  t.true(conns.every((c) => c.pendingRequests === 0 && c.state === 'DOWN'));
});

test('send-overflow: a switch that keeps sending but stops reading is closed once our unwritten bytes would pass the limit', async (t) => {
  const limit = 64 * 1024;
  const h = await up({ maxSendQueueBytes: limit });
  h.sock.take();
  const pending = h.conn.request({ type: 'get_config_request', xid: 0 });
  await tick();
  h.sock.stall();
  const payload = Buffer.alloc(4096, 0x5a);
  let echoes = 0;
  // Each ECHO_REQUEST makes us queue a 4104-byte ECHO_REPLY that the switch never reads.
  for (; echoes < 100 && h.conn.state === 'UP'; echoes += 1) {
    h.sock.feed({ type: 'echo_request', xid: echoes + 1, data: payload });
    await tick();
    t.true(h.sock.writableLength <= limit, 'never more than the limit handed to the socket');
  }
  const replyBytes = 8 + payload.length;
  t.is(echoes, Math.floor(limit / replyBytes) + 1, 'closed on the first reply that would pass the limit');
  t.is(h.conn.state, 'DOWN');
  t.is(h.conn.reason, 'send-overflow');
  t.deepEqual(h.downs, [['send-overflow', true]]);
  t.true(h.sock.destroyed, 'not a graceful end: the peer would never read what is queued');
  const e = await t.throwsAsync(pending, { instanceOf: SwitchDisconnectedError });
  t.is(e?.reason, 'send-overflow');
  const warn = h.logs.find((l) => l.level === 'warn' && String(l.msg).includes('send queue over the limit'));
  t.truthy(warn);
  t.is(warn?.limit, limit);
  t.is(warn?.socketBytes, Math.floor(limit / replyBytes) * replyBytes);
  await tick();
  t.is(h.clock.pending, 0);
  t.is(h.sock.listenerTotal(), 0);
});

test('send-overflow: one turn of sends larger than the limit closes the connection before writing', async (t) => {
  const h = await up({ maxSendQueueBytes: 100_000 });
  const before = h.sock.writes.length;
  // Sends within the limit are fine.
  for (let i = 0; i < 150; i += 1) h.conn.send(build.packetOut({ data: Buffer.alloc(500, i) }));
  t.is(h.conn.state, 'UP');
  for (let i = 0; i < 150 && h.conn.connected; i += 1) h.conn.send(build.packetOut({ data: Buffer.alloc(500, i) }));
  t.is(h.conn.reason, 'send-overflow');
  await tick();
  t.is(h.sock.writes.length, before, 'nothing of the oversized batch was written');
  t.deepEqual(h.downs, [['send-overflow', true]]);
});

test('a stalled switch below the send limit stays up and gets every byte', async (t) => {
  const h = await up({ maxSendQueueBytes: 1024 * 1024 });
  h.sock.take();
  h.sock.stall();
  for (let i = 0; i < 50; i += 1) {
    h.sock.feed({ type: 'echo_request', xid: i + 1, data: Buffer.alloc(1000) });
    await tick();
  }
  t.is(h.conn.state, 'UP');
  t.is(h.sock.writableLength, 50 * 1008);
});

/** Plays a switch that answers handshake message `refuse` with OFPT_ERROR(errType, code); returns the harness. */
async function refuseHandshake(refuse: 'features_request' | 'set_config' | 'port_desc', errType: number, code: number): Promise<Harness> {
  const h = harness({ handshakeTimeoutMs: 10_000 });
  h.conn.start();
  h.sock.feed({ type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [4] }] });
  await tick();
  const fr = h.sock.take().find((m) => m.type === 'features_request')!;
  const refuseMsg = (m: OfpMessage): void => h.sock.feed({ type: 'error', xid: m.xid, errType, code, data: encode(m).subarray(0, 64) });
  if (refuse === 'features_request') refuseMsg(fr);
  else {
    h.sock.feed(featuresReply(fr.xid, DPID));
    await tick();
    const sent = h.sock.take();
    refuseMsg(sent.find((m) => (refuse === 'set_config' ? m.type === 'set_config' : m.type === 'multipart_request'))!);
  }
  await tick();
  return h;
}

for (const [refuse, errType, code] of [
  ['features_request', OFPET_BAD_REQUEST, 1],
  ['set_config', OFPET_SWITCH_CONFIG_FAILED, 2],
  ['port_desc', OFPET_BAD_REQUEST, 3],
] as const) {
  test(`handshake-error: an OFPT_ERROR answering ${refuse} closes at once, logging its type/code`, async (t) => {
    const h = await refuseHandshake(refuse, errType, code);
    // No clock movement: the handshake timer did not do this.
    t.is(h.conn.state, 'DOWN');
    t.is(h.conn.reason, 'handshake-error');
    t.deepEqual(h.downs, [['handshake-error', false]]);
    t.is(h.ups, 0);
    t.deepEqual(h.errors, [], 'not passed on as an app error');
    const warn = h.logs.find((l) => l.msg === 'switch refused a handshake message');
    t.truthy(warn);
    t.is(warn?.errType, errType);
    t.is(warn?.code, code);
    t.is(warn?.request, refuse === 'port_desc' ? 'multipart_request' : refuse);
    t.true(h.sock.destroyed);
    await tick();
    t.is(h.clock.pending, 0, 'handshake and request timers released');
    t.is(h.sock.listenerTotal(), 0);
    t.is(h.conn.pendingRequests, 0);
  });
}

test('after UP an error for the old SET_CONFIG xid is an ordinary app error', async (t) => {
  const h = await up();
  const all = new Framer().push(Buffer.concat(h.sock.writes)).map((f) => decode(f));
  const sc = all.find((m) => m.type === 'set_config')!;
  h.sock.feed({ type: 'error', xid: sc.xid, errType: OFPET_SWITCH_CONFIG_FAILED, code: 1, data: Buffer.alloc(0) });
  await tick();
  t.is(h.conn.state, 'UP');
  t.is(h.errors.length, 1);
});

test('packet-ins before UP are dropped, counted, and logged once per connection at debug', async (t) => {
  const h = harness();
  h.conn.start();
  const pi: Msg<'packet_in'> = { type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: 0, reason: 0, tableId: 0, cookie: 0n, match: [], data: Buffer.alloc(0) };
  h.sock.feed({ type: 'hello', xid: 1, elements: [] }, pi, pi);
  await tick();
  const fr = h.sock.take().find((m) => m.type === 'features_request')!;
  h.sock.feed(pi, featuresReply(fr.xid, DPID), pi);
  await tick();
  t.is(h.conn.state, 'CONFIGURING');
  t.is(h.conn.packetInsDroppedBeforeUp, 4);
  const pd = h.sock.take().find((m) => m.type === 'multipart_request')!;
  h.sock.feed({ type: 'multipart_reply', xid: pd.xid, flags: 0, body: { mpType: 'port_desc', ports: PORTS } });
  await tick();
  t.is(h.conn.state, 'UP');
  h.sock.feed(pi);
  t.is(h.packetIns.length, 1, 'from UP on they reach the apps');
  t.is(h.conn.packetInsDroppedBeforeUp, 4, 'and are not counted');
  const lines = h.logs.filter((l) => String(l.msg).startsWith('packet_in before handshake dropped'));
  t.is(lines.length, 1);
  t.is(lines[0]?.level, 'debug');
  t.is(lines[0]?.state, 'FEATURES_WAIT');
  h.conn.close('controller-stopped');
  const down = h.logs.find((l) => l.msg === 'switch state' && l.to === 'DOWN');
  t.is(down?.packetInsDroppedBeforeUp, 4, 'the total is in the DOWN transition log');
});

test('an auxiliary connection (auxiliary_id != 0) goes UP after FEATURES_REPLY without SET_CONFIG or port-desc', async (t) => {
  const h = harness();
  h.conn.start();
  h.sock.feed({ type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [4] }] });
  await tick();
  const fr = h.sock.take().find((m) => m.type === 'features_request')!;
  t.is(h.conn.auxiliaryId, 0);
  h.sock.feed({ ...featuresReply(fr.xid, DPID), auxiliaryId: 3 });
  await tick();
  t.is(h.conn.state, 'UP');
  t.is(h.conn.auxiliaryId, 3);
  t.is(h.ups, 1);
  t.deepEqual(h.sock.take(), []);
  t.is(h.clock.pending, 1, 'only the keepalive timer');
});
