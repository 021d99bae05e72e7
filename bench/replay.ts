// bench:replay: how fast the replay engine replays synthetic office traffic.
//  1. 1,000 VMs x 7 days (>= 5 M flows), every policy this build runs; the
//     target is < 60 s for a replay (the fixed policy's, `seconds`).
//  2. 100 / 1,000 / 10,000 VMs x 1 day, each in its own process (clean RSS), to
//     show time and memory growing linearly with the fleet.
// Generating the trace is not timed (it is printed). Each run prints a line;
// the last line is the JSON of docs/benchmarks.md#benchreplay.
// Run: npm run bench:replay   [--vms 1000 --days 7 --scales 100,1000,10000 --seed 1]
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseInventory } from '../controller/inventory/index.js';
import { prepareTrace } from '../controller/replay/engine.js';
import { replayParallel, shareTrace } from '../controller/replay/parallel.js';
import { REPLAY_POLICIES } from '../controller/replay/policies.js';
import { DEFAULT_PROFILE } from '../controller/replay/profile.js';
import { relateToOracle, type PolicyResult } from '../controller/replay/results.js';
import { SYNTH_DEFAULTS, synthInventory, synthTrace } from '../controller/replay/synth.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

const seed = Number(arg('seed', '1'));
/** Worker threads: VMs replay independently, one share per core. */
const threads = Number(arg('threads', String(availableParallelism())));

interface Run {
  vms: number;
  days: number;
  flows: number;
  synthSeconds: number;
  results: PolicyResult[];
  /** CPU seconds (all threads) per policy: the machine is shared, wall time alone says little. */
  cpuSeconds: number[];
  rssMB: number;
}

async function run(vms: number, days: number, policies: readonly string[]): Promise<Run> {
  const p = { ...SYNTH_DEFAULTS, vms, days, seed };
  const t = performance.now();
  const trace = synthTrace(p, `synthetic-${vms}x${days}`);
  const inv = parseInventory(synthInventory(p), 'synthetic.yaml');
  const prepared = shareTrace(prepareTrace(trace, inv, { startMs: p.startMs, endMs: p.startMs + days * 86_400_000 }));
  const synthSeconds = (performance.now() - t) / 1000;
  const results: PolicyResult[] = [];
  const cpuSeconds: number[] = [];
  let rss = process.memoryUsage().rss;
  for (const policy of policies) {
    const cpu = process.cpuUsage();
    results.push(await replayParallel(prepared, { profile: DEFAULT_PROFILE, seed, policy }, threads));
    const d = process.cpuUsage(cpu);
    cpuSeconds.push(Math.round((d.user + d.system) / 1e4) / 100);
    rss = Math.max(rss, process.memoryUsage().rss);
  }
  relateToOracle(results);
  return { vms, days, flows: trace.n, synthSeconds, results, cpuSeconds, rssMB: Math.round(rss / 2 ** 20) };
}

const single = arg('single', '');
if (single !== '') {
  // Child mode: one scale, fixed policy only; prints its JSON.
  const [vms, days] = single.split('x').map(Number) as [number, number];
  const r = await run(vms, days, ['fixed']);
  process.stdout.write(`${JSON.stringify({ vms, days, flows: r.flows, seconds: r.results[0]!.replaySeconds, cpuSeconds: r.cpuSeconds[0], rssMB: r.rssMB, threads, usPerFlow: Math.round(((1e6 * r.results[0]!.replaySeconds) / r.flows) * 10) / 10 })}\n`);
} else {
  const vms = Number(arg('vms', '1000'));
  const days = Number(arg('days', '7'));
  const scales = arg('scales', '100,1000,10000').split(',').filter((s) => s !== '').map(Number);
  const scaling: unknown[] = [];
  const self = fileURLToPath(import.meta.url);
  for (const n of scales) {
    const c = spawnSync(process.execPath, [...process.execArgv, self, '--single', `${n}x1`, '--seed', String(seed), '--threads', String(threads)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (c.status !== 0) throw new Error(`bench:replay: the ${n} VMs x 1 day run failed (${c.status}): ${c.stderr}`);
    const line = c.stdout.trim().split('\n').pop()!;
    process.stdout.write(`scale ${line}\n`);
    scaling.push(JSON.parse(line));
  }
  const r = await run(vms, days, REPLAY_POLICIES);
  process.stdout.write(`synthetic ${vms} VMs x ${days} days: ${r.flows} flows generated in ${r.synthSeconds.toFixed(1)} s\n`);
  const policies: Record<string, { savedPct: number; ofOraclePct: number | null; wakesPerVmDay: number; p99AddedMs: number }> = {};
  for (const [k, x] of r.results.entries()) {
    process.stdout.write(`policy ${x.policy}: ${x.replaySeconds} s (${r.cpuSeconds[k]} CPU s, ${threads} threads), saved ${x.savedPct} %, ${x.wakesPerVmDay} wakes/VM-day, p99 added ${x.addedLatencyMs.p99} ms, lost ${x.flowsLost}\n`);
    policies[x.policy] = { savedPct: x.savedPct, ofOraclePct: x.ofOraclePct, wakesPerVmDay: x.wakesPerVmDay, p99AddedMs: x.addedLatencyMs.p99 };
  }
  const fixed = r.results.find((x) => x.policy === 'fixed')!;
  const cpu = r.cpuSeconds[r.results.indexOf(fixed)];
  process.stdout.write(`${JSON.stringify({ vms, days, flows: r.flows, seconds: fixed.replaySeconds, rssMB: r.rssMB, policies, cpuSeconds: cpu, threads, loadAverage: loadavg()[0], scaling })}\n`);
}
