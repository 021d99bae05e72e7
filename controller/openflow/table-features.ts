// Table features (OF 1.3.5 §7.3.5.5): the body of OFPMP_TABLE_FEATURES requests and
// replies. Each ofp_table_features holds a list of properties (padded to 8), whose
// instruction, action and OXM ids are TLVs of their own. Split out of multipart.ts, which
// calls in here and re-exports propLength/tableFeaturesListSize for existing callers.
import * as C from './constants.js';
import { badTlv, OfpEncodeError, truncated } from './errors.js';
import { decodeOxmId, oxmIdSize, tooLong, writeOxmId } from './oxm.js';
import { readFixedString, writeFixedString } from './structs.js';
import type { FeatureTlvId, OxmId, TableFeatureProp, TableFeatures } from './types.js';
import { pad, writeU64, zero } from './wire.js';

/** sizeof(struct ofp_table_features) without properties. */
export const OFP_TABLE_FEATURES_SIZE = 64;

const PROP_NAMES: Record<number, TableFeatureProp['type']> = {
  [C.OFPTFPT_INSTRUCTIONS]: 'instructions',
  [C.OFPTFPT_INSTRUCTIONS_MISS]: 'instructions_miss',
  [C.OFPTFPT_NEXT_TABLES]: 'next_tables',
  [C.OFPTFPT_NEXT_TABLES_MISS]: 'next_tables_miss',
  [C.OFPTFPT_WRITE_ACTIONS]: 'write_actions',
  [C.OFPTFPT_WRITE_ACTIONS_MISS]: 'write_actions_miss',
  [C.OFPTFPT_APPLY_ACTIONS]: 'apply_actions',
  [C.OFPTFPT_APPLY_ACTIONS_MISS]: 'apply_actions_miss',
  [C.OFPTFPT_MATCH]: 'match',
  [C.OFPTFPT_WILDCARDS]: 'wildcards',
  [C.OFPTFPT_WRITE_SETFIELD]: 'write_setfield',
  [C.OFPTFPT_WRITE_SETFIELD_MISS]: 'write_setfield_miss',
  [C.OFPTFPT_APPLY_SETFIELD]: 'apply_setfield',
  [C.OFPTFPT_APPLY_SETFIELD_MISS]: 'apply_setfield_miss',
  [C.OFPTFPT_EXPERIMENTER]: 'experimenter',
  [C.OFPTFPT_EXPERIMENTER_MISS]: 'experimenter_miss',
};
const PROP_NUMBERS: Record<string, number> = Object.fromEntries(Object.entries(PROP_NAMES).map(([k, v]) => [v, Number(k)]));

/** Decodes a list of ofp_table_features (a table_features request or reply body) from b[o, end). */
export function decodeTableFeaturesList(b: Buffer, o: number, end: number, base: number): TableFeatures[] {
  const out: TableFeatures[] = [];
  while (o < end) {
    if (o + OFP_TABLE_FEATURES_SIZE > end) throw truncated('ofp_table_features', o - base);
    const len = b.readUInt16BE(o);
    if (len < OFP_TABLE_FEATURES_SIZE || (len & 7) !== 0 || o + len > end) throw badTlv(`ofp_table_features (len ${len})`, o - base);
    pad(b, o + 3, o + 8, 'ofp_table_features', base);
    out.push({
      tableId: b[o + 2]!,
      name: readFixedString(b, o + 8, 32, 'ofp_table_features.name', base),
      metadataMatch: b.readBigUInt64BE(o + 40),
      metadataWrite: b.readBigUInt64BE(o + 48),
      config: b.readUInt32BE(o + 56),
      maxEntries: b.readUInt32BE(o + 60),
      properties: decodeTableFeatureProps(b, o + OFP_TABLE_FEATURES_SIZE, o + len, base),
    });
    o += len;
  }
  return out;
}

/** Decodes instruction/action ids: type, len (>= 4), experimenter id when len >= 8 and type is 0xffff. */
function decodeTlvIds(b: Buffer, o: number, end: number, base: number): FeatureTlvId[] {
  const out: FeatureTlvId[] = [];
  while (o < end) {
    if (o + 4 > end) throw badTlv('table feature id', o - base);
    const type = b.readUInt16BE(o);
    const len = b.readUInt16BE(o + 2);
    if (len < 4 || o + len > end) throw badTlv(`table feature id (len ${len})`, o - base);
    const id: FeatureTlvId = { type };
    let dataFrom = o + 4;
    if (type === 0xffff && len >= 8) {
      id.experimenter = b.readUInt32BE(o + 4);
      dataFrom = o + 8;
    }
    if (o + len > dataFrom) id.data = b.subarray(dataFrom, o + len);
    out.push(id);
    o += len;
  }
  return out;
}

function tlvIdSize(id: FeatureTlvId): number {
  return 4 + (id.experimenter === undefined ? 0 : 4) + (id.data === undefined ? 0 : id.data.length);
}

function writeTlvId(b: Buffer, o: number, id: FeatureTlvId): number {
  const len = tlvIdSize(id);
  if (o + len > b.length) throw tooLong();
  b.writeUInt16BE(id.type, o);
  b.writeUInt16BE(len, o + 2);
  let p = o + 4;
  if (id.experimenter !== undefined) {
    b.writeUInt32BE(id.experimenter, p);
    p += 4;
  }
  if (id.data !== undefined) id.data.copy(b, p);
  return o + len;
}

