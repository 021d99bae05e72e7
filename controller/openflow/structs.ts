// Shared fixed and TLV structures used by several messages: ofp_port, buckets, meter
// bands, queue properties, hello elements, fixed-width strings. Decode and write side by side.
import { isUtf8 } from 'node:buffer';
import * as C from './constants.js';
import { badString, badTlv, OfpEncodeError, truncated } from './errors.js';
import { actionsSize, decodeActions, writeActions, writeRawTlv } from './actions.js';
import { formatMac, tooLong, writeMac } from './oxm.js';
import type { Bucket, HelloElement, MeterBand, OfpPort, PacketQueue, QueueProp } from './types.js';
import { isZero, pad, zero } from './wire.js';

/** sizeof(struct ofp_port), OF 1.3.5 §7.2.1. */
export const OFP_PORT_SIZE = 64;

/**
 * Reads a fixed-size string field (OF 1.3.5 §7.2.1 port name, §7.3.5.1 ofp_desc, §7.3.5.5
 * table name): UTF-8 text, a terminating NUL, then only NULs, which is exactly what
 * writeFixedString() writes. Anything else (no NUL, bytes after it, invalid UTF-8, which
 * would come back as U+FFFD) is OFP_BAD_STRING: decode() must not return a string that
 * encode() would write differently (test/unit/openflow-props/agreement.test.ts).
 */
export function readFixedString(b: Buffer, o: number, size: number, what: string, base = 0): string {
  let e = o;
  let high = 0; // OR of the text bytes: < 0x80 means ASCII, valid UTF-8 without asking
  const stop = o + size;
  while (e < stop && b[e] !== 0) high |= b[e++]!;
  if (e === stop) throw badString(`${what} has no terminating NUL in its ${size} bytes`, o - base);
  if (!isZero(b, e + 1, stop)) {
    let i = e + 1;
    while (b[i] === 0) i++;
    throw badString(`${what} has a non-zero byte after its terminating NUL`, i - base);
  }
  if (high >= 0x80 && !isUtf8(b.subarray(o, e))) throw badString(`${what} is not valid UTF-8`, o - base);
  return b.toString('utf8', o, e);
}

/** Writes s NUL-padded into a `size`-byte field; it must leave room for the terminating NUL. */
export function writeFixedString(b: Buffer, o: number, size: number, s: string, what: string): void {
  if (typeof s !== 'string') throw new OfpEncodeError('OFP_ENCODE_BAD_VALUE', `${what} must be a string`);
  const n = Buffer.byteLength(s, 'utf8');
  if (n >= size) throw new OfpEncodeError('OFP_ENCODE_BAD_VALUE', `${what} is ${n} bytes; at most ${size - 1} fit`);
  zero(b, o, o + size);
  b.write(s, o, 'utf8');
}

export function decodePort(b: Buffer, o: number, base = 0): OfpPort {
  pad(b, o + 4, o + 8, 'ofp_port', base);
  pad(b, o + 14, o + 16, 'ofp_port', base);
  return {
    portNo: b.readUInt32BE(o),
    hwAddr: formatMac(b, o + 8),
    name: readFixedString(b, o + 16, 16, 'ofp_port.name', base),
    config: b.readUInt32BE(o + 32),
    state: b.readUInt32BE(o + 36),
    curr: b.readUInt32BE(o + 40),
    advertised: b.readUInt32BE(o + 44),
    supported: b.readUInt32BE(o + 48),
    peer: b.readUInt32BE(o + 52),
    currSpeed: b.readUInt32BE(o + 56),
    maxSpeed: b.readUInt32BE(o + 60),
  };
}

export function writePort(b: Buffer, o: number, p: OfpPort): number {
  if (o + OFP_PORT_SIZE > b.length) throw tooLong();
  b.writeUInt32BE(p.portNo, o);
  b.writeUInt32BE(0, o + 4);
  writeMac(b, o + 8, p.hwAddr, 'port.hwAddr');
  b.writeUInt16BE(0, o + 14);
  writeFixedString(b, o + 16, 16, p.name, 'port.name');
  b.writeUInt32BE(p.config, o + 32);
  b.writeUInt32BE(p.state, o + 36);
  b.writeUInt32BE(p.curr, o + 40);
  b.writeUInt32BE(p.advertised, o + 44);
  b.writeUInt32BE(p.supported, o + 48);
  b.writeUInt32BE(p.peer, o + 52);
  b.writeUInt32BE(p.currSpeed, o + 56);
  b.writeUInt32BE(p.maxSpeed, o + 60);
  return o + OFP_PORT_SIZE;
}

