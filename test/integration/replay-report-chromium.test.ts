// The policy-comparison page of a replay (seamless report --replay) opened in headless Chromium:
// its SVG plots are in the parsed DOM, no console errors, and a screenshot is kept in
// test/artifacts/ for a person to look at.
import test from 'ava';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runCliCaptured } from '../support/cli.js';
import { chromium, consoleErrors } from '../support/chromium.js';

const FIXTURE = fileURLToPath(new URL('../support/replay/results.json', import.meta.url));
const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));

test.serial('the console check sees a page that logs an error (so a clean page means something)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-replay-page-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const page = join(dir, 'bad.html');
  await writeFile(page, '<!doctype html><p>x</p><script>undefinedFn();</script>');
  const r = await chromium(['--dump-dom', pathToFileURL(page).href], join(dir, 'profile'));
  t.true(consoleErrors(r.stderr).some((l) => l.includes('Uncaught')), r.stderr);
});

test.serial('the replay comparison page renders in headless Chromium: tradeoff, CDFs, time per state, tables; screenshot kept', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-replay-page-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const r = await runCliCaptured(['report', '--replay', FIXTURE, '--out', join(dir, 'out')]);
  t.is(r.code, 0, r.err);
  const url = pathToFileURL(join(dir, 'out', 'index.html')).href;
  const dom = await chromium(['--dump-dom', url], join(dir, 'profile'));
  t.is(dom.code, 0, dom.stderr);
  t.deepEqual(consoleErrors(dom.stderr), []);
  // Chromium's serialised DOM: the parsed page, not our string.
  t.is((dom.stdout.match(/<svg /g) ?? []).length, 3, 'tradeoff, latency CDF, time per state');
  t.is((dom.stdout.match(/<g class="policy-pt">/g) ?? []).length, 4, 'a marker per policy');
  t.is((dom.stdout.match(/<circle class="sweep-pt"/g) ?? []).length, 5, 'a dot per fixed timeout');
  t.is((dom.stdout.match(/<path class="series"/g) ?? []).length, 4, 'a CDF per policy');
  t.is((dom.stdout.match(/<rect class="share"/g) ?? []).length, 4 * 4, 'active, parking, parked, waking per policy');
  for (const id of ['policies', 'states', 'per-vm']) t.regex(dom.stdout, new RegExp(`<table id="${id}">`));

  await mkdir(artifacts, { recursive: true });
  const png = join(artifacts, 'replay-report.png');
  const shot = await chromium([`--screenshot=${png}`, '--window-size=1150,1800', '--hide-scrollbars', url], join(dir, 'profile'));
  t.is(shot.code, 0, shot.stderr);
  t.deepEqual(consoleErrors(shot.stderr), []);
  const head = (await readFile(png)).subarray(0, 24);
  t.deepEqual([...head.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  t.deepEqual([head.readUInt32BE(16), head.readUInt32BE(20)], [1150, 1800]);
  t.true((await stat(png)).size > 20_000, 'not a blank page');
  t.log(`screenshot: ${png}`);
});
