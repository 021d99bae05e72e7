// "Comparing policies on one trace is one command": seamless replay --out DIR writes the
// comparison page beside results.json (the engine's CLI calls writeReplayReport).
import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliCaptured } from '../../support/cli.js';

const quiet = runCliCaptured;

test('seamless replay --out DIR writes DIR/index.html comparing the run\'s policies with its sweep', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-replay-page-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const trace = join(dir, 't.csv.gz');
  const inv = join(dir, 'inv.yaml');
  const s = await quiet(['replay', 'synth', '--vms', '3', '--days', '1', '--seed', '5', '--out', trace, '--inventory-out', inv]);
  t.is(s.code, 0, s.err);
  const r = await quiet(['replay', trace, '--config', inv, '--sweep', '1m,10m,1h', '--out', join(dir, 'out')]);
  t.is(r.code, 0, r.err);
  const html = await readFile(join(dir, 'out', 'index.html'), 'utf8');
  const results = JSON.parse(await readFile(join(dir, 'out', 'results.json'), 'utf8')) as { policies: unknown[]; sweep: unknown[] };
  t.is((html.match(/<g class="policy-pt">/g) ?? []).length, results.policies.length);
  t.is((html.match(/<circle class="sweep-pt"/g) ?? []).length, 3);
  t.regex(html, /trace: [^<·]*t\.csv\.gz · \d+ flows · 3 VMs/);
  t.regex(html, /<td>fixed 10m<\/td>|<title>fixed 10m:/);
});
