// seamless replay end to end, as a user runs it (a real child process): synth a
// trace and its inventory, replay it with a policy and a sweep on two worker
// threads, read the JSON it wrote; unknown addresses are warned about; bad
// input is refused with the offending name; piped stderr gets no progress bar.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { PolicyResult, ReplayResult } from '../../../controller/replay/results.js';

const main = fileURLToPath(new URL('../../../controller/cli/main.ts', import.meta.url));
const cli = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [`--import=${import.meta.resolve('tsx')}`, main, 'replay', ...args], { cwd, encoding: 'utf8', timeout: 110_000 });

test.serial('synth, then replay: results.json and one file per policy; unknown addresses warned about and listed', async (t) => {
  const cwd = await mkdtemp(join(tmpdir(), 'seamless-replay-'));
  t.teardown(() => rm(cwd, { recursive: true, force: true }));
  let r = cli(cwd, 'synth', '--vms', '4', '--days', '1', '--seed', '2', '--out', 't.csv.gz', '--inventory-out', 'inv.yaml');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /t\.csv\.gz: \d+ flows, 4 VMs, 1 days \(seed 2\); inventory inv\.yaml/);
  // Two flows to an address no VM has, appended to the generated trace.
  const csv = gunzipSync(await readFile(join(cwd, 't.csv.gz'))).toString();
  await writeFile(join(cwd, 't.csv.gz'), gzipSync(`${csv}1767600000,10.200.0.9,10.9.9.9,tcp,22,1,60,0\n1767600001,10.200.0.9,10.9.9.9,tcp,22,1,60,0\n`));
  r = cli(cwd, 't.csv.gz', '--config', 'inv.yaml', '--policy', 'fixed', '--sweep', '1m,1h', '--threads', '2', '--out', 'out');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /warning: 2 flows to 1 addresses the inventory does not know, not replayed: 10\.9\.9\.9 \(2\)/);
  t.notRegex(r.stderr, /flows\/s/, 'no progress bar when stderr is piped');
  t.regex(r.stdout, /fixed:1h/);
  const res = JSON.parse(await readFile(join(cwd, 'out', 'results.json'), 'utf8')) as ReplayResult;
  t.deepEqual(res.trace.unknownAddresses, [{ ip: '10.9.9.9', flows: 2 }]);
  t.is(res.trace.vms, 4);
  t.is(res.seed, 1);
  t.deepEqual(res.policies.map((p) => p.policy), ['fixed']);
  t.deepEqual(res.sweep.map((p) => [p.policy, p.idleTimeoutMs]), [['fixed:1m', 60_000], ['fixed:1h', 3_600_000]]);
  // A short timeout parks more often than a long one.
  t.true(res.sweep[0]!.wakes > res.sweep[1]!.wakes);
  const one = JSON.parse(await readFile(join(cwd, 'out', 'fixed_1m.json'), 'utf8')) as PolicyResult;
  t.deepEqual({ ...one, replaySeconds: 0 }, { ...res.sweep[0]!, replaySeconds: 0 });
  t.is(res.policies[0]!.perVm.length, 4);
});

test.serial('bad input is refused, naming what is wrong', async (t) => {
  const cwd = await mkdtemp(join(tmpdir(), 'seamless-replay-'));
  t.teardown(() => rm(cwd, { recursive: true, force: true }));
  t.is(cli(cwd, 'synth', '--vms', '2', '--days', '1', '--out', 't.csv', '--inventory-out', 'inv.yaml').status, 0);
  let r = cli(cwd, 't.csv', '--config', 'inv.yaml', '--policy', 'psychic');
  t.is(r.status, 1);
  t.regex(r.stderr, /unknown policy "psychic"/);
  r = cli(cwd, 't.csv', '--config', 'inv.yaml', '--sweep', '5 parsecs');
  t.is(r.status, 1);
  t.regex(r.stderr, /policy fixed:5 parsecs/);
  await appendFile(join(cwd, 't.csv'), '1767600000,10.200.0.9,10.9.9.9,tcp,22,1,60\n');
  r = cli(cwd, 't.csv', '--config', 'inv.yaml', '--sweep', 'none');
  t.is(r.status, 1);
  t.regex(r.stderr, /t\.csv:\d+: expected 8 columns/);
  await writeFile(join(cwd, 'p.yaml'), 'depths: { pause: { wake: { p50Ms: 10, p99Ms: 5 } } }\n');
  r = cli(cwd, 't.csv', '--config', 'inv.yaml', '--profile', 'p.yaml');
  t.is(r.status, 1);
  t.regex(r.stderr, /p\.yaml: depths\.pause\.wake: p50Ms must be a number >= 0 and p99Ms >= p50Ms/);
  r = cli(cwd);
  t.is(r.status, 2);
  t.regex(r.stderr, /needs one TRACE and --config INVENTORY/);
});
