// Multipart request/reply bodies (OF 1.3.5 §7.3.5). Bodies are decoded from b[o, end) and
// written at o; the 16-byte multipart header is the caller's business. Table features
// (§7.3.5.5), the one body with nested TLVs of its own, live in table-features.ts.
import * as C from './constants.js';
import { badMultipart, badTlv, OfpEncodeError, truncated } from './errors.js';
import { decodeInstructions, instructionSize, writeInstructions } from './actions.js';
import { decodeMatch, matchLength, tooLong, writeMatch } from './oxm.js';
import {
  bandsSize,
  bucketsSize,
  decodeBands,
  decodeBuckets,
  decodePort,
  OFP_PORT_SIZE,
  readFixedString,
  writeBands,
  writeBuckets,
  writeFixedString,
  writePort,
} from './structs.js';
import { decodeTableFeaturesList, OFP_TABLE_FEATURES_SIZE, tableFeaturesListSize, writeTableFeaturesList } from './table-features.js';
import type { FlowStats, FlowStatsRequestFields, MultipartReplyBody, MultipartRequestBody, MultipartType } from './types.js';

// Callers (and test/support/vectors.ts) import these from here; they moved with the code.
export { propLength, tableFeaturesListSize } from './table-features.js';
import { pad, writeU64, zero } from './wire.js';

const MP_NAMES: readonly MultipartType[] = [
  'desc',
  'flow',
  'aggregate',
  'table',
  'port_stats',
  'queue',
  'group',
  'group_desc',
  'group_features',
  'meter',
  'meter_config',
  'meter_features',
  'table_features',
  'port_desc',
];

/** Wire number of a multipart type name. */
export function mpTypeNumber(body: MultipartRequestBody | MultipartReplyBody): number {
  if (body.mpType === 'experimenter') return C.OFPMP_EXPERIMENTER;
  if (body.mpType === 'unknown') return body.mpTypeNum;
  const i = MP_NAMES.indexOf(body.mpType);
  if (i < 0) throw new OfpEncodeError('OFP_ENCODE_UNKNOWN_TYPE', `unknown multipart type '${String(body.mpType)}'`);
  return i;
}

// Sizes of fixed multipart records (OF 1.3.5 §7.3.5).
export const MP_SIZES = {
  desc: 1056,
  flowStatsRequest: 32, // without match
  flowStats: 48, // without match
  aggregateReply: 24,
  tableStats: 24,
  portStats: 112,
  queueStats: 40,
  groupStats: 40,
  bucketCounter: 16,
  groupDesc: 8,
  groupFeatures: 40,
  meterStats: 40,
  meterBandStats: 16,
  meterConfig: 8,
  meterFeatures: 16,
  tableFeatures: OFP_TABLE_FEATURES_SIZE,
} as const;

function fixedCount(o: number, end: number, size: number, what: string, base: number): number {
  if ((end - o) % size !== 0) throw badMultipart(`${what} body of ${end - o} bytes is not a multiple of ${size}`, o - base);
  return (end - o) / size;
}

