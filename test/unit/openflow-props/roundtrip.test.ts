// Property-based round trips of the OpenFlow codec (fast-check):
//  - decode(encode(m)) deep-equals m for any model value m (unknown TLVs included);
//  - encode(decode(b)) == b for valid bytes b (the encodings of random messages, and the
//    Ryu vectors);
//  - toJSON/fromJSON is lossless;
//  - Framer: any split of a stream of messages yields the same frames.
// Reproduce a failure with the seed and path fast-check prints (OFP_PROP_SEED=<seed>).
import test from 'ava';
import fc from 'fast-check';
import { decode, encode, Framer, fromJSON, toJSON } from '../../../controller/openflow/index.js';
import { modelArbitraries } from '../../support/osken/arbitraries.js';
import { firstDifference } from '../../support/osken/compare.js';
import { loadVectors } from '../../support/vectors.js';

const env = process.env['OFP_PROP_SEED'];
const SEED = env === undefined || env === '' ? 20261122 : Number(env);
const RUNS = 1500;
const params = { seed: SEED, numRuns: RUNS };
const { message, match, actions, instructions } = modelArbitraries('full');

test(`decode(encode(m)) deep-equals m (seed ${SEED})`, (t) => {
  fc.assert(
    fc.property(message, (m) => {
      const bytes = encode(m);
      const diff = firstDifference(decode(bytes), m);
      if (diff !== null) throw new Error(`${diff}\nbytes ${bytes.toString('hex')}`);
    }),
    params,
  );
  t.pass();
});

test(`encode(decode(b)) == b for the encodings of random messages (seed ${SEED})`, (t) => {
  fc.assert(
    fc.property(message, (m) => {
      const b = encode(m);
      // A copy, so a decoder that aliases its input cannot mask a difference.
      const again = encode(decode(Buffer.from(b)));
      if (!again.equals(b)) throw new Error(`${b.toString('hex')} re-encoded as ${again.toString('hex')}`);
    }),
    params,
  );
  t.pass();
});

test('encode(decode(b)) == b for every Ryu vector', (t) => {
  const vectors = loadVectors();
  t.true(vectors.length >= 64);
  for (const v of vectors) t.true(encode(decode(v.bytes)).equals(v.bytes), v.name);
});

test(`toJSON/fromJSON is lossless through JSON text (seed ${SEED})`, (t) => {
  fc.assert(
    fc.property(message, (m) => {
      const back = fromJSON(JSON.parse(JSON.stringify(toJSON(m))));
      const diff = firstDifference(back, m);
      if (diff !== null) throw new Error(diff);
      if (!encode(back).equals(encode(m))) throw new Error('JSON round trip changed the bytes');
    }),
    params,
  );
  t.pass();
});

test(`matches, action and instruction lists survive inside a flow_mod (seed ${SEED})`, (t) => {
  // Focused property: long lists of TLVs, where length/padding arithmetic goes wrong.
  fc.assert(
    fc.property(fc.array(match, { minLength: 1, maxLength: 3 }), actions, instructions, (ms, as, is) => {
      for (const m of ms) {
        const fm = {
          type: 'flow_mod' as const, xid: 1, cookie: 0n, cookieMask: 0n, tableId: 0, command: 0, idleTimeout: 0, hardTimeout: 0,
          priority: 0, bufferId: 0xffffffff, outPort: 0, outGroup: 0, flags: 0, match: m,
          instructions: [...is, { type: 'apply_actions' as const, actions: as }],
        };
        const diff = firstDifference(decode(encode(fm)), fm);
        if (diff !== null) throw new Error(diff);
      }
    }),
    params,
  );
  t.pass();
});

test(`Framer: any split of a stream of messages yields the same frames (seed ${SEED})`, (t) => {
  fc.assert(
    fc.property(
      fc.array(message, { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: 0, max: 1 << 16 }), { maxLength: 20 }),
      (msgs, cutSeeds) => {
        const frames = msgs.map((m) => encode(m));
        const stream = Buffer.concat(frames);
        const cuts = [...new Set(cutSeeds.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const f = new Framer();
        const got: Buffer[] = [];
        let prev = 0;
        for (const c of [...cuts, stream.length]) {
          got.push(...f.push(stream.subarray(prev, c)));
          prev = c;
        }
        if (got.length !== frames.length) throw new Error(`${got.length} frames, expected ${frames.length}`);
        got.forEach((g, i) => {
          if (!g.equals(frames[i]!)) throw new Error(`frame ${i} differs`);
        });
        if (f.buffered !== 0) throw new Error(`${f.buffered} bytes left buffered`);
        // Whatever the split, every frame decodes to its message.
        got.forEach((g, i) => {
          const diff = firstDifference(decode(g), msgs[i]);
          if (diff !== null) throw new Error(`frame ${i}: ${diff}`);
        });
      },
    ),
    { seed: SEED, numRuns: 300 },
  );
  t.pass();
});

test('Framer: one byte at a time over a stream of all the vectors', (t) => {
  const vectors = loadVectors();
  const stream = Buffer.concat(vectors.map((v) => v.bytes));
  const f = new Framer();
  const got: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) got.push(...f.push(stream.subarray(i, i + 1)));
  t.is(got.length, vectors.length);
  got.forEach((g, i) => t.true(g.equals(vectors[i]!.bytes), vectors[i]!.name));
});
