import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runCliCaptured } from '../../support/cli.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../support/report/${name}`, import.meta.url));

const run = runCliCaptured;

test.serial('seamless report writes a self-contained index.html with the plots and the tables', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const r = await run(['report', '--from', fixture('run-energy.jsonl'), '--out', dir]);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /39 transitions, 9 parks, 9 wakes, 3 VMs/);
  const html = await readFile(join(dir, 'index.html'), 'utf8');
  t.is((html.match(/<svg /g) ?? []).length, 4, 'timeline, wake CDF, memory, energy');
  t.regex(html, /wake p50 \/ p99 \(save, n=3\)<\/td><td>512.3 ms \/ 688.1 ms/);
  t.regex(html, /energy saved vs always-on<\/td><td>373.2 J/);
  t.notRegex(html, /no energy data/);
  // Self-contained: no scripts, no stylesheet or image links; the only URL is the SVG namespace.
  t.notRegex(html, /<script|<link|src=/);
  t.deepEqual([...new Set(html.match(/https?:\/\/[^"' ]+/g))], ['http://www.w3.org/2000/svg']);
});

test.serial('a log without energy or memory fields gets visible notes instead of plots, never made-up numbers', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  t.is((await run(['report', '--from', fixture('run.jsonl'), '--out', dir, '--config', fixture('inventory.yaml')])).code, 0);
  const html = await readFile(join(dir, 'index.html'), 'utf8');
  t.regex(html, /no energy data in this log/);
  t.regex(html, /no memory data in this log/);
  t.notRegex(html, / J</);
  t.is((html.match(/<svg /g) ?? []).length, 2);
  t.regex(html, /wake p50 \/ p99 \(pause, n=5\)<\/td><td>8.2 ms \/ 12.9 ms/, 'depth from the inventory');
});

test.serial('usage errors exit 2: an unknown flag, a positional, an empty --out', async (t) => {
  for (const argv of [['--bogus'], ['file.log'], ['--out', '']]) {
    const r = await run(['report', ...argv]);
    t.is(r.code, 2, argv.join(' '));
    t.regex(r.err, /usage: seamless report/);
  }
});

test.serial('an unreadable log exits 1 naming the file', async (t) => {
  const r = await run(['report', '--from', '/nonexistent/run.jsonl', '--out', join(tmpdir(), 'never-written')]);
  t.is(r.code, 1);
  t.regex(r.err, /cannot read \/nonexistent\/run\.jsonl/);
});

test.serial('a malformed transition record exits 1 naming the file and the line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = join(dir, 'bad.log');
  await writeFile(log, '{"msg":"listening"}\n{"time":"2026-12-01T12:00:00Z","msg":"vm transition","vm":"vm1","from":"active","to":"asleep","reason":"idle"}\n');
  const r = await run(['report', '--from', log, '--out', dir]);
  t.is(r.code, 1);
  t.regex(r.err, new RegExp(`${log.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: line 2: malformed vm transition record: to must be one of`));
});

test.serial('without --from it reads standard input and without --out writes ./seamless-report/index.html', async (t) => {
  const cwd = await mkdtemp(join(tmpdir(), 'seamless-report-'));
  t.teardown(() => rm(cwd, { recursive: true, force: true }));
  const main = fileURLToPath(new URL('../../../controller/cli/main.ts', import.meta.url));
  const log = await readFile(fixture('run-energy.jsonl'));
  const r = spawnSync(process.execPath, [`--import=${import.meta.resolve('tsx')}`, main, 'report'], { cwd, input: log, encoding: 'utf8', timeout: 60_000 });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /seamless-report\/index\.html: 39 transitions/);
  const html = await readFile(join(cwd, 'seamless-report', 'index.html'), 'utf8');
  t.regex(html, /log: stdin/);
  t.is((html.match(/<svg /g) ?? []).length, 4);
});

test.serial('a text-format log gives an empty report and a warning that names the likely cause', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = join(dir, 'text.log');
  await writeFile(log, '2026-12-01T12:00:00.000Z INFO  vm transition vm=vm1 from=active to=parking reason=idle\n');
  const r = await run(['report', '--from', log, '--out', dir]);
  t.is(r.code, 0);
  t.regex(r.err, /no vm transition records in .*text\.log \(1 non-JSON lines\); was it written with --log-format json\?/);
  t.regex(await readFile(join(dir, 'index.html'), 'utf8'), /no vm transition records in this log/);
});