// --- ofp_bucket (§7.3.4.2): len, weight, watch_port, watch_group, pad[4], actions ---

export function decodeBuckets(b: Buffer, o: number, end: number, base: number): Bucket[] {
  const out: Bucket[] = [];
  while (o < end) {
    if (o + 16 > end) throw badTlv('ofp_bucket header', o - base);
    const len = b.readUInt16BE(o);
    if (len < 16 || (len & 7) !== 0 || o + len > end) throw badTlv(`ofp_bucket (len ${len})`, o - base);
    pad(b, o + 12, o + 16, 'ofp_bucket', base);
    out.push({
      weight: b.readUInt16BE(o + 2),
      watchPort: b.readUInt32BE(o + 4),
      watchGroup: b.readUInt32BE(o + 8),
      actions: decodeActions(b, o + 16, o + len, base),
    });
    o += len;
  }
  return out;
}

export function bucketsSize(list: readonly Bucket[]): number {
  let n = 0;
  for (const k of list) n += 16 + actionsSize(k.actions);
  return n;
}

export function writeBuckets(b: Buffer, o: number, list: readonly Bucket[]): number {
  for (const k of list) {
    if (o + 16 > b.length) throw tooLong();
    const end = writeActions(b, o + 16, k.actions);
    if (end - o > 0xffff) throw tooLong();
    b.writeUInt16BE(end - o, o);
    b.writeUInt16BE(k.weight, o + 2);
    b.writeUInt32BE(k.watchPort, o + 4);
    b.writeUInt32BE(k.watchGroup, o + 8);
    b.writeUInt32BE(0, o + 12);
    o = end;
  }
  return o;
}

// --- meter bands (§7.3.4.5): type, len, rate, burst_size, then 4 type-specific bytes ---

export function decodeBands(b: Buffer, o: number, end: number, base: number): MeterBand[] {
  const out: MeterBand[] = [];
  while (o < end) {
    if (o + 16 > end) throw badTlv('meter band header', o - base);
    const type = b.readUInt16BE(o);
    const len = b.readUInt16BE(o + 2);
    if (len < 16 || (len & 7) !== 0 || o + len > end) throw badTlv(`meter band (len ${len})`, o - base);
    const rate = b.readUInt32BE(o + 4);
    const burstSize = b.readUInt32BE(o + 8);
    if (type === C.OFPMBT_DROP && len === 16) {
      pad(b, o + 12, o + 16, 'ofp_meter_band_drop', base);
      out.push({ type: 'drop', rate, burstSize });
    } else if (type === C.OFPMBT_DSCP_REMARK && len === 16) {
      pad(b, o + 13, o + 16, 'ofp_meter_band_dscp_remark', base);
      out.push({ type: 'dscp_remark', rate, burstSize, precLevel: b[o + 12]! });
    } else if (type === C.OFPMBT_EXPERIMENTER) {
      out.push({ type: 'experimenter', rate, burstSize, experimenter: b.readUInt32BE(o + 12), data: b.subarray(o + 16, o + len) });
    } else out.push({ type: 'unknown', raw: b.subarray(o, o + len) });
    o += len;
  }
  return out;
}

export function bandSize(x: MeterBand): number {
  return x.type === 'unknown' ? x.raw.length : x.type === 'experimenter' ? 16 + x.data.length : 16;
}

export function bandsSize(list: readonly MeterBand[]): number {
  let n = 0;
  for (const x of list) n += bandSize(x);
  return n;
}

