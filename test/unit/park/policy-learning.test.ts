// Policies see only the past; adaptive converges to its documented timeout;
// predictive learns a daily pattern, parks at night soon after the last
// activity and wakes the VM ahead of the morning's first packet.
import test from 'ava';
import { bestTimeout } from '../../../controller/park/policy/adaptive.js';
import { learnIdle, resolvePolicy, EMPTY_LEARNED, type Learned } from '../../../controller/park/policy/index.js';
import { chanceOfActivity, expectedRest } from '../../../controller/park/policy/predictive.js';
import { drive, type Transition } from '../../support/policy-driver.js';
import { Rng } from '../../../controller/replay/rng.js';

const T_STAR_MS = 20_000; // the inventory's pause transitions: 40 J at 2 W

const inventory = (policy: string, extra = '', poll = '1s') => `
switches: [{ name: s1, dpid: 1 }]
power: { pause: { parkMs: 25, parkJoules: 20, wakeMs: 25, wakeJoules: 20 } }
park: { pollInterval: ${poll}, policy: ${policy} }
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depth: pause, minActive: 0 ${extra} }
`;

/** The project's seeded generator (controller/replay/rng.ts, mulberry32) as a function. */
function rng(seed: number): () => number {
  const g = new Rng(seed);
  return () => g.next();
}

/** Activity: bursts separated by idle gaps, 90 % short (1-10 s), 10 % long (10-30 min). */
function mixedTrace(seed: number, from: number, until: number): number[] {
  const r = rng(seed);
  const ts: number[] = [];
  for (let t = from; t < until; ) {
    ts.push(t);
    t += r() < 0.9 ? 1_000 + r() * 9_000 : 600_000 + r() * 1_200_000;
  }
  return ts;
}

const decisions = (tr: readonly Transition[], until: number) => tr.filter((x) => x.at <= until).map((x) => `${x.at} ${x.from}->${x.to} ${x.reason}`);

test('policies see only the past: changing the trace after time X changes no decision before X (the oracle does change)', (t) => {
  const X = 3 * 3_600_000;
  const prefix = mixedTrace(7, 1_000.5, X);
  const futureA = [...prefix, ...mixedTrace(8, X + 1, X + 3_600_000)];
  const futureB = [...prefix, ...mixedTrace(9, X + 1, X + 3_600_000).map((x) => x + 5_000)];
  for (const policy of ['fixed', 'adaptive', 'predictive', '{ name: predictive, threshold: 0.5 }']) {
    const a = drive({ inventory: inventory(policy), activity: new Map([['vm1', futureA]]), endAt: X + 3_600_000 });
    const b = drive({ inventory: inventory(policy), activity: new Map([['vm1', futureB]]), endAt: X + 3_600_000 });
    const da = decisions(a.transitions, X);
    t.true(da.filter((d) => d.includes('->parking')).length > 3, `${policy} parked`);
    t.deepEqual(da, decisions(b.transitions, X), policy);
  }
  // The same check catches a policy that reads the future.
  const a = drive({ inventory: inventory('oracle'), activity: new Map([['vm1', futureA]]), endAt: X + 3_600_000 });
  const b = drive({ inventory: inventory('oracle'), activity: new Map([['vm1', futureB]]), endAt: X + 3_600_000 });
  t.notDeepEqual(decisions(a.transitions, X), decisions(b.transitions, X));
});

/**
 * Expected savings (per period, in units of P_on - P_d) of timeout tau on the
 * stationary distribution of mixedTrace: E[(T - tau - T*) 1{T > tau}], T ~
 * 0.9 U[1 s, 10 s] + 0.1 U[600 s, 1800 s], by numeric integration.
 */
function expectedSavings(tau: number): number {
  const part = (w: number, lo: number, hi: number): number => {
    const a = Math.max(lo, tau);
    if (a >= hi) return 0;
    // integral over [a, hi] of (T - tau - T*) dT / (hi - lo)
    const f = (x: number) => x * x / 2 - (tau + T_STAR_MS) * x;
    return (w * (f(hi) - f(a))) / (hi - lo);
  };
  return part(0.9, 1_000, 10_000) + part(0.1, 600_000, 1_800_000);
}

