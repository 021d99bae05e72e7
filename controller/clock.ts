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
  /**
   * Due order (time, then creation) as a binary min-heap of [at, id]; a cleared
   * timer stays in it until it reaches the top (lazy deletion). A replay keeps
   * thousands of timers pending: a linear scan per firing would dominate it.
   */
  readonly #heap: [number, number][] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    const at = this.#now + Math.max(0, ms);
    this.#timers.set(id, { at, fn });
    heapPush(this.#heap, [at, id]);
    return { id };
  }

  clearTimer(h: TimerHandle): void {
    this.#timers.delete(h.id);
  }

  /** Number of scheduled timers. */
  get pending(): number {
    return this.#timers.size;
  }

  /** When the earliest scheduled timer is due; undefined when none is. */
  nextDue(): number | undefined {
    this.#dropCleared();
    return this.#heap[0]?.[0];
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

  /**
   * Moves time to `end` (never backwards), firing every timer due by then
   * synchronously, in order, without a bound on their number: for replays,
   * whose timers are finite because the trace is.
   */
  runUntil(end: number): void {
    for (;;) {
      const due = this.#takeDue(end);
      if (due === undefined) break;
      due();
    }
    this.#now = Math.max(this.#now, end);
  }

  #dropCleared(): void {
    const h = this.#heap;
    while (h.length > 0 && !this.#timers.has(h[0]![1])) heapPop(h);
  }

  /** Removes the earliest timer due by `end` and moves time to it. */
  #takeDue(end: number): (() => void) | undefined {
    this.#dropCleared();
    const top = this.#heap[0];
    if (top === undefined || top[0] > end) return undefined;
    heapPop(this.#heap);
    const t = this.#timers.get(top[1])!;
    this.#timers.delete(top[1]);
    this.#now = Math.max(this.#now, t.at);
    return t.fn;
  }
}

function before(a: [number, number], b: [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

function heapPush(h: [number, number][], x: [number, number]): void {
  h.push(x);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!before(h[i]!, h[p]!)) break;
    [h[i], h[p]] = [h[p]!, h[i]!];
    i = p;
  }
}

function heapPop(h: [number, number][]): void {
  const last = h.pop()!;
  if (h.length === 0) return;
  h[0] = last;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < h.length && before(h[l]!, h[m]!)) m = l;
    if (r < h.length && before(h[r]!, h[m]!)) m = r;
    if (m === i) return;
    [h[i], h[m]] = [h[m]!, h[i]!];
    i = m;
  }
}

/** Lets queued promise callbacks (and the ones they queue) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
