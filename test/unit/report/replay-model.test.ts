import test from 'ava';
import { readFileSync } from 'node:fs';
import { buildReplayReport, fixedSavingsAt, policyLabel, profileName, timeoutLabel, type PolicyResultView, type ReplayResultView, type TradeoffPoint } from '../../../controller/report/replay-model.js';
import { parseReplayResults, ReplayResultsError } from '../../../controller/report/replay-results.js';
import { renderReplayHtml, PER_VM_ROWS } from '../../../controller/report/replay-html.js';
import type { ReplayResult } from '../../../controller/replay/results.js';

// Compile-time: the engine's results type is what the page reads (tsc fails here if they drift apart).
export const engineResultsFit = (r: ReplayResult): ReplayResultView => r;

const FIXTURE = new URL('../../support/replay/results.json', import.meta.url);
const raw = () => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, any>;
const fixture = () => parseReplayResults(raw(), 'results.json');
const pt = (wakesPerVmDay: number, savedPct: number): TradeoffPoint => ({ label: `x${wakesPerVmDay}`, wakesPerVmDay, savedPct });

test('fixedSavingsAt interpolates the sweep linearly, is exact on a point, and says nothing outside it', (t) => {
  const sweep = [pt(2, 30), pt(6, 50), pt(10, 60)];
  t.is(fixedSavingsAt(sweep, 6), 50);
  t.is(fixedSavingsAt(sweep, 4), 40);
  t.is(fixedSavingsAt(sweep, 8), 55);
  t.is(fixedSavingsAt(sweep, 2), 30);
  t.is(fixedSavingsAt(sweep, 10), 60);
  t.is(fixedSavingsAt(sweep, 1.9), undefined, 'below the sweep: no extrapolation');
  t.is(fixedSavingsAt(sweep, 10.1), undefined);
  t.is(fixedSavingsAt([], 3), undefined);
  t.is(fixedSavingsAt([pt(4, 10), pt(4, 20), pt(8, 40)], 4), 20, 'two timeouts at the same wakes: the better one');
  t.is(fixedSavingsAt([pt(4, 10), pt(4, 20), pt(8, 40)], 6), 30);
});

test('labels: a fixed policy names its timeout so it can be found on the sweep', (t) => {
  t.is(timeoutLabel(30_000), 'fixed 30s');
  t.is(timeoutLabel(120_000), 'fixed 2m');
  t.is(timeoutLabel(5_400_000), 'fixed 1.5h');
  t.is(timeoutLabel(500), 'fixed 500ms');
  t.is(policyLabel({ policy: 'fixed', idleTimeoutMs: 120_000 } as PolicyResultView), 'fixed 2m');
  t.is(policyLabel({ policy: 'fixed:300s', idleTimeoutMs: 300_000 } as PolicyResultView), 'fixed 5m');
  t.is(policyLabel({ policy: 'oracle' } as PolicyResultView), 'oracle');
});

test('the model of the fixture: sweep ascending in wakes, best fixed timeout, each policy against the sweep at its own wakes', (t) => {
  const m = buildReplayReport(fixture());
  t.deepEqual(m.sweep.map((p) => p.label), ['fixed 15m', 'fixed 5m', 'fixed 2m', 'fixed 1m', 'fixed 30s']);
  t.deepEqual(m.bestFixed?.label, 'fixed 30s');
  t.deepEqual(m.policies.map((p) => p.name), ['fixed 2m', 'adaptive', 'predictive', 'oracle']);
  // predictive: 70 wakes / 6 VM-days = 11.67, between 5m (7.5, 46 %) and 2m (13.33, 55 %): 52.43 %.
  const pred = m.policies[2]!;
  t.is(+pred.vsFixedAtSameWakes!.toFixed(2), +(65.9 - (46 + ((70 / 6 - 7.5) / (80 / 6 - 7.5)) * 9)).toFixed(2));
  t.is(+m.policies[0]!.vsFixedAtSameWakes!.toFixed(9), 0, 'the fixed 2m policy lies on its own sweep point');
  // oracle: 60 wakes / 6 = 10 per VM-day, inside the sweep as well.
  t.true(m.policies[3]!.vsFixedAtSameWakes! > 0);
});

test('time per state: shares of each policy sum to 1 and follow timeInStateSeconds', (t) => {
  const m = buildReplayReport(fixture());
  for (const p of m.policies) {
    const sum = Object.values(p.stateShare).reduce((a, v) => a + v, 0);
    t.is(+sum.toFixed(12), 1, p.name);
    const secs = p.result.timeInStateSeconds;
    t.is(+p.stateShare.parked.toFixed(12), +(secs.parked / Object.values(secs).reduce((a, v) => a + v, 0)).toFixed(12));
  }
});

