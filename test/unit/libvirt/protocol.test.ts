import test from 'ava';
import {
  MESSAGE_MAX,
  MessageStatus,
  MessageType,
  PacketFramer,
  Proc,
  ProtocolError,
  REMOTE_PROGRAM,
  decodeLifecycleMsg,
  decodePacket,
  encodeDomainFlagsArgs,
  encodeEventRegisterArgs,
  encodeLifecycleMsg,
  encodeOpenArgs,
  encodePacket,
  lifecycleNames,
  readError,
  writeError,
  type RemoteDomain,
  type RemoteError,
} from '../../../controller/libvirt/protocol.js';
import { fromRemoteError } from '../../../controller/libvirt/errors.js';

const uuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const dom: RemoteDomain = { name: 'vm1', uuid, id: 7 };

test('CONNECT_OPEN call packet matches the layout of virnetprotocol.x', (t) => {
  const pkt = encodePacket(
    { prog: REMOTE_PROGRAM, vers: 1, proc: Proc.CONNECT_OPEN, type: MessageType.CALL, serial: 1, status: MessageStatus.OK },
    encodeOpenArgs('qemu:///system'),
  );
  const expected =
    '00000038' + // length: 4 + 24 + 28
    '20008086' + '00000001' + '00000001' + '00000000' + '00000001' + '00000000' + // header
    '00000001' + '0000000e' + Buffer.from('qemu:///system').toString('hex') + '0000' + // remote_string name
    '00000000'; // flags
  t.is(pkt.toString('hex'), expected);
  const back = decodePacket(pkt);
  t.deepEqual(back.header, { prog: REMOTE_PROGRAM, vers: 1, proc: 1, type: 0, serial: 1, status: 0 });
});

test('domain + flags args: name, 16-byte uuid, id, flags', (t) => {
  t.is(
    encodeDomainFlagsArgs(dom, 2).toString('hex'),
    '00000003' + '766d3100' + uuid.toString('hex') + '00000007' + '00000002',
  );
});

test('event register args: eventID then an absent remote_domain (all domains)', (t) => {
  t.is(encodeEventRegisterArgs(0, null).toString('hex'), '00000000' + '00000000');
});

test('framer yields the same packets however the stream is split', (t) => {
  const a = encodePacket({ prog: REMOTE_PROGRAM, vers: 1, proc: 212, type: 1, serial: 5, status: 0 }, Buffer.from('0000000100000002', 'hex'));
  const b = encodePacket({ prog: REMOTE_PROGRAM, vers: 1, proc: 318, type: 2, serial: 0, status: 0 }, encodeLifecycleMsg({ callbackID: 1, dom, event: 5, detail: 4 }));
  const stream = Buffer.concat([a, b]);
  const expect = [decodePacket(a), decodePacket(b)];
  // Whole, byte by byte, and split at every offset.
  t.deepEqual(new PacketFramer().push(stream), expect);
  const f = new PacketFramer();
  const got = [];
  for (const byte of stream) got.push(...f.push(Buffer.from([byte])));
  t.deepEqual(got, expect);
  t.is(f.pending, 0);
  for (let i = 0; i <= stream.length; i += 1) {
    const g = new PacketFramer();
    t.deepEqual([...g.push(stream.subarray(0, i)), ...g.push(stream.subarray(i))], expect, `split at ${i}`);
  }
});

test('framer refuses a length beyond VIR_NET_MESSAGE_MAX before buffering it', (t) => {
  const f = new PacketFramer();
  const len = Buffer.alloc(4);
  len.writeUInt32BE(MESSAGE_MAX + 5);
  t.throws(() => f.push(len), { instanceOf: ProtocolError, message: /exceeds VIR_NET_MESSAGE_MAX/ });
});

test('framer refuses a length shorter than the header', (t) => {
  t.throws(() => new PacketFramer().push(Buffer.from('0000000a', 'hex')), { instanceOf: ProtocolError, message: /shorter than/ });
});

