// Fuzz test of decode() and Framer: random and mutated frames (bit flips, byte stores,
// header and TLV length edits, truncation, extension) built from the Ryu vectors and from
// encodings of random model messages. The rules (STYLE.md practice 1 and 4):
//  - decode() returns a message or throws OfpDecodeError with a known code; nothing else;
//  - what decode() accepts, encode() writes back byte for byte, and decoding that again
//    gives the same message;
//  - Framer only ever throws OfpDecodeError, never returns a frame over maxFrame, and never
//    buffers more than maxFrame bytes;
//  - the whole run is bounded in count and time.
// Crash inputs found by this fuzzer are pinned in FIXTURES below.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import test from 'ava';
import fc from 'fast-check';
import { decode, encode, Framer, OfpDecodeError, OfpEncodeError } from '../../../controller/openflow/index.js';
import { modelArbitraries } from '../../support/osken/arbitraries.js';
import { firstDifference } from '../../support/osken/compare.js';
import { loadVectors } from '../../support/vectors.js';
import { Rng } from '../../../controller/replay/rng.js';

// Retained memory is only measurable after a collection; expose gc() without a CLI flag.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const env = process.env['OFP_FUZZ_SEED'];
const SEED = env === undefined || env === '' ? 20261122 : Number(env);
const INPUTS = 20_000;

const DECODE_CODES = new Set([
  'OFP_BAD_LENGTH',
  'OFP_FRAME_TOO_LARGE',
  'OFP_BAD_VERSION',
  'OFP_TRUNCATED',
  'OFP_BAD_TLV_LENGTH',
  'OFP_BAD_ACTION_LENGTH',
  'OFP_BAD_INSTRUCTION_LENGTH',
  'OFP_BAD_MATCH_LENGTH',
  'OFP_BAD_MATCH_TYPE',
  'OFP_BAD_OXM_LENGTH',
  'OFP_BAD_OXM_MASK',
  'OFP_BAD_WILDCARDS',
  'OFP_BAD_MULTIPART',
  'OFP_BAD_SET_MASK',
  'OFP_BAD_PADDING',
  'OFP_BAD_STRING',
]);

/** Small deterministic PRNG (mulberry32) so a seed reproduces the whole run. */
/** The project's seeded generator (controller/replay/rng.ts, mulberry32) as a function. */
function rng(seed: number): () => number {
  const g = new Rng(seed);
  return () => g.next();
}

const INTERESTING_U16 = [0, 1, 2, 3, 4, 7, 8, 9, 12, 15, 16, 17, 23, 24, 31, 32, 48, 56, 64, 0x7fff, 0xfff8, 0xffff];

function mutate(src: Buffer, r: () => number): Buffer {
  const int = (n: number): number => Math.floor(r() * n);
  let b = Buffer.from(src);
  const rounds = 1 + int(3);
  for (let k = 0; k < rounds; k++) {
    const op = int(8);
    if (op === 0 && b.length > 0) {
      const i = int(b.length);
      b[i] = b[i]! ^ (1 << int(8)); // bit flip
    } else if (op === 1 && b.length > 0) {
      b[int(b.length)] = int(256); // byte store
    } else if (op === 2 && b.length >= 4) {
      // ofp_header.length edit: framing must catch every value.
      b.writeUInt16BE(r() < 0.5 ? INTERESTING_U16[int(INTERESTING_U16.length)]! : int(0x10000), 2);
    } else if (op === 3 && b.length >= 10) {
      // A TLV/struct length edit somewhere in the body (any 16-bit field at an even offset).
      const at = 8 + 2 * int((b.length - 9) / 2);
      const cur = b.readUInt16BE(at);
      const v = r() < 0.5 ? INTERESTING_U16[int(INTERESTING_U16.length)]! : (cur + int(17) - 8) & 0xffff;
      b.writeUInt16BE(v, at);
    } else if (op === 4 && b.length > 0) {
      // Truncate, keeping ofp_header.length consistent so the decoder goes past framing.
      b = b.subarray(0, int(b.length + 1));
      if (b.length >= 4) b.writeUInt16BE(b.length, 2);
    } else if (op === 5) {
      // Extend with random bytes, header length consistent.
      const extra = Buffer.from(Array.from({ length: 1 + int(24) }, () => int(256)));
      b = Buffer.concat([b, extra]);
      if (b.length >= 4 && b.length <= 0xffff) b.writeUInt16BE(b.length, 2);
    } else if (op === 6 && b.length >= 2) {
      b[1] = int(35); // another message type on the same body
    } else if (b.length >= 12) {
      // An 8-byte-aligned OXM-like header edit: class/field/len bytes in a match.
      const at = 8 + 4 * int((b.length - 12) / 4);
      b[at + 3] = INTERESTING_U16[int(INTERESTING_U16.length)]! & 0xff;
    }
  }
  return b;
}