test('per-VM rows: the union of VMs in natural order, a dash where a policy lacks the VM', (t) => {
  const r = raw();
  r['policies'][1].perVm = r['policies'][1].perVm.filter((v: { vm: string }) => v.vm !== 'vm2');
  const m = buildReplayReport(parseReplayResults(r, 'results.json'));
  t.deepEqual(m.perVm.map((v) => v.vm), ['vm1', 'vm2', 'vm10']);
  const vm2 = m.perVm[1]!;
  t.is(vm2.cells.length, 4);
  t.is(vm2.cells[1], undefined);
  t.is(vm2.cells[0]?.vm, 'vm2');
});

test('a results file with wrong fields is refused with the file and every bad field named', (t) => {
  const r = raw();
  r['policies'][1].savedPct = 'lots';
  r['sweep'][0].addedLatencyMs.cdf[0] = [3, 1.5];
  delete r['trace'].flows;
  const e = t.throws(() => parseReplayResults(r, 'out/results.json'), { instanceOf: ReplayResultsError });
  t.is(e.issues.length, 3, e.message);
  t.regex(e.message, /^out\/results\.json: /m);
  t.regex(e.message, /policies\[1\]\.savedPct: /);
  t.regex(e.message, /sweep\[0\]\.addedLatencyMs\.cdf\[0\]\[1\]: /);
  t.regex(e.message, /trace\.flows: /);
});

test('time-in-state: absent phases count as zero, an unknown phase name is an error', (t) => {
  const r = raw();
  r['policies'][0].timeInStateSeconds = { active: 30, parked: 70 };
  const ok = parseReplayResults(r, 'f.json');
  t.deepEqual(ok.policies[0]!.timeInStateSeconds, { active: 30, parking: 0, parked: 70, waking: 0, wake_failed: 0, unknown: 0 });
  r['policies'][0].timeInStateSeconds = { active: 30, hibernating: 70 };
  t.throws(() => parseReplayResults(r, 'f.json'), { message: /policies\[0\]\.timeInStateSeconds/ });
});

test('the page: one row per policy, the plots, the unknown addresses, no scripts or links', (t) => {
  const html = renderReplayHtml(buildReplayReport(fixture()), { source: 'results.json' });
  t.is((html.match(/<svg /g) ?? []).length, 3, 'tradeoff, latency CDF, time per state');
  t.is((html.match(/<g class="policy-pt">/g) ?? []).length, 4);
  t.is((html.match(/<circle class="sweep-pt"/g) ?? []).length, 5);
  t.regex(html, /<tr><td>predictive<\/td><td>[^<]+<\/td><td>65.9%<\/td><td>92.56%<\/td><td><span class="better">\+13.47 pts<\/span>/);
  t.regex(html, /Best fixed timeout of the sweep: fixed 30s, 64%/);
  t.regex(html, /1 addresses in the trace match no VM of the inventory \(12 flows, not replayed\): 10\.9\.9\.9 \(12\)/);
  t.regex(html, /<table id="per-vm">/);
  t.notRegex(html, /<script|<link|src=/);
});

test('the page of a large replay keeps the per-VM table bounded and says so', (t) => {
  const r = raw();
  const many = Array.from({ length: PER_VM_ROWS + 7 }, (_, i) => ({ vm: `vm${i}`, savedJoules: 1, parks: 1, wakes: 1, p99AddedMs: 5, flowsMetParked: 1 }));
  for (const p of r['policies']) p.perVm = many;
  const html = renderReplayHtml(buildReplayReport(parseReplayResults(r, 'f.json')), { source: 'f.json' });
  t.is((html.match(/<tr><td>vm\d+<\/td>/g) ?? []).length, PER_VM_ROWS);
  t.regex(html, new RegExp(`first ${PER_VM_ROWS} of ${PER_VM_ROWS + 7} VMs`));
});

test('no sweep, no delayed packets: the page says so instead of drawing empty plots', (t) => {
  const r = raw();
  r['sweep'] = [];
  for (const p of r['policies']) p.addedLatencyMs = { p50: 0, p99: 0, max: 0, count: 0, cdf: [] };
  const html = renderReplayHtml(buildReplayReport(parseReplayResults(r, 'f.json')), { source: 'f.json' });
  t.regex(html, /no sweep of fixed timeouts in this file/);
  t.regex(html, /no first packet met a parked VM under any policy/);
  t.is((html.match(/<svg /g) ?? []).length, 2);
  t.regex(html, /<td>fixed 2m<\/td>(<td>[^<]*<\/td>){3}<td><span title="outside the sweep's range of wakes">–<\/span>/);
});

test('the profile in the header: its name, or the wake medians of the profile object the engine writes', (t) => {
  t.is(profileName('measured.yaml'), 'measured.yaml');
  t.is(profileName({ file: 'p.json', depths: {} }), 'p.json');
  t.is(profileName({ depths: { pause: { wake: { p50Ms: 9 } }, save: { wake: { p50Ms: 570.25 } } }, residentBytes: 1 }), 'wake p50: pause 9 ms, save 570 ms');
  t.is(profileName(undefined), 'default');
});
