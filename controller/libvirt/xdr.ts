/**
 * XDR (RFC 4506) encoding and decoding: just the types libvirt's remote protocol uses.
 * No I/O. Every item is a multiple of 4 bytes, big-endian; strings and opaques are
 * padded with zeros to a 4-byte boundary.
 */

/** Malformed or truncated XDR, or a value that cannot be encoded. */
export class XdrError extends Error {
  readonly code = 'XDR_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'XdrError';
  }
}

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/** Appends XDR items to a growable buffer. */
export class XdrWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initial = 256) {
    this.buf = Buffer.alloc(initial);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Signed 32-bit `int`. */
  int(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new XdrError(`int out of range: ${v}`);
    this.reserve(4);
    this.buf.writeInt32BE(v, this.len);
    this.len += 4;
    return this;
  }

  /** `unsigned int`. */
  uint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new XdrError(`unsigned int out of range: ${v}`);
    this.reserve(4);
    this.buf.writeUInt32BE(v, this.len);
    this.len += 4;
    return this;
  }

  /** `hyper` (signed 64-bit). */
  hyper(v: bigint): this {
    this.reserve(8);
    this.buf.writeBigInt64BE(v, this.len);
    this.len += 8;
    return this;
  }

  /** `unsigned hyper`. */
  uhyper(v: bigint): this {
    this.reserve(8);
    this.buf.writeBigUInt64BE(v, this.len);
    this.len += 8;
    return this;
  }

  bool(v: boolean): this {
    return this.int(v ? 1 : 0);
  }

  /** Fixed-length `opaque x[n]`: exactly `n` bytes, padded. */
  fixedOpaque(b: Uint8Array, n: number): this {
    if (b.length !== n) throw new XdrError(`fixed opaque must be ${n} bytes, got ${b.length}`);
    this.reserve(n + pad4(n));
    this.buf.set(b, this.len);
    this.len += n;
    this.buf.fill(0, this.len, this.len + pad4(n));
    this.len += pad4(n);
    return this;
  }

  /** Variable-length `opaque x<max>`: length word then bytes, padded. */
  opaque(b: Uint8Array, max = 0xffffffff): this {
    if (b.length > max) throw new XdrError(`opaque of ${b.length} bytes exceeds its limit ${max}`);
    this.uint(b.length);
    return this.fixedOpaque(b, b.length);
  }

  /** `string x<max>` as UTF-8. */
  string(s: string, max = 0xffffffff): this {
    const b = Buffer.from(s, 'utf8');
    if (b.length > max) throw new XdrError(`string of ${b.length} bytes exceeds its limit ${max}`);
    return this.opaque(b);
  }

  /** Optional data (`T *x`): a bool, then the value when present. */
  optional<T>(v: T | null | undefined, enc: (w: this, v: T) => void): this {
    if (v === null || v === undefined) return this.bool(false);
    this.bool(true);
    enc(this, v);
    return this;
  }

  get length(): number {
    return this.len;
  }

  /** The bytes written so far (a copy). */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

/** Reads XDR items from a buffer; every read checks that the bytes are there. */
export class XdrReader {
  private pos: number;

  constructor(private readonly buf: Buffer, offset = 0) {
    this.pos = offset;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      throw new XdrError(`truncated XDR: ${what} needs ${n} bytes at offset ${this.pos}, ${this.buf.length - this.pos} left`);
    }
  }

  int(): number {
    this.need(4, 'int');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint(): number {
    this.need(4, 'unsigned int');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  hyper(): bigint {
    this.need(8, 'hyper');
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  uhyper(): bigint {
    this.need(8, 'unsigned hyper');
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  bool(): boolean {
    const v = this.int();
    if (v !== 0 && v !== 1) throw new XdrError(`bool must be 0 or 1, got ${v}`);
    return v === 1;
  }

  fixedOpaque(n: number): Buffer {
    this.need(n + pad4(n), `opaque[${n}]`);
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n + pad4(n);
    return b;
  }

  opaque(max = 0xffffffff): Buffer {
    const n = this.uint();
    // Check the limit before touching the data (a hostile length must not allocate).
    if (n > max) throw new XdrError(`opaque length ${n} exceeds its limit ${max}`);
    return this.fixedOpaque(n);
  }

  string(max = 0xffffffff): string {
    return this.opaque(max).toString('utf8');
  }

  optional<T>(dec: (r: this) => T): T | null {
    return this.bool() ? dec(this) : null;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** Throws unless every byte was consumed (a reply with trailing bytes is malformed). */
  end(what: string): void {
    if (this.pos !== this.buf.length) throw new XdrError(`${what}: ${this.buf.length - this.pos} unexpected trailing bytes`);
  }
}
