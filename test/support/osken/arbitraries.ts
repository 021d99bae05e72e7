// fast-check arbitraries of the OpenFlow 1.3 message model (controller/openflow/types.ts).
// Two profiles:
//  - 'full': everything the model can hold that survives encode -> decode unchanged,
//    unknown/experimenter TLVs included (for our own round-trip properties);
//  - 'osken': only what os-ken can parse and express in its JSON (no unknown TLVs, no
//    instruction experimenter, no meter-band experimenter data, ...), for the
//    us -> os-ken differential test.
// Generated values are already in decode()'s canonical form (lowercase MACs, RFC 5952
// IPv6, sorted hello versions, masked OXM values with no bits outside the mask), so
// decode(encode(m)) must deep-equal m exactly.
import fc from 'fast-check';
import { OXM_FIELDS } from '../../../controller/openflow/oxm.js';
import { formatIpv6 } from '../../../controller/openflow/oxm.js';
import type {
  Action,
  Bucket,
  FeatureTlvId,
  HelloElement,
  Instruction,
  Match,
  MeterBand,
  MultipartReplyBody,
  MultipartRequestBody,
  OfpMessage,
  OfpPort,
  Oxm,
  OxmFieldName,
  OxmId,
  PacketQueue,
  QueueProp,
  TableFeatureProp,
  TableFeatures,
} from '../../../controller/openflow/types.js';

export type Profile = 'full' | 'osken';

/** Experimenter ids os-ken decodes into its own extension classes (Nicira, ONF, ...). */
const SPECIAL_EXPERIMENTERS = new Set([0x00002320, 0x4f4e4600, 0x000026e1]);

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.oneof(fc.constantFrom(0, 0xffffffff, 0xfffffffd, 0xfffffff8), fc.integer({ min: 0, max: 0xffffffff }));
const u64 = fc.oneof(fc.constantFrom(0n, 0xffffffffffffffffn), fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }));
const xid = u32;
const experimenterId = u32.filter((e) => !SPECIAL_EXPERIMENTERS.has(e));
const bytes = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
/** Bytes whose length is a multiple of `m` (TLV bodies that must keep 8-byte alignment). */
const alignedBytes = (maxUnits: number, m = 8): fc.Arbitrary<Buffer> =>
  fc.integer({ min: 0, max: maxUnits }).chain((n) => fc.uint8Array({ minLength: n * m, maxLength: n * m }).map((a) => Buffer.from(a)));

function bufOf(width: number): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ minLength: width, maxLength: width }).map((a) => Buffer.from(a));
}

/** A UTF-8 string of at most maxBytes bytes without NUL (fixed-size, NUL-padded fields). */
function fixedText(maxBytes: number, asciiOnly = false): fc.Arbitrary<string> {
  const ch = asciiOnly
    ? fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c))
    : fc.oneof(fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), fc.constantFrom('é', 'ß', '私', 'の', 'ポ', '😀'));
  return fc.array(ch, { maxLength: maxBytes }).map((cs) => {
    let s = '';
    for (const c of cs) if (Buffer.byteLength(s + c) <= maxBytes) s += c;
    return s;
  });
}

// --- OXM values from raw bytes, in the model's text forms ---

const formatMac = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
const formatV4 = (b: Buffer): string => [...b].join('.');

function valueOf(field: OxmFieldName, b: Buffer): unknown {
  const d = OXM_FIELDS.find((f) => f.name === field)!;
  switch (d.width) {
    case 16:
      return formatIpv6(b, 0);
    case 6:
      return formatMac(b);
    case 8:
      return b.readBigUInt64BE(0);
    default:
      if (d.width === 4 && /ipv4|arp_[st]pa/.test(field)) return formatV4(b);
      return b.readUIntBE(0, d.width);
  }
}

function oxmArb(masksAllowed: boolean): fc.Arbitrary<Oxm> {
  return fc.constantFrom(...OXM_FIELDS).chain((d) => {
    const masked = masksAllowed && d.maskable ? fc.boolean() : fc.constant(false);
    return fc.tuple(masked, bufOf(d.width), bufOf(d.width)).map(([m, v, k]) => {
      if (!m) return { field: d.name, value: valueOf(d.name, v) } as Oxm;
      // OF 1.3.5 §7.2.3.5: value bits outside the mask are invalid (OFPBMC_BAD_WILDCARDS).
      const vm = Buffer.from(v.map((x, i) => x & k[i]!));
      return { field: d.name, value: valueOf(d.name, vm), mask: valueOf(d.name, k) } as Oxm;
    });
  });
}

