// The energy model (controller/energy/model.ts): break-even per depth, paid off
// or not, and the worked example of docs/energy.md computed from the doc itself.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  alwaysOnWatts,
  breakEvenSeconds,
  energyAlwaysOn,
  energyParked,
  energySaved,
  energySavedSoFar,
  GIB,
  paidOff,
  parkedWatts,
  type EnergyDepth,
  type PowerProfile,
} from '../../../controller/energy/model.js';
import { DEFAULT_POWER_PROFILE, mergeProfile } from '../../../controller/energy/profile.js';

const MIB = 1024 * 1024;
const DOC = join(import.meta.dirname, '..', '..', '..', 'docs', 'energy.md');

/** A profile with round numbers: 10 W idle, 1 W/GiB, every transition 1 s and 10 J. */
const ROUND: PowerProfile = {
  idleWatts: 10,
  wattsPerGiB: 1,
  depths: {
    reclaim: { parkJoules: 10, parkMs: 1000, wakeJoules: 10, wakeMs: 1000 },
    pause: { parkJoules: 10, parkMs: 1000, wakeJoules: 10, wakeMs: 1000 },
    save: { parkJoules: 10, parkMs: 1000, wakeJoules: 10, wakeMs: 1000 },
    shutdown: { parkJoules: 10, parkMs: 1000, wakeJoules: 10, wakeMs: 1000 },
  },
};

test('break-even: the idle time at which parking saves exactly nothing, per depth', (t) => {
  // 2 GiB resident, all released: P_on = 12 W, P_d = 0, T* = 20 J / 12 W.
  t.is(breakEvenSeconds(ROUND, 'save', 2 * GIB, 2 * GIB), 20 / 12);
  // Nothing released: P_d = 2 W, T* = (20 - 2 * 2) / (12 - 2) = 1.6 s, below t_p + t_w = 2 s:
  // then only the transitions count, T* = 20 / 12.
  t.is(breakEvenSeconds(ROUND, 'pause', 2 * GIB, 0), 20 / 12);
  // Expensive transitions: T* above t_p + t_w uses eq. 4 with the parked power.
  const dear = mergeProfile(ROUND, { pause: { parkJoules: 100, wakeJoules: 100 } });
  t.is(breakEvenSeconds(dear, 'pause', 2 * GIB, 0), (200 - 2 * 2) / (12 - 2));
  for (const depth of ['pause', 'save', 'shutdown'] as EnergyDepth[]) {
    const released = depth === 'pause' ? 0 : 512 * MIB;
    const tStar = breakEvenSeconds(DEFAULT_POWER_PROFILE, depth, 512 * MIB, released);
    const at = (seconds: number) => energySaved(DEFAULT_POWER_PROFILE, { depth, seconds, residentBytes: 512 * MIB, releasedBytes: released });
    t.true(Math.abs(at(tStar)) < 1e-9, `${depth}: S(T*) = 0`);
    t.true(at(tStar * 0.9) < 0 && at(tStar * 1.1) > 0, `${depth}: loses below T*, saves above`);
  }
  // Deeper depths cost more to leave and enter: they need longer idle periods.
  const d = (depth: EnergyDepth) => breakEvenSeconds(DEFAULT_POWER_PROFILE, depth, 512 * MIB, 512 * MIB);
  t.true(d('pause') < d('save') && d('save') < d('shutdown'));
});

test('break-even is infinite when parking saves no power', (t) => {
  const noIdle = mergeProfile(ROUND, { idleWatts: 0 });
  // Nothing released and no idle power: parked power equals always-on power.
  t.is(breakEvenSeconds(noIdle, 'pause', GIB, 0), Infinity);
  t.false(paidOff(noIdle, { depth: 'pause', seconds: 1e9, residentBytes: GIB, releasedBytes: 0 }));
});