test('adaptive converges to the documented timeout: the argmax of the expected savings of the idle distribution', (t) => {
  // The documented timeout, from the distribution itself (fine grid).
  let tauStar = 0;
  for (let tau = 0; tau <= 1_800_000; tau += 100) if (expectedSavings(tau) > expectedSavings(tauStar)) tauStar = tau;
  t.is(tauStar, 10_000, 'top of the short cluster (short gaps are shorter than T* on average)');
  // Learned online from a stream of periods drawn from it.
  const r = rng(3);
  const pol = resolvePolicy({ name: 'adaptive' });
  let l: Learned = EMPTY_LEARNED;
  let t0 = 0;
  const timeouts: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const len = r() < 0.9 ? 1_000 + r() * 9_000 : 600_000 + r() * 1_200_000;
    l = learnIdle(pol, l, t0, t0 + len, 0, T_STAR_MS);
    t0 += len;
    if (i >= 200) timeouts.push(l.timeoutMs!);
  }
  const sorted = timeouts.sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1]!;
  t.true(Math.abs(median - tauStar) / tauStar < 0.05, `median learned timeout ${median} ms vs ${tauStar} ms`);
  // and a timeout that does not pay: with every period shorter than T*, the longest seen (never park inside the history).
  t.is(bestTimeout([1_000, 5_000, 3_000], T_STAR_MS), 5_000);
  t.is(bestTimeout([60_000, 60_000], T_STAR_MS), 0);
});

test('adaptive through the machine: after learning, it parks at the top of the short gaps, well before the idle timeout', (t) => {
  const ts = mixedTrace(11, 1_000.5, 6 * 3_600_000);
  const r = drive({ inventory: inventory('adaptive', ', idleTimeout: 5m'), activity: new Map([['vm1', ts]]), endAt: 6 * 3_600_000 });
  const v = r.state.vms.get('vm1')!;
  t.true(v.learned.recent.length >= 8);
  const tau = v.learned.timeoutMs!;
  t.true(tau >= 8_000 && tau <= 12_000, `learned ${tau} ms`);
  // Late parks (after it learned) start about tau after the last activity: well under 5 minutes.
  const lateParks = r.transitions.filter((x) => x.to === 'parking' && x.at > 3_600_000);
  t.true(lateParks.length > 3);
  const fixed = drive({ inventory: inventory('fixed', ', idleTimeout: 5m'), activity: new Map([['vm1', ts]]), endAt: 6 * 3_600_000 }).state.vms.get('vm1')!;
  t.true(v.energy.savedJoules > fixed.energy.savedJoules, `adaptive ${v.energy.savedJoules} J, fixed 5m ${fixed.energy.savedJoules} J`);
});

const DAY = 24 * 3_600_000;
/** An office VM: activity every 1-8 s from 9:00 (+0..10 min) to 17:00 each day, nothing at night. */
function officeTrace(days: number, seed: number): number[] {
  const r = rng(seed);
  const ts: number[] = [];
  for (let d = 0; d < days; d++) {
    const start = d * DAY + 9 * 3_600_000 + r() * 600_000;
    const end = d * DAY + 17 * 3_600_000;
    for (let t = start; t < end; t += 1_000 + r() * 7_000) ts.push(Math.floor(t) + 0.5);
  }
  return ts;
}

