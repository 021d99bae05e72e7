// predictive: park only when the chance that the VM becomes active again
// within its break-even time is low, learned online from its own history and
// the time of day and week; and wake it ahead of activity it expects.
//
// Chance of activity: the VM's finished idle periods are kept as histograms of
// their length (log2 bins, learned.ts), by the hour of the week they started
// in, by the hour of the day, and over all. After `a` ms idle, with S(x) the
// number of periods longer than x in the most specific histogram
// holding at least `minSamples` periods longer than `a`:
//   P(activity within H | idle a) = (S(a) - S(a + H)) / S(a),  H = the break-even time
// (within a bin S is interpolated on the log scale). Park when P <= threshold.
// With no histogram that knows periods this long, the idle timeout decides
// (the fixed rule), so a young VM behaves like a fixed one.
//
// Pre-wake: long idle periods (>= LONG_IDLE_MS) teach, per 15-minute slot of
// the day, how many were still idle when the slot began and how many ended in
// it. When the VM parks, the first slot ahead whose end rate ("hazard") is at
// least PREWAKE_HAZARD over at least PREWAKE_MIN_ALIVE periods is where its
// activity is expected: it is woken that slot's start minus the depth's wake
// time, so the first packet finds it running.
import { binLow, hourOfWeek, LEN_BINS, SLOT_MS, SLOTS_PER_DAY, slotOfDay, DAY_MS, type Learned } from './learned.js';
import { fixedPolicy } from './fixed.js';
import type { Policy, PolicyInput } from './types.js';

export interface PredictiveParams {
  /** Park when the chance of activity within the horizon is at most this. */
  readonly threshold: number;
  /** Periods longer than the current idle time a histogram needs before it is trusted. */
  readonly minSamples: number;
  /** Wake parked VMs ahead of their expected activity. */
  readonly preWake: boolean;
  /** The window (ms) the chance of activity is judged over: max(this, the break-even time). */
  readonly horizonMs: number;
  /**
   * When set (ms): park instead when the expected rest of the idle period is at least
   * this (a budget of wakes spent on the periods expected to be longest).
   */
  readonly expectMs?: number | undefined;
}

export const PREDICTIVE_DEFAULTS: PredictiveParams = { threshold: 0.2, minSamples: 3, preWake: true, horizonMs: 0 };
/** A slot whose end rate reaches this is where the activity is expected. */
export const PREWAKE_HAZARD = 0.5;
/** ... over at least this many long periods (days) alive at its start. */
export const PREWAKE_MIN_ALIVE = 3;
/** How far ahead the decision scan for earliestPark looks. */
const SCAN_MS = 30 * DAY_MS;

/** Periods in `hist` longer than x ms; log-uniform within a bin, the last bin open-ended. */
export function survival(hist: readonly number[], x: number): number {
  let s = 0;
  for (let k = LEN_BINS - 1; k >= 0; k--) {
    const c = hist[k]!;
    if (c === 0) continue;
    const lo = binLow(k);
    if (x < lo) {
      s += c;
      continue;
    }
    if (k === LEN_BINS - 1) {
      s += c; // open-ended: all of it counts as longer
      continue;
    }
    const hi = binLow(k + 1);
    if (x >= hi) break;
    const frac = k === 0 ? (hi - x) / hi : Math.log(hi / x) / Math.log(hi / lo);
    s += c * frac;
    break;
  }
  return s;
}

/** P(activity within `horizonMs` | idle for `a` ms, period started at `start`), or undefined when no histogram knows enough. */
export function chanceOfActivity(l: Learned, start: number, a: number, horizonMs: number, epochOffsetMs: number, minSamples: number): number | undefined {
  if (l.all.length === 0) return undefined;
  const h = hourOfWeek(start, epochOffsetMs);
  for (const hist of [l.byHour[h], l.byDayHour[h % 24], l.all]) {
    if (hist === undefined) continue;
    const alive = survival(hist, a);
    if (alive < minSamples) continue;
    return (alive - survival(hist, a + horizonMs)) / alive;
  }
  return undefined;
}

