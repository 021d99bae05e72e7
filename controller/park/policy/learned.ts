// What a VM's parking policy learns from its past: finished idle periods, as
// the engine saw them. Pure and immutable (a VmState field): recording a
// period copies only the small arrays it changes. Only the past goes in here;
// the oracle's knowledge of the future comes from MachineConfig.future and is
// never stored.

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;

/** Idle-length histogram bins: bin 0 = [0, 2 s), bin k = [2^k s, 2^(k+1) s), the last one open (~24 days and up). */
export const LEN_BINS = 22;
/** Pre-wake statistics per slot of the day (15 minutes). */
export const SLOT_MS = 15 * 60_000;
export const SLOTS_PER_DAY = DAY_MS / SLOT_MS;
/** Idle periods at least this long teach the pre-wake rule (a night, a long meeting; not a coffee break). */
export const LONG_IDLE_MS = HOUR_MS;

export interface Learned {
  /** Engine ms of the last activity the engine saw: the start of the current idle period. */
  readonly idleSince?: number | undefined;
  /** adaptive: recent finished idle periods (ms), oldest first. */
  readonly recent: readonly number[];
  /** adaptive: the timeout chosen from `recent` when the last period was recorded (adaptive.ts bestTimeout). */
  readonly timeoutMs?: number | undefined;
  /**
   * predictive: per hour of the week in which an idle period started (168
   * buckets, allocated when first used), a histogram of idle lengths (LEN_BINS).
   */
  readonly byHour: readonly (readonly number[] | undefined)[];
  /** predictive: the same by hour of the day (24), and over all periods (one histogram): fallbacks while a week is young. */
  readonly byDayHour: readonly (readonly number[] | undefined)[];
  readonly all: readonly number[];
  /** predictive pre-wake: per slot of the day, long idle periods that ended in it. */
  readonly ends: readonly number[];
  /** predictive pre-wake: per slot of the day, long idle periods still idle when it began. */
  readonly alive: readonly number[];
  /** Engine ms at which a parked VM is woken ahead of its activity (pre-wake); undefined when none is due. */
  readonly preWakeAt?: number | undefined;
}

export const EMPTY_LEARNED: Learned = { recent: [], byHour: [], byDayHour: [], all: [], ends: [], alive: [] };

/** Which structures a policy keeps (the others stay empty: no cost for VMs that do not use them). */
export interface LearnWhat {
  readonly recentWindow: number;
  readonly histograms: boolean;
}

/** Histogram bin of an idle length (ms). */
export function lenBin(ms: number): number {
  if (ms < 2000) return 0;
  return Math.min(LEN_BINS - 1, Math.floor(Math.log2(ms / 1000)));
}

/** Lower edge (ms) of histogram bin k. */
export function binLow(k: number): number {
  return k === 0 ? 0 : 1000 * 2 ** k;
}

/** Hour of the week (0..167) of engine time `t`, given the epoch offset. */
export function hourOfWeek(t: number, epochOffsetMs: number): number {
  const w = (t + epochOffsetMs) % WEEK_MS;
  return Math.floor((w < 0 ? w + WEEK_MS : w) / HOUR_MS);
}

/** Slot of the day (0..SLOTS_PER_DAY-1) of engine time `t`. */
export function slotOfDay(t: number, epochOffsetMs: number): number {
  const d = (t + epochOffsetMs) % DAY_MS;
  return Math.floor((d < 0 ? d + DAY_MS : d) / SLOT_MS);
}

/**
 * A copy of `buckets` (allocated to `size` when empty) whose bucket `b` counts one more period in `bin`.
 * Counts never decay: a per-period decay made the few long periods (nights) vanish under the
 * thousands of short gaps of a working day, and those few are what the decision needs.
 */
function addTo(buckets: readonly (readonly number[] | undefined)[], size: number, b: number, bin: number): (readonly number[] | undefined)[] {
  const out = buckets.length === size ? buckets.slice() : new Array<readonly number[] | undefined>(size).fill(undefined);
  const old = out[b];
  const hist = old === undefined ? new Array<number>(LEN_BINS).fill(0) : old.slice();
  hist[bin]! += 1;
  out[b] = hist;
  return out;
}

/**
 * Records a finished idle period [start, end) (engine ms). adaptive keeps the
 * last `recentWindow` lengths; predictive adds the length to the histogram of
 * the period's start hour, and a long period to the pre-wake slot statistics.
 */
export function recordIdle(l: Learned, what: LearnWhat, start: number, end: number, epochOffsetMs: number): Learned {
  const len = end - start;
  if (!(len > 0)) return l;
  let out: Learned = l;
  if (what.recentWindow > 0) {
    const recent = l.recent.length >= what.recentWindow ? l.recent.slice(l.recent.length - what.recentWindow + 1) : l.recent.slice();
    recent.push(len);
    out = { ...out, recent };
  }
  if (what.histograms) {
    const h = hourOfWeek(start, epochOffsetMs);
    const bin = lenBin(len);
    const byHour = addTo(l.byHour, 168, h, bin);
    const byDayHour = addTo(l.byDayHour, 24, h % 24, bin);
    const all = addTo([l.all.length === 0 ? undefined : l.all], 1, 0, bin)[0]!;
    out = { ...out, byHour, byDayHour, all };
    if (len >= LONG_IDLE_MS) {
      const alive = l.alive.length === SLOTS_PER_DAY ? l.alive.slice() : new Array<number>(SLOTS_PER_DAY).fill(0);
      const ends = l.ends.length === SLOTS_PER_DAY ? l.ends.slice() : new Array<number>(SLOTS_PER_DAY).fill(0);
      // Every slot start the period lived through (at most a week of them: bounded work).
      const off = epochOffsetMs;
      let t = Math.ceil((start + off) / SLOT_MS) * SLOT_MS - off;
      const stop = Math.min(end, start + WEEK_MS);
      for (; t < stop; t += SLOT_MS) alive[slotOfDay(t, off)]! += 1;
      // It ended in the slot it was last alive at the start of.
      ends[slotOfDay(end - 1, off)]! += 1;
      out = { ...out, alive, ends };
    }
  }
  return out;
}
