// Splits a TCP byte stream into whole OpenFlow frames. The 8-byte header and its
// length are checked before anything is buffered, so a peer cannot make us hold more
// than maxFrame bytes (STYLE.md practice 1; undici-style limits before buffering).
import { OFP_HEADER_LEN, OFP_MAX_MESSAGE_LEN, OFPBRC_BAD_LEN, OFPET_BAD_REQUEST } from './constants.js';
import { OfpDecodeError } from './errors.js';

export interface FramerOptions {
  /** Largest accepted ofp_header.length; default (and maximum) 65535. */
  maxFrame?: number;
}

/**
 * Stateful frame splitter: push() any chunks, get back whole frames.
 * Frames from a chunk that holds them entirely are subarray views of that chunk (no copy);
 * only a frame that straddles chunks is assembled into its own buffer.
 */
export class Framer {
  readonly maxFrame: number;
  /** Bytes of an incomplete frame (or of an incomplete header) carried over from earlier chunks. */
  private pending: Buffer | null = null;
  /** How many bytes of `pending` are filled. */
  private filled = 0;
  /** Total length of the frame being assembled, or 0 while its header is incomplete. */
  private want = 0;
  /** Bytes consumed from the stream so far, for error offsets. */
  private streamOffset = 0;
  private failed: OfpDecodeError | null = null;

  constructor(opts: FramerOptions = {}) {
    const max = opts.maxFrame ?? OFP_MAX_MESSAGE_LEN;
    if (!Number.isInteger(max) || max < OFP_HEADER_LEN || max > OFP_MAX_MESSAGE_LEN) {
      throw new RangeError(`maxFrame must be an integer in [8, 65535], got ${max}`);
    }
    this.maxFrame = max;
  }

  /** Bytes buffered waiting for the rest of a frame. */
  get buffered(): number {
    return this.filled;
  }

  /**
   * Feeds a chunk; returns the frames it completes (possibly none). Throws a fatal
   * OfpDecodeError on a bad header; the framer then stays failed (the stream is lost).
   */
  push(chunk: Buffer): Buffer[] {
    if (this.failed !== null) throw this.failed;
    const out: Buffer[] = [];
    let o = 0;
    const n = chunk.length;
    if (this.filled > 0) {
      o = this.continuePending(chunk, out);
      if (this.filled > 0) return out; // chunk consumed without completing the frame
    }
    // Fast path: whole frames inside this chunk are returned as views.
    while (n - o >= OFP_HEADER_LEN) {
      const len = chunk.readUInt16BE(o + 2);
      this.check(len);
      if (n - o < len) break;
      out.push(chunk.subarray(o, o + len));
      o += len;
      this.streamOffset += len;
    }
    if (o < n) this.startPending(chunk, o);
    return out;
  }

  private check(len: number): void {
    // OF 1.3.5 §7.1: length includes the header, so anything below 8 breaks framing.
    if (len < OFP_HEADER_LEN) this.fail(`ofp_header.length ${len} < 8`, 'OFP_BAD_LENGTH');
    if (len > this.maxFrame) this.fail(`ofp_header.length ${len} exceeds the ${this.maxFrame}-byte limit`, 'OFP_FRAME_TOO_LARGE');
  }

  private fail(message: string, code: 'OFP_BAD_LENGTH' | 'OFP_FRAME_TOO_LARGE'): never {
    this.failed = new OfpDecodeError(code, message, OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, this.streamOffset + 2, true);
    this.pending = null;
    this.filled = 0;
    throw this.failed;
  }

  /** Starts buffering a partial frame (or partial header) from chunk[o..]. */
  private startPending(chunk: Buffer, o: number): void {
    const rest = chunk.length - o;
    if (rest >= OFP_HEADER_LEN) {
      this.want = chunk.readUInt16BE(o + 2); // already checked by the loop
      this.pending = Buffer.allocUnsafe(this.want);
    } else {
      this.want = 0;
      this.pending = Buffer.allocUnsafe(OFP_HEADER_LEN);
    }
    chunk.copy(this.pending, 0, o);
    this.filled = rest;
  }

  /** Appends to the pending frame; returns the chunk offset where unconsumed bytes start. */
  private continuePending(chunk: Buffer, out: Buffer[]): number {
    let o = 0;
    let pending = this.pending!;
    if (this.want === 0) {
      // Complete the header first so its length is checked before buffering the body.
      const take = Math.min(OFP_HEADER_LEN - this.filled, chunk.length);
      chunk.copy(pending, this.filled, 0, take);
      this.filled += take;
      o = take;
      if (this.filled < OFP_HEADER_LEN) return o;
      const len = pending.readUInt16BE(2);
      this.check(len);
      this.want = len;
      const full = Buffer.allocUnsafe(len);
      pending.copy(full, 0, 0, OFP_HEADER_LEN);
      this.pending = pending = full;
    }
    const take = Math.min(this.want - this.filled, chunk.length - o);
    chunk.copy(pending, this.filled, o, o + take);
    this.filled += take;
    o += take;
    if (this.filled === this.want) {
      out.push(pending);
      this.streamOffset += this.want;
      this.pending = null;
      this.filled = 0;
      this.want = 0;
    }
    return o;
  }
}
