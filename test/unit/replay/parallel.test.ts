// Worker threads split the fleet (VMs i mod n); the assembled result must not
// depend on the split: same figures with 1, 2 and 3 workers.
import test from 'ava';
import { parseInventory } from '../../../controller/inventory/index.js';
import { prepareTrace } from '../../../controller/replay/engine.js';
import { replayParallel } from '../../../controller/replay/parallel.js';
import { DEFAULT_PROFILE } from '../../../controller/replay/profile.js';
import { SYNTH_DEFAULTS, synthInventory, synthTrace } from '../../../controller/replay/synth.js';

test('1, 2 and 3 workers give the same result', async (t) => {
  const p = { ...SYNTH_DEFAULTS, vms: 7, days: 1, seed: 9 };
  const prepared = prepareTrace(synthTrace(p), parseInventory(synthInventory(p), 's.yaml'));
  const opts = { profile: DEFAULT_PROFILE, seed: 4, policy: 'fixed' };
  const [one, two, three] = await Promise.all([1, 2, 3].map((n) => replayParallel(prepared, opts, n)));
  const strip = (r: typeof one) => ({ ...r!, replaySeconds: 0 });
  t.true(one!.wakes > 0);
  t.deepEqual(strip(two!), strip(one!));
  t.deepEqual(strip(three!), strip(one!));
});
