// OXM TLVs and ofp_match (OF 1.3.5 §7.2.3). One table (OXM_FIELDS) drives encode, decode
// and printing of all 40 OFPXMC_OPENFLOW_BASIC fields (STYLE.md practice 3).
import { OFPBMC_BAD_LEN, OFPET_BAD_MATCH, OFPMT_OXM, OFPXMC_EXPERIMENTER, OFPXMC_OPENFLOW_BASIC } from './constants.js';
import { badMatchLen, badMatchType, badOxmLen, badOxmMask, badWildcards, OfpEncodeError } from './errors.js';
import type { Match, Oxm, OxmFieldName, OxmId, OxmValueTypes } from './types.js';
import { pad, writeU64, zero } from './wire.js';

// ---------------------------------------------------------------------------
// Value codecs: each knows its byte width, how to read/write the typed value,
// and how to print it.
// ---------------------------------------------------------------------------

type ValueCodec<T> = {
  readonly width: number;
  read(b: Buffer, o: number): T;
  /** Writes v at o; throws OfpEncodeError if v is not a valid value of this width. */
  write(b: Buffer, o: number, v: T, what: string): void;
};

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function badValue(what: string, v: unknown): OfpEncodeError {
  return new OfpEncodeError('OFP_ENCODE_BAD_VALUE', `${what}: invalid value ${String(v)}`);
}

function uint(width: 1 | 2 | 3 | 4): ValueCodec<number> {
  const max = 2 ** (8 * width) - 1;
  return {
    width,
    // Width-specific reads: readUIntBE's generic width switch showed in the packet_in
    // profile (in_port is on every packet_in); this pays for the padding checks.
    read: width === 4 ? (b, o) => b.readUInt32BE(o) : width === 2 ? (b, o) => b.readUInt16BE(o) : width === 1 ? (b, o) => b[o]! : (b, o) => b.readUIntBE(o, width),
    write: (b, o, v, what) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw badValue(what, v);
      b.writeUIntBE(v, o, width);
    },
  };
}

const U64_MAX = (1n << 64n) - 1n;
const u64: ValueCodec<bigint> = {
  width: 8,
  read: (b, o) => b.readBigUInt64BE(o),
  write: (b, o, v, what) => {
    if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw badValue(what, v);
    writeU64(b, o, v);
  },
};

/** Formats 6 bytes at o as lowercase 'aa:bb:cc:dd:ee:ff'. */
export function formatMac(b: Buffer, o: number): string {
  return `${HEX[b[o]!]}:${HEX[b[o + 1]!]}:${HEX[b[o + 2]!]}:${HEX[b[o + 3]!]}:${HEX[b[o + 4]!]}:${HEX[b[o + 5]!]}`;
}

function hexNibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  const l = c | 0x20; // fold to lowercase
  if (l >= 97 && l <= 102) return l - 87; // a-f
  return -1;
}

/** Writes MAC text 'aa:bb:cc:dd:ee:ff' (either case) as 6 bytes at o. Hand-parsed: this is on the flow_mod hot path. */
export function writeMac(b: Buffer, o: number, v: string, what: string): void {
  if (typeof v !== 'string' || v.length !== 17) throw badValue(what, v);
  for (let i = 0; i < 6; i++) {
    const hi = hexNibble(v.charCodeAt(3 * i));
    const lo = hexNibble(v.charCodeAt(3 * i + 1));
    if (hi < 0 || lo < 0 || (i < 5 && v.charCodeAt(3 * i + 2) !== 58)) throw badValue(what, v);
    b[o + i] = (hi << 4) | lo;
  }
}

const mac: ValueCodec<string> = { width: 6, read: formatMac, write: writeMac };

