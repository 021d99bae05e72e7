import test from 'ava';
import { TraceBuilder, ipToU32, PROTO_TCP, PROTO_UDP } from '../../../controller/replay/trace.js';
import {
  activityGaps, ambiguousBand, ambiguousGaps, calibratedProfile, calibrationFrom, compare, latencyTolerance, measure, parseTransitions,
  fromEngine, BAND_SLACK_MS, LATENCY_FLOOR_MS, type RealVm,
} from '../../../controller/replay/real-compare.js';

const vm1: RealVm = { name: 'vm1', ip: '10.0.0.11', idleTimeoutMs: 4000, ignore: [{ src: '192.168.77.7' }], depth: 'pause' };

function trace(rows: Array<[number, string, string, number, number, number]>) {
  const b = new TraceBuilder();
  for (const [start, src, dst, proto, dport, dur] of rows) b.push(start, ipToU32(src)!, ipToU32(dst)!, proto, dport, 1, 60, dur);
  return b.finish('t.csv');
}

test('activity gaps run from the end of a VM\'s traffic to its next counted flow; ignored and other VMs\' flows do not count', (t) => {
  const tr = trace([
    [0, '172.16.0.1', '10.0.0.11', PROTO_TCP, 80, 500],
    [200, '172.16.0.1', '10.0.0.11', PROTO_TCP, 22, 1000], // overlaps: traffic until 1200
    [3000, '192.168.77.7', '10.0.0.11', PROTO_UDP, 161, 0], // ignored: not activity
    [4000, '172.16.0.1', '10.0.0.12', PROTO_TCP, 80, 0], // another VM
    [11200, '172.16.0.1', '10.0.0.11', PROTO_TCP, 80, 0],
    [12000, '172.16.0.1', '10.0.0.11', PROTO_UDP, 53, 0], // not a gateway port, but activity while active
  ]);
  t.deepEqual(activityGaps(tr, vm1), [10_000, 800]);
});

test('the ambiguous band: idle timeout to idle + 2 polls + the slowest park and wake, with slack; gaps inside it are counted', (t) => {
  const band = ambiguousBand(4000, 1000, 60, 40);
  t.deepEqual(band, { lo: 4000 - BAND_SLACK_MS, hi: 4000 + 2000 + 60 + 40 + BAND_SLACK_MS });
  t.deepEqual(ambiguousGaps([1000, 3800, 4000, 5500, 6199, 6200, 9000], band), [4000, 5500, 6199]);
});

const line = (time: string, vm: string, from: string, to: string, reason: string, extra = '') =>
  `{"time":"${time}","level":"info","msg":"vm transition","vm":"${vm}","from":"${from}","to":"${to}","reason":"${reason}"${extra}}`;

const LOG = [
  'not json',
  '{"time":"2026-12-01T10:00:00.000Z","level":"info","msg":"switch up"}',
  line('2026-12-01T10:00:01.000Z', 'vm1', 'active', 'parking', 'idle'),
  line('2026-12-01T10:00:01.030Z', 'vm1', 'parking', 'parked', 'parked', ',"depth":"pause"'),
  line('2026-12-01T10:00:05.000Z', 'vm1', 'parked', 'waking', 'packet'),
  line('2026-12-01T10:00:05.012Z', 'vm1', 'waking', 'active', 'woken', ',"durationMs":12'),
  line('2026-12-01T10:00:09.000Z', 'vm1', 'active', 'parking', 'operator-park'),
  line('2026-12-01T10:00:09.020Z', 'vm1', 'parking', 'parked', 'parked'),
  line('2026-12-01T10:00:10.000Z', 'vm1', 'parked', 'waking', 'operator-wake'),
  line('2026-12-01T10:00:10.030Z', 'vm1', 'waking', 'active', 'woken', ',"durationMs":30'),
];

test('measure: parks and packet-started wakes inside the window; operator wakes are not the trace\'s', (t) => {
  const trs = parseTransitions(LOG);
  t.is(trs.length, 8);
  t.is(trs[3]!.durationMs, 12);
  const all = measure(trs, ['vm1', 'vm2'], 0, Date.parse('2026-12-01T11:00:00Z'));
  t.deepEqual(all, [{ vm: 'vm1', parks: 2, wakes: 1, wakeMs: [12] }, { vm: 'vm2', parks: 0, wakes: 0, wakeMs: [] }]);
  const early = measure(trs, ['vm1'], 0, Date.parse('2026-12-01T10:00:05.000Z'));
  t.deepEqual(early[0], { vm: 'vm1', parks: 1, wakes: 0, wakeMs: [] });
});