/** An OXM TLV of a class/field the codec does not model: class != basic, or basic field >= 40. */
const unknownOxm: fc.Arbitrary<Oxm> = fc
  .tuple(fc.constantFrom(0x0000, 0x0001, 0x8001, 0xffff, 0x8000), fc.integer({ min: 0, max: 127 }), fc.boolean(), bytes(12))
  .map(([cls, field, hm, payload]) => {
    const f = cls === 0x8000 ? 40 + (field % 88) : field;
    const raw = Buffer.concat([Buffer.from([cls >> 8, cls & 0xff, (f << 1) | (hm ? 1 : 0), payload.length]), payload]);
    return { field: 'unknown', raw };
  });

/** A raw TLV with a 16-bit type and 16-bit length header, `len` total bytes. */
function rawTlv(types: fc.Arbitrary<number>, body: fc.Arbitrary<Buffer>, lenAt = 2): fc.Arbitrary<Buffer> {
  return fc.tuple(types, body).map(([t, b]) => {
    const raw = Buffer.concat([Buffer.alloc(4), b]);
    raw.writeUInt16BE(t, 0);
    raw.writeUInt16BE(raw.length, lenAt);
    return raw;
  });
}

/** Deep copy with ordinary prototypes (fc.record builds null-prototype objects, which strict deep equality tells apart). */
export function plain<T>(v: T): T {
  if (Buffer.isBuffer(v) || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => plain(x)) as T;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) o[k] = plain(x);
  return o as T;
}

