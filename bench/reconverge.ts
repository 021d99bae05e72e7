/**
 * Re-convergence after a link failure on the fabric (issue 12): Mininet
 * leaf-spine (2 spines, 3 leaves, 2 hosts each, OVS userspace datapath),
 * `seamless controller --fabric` in this process. Each trial pings h1 (leaf s3)
 * -> h6 (leaf s5) every 10 ms, cuts the spine link their path uses (s1-s3) one
 * second in, and measures how long traffic stops: the longest run of
 * unanswered echoes x 10 ms, and the longest silence between two replies. The link is
 * restored and rediscovered between trials. Target: under 1 s.
 *
 *   npm run bench:reconverge [-- --trials N]
 *
 * Last line of output: JSON.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../controller/log.js';
import { Fabric, startFabricController, until, type CutReply } from '../test/support/fabric.js';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '5' } } });
const trials = Number(values.trials);
if (!Number.isInteger(trials) || trials < 1 || trials > 50) throw new Error(`--trials must be 1..50, got ${values.trials}`);

const cleanups: Array<() => unknown> = [];
const t = { teardown: (fn: () => unknown) => void cleanups.unshift(fn) };
const dir = await mkdtemp(join(tmpdir(), 'seamless-reconverge-'));
const log = createLogger({ level: 'warn', format: 'text' });
const results: CutReply[] = [];
try {
  const fc = await startFabricController(join(dir, 'api.sock'), log);
  cleanups.push(() => fc.stop());
  const net = await Fabric.start(t, { topology: 'topologies/leafspine.py', topo: 'leafspine,spines=2,leaves=3,hosts=2', controllerPort: fc.ctl.address.port });
  const g = fc.topology.graph;
  const settled = () => g.links().length === 6 && g.dpids().every((d) => g.ports(d).every((p) => g.portClass(d, p) === 'edge' || g.portClass(d, p) === 'link'));
  if (!(await until(settled, 20_000))) throw new Error(`discovery did not settle: ${g.links().length}/6 links`);
  for (let i = 0; i < trials; i++) {
    const warm = await net.pingall();
    if (warm.received !== warm.sent) throw new Error(`trial ${i}: pingall ${warm.received}/${warm.sent} before the cut`);
    const r = await net.cutWhilePinging({ src: 'h1', dst: 'h6', a: 's1', b: 's3', intervalMs: 10, count: 300, cutAfterMs: 1000 });
    process.stderr.write(`trial ${i + 1}: ${JSON.stringify(r)}\n`);
    results.push(r);
    await net.setLink('s1', 's3', true);
    if (!(await until(settled, 10_000))) throw new Error(`trial ${i}: the restored link was not rediscovered`);
  }
} finally {
  for (const fn of cleanups) await fn();
  await rm(dir, { recursive: true, force: true });
}

const gaps = results.map((r) => r.gapMs).filter((x): x is number => x !== null).sort((a, b) => a - b);
const outages = results.map((r) => r.longestLossRun * r.intervalMs).sort((a, b) => a - b);
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? null;
console.log(
  JSON.stringify({
    bench: 'reconverge',
    topology: 'leafspine,spines=2,leaves=3,hosts=2',
    cut: 's1-s3 (spine link on the h1->h6 path)',
    pingIntervalMs: 10,
    trials,
    resumed: results.filter((r) => r.repliesAfterCut > 0).length,
    // outageMs: the longest silence between consecutive replies (wall clock): how
    // long the receiver heard nothing, delayed replies included. lossRunMs: the
    // longest run of unanswered echoes x 10 ms (what was dropped, not delayed).
    outageMs: { p50: pct(gaps, 50), max: gaps.at(-1) ?? null, all: gaps },
    lossRunMs: { p50: pct(outages, 50), max: outages.at(-1) ?? null, all: outages },
    lostPings: results.map((r) => r.lostAroundCut),
    targetMs: 1000,
  }),
);
