// The injected clock: the park engine never reads wall time or calls setTimeout
// itself, so tests and replays run on virtual time (STYLE.md practice 5).

/** Opaque handle of a scheduled callback. */
export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** Node's longest timer delay (2^31-1 ms, ~24.8 days); a longer one silently becomes 1 ms. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * The delay handed to setTimeout: never negative, never beyond what Node honours.
 * The inventory keeps every duration far below the limit; this guards the engine
 * against an overflow turning a long wait into a 1 ms busy loop (it fires early instead).
 */
export function timerDelay(ms: number): number {
  return Math.min(MAX_TIMER_DELAY_MS, Math.max(0, ms));
}

/** Real time: performance.now() and setTimeout. */
export function systemClock(): Clock {
  const handles = new Map<number, NodeJS.Timeout>();
  let next = 1;
  return {
    now: () => performance.now(),
    setTimer(fn, ms) {
      const id = next++;
      const t = setTimeout(() => {
        handles.delete(id);
        fn();
      }, timerDelay(ms));
      handles.set(id, t);
      return { id };
    },
    clearTimer(h) {
      const t = handles.get(h.id);
      if (t) clearTimeout(t);
      handles.delete(h.id);
    },
  };
}

/**
 * Virtual time for tests and replays: time moves only in advance(), which runs
 * due timers in (time, creation) order and lets pending promise callbacks run
 * between them, so async adapters that resolve "immediately" behave as they would.
 */
export class VirtualClock implements Clock {
  #now: number;
  #next = 1;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return { id };
  }

  clearTimer(h: TimerHandle): void {
    this.#timers.delete(h.id);
  }

  /** Number of scheduled timers. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due (bounded: at most 1e6 firings). */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (let fired = 0; fired < 1_000_000; fired++) {
      let bestId = -1;
      let best: { at: number; fn: () => void } | undefined;
      for (const [id, t] of this.#timers) {
        if (t.at <= end && (best === undefined || t.at < best.at || (t.at === best.at && id < bestId))) {
          best = t;
          bestId = id;
        }
      }
      if (best === undefined) break;
      this.#timers.delete(bestId);
      this.#now = Math.max(this.#now, best.at);
      best.fn();
      await settle();
    }
    this.#now = end;
    await settle();
  }
}

/** Lets queued promise callbacks (and the ones they queue) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
