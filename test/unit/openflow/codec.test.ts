// Struct sizes against the spec, malformed input, OXM value codecs, builders, JSON and
// the Framer's limits.
import test from 'ava';
import {
  build,
  decode,
  encode,
  encodeInto,
  formatMatch,
  Framer,
  fromJSON,
  messageSize,
  OfpDecodeError,
  OfpEncodeError,
  OXM_FIELDS,
  toJSON,
  OFPET_BAD_REQUEST,
  OFPET_BAD_MATCH,
  OFPET_BAD_ACTION,
  OFPET_BAD_INSTRUCTION,
  OFPBRC_BAD_LEN,
  OFPBRC_BAD_VERSION,
  OFPBRC_BAD_MULTIPART,
  OFPBMC_BAD_LEN,
  OFPBMC_BAD_TYPE,
  OFPBMC_BAD_WILDCARDS,
  OFPBMC_BAD_MASK,
  OFPBAC_BAD_LEN,
  OFPBIC_BAD_LEN,
  OFPP_CONTROLLER,
  OFPCML_NO_BUFFER,
  OFP_NO_BUFFER,
  OFPP_ANY,
  OFPG_ANY,
  OFPFC_ADD,
  type OfpMessage,
  type MessageOf,
  type OfpDecodeErrorCode,
} from '../../../controller/openflow/index.js';
import { OFP_SIZES } from '../../../controller/openflow/decode.js';
import { MP_SIZES } from '../../../controller/openflow/multipart.js';
import { OFP_PORT_SIZE } from '../../../controller/openflow/structs.js';

const port = {
  portNo: 1,
  hwAddr: '02:00:00:00:00:01',
  name: 'eth1',
  config: 0,
  state: 4,
  curr: 0,
  advertised: 0,
  supported: 0,
  peer: 0,
  currSpeed: 0,
  maxSpeed: 0,
};

// ---------------------------------------------------------------------------
// Struct sizes (OF 1.3.5 appendix A, OFP_ASSERT(sizeof(...)))
// ---------------------------------------------------------------------------

test('fixed struct sizes match the spec', (t) => {
  t.is(OFP_SIZES.header, 8);
  t.is(OFP_SIZES.switchFeatures, 32);
  t.is(OFP_SIZES.switchConfig, 12);
  t.is(OFP_SIZES.packetIn + 8, 32); // ofp_packet_in incl. empty ofp_match header
  t.is(OFP_SIZES.flowRemoved + 8, 56);
  t.is(OFP_SIZES.flowMod + 8, 56);
  t.is(OFP_SIZES.portStatus, 80);
  t.is(OFP_SIZES.packetOut, 24);
  t.is(OFP_SIZES.groupMod, 16);
  t.is(OFP_SIZES.portMod, 40);
  t.is(OFP_SIZES.tableMod, 16);
  t.is(OFP_SIZES.multipartHeader, 16);
  t.is(OFP_SIZES.roleRequest, 24);
  t.is(OFP_SIZES.asyncConfig, 32);
  t.is(OFP_SIZES.meterMod, 16);
  t.is(OFP_SIZES.errorMsg, 12);
  t.is(OFP_SIZES.experimenterHeader, 16);
  t.is(OFP_PORT_SIZE, 64);
  t.is(MP_SIZES.desc, 1056);
  t.is(MP_SIZES.flowStats + 8, 56);
  t.is(MP_SIZES.flowStatsRequest + 8, 40);
  t.is(MP_SIZES.tableStats, 24);
  t.is(MP_SIZES.portStats, 112);
  t.is(MP_SIZES.queueStats, 40);
  t.is(MP_SIZES.groupStats, 40);
  t.is(MP_SIZES.groupFeatures, 40);
  t.is(MP_SIZES.meterStats, 40);
  t.is(MP_SIZES.meterFeatures, 16);
  t.is(MP_SIZES.tableFeatures, 64);
});

test('encoded sizes of minimal messages match the spec structs', (t) => {
  const sizes: [OfpMessage, number][] = [
    [{ type: 'features_request', xid: 1 }, 8],
    [{ type: 'features_reply', xid: 1, datapathId: 1n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0, reserved: 0 }, 32],
    [build.flowMod(), 56], // empty match: 8-byte ofp_match (4 bytes + 4 padding)
    [{ type: 'packet_in', xid: 0, bufferId: 0, totalLen: 0, reason: 0, tableId: 0, cookie: 0n, match: [], data: Buffer.alloc(0) }, 34],
    [{ type: 'port_status', xid: 0, reason: 0, desc: port }, 80],
    [{ type: 'role_request', xid: 0, role: 2, generationId: 0n }, 24],
    [{ type: 'multipart_request', xid: 0, flags: 0, body: { mpType: 'port_desc' } }, 16],
    [build.hello(), 16],
  ];
  for (const [m, n] of sizes) {
    t.is(encode(m).length, n, m.type);
    t.is(messageSize(m), n, m.type);
  }
});

