/**
 * `seamless ofp decode|encode [FILE|-]`: converts between binary OpenFlow 1.3 message
 * streams and their lossless JSON form (the codec's toJSON/fromJSON: 64-bit values as
 * decimal strings, bytes as hex). A thin shell over controller/openflow.
 *
 *   decode: a stream of one or more binary messages -> one JSON object per line
 *   encode: JSON objects (one per line, or one JSON array) -> the binary stream
 *
 * Malformed input: `seamless: ofp decode: FILE: offset N: what` (encode: `line N` or
 * `element N`) on stderr, exit status 1, no stack trace. Usage errors exit 2.
 * A reader that closes the pipe early (`| head -1`) ends the command quietly with
 * status 0, as for any Unix filter (docs/decisions.md says why not 141).
 */
import { createReadStream } from 'node:fs';
import { decode, encode, fromJSON, OfpDecodeError, OfpEncodeError, toJSON } from '../openflow/index.js';
import type { Command } from './dispatch.js';

export const USAGE = 'usage: seamless ofp decode [FILE|-]\n       seamless ofp encode [FILE|-]\n';

const HELP = `${USAGE}
decode  reads binary OpenFlow 1.3 messages (a stream, e.g. a capture's TCP payload) and
        prints one JSON object per message per line (bigint as decimal string, bytes as hex)
encode  reads JSON messages (one object per line, or a JSON array) and writes them as binary
FILE defaults to - (standard input); output goes to standard output.
`;

/** Input that cannot be converted; `where` is "offset N", "line N" or "element N". */
export class OfpInputError extends Error {
  readonly code = 'ERR_OFP_INPUT';
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(message);
  }
}

function inputStream(file: string): NodeJS.ReadableStream {
  return file === '-' ? process.stdin : createReadStream(file);
}

