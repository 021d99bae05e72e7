// Every Ryu OF1.3 vector decodes to the values in its JSON, re-encodes byte for byte, and
// frames correctly however the stream is chunked.
import test from 'ava';
import { decode, encode, Framer, toJSON, fromJSON } from '../../../controller/openflow/index.js';
import { loadVectors, mapRyu } from '../../support/vectors.js';

const vectors = loadVectors();

test('all 64 vectors are present', (t) => {
  t.is(vectors.length, 64);
});

for (const v of vectors) {
  test(`${v.name}: decodes to Ryu's values`, (t) => {
    const { expected, lengths } = mapRyu(v);
    t.deepEqual(decode(v.bytes), expected);
    for (const l of lengths) t.is(l.ours, l.ryu, `length field ${l.path}`);
  });

  test(`${v.name}: re-encodes byte for byte`, (t) => {
    t.true(encode(decode(v.bytes)).equals(v.bytes));
    // The mapped Ryu values encode to the same bytes too (independent of decode()).
    t.true(encode(mapRyu(v).expected).equals(v.bytes));
  });

  test(`${v.name}: JSON form round-trips`, (t) => {
    const m = decode(v.bytes);
    const json = JSON.parse(JSON.stringify(toJSON(m)));
    t.deepEqual(fromJSON(json), m);
  });

  test(`${v.name}: framer byte by byte and split at every offset`, (t) => {
    const f = new Framer();
    const got: Buffer[] = [];
    for (let i = 0; i < v.bytes.length; i++) got.push(...f.push(v.bytes.subarray(i, i + 1)));
    t.is(got.length, 1);
    t.true(got[0]!.equals(v.bytes));
    t.is(f.buffered, 0);
    for (let cut = 0; cut <= v.bytes.length; cut++) {
      const g = new Framer();
      // Two copies back to back, split at `cut` of the first copy.
      const stream = Buffer.concat([v.bytes, v.bytes]);
      const frames = [...g.push(stream.subarray(0, cut)), ...g.push(stream.subarray(cut))];
      t.is(frames.length, 2, `cut at ${cut}`);
      t.true(frames[0]!.equals(v.bytes) && frames[1]!.equals(v.bytes), `cut at ${cut}`);
    }
  });
}