test('lifecycle message round trip and names', (t) => {
  const m = { callbackID: 3, dom, event: 5, detail: 4 };
  t.deepEqual(decodeLifecycleMsg(encodeLifecycleMsg(m)), m);
  t.deepEqual(lifecycleNames(5, 4), { event: 'stopped', detail: 'saved' });
  t.deepEqual(lifecycleNames(2, 2), { event: 'started', detail: 'restored' });
  t.deepEqual(lifecycleNames(3, 0), { event: 'suspended', detail: 'paused' });
  t.deepEqual(lifecycleNames(42, 1), { event: 'event-42', detail: 'detail-1' });
});

const err: RemoteError = {
  code: 42,
  domain: 10,
  message: "Domain not found: no domain with matching name 'vm9'",
  level: 2,
  dom: null,
  str1: 'Domain not found',
  str2: "no domain with matching name 'vm9'",
  str3: null,
  int1: 0,
  int2: 0,
  net: null,
};

test('remote_error round trip', (t) => {
  t.deepEqual(readError(writeError(err)), err);
  const withDom = { ...err, dom, net: { name: 'default', uuid } };
  t.deepEqual(readError(writeError(withDom)), withDom);
});

test('remote errors map to stable codes and name the domain', (t) => {
  const e = fromRemoteError(err, 'vm9');
  t.is(e.code, 'LIBVIRT_NO_DOMAIN');
  t.is(e.libvirtCode, 42);
  t.is(e.domain, 'vm9');
  t.regex(e.message, /vm9/);
  const inv = fromRemoteError({ ...err, code: 55, message: 'Requested operation is not valid: domain is not running' }, 'vm1');
  t.is(inv.code, 'LIBVIRT_OPERATION_INVALID');
  t.regex(inv.message, /not running \(domain 'vm1'\)/);
  t.is(fromRemoteError({ ...err, code: 1, message: null }).code, 'LIBVIRT_ERROR');
  t.regex(fromRemoteError({ ...err, code: 1, message: null }).message, /libvirt error 1/);
});

test('set_memory_parameters args: domain, params<> of {string field; union{int type=4 ULLONG; unsigned hyper}}, flags', async (t) => {
  const { encodeSetMemoryParametersArgs, decodeSetMemoryParametersArgs } = await import('../../../controller/libvirt/protocol.js');
  const dom = { name: 'vm', uuid: Buffer.alloc(16, 0xab), id: 3 };
  const buf = encodeSetMemoryParametersArgs(dom, [{ field: 'hard_limit', value: 0x1_0000_0002n }], 1);
  // name "vm" (len 2 + 2 pad), uuid 16, id 4 | count 1 | "hard_limit" (len 10 + 2 pad) | type 4 | hyper | flags
  t.is(buf.length, 4 + 4 + 16 + 4 + 4 + 4 + 12 + 4 + 8 + 4);
  t.is(buf.readUInt32BE(28), 1, 'one param');
  t.is(buf.subarray(36, 46).toString(), 'hard_limit');
  t.is(buf.readInt32BE(48), 4, 'VIR_TYPED_PARAM_ULLONG');
  t.is(buf.readBigUInt64BE(52), 0x1_0000_0002n);
  t.is(buf.readUInt32BE(60), 1, 'VIR_DOMAIN_AFFECT_LIVE');
  t.deepEqual(decodeSetMemoryParametersArgs(buf), { dom, params: [{ field: 'hard_limit', value: 0x1_0000_0002n }], flags: 1 });
  t.throws(() => encodeSetMemoryParametersArgs(dom, Array.from({ length: 17 }, () => ({ field: 'x', value: 1n })), 0), { message: /17 params, more than 16/ });
  t.throws(() => encodeSetMemoryParametersArgs(dom, [{ field: 'x'.repeat(80), value: 1n }], 0), { message: /longer than 79 bytes/ });
});
