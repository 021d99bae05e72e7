// Small Buffer helpers for the hot paths, faster than the generic Buffer methods they replace.
import { badPadding } from './errors.js';

const U32 = 0x1_0000_0000n;

/**
 * Writes a uint64 big-endian. Buffer.writeBigUInt64BE is slow on V8 and the common values
 * (cookies, counters) fit in 32 bits, so split into two 32-bit writes.
 */
export function writeU64(b: Buffer, o: number, v: bigint): void {
  if (typeof v === 'bigint' && v >= 0n && v < U32) {
    b.writeUInt32BE(0, o);
    b.writeUInt32BE(Number(v), o + 4);
  } else {
    b.writeBigUInt64BE(v, o); // type- and range-checks for us on the rare path
  }
}

/** Zeroes b[from, to): a plain loop beats Buffer.fill for the few padding bytes we write. */
export function zero(b: Buffer, from: number, to: number): void {
  for (let i = from; i < to; i++) b[i] = 0;
}

/**
 * Throws OFP_BAD_PADDING unless b[from, to) is all zero. encode() writes every pad byte as
 * zero, so decode() accepting anything else would make encode(decode(x)) != x (OF 1.3.5
 * §7: every `pad` field is zero-filled). `base` is the message start, for the error offset.
 */
export function pad(b: Buffer, from: number, to: number, what: string, base: number, errType?: number, errCode?: number): void {
  // OR the bytes without branching (this runs on every packet_in); find the offending byte
  // only on the error path.
  let x = 0;
  for (let i = from; i < to; i++) x |= b[i]!;
  if (x !== 0) padError(b, from, what, base, errType, errCode);
}

function padError(b: Buffer, from: number, what: string, base: number, errType?: number, errCode?: number): never {
  let i = from;
  while (b[i] === 0) i++;
  throw badPadding(what, i - base, errType, errCode);
}

const ZEROS = Buffer.alloc(256);

/** True when b[from, to) is all zero; long runs (ofp_desc strings) are one native compare. */
export function isZero(b: Buffer, from: number, to: number): boolean {
  if (to - from > 16 && to - from <= ZEROS.length) return b.compare(ZEROS, 0, to - from, from, to) === 0;
  let x = 0;
  for (let i = from; i < to; i++) x |= b[i]!;
  return x === 0;
}
