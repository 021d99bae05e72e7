// Property: decode and encode agree on what is valid. For any bytes x, if decode(x) returns
// a message then encode(decode(x)) succeeds and equals x byte for byte. So decode never
// accepts what encode refuses (a masked set_field, an unterminated name...), also through
// the JSON form the CLI prints and reads back, and never
// accepts two spellings of one message (non-zero padding, a non-minimal version bitmap...)
// since only one of them could come back out.
// Inputs: random model messages and the Ryu vectors with a few bytes overwritten (most land
// in pads, strings, lengths and OXM headers), and random bodies behind a valid header.
// Each disagreement found is pinned in test/unit/openflow/agreement.test.ts.
// Reproduce a failure with the seed and path fast-check prints (OFP_PROP_SEED=<seed>).
import test from 'ava';
import fc from 'fast-check';
import { decode, encode, fromJSON, OfpDecodeError, toJSON } from '../../../controller/openflow/index.js';
import { modelArbitraries } from '../../support/osken/arbitraries.js';
import { loadVectors } from '../../support/vectors.js';

const env = process.env['OFP_PROP_SEED'];
const SEED = env === undefined || env === '' ? 20261122 : Number(env);
const RUNS = 4000;
const { message } = modelArbitraries('full');
const vectors = loadVectors().map((v) => v.bytes);

/** null when decode rejects x (typed) or encode(decode(x)) == x; otherwise what went wrong. */
export function disagreement(x: Buffer): string | null {
  let m;
  try {
    m = decode(x);
  } catch (e) {
    return e instanceof OfpDecodeError ? null : `decode threw ${(e as Error).name}: ${(e as Error).message}`;
  }
  let y: Buffer;
  try {
    y = encode(m);
  } catch (e) {
    return `decode accepted what encode refuses: ${(e as Error).message}`;
  }
  if (!y.equals(x)) return `encode(decode(x)) != x ${firstDiff(x, y)}`;
  // The same through JSON text, as `seamless ofp decode | seamless ofp encode` does it.
  let z: Buffer;
  try {
    z = encode(fromJSON(JSON.parse(JSON.stringify(toJSON(m)))));
  } catch (e) {
    return `decode accepted what encode refuses after JSON: ${(e as Error).message}`;
  }
  return z.equals(x) ? null : `encode(fromJSON(toJSON(decode(x)))) != x ${firstDiff(x, z)}`;
}

function firstDiff(x: Buffer, y: Buffer): string {
  let i = 0;
  while (i < x.length && x[i] === y[i]) i++;
  return `from byte ${i} (x ${x.length} bytes, again ${y.length}): ${x.subarray(i, i + 8).toString('hex')} vs ${y.subarray(i, i + 8).toString('hex')}`;
}

/** Up to 4 byte stores past the 8-byte header; positions are taken modulo the body size. */
const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 });

function applyEdits(src: Buffer, list: [number, number][]): Buffer {
  const b = Buffer.from(src);
  if (b.length <= 8) return b;
  for (const [at, v] of list) b[8 + (at % (b.length - 8))] = v;
  return b;
}

function check(x: Buffer): void {
  const d = disagreement(x);
  if (d !== null) throw new Error(`${d}\n  input ${x.toString('hex')}`);
}

test(`encode(decode(x)) == x whenever decode(x) succeeds: edited random messages (seed ${SEED})`, (t) => {
  fc.assert(
    fc.property(message, edits, (m, list) => check(applyEdits(encode(m), list))),
    { seed: SEED, numRuns: RUNS, includeErrorInReport: true },
  );
  t.pass();
});

test(`encode(decode(x)) == x whenever decode(x) succeeds: edited Ryu vectors (seed ${SEED})`, (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: vectors.length - 1 }), edits, (i, list) => check(applyEdits(vectors[i]!, list))),
    { seed: SEED, numRuns: RUNS, includeErrorInReport: true },
  );
  t.pass();
});

test(`encode(decode(x)) == x whenever decode(x) succeeds: random bodies behind a valid header (seed ${SEED})`, (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 34 }), fc.uint8Array({ maxLength: 96 }), (type, body) => {
      const x = Buffer.concat([Buffer.from([4, type, 0, 0, 0, 0, 0, 1]), Buffer.from(body)]);
      x.writeUInt16BE(x.length, 2);
      check(x);
    }),
    { seed: SEED, numRuns: RUNS, includeErrorInReport: true },
  );
  t.pass();
});
