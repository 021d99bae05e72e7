// `npm run replay:real`: the real replay (docs/operations.md#real-replay). A CSV flow trace,
// time-compressed, replayed with tcpreplay into the Mininet testbed against the live
// controller, and the same trace through the simulator; prints the comparison.
//
//   npm run replay:real -- [--trace FILE] [--config INVENTORY] [--scale K] [--seed N] [--out DIR] [--calibration N]
//
// Defaults: test/support/replay/real-trace.csv, topologies/testbed-replay.yaml, --scale 10.
// Root; OVS and libvirtd running (mininet/setup.sh). Progress on stderr; the LAST line of
// stdout is JSON: {"agree":bool,"real":{parks,wakes},"sim":{parks,wakes},"allowed":N,
// "vms":[{vm,depth,real:{parks,wakes,wakeP50Ms,wakeMaxMs},sim:{...},allowed,latencyToleranceMs,...}],"seconds":{...},"out":DIR}
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, runRealReplay } from './replay-real/run.js';

const { values } = parseArgs({
  options: {
    trace: { type: 'string', default: path.join(REPO_ROOT, 'test/support/replay/real-trace.csv') },
    config: { type: 'string', default: path.join(REPO_ROOT, 'topologies/testbed-replay.yaml') },
    scale: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    calibration: { type: 'string', default: '3' },
    out: { type: 'string' },
  },
});

function num(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) {
    process.stderr.write(`replay:real: --${name} must be a number ${min}..${max}, got '${v}'\n`);
    process.exit(2);
  }
  return n;
}

const out = values.out ?? mkdtempSync(path.join(tmpdir(), 'seamless-replay-real-'));
const r = await runRealReplay({
  trace: values.trace,
  config: values.config,
  scale: num('scale', values.scale, 1, 1e6),
  seed: num('seed', values.seed, 0, 2 ** 31),
  calibrationCycles: num('calibration', values.calibration, 1, 50),
  out,
  log: (l) => process.stderr.write(`replay:real: ${l}\n`),
});
const c = r.comparison;
for (const v of c.vms) {
  process.stdout.write(
    `${v.vm} (${v.depth}): parks real ${v.real.parks} / sim ${v.sim.parks}, wakes real ${v.real.wakes} / sim ${v.sim.wakes} (allowed ±${v.allowed}); ` +
      `median wake real ${v.real.wakeP50Ms ?? '-'} ms / sim ${v.sim.wakeP50Ms ?? '-'} ms (±${v.latencyToleranceMs} ms)\n`,
  );
}
process.stdout.write(
  `${JSON.stringify({ agree: c.agree, real: c.real, sim: c.sim, allowed: c.allowed, vms: c.vms, trace: r.trace, seconds: r.seconds, out })}\n`,
);
process.exitCode = c.agree ? 0 : 1;
