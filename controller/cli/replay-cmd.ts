/**
 * `seamless replay`: replays a flow trace through the park engine (controller/replay)
 * under one or more policies and a sweep of fixed idle timeouts, and writes
 * OUT/results.json plus OUT/<policy>.json. `seamless replay synth` generates an
 * office-like trace and its inventory. docs/replay.md describes both.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadInventory } from '../inventory/index.js';
import { availableParallelism } from 'node:os';
import { prepareTrace } from '../replay/engine.js';
import { replayParallel, shareTrace } from '../replay/parallel.js';
import { applyPolicy, DEFAULT_SWEEP, PolicyError, REPLAY_POLICIES } from '../replay/policies.js';
import { writeReplayReport } from '../report/replay-results.js';
import { DEFAULT_PROFILE, loadProfile, ProfileError, type LatencyProfile } from '../replay/profile.js';
import { relateToOracle, type PolicyResult, type ReplayResult } from '../replay/results.js';
import { SYNTH_DEFAULTS, synthInventory, synthTrace, writeCsvTrace } from '../replay/synth.js';
import { readTrace, TraceError } from '../replay/trace.js';
import type { Command } from './dispatch.js';

export const REPLAY_USAGE =
  'usage: seamless replay TRACE --config INVENTORY [--policy P ...] [--sweep LIST|none] [--profile FILE] [--seed N] [--out DIR]\n' +
  '       seamless replay synth --vms N --days D [--seed S] [--out trace.csv.gz] [--inventory-out inv.yaml]\n\n' +
  '  TRACE              CSV flow records (gzip accepted), pcap or pcapng (read with tshark)\n' +
  '  --config INVENTORY the inventory the VMs are matched against (by IP)\n' +
  `  --policy P         a policy to run, repeatable: ${REPLAY_POLICIES.join(', ')} or fixed:DURATION (e.g. fixed:300s); default all\n` +
  `  --sweep LIST       fixed idle timeouts for the savings-vs-wakes curve (default ${DEFAULT_SWEEP.join(',')}); none: no sweep\n` +
  '  --profile FILE     park/wake latencies per depth (JSON or YAML, docs/replay.md#latency-profile); default: fitted from bench:wake\n' +
  '  --seed N           the random seed of the simulated latencies (default 1): same seed, same results\n' +
  '  --out DIR          where results.json and <policy>.json go (default ./seamless-replay/)\n' +
  '  --threads N        worker threads (VMs split between them; same results for any N); default: the number of cores\n';

function fail(msg: string): number {
  process.stderr.write(`seamless replay: ${msg}\n`);
  return 1;
}

/** A progress bar on stderr when it is a terminal (flows/s and ETA); nothing when piped. */
function progressBar(label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  const started = performance.now();
  let last = 0;
  let finished = false;
  return (done, total) => {
    const now = performance.now();
    if (finished || (done < total && now - last < 200)) return;
    finished = done >= total;
    last = now;
    const width = 30;
    const frac = total > 0 ? done / total : 1;
    const rate = done / Math.max(1e-3, (now - started) / 1000);
    const eta = rate > 0 ? (total - done) / rate : 0;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, ' ');
    process.stderr.write(`\r${label.padEnd(14)} [${bar}] ${(100 * frac).toFixed(0).padStart(3)}% ${Math.round(rate).toLocaleString('en')} flows/s ETA ${Math.ceil(eta)}s   `);
    if (done >= total) process.stderr.write('\n');
  };
}

function fileName(policy: string): string {
  return `${policy.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`;
}