test('predictive learns a daily pattern: parks soon after the evening, pre-wakes before the morning (no packet waits)', (t) => {
  const days = 8;
  const ts = officeTrace(days, 5);
  const r = drive({ inventory: inventory('predictive', ', idleTimeout: 30m', '2s'), activity: new Map([['vm1', ts]]), endAt: days * DAY - 1 });
  const v = r.state.vms.get('vm1')!;
  // From day 3 on: each evening it parks within a minute of the last packet (fixed would wait 30 min) ...
  for (let d = 3; d < days - 1; d++) {
    const last = ts.filter((x) => x < d * DAY + 17 * 3_600_000).at(-1)!;
    const park = r.transitions.find((x) => x.to === 'parking' && x.at > last && x.at < (d + 1) * DAY);
    t.truthy(park, `day ${d}: parked in the evening`);
    t.true(park!.at - last < 60_000, `day ${d}: parked ${(park!.at - last) / 1000} s after the last packet`);
    // ... and is woken ahead of the next morning's first packet, which then finds it running.
    const first = ts.find((x) => x > (d + 1) * DAY)!;
    const wakes = r.transitions.filter((x) => x.to === 'waking' && x.at > park!.at && x.at <= first);
    t.is(wakes.length, 1, `day ${d + 1}: one wake before the first packet`);
    t.is(wakes[0]!.reason, 'pre-wake');
    t.true(first - wakes[0]!.at < 16 * 60_000, `day ${d + 1}: pre-woken ${(first - wakes[0]!.at) / 60_000} min early`);
  }
  // Not during the working day: short gaps are likely to end within T*, so it stays up.
  const dayParks = r.transitions.filter((x) => x.to === 'parking' && x.at > 4 * DAY && (x.at % DAY) > 10 * 3_600_000 && (x.at % DAY) < 16 * 3_600_000);
  t.is(dayParks.length, 0);
  // What it learned says so: after 10 s idle at 10:00, activity within T* is near certain.
  const p = chanceOfActivity(v.learned, 6 * DAY + 10 * 3_600_000, 10_000, T_STAR_MS, 0, 10);
  t.true(p !== undefined && p > 0.9, `chance ${p}`);
});

test('predictive without enough history behaves like fixed (the idle timeout decides)', (t) => {
  const ts = [1_000.5, 5_000.5];
  const r = drive({ inventory: inventory('predictive', ', idleTimeout: 60s'), activity: new Map([['vm1', ts]]), endAt: 200_000 });
  const f = drive({ inventory: inventory('fixed', ', idleTimeout: 60s'), activity: new Map([['vm1', ts]]), endAt: 200_000 });
  t.deepEqual(decisions(r.transitions, 200_000), decisions(f.transitions, 200_000));
});

test('predictive expect rule: the expected rest of the idle period from the histograms decides', (t) => {
  const pol = resolvePolicy({ name: 'predictive' });
  let l: Learned = EMPTY_LEARNED;
  let t0 = 0;
  // 100 short gaps of 5 s, 10 idle periods of about an hour.
  for (let i = 0; i < 110; i++) {
    const len = i % 11 === 10 ? 3_600_000 : 5_000;
    l = learnIdle(pol, l, t0, t0 + len, 0, T_STAR_MS);
    t0 += len;
  }
  const all = l.all;
  // 20 s idle: only the hour-long periods are left; their rest is about 59 minutes (bins are a factor of 2 wide).
  const rest = expectedRest(all, 20_000);
  t.true(rest > 30 * 60_000 && rest < 90 * 60_000, `rest ${rest / 60_000} min`);
  // 3 s idle: most periods end within seconds, the expectation is much lower.
  t.true(expectedRest(all, 3_000) < rest / 5);
  const input = (policy: ReturnType<typeof resolvePolicy>, a: number) =>
    policy.policy.shouldPark({ vm: 'vm1', now: t0 + a, idleFrom: t0, idleTimeoutMs: 3_600_000, breakEvenMs: T_STAR_MS, wakeMs: 25, pollIntervalMs: 1000, epochOffsetMs: 0, learned: l });
  const p30m = resolvePolicy({ name: 'predictive', expectMs: 30 * 60_000 });
  const p2h = resolvePolicy({ name: 'predictive', expectMs: 2 * 3_600_000 });
  t.false(input(p30m, 3_000), 'within the short gaps: not yet');
  t.true(input(p30m, 20_000), 'past them: an hour is expected, more than 30 min');
  t.false(input(p2h, 20_000), 'but not 2 h');
});