export function writeBands(b: Buffer, o: number, list: readonly MeterBand[]): number {
  for (const x of list) {
    if (x.type === 'unknown') {
      o = writeRawTlv(b, o, x.raw, 'meter band');
      continue;
    }
    const len = bandSize(x);
    if ((len & 7) !== 0) throw new OfpEncodeError('OFP_ENCODE_BAD_RAW', `meter band of ${len} bytes is not 8-aligned`);
    if (o + len > b.length) throw tooLong();
    const type = x.type === 'drop' ? C.OFPMBT_DROP : x.type === 'dscp_remark' ? C.OFPMBT_DSCP_REMARK : C.OFPMBT_EXPERIMENTER;
    b.writeUInt16BE(type, o);
    b.writeUInt16BE(len, o + 2);
    b.writeUInt32BE(x.rate, o + 4);
    b.writeUInt32BE(x.burstSize, o + 8);
    b.writeUInt32BE(0, o + 12);
    if (x.type === 'dscp_remark') b.writeUInt8(x.precLevel, o + 12);
    else if (x.type === 'experimenter') {
      b.writeUInt32BE(x.experimenter, o + 12);
      x.data.copy(b, o + 16);
    }
    o += len;
  }
  return o;
}

// --- ofp_packet_queue and queue properties (§7.2.2) ---

export function decodeQueues(b: Buffer, o: number, end: number, base: number): PacketQueue[] {
  const out: PacketQueue[] = [];
  while (o < end) {
    if (o + 16 > end) throw badTlv('ofp_packet_queue header', o - base);
    const len = b.readUInt16BE(o + 8);
    if (len < 16 || o + len > end) throw badTlv(`ofp_packet_queue (len ${len})`, o - base);
    pad(b, o + 10, o + 16, 'ofp_packet_queue', base);
    const properties: QueueProp[] = [];
    let p = o + 16;
    const qend = o + len;
    while (p < qend) {
      if (p + 8 > qend) throw badTlv('queue property header', p - base);
      const type = b.readUInt16BE(p);
      const plen = b.readUInt16BE(p + 2);
      if (plen < 8 || p + plen > qend) throw badTlv(`queue property (len ${plen})`, p - base);
      if ((type === C.OFPQT_MIN_RATE || type === C.OFPQT_MAX_RATE) && plen === 16) {
        pad(b, p + 4, p + 8, 'queue rate property', base);
        pad(b, p + 10, p + 16, 'queue rate property', base);
        properties.push({ type: type === C.OFPQT_MIN_RATE ? 'min_rate' : 'max_rate', rate: b.readUInt16BE(p + 8) });
      } else if (type === C.OFPQT_EXPERIMENTER && plen >= 16) {
        pad(b, p + 4, p + 8, 'queue experimenter property', base);
        pad(b, p + 12, p + 16, 'queue experimenter property', base);
        properties.push({ type: 'experimenter', experimenter: b.readUInt32BE(p + 8), data: b.subarray(p + 16, p + plen) });
      } else properties.push({ type: 'unknown', raw: b.subarray(p, p + plen) });
      p += plen;
    }
    out.push({ queueId: b.readUInt32BE(o), port: b.readUInt32BE(o + 4), properties });
    o += len;
  }
  return out;
}

function queuePropSize(x: QueueProp): number {
  return x.type === 'unknown' ? x.raw.length : x.type === 'experimenter' ? 16 + x.data.length : 16;
}

export function queuesSize(list: readonly PacketQueue[]): number {
  let n = 0;
  for (const q of list) {
    n += 16;
    for (const x of q.properties) n += queuePropSize(x);
  }
  return n;
}

export function writeQueues(b: Buffer, o: number, list: readonly PacketQueue[]): number {
  for (const q of list) {
    const start = o;
    if (o + 16 > b.length) throw tooLong();
    b.writeUInt32BE(q.queueId, o);
    b.writeUInt32BE(q.port, o + 4);
    zero(b, o + 8, o + 16);
    o += 16;
    for (const x of q.properties) {
      const len = queuePropSize(x);
      if (o + len > b.length) throw tooLong();
      if (x.type === 'unknown') {
        if (x.raw.length < 4 || x.raw.readUInt16BE(2) !== x.raw.length) {
          throw new OfpEncodeError('OFP_ENCODE_BAD_RAW', 'raw queue property length mismatch');
        }
        x.raw.copy(b, o);
      } else {
        b.writeUInt16BE(x.type === 'min_rate' ? C.OFPQT_MIN_RATE : x.type === 'max_rate' ? C.OFPQT_MAX_RATE : C.OFPQT_EXPERIMENTER, o);
        b.writeUInt16BE(len, o + 2);
        zero(b, o + 4, o + 16);
        if (x.type === 'experimenter') {
          b.writeUInt32BE(x.experimenter, o + 8);
          x.data.copy(b, o + 16);
        } else b.writeUInt16BE(x.rate, o + 8);
      }
      o += len;
    }
    if (o - start > 0xffff) throw tooLong();
    b.writeUInt16BE(o - start, start + 8);
  }
  return o;
}