test('OXM table covers the 40 OF1.3 basic fields with spec widths', (t) => {
  t.is(OXM_FIELDS.length, 40);
  OXM_FIELDS.forEach((d, i) => t.is(d.field, i));
  const w = (n: string): number => OXM_FIELDS.find((d) => d.name === n)!.width;
  t.is(w('in_port'), 4);
  t.is(w('metadata'), 8);
  t.is(w('eth_dst'), 6);
  t.is(w('vlan_vid'), 2);
  t.is(w('ipv6_src'), 16);
  t.is(w('pbb_isid'), 3);
  t.is(w('tunnel_id'), 8);
  t.is(w('ipv6_exthdr'), 2);
  t.deepEqual(
    OXM_FIELDS.filter((d) => d.maskable).map((d) => d.name),
    ['metadata', 'eth_dst', 'eth_src', 'vlan_vid', 'ipv4_src', 'ipv4_dst', 'arp_spa', 'arp_tpa', 'arp_sha', 'arp_tha', 'ipv6_src', 'ipv6_dst', 'ipv6_flabel', 'pbb_isid', 'tunnel_id', 'ipv6_exthdr'],
  );
});

// ---------------------------------------------------------------------------
// Round trips of values through the OXM codecs
// ---------------------------------------------------------------------------

const roundTrip = (m: OfpMessage): OfpMessage => decode(encode(m));

test('every OXM field round-trips, masked where allowed', (t) => {
  const match = build.match({
    in_port: 7,
    metadata: [0xfedcba9876543210n, 0xffffffffffffffffn],
    eth_dst: ['02:aa:bb:00:00:00', 'ff:ff:ff:00:00:00'],
    eth_type: 0x86dd,
    vlan_vid: [0x1000, 0x1000],
    ipv6_src: ['2001:db8::', 'ffff:ffff::'],
    ipv6_dst: '::1',
    ipv6_nd_target: 'fe80::1:2',
    pbb_isid: [0xabcdef, 0xffffff],
    tunnel_id: 0xffffffffffffffffn,
    ipv6_exthdr: [0x1ff, 0x1ff],
    arp_spa: ['10.1.0.0', '255.255.0.0'],
  });
  const fm = build.flowMod({ match });
  t.deepEqual(roundTrip(fm), fm);
  t.is(
    formatMatch(match).split(',')[2],
    'eth_dst=02:aa:bb:00:00:00/ff:ff:ff:00:00:00',
  );
});