async function readInput(file: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of inputStream(file)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Standard output with backpressure, for a Unix filter: write() waits for
 * 'drain' when the stream's buffer is full, and a reader that went away
 * (EPIPE: `| head -1`) ends the command quietly instead of an unhandled
 * 'error' event and a stack trace. `closed` tells the producer to stop.
 */
export class FilterOutput {
  #closed = false;
  #error: Error | undefined;
  readonly #wake = new Set<() => void>();

  constructor(private readonly out: NodeJS.WritableStream) {
    out.on('error', (e: NodeJS.ErrnoException) => {
      // EPIPE: the reader closed the pipe. Anything else is a real failure, reported once.
      if (e.code !== 'EPIPE') this.#error ??= e;
      this.#closed = true;
      for (const w of this.#wake) w();
    });
  }

  /** True once the reader is gone (or output failed): stop producing. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The write error other than EPIPE, if one happened. */
  get error(): Error | undefined {
    return this.#error;
  }

  async write(data: string | Buffer): Promise<void> {
    if (this.#closed || data.length === 0) return;
    if (this.out.write(data)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.#wake.delete(done);
        resolve();
      };
      this.out.once('drain', done);
      this.#wake.add(done);
    });
  }
}

/**
 * Decodes a binary stream chunk by chunk, yielding the JSON lines of the
 * messages each chunk completes (a read chunk is at most 64 KiB, so a batch is
 * bounded); at most one partial frame (< 64 KiB, the
 * ofp_header.length limit) is carried between chunks, so memory does not grow
 * with the input. Frames are walked by ofp_header.length (OF 1.3.5 §7.1), with
 * absolute offsets for errors; throws OfpInputError at the first malformed
 * message, after yielding the ones before it.
 */
export async function* decodeChunks(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string[]> {
  let carry: Buffer = Buffer.alloc(0);
  let base = 0; // stream offset of carry[0]
  for await (const c of chunks) {
    const chunk = typeof c === 'string' ? Buffer.from(c) : c;
    const buf = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    let o = 0;
    const lines: string[] = [];
    try {
      while (buf.length - o >= 8) {
        const len = buf.readUInt16BE(o + 2);
        if (len < 8) throw new OfpInputError(`offset ${base + o + 2}`, `ofp_header.length ${len} < 8`);
        if (buf.length - o < len) break;
        lines.push(JSON.stringify(toJSON(decodeAt(buf.subarray(o, o + len), base + o))));
        o += len;
      }
    } catch (e) {
      // The messages before a bad one are valid output: hand them over, then fail.
      if (lines.length > 0) yield lines;
      throw e;
    }
    if (lines.length > 0) yield lines;
    // Copy the tail: a view would pin the whole chunk until the frame completes.
    carry = Buffer.from(buf.subarray(o));
    base += o;
  }
  if (carry.length > 0 && carry.length < 8) throw new OfpInputError(`offset ${base}`, `truncated ofp_header: ${carry.length} of 8 bytes`);
  if (carry.length > 0) throw new OfpInputError(`offset ${base}`, `truncated message: ${carry.length} of ${carry.readUInt16BE(2)} bytes`);
}

/** Decodes every message of a whole buffer (tests, small inputs); see decodeChunks. */
export async function decodeStream(input: Buffer, onLine: (line: string) => void): Promise<number> {
  let count = 0;
  for await (const batch of decodeChunks([input] as unknown as AsyncIterable<Buffer>)) {
    for (const line of batch) onLine(line);
    count += batch.length;
  }
  return count;
}

function decodeAt(frame: Buffer, offset: number) {
  try {
    return decode(frame);
  } catch (e) {
    if (e instanceof OfpDecodeError) throw new OfpInputError(`offset ${offset + e.offset}`, `${e.message} (${e.code})`);
    throw e;
  }
}

/** Parses JSON lines or a JSON array into one binary stream. Throws OfpInputError. */
export function encodeText(text: string): Buffer {
  return Buffer.concat([...encodeMessages(text)]);
}

/** Parses JSON lines or a JSON array, yielding each encoded message in order. Throws OfpInputError. */
export function* encodeMessages(text: string): Generator<Buffer> {
  const items: { where: string; value: unknown }[] = [];
  const t = text.trim();
  if (t.startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(t);
    } catch (e) {
      throw new OfpInputError('line 1', `not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(arr)) throw new OfpInputError('line 1', 'expected a JSON array of messages');
    arr.forEach((value, i) => items.push({ where: `element ${i}`, value }));
  } else {
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        items.push({ where: `line ${i + 1}`, value: JSON.parse(line) });
      } catch (e) {
        throw new OfpInputError(`line ${i + 1}`, `not valid JSON: ${(e as Error).message}`);
      }
    });
  }
  for (const { where, value } of items) yield encodeOne(where, value);
}

function encodeOne(where: string, value: unknown): Buffer {
  try {
    return encode(fromJSON(value));
  } catch (e) {
    if (e instanceof OfpEncodeError) throw new OfpInputError(where, `${e.message} (${e.code})`);
    // encode() met a shape fromJSON does not check (e.g. a missing list): still the input's fault.
    if (e instanceof TypeError || e instanceof RangeError) throw new OfpInputError(where, `not a valid message: ${e.message}`);
    throw e;
  }
}

const ofp: Command = async (argv) => {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if ((sub !== 'decode' && sub !== 'encode') || rest.length > 1 || (rest[0]?.startsWith('-') && rest[0] !== '-')) {
    process.stderr.write(`seamless: ofp: ${sub === undefined ? 'missing subcommand' : `bad arguments: ${argv.join(' ')}`}\n${USAGE}`);
    return 2;
  }
  const file = rest[0] ?? '-';
  const name = file === '-' ? 'stdin' : file;
  const fail = (msg: string): number => {
    process.stderr.write(`seamless: ofp ${sub}: ${name}: ${msg}\n`);
    return 1;
  };
  const out = new FilterOutput(process.stdout);
  try {
    if (sub === 'decode') {
      // One write per input chunk: output keeps pace with input, and waits for a slow reader.
      for await (const batch of decodeChunks(inputStream(file) as AsyncIterable<Buffer>)) {
        await out.write(`${batch.join('\n')}\n`);
        if (out.closed) break; // the reader is gone: stop reading (leaving the loop destroys the input stream)
      }
    } else {
      const input = await readInput(file);
      // All messages are encoded before any is written: a bad line leaves no partial binary stream.
      for (const msg of [...encodeMessages(input.toString('utf8'))]) {
        await out.write(msg);
        if (out.closed) break;
      }
    }
  } catch (e) {
    if (e instanceof OfpInputError) return fail(`${e.where}: ${e.message}`);
    const err = e as NodeJS.ErrnoException;
    // Unreadable input (missing file, a directory): one line naming it.
    if (typeof err.code === 'string' && err.syscall !== undefined) return fail(err.message);
    throw e;
  }
  if (out.error !== undefined) {
    process.stderr.write(`seamless: ofp ${sub}: cannot write the output: ${out.error.message}\n`);
    return 1;
  }
  // A reader that closed early (EPIPE) is a normal end for a filter: status 0.
  return 0;
};

export default ofp;
