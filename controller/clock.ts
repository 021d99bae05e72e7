// The one clock of the controller. Every component that reads time or arms a
// timer (switch connections, the park engine's shell, the L2 sweep, the Redis
// store) takes a Clock, so tests and replays run the same code on virtual time
// (STYLE.md practice 5). There is one real clock (systemClock) and one virtual
// clock (VirtualClock); nothing else calls setTimeout or performance.now for
// time that matters to behaviour.

/** Opaque handle of a scheduled callback. */
export type TimerHandle = { readonly id: number };

/** Time source and one-shot timers. */
export interface Clock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds (negative: as soon as possible). */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; a handle that already fired or was cleared is ignored. */
  clearTimer(handle: TimerHandle): void;
}

/**
 * Node turns a setTimeout delay above 2^31-1 ms (~24.8 days) into 1 ms, so an
 * overflowing delay would become a busy loop; the real clock clamps to it (the
 * timer then fires late, never at once). Configured durations are refused
 * long before this (inventory/duration.ts).
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Clamps a delay to what Node's timers accept: [0, MAX_TIMER_MS]. */
export function timerDelay(ms: number): number {
  if (!(ms > 0)) return 0; // also NaN
  return Math.min(ms, MAX_TIMER_MS);
}

/**
 * Real time: performance.now() and Node timers. Timers are unref'd: a clock
 * never keeps the process alive on its own (the daemon's listeners do).
 */
export const systemClock: Clock = (() => {
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
      t.unref();
      handles.set(id, t);
      return { id };
    },
    clearTimer(h) {
      const t = handles.get(h.id);
      if (t) clearTimeout(t);
      handles.delete(h.id);
    },
  };
})();

/**
 * Virtual time for tests and replays: time moves only when advanced, and due
 * timers run in (time, creation) order. `advance` also lets pending promise
 * callbacks run between timers, so async adapters that resolve "immediately"
 * behave as they would; `advanceSync` fires timers only, for code driven
 * synchronously (switch connections on a fake socket).
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

  /** Moves time forward by `ms`, firing every timer that falls due and settling promises between them (bounded: at most 1e6 firings). */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (let fired = 0; fired < 1_000_000; fired++) {
      const due = this.#takeDue(end);
      if (due === undefined) break;
      due();
      await settle();
    }
    this.#now = end;
    await settle();
  }

  /** Moves time forward by `ms`, firing due timers synchronously, in order (bounded: at most 1e6 firings). */
  advanceSync(ms: number): void {
    const end = this.#now + ms;
    for (let fired = 0; fired < 1_000_000; fired++) {
      const due = this.#takeDue(end);
      if (due === undefined) break;
      due();
    }
    this.#now = end;
  }

  /** Removes the earliest timer due by `end` and moves time to it. */
  #takeDue(end: number): (() => void) | undefined {
    let bestId = -1;
    let best: { at: number; fn: () => void } | undefined;
    for (const [id, t] of this.#timers) {
      if (t.at <= end && (best === undefined || t.at < best.at || (t.at === best.at && id < bestId))) {
        best = t;
        bestId = id;
      }
    }
    if (best === undefined) return undefined;
    this.#timers.delete(bestId);
    this.#now = Math.max(this.#now, best.at);
    return best.fn;
  }
}

/** Lets queued promise callbacks (and the ones they queue) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