test('IPv6 values decode to RFC 5952 text', (t) => {
  const cases: [string, string][] = [
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['0:0:0:0:0:0:0:0', '::'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ['fe80::', 'fe80::'],
  ];
  for (const [input, canonical] of cases) {
    const m = build.flowMod({ match: [{ field: 'ipv6_dst', value: input }] });
    const back = roundTrip(m) as MessageOf<'flow_mod'>;
    t.deepEqual(back.match, [{ field: 'ipv6_dst', value: canonical }], input);
  }
});

test('bad OXM values are typed encode errors', (t) => {
  const bad: [string, unknown][] = [
    ['eth_dst', '02:00:00:00:00'],
    ['eth_dst', 'zz:00:00:00:00:00'],
    ['ipv4_dst', '10.0.0.256'],
    ['ipv4_dst', '10.0.0'],
    ['ipv4_dst', '010.0.0.1'],
    ['ipv6_dst', '1::2::3'],
    ['in_port', -1],
    ['in_port', 2 ** 32],
    ['vlan_pcp', 1.5],
    ['metadata', 1],
  ];
  for (const [field, value] of bad) {
    const e = t.throws(() => encode(build.flowMod({ match: [{ field, value } as never] })), { instanceOf: OfpEncodeError }, `${field}=${String(value)}`);
    t.is(e?.code, 'OFP_ENCODE_BAD_VALUE');
  }
  const masked = t.throws(() => encode(build.flowMod({ match: [{ field: 'in_port', value: 1, mask: 1 }] })), { instanceOf: OfpEncodeError });
  t.is(masked?.code, 'OFP_ENCODE_BAD_MASK');
  const wild = t.throws(() => encode(build.flowMod({ match: [{ field: 'ipv4_src', value: '10.0.0.1', mask: '255.0.0.0' }] })), { instanceOf: OfpEncodeError });
  t.is(wild?.code, 'OFP_ENCODE_BAD_MASK');
});

test('unknown OXM, action and instruction TLVs are kept raw and re-encoded exactly', (t) => {
  const nxm = Buffer.from([0x00, 0x01, 0x3e, 0x04, 1, 2, 3, 4]); // NXM_NX_TUN_IPV4_SRC
  const act = Buffer.from([0x00, 0x63, 0x00, 0x08, 9, 9, 9, 9]); // action type 99
  const ins = Buffer.from([0x00, 0x63, 0x00, 0x08, 7, 7, 7, 7]); // instruction type 99
  const fm = build.flowMod({
    match: [{ field: 'unknown', raw: nxm }],
    instructions: [{ type: 'unknown', raw: ins }, build.applyActions({ type: 'unknown', raw: act })],
  });
  const back = roundTrip(fm);
  t.deepEqual(back, fm);
  t.true(encode(back).equals(encode(fm)));
});

test('unknown message types decode to unknown and re-encode byte for byte', (t) => {
  const bytes = Buffer.from([4, 99, 0, 12, 0, 0, 0, 5, 1, 2, 3, 4]);
  const m = decode(bytes);
  t.deepEqual(m, { type: 'unknown', version: 4, msgType: 99, xid: 5, body: Buffer.from([1, 2, 3, 4]) });
  t.true(encode(m).equals(bytes));
});

test('hello of another version decodes (version negotiation, OF 1.3.5 §6.3.1)', (t) => {
  const m = decode(Buffer.from([6, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 0x52]));
  t.deepEqual(m, { type: 'hello', xid: 1, version: 6, elements: [{ type: 'versionbitmap', versions: [1, 4, 6] }] });
  t.deepEqual(decode(Buffer.from([4, 0, 0, 8, 0, 0, 0, 2])), { type: 'hello', xid: 2, version: 4, elements: [] });
});

// ---------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------

function decodeError(t: import('ava').ExecutionContext, bytes: Buffer, code: OfpDecodeErrorCode, errType: number, errCode: number): OfpDecodeError | undefined {
  const e = t.throws(() => decode(bytes), { instanceOf: OfpDecodeError });
  t.is(e?.code, code);
  t.is(e?.errType, errType);
  t.is(e?.errCode, errCode);
  return e;
}

const hdr = (type: number, len: number, version = 4): Buffer => {
  const b = Buffer.alloc(len);
  b[0] = version;
  b[1] = type;
  b.writeUInt16BE(len, 2);
  return b;
};

const pktIn = (): Buffer =>
  encode({ type: 'packet_in', xid: 9, bufferId: OFP_NO_BUFFER, totalLen: 4, reason: 0, tableId: 0, cookie: 0n, match: [{ field: 'in_port', value: 3 }], data: Buffer.from([1, 2, 3, 4]) });

test('frame shorter than a header or with a length mismatch is fatal OFP_BAD_LENGTH', (t) => {
  const e1 = decodeError(t, Buffer.from([4, 0, 0]), 'OFP_BAD_LENGTH', OFPET_BAD_REQUEST, OFPBRC_BAD_LEN);
  t.true(e1?.fatal);
  const b = hdr(2, 12);
  b.writeUInt16BE(16, 2);
  const e2 = decodeError(t, b, 'OFP_BAD_LENGTH', OFPET_BAD_REQUEST, OFPBRC_BAD_LEN);
  t.is(e2?.offset, 2);
});

test('wrong version on a non-hello message is OFP_BAD_VERSION', (t) => {
  const e = decodeError(t, hdr(5, 8, 1), 'OFP_BAD_VERSION', OFPET_BAD_REQUEST, OFPBRC_BAD_VERSION);
  t.false(e?.fatal);
});

test('truncated fixed bodies are OFP_TRUNCATED or OFP_BAD_LENGTH', (t) => {
  decodeError(t, hdr(6, 24), 'OFP_BAD_LENGTH', OFPET_BAD_REQUEST, OFPBRC_BAD_LEN); // features_reply < 32
  decodeError(t, hdr(10, 20), 'OFP_TRUNCATED', OFPET_BAD_REQUEST, OFPBRC_BAD_LEN); // packet_in
  decodeError(t, hdr(14, 40), 'OFP_TRUNCATED', OFPET_BAD_REQUEST, OFPBRC_BAD_LEN); // flow_mod
  decodeError(t, hdr(1, 10), 'OFP_TRUNCATED', OFPET_BAD_REQUEST, OFPBRC_BAD_LEN); // error
  decodeError(t, hdr(12, 79), 'OFP_BAD_LENGTH', OFPET_BAD_REQUEST, OFPBRC_BAD_LEN); // port_status
  decodeError(t, hdr(19, 12), 'OFP_TRUNCATED', OFPET_BAD_REQUEST, OFPBRC_BAD_LEN); // multipart
  // Every truncation of a valid packet_in (with its header length patched) fails cleanly.
  const full = pktIn();
  for (let n = 8; n < full.length - 4; n++) {
    const cut = Buffer.from(full.subarray(0, n));
    cut.writeUInt16BE(n, 2);
    t.throws(() => decode(cut), { instanceOf: OfpDecodeError }, `cut at ${n}`);
  }
});

test('match errors: bad type, short length, overrunning OXM, bad field length', (t) => {
  const b = pktIn(); // match at offset 24: 0001 000c 80000004 00000003 + 4 pad
  const badType = Buffer.from(b);
  badType.writeUInt16BE(0, 24);
  decodeError(t, badType, 'OFP_BAD_MATCH_TYPE', OFPET_BAD_MATCH, OFPBMC_BAD_TYPE);
  const shortLen = Buffer.from(b);
  shortLen.writeUInt16BE(2, 26);
  decodeError(t, shortLen, 'OFP_BAD_MATCH_LENGTH', OFPET_BAD_MATCH, OFPBMC_BAD_LEN);
  const overMatch = Buffer.from(b);
  overMatch.writeUInt16BE(200, 26);
  decodeError(t, overMatch, 'OFP_BAD_MATCH_LENGTH', OFPET_BAD_MATCH, OFPBMC_BAD_LEN);
  const overOxm = Buffer.from(b);
  overOxm[31] = 40; // OXM payload length beyond the match
  decodeError(t, overOxm, 'OFP_BAD_OXM_LENGTH', OFPET_BAD_MATCH, OFPBMC_BAD_LEN);
  const widthMismatch = Buffer.from(b);
  widthMismatch[31] = 2; // in_port with a 2-byte payload
  widthMismatch.writeUInt16BE(10, 26);
  decodeError(t, widthMismatch, 'OFP_BAD_OXM_LENGTH', OFPET_BAD_MATCH, OFPBMC_BAD_LEN);
});

test('masked OXMs: non-maskable field and value bits outside the mask are rejected (OF 1.3.5 §7.2.3.5)', (t) => {
  const fm = encode(build.flowMod({ match: [{ field: 'ipv4_src', value: '10.0.0.0', mask: '255.0.0.0' }] }));
  // flow_mod match at 48: 0001 0010 | 8000 17 08 | 0a000000 ff000000
  const wild = Buffer.from(fm);
  wild[59] = 1; // value 10.0.0.1 with mask 255.0.0.0
  decodeError(t, wild, 'OFP_BAD_WILDCARDS', OFPET_BAD_MATCH, OFPBMC_BAD_WILDCARDS);
  const notMaskable = Buffer.from(fm);
  notMaskable[54] = (0 << 1) | 1; // in_port, HM set, 8-byte payload
  decodeError(t, notMaskable, 'OFP_BAD_OXM_MASK', OFPET_BAD_MATCH, OFPBMC_BAD_MASK);
});

test('zero-length and overrunning TLVs fail instead of looping', (t) => {
  const po = encode(build.packetOut({ actions: [build.output(1)] }));
  const zeroAction = Buffer.from(po);
  zeroAction.writeUInt16BE(0, 26); // action len 0
  decodeError(t, zeroAction, 'OFP_BAD_ACTION_LENGTH', OFPET_BAD_ACTION, OFPBAC_BAD_LEN);
  const oddAction = Buffer.from(po);
  oddAction.writeUInt16BE(12, 26);
  decodeError(t, oddAction, 'OFP_BAD_ACTION_LENGTH', OFPET_BAD_ACTION, OFPBAC_BAD_LEN);
  const overActions = Buffer.from(po);
  overActions.writeUInt16BE(64, 16); // actions_len beyond the message
  decodeError(t, overActions, 'OFP_BAD_LENGTH', OFPET_BAD_REQUEST, OFPBRC_BAD_LEN);

  const fm = encode(build.flowMod({ instructions: [build.applyActions(build.output(1))] }));
  const zeroIns = Buffer.from(fm);
  zeroIns.writeUInt16BE(0, 58); // instruction at 56: type, len
  decodeError(t, zeroIns, 'OFP_BAD_INSTRUCTION_LENGTH', OFPET_BAD_INSTRUCTION, OFPBIC_BAD_LEN);
  const overIns = Buffer.from(fm);
  overIns.writeUInt16BE(200, 58);
  decodeError(t, overIns, 'OFP_BAD_INSTRUCTION_LENGTH', OFPET_BAD_INSTRUCTION, OFPBIC_BAD_LEN);

  const hello = Buffer.from([4, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]); // element len 0
  decodeError(t, hello, 'OFP_BAD_TLV_LENGTH', OFPET_BAD_REQUEST, OFPBRC_BAD_LEN);

  const mp = encode({ type: 'multipart_reply', xid: 0, flags: 0, body: { mpType: 'port_desc', ports: [port] } });
  const shortPorts = Buffer.from(mp.subarray(0, mp.length - 8));
  shortPorts.writeUInt16BE(shortPorts.length, 2);
  decodeError(t, shortPorts, 'OFP_BAD_MULTIPART', OFPET_BAD_REQUEST, OFPBRC_BAD_MULTIPART);

  const tf = encode({
    type: 'multipart_request',
    xid: 0,
    flags: 0,
    body: { mpType: 'table_features', tables: [{ tableId: 0, name: 't', metadataMatch: 0n, metadataWrite: 0n, config: 0, maxEntries: 1, properties: [{ type: 'next_tables', tableIds: [1] }] }] },
  });
  const zeroProp = Buffer.from(tf);
  zeroProp.writeUInt16BE(0, 16 + 64 + 2); // first property length 0
  decodeError(t, zeroProp, 'OFP_BAD_TLV_LENGTH', OFPET_BAD_REQUEST, OFPBRC_BAD_LEN);
});

// ---------------------------------------------------------------------------
// Encode errors
// ---------------------------------------------------------------------------

test('messages over 65535 bytes and bad field values are typed encode errors', (t) => {
  const big = t.throws(() => encode(build.packetOut({ data: Buffer.alloc(70000) })), { instanceOf: OfpEncodeError });
  t.is(big?.code, 'OFP_ENCODE_TOO_LONG');
  const bad = t.throws(() => encode(build.flowMod({ priority: 70000 })), { instanceOf: OfpEncodeError });
  t.is(bad?.code, 'OFP_ENCODE_BAD_VALUE');
  const badType = t.throws(() => encode({ type: 'nope', xid: 0 } as unknown as OfpMessage), { instanceOf: OfpEncodeError });
  t.is(badType?.code, 'OFP_ENCODE_UNKNOWN_TYPE');
  const rawBad = t.throws(() => encode(build.packetOut({ actions: [{ type: 'unknown', raw: Buffer.from([0, 99, 0, 16, 0, 0, 0, 0]) }] })), { instanceOf: OfpEncodeError });
  t.is(rawBad?.code, 'OFP_ENCODE_BAD_RAW');
});

test('encodeInto writes at an offset and refuses a buffer that is too small', (t) => {
  const m = build.flowMod({ match: build.match({ in_port: 1 }), instructions: [build.applyActions(build.output(2))] });
  const buf = Buffer.alloc(200, 0xee);
  const n = encodeInto(m, buf, 10);
  t.true(buf.subarray(10, 10 + n).equals(encode(m)));
  t.is(buf[9], 0xee);
  t.is(buf[10 + n], 0xee);
  t.is(t.throws(() => encodeInto(m, Buffer.alloc(20)), { instanceOf: OfpEncodeError })?.code, 'OFP_ENCODE_TOO_LONG');
});

// ---------------------------------------------------------------------------
// Builders and JSON
// ---------------------------------------------------------------------------

test('builders fill the spec defaults', (t) => {
  const fm = build.flowMod({ priority: 10 });
  t.is(fm.command, OFPFC_ADD);
  t.is(fm.bufferId, OFP_NO_BUFFER);
  t.is(fm.outPort, OFPP_ANY);
  t.is(fm.outGroup, OFPG_ANY);
  t.is(fm.priority, 10);
  t.deepEqual(build.output(3), { type: 'output', port: 3, maxLen: OFPCML_NO_BUFFER });
  const po = build.packetOut({ actions: [build.output(1)], data: Buffer.from('x') });
  t.is(po.inPort, OFPP_CONTROLLER);
  t.deepEqual(roundTrip(po), po);
  t.deepEqual(roundTrip(build.portDescRequest(3)), build.portDescRequest(3));
  t.deepEqual(roundTrip(build.hello(1)), { ...build.hello(1), version: 4 });
  t.deepEqual(build.setField('eth_dst', '02:00:00:00:00:09'), { type: 'set_field', field: { field: 'eth_dst', value: '02:00:00:00:00:09' } });
});

test('JSON form: bigint as decimal, Buffer as hex, lossless', (t) => {
  const m = build.flowMod({ cookie: 18446744073709551615n, match: build.match({ metadata: [5n, 0xffn], tunnel_id: 7n }) });
  const j = toJSON(m) as Record<string, unknown>;
  t.is(j['cookie'], '18446744073709551615');
  t.deepEqual((j['match'] as unknown[])[0], { field: 'metadata', value: '5', mask: '255' });
  t.deepEqual(fromJSON(JSON.parse(JSON.stringify(j))), m);
  const echo = toJSON({ type: 'echo_request', xid: 1, data: Buffer.from([0xab, 0xcd]) }) as Record<string, unknown>;
  t.is(echo['data'], 'abcd');
  t.is(t.throws(() => fromJSON({ type: 'echo_request', xid: 1, data: 'xyz' }), { instanceOf: OfpEncodeError })?.code, 'OFP_ENCODE_BAD_VALUE');
  t.is(t.throws(() => fromJSON({ type: 'flow_mod', xid: 1, cookie: '-1' }), { instanceOf: OfpEncodeError })?.code, 'OFP_ENCODE_BAD_VALUE');
});

// ---------------------------------------------------------------------------
// Framer
// ---------------------------------------------------------------------------

test('framer returns views (no copies) for whole frames in one chunk', (t) => {
  const a = pktIn();
  const b = encode({ type: 'echo_request', xid: 2, data: Buffer.from('hi') });
  const chunk = Buffer.concat([a, b, a.subarray(0, 5)]);
  const f = new Framer();
  const frames = f.push(chunk);
  t.is(frames.length, 2);
  t.is(frames[0]!.buffer, chunk.buffer); // same memory: subarray
  t.is(frames[0]!.byteOffset, chunk.byteOffset);
  t.is(f.buffered, 5);
  const rest = f.push(a.subarray(5));
  t.is(rest.length, 1);
  t.true(rest[0]!.equals(a));
  t.deepEqual(f.push(Buffer.alloc(0)), []);
});

test('framer rejects bad lengths before buffering, fatally', (t) => {
  const f = new Framer({ maxFrame: 1024 });
  // A header announcing 2000 bytes is refused as soon as the header is complete.
  const h = Buffer.from([4, 13, 0x07, 0xd0, 0, 0, 0, 1]);
  t.deepEqual(f.push(h.subarray(0, 3)), []);
  const e = t.throws(() => f.push(h.subarray(3)), { instanceOf: OfpDecodeError });
  t.is(e?.code, 'OFP_FRAME_TOO_LARGE');
  t.true(e?.fatal);
  t.is(f.buffered, 0);
  // The stream is lost: later pushes keep failing.
  t.throws(() => f.push(pktIn()), { instanceOf: OfpDecodeError });

  const g = new Framer();
  const e2 = t.throws(() => g.push(Buffer.concat([pktIn(), Buffer.from([4, 0, 0, 4, 0, 0, 0, 0])])), { instanceOf: OfpDecodeError });
  t.is(e2?.code, 'OFP_BAD_LENGTH');
  t.is(e2?.offset, pktIn().length + 2);
  t.throws(() => new Framer({ maxFrame: 4 }), { instanceOf: RangeError });
});

test('framer handles many frames across random chunk boundaries', (t) => {
  const msgs: Buffer[] = [];
  for (let i = 0; i < 200; i++) msgs.push(encode({ type: 'echo_request', xid: i, data: Buffer.alloc(i % 37, i) }));
  const stream = Buffer.concat(msgs);
  let seed = 12345;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n) + 1;
  const f = new Framer();
  const got: Buffer[] = [];
  for (let o = 0; o < stream.length; ) {
    const n = Math.min(rnd(50), stream.length - o);
    got.push(...f.push(stream.subarray(o, o + n)));
    o += n;
  }
  t.is(got.length, msgs.length);
  got.forEach((g, i) => t.true(g.equals(msgs[i]!), `frame ${i}`));
});