test('paid off: only idle periods longer than the break-even time', (t) => {
  const period = (seconds: number) => ({ depth: 'save' as const, seconds, residentBytes: 2 * GIB, releasedBytes: 2 * GIB });
  t.false(paidOff(ROUND, period(1)));
  t.false(paidOff(ROUND, period(20 / 12)), 'exactly break-even saves nothing: not paid off');
  t.true(paidOff(ROUND, period(2)));
  // Shorter than its own transitions: both are still paid in full.
  t.is(energyParked(ROUND, period(0.5)), 20);
  t.is(energySaved(ROUND, period(0.5)), 12 * 0.5 - 20);
});

test('memory released changes the parked power, not the always-on power', (t) => {
  t.is(alwaysOnWatts(ROUND, 2 * GIB), 12);
  t.is(parkedWatts(ROUND, 2 * GIB, 0), 2);
  t.is(parkedWatts(ROUND, 2 * GIB, GIB), 1);
  t.is(parkedWatts(ROUND, 2 * GIB, 3 * GIB), 0, 'never more released than resident');
  const s = (released: number) => energySaved(ROUND, { depth: 'pause', seconds: 100, residentBytes: 2 * GIB, releasedBytes: released });
  t.is(s(2 * GIB) - s(0), 2 * (100 - 2), 'each released GiB saves w over the parked time');
});

test('saved so far: an open period charges the park, not the wake yet', (t) => {
  // 12 W on, 0 W parked, 1 s / 10 J park: 100 s into the period.
  t.is(energySavedSoFar(ROUND, 'save', 100, 2 * GIB, 2 * GIB), 12 * 100 - 10);
  // Once the wake ends it (its 10 J, 1 s with the park's 1 s): the full eq. 3.
  t.is(energySaved(ROUND, { depth: 'save', seconds: 100, residentBytes: 2 * GIB, releasedBytes: 2 * GIB }), 12 * 100 - 20);
});

/** The `energy-example` block of docs/energy.md: one `inputs -> expected` line per case. */
function docExamples(): { line: string; inputs: Map<string, string>; expected: Map<string, string> }[] {
  const m = /```energy-example\n([\s\S]*?)```/.exec(readFileSync(DOC, 'utf8'));
  if (m === null) throw new Error(`${DOC}: no energy-example block`);
  const kv = (s: string) => new Map(s.trim().split(/\s+/).map((p) => p.split('=') as [string, string]));
  return m[1]!
    .trim()
    .split('\n')
    .map((line) => {
      const [a, b] = line.split('->');
      if (b === undefined) throw new Error(`${DOC}: example line without '->': ${line}`);
      return { line, inputs: kv(a!), expected: kv(b) };
    });
}

test('the worked example of docs/energy.md is what the model computes', (t) => {
  const examples = docExamples();
  t.true(examples.length >= 6, 'every depth, paid off and not');
  const p = DEFAULT_POWER_PROFILE;
  for (const { line, inputs, expected } of examples) {
    const depth = inputs.get('depth') as EnergyDepth;
    const residentBytes = Number(inputs.get('residentMiB')) * MIB;
    const releasedBytes = Number(inputs.get('releasedMiB')) * MIB;
    const period = { depth, seconds: Number(inputs.get('idleSeconds')), residentBytes, releasedBytes };
    const got: Record<string, number | string> = {
      alwaysOnWatts: alwaysOnWatts(p, residentBytes),
      parkedWatts: parkedWatts(p, residentBytes, releasedBytes),
      alwaysOnJ: energyAlwaysOn(p, period),
      parkedJ: energyParked(p, period),
      savedJ: energySaved(p, period),
      breakEvenS: breakEvenSeconds(p, depth, residentBytes, releasedBytes),
      paidOff: paidOff(p, period) ? 'yes' : 'no',
    };
    t.deepEqual([...expected.keys()].sort(), Object.keys(got).sort(), `${line}: every quantity quoted`);
    for (const [k, want] of expected) {
      const g = got[k]!;
      if (typeof g === 'string') t.is(g, want, `${line}: ${k}`);
      else t.true(Math.abs(g - Number(want)) < 1e-6, `${line}: ${k} is ${g}, the doc says ${want}`);
    }
  }
});
