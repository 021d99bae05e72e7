import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCliCaptured } from '../../support/cli.js';

const FIXTURE = fileURLToPath(new URL('../../support/replay/results.json', import.meta.url));

const run = runCliCaptured;

test.serial('seamless report --replay writes the policy-comparison page', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-replay-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const r = await run(['report', '--replay', FIXTURE, '--out', join(dir, 'page')]);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /index\.html: 4 policies, 5 fixed timeouts, 3 VMs/);
  const html = await readFile(join(dir, 'page', 'index.html'), 'utf8');
  t.regex(html, /<h1>seamless replay: policies compared<\/h1>/);
  t.is((html.match(/<svg /g) ?? []).length, 3);
});

test.serial('seamless report --replay on a bad file exits 1 naming the file and field; nothing is written', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-replay-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.json');
  const j = JSON.parse(await readFile(FIXTURE, 'utf8')) as Record<string, any>;
  j['policies'][0].wakes = -1;
  await writeFile(bad, JSON.stringify(j));
  const r = await run(['report', '--replay', bad, '--out', join(dir, 'page')]);
  t.is(r.code, 1);
  t.regex(r.err, new RegExp(`${bad.replace(/[.]/g, '\\.')}: policies\\[0\\]\\.wakes: `));
  await t.throwsAsync(readFile(join(dir, 'page', 'index.html')));
  const notJson = join(dir, 'x.json');
  await writeFile(notJson, '{"trace":');
  const r2 = await run(['report', '--replay', notJson]);
  t.is(r2.code, 1);
  t.regex(r2.err, /x\.json: not JSON/);
  const r3 = await run(['report', '--replay', join(dir, 'missing.json')]);
  t.is(r3.code, 1);
  t.regex(r3.err, /missing\.json: cannot read/);
});

test.serial('--replay does not mix with --from/--config', async (t) => {
  const r = await run(['report', '--replay', FIXTURE, '--from', 'x.jsonl']);
  t.is(r.code, 2);
  t.regex(r.err, /--replay takes no --from or --config/);
});
