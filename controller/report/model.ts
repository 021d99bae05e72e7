// The run report's model: pure functions from parsed transition events to what the page shows
// (state intervals per VM, wake latencies per depth, memory released and energy saved over time).
import type { Depth } from '../inventory/types.js';
import type { Phase } from '../park/model.js';
import type { TransitionEvent } from './events.js';

export interface StateInterval {
  readonly phase: Phase;
  readonly start: number;
  readonly end: number;
}

export interface VmReport {
  readonly name: string;
  /** From the log's `depth` field, else the inventory; undefined when neither names it. */
  readonly depth: Depth | undefined;
  readonly intervals: readonly StateInterval[];
  readonly parks: number;
  readonly wakes: number;
  readonly failedWakes: number;
  /** Sorted ascending. */
  readonly wakeMs: readonly number[];
  /** Sum over its parks of the memory each released (only parks that logged it). */
  readonly memoryReleasedBytes: number;
  readonly energySavedJoules: number | undefined;
}

export interface Point {
  readonly t: number;
  readonly v: number;
}

export interface RunReport {
  readonly start: number;
  readonly end: number;
  readonly vms: readonly VmReport[];
  /** Wake latencies (ms, sorted) per depth; depth 'unknown' when neither log nor inventory names it. */
  readonly wakesByDepth: ReadonlyMap<Depth | 'unknown', readonly number[]>;
  /** Memory released at each moment (step function); undefined when no park logged memoryReleasedBytes. */
  readonly memory: readonly Point[] | undefined;
  /** Cumulative energy saved vs always-on (J); undefined when no record carries energySavedJoules. */
  readonly energy: readonly Point[] | undefined;
  readonly parks: number;
  readonly wakes: number;
}

/**
 * Quantile by the nearest-rank method on sorted values (p in (0, 1]): the value below which
 * a fraction p of the samples lies, always an observed sample, never interpolated.
 */
export function quantile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1];
}

export interface ModelOptions {
  /** Depth per VM from the inventory (`--config`); the log's own `depth` field wins. */
  readonly depthOf?: (vm: string) => Depth | undefined;
}

interface VmAcc {
  depth: Depth | undefined;
  phase: Phase;
  since: number;
  intervals: StateInterval[];
  parks: number;
  wakes: number;
  failedWakes: number;
  wakeMs: number[];
  mem: number;
  heldMem: number;
  /** What the VM's park had released when an escalation began (its memory figure then covers both). */
  escalatedFrom: number;
  energy: number | undefined;
}

/** Builds the report model. `events` must be sorted by time (parseEventLog does it). */
export function buildReport(events: readonly TransitionEvent[], opts: ModelOptions = {}): RunReport {
  const start = events.length > 0 ? events[0]!.time : 0;
  const end = events.length > 0 ? events[events.length - 1]!.time : 0;
  const vms = new Map<string, VmAcc>();
  const wakesByDepth = new Map<Depth | 'unknown', number[]>();
  const memory: Point[] = [];
  const energy: Point[] = [];
  let memNow = 0;
  let memSeen = false;
  let energyNow = 0;
  let energySeen = false;
  let parks = 0;
  let wakes = 0;

  for (const e of events) {
    let v = vms.get(e.vm);
    if (v === undefined) {
      // The VM's first record tells its phase before it: the timeline starts there, at the run's start.
      v = { depth: opts.depthOf?.(e.vm), phase: e.from, since: start, intervals: [], parks: 0, wakes: 0, failedWakes: 0, wakeMs: [], mem: 0, heldMem: 0, escalatedFrom: 0, energy: undefined };
      vms.set(e.vm, v);
    }
    if (e.depth !== undefined) v.depth = e.depth;
    if (e.time > v.since) v.intervals.push({ phase: v.phase, start: v.since, end: e.time });
    v.phase = e.to;
    v.since = e.time;

    if (e.to === 'parked' && e.reason === 'parked') {
      v.parks += 1;
      parks += 1;
    }
    if (e.from === 'waking' && e.to === 'active' && e.durationMs !== undefined) {
      v.wakes += 1;
      wakes += 1;
      v.wakeMs.push(e.durationMs);
      const d = v.depth ?? 'unknown';
      let list = wakesByDepth.get(d);
      if (list === undefined) wakesByDepth.set(d, (list = []));
      list.push(e.durationMs);
    }
    if (e.to === 'wake_failed') v.failedWakes += 1;

    // Memory released now: a park adds what it released; leaving `parked` gives it back.
    if (e.from === 'parked') v.escalatedFrom = e.reason === 'escalate' ? v.heldMem : 0;
    if (e.from === 'parked' && v.heldMem > 0) {
      memNow -= v.heldMem;
      v.heldMem = 0;
      memory.push({ t: e.time, v: memNow });
    }
    if (e.to === 'parked' && e.memoryReleasedBytes !== undefined) {
      memSeen = true;
      // An escalation's (or a failed one's) figure is the whole park's: only what it added is new.
      v.mem += e.reason === 'parked' ? e.memoryReleasedBytes : Math.max(0, e.memoryReleasedBytes - v.escalatedFrom);
      v.heldMem = e.memoryReleasedBytes;
      memNow += e.memoryReleasedBytes;
      memory.push({ t: e.time, v: memNow });
    }
    if (e.energySavedJoules !== undefined) {
      energySeen = true;
      v.energy = (v.energy ?? 0) + e.energySavedJoules;
      energyNow += e.energySavedJoules;
      energy.push({ t: e.time, v: energyNow });
    }
  }

  const out: VmReport[] = [];
  for (const [name, v] of [...vms].sort((a, b) => a[0].localeCompare(b[0]))) {
    // The last phase lasts until the end of the log.
    const intervals = end > v.since ? [...v.intervals, { phase: v.phase, start: v.since, end }] : v.intervals;
    out.push({
      name,
      depth: v.depth,
      intervals,
      parks: v.parks,
      wakes: v.wakes,
      failedWakes: v.failedWakes,
      wakeMs: [...v.wakeMs].sort((a, b) => a - b),
      memoryReleasedBytes: v.mem,
      energySavedJoules: v.energy,
    });
  }
  for (const list of wakesByDepth.values()) list.sort((a, b) => a - b);
  if (memSeen) memory.unshift({ t: start, v: 0 });
  if (energySeen) energy.unshift({ t: start, v: 0 });
  return {
    start,
    end,
    vms: out,
    wakesByDepth,
    memory: memSeen ? memory : undefined,
    energy: energySeen ? energy : undefined,
    parks,
    wakes,
  };
}
