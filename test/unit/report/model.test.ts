import test from 'ava';
import { readFileSync } from 'node:fs';
import { parseEventLog, type TransitionEvent } from '../../../controller/report/events.js';
import type { Depth } from '../../../controller/inventory/types.js';
import { buildReport, quantile } from '../../../controller/report/model.js';

const fixture = (name: string) => readFileSync(new URL(`../../support/report/${name}`, import.meta.url), 'utf8');
let n = 0;
const ev = (time: number, vm: string, from: TransitionEvent['from'], to: TransitionEvent['to'], reason: TransitionEvent['reason'], extra: Partial<TransitionEvent> = {}): TransitionEvent => ({ kind: 'transition', time, vm, from, to, reason, line: ++n, ...extra });

test('quantile is nearest-rank: an observed sample, p99 of few samples is the largest', (t) => {
  const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  t.is(quantile(s, 0.5), 5);
  t.is(quantile(s, 0.99), 10);
  t.is(quantile([7], 0.5), 7);
  t.is(quantile([], 0.5), undefined);
});

test('state intervals cover each VM from the run start to its end, phase by phase', (t) => {
  const r = buildReport([
    ev(1000, 'a', 'unknown', 'active', 'confirmed-running'),
    ev(2000, 'b', 'unknown', 'active', 'confirmed-running'),
    ev(5000, 'a', 'active', 'parking', 'idle'),
    ev(5100, 'a', 'parking', 'parked', 'parked'),
    ev(9000, 'a', 'parked', 'waking', 'packet'),
    ev(9010, 'a', 'waking', 'active', 'woken', { durationMs: 10 }),
    ev(12000, 'b', 'active', 'parking', 'idle'),
  ]);
  t.is(r.start, 1000);
  t.is(r.end, 12000);
  t.deepEqual(
    r.vms.map((v) => v.intervals.map((i) => [i.phase, i.start, i.end])),
    [
      [['active', 1000, 5000], ['parking', 5000, 5100], ['parked', 5100, 9000], ['waking', 9000, 9010], ['active', 9010, 12000]],
      [['unknown', 1000, 2000], ['active', 2000, 12000]],
    ],
  );
  t.is(r.parks, 1);
  t.is(r.wakes, 1);
});

test('wake latencies are grouped by the log\'s depth, else the inventory\'s, else "unknown"', (t) => {
  const r = buildReport(
    [
      ev(0, 'a', 'parked', 'waking', 'packet'),
      ev(10, 'a', 'waking', 'active', 'woken', { durationMs: 10 }),
      ev(20, 'b', 'parking', 'parked', 'parked', { depth: 'save' }),
      ev(30, 'b', 'parked', 'waking', 'packet'),
      ev(530, 'b', 'waking', 'active', 'woken', { durationMs: 500 }),
      ev(600, 'c', 'waking', 'active', 'woken', { durationMs: 9000 }),
    ],
    { depthOf: (vm) => (vm === 'a' ? 'pause' : vm === 'b' ? 'shutdown' : undefined) },
  );
  t.deepEqual([...r.wakesByDepth], [['pause', [10]], ['save', [500]], ['unknown', [9000]]]);
  t.is(r.vms.find((v) => v.name === 'b')!.depth, 'save', 'the log wins over the inventory');
});

test('memory released now rises on a park that logs it and falls when that VM leaves parked; no field, no series', (t) => {
  const r = buildReport([
    ev(0, 'a', 'parking', 'parked', 'parked', { memoryReleasedBytes: 100 }),
    ev(10, 'b', 'parking', 'parked', 'parked', { memoryReleasedBytes: 50 }),
    ev(20, 'a', 'parked', 'waking', 'packet'),
    ev(30, 'a', 'parking', 'parked', 'parked', { memoryReleasedBytes: 70 }),
  ]);
  t.deepEqual(r.memory?.map((p) => [p.t, p.v]), [[0, 0], [0, 100], [10, 150], [20, 50], [30, 120]]);
  t.is(r.vms[0]!.memoryReleasedBytes, 170);
  t.is(buildReport([ev(0, 'a', 'parking', 'parked', 'parked')]).memory, undefined);
});

test('energy is summed from energySavedJoules as logged (losses included); absent everywhere means no series, not zero', (t) => {
  const r = buildReport([
    ev(0, 'a', 'waking', 'active', 'woken', { durationMs: 5, energySavedJoules: -1.5 }),
    ev(10, 'b', 'waking', 'active', 'woken', { durationMs: 5, energySavedJoules: 40 }),
  ]);
  t.deepEqual(r.energy?.map((p) => [p.t, p.v]), [[0, 0], [0, -1.5], [10, 38.5]]);
  t.deepEqual(r.vms.map((v) => v.energySavedJoules), [-1.5, 40]);
  const none = buildReport(parseEventLog(fixture('run.jsonl')).events);
  t.is(none.energy, undefined);
  t.true(none.vms.every((v) => v.energySavedJoules === undefined));
});

test('the fixture run: parks, wakes and per-depth latencies (p50/p99) from the log and the inventory', (t) => {
  const depths = new Map<string, Depth>([['vm1', 'pause'], ['vm2', 'save'], ['vm3', 'shutdown']]);
  const r = buildReport(parseEventLog(fixture('run.jsonl')).events, { depthOf: (vm) => depths.get(vm) });
  t.is(r.parks, 9);
  t.is(r.wakes, 9);
  t.deepEqual([...r.wakesByDepth.keys()].sort(), ['pause', 'save', 'shutdown']);
  const pause = r.wakesByDepth.get('pause')!;
  t.deepEqual(pause, [6.4, 7.8, 8.2, 9.1, 12.9]);
  t.is(quantile(pause, 0.5), 8.2);
  t.is(quantile(pause, 0.99), 12.9);
});
