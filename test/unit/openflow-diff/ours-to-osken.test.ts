// Differential test, us -> os-ken: random messages of our model (fast-check, 'osken'
// profile: what os-ken can express) are encoded by us, decoded by os-ken, and os-ken's
// values (mapped back into our model) must equal the message we encoded, field by field;
// os-ken's length fields must equal our size functions.
// Reproduce a failure with OFP_DIFF_SEED=<seed printed> npx ava test/unit/openflow-diff/ours-to-osken.test.ts
import test from 'ava';
import fc from 'fast-check';
import { encode } from '../../../controller/openflow/index.js';
import type { OfpMessage } from '../../../controller/openflow/types.js';
import { modelArbitraries } from '../../support/osken/arbitraries.js';
import { diffSeed, firstDifference, fromOsken, normaliseModel } from '../../support/osken/compare.js';
import { OskenOracle } from '../../support/osken/oracle.js';

const SEED = diffSeed(20261122);
const COUNT = 600;

let oracle: OskenOracle | undefined;
test.before(() => {
  oracle = OskenOracle.start();
});
test.after.always(async () => {
  await oracle?.close();
});

async function check(m: OfpMessage, i: number): Promise<string | null> {
  const bytes = encode(m);
  const where = `#${i} ${m.type}${m.type === 'multipart_request' || m.type === 'multipart_reply' ? `/${m.body.mpType}` : ''} (bytes ${bytes.toString('hex')})`;
  let json: unknown;
  try {
    json = await oracle!.decode(bytes);
  } catch (e) {
    return `${where}: os-ken refused our encoding: ${(e as Error).message}`;
  }
  let mapped;
  try {
    mapped = fromOsken(json, bytes, m.type);
  } catch (e) {
    return `${where}: os-ken's JSON does not map to our model: ${(e as Error).message}\n${JSON.stringify(json)}`;
  }
  const diff = firstDifference(mapped.expected, normaliseModel(m));
  if (diff !== null) return `${where}: os-ken decoded ${diff} (os-ken vs ours)`;
  for (const l of mapped.lengths) {
    if (l.ours !== l.ryu) return `${where}: os-ken length field ${l.path} = ${l.ryu}, our size = ${l.ours}`;
  }
  return null;
}

test(`os-ken decodes our encodings of random messages to the same values (seed ${SEED})`, async (t) => {
  const { message } = modelArbitraries('osken');
  const msgs = fc.sample(message, { seed: SEED, numRuns: COUNT });
  const types = new Set(msgs.map((m) => m.type));
  // 30 message types os-ken can decode (all of OF1.3 but the 'unknown' escape hatch).
  t.true(types.size >= 29, `only ${types.size} message types sampled: ${[...types].join(',')}`);
  const mpTypes = new Set(msgs.flatMap((m) => (m.type === 'multipart_request' || m.type === 'multipart_reply' ? [`${m.type}/${m.body.mpType}`] : [])));
  const failures: string[] = [];
  for (let i = 0; i < msgs.length; i++) {
    const f = await check(msgs[i]!, i);
    if (f !== null) failures.push(f);
  }
  t.deepEqual(failures.slice(0, 5), [], `${failures.length}/${msgs.length} messages disagree; seed ${SEED}`);
  t.log(`${msgs.length} messages, ${types.size} types, ${mpTypes.size} multipart kinds, seed ${SEED}`);
});