const ipv4: ValueCodec<string> = {
  width: 4,
  read: (b, o) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`,
  write: (b, o, v, what) => {
    if (!writeIpv4(b, o, v)) throw badValue(what, v);
  },
};

/** Parses dotted-quad text (no leading zeros) into 4 bytes at o. Returns false if invalid. */
function writeIpv4(b: Buffer, o: number, v: unknown): boolean {
  if (typeof v !== 'string' || v.length < 7 || v.length > 15) return false;
  let part = 0;
  let n = 0;
  let digits = 0;
  for (let i = 0; i <= v.length; i++) {
    const c = i === v.length ? 46 : v.charCodeAt(i);
    if (c === 46) {
      // '.' or end: close a part
      if (digits === 0 || part > 3) return false;
      b[o + part++] = n;
      n = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && n === 0) return false; // leading zero
      n = n * 10 + (c - 48);
      if (++digits > 3 || n > 255) return false;
    } else return false;
  }
  return part === 4;
}

/** Formats 16 bytes at o as canonical RFC 5952 text (lowercase, longest zero run compressed, no mixed notation). */
export function formatIpv6(b: Buffer, o: number): string {
  const g: number[] = new Array<number>(8);
  for (let i = 0; i < 8; i++) g[i] = b.readUInt16BE(o + 2 * i);
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    g
      .slice(from, to)
      .map((x) => x.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** Parses IPv6 text (any RFC 4291 §2.2 form, incl. embedded IPv4) into 16 bytes at o. Returns false if invalid. */
export function writeIpv6(b: Buffer, o: number, v: unknown): boolean {
  if (typeof v !== 'string' || v.length < 2 || v.length > 45) return false;
  const halves = v.split('::');
  if (halves.length > 2) return false;
  const groups = (s: string, allowV4: boolean): number[] | null => {
    if (s === '') return [];
    const parts = s.split(':');
    const out: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (allowV4 && i === parts.length - 1 && p.includes('.')) {
        const t = Buffer.alloc(4);
        if (!writeIpv4(t, 0, p)) return null;
        out.push(t.readUInt16BE(0), t.readUInt16BE(2));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  let all: number[];
  if (halves.length === 1) {
    const g = groups(halves[0]!, true);
    if (g === null || g.length !== 8) return false;
    all = g;
  } else {
    const head = groups(halves[0]!, false);
    const tail = groups(halves[1]!, true);
    if (head === null || tail === null || head.length + tail.length > 7) return false;
    all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  for (let i = 0; i < 8; i++) b.writeUInt16BE(all[i]!, o + 2 * i);
  return true;
}

const ipv6: ValueCodec<string> = {
  width: 16,
  read: formatIpv6,
  write: (b, o, v, what) => {
    if (!writeIpv6(b, o, v)) throw badValue(what, v);
  },
};

// ---------------------------------------------------------------------------
// The field table (OF 1.3.5 §7.2.3.7, Table 12). Index = OXM field number.
// ---------------------------------------------------------------------------

/** One OFPXMC_OPENFLOW_BASIC field: its name, OXM field number, payload width, whether it may be masked, and its codec. */
export interface OxmFieldDef {
  readonly name: OxmFieldName;
  readonly field: number;
  readonly width: number;
  readonly maskable: boolean;
  readonly codec: ValueCodec<OxmValueTypes[OxmFieldName]>;
}

const u8 = uint(1);
const u16 = uint(2);
const u24 = uint(3);
const u32 = uint(4);

function def<K extends OxmFieldName>(name: K, codec: ValueCodec<OxmValueTypes[K]>, maskable: boolean): Omit<OxmFieldDef, 'field'> {
  return { name, width: codec.width, maskable, codec: codec as unknown as ValueCodec<OxmValueTypes[OxmFieldName]> };
}

/** All 40 OF1.3 basic fields, indexed by OXM field number. */
export const OXM_FIELDS: readonly OxmFieldDef[] = [
  def('in_port', u32, false),
  def('in_phy_port', u32, false),
  def('metadata', u64, true),
  def('eth_dst', mac, true),
  def('eth_src', mac, true),
  def('eth_type', u16, false),
  def('vlan_vid', u16, true),
  def('vlan_pcp', u8, false),
  def('ip_dscp', u8, false),
  def('ip_ecn', u8, false),
  def('ip_proto', u8, false),
  def('ipv4_src', ipv4, true),
  def('ipv4_dst', ipv4, true),
  def('tcp_src', u16, false),
  def('tcp_dst', u16, false),
  def('udp_src', u16, false),
  def('udp_dst', u16, false),
  def('sctp_src', u16, false),
  def('sctp_dst', u16, false),
  def('icmpv4_type', u8, false),
  def('icmpv4_code', u8, false),
  def('arp_op', u16, false),
  def('arp_spa', ipv4, true),
  def('arp_tpa', ipv4, true),
  def('arp_sha', mac, true),
  def('arp_tha', mac, true),
  def('ipv6_src', ipv6, true),
  def('ipv6_dst', ipv6, true),
  def('ipv6_flabel', u32, true),
  def('icmpv6_type', u8, false),
  def('icmpv6_code', u8, false),
  def('ipv6_nd_target', ipv6, false),
  def('ipv6_nd_sll', mac, false),
  def('ipv6_nd_tll', mac, false),
  def('mpls_label', u32, false),
  def('mpls_tc', u8, false),
  def('mpls_bos', u8, false),
  def('pbb_isid', u24, true),
  def('tunnel_id', u64, true),
  def('ipv6_exthdr', u16, true),
].map((d, field) => ({ ...d, field }));

/** Field definitions by name. */
export const OXM_BY_NAME: ReadonlyMap<string, OxmFieldDef> = new Map(OXM_FIELDS.map((d) => [d.name, d]));

/** Looks up a basic field by name; throws OfpEncodeError for an unknown name. */
// A null-prototype object: property lookup by name is faster than Map.get on the encode path.
const BY_NAME: Record<string, OxmFieldDef | undefined> = Object.assign(Object.create(null) as object, Object.fromEntries(OXM_FIELDS.map((d) => [d.name, d])));

export function oxmField(name: string): OxmFieldDef {
  const d = BY_NAME[name];
  if (d === undefined) throw new OfpEncodeError('OFP_ENCODE_UNKNOWN_TYPE', `unknown OXM field '${name}'`);
  return d;
}

// ---------------------------------------------------------------------------
// OXM TLV encode/decode
// ---------------------------------------------------------------------------

/** Decodes the OXM TLV at o (whose 4-byte header is known to fit before end). Returns the Oxm and the TLV end. */
function decodeOxmAt(b: Buffer, o: number, end: number, base: number): [Oxm, number] {
  const cls = b.readUInt16BE(o);
  const fh = b[o + 2]!;
  const len = b[o + 3]!;
  const next = o + 4 + len;
  if (next > end) throw badOxmLen(`OXM TLV length ${len} overruns its match`, o - base);
  const fieldNo = fh >> 1;
  const d = cls === OFPXMC_OPENFLOW_BASIC ? OXM_FIELDS[fieldNo] : undefined;
  if (d === undefined) return [{ field: 'unknown', raw: b.subarray(o, next) }, next];
  const hasMask = (fh & 1) === 1;
  const w = d.width;
  if (len !== (hasMask ? 2 * w : w)) {
    throw badOxmLen(`OXM ${d.name} has payload length ${len}, expected ${hasMask ? 2 * w : w}`, o - base);
  }
  const value = d.codec.read(b, o + 4);
  if (!hasMask) return [{ field: d.name, value } as Oxm, next];
  // OF 1.3.5 §7.2.3.5: only maskable fields may carry a mask (OFPBMC_BAD_MASK otherwise).
  if (!d.maskable) throw badOxmMask(`OXM ${d.name} is not maskable`, o - base);
  // §7.2.3.5: a value bit set where the mask is 0 is OFPBMC_BAD_WILDCARDS.
  for (let i = 0; i < w; i++) {
    if ((b[o + 4 + i]! & ~b[o + 4 + w + i]!) !== 0) {
      throw badWildcards(`OXM ${d.name} has value bits outside its mask`, o - base);
    }
  }
  return [{ field: d.name, value, mask: d.codec.read(b, o + 4 + w) } as Oxm, next];
}

/** Decodes one standalone OXM TLV occupying b[o, end) exactly (set_field payload may be padded: returns its end). */
export function decodeOxm(b: Buffer, o: number, end: number, base: number): [Oxm, number] {
  if (o + 4 > end) throw badOxmLen('OXM TLV header is truncated', o - base);
  return decodeOxmAt(b, o, end, base);
}

/** Encoded size of one OXM TLV (header included). */
export function oxmSize(x: Oxm): number {
  if (x.field === 'unknown') return x.raw.length;
  const d = oxmField(x.field);
  return 4 + (x.mask === undefined ? d.width : 2 * d.width);
}

/** Writes one OXM TLV at o; returns the end offset. */
export function writeOxm(b: Buffer, o: number, x: Oxm): number {
  if (x.field === 'unknown') {
    const raw = x.raw;
    // A raw TLV must be self-consistent or the peer would misparse everything after it.
    if (raw.length < 4 || raw[3]! + 4 !== raw.length) {
      throw new OfpEncodeError('OFP_ENCODE_BAD_RAW', `raw OXM of ${raw.length} bytes has header length ${raw[3]}`);
    }
    if (o + raw.length > b.length) throw tooLong();
    raw.copy(b, o);
    return o + raw.length;
  }
  const d = oxmField(x.field);
  const w = d.width;
  const masked = x.mask !== undefined;
  if (masked && !d.maskable) {
    throw new OfpEncodeError('OFP_ENCODE_BAD_MASK', `OXM field ${d.name} is not maskable (OF 1.3.5 §7.2.3.7)`);
  }
  b.writeUInt16BE(OFPXMC_OPENFLOW_BASIC, o);
  b[o + 2] = (d.field << 1) | (masked ? 1 : 0);
  b[o + 3] = masked ? 2 * w : w;
  d.codec.write(b, o + 4, x.value, d.name);
  if (masked) {
    d.codec.write(b, o + 4 + w, x.mask as OxmValueTypes[OxmFieldName], `${d.name} mask`);
    // §7.2.3.5: the switch rejects value bits outside the mask (OFPBMC_BAD_WILDCARDS); fail here instead.
    for (let i = 0; i < w; i++) {
      if ((b[o + 4 + i]! & ~b[o + 4 + w + i]!) !== 0) {
        throw new OfpEncodeError('OFP_ENCODE_BAD_MASK', `OXM ${d.name}: value has bits set outside the mask`);
      }
    }
  }
  return o + 4 + (masked ? 2 * w : w);
}

export function tooLong(): OfpEncodeError {
  return new OfpEncodeError('OFP_ENCODE_TOO_LONG', 'message does not fit in 65535 bytes');
}

// ---------------------------------------------------------------------------
// ofp_match (OF 1.3.5 §7.2.3.1): type, length (excluding padding), OXMs, pad to 8.
// ---------------------------------------------------------------------------

/** Decodes the ofp_match at o (must end by `end`). Returns the match and the offset after its padding. */
export function decodeMatch(b: Buffer, o: number, end: number, base: number): [Match, number] {
  if (o + 4 > end) throw badMatchLen('ofp_match header is truncated', o - base);
  const type = b.readUInt16BE(o);
  const len = b.readUInt16BE(o + 2);
  if (type !== OFPMT_OXM) throw badMatchType(type, o - base);
  if (len < 4) throw badMatchLen(`ofp_match.length ${len} < 4`, o - base);
  const padded = (len + 7) & ~7;
  if (o + padded > end) throw badMatchLen(`ofp_match.length ${len} overruns the message`, o - base);
  const stop = o + len;
  const out: Match = [];
  let p = o + 4;
  while (p < stop) {
    if (p + 4 > stop) throw badOxmLen('OXM TLV header overruns ofp_match', p - base);
    const [x, next] = decodeOxmAt(b, p, stop, base);
    out.push(x);
    p = next;
  }
  // Padding to 8 is zero (encode writes zeros); the OR loop is inlined: every packet_in has it.
  let x = 0;
  for (let i = stop; i < o + padded; i++) x |= b[i]!;
  if (x !== 0) pad(b, stop, o + padded, 'ofp_match', base, OFPET_BAD_MATCH, OFPBMC_BAD_LEN);
  return [out, o + padded];
}

/** Unpadded ofp_match.length for a match. */
export function matchLength(m: Match): number {
  let n = 4;
  for (let i = 0; i < m.length; i++) n += oxmSize(m[i]!);
  return n;
}

/** Writes an ofp_match with its padding at o; returns the end offset (a multiple of 8 from o). */
export function writeMatch(b: Buffer, o: number, m: Match): number {
  let p = o + 4;
  for (let i = 0; i < m.length; i++) p = writeOxm(b, p, m[i]!);
  const len = p - o;
  if (len > 0xffff) throw tooLong();
  b.writeUInt16BE(OFPMT_OXM, o);
  b.writeUInt16BE(len, o + 2);
  const end = o + ((len + 7) & ~7);
  if (end > b.length) throw tooLong();
  zero(b, p, end);
  return end;
}

// ---------------------------------------------------------------------------
// OXM ids (table features): 4-byte headers, or 8 bytes with an experimenter id.
// ---------------------------------------------------------------------------

/** Decodes the OXM header at o as an id. Returns the id and its size. */
export function decodeOxmId(b: Buffer, o: number, end: number, base: number): [OxmId, number] {
  if (o + 4 > end) throw badOxmLen('OXM id is truncated', o - base);
  const cls = b.readUInt16BE(o);
  const fh = b[o + 2]!;
  const size = cls === OFPXMC_EXPERIMENTER ? 8 : 4;
  if (o + size > end) throw badOxmLen('experimenter OXM id is truncated', o - base);
  const d = cls === OFPXMC_OPENFLOW_BASIC ? OXM_FIELDS[fh >> 1] : undefined;
  const hasMask = (fh & 1) === 1;
  if (d === undefined) return [{ field: 'unknown', raw: b.subarray(o, o + size) }, size];
  const len = b[o + 3]!;
  return [len === (hasMask ? 2 * d.width : d.width) ? { field: d.name, hasMask } : { field: d.name, hasMask, length: len }, size];
}

export function oxmIdSize(id: OxmId): number {
  return id.field === 'unknown' ? id.raw.length : 4;
}

export function writeOxmId(b: Buffer, o: number, id: OxmId): number {
  if (id.field === 'unknown') {
    if (o + id.raw.length > b.length) throw tooLong();
    id.raw.copy(b, o);
    return o + id.raw.length;
  }
  const d = oxmField(id.field);
  b.writeUInt16BE(OFPXMC_OPENFLOW_BASIC, o);
  b[o + 2] = (d.field << 1) | (id.hasMask ? 1 : 0);
  const len = id.length ?? (id.hasMask ? 2 * d.width : d.width);
  if (!Number.isInteger(len) || len < 0 || len > 0xff) throw badValue('OXM id length', len);
  b[o + 3] = len;
  return o + 4;
}

// ---------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------

function valueText(v: unknown): string {
  return typeof v === 'bigint' ? `0x${v.toString(16)}` : typeof v === 'number' ? String(v) : String(v);
}

/** Human-readable form of one OXM, e.g. 'eth_dst=02:00:00:00:00:01' or 'ipv4_src=10.0.0.0/255.0.0.0'. */
export function formatOxm(x: Oxm): string {
  if (x.field === 'unknown') return `oxm(${x.raw.toString('hex')})`;
  const m = x.mask === undefined ? '' : `/${valueText(x.mask)}`;
  const v = x.field === 'vlan_vid' || x.field === 'eth_type' ? `0x${(x.value as number).toString(16)}` : valueText(x.value);
  return `${x.field}=${v}${m}`;
}

/** Human-readable form of a match: comma-separated OXMs, or '*' for match-all. */
export function formatMatch(m: Match): string {
  return m.length === 0 ? '*' : m.map(formatOxm).join(',');
}