test('calibration: park and wake durations per depth become a latency profile (p99 above p50)', (t) => {
  const cal = calibrationFrom(parseTransitions(LOG), (vm) => (vm === 'vm1' ? 'pause' : undefined));
  t.deepEqual(cal.wakeMs, { pause: [12, 30] });
  t.deepEqual(cal.parkMs, { pause: [20, 30] });
  t.deepEqual(calibratedProfile(cal), { depths: { pause: { park: { p50Ms: 20, p99Ms: 30 }, wake: { p50Ms: 12, p99Ms: 30 } } } });
  t.is(latencyTolerance(cal, 'pause'), LATENCY_FLOOR_MS, 'range 12..30 ms = 18 ms: the floor');
  t.is(latencyTolerance({ wakeMs: { pause: [10, 11, 12] }, parkMs: {} }, 'pause'), LATENCY_FLOOR_MS, 'narrow and fast: the floor');
  t.is(latencyTolerance({ wakeMs: { save: [400, 500, 900] }, parkMs: {} }, 'save'), 500, 'the range');
  t.is(latencyTolerance({ wakeMs: { save: [5000, 5100, 5200] }, parkMs: {} }, 'save'), 2550, 'half the median: load drift');
});

const cal = { wakeMs: { pause: [10, 12, 14, 40] }, parkMs: { pause: [20] } };
const m = (parks: number, wakeMs: number[]) => [{ vm: 'vm1', parks, wakes: wakeMs.length, wakeMs }];

test('compare: equal counts and close median wakes agree; a park more than the ambiguous gaps allow does not', (t) => {
  const ok = compare(m(5, [10, 11, 12, 13, 30]), m(5, [9, 12, 20, 25, 33]), [vm1], new Map(), cal);
  t.true(ok.agree);
  t.is(ok.vms[0]!.latencyToleranceMs, 30, 'calibration range 10..40');
  t.deepEqual(ok.vms[0]!.sim, { parks: 5, wakes: 5, wakeP50Ms: 20, wakeMaxMs: 33 });
  const off = compare(m(5, [10, 11, 12, 13, 30]), m(4, [9, 12, 20, 25]), [vm1], new Map(), cal);
  t.false(off.agree);
  t.false(off.vms[0]!.parksAgree);
  t.false(off.vms[0]!.wakesAgree);
  const allowed = compare(m(5, [10, 11, 12, 13, 30]), m(4, [9, 12, 20, 25]), [vm1], new Map([['vm1', [4500]]]), cal);
  t.true(allowed.agree, 'one gap in the band allows one park and one wake of difference');
  t.is(allowed.allowed, 1);
});

test('compare: median wakes further apart than the calibration spread disagree; one side never waking disagrees', (t) => {
  t.false(compare(m(2, [10, 12]), m(2, [500, 600]), [vm1], new Map(), cal).agree);
  t.true(compare(m(2, [10, 12]), m(2, [38, 40]), [vm1], new Map(), cal).agree, '28 ms apart: within the range');
  t.false(compare(m(2, [10, 12]), m(2, [44, 46]), [vm1], new Map(), cal).agree, '34 ms apart: beyond it');
  t.false(compare(m(0, []), m(1, [12]), [vm1], new Map([['vm1', [1, 2]]]), cal).agree, 'one side woke it, the other never did');
  t.true(compare(m(0, []), m(0, []), [vm1], new Map(), cal).agree, 'neither woke it');
});

test('the simulator\'s transition records measure like the log: a wake lasts from waking to active', (t) => {
  const trs = fromEngine([
    { at: 1000, vm: 'vm1', from: 'active', to: 'parking', reason: 'idle' },
    { at: 1030, vm: 'vm1', from: 'parking', to: 'parked', reason: 'parked' },
    { at: 5000, vm: 'vm1', from: 'parked', to: 'waking', reason: 'packet' },
    { at: 5017, vm: 'vm1', from: 'waking', to: 'active', reason: 'woken' },
  ]);
  t.is(trs[3]!.durationMs, 17);
  t.deepEqual(measure(trs, ['vm1'], 0, 10_000), [{ vm: 'vm1', parks: 1, wakes: 1, wakeMs: [17] }]);
});

test('the window\'s end is a gap too: a VM whose last traffic ends inside the band before it is ambiguous', (t) => {
  const tr = trace([[0, '172.16.0.1', '10.0.0.11', PROTO_TCP, 80, 1000]]);
  t.deepEqual(activityGaps(tr, vm1, 6000), [5000]);
  t.deepEqual(activityGaps(tr, vm1), []);
});
