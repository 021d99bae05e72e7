// Differential test, os-ken -> us: os-ken builds random valid OF1.3 messages of every
// kind it knows and gives us their bytes plus its own decoding. Our decode() must agree
// with os-ken field by field (os-ken's length fields against our size functions too), and
// encode(decode(bytes)) must give the same bytes back.
// Reproduce a failure with OFP_DIFF_SEED=<seed printed> npx ava test/unit/openflow-diff/osken-to-ours.test.ts
import test from 'ava';
import { decode, encode } from '../../../controller/openflow/index.js';
import { diffSeed, firstDifference, fromOsken } from '../../support/osken/compare.js';
import { OskenOracle, type OskenMessage } from '../../support/osken/oracle.js';

const SEED = diffSeed(20261122);
const COUNT = 600;

let oracle: OskenOracle | undefined;
test.before(() => {
  oracle = OskenOracle.start();
});
test.after.always(async () => {
  await oracle?.close();
});

/** Checks one message; returns a failure description or null. */
function check(m: OskenMessage): string | null {
  const where = `${m.kind} (message seed ${m.seed}, bytes ${m.bytes.toString('hex')})`;
  let expected;
  let lengths;
  try {
    ({ expected, lengths } = fromOsken(m.json, m.bytes, m.kind));
  } catch (e) {
    return `${where}: os-ken JSON does not map to our model: ${(e as Error).message}`;
  }
  let ours;
  try {
    ours = decode(m.bytes);
  } catch (e) {
    return `${where}: our decode() threw ${(e as Error).name} ${(e as { code?: string }).code}: ${(e as Error).message}`;
  }
  const diff = firstDifference(ours, expected);
  if (diff !== null) return `${where}: decode() differs from os-ken at ${diff}`;
  for (const l of lengths) {
    if (l.ours !== l.ryu) return `${where}: os-ken length field ${l.path} = ${l.ryu}, our size = ${l.ours}`;
  }
  let again: Buffer;
  try {
    again = encode(ours);
  } catch (e) {
    return `${where}: encode(decode(bytes)) threw ${(e as Error).message}`;
  }
  if (!again.equals(m.bytes)) return `${where}: encode(decode(bytes)) = ${again.toString('hex')}`;
  return null;
}

test(`os-ken's random messages decode to os-ken's values and re-encode byte-exact (seed ${SEED})`, async (t) => {
  const msgs = await oracle!.generate(SEED, COUNT);
  const kinds = await oracle!.kinds();
  // Every kind must really be exercised, or a generator could silently stop covering one.
  const seen = new Set(msgs.map((m) => m.kind));
  t.deepEqual([...kinds].filter((k) => !seen.has(k)), [], 'kinds never generated');

  const failures = msgs.map(check).filter((f): f is string => f !== null);
  t.deepEqual(failures.slice(0, 5), [], `${failures.length}/${msgs.length} messages disagree; seed ${SEED}`);
  t.log(`${msgs.length} messages of ${seen.size} kinds, seed ${SEED}`);
});

test(`multipart and flow-heavy kinds, more of them (seed ${SEED})`, async (t) => {
  // Matches, instructions, actions, buckets, bands and table features are where the TLV
  // code is: give those kinds extra samples.
  const msgs = await oracle!.generate(SEED + 1, 400, ['flow_mod', 'multipart_reply', 'multipart_request', 'packet_in', 'group_mod', 'meter_mod', 'packet_out', 'flow_removed']);
  const failures = msgs.map(check).filter((f): f is string => f !== null);
  t.deepEqual(failures.slice(0, 5), [], `${failures.length}/${msgs.length} messages disagree; seed ${SEED + 1}`);
});