async function synth(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: { vms: { type: 'string' }, days: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, 'inventory-out': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    process.stderr.write(`seamless replay synth: ${(e as Error).message}\n${REPLAY_USAGE}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(REPLAY_USAGE);
    return 0;
  }
  const num = (k: 'vms' | 'days' | 'seed', def: number | undefined, min: number, max: number): number => {
    const v = values[k];
    if (v === undefined) {
      if (def === undefined) throw new PolicyError(`synth needs --${k}`);
      return def;
    }
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new PolicyError(`synth --${k}: expected a whole number in ${min}..${max}, got ${JSON.stringify(v)}`);
    return n;
  };
  let p;
  try {
    p = { ...SYNTH_DEFAULTS, vms: num('vms', undefined, 1, 62_500 * 250), days: num('days', undefined, 1, 366), seed: num('seed', 1, 0, 2 ** 32 - 1) };
  } catch (e) {
    process.stderr.write(`seamless replay: ${(e as Error).message}\n${REPLAY_USAGE}`);
    return 2;
  }
  const out = values.out ?? 'trace.csv.gz';
  const invOut = values['inventory-out'] ?? 'inventory.yaml';
  const trace = synthTrace(p, out);
  try {
    await writeCsvTrace(trace, out);
    await writeFile(invOut, synthInventory(p));
  } catch (e) {
    return fail(`cannot write ${out} / ${invOut}: ${(e as Error).message}`);
  }
  process.stdout.write(`${out}: ${trace.n} flows, ${p.vms} VMs, ${p.days} days (seed ${p.seed}); inventory ${invOut}\n`);
  return 0;
}

const replayCommand: Command = async (argv) => {
  if (argv[0] === 'synth') return synth(argv.slice(1));
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        policy: { type: 'string', multiple: true },
        sweep: { type: 'string' },
        profile: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        threads: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`seamless replay: ${(e as Error).message}\n${REPLAY_USAGE}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(REPLAY_USAGE);
    return 0;
  }
  if (positionals.length !== 1 || values.config === undefined) {
    process.stderr.write(`seamless replay: needs one TRACE and --config INVENTORY\n${REPLAY_USAGE}`);
    return 2;
  }
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) {
    process.stderr.write(`seamless replay: --seed: expected a whole number in 0..4294967295, got ${JSON.stringify(values.seed)}\n`);
    return 2;
  }
  const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    process.stderr.write(`seamless replay: --threads: expected a whole number in 1..64, got ${JSON.stringify(values.threads)}\n`);
    return 2;
  }
  const policies = values.policy ?? [...REPLAY_POLICIES];
  const sweep = values.sweep === undefined ? DEFAULT_SWEEP : values.sweep === 'none' ? [] : values.sweep.split(',').map((s) => s.trim()).filter((s) => s !== '');
  let profile: LatencyProfile = DEFAULT_PROFILE;
  try {
    if (values.profile !== undefined) profile = loadProfile(values.profile);
  } catch (e) {
    if (e instanceof ProfileError) return fail(e.message);
    throw e;
  }
  let inv;
  try {
    inv = await loadInventory(values.config, { replay: true });
  } catch (e) {
    return fail(`cannot read inventory ${values.config}: ${(e as Error).message}`);
  }
  try {
    // Every policy checked before the (long) trace is read.
    for (const p of [...policies, ...sweep.map((d) => `fixed:${d}`)]) applyPolicy(inv, p);
  } catch (e) {
    if (e instanceof PolicyError) return fail(e.message);
    throw e;
  }
  let trace;
  try {
    trace = await readTrace(positionals[0]!);
  } catch (e) {
    if (e instanceof TraceError) return fail(e.message);
    throw e;
  }
  const prepared = threads > 1 ? shareTrace(prepareTrace(trace, inv)) : prepareTrace(trace, inv);
  const { summary } = prepared;
  if (summary.unknownAddresses.length > 0) {
    const n = summary.unknownAddresses.reduce((a, x) => a + x.flows, 0);
    const top = summary.unknownAddresses.slice(0, 5).map((x) => `${x.ip} (${x.flows})`).join(', ');
    process.stderr.write(`seamless replay: warning: ${n} flows to ${summary.unknownAddresses.length} addresses the inventory does not know, not replayed: ${top}${summary.unknownAddresses.length > 5 ? ', ...' : ''} (all in results.json trace.unknownAddresses)\n`);
  }
  const run = (policy: string): Promise<PolicyResult> => replayParallel(prepared, { profile, seed, policy, ...optional(progressBar(policy)) }, threads);
  const results: PolicyResult[] = [];
  const swept: PolicyResult[] = [];
  try {
    for (const p of policies) results.push(await run(p));
    for (const d of sweep) swept.push(await run(`fixed:${d}`));
  } catch (e) {
    if (e instanceof PolicyError || e instanceof ProfileError) return fail(e.message);
    throw e;
  }
  relateToOracle([...results, ...swept]);
  // relateToOracle looks for the oracle among what it is given: sweep points relate to the policies' oracle.
  const oracle = results.find((r) => r.policy === 'oracle');
  if (oracle === undefined) for (const r of swept) r.ofOraclePct = null;
  const result: ReplayResult = { trace: summary, seed, profile, policies: results, sweep: swept };
  const dir = resolve(values.out ?? 'seamless-replay');
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'results.json'), `${JSON.stringify(result, null, 1)}\n`);
    for (const r of [...results, ...swept]) await writeFile(join(dir, fileName(r.policy)), `${JSON.stringify(r, null, 1)}\n`);
    // The page comparing the policies (controller/report/replay-results.ts), beside the JSON.
    await writeReplayReport(result, dir, join(dir, 'results.json'));
  } catch (e) {
    return fail(`cannot write ${dir}: ${(e as Error).message}`);
  }
  process.stdout.write(`${summary.flows} flows, ${summary.vms} VMs, ${summary.days.toFixed(2)} days -> ${join(dir, 'results.json')}, report ${join(dir, 'index.html')}\n`);
  process.stdout.write(`${'policy'.padEnd(16)} ${'saved %'.padStart(8)} ${'wakes/VM-day'.padStart(13)} ${'p99 added ms'.padStart(13)} ${'met parked'.padStart(11)}\n`);
  for (const r of [...results, ...swept]) {
    process.stdout.write(`${r.policy.padEnd(16)} ${r.savedPct.toFixed(1).padStart(8)} ${r.wakesPerVmDay.toFixed(2).padStart(13)} ${r.addedLatencyMs.p99.toFixed(1).padStart(13)} ${String(r.flowsMetParked).padStart(11)}\n`);
  }
  return 0;
};

function optional<T>(onProgress: T | undefined): { onProgress?: T } {
  return onProgress === undefined ? {} : { onProgress };
}

export default replayCommand;