function need(o: number, end: number, n: number, what: string, base: number): void {
  if (o + n > end) throw truncated(what, o - base);
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

function decodeFlowStatsRequest(b: Buffer, o: number, end: number, base: number): FlowStatsRequestFields {
  need(o, end, 32 + 4, 'ofp_flow_stats_request', base);
  pad(b, o + 1, o + 4, 'ofp_flow_stats_request', base);
  pad(b, o + 12, o + 16, 'ofp_flow_stats_request', base);
  const [match, mend] = decodeMatch(b, o + 32, end, base);
  if (mend !== end) throw badMultipart('trailing bytes after ofp_flow_stats_request match', mend - base);
  return {
    tableId: b[o]!,
    outPort: b.readUInt32BE(o + 4),
    outGroup: b.readUInt32BE(o + 8),
    cookie: b.readBigUInt64BE(o + 16),
    cookieMask: b.readBigUInt64BE(o + 24),
    match,
  };
}

/** Decodes a multipart request body of wire type `t` from b[o, end). */
export function decodeMultipartRequest(b: Buffer, t: number, o: number, end: number, base: number): MultipartRequestBody {
  const empty = (mpType: 'desc' | 'table' | 'group_desc' | 'group_features' | 'meter_features' | 'port_desc'): MultipartRequestBody => {
    if (end !== o) throw badMultipart(`${mpType} request must have an empty body`, o - base);
    return { mpType };
  };
  const eight = (what: string, padFrom = 4): void => {
    if (end - o !== 8) throw badMultipart(`${what} request body must be 8 bytes`, o - base);
    pad(b, o + padFrom, end, `${what} request`, base);
  };
  switch (t) {
    case C.OFPMP_DESC:
      return empty('desc');
    case C.OFPMP_FLOW:
      return { mpType: 'flow', ...decodeFlowStatsRequest(b, o, end, base) };
    case C.OFPMP_AGGREGATE:
      return { mpType: 'aggregate', ...decodeFlowStatsRequest(b, o, end, base) };
    case C.OFPMP_TABLE:
      return empty('table');
    case C.OFPMP_PORT_STATS:
      eight('port_stats');
      return { mpType: 'port_stats', portNo: b.readUInt32BE(o) };
    case C.OFPMP_QUEUE:
      eight('queue', 8);
      return { mpType: 'queue', portNo: b.readUInt32BE(o), queueId: b.readUInt32BE(o + 4) };
    case C.OFPMP_GROUP:
      eight('group');
      return { mpType: 'group', groupId: b.readUInt32BE(o) };
    case C.OFPMP_GROUP_DESC:
      return empty('group_desc');
    case C.OFPMP_GROUP_FEATURES:
      return empty('group_features');
    case C.OFPMP_METER:
      eight('meter');
      return { mpType: 'meter', meterId: b.readUInt32BE(o) };
    case C.OFPMP_METER_CONFIG:
      eight('meter_config');
      return { mpType: 'meter_config', meterId: b.readUInt32BE(o) };
    case C.OFPMP_METER_FEATURES:
      return empty('meter_features');
    case C.OFPMP_TABLE_FEATURES:
      return { mpType: 'table_features', tables: decodeTableFeaturesList(b, o, end, base) };
    case C.OFPMP_PORT_DESC:
      return empty('port_desc');
    case C.OFPMP_EXPERIMENTER:
      need(o, end, 8, 'ofp_experimenter_multipart_header', base);
      return { mpType: 'experimenter', experimenter: b.readUInt32BE(o), expType: b.readUInt32BE(o + 4), data: b.subarray(o + 8, end) };
    default:
      return { mpType: 'unknown', mpTypeNum: t, data: b.subarray(o, end) };
  }
}

export function multipartRequestSize(body: MultipartRequestBody): number {
  switch (body.mpType) {
    case 'flow':
    case 'aggregate':
      return 32 + ((matchLength(body.match) + 7) & ~7);
    case 'port_stats':
    case 'queue':
    case 'group':
    case 'meter':
    case 'meter_config':
      return 8;
    case 'table_features':
      return tableFeaturesListSize(body.tables);
    case 'experimenter':
      return 8 + body.data.length;
    case 'unknown':
      return body.data.length;
    default:
      return 0;
  }
}

/** Writes a multipart request body at o; returns the end offset. */
export function writeMultipartRequest(b: Buffer, o: number, body: MultipartRequestBody): number {
  switch (body.mpType) {
    case 'flow':
    case 'aggregate':
      if (o + 32 > b.length) throw tooLong();
      zero(b, o, o + 32);
      b[o] = body.tableId;
      b.writeUInt32BE(body.outPort, o + 4);
      b.writeUInt32BE(body.outGroup, o + 8);
      writeU64(b, o + 16, body.cookie);
      writeU64(b, o + 24, body.cookieMask);
      return writeMatch(b, o + 32, body.match);
    case 'port_stats':
      b.writeUInt32BE(body.portNo, o);
      b.writeUInt32BE(0, o + 4);
      return o + 8;
    case 'queue':
      b.writeUInt32BE(body.portNo, o);
      b.writeUInt32BE(body.queueId, o + 4);
      return o + 8;
    case 'group':
      b.writeUInt32BE(body.groupId, o);
      b.writeUInt32BE(0, o + 4);
      return o + 8;
    case 'meter':
    case 'meter_config':
      b.writeUInt32BE(body.meterId, o);
      b.writeUInt32BE(0, o + 4);
      return o + 8;
    case 'table_features':
      return writeTableFeaturesList(b, o, body.tables);
    case 'experimenter':
      return writeExperimenterBody(b, o, body.experimenter, body.expType, body.data);
    case 'unknown':
      return copyInto(b, o, body.data);
    case 'desc':
    case 'table':
    case 'group_desc':
    case 'group_features':
    case 'meter_features':
    case 'port_desc':
      return o;
    default:
      throw new OfpEncodeError('OFP_ENCODE_UNKNOWN_TYPE', `unknown multipart type '${String((body as { mpType: unknown }).mpType)}'`);
  }
}

function copyInto(b: Buffer, o: number, data: Buffer): number {
  if (o + data.length > b.length) throw tooLong();
  data.copy(b, o);
  return o + data.length;
}

function writeExperimenterBody(b: Buffer, o: number, experimenter: number, expType: number, data: Buffer): number {
  if (o + 8 > b.length) throw tooLong();
  b.writeUInt32BE(experimenter, o);
  b.writeUInt32BE(expType, o + 4);
  return copyInto(b, o + 8, data);
}

// ---------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------

function decodeFlowStatsList(b: Buffer, o: number, end: number, base: number): FlowStats[] {
  const out: FlowStats[] = [];
  while (o < end) {
    if (o + MP_SIZES.flowStats + 8 > end) throw badTlv('ofp_flow_stats header', o - base);
    const len = b.readUInt16BE(o);
    if (len < 56 || (len & 7) !== 0 || o + len > end) throw badTlv(`ofp_flow_stats (len ${len})`, o - base);
    const recEnd = o + len;
    pad(b, o + 3, o + 4, 'ofp_flow_stats', base);
    pad(b, o + 20, o + 24, 'ofp_flow_stats', base);
    const [match, mend] = decodeMatch(b, o + 48, recEnd, base);
    out.push({
      tableId: b[o + 2]!,
      durationSec: b.readUInt32BE(o + 4),
      durationNsec: b.readUInt32BE(o + 8),
      priority: b.readUInt16BE(o + 12),
      idleTimeout: b.readUInt16BE(o + 14),
      hardTimeout: b.readUInt16BE(o + 16),
      flags: b.readUInt16BE(o + 18),
      cookie: b.readBigUInt64BE(o + 24),
      packetCount: b.readBigUInt64BE(o + 32),
      byteCount: b.readBigUInt64BE(o + 40),
      match,
      instructions: decodeInstructions(b, mend, recEnd, base),
    });
    o = recEnd;
  }
  return out;
}

/** Decodes a multipart reply body of wire type `t` from b[o, end). */
export function decodeMultipartReply(b: Buffer, t: number, o: number, end: number, base: number): MultipartReplyBody {
  switch (t) {
    case C.OFPMP_DESC:
      if (end - o !== MP_SIZES.desc) throw badMultipart(`ofp_desc must be ${MP_SIZES.desc} bytes`, o - base);
      return {
        mpType: 'desc',
        mfrDesc: readFixedString(b, o, 256, 'ofp_desc.mfr_desc', base),
        hwDesc: readFixedString(b, o + 256, 256, 'ofp_desc.hw_desc', base),
        swDesc: readFixedString(b, o + 512, 256, 'ofp_desc.sw_desc', base),
        serialNum: readFixedString(b, o + 768, 32, 'ofp_desc.serial_num', base),
        dpDesc: readFixedString(b, o + 800, 256, 'ofp_desc.dp_desc', base),
      };
    case C.OFPMP_FLOW:
      return { mpType: 'flow', stats: decodeFlowStatsList(b, o, end, base) };
    case C.OFPMP_AGGREGATE:
      if (end - o !== MP_SIZES.aggregateReply) throw badMultipart('ofp_aggregate_stats_reply must be 24 bytes', o - base);
      pad(b, o + 20, o + 24, 'ofp_aggregate_stats_reply', base);
      return { mpType: 'aggregate', packetCount: b.readBigUInt64BE(o), byteCount: b.readBigUInt64BE(o + 8), flowCount: b.readUInt32BE(o + 16) };
    case C.OFPMP_TABLE: {
      const n = fixedCount(o, end, MP_SIZES.tableStats, 'table stats', base);
      const stats = [];
      for (let i = 0, p = o; i < n; i++, p += MP_SIZES.tableStats) {
        pad(b, p + 1, p + 4, 'ofp_table_stats', base);
        stats.push({ tableId: b[p]!, activeCount: b.readUInt32BE(p + 4), lookupCount: b.readBigUInt64BE(p + 8), matchedCount: b.readBigUInt64BE(p + 16) });
      }
      return { mpType: 'table', stats };
    }
    case C.OFPMP_PORT_STATS: {
      const n = fixedCount(o, end, MP_SIZES.portStats, 'port stats', base);
      const stats = [];
      for (let i = 0, p = o; i < n; i++, p += MP_SIZES.portStats) {
        const c = (k: number): bigint => b.readBigUInt64BE(p + 8 + 8 * k);
        pad(b, p + 4, p + 8, 'ofp_port_stats', base);
        stats.push({
          portNo: b.readUInt32BE(p),
          rxPackets: c(0),
          txPackets: c(1),
          rxBytes: c(2),
          txBytes: c(3),
          rxDropped: c(4),
          txDropped: c(5),
          rxErrors: c(6),
          txErrors: c(7),
          rxFrameErr: c(8),
          rxOverErr: c(9),
          rxCrcErr: c(10),
          collisions: c(11),
          durationSec: b.readUInt32BE(p + 104),
          durationNsec: b.readUInt32BE(p + 108),
        });
      }
      return { mpType: 'port_stats', stats };
    }
    case C.OFPMP_QUEUE: {
      const n = fixedCount(o, end, MP_SIZES.queueStats, 'queue stats', base);
      const stats = [];
      for (let i = 0, p = o; i < n; i++, p += MP_SIZES.queueStats) {
        stats.push({
          portNo: b.readUInt32BE(p),
          queueId: b.readUInt32BE(p + 4),
          txBytes: b.readBigUInt64BE(p + 8),
          txPackets: b.readBigUInt64BE(p + 16),
          txErrors: b.readBigUInt64BE(p + 24),
          durationSec: b.readUInt32BE(p + 32),
          durationNsec: b.readUInt32BE(p + 36),
        });
      }
      return { mpType: 'queue', stats };
    }
    case C.OFPMP_GROUP: {
      const stats = [];
      let p = o;
      while (p < end) {
        need(p, end, MP_SIZES.groupStats, 'ofp_group_stats', base);
        const len = b.readUInt16BE(p);
        if (len < MP_SIZES.groupStats || (len - MP_SIZES.groupStats) % 16 !== 0 || p + len > end) {
          throw badTlv(`ofp_group_stats (len ${len})`, p - base);
        }
        pad(b, p + 2, p + 4, 'ofp_group_stats', base);
        pad(b, p + 12, p + 16, 'ofp_group_stats', base);
        const bucketStats = [];
        for (let q = p + MP_SIZES.groupStats; q < p + len; q += 16) {
          bucketStats.push({ packetCount: b.readBigUInt64BE(q), byteCount: b.readBigUInt64BE(q + 8) });
        }
        stats.push({
          groupId: b.readUInt32BE(p + 4),
          refCount: b.readUInt32BE(p + 8),
          packetCount: b.readBigUInt64BE(p + 16),
          byteCount: b.readBigUInt64BE(p + 24),
          durationSec: b.readUInt32BE(p + 32),
          durationNsec: b.readUInt32BE(p + 36),
          bucketStats,
        });
        p += len;
      }
      return { mpType: 'group', stats };
    }
    case C.OFPMP_GROUP_DESC: {
      const groups = [];
      let p = o;
      while (p < end) {
        need(p, end, MP_SIZES.groupDesc, 'ofp_group_desc', base);
        const len = b.readUInt16BE(p);
        if (len < MP_SIZES.groupDesc || p + len > end) throw badTlv(`ofp_group_desc (len ${len})`, p - base);
        pad(b, p + 3, p + 4, 'ofp_group_desc', base);
        groups.push({ groupType: b[p + 2]!, groupId: b.readUInt32BE(p + 4), buckets: decodeBuckets(b, p + 8, p + len, base) });
        p += len;
      }
      return { mpType: 'group_desc', groups };
    }
    case C.OFPMP_GROUP_FEATURES:
      if (end - o !== MP_SIZES.groupFeatures) throw badMultipart('ofp_group_features must be 40 bytes', o - base);
      return {
        mpType: 'group_features',
        types: b.readUInt32BE(o),
        capabilities: b.readUInt32BE(o + 4),
        maxGroups: [b.readUInt32BE(o + 8), b.readUInt32BE(o + 12), b.readUInt32BE(o + 16), b.readUInt32BE(o + 20)],
        actions: [b.readUInt32BE(o + 24), b.readUInt32BE(o + 28), b.readUInt32BE(o + 32), b.readUInt32BE(o + 36)],
      };
    case C.OFPMP_METER: {
      const stats = [];
      let p = o;
      while (p < end) {
        need(p, end, MP_SIZES.meterStats, 'ofp_meter_stats', base);
        const len = b.readUInt16BE(p + 4);
        if (len < MP_SIZES.meterStats || (len - MP_SIZES.meterStats) % 16 !== 0 || p + len > end) {
          throw badTlv(`ofp_meter_stats (len ${len})`, p - base);
        }
        pad(b, p + 6, p + 12, 'ofp_meter_stats', base);
        const bandStats = [];
        for (let q = p + MP_SIZES.meterStats; q < p + len; q += 16) {
          bandStats.push({ packetBandCount: b.readBigUInt64BE(q), byteBandCount: b.readBigUInt64BE(q + 8) });
        }
        stats.push({
          meterId: b.readUInt32BE(p),
          flowCount: b.readUInt32BE(p + 12),
          packetInCount: b.readBigUInt64BE(p + 16),
          byteInCount: b.readBigUInt64BE(p + 24),
          durationSec: b.readUInt32BE(p + 32),
          durationNsec: b.readUInt32BE(p + 36),
          bandStats,
        });
        p += len;
      }
      return { mpType: 'meter', stats };
    }
    case C.OFPMP_METER_CONFIG: {
      const configs = [];
      let p = o;
      while (p < end) {
        need(p, end, MP_SIZES.meterConfig, 'ofp_meter_config', base);
        const len = b.readUInt16BE(p);
        if (len < MP_SIZES.meterConfig || p + len > end) throw badTlv(`ofp_meter_config (len ${len})`, p - base);
        configs.push({ flags: b.readUInt16BE(p + 2), meterId: b.readUInt32BE(p + 4), bands: decodeBands(b, p + 8, p + len, base) });
        p += len;
      }
      return { mpType: 'meter_config', configs };
    }
    case C.OFPMP_METER_FEATURES:
      if (end - o !== MP_SIZES.meterFeatures) throw badMultipart('ofp_meter_features must be 16 bytes', o - base);
      pad(b, o + 14, o + 16, 'ofp_meter_features', base);
      return {
        mpType: 'meter_features',
        maxMeter: b.readUInt32BE(o),
        bandTypes: b.readUInt32BE(o + 4),
        capabilities: b.readUInt32BE(o + 8),
        maxBands: b[o + 12]!,
        maxColor: b[o + 13]!,
      };
    case C.OFPMP_TABLE_FEATURES:
      return { mpType: 'table_features', tables: decodeTableFeaturesList(b, o, end, base) };
    case C.OFPMP_PORT_DESC: {
      const n = fixedCount(o, end, OFP_PORT_SIZE, 'port desc', base);
      const ports = new Array(n);
      for (let i = 0; i < n; i++) ports[i] = decodePort(b, o + i * OFP_PORT_SIZE, base);
      return { mpType: 'port_desc', ports };
    }
    case C.OFPMP_EXPERIMENTER:
      need(o, end, 8, 'ofp_experimenter_multipart_header', base);
      return { mpType: 'experimenter', experimenter: b.readUInt32BE(o), expType: b.readUInt32BE(o + 4), data: b.subarray(o + 8, end) };
    default:
      return { mpType: 'unknown', mpTypeNum: t, data: b.subarray(o, end) };
  }
}

export function multipartReplySize(body: MultipartReplyBody): number {
  switch (body.mpType) {
    case 'desc':
      return MP_SIZES.desc;
    case 'flow': {
      let n = 0;
      for (const s of body.stats) {
        n += MP_SIZES.flowStats + ((matchLength(s.match) + 7) & ~7);
        for (const i of s.instructions) n += instructionSize(i);
      }
      return n;
    }
    case 'aggregate':
      return MP_SIZES.aggregateReply;
    case 'table':
      return body.stats.length * MP_SIZES.tableStats;
    case 'port_stats':
      return body.stats.length * MP_SIZES.portStats;
    case 'queue':
      return body.stats.length * MP_SIZES.queueStats;
    case 'group': {
      let n = 0;
      for (const s of body.stats) n += MP_SIZES.groupStats + 16 * s.bucketStats.length;
      return n;
    }
    case 'group_desc': {
      let n = 0;
      for (const g of body.groups) n += MP_SIZES.groupDesc + bucketsSize(g.buckets);
      return n;
    }
    case 'group_features':
      return MP_SIZES.groupFeatures;
    case 'meter': {
      let n = 0;
      for (const s of body.stats) n += MP_SIZES.meterStats + 16 * s.bandStats.length;
      return n;
    }
    case 'meter_config': {
      let n = 0;
      for (const c of body.configs) n += MP_SIZES.meterConfig + bandsSize(c.bands);
      return n;
    }
    case 'meter_features':
      return MP_SIZES.meterFeatures;
    case 'table_features':
      return tableFeaturesListSize(body.tables);
    case 'port_desc':
      return body.ports.length * OFP_PORT_SIZE;
    case 'experimenter':
      return 8 + body.data.length;
    case 'unknown':
      return body.data.length;
  }
}

/** Writes a multipart reply body at o; returns the end offset. */
export function writeMultipartReply(b: Buffer, o: number, body: MultipartReplyBody): number {
  const size = multipartReplySize(body);
  if (o + size > b.length) throw tooLong();
  switch (body.mpType) {
    case 'desc':
      writeFixedString(b, o, 256, body.mfrDesc, 'mfrDesc');
      writeFixedString(b, o + 256, 256, body.hwDesc, 'hwDesc');
      writeFixedString(b, o + 512, 256, body.swDesc, 'swDesc');
      writeFixedString(b, o + 768, 32, body.serialNum, 'serialNum');
      writeFixedString(b, o + 800, 256, body.dpDesc, 'dpDesc');
      return o + MP_SIZES.desc;
    case 'flow':
      for (const s of body.stats) {
        const start = o;
        zero(b, o, o + MP_SIZES.flowStats);
        b[o + 2] = s.tableId;
        b.writeUInt32BE(s.durationSec, o + 4);
        b.writeUInt32BE(s.durationNsec, o + 8);
        b.writeUInt16BE(s.priority, o + 12);
        b.writeUInt16BE(s.idleTimeout, o + 14);
        b.writeUInt16BE(s.hardTimeout, o + 16);
        b.writeUInt16BE(s.flags, o + 18);
        writeU64(b, o + 24, s.cookie);
        writeU64(b, o + 32, s.packetCount);
        writeU64(b, o + 40, s.byteCount);
        o = writeInstructions(b, writeMatch(b, o + MP_SIZES.flowStats, s.match), s.instructions);
        if (o - start > 0xffff) throw tooLong();
        b.writeUInt16BE(o - start, start);
      }
      return o;
    case 'aggregate':
      writeU64(b, o, body.packetCount);
      writeU64(b, o + 8, body.byteCount);
      b.writeUInt32BE(body.flowCount, o + 16);
      b.writeUInt32BE(0, o + 20);
      return o + MP_SIZES.aggregateReply;
    case 'table':
      for (const s of body.stats) {
        b.writeUInt32BE(0, o);
        b[o] = s.tableId;
        b.writeUInt32BE(s.activeCount, o + 4);
        writeU64(b, o + 8, s.lookupCount);
        writeU64(b, o + 16, s.matchedCount);
        o += MP_SIZES.tableStats;
      }
      return o;
    case 'port_stats':
      for (const s of body.stats) {
        b.writeUInt32BE(s.portNo, o);
        b.writeUInt32BE(0, o + 4);
        const cs = [s.rxPackets, s.txPackets, s.rxBytes, s.txBytes, s.rxDropped, s.txDropped, s.rxErrors, s.txErrors, s.rxFrameErr, s.rxOverErr, s.rxCrcErr, s.collisions];
        for (let k = 0; k < 12; k++) writeU64(b, o + 8 + 8 * k, cs[k]!);
        b.writeUInt32BE(s.durationSec, o + 104);
        b.writeUInt32BE(s.durationNsec, o + 108);
        o += MP_SIZES.portStats;
      }
      return o;
    case 'queue':
      for (const s of body.stats) {
        b.writeUInt32BE(s.portNo, o);
        b.writeUInt32BE(s.queueId, o + 4);
        writeU64(b, o + 8, s.txBytes);
        writeU64(b, o + 16, s.txPackets);
        writeU64(b, o + 24, s.txErrors);
        b.writeUInt32BE(s.durationSec, o + 32);
        b.writeUInt32BE(s.durationNsec, o + 36);
        o += MP_SIZES.queueStats;
      }
      return o;
    case 'group':
      for (const s of body.stats) {
        const len = MP_SIZES.groupStats + 16 * s.bucketStats.length;
        if (len > 0xffff) throw tooLong();
        b.writeUInt16BE(len, o);
        b.writeUInt16BE(0, o + 2);
        b.writeUInt32BE(s.groupId, o + 4);
        b.writeUInt32BE(s.refCount, o + 8);
        b.writeUInt32BE(0, o + 12);
        writeU64(b, o + 16, s.packetCount);
        writeU64(b, o + 24, s.byteCount);
        b.writeUInt32BE(s.durationSec, o + 32);
        b.writeUInt32BE(s.durationNsec, o + 36);
        let q = o + MP_SIZES.groupStats;
        for (const c of s.bucketStats) {
          writeU64(b, q, c.packetCount);
          writeU64(b, q + 8, c.byteCount);
          q += 16;
        }
        o = q;
      }
      return o;
    case 'group_desc':
      for (const g of body.groups) {
        const end = writeBuckets(b, o + MP_SIZES.groupDesc, g.buckets);
        if (end - o > 0xffff) throw tooLong();
        b.writeUInt16BE(end - o, o);
        b[o + 2] = g.groupType;
        b[o + 3] = 0;
        b.writeUInt32BE(g.groupId, o + 4);
        o = end;
      }
      return o;
    case 'group_features':
      b.writeUInt32BE(body.types, o);
      b.writeUInt32BE(body.capabilities, o + 4);
      for (let k = 0; k < 4; k++) {
        b.writeUInt32BE(body.maxGroups[k]!, o + 8 + 4 * k);
        b.writeUInt32BE(body.actions[k]!, o + 24 + 4 * k);
      }
      return o + MP_SIZES.groupFeatures;
    case 'meter':
      for (const s of body.stats) {
        const len = MP_SIZES.meterStats + 16 * s.bandStats.length;
        if (len > 0xffff) throw tooLong();
        b.writeUInt32BE(s.meterId, o);
        b.writeUInt16BE(len, o + 4);
        zero(b, o + 6, o + 12);
        b.writeUInt32BE(s.flowCount, o + 12);
        writeU64(b, o + 16, s.packetInCount);
        writeU64(b, o + 24, s.byteInCount);
        b.writeUInt32BE(s.durationSec, o + 32);
        b.writeUInt32BE(s.durationNsec, o + 36);
        let q = o + MP_SIZES.meterStats;
        for (const c of s.bandStats) {
          writeU64(b, q, c.packetBandCount);
          writeU64(b, q + 8, c.byteBandCount);
          q += 16;
        }
        o = q;
      }
      return o;
    case 'meter_config':
      for (const c of body.configs) {
        const end = writeBands(b, o + MP_SIZES.meterConfig, c.bands);
        if (end - o > 0xffff) throw tooLong();
        b.writeUInt16BE(end - o, o);
        b.writeUInt16BE(c.flags, o + 2);
        b.writeUInt32BE(c.meterId, o + 4);
        o = end;
      }
      return o;
    case 'meter_features':
      b.writeUInt32BE(body.maxMeter, o);
      b.writeUInt32BE(body.bandTypes, o + 4);
      b.writeUInt32BE(body.capabilities, o + 8);
      b[o + 12] = body.maxBands;
      b[o + 13] = body.maxColor;
      b.writeUInt16BE(0, o + 14);
      return o + MP_SIZES.meterFeatures;
    case 'table_features':
      return writeTableFeaturesList(b, o, body.tables);
    case 'port_desc':
      for (const p of body.ports) o = writePort(b, o, p);
      return o;
    case 'experimenter':
      return writeExperimenterBody(b, o, body.experimenter, body.expType, body.data);
    case 'unknown':
      return copyInto(b, o, body.data);
  }
}