function decodeTableFeatureProps(b: Buffer, o: number, end: number, base: number): TableFeatureProp[] {
  const out: TableFeatureProp[] = [];
  while (o < end) {
    if (o + 4 > end) throw badTlv('table feature property header', o - base);
    const t = b.readUInt16BE(o);
    const len = b.readUInt16BE(o + 2);
    // §7.3.5.5.2: length excludes the padding to 8 that follows each property.
    const padded = (len + 7) & ~7;
    if (len < 4 || o + padded > end) throw badTlv(`table feature property ${t} (len ${len})`, o - base);
    const p = o + 4;
    const pend = o + len;
    const name = PROP_NAMES[t];
    switch (name) {
      case 'instructions':
      case 'instructions_miss':
        out.push({ type: name, instructionIds: decodeTlvIds(b, p, pend, base) });
        break;
      case 'next_tables':
      case 'next_tables_miss':
        out.push({ type: name, tableIds: Array.from(b.subarray(p, pend)) });
        break;
      case 'write_actions':
      case 'write_actions_miss':
      case 'apply_actions':
      case 'apply_actions_miss':
        out.push({ type: name, actionIds: decodeTlvIds(b, p, pend, base) });
        break;
      case 'match':
      case 'wildcards':
      case 'write_setfield':
      case 'write_setfield_miss':
      case 'apply_setfield':
      case 'apply_setfield_miss': {
        const oxmIds: OxmId[] = [];
        for (let q = p; q < pend; ) {
          const [id, size] = decodeOxmId(b, q, pend, base);
          oxmIds.push(id);
          q += size;
        }
        out.push({ type: name, oxmIds });
        break;
      }
      case 'experimenter':
      case 'experimenter_miss':
        if (len < 12) throw badTlv('experimenter table feature property', o - base);
        out.push({ type: name, experimenter: b.readUInt32BE(p), expType: b.readUInt32BE(p + 4), data: b.subarray(p + 8, pend) });
        break;
      default:
        out.push({ type: 'unknown', raw: b.subarray(o, pend) });
    }
    pad(b, pend, o + padded, `table feature property ${t}`, base);
    o += padded;
  }
  return out;
}

/** Unpadded length of a table feature property. */
export function propLength(x: TableFeatureProp): number {
  switch (x.type) {
    case 'instructions':
    case 'instructions_miss':
      return 4 + x.instructionIds.reduce((n, id) => n + tlvIdSize(id), 0);
    case 'next_tables':
    case 'next_tables_miss':
      return 4 + x.tableIds.length;
    case 'write_actions':
    case 'write_actions_miss':
    case 'apply_actions':
    case 'apply_actions_miss':
      return 4 + x.actionIds.reduce((n, id) => n + tlvIdSize(id), 0);
    case 'experimenter':
    case 'experimenter_miss':
      return 12 + x.data.length;
    case 'unknown':
      return x.raw.length;
    default:
      return 4 + x.oxmIds.reduce((n, id) => n + oxmIdSize(id), 0);
  }
}

/** Encoded size of a list of ofp_table_features. */
export function tableFeaturesListSize(list: readonly TableFeatures[]): number {
  let n = 0;
  for (const t of list) {
    n += OFP_TABLE_FEATURES_SIZE;
    for (const x of t.properties) n += (propLength(x) + 7) & ~7;
  }
  return n;
}

/** Writes a list of ofp_table_features at o; returns the end offset. */
export function writeTableFeaturesList(b: Buffer, o: number, list: readonly TableFeatures[]): number {
  for (const t of list) {
    const start = o;
    if (o + OFP_TABLE_FEATURES_SIZE > b.length) throw tooLong();
    zero(b, o, o + 8);
    b[o + 2] = t.tableId;
    writeFixedString(b, o + 8, 32, t.name, 'table features name');
    writeU64(b, o + 40, t.metadataMatch);
    writeU64(b, o + 48, t.metadataWrite);
    b.writeUInt32BE(t.config, o + 56);
    b.writeUInt32BE(t.maxEntries, o + 60);
    o += OFP_TABLE_FEATURES_SIZE;
    for (const x of t.properties) {
      const len = propLength(x);
      const padded = (len + 7) & ~7;
      if (o + padded > b.length) throw tooLong();
      if (x.type === 'unknown') {
        if (x.raw.length < 4 || x.raw.readUInt16BE(2) !== x.raw.length) {
          throw new OfpEncodeError('OFP_ENCODE_BAD_RAW', 'raw table feature property length mismatch');
        }
        x.raw.copy(b, o);
      } else {
        const num = PROP_NUMBERS[x.type];
        if (num === undefined) throw new OfpEncodeError('OFP_ENCODE_UNKNOWN_TYPE', `unknown table feature property '${x.type}'`);
        b.writeUInt16BE(num, o);
        b.writeUInt16BE(len, o + 2);
        let p = o + 4;
        switch (x.type) {
          case 'instructions':
          case 'instructions_miss':
            for (const id of x.instructionIds) p = writeTlvId(b, p, id);
            break;
          case 'next_tables':
          case 'next_tables_miss':
            for (const id of x.tableIds) b[p++] = id;
            break;
          case 'write_actions':
          case 'write_actions_miss':
          case 'apply_actions':
          case 'apply_actions_miss':
            for (const id of x.actionIds) p = writeTlvId(b, p, id);
            break;
          case 'experimenter':
          case 'experimenter_miss':
            b.writeUInt32BE(x.experimenter, p);
            b.writeUInt32BE(x.expType, p + 4);
            x.data.copy(b, p + 8);
            break;
          default:
            for (const id of x.oxmIds) p = writeOxmId(b, p, id);
        }
      }
      zero(b, o + len, o + padded);
      o += padded;
    }
    if (o - start > 0xffff) throw tooLong();
    b.writeUInt16BE(o - start, start);
  }
  return o;
}