/** Checks one input; returns a failure description or null. */
function checkDecode(input: Buffer): string | null {
  let m;
  try {
    m = decode(input);
  } catch (e) {
    if (!(e instanceof OfpDecodeError)) return `decode threw ${(e as Error)?.name}: ${(e as Error)?.message}`;
    if (!DECODE_CODES.has(e.code)) return `decode threw unknown code ${e.code}`;
    if (!Number.isInteger(e.errType) || !Number.isInteger(e.errCode)) return `OfpDecodeError ${e.code} without OFPT_ERROR type/code`;
    return null;
  }
  let again: Buffer;
  try {
    again = encode(m);
  } catch (e) {
    if (e instanceof OfpEncodeError) return `decode accepted what encode refuses (${e.code}: ${e.message})`;
    return `encode threw ${(e as Error)?.name}: ${(e as Error)?.message}`;
  }
  // Decode and encode agree byte for byte (test/unit/openflow-props/agreement.test.ts).
  if (!again.equals(input)) return `encode(decode(x)) != x: ${again.toString('hex')}`;
  let m2;
  try {
    m2 = decode(again);
  } catch (e) {
    return `decode refuses encode(decode(x)) = ${again.toString('hex')}: ${(e as Error).message}`;
  }
  const diff = firstDifference(m2, m);
  return diff === null ? null : `decode(encode(decode(x))) differs: ${diff}`;
}

function corpus(): Buffer[] {
  const { message } = modelArbitraries('full');
  const random = fc.sample(message, { seed: SEED, numRuns: 300 }).map((m) => encode(m));
  return [...loadVectors().map((v) => v.bytes), ...random];
}

/**
 * Inputs the fuzzer once found, pinned so they stay fixed. Each: hex and what went wrong.
 * (Keep appending; never remove one.)
 */
const FIXTURES: { hex: string; why: string }[] = [
  {
    // ofp_port.name with invalid UTF-8: decoded with U+FFFD (3 bytes each), which no longer fits 15 bytes.
    hex: '040c00500000000000000000000000000000000700000000f20ba4d03f700000e7a781e381aeb4839de38300e3838800000000000000000400002c080000280000002808000028080000138800001388',
    // (Since the agreement work it is refused as OFP_BAD_STRING: see test/unit/openflow/agreement.test.ts.)
    why: 'port_status with a non-UTF-8 port name must decode to something encode() can write, or be refused',
  },
];

test('pinned fuzz fixtures stay fixed', (t) => {
  for (const f of FIXTURES) t.is(checkDecode(Buffer.from(f.hex, 'hex')), null, f.why);
  t.pass();
});

test(`decode: ${INPUTS} mutated frames only ever throw OfpDecodeError (seed ${SEED})`, (t) => {
  const r = rng(SEED);
  const seeds = corpus();
  const failures: string[] = [];
  let accepted = 0;
  const start = performance.now();
  for (let i = 0; i < INPUTS; i++) {
    const input = r() < 0.05 ? Buffer.from(Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256))) : mutate(seeds[Math.floor(r() * seeds.length)]!, r);
    const f = checkDecode(input);
    if (f === null) {
      try {
        decode(input);
        accepted++;
      } catch {
        /* counted as rejected */
      }
    } else if (failures.length < 5) failures.push(`${f}\n  input ${input.toString('hex')}`);
  }
  const ms = performance.now() - start;
  t.deepEqual(failures, [], `seed ${SEED}`);
  // Both outcomes must be common, or the mutations are too weak or too strong to test anything.
  t.true(accepted > INPUTS * 0.05 && accepted < INPUTS * 0.95, `${accepted} of ${INPUTS} accepted`);
  // Generous bound for a shared 2-core machine; a hang or quadratic path blows it.
  t.true(ms < 30_000, `${ms.toFixed(0)} ms`);
  t.log(`${INPUTS} inputs, ${accepted} decoded, ${(ms / INPUTS).toFixed(3)} ms/input`);
});