/** Expected rest (ms) of an idle period already `a` long, from `hist` (bins at their geometric middle; the open bin at its low edge x 2). */
export function expectedRest(hist: readonly number[], a: number): number {
  const alive = survival(hist, a);
  if (!(alive > 0)) return 0;
  let sum = 0;
  for (let k = 0; k < LEN_BINS; k++) {
    const lo = binLow(k);
    const hi = k === LEN_BINS - 1 ? lo * 4 : binLow(k + 1);
    if (hi <= a) continue;
    const from = Math.max(lo, a);
    // Periods of this bin longer than a, at the middle of what is left of the bin.
    const n = survival(hist, from) - (k === LEN_BINS - 1 ? 0 : survival(hist, hi));
    sum += n * (Math.sqrt(Math.max(from, 1000) * hi) - a);
  }
  return sum / alive;
}

/** Expected rest (ms) of the idle period, from the most specific histogram that knows enough; undefined when none does. */
export function expectedRestOf(l: Learned, start: number, a: number, epochOffsetMs: number, minSamples: number): number | undefined {
  if (l.all.length === 0) return undefined;
  const h = hourOfWeek(start, epochOffsetMs);
  for (const hist of [l.byHour[h], l.byDayHour[h % 24], l.all]) {
    if (hist === undefined || survival(hist, a) < minSamples) continue;
    return expectedRest(hist, a);
  }
  return undefined;
}

/** Engine time of the pre-wake for a VM parked at `now`, or undefined when no slot ahead qualifies. */
export function expectedActivity(l: Learned, now: number, epochOffsetMs: number): number | undefined {
  if (l.alive.length !== SLOTS_PER_DAY) return undefined;
  const first = Math.ceil((now + epochOffsetMs) / SLOT_MS) * SLOT_MS - epochOffsetMs;
  for (let k = 0; k < SLOTS_PER_DAY; k++) {
    const t = first + k * SLOT_MS;
    const s = slotOfDay(t, epochOffsetMs);
    const alive = l.alive[s]!;
    if (alive >= PREWAKE_MIN_ALIVE && l.ends[s]! / alive >= PREWAKE_HAZARD) return t;
  }
  return undefined;
}

export function predictivePolicy(p: PredictiveParams): Policy {
  const decide = (i: PolicyInput, now: number): boolean => {
    const a = now - i.idleFrom;
    // At least one poll without activity: a poll that saw the counter move is not idle.
    if (a < i.pollIntervalMs) return false;
    if (p.expectMs !== undefined) {
      const rest = expectedRestOf(i.learned, i.idleFrom, a, i.epochOffsetMs, p.minSamples);
      if (rest === undefined) return fixedPolicy.shouldPark({ ...i, now });
      return rest >= Math.max(p.expectMs, i.breakEvenMs);
    }
    const chance = chanceOfActivity(i.learned, i.idleFrom, a, Math.max(i.breakEvenMs, p.horizonMs), i.epochOffsetMs, p.minSamples);
    if (chance === undefined) return fixedPolicy.shouldPark({ ...i, now });
    return chance <= p.threshold;
  };
  return {
    shouldPark: (i) => decide(i, i.now),
    earliestPark: (i) => {
      if (decide(i, i.now)) return i.now;
      // Geometric scan of future idle times; the point BEFORE the first that parks
      // is returned, so a crossing between two points is never missed (early, not late).
      let prev = i.now;
      let a = Math.max(i.now - i.idleFrom, i.pollIntervalMs);
      while (a < SCAN_MS) {
        a = Math.max(a * 1.05, a + i.pollIntervalMs);
        const t = i.idleFrom + a;
        if (decide(i, t)) return prev;
        prev = t;
      }
      return prev;
    },
    preWakeAt: (i) => {
      if (!p.preWake) return undefined;
      const t = expectedActivity(i.learned, i.now, i.epochOffsetMs);
      return t === undefined ? undefined : Math.max(i.now, t - i.wakeMs);
    },
    // The expected activity comes somewhere in its 15-minute slot: stay up through it.
    preWakeHoldMs: SLOT_MS,
  };
}
