// bench:replay-policies: the policies against a sweep of fixed idle timeouts on
// the synthetic office trace (the targets of issue 11 item 6):
//  - predictive reaches >= 90 % of the oracle's energy savings;
//  - at the same wakes per VM-day it saves >= 10 % more than the fixed-timeout
//    curve, or at the same savings it wakes >= 10 % less (the curve is the
//    sweep's points joined by straight lines; outside it, the nearest end).
// Smaller than bench:replay by default (100 VMs x 7 days) so it runs in a few
// minutes; the last line is JSON.
// Run: npm run build && node dist/bench/replay-policies.js [--vms 100 --days 7 --seed 1 --depth pause]
import { parseDuration, parseInventory } from '../controller/inventory/index.js';
import { prepareTrace, replay } from '../controller/replay/engine.js';
import { DEFAULT_SWEEP } from '../controller/replay/policies.js';
import { DEFAULT_PROFILE } from '../controller/replay/profile.js';
import { relateToOracle, type PolicyResult } from '../controller/replay/results.js';
import { SYNTH_DEFAULTS, synthInventory, synthTrace } from '../controller/replay/synth.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

const vms = Number(arg('vms', '100'));
const days = Number(arg('days', '7'));
const seed = Number(arg('seed', '1'));
const depth = arg('depth', 'pause') as 'pause' | 'save' | 'shutdown';
const sweep = arg('sweep', DEFAULT_SWEEP.join(',')).split(',').map((d) => `fixed:${d}`);

const p = { ...SYNTH_DEFAULTS, vms, days, seed, depth };
const trace = synthTrace(p, `synthetic-${vms}x${days}`);
const inv = parseInventory(synthInventory(p), 'synthetic.yaml', { replay: true });
const prepared = prepareTrace(trace, inv, { startMs: p.startMs, endMs: p.startMs + days * 86_400_000 });
const results: PolicyResult[] = [];
const show = (r: PolicyResult): void => {
  process.stdout.write(`policy ${r.policy}: ${r.replaySeconds} s, saved ${r.savedPct} %, ${r.wakesPerVmDay} wakes/VM-day, p99 added ${r.addedLatencyMs.p99} ms\n`);
};
for (const policy of [...sweep, 'adaptive', 'predictive', 'oracle']) {
  const r = replay(prepared, { profile: DEFAULT_PROFILE, seed, policy });
  results.push(r);
  show(r);
}
// Parameter variants (--variants 'predictive:horizon=10m,threshold=0.3;adaptive:window=32'): the inventory's
// own policies, run as the replay's 'inventory' (= the inventory as it is) and relabelled.
const variants = arg('variants', '').split(';').filter((v) => v !== '');
for (const v of variants) {
  const [name, params = ''] = v.split(':') as [string, string?];
  const kv = Object.fromEntries(params.split(',').filter((x) => x !== '').map((x) => x.split('=') as [string, string]));
  const yaml = synthInventory(p).replace(/^park:.*$/m, (line) => line);
  const vinv = parseInventory(yaml, 'synthetic.yaml', { replay: true });
  const spec = {
    name: name as 'predictive' | 'adaptive',
    ...(kv.horizon !== undefined ? { horizonMs: parseDuration(kv.horizon) } : {}),
    ...(kv.expect !== undefined ? { expectMs: parseDuration(kv.expect) } : {}),
    ...(kv.threshold !== undefined ? { threshold: Number(kv.threshold) } : {}),
    ...(kv.minSamples !== undefined ? { minSamples: Number(kv.minSamples) } : {}),
    ...(kv.window !== undefined ? { window: Number(kv.window) } : {}),
    ...(kv.preWake !== undefined ? { preWake: kv.preWake === 'true' } : {}),
  };
  const vp = { ...prepared, inventory: { ...vinv, vms: vinv.vms.map((x) => ({ ...x, policy: spec })) } };
  const r = { ...replay(vp, { profile: DEFAULT_PROFILE, seed, policy: 'inventory' }), policy: v };
  results.push(r);
  show(r);
}
relateToOracle(results);

/** Piecewise-linear y(x) through points sorted by x; clamped to the ends. */
function interp(points: readonly (readonly [number, number])[], x: number): number {
  const pts = [...points].sort((a, b) => a[0] - b[0]);
  if (x <= pts[0]![0]) return pts[0]![1];
  for (let i = 1; i < pts.length; i++) {
    const [x0, y0] = pts[i - 1]!;
    const [x1, y1] = pts[i]!;
    if (x <= x1) return x1 === x0 ? Math.max(y0, y1) : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
  }
  return pts.at(-1)![1];
}

const fixed = results.filter((r) => r.policy.startsWith('fixed:'));
const curveSaved = fixed.map((r) => [r.wakesPerVmDay, r.savedJoules] as const);
const curveWakes = fixed.map((r) => [r.savedJoules, r.wakesPerVmDay] as const);
const by = (n: string) => results.find((r) => r.policy === n)!;
const compare = (r: PolicyResult) => {
  const fixedSavedAtSameWakes = interp(curveSaved, r.wakesPerVmDay);
  const fixedWakesAtSameSavings = interp(curveWakes, r.savedJoules);
  return {
    savedPct: r.savedPct,
    ofOraclePct: r.ofOraclePct,
    wakesPerVmDay: r.wakesPerVmDay,
    p99AddedMs: r.addedLatencyMs.p99,
    moreSavedThanFixedAtSameWakesPct: Math.round(1000 * (r.savedJoules / fixedSavedAtSameWakes - 1) * 100) / 1000,
    fewerWakesThanFixedAtSameSavingsPct: Math.round(1000 * (1 - r.wakesPerVmDay / fixedWakesAtSameSavings) * 100) / 1000,
  };
};
const out = {
  vms,
  days,
  depth,
  flows: trace.n,
  sweep: fixed.map((r) => ({ policy: r.policy, savedPct: r.savedPct, wakesPerVmDay: r.wakesPerVmDay })),
  adaptive: compare(by('adaptive')),
  predictive: compare(by('predictive')),
  oracle: { savedPct: by('oracle').savedPct, wakesPerVmDay: by('oracle').wakesPerVmDay },
  variants: Object.fromEntries(variants.map((v) => [v, compare(by(v))])),
};
process.stdout.write(`${JSON.stringify(out)}\n`);
