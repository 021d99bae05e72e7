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
 */
import { readFile } from 'node:fs/promises';
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

async function readInput(file: string): Promise<Buffer> {
  if (file !== '-') return readFile(file);
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function write(data: string | Buffer): Promise<void> {
  if (data.length === 0) return;
  await new Promise<void>((resolve, reject) => process.stdout.write(data, (e) => (e ? reject(e) : resolve())));
}

/**
 * Decodes every message of `input` (a whole stream), passing each one's JSON line to
 * `onLine`. Throws OfpInputError at the first malformed message, after the ones before it.
 * The stream is walked by ofp_header.length (OF 1.3.5 §7.1) rather than through Framer,
 * because a file is already whole and each error needs its absolute offset.
 */
export function decodeStream(input: Buffer, onLine: (line: string) => void): number {
  let o = 0;
  let count = 0;
  while (o < input.length) {
    if (input.length - o < 8) throw new OfpInputError(`offset ${o}`, `truncated ofp_header: ${input.length - o} of 8 bytes`);
    const len = input.readUInt16BE(o + 2);
    if (len < 8) throw new OfpInputError(`offset ${o + 2}`, `ofp_header.length ${len} < 8`);
    if (o + len > input.length) throw new OfpInputError(`offset ${o}`, `truncated message: ${input.length - o} of ${len} bytes`);
    onLine(JSON.stringify(toJSON(decodeAt(input.subarray(o, o + len), o))));
    o += len;
    count++;
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

/** Parses JSON lines or a JSON array into encoded messages. Throws OfpInputError. */
export function encodeText(text: string): Buffer {
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
  return Buffer.concat(
    items.map(({ where, value }) => {
      try {
        return encode(fromJSON(value));
      } catch (e) {
        if (e instanceof OfpEncodeError) throw new OfpInputError(where, `${e.message} (${e.code})`);
        // encode() met a shape fromJSON does not check (e.g. a missing list): still the input's fault.
        if (e instanceof TypeError || e instanceof RangeError) throw new OfpInputError(where, `not a valid message: ${e.message}`);
        throw e;
      }
    }),
  );
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
  let input: Buffer;
  try {
    input = await readInput(file);
  } catch (e) {
    return fail((e as Error).message);
  }
  try {
    if (sub === 'decode') {
      const lines: string[] = [];
      let err: unknown = null;
      try {
        decodeStream(input, (l) => lines.push(l));
      } catch (e) {
        err = e;
      }
      // Messages before a bad one are still printed: they are valid output.
      await write(lines.length === 0 ? '' : `${lines.join('\n')}\n`);
      if (err !== null) throw err;
    } else {
      await write(encodeText(input.toString('utf8')));
    }
  } catch (e) {
    if (e instanceof OfpInputError) return fail(`${e.where}: ${e.message}`);
    throw e;
  }
  return 0;
};

export default ofp;