// --- hello elements (§7.5.1): type, length (excl. padding), body, padded to 8 ---

export function decodeHelloElements(b: Buffer, o: number, end: number, base: number): HelloElement[] {
  const out: HelloElement[] = [];
  while (o < end) {
    if (o + 4 > end) throw badTlv('hello element header', o - base);
    const type = b.readUInt16BE(o);
    const len = b.readUInt16BE(o + 2);
    if (len < 4 || o + len > end) throw badTlv(`hello element (len ${len})`, o - base);
    // §7.5.1: each element is padded to 8; encode() writes that padding, so it must be here.
    const padded = (len + 7) & ~7;
    if (o + padded > end) throw badTlv(`hello element padding (len ${len}) overruns the message`, o - base);
    pad(b, o + len, o + padded, 'hello element', base);
    if (type === C.OFPHET_VERSIONBITMAP && isCanonicalBitmap(b, o, len)) {
      const versions: number[] = [];
      for (let w = 0; w < (len - 4) / 4; w++) {
        const word = b.readUInt32BE(o + 4 + 4 * w);
        for (let bit = 0; bit < 32; bit++) if ((word >>> bit) & 1) versions.push(32 * w + bit);
      }
      out.push({ type: 'versionbitmap', versions });
    } else out.push({ type: 'unknown', raw: b.subarray(o, o + len) });
    o += padded;
  }
  return out;
}

/**
 * A version bitmap as encode() writes it: 1 to 8 words (versions 0..255, ofp_header.version
 * is one byte) and no trailing zero word except a lone one. Any other bitmap is kept raw
 * (byte for byte) rather than turned into a list that would be written back differently.
 */
function isCanonicalBitmap(b: Buffer, o: number, len: number): boolean {
  if ((len & 3) !== 0 || len < 8 || len > 4 + 4 * 8) return false;
  return len === 8 || b.readUInt32BE(o + len - 4) !== 0;
}

function helloElementLen(e: HelloElement): number {
  if (e.type === 'unknown') return e.raw.length;
  const max = e.versions.length === 0 ? 0 : Math.max(...e.versions);
  return 4 + 4 * (Math.floor(max / 32) + 1);
}

export function helloElementsSize(list: readonly HelloElement[]): number {
  let n = 0;
  for (const e of list) n += (helloElementLen(e) + 7) & ~7;
  return n;
}

export function writeHelloElements(b: Buffer, o: number, list: readonly HelloElement[]): number {
  for (const e of list) {
    const len = helloElementLen(e);
    const padded = (len + 7) & ~7;
    if (o + padded > b.length) throw tooLong();
    if (e.type === 'unknown') {
      if (e.raw.length < 4 || e.raw.readUInt16BE(2) !== e.raw.length) {
        throw new OfpEncodeError('OFP_ENCODE_BAD_RAW', 'raw hello element length mismatch');
      }
      e.raw.copy(b, o);
    } else {
      b.writeUInt16BE(C.OFPHET_VERSIONBITMAP, o);
      b.writeUInt16BE(len, o + 2);
      zero(b, o + 4, o + len);
      for (const v of e.versions) {
        if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new OfpEncodeError('OFP_ENCODE_BAD_VALUE', `bad version ${v}`);
        const at = o + 4 + 4 * Math.floor(v / 32);
        b.writeUInt32BE((b.readUInt32BE(at) | (1 << v % 32)) >>> 0, at);
      }
    }
    zero(b, o + len, o + padded);
    o += padded;
  }
  return o;
}

/** Checks that a fixed-size body has at least `need` bytes after the header. */
export function need(end: number, o: number, n: number, what: string): void {
  if (o + n > end) throw truncated(what, o);
}