test(`Framer: mutated streams in random chunks only throw OfpDecodeError and stay bounded (seed ${SEED})`, (t) => {
  const r = rng(SEED + 1);
  const seeds = corpus();
  const maxFrames = [8, 64, 512, 4096, 65535];
  let frames = 0;
  let fatal = 0;
  const start = performance.now();
  for (let s = 0; s < 2000; s++) {
    const maxFrame = maxFrames[Math.floor(r() * maxFrames.length)]!;
    const f = new Framer({ maxFrame });
    const parts: Buffer[] = [];
    for (let k = 0; k < 1 + Math.floor(r() * 5); k++) {
      const src = seeds[Math.floor(r() * seeds.length)]!;
      parts.push(r() < 0.5 ? src : mutate(src, r));
    }
    const stream = Buffer.concat(parts);
    let o = 0;
    try {
      while (o < stream.length) {
        const n = 1 + Math.floor(r() * 200);
        for (const fr of f.push(stream.subarray(o, o + n))) {
          frames++;
          if (fr.length > maxFrame || fr.length < 8 || fr.readUInt16BE(2) !== fr.length) throw new Error(`bad frame of ${fr.length} bytes`);
          checkDecode(fr);
        }
        if (f.buffered > maxFrame) throw new Error(`buffered ${f.buffered} > maxFrame ${maxFrame}`);
        o += n;
      }
    } catch (e) {
      if (!(e instanceof OfpDecodeError)) {
        t.fail(`Framer threw ${(e as Error).message} on ${stream.toString('hex').slice(0, 400)}`);
        return;
      }
      t.true(e.fatal, 'framing errors are fatal');
      fatal++;
      // A failed framer stays failed: the stream is lost (the connection must close).
      t.throws(() => f.push(Buffer.alloc(8)), { instanceOf: OfpDecodeError });
    }
  }
  t.true(performance.now() - start < 30_000);
  t.true(frames > 1000 && fatal > 10, `${frames} frames, ${fatal} fatal streams`);
});

test('Framer: a stream of maximal-length headers never buffers beyond maxFrame', async (t) => {
  // 0xffff-length headers: with a small limit the framer refuses at the header, before
  // buffering a byte of body (limit enforced before buffering, undici style).
  const hdr = Buffer.from([4, 0, 0xff, 0xff, 0, 0, 0, 1]);
  for (const maxFrame of [8, 100, 1024, 65534]) {
    const f = new Framer({ maxFrame });
    const e = t.throws(() => f.push(Buffer.concat([hdr, Buffer.alloc(1000)])), { instanceOf: OfpDecodeError });
    t.is(e?.code, 'OFP_FRAME_TOO_LARGE');
    t.is(f.buffered, 0);
    // Header split over chunks: still refused once its length is readable, nothing kept.
    const g = new Framer({ maxFrame });
    t.deepEqual(g.push(hdr.subarray(0, 3)), []);
    t.true(g.buffered <= 8);
    t.throws(() => g.push(hdr.subarray(3)), { instanceOf: OfpDecodeError });
    t.is(g.buffered, 0);
  }
  // At the default limit, many max-length frames in 1000-byte chunks: the framer holds at
  // most one frame at a time, and heap growth stays far below the bytes streamed through.
  const f = new Framer();
  const frame = Buffer.alloc(0xffff);
  frame.writeUInt8(4, 0);
  frame.writeUInt16BE(0xffff, 2);
  const used = async (): Promise<number> => {
    // Array buffers are released after the collection that frees their wrappers.
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((res) => setImmediate(res));
    }
    const u = process.memoryUsage();
    return u.heapUsed + u.arrayBuffers;
  };
  const heap0 = await used();
  let peak = 0;
  let n = 0;
  for (let k = 0; k < 200; k++) {
    for (let o = 0; o < frame.length; o += 1000) {
      n += f.push(frame.subarray(o, o + 1000)).length;
      peak = Math.max(peak, f.buffered);
    }
  }
  t.is(n, 200);
  t.true(peak <= 0xffff, `peak ${peak}`);
  const grown = (await used()) - heap0;
  // 200 x 64 KiB = 12.5 MiB went through; retained growth must be far less than that.
  t.true(grown < 8 * 1024 * 1024, `grew ${grown} bytes`);
});