/** Builds all model arbitraries for one profile. */
export function modelArbitraries(profile: Profile) {
  const full = profile === 'full';
  const oxm = full ? fc.oneof({ weight: 6, arbitrary: oxmArb(true) }, { weight: 1, arbitrary: unknownOxm }) : oxmArb(true);
  const match: fc.Arbitrary<Match> = fc.array(oxm, { maxLength: 8 });

  // Unknown action types: OF1.3 uses 0, 11..27 and 0xffff (§7.2.5).
  const unknownActionType = fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 28, max: 0xfffe }));
  const actionArbs: fc.Arbitrary<Action>[] = [
    fc.record({ type: fc.constant('output' as const), port: u32, maxLen: u16 }),
    fc.constant({ type: 'copy_ttl_out' as const }),
    fc.constant({ type: 'copy_ttl_in' as const }),
    fc.record({ type: fc.constant('set_mpls_ttl' as const), mplsTtl: u8 }),
    fc.constant({ type: 'dec_mpls_ttl' as const }),
    fc.record({ type: fc.constant('push_vlan' as const), ethertype: u16 }),
    fc.constant({ type: 'pop_vlan' as const }),
    fc.record({ type: fc.constant('push_mpls' as const), ethertype: u16 }),
    fc.record({ type: fc.constant('pop_mpls' as const), ethertype: u16 }),
    fc.record({ type: fc.constant('set_queue' as const), queueId: u32 }),
    fc.record({ type: fc.constant('group' as const), groupId: u32 }),
    fc.record({ type: fc.constant('set_nw_ttl' as const), nwTtl: u8 }),
    fc.constant({ type: 'dec_nw_ttl' as const }),
    // OF 1.3.5 §7.2.5: set_field carries one unmasked OXM.
    fc.record({ type: fc.constant('set_field' as const), field: full ? fc.oneof(oxmArb(false), unknownOxm) : oxmArb(false) }),
    fc.record({ type: fc.constant('push_pbb' as const), ethertype: u16 }),
    fc.constant({ type: 'pop_pbb' as const }),
    fc.record({ type: fc.constant('experimenter' as const), experimenter: experimenterId, data: alignedBytes(3) }),
  ];
  if (full) actionArbs.push(fc.record({ type: fc.constant('unknown' as const), raw: rawTlv(unknownActionType, alignedBytes(3).map((b) => Buffer.concat([Buffer.alloc(4), b]))) }));
  const action = fc.oneof(...actionArbs);
  const actions = fc.array(action, { maxLength: 6 });

  const instrArbs: fc.Arbitrary<Instruction>[] = [
    fc.record({ type: fc.constant('goto_table' as const), tableId: u8 }),
    fc.record({ type: fc.constant('write_metadata' as const), metadata: u64, metadataMask: u64 }),
    fc.record({ type: fc.constant('write_actions' as const), actions }),
    fc.record({ type: fc.constant('apply_actions' as const), actions }),
    fc.constant({ type: 'clear_actions' as const }),
    fc.record({ type: fc.constant('meter' as const), meterId: u32 }),
  ];
  if (full) {
    instrArbs.push(fc.record({ type: fc.constant('experimenter' as const), experimenter: u32, data: alignedBytes(3) }));
    instrArbs.push(fc.record({ type: fc.constant('unknown' as const), raw: rawTlv(fc.integer({ min: 7, max: 0xfffe }), alignedBytes(3).map((b) => Buffer.concat([Buffer.alloc(4), b]))) }));
  }
  const instructions = fc.array(fc.oneof(...instrArbs), { maxLength: 4 });

  const mac = bufOf(6).map(formatMac);
  const port: fc.Arbitrary<OfpPort> = fc.record({
    portNo: u32,
    hwAddr: mac,
    name: fixedText(15),
    config: u32,
    state: u32,
    curr: u32,
    advertised: u32,
    supported: u32,
    peer: u32,
    currSpeed: u32,
    maxSpeed: u32,
  });

  const bucket: fc.Arbitrary<Bucket> = fc.record({ weight: u16, watchPort: u32, watchGroup: u32, actions: fc.array(action, { maxLength: 4 }) });
  const bandArbs: fc.Arbitrary<MeterBand>[] = [
    fc.record({ type: fc.constant('drop' as const), rate: u32, burstSize: u32 }),
    fc.record({ type: fc.constant('dscp_remark' as const), rate: u32, burstSize: u32, precLevel: u8 }),
    // os-ken's experimenter band is the 16-byte header only.
    fc.record({ type: fc.constant('experimenter' as const), rate: u32, burstSize: u32, experimenter: u32, data: full ? alignedBytes(2) : fc.constant(Buffer.alloc(0)) }),
  ];
  if (full) bandArbs.push(fc.record({ type: fc.constant('unknown' as const), raw: rawTlv(fc.integer({ min: 3, max: 0xfffe }), alignedBytes(2).map((b) => Buffer.concat([Buffer.alloc(12), b]))) }));
  const band = fc.oneof(...bandArbs);

  const queuePropArbs: fc.Arbitrary<QueueProp>[] = [
    fc.record({ type: fc.constant('min_rate' as const), rate: u16 }),
    fc.record({ type: fc.constant('max_rate' as const), rate: u16 }),
    fc.record({ type: fc.constant('experimenter' as const), experimenter: experimenterId, data: full ? bytes(12) : alignedBytes(1) }),
  ];
  if (full) queuePropArbs.push(fc.record({ type: fc.constant('unknown' as const), raw: rawTlv(fc.integer({ min: 3, max: 0xfffe }), alignedBytes(2).map((b) => Buffer.concat([Buffer.alloc(4), b]))) }));
  const queue: fc.Arbitrary<PacketQueue> = fc.record({ queueId: u32, port: u32, properties: fc.array(fc.oneof(...queuePropArbs), { maxLength: 3 }) });

  // Hello: a version bitmap (sorted, unique versions); os-ken ignores bit 31 of each word.
  const versions = fc
    .uniqueArray(fc.integer({ min: 0, max: 95 }).filter((v) => full || v % 32 !== 31), { maxLength: 8 })
    .map((vs) => [...vs].sort((a, b) => a - b));
  const helloElemArbs: fc.Arbitrary<HelloElement>[] = [fc.record({ type: fc.constant('versionbitmap' as const), versions: full ? versions : versions.filter((v) => v.length > 0) })];
  if (full) helloElemArbs.push(fc.record({ type: fc.constant('unknown' as const), raw: rawTlv(fc.integer({ min: 2, max: 0xffff }), bytes(8)) }));

  // Table features (§7.3.5.5).
  const tlvId = (types: fc.Arbitrary<number>): fc.Arbitrary<FeatureTlvId> =>
    full
      ? fc.oneof(
          types.map((type) => ({ type })),
          fc.tuple(types.filter((t) => t !== 0xffff), bytes(4).filter((b) => b.length > 0)).map(([type, data]) => ({ type, data })),
          fc.tuple(u32, fc.option(bytes(4).filter((b) => b.length > 0), { nil: undefined })).map(([experimenter, data]) => (data === undefined ? { type: 0xffff, experimenter } : { type: 0xffff, experimenter, data })),
        )
      : types.map((type) => ({ type }));
  const oxmId: fc.Arbitrary<OxmId> = fc.constantFrom(...OXM_FIELDS).chain((d) => (d.maskable ? fc.boolean() : fc.constant(false)).map((hasMask) => ({ field: d.name, hasMask })));
  const actionIdTypes = fc.constantFrom(0, 11, 12, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27);
  const instrIdTypes = fc.integer({ min: 1, max: 6 });
  const propArbs: fc.Arbitrary<TableFeatureProp>[] = [
    fc.record({ type: fc.constantFrom('instructions' as const, 'instructions_miss' as const), instructionIds: fc.array(tlvId(instrIdTypes), { maxLength: 6 }) }),
    fc.record({ type: fc.constantFrom('next_tables' as const, 'next_tables_miss' as const), tableIds: fc.array(u8, { maxLength: 10 }) }),
    fc.record({
      type: fc.constantFrom('write_actions' as const, 'write_actions_miss' as const, 'apply_actions' as const, 'apply_actions_miss' as const),
      actionIds: fc.array(tlvId(actionIdTypes), { maxLength: 6 }),
    }),
    fc.record({
      type: fc.constantFrom('match' as const, 'wildcards' as const, 'write_setfield' as const, 'write_setfield_miss' as const, 'apply_setfield' as const, 'apply_setfield_miss' as const),
      oxmIds: fc.array(oxmId, { maxLength: 6 }),
    }),
  ];
  if (full) {
    propArbs.push(fc.record({ type: fc.constantFrom('experimenter' as const, 'experimenter_miss' as const), experimenter: u32, expType: u32, data: bytes(12) }));
    propArbs.push(fc.record({ type: fc.constant('unknown' as const), raw: rawTlv(fc.oneof(fc.constantFrom(9, 11), fc.integer({ min: 16, max: 0xfffd })), bytes(12)) }));
  }
  const tableFeatures: fc.Arbitrary<TableFeatures> = fc.record({
    tableId: u8,
    name: fixedText(31),
    metadataMatch: u64,
    metadataWrite: u64,
    config: u32,
    maxEntries: u32,
    properties: fc.array(fc.oneof(...propArbs), { maxLength: 5 }),
  });

  const flowReq = { tableId: u8, outPort: u32, outGroup: u32, cookie: u64, cookieMask: u64, match };
  const mpReqArbs: fc.Arbitrary<MultipartRequestBody>[] = [
    fc.constant({ mpType: 'desc' as const }),
    fc.record({ mpType: fc.constant('flow' as const), ...flowReq }),
    fc.record({ mpType: fc.constant('aggregate' as const), ...flowReq }),
    fc.constant({ mpType: 'table' as const }),
    fc.record({ mpType: fc.constant('port_stats' as const), portNo: u32 }),
    fc.record({ mpType: fc.constant('queue' as const), portNo: u32, queueId: u32 }),
    fc.record({ mpType: fc.constant('group' as const), groupId: u32 }),
    fc.constant({ mpType: 'group_desc' as const }),
    fc.constant({ mpType: 'group_features' as const }),
    fc.record({ mpType: fc.constant('meter' as const), meterId: u32 }),
    fc.record({ mpType: fc.constant('meter_config' as const), meterId: u32 }),
    fc.constant({ mpType: 'meter_features' as const }),
    fc.record({ mpType: fc.constant('table_features' as const), tables: fc.array(tableFeatures, { maxLength: 2 }) }),
    fc.constant({ mpType: 'port_desc' as const }),
    fc.record({ mpType: fc.constant('experimenter' as const), experimenter: experimenterId, expType: u32, data: bytes(24) }),
  ];
  if (full) mpReqArbs.push(fc.record({ mpType: fc.constant('unknown' as const), mpTypeNum: fc.integer({ min: 14, max: 0xfffe }), data: bytes(24) }));

  const counters = fc.record({ packetCount: u64, byteCount: u64 });
  const mpRepArbs: fc.Arbitrary<MultipartReplyBody>[] = [
    fc.record({ mpType: fc.constant('desc' as const), mfrDesc: fixedText(255, !full), hwDesc: fixedText(255, !full), swDesc: fixedText(255, !full), serialNum: fixedText(31, !full), dpDesc: fixedText(255, !full) }),
    fc.record({
      mpType: fc.constant('flow' as const),
      stats: fc.array(
        fc.record({ tableId: u8, durationSec: u32, durationNsec: u32, priority: u16, idleTimeout: u16, hardTimeout: u16, flags: u16, cookie: u64, packetCount: u64, byteCount: u64, match, instructions }),
        { maxLength: 3 },
      ),
    }),
    fc.record({ mpType: fc.constant('aggregate' as const), packetCount: u64, byteCount: u64, flowCount: u32 }),
    fc.record({ mpType: fc.constant('table' as const), stats: fc.array(fc.record({ tableId: u8, activeCount: u32, lookupCount: u64, matchedCount: u64 }), { maxLength: 4 }) }),
    fc.record({
      mpType: fc.constant('port_stats' as const),
      stats: fc.array(
        fc.record({ portNo: u32, rxPackets: u64, txPackets: u64, rxBytes: u64, txBytes: u64, rxDropped: u64, txDropped: u64, rxErrors: u64, txErrors: u64, rxFrameErr: u64, rxOverErr: u64, rxCrcErr: u64, collisions: u64, durationSec: u32, durationNsec: u32 }),
        { maxLength: 3 },
      ),
    }),
    fc.record({ mpType: fc.constant('queue' as const), stats: fc.array(fc.record({ portNo: u32, queueId: u32, txBytes: u64, txPackets: u64, txErrors: u64, durationSec: u32, durationNsec: u32 }), { maxLength: 3 }) }),
    fc.record({
      mpType: fc.constant('group' as const),
      stats: fc.array(fc.record({ groupId: u32, refCount: u32, packetCount: u64, byteCount: u64, durationSec: u32, durationNsec: u32, bucketStats: fc.array(counters, { maxLength: 3 }) }), { maxLength: 3 }),
    }),
    fc.record({ mpType: fc.constant('group_desc' as const), groups: fc.array(fc.record({ groupType: u8, groupId: u32, buckets: fc.array(bucket, { maxLength: 3 }) }), { maxLength: 3 }) }),
    fc.record({ mpType: fc.constant('group_features' as const), types: u32, capabilities: u32, maxGroups: fc.tuple(u32, u32, u32, u32), actions: fc.tuple(u32, u32, u32, u32) }),
    fc.record({
      mpType: fc.constant('meter' as const),
      stats: fc.array(
        fc.record({ meterId: u32, flowCount: u32, packetInCount: u64, byteInCount: u64, durationSec: u32, durationNsec: u32, bandStats: fc.array(fc.record({ packetBandCount: u64, byteBandCount: u64 }), { maxLength: 3 }) }),
        { maxLength: 3 },
      ),
    }),
    fc.record({ mpType: fc.constant('meter_config' as const), configs: fc.array(fc.record({ flags: u16, meterId: u32, bands: fc.array(band, { maxLength: 3 }) }), { maxLength: 3 }) }),
    fc.record({ mpType: fc.constant('meter_features' as const), maxMeter: u32, bandTypes: u32, capabilities: u32, maxBands: u8, maxColor: u8 }),
    fc.record({ mpType: fc.constant('table_features' as const), tables: fc.array(tableFeatures, { maxLength: 2 }) }),
    fc.record({ mpType: fc.constant('port_desc' as const), ports: fc.array(port, { maxLength: 3 }) }),
    // os-ken re-parses experimenter reply data longer than 8 bytes as more bodies (its bug).
    fc.record({ mpType: fc.constant('experimenter' as const), experimenter: experimenterId, expType: u32, data: full ? bytes(24) : alignedBytes(1) }),
  ];
  if (full) mpRepArbs.push(fc.record({ mpType: fc.constant('unknown' as const), mpTypeNum: fc.integer({ min: 14, max: 0xfffe }), data: bytes(24) }));

  const masks = fc.tuple(u32, u32);
  const asyncFields = { packetInMask: masks, portStatusMask: masks, flowRemovedMask: masks };
  const t = <T extends string>(s: T) => fc.constant(s);

  const msgArbs: fc.Arbitrary<OfpMessage>[] = [
    fc.record({ type: t('hello'), xid, version: fc.constant(4), elements: fc.array(fc.oneof(...helloElemArbs), { maxLength: full ? 3 : 1 }) }),
    fc.record({ type: t('error'), xid, errType: fc.integer({ min: 0, max: 0xfffe }), code: u16, data: bytes(64) }),
    fc.record({ type: t('error'), xid, errType: fc.constant(0xffff as const), expType: u16, experimenter: u32, data: bytes(40) }),
    fc.record({ type: t('echo_request'), xid, data: bytes(64) }),
    fc.record({ type: t('echo_reply'), xid, data: bytes(64) }),
    fc.record({ type: t('experimenter'), xid, experimenter: experimenterId, expType: u32, data: bytes(48) }),
    fc.record({ type: t('features_request'), xid }),
    fc.record({ type: t('features_reply'), xid, datapathId: u64, nBuffers: u32, nTables: u8, auxiliaryId: u8, capabilities: u32, reserved: full ? u32 : fc.constant(0) }),
    fc.record({ type: t('get_config_request'), xid }),
    fc.record({ type: t('get_config_reply'), xid, flags: u16, missSendLen: u16 }),
    fc.record({ type: t('set_config'), xid, flags: u16, missSendLen: u16 }),
    fc
      .record({ type: t('packet_in'), xid, bufferId: u32, totalLen: u16, reason: u8, tableId: u8, cookie: u64, match, data: bytes(128) })
      // total_len is the whole frame's length, never less than the data carried (§7.4.1).
      .map((m) => ({ ...m, totalLen: Math.max(m.totalLen, m.data.length) })),
    fc.record({ type: t('flow_removed'), xid, cookie: u64, priority: u16, reason: u8, tableId: u8, durationSec: u32, durationNsec: u32, idleTimeout: u16, hardTimeout: u16, packetCount: u64, byteCount: u64, match }),
    fc.record({ type: t('port_status'), xid, reason: u8, desc: port }),
    fc
      .record({ type: t('packet_out'), xid, bufferId: u32, inPort: u32, actions, data: bytes(96) })
      // §7.3.7: data is only sent with OFP_NO_BUFFER (os-ken asserts it).
      .map((m) => (m.data.length > 0 ? { ...m, bufferId: 0xffffffff } : m)),
    fc.record({ type: t('flow_mod'), xid, cookie: u64, cookieMask: u64, tableId: u8, command: u8, idleTimeout: u16, hardTimeout: u16, priority: u16, bufferId: u32, outPort: u32, outGroup: u32, flags: u16, match, instructions }),
    fc.record({ type: t('group_mod'), xid, command: u16, groupType: u8, groupId: u32, buckets: fc.array(bucket, { maxLength: 4 }) }),
    fc.record({ type: t('port_mod'), xid, portNo: u32, hwAddr: mac, config: u32, mask: u32, advertise: u32 }),
    fc.record({ type: t('table_mod'), xid, tableId: u8, config: u32 }),
    fc.record({ type: t('multipart_request'), xid, flags: u16, body: fc.oneof(...mpReqArbs) }),
    fc.record({ type: t('multipart_reply'), xid, flags: u16, body: fc.oneof(...mpRepArbs) }),
    fc.record({ type: t('barrier_request'), xid }),
    fc.record({ type: t('barrier_reply'), xid }),
    fc.record({ type: t('queue_get_config_request'), xid, port: u32 }),
    fc.record({ type: t('queue_get_config_reply'), xid, port: u32, queues: fc.array(queue, { maxLength: 3 }) }),
    fc.record({ type: t('role_request'), xid, role: u32, generationId: u64 }),
    fc.record({ type: t('role_reply'), xid, role: u32, generationId: u64 }),
    fc.record({ type: t('get_async_request'), xid }),
    fc.record({ type: t('get_async_reply'), xid, ...asyncFields }),
    fc.record({ type: t('set_async'), xid, ...asyncFields }),
    fc.record({ type: t('meter_mod'), xid, command: u16, flags: u16, meterId: u32, bands: fc.array(band, { maxLength: 4 }) }),
  ];
  if (full) {
    // Message types this codec does not know: OF1.3 uses 0..29.
    msgArbs.push(fc.record({ type: t('unknown'), version: fc.constant(4), msgType: fc.integer({ min: 30, max: 255 }), xid, body: bytes(32) }));
  }
  const message = fc.oneof(...msgArbs).map(plain);
  return {
    oxm: oxm.map(plain),
    match: match.map(plain),
    action: action.map(plain),
    actions: actions.map(plain),
    instructions: instructions.map(plain),
    port: port.map(plain),
    bucket: bucket.map(plain),
    band: band.map(plain),
    queue: queue.map(plain),
    tableFeatures: tableFeatures.map(plain),
    message,
  };
}
