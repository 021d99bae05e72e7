// The run report (seamless report) opened in a real browser: Debian's headless Chromium
// (mininet/setup.sh installs it). The page must render its SVG plots without console errors,
// and a screenshot is kept in test/artifacts/ for a person to look at.
import test from 'ava';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runCliCaptured } from '../support/cli.js';
import { chromium, consoleErrors } from '../support/chromium.js';

const fixture = (name: string) => fileURLToPath(new URL(`../support/report/${name}`, import.meta.url));
const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));

async function render(t: import('ava').ExecutionContext, log: string, extra: string[] = []): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const r = await runCliCaptured(['report', '--from', fixture(log), '--out', join(dir, 'out'), ...extra]);
  t.is(r.code, 0, r.err);
  return dir;
}

test.serial('the console check sees a page that logs an error (so a clean report page means something)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const page = join(dir, 'bad.html');
  await writeFile(page, '<!doctype html><p>x</p><script>console.error("deliberate"); undefinedFn();</script>');
  const r = await chromium(['--dump-dom', pathToFileURL(page).href], join(dir, 'profile'));
  t.true(consoleErrors(r.stderr).some((l) => l.includes('Uncaught')), r.stderr);
});

test.serial('the report of a run with memory and energy renders in headless Chromium: SVG plots in the DOM, no console errors, screenshot kept', async (t) => {
  const dir = await render(t, 'run-energy.jsonl');
  const url = pathToFileURL(join(dir, 'out', 'index.html')).href;
  const dom = await chromium(['--dump-dom', url], join(dir, 'profile'));
  t.is(dom.code, 0, dom.stderr);
  t.deepEqual(consoleErrors(dom.stderr), []);
  // Chromium's serialised DOM: the parsed page, not our string.
  t.is((dom.stdout.match(/<svg /g) ?? []).length, 4, 'timeline, wake CDF, memory, energy');
  t.true((dom.stdout.match(/<rect class="iv"/g) ?? []).length >= 30, 'a bar per state interval');
  t.is((dom.stdout.match(/<path class="series"/g) ?? []).length, 3 + 1 + 2, 'three depths, memory, energy + baseline');
  t.regex(dom.stdout, /<table id="summary">/);

  await mkdir(artifacts, { recursive: true });
  const png = join(artifacts, 'report.png');
  const shot = await chromium([`--screenshot=${png}`, '--window-size=1000,1900', '--hide-scrollbars', url], join(dir, 'profile'));
  t.is(shot.code, 0, shot.stderr);
  t.deepEqual(consoleErrors(shot.stderr), []);
  const head = (await readFile(png)).subarray(0, 24);
  t.deepEqual([...head.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  t.deepEqual([head.readUInt32BE(16), head.readUInt32BE(20)], [1000, 1900]);
  t.true((await stat(png)).size > 20_000, 'not a blank page');
  t.log(`screenshot: ${png}`);
});

test.serial('a log without memory or energy renders with the notes in place of those plots', async (t) => {
  const dir = await render(t, 'run.jsonl', ['--config', fixture('inventory.yaml')]);
  const url = pathToFileURL(join(dir, 'out', 'index.html')).href;
  const dom = await chromium(['--dump-dom', url], join(dir, 'profile'));
  t.is(dom.code, 0, dom.stderr);
  t.deepEqual(consoleErrors(dom.stderr), []);
  t.is((dom.stdout.match(/<svg /g) ?? []).length, 2);
  t.regex(dom.stdout, /no memory data in this log/);
  t.regex(dom.stdout, /no energy data in this log/);
  await mkdir(artifacts, { recursive: true });
  const png = join(artifacts, 'report-no-energy.png');
  const shot = await chromium([`--screenshot=${png}`, '--window-size=1000,1200', '--hide-scrollbars', url], join(dir, 'profile'));
  t.is(shot.code, 0, shot.stderr);
  t.log(`screenshot: ${png}`);
});
