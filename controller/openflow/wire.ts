// Small Buffer helpers for the hot paths, faster than the generic Buffer methods they replace.

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
