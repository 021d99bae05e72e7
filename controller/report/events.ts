// Parses the controller's JSON event log (`seamless controller --log-format json`) into typed
// events for the run report. No I/O here: the caller reads the file or stdin, so replayed runs
// can hand their own lines in.
import { PARK_REASONS, type ParkReason, type Phase } from '../park/model.js';
import { DEPTHS as ALL_DEPTHS, type Depth } from '../inventory/types.js';

const PHASES: readonly Phase[] = ['unknown', 'active', 'parking', 'parked', 'waking', 'wake_failed'];
const DEPTHS: readonly Depth[] = ALL_DEPTHS;

/**
 * One `vm transition` record. `depth`, `memoryReleasedBytes` and `energySavedJoules` are optional:
 * the report uses them when the controller logs them and says so when it does not.
 * - `memoryReleasedBytes`: on a transition to `parked`, the memory that park released (bytes).
 * - `energySavedJoules`: on any transition, the energy saved (negative: lost) by the park period
 *   that transition closes, compared with leaving the VM running; the report sums them.
 */
export interface TransitionEvent {
  readonly kind: 'transition';
  /** Epoch milliseconds, from the record's ISO `time`. */
  readonly time: number;
  readonly vm: string;
  readonly from: Phase;
  readonly to: Phase;
  readonly reason: ParkReason;
  readonly durationMs?: number;
  readonly depth?: Depth;
  readonly memoryReleasedBytes?: number;
  readonly energySavedJoules?: number;
  /** 1-based line number in the log, for messages. */
  readonly line: number;
}

export interface EventLog {
  readonly events: readonly TransitionEvent[];
  /** Lines that are not JSON objects (text logs, blank lines, stray output): skipped and counted. */
  readonly nonJsonLines: number;
  /** JSON records that are not transitions (other log messages). */
  readonly otherRecords: number;
}

/** A `vm transition` record that lacks a field or has one of the wrong type; names the line. */
export class EventLogError extends Error {
  override readonly name = 'EventLogError';
  readonly code = 'EVENT_LOG';
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`line ${line}: malformed vm transition record: ${detail}`);
  }
}

function optNumber(j: Record<string, unknown>, key: string, line: number, min: number): number | undefined {
  const v = j[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new EventLogError(line, `${key} must be a finite number >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(j: Record<string, unknown>, key: string, set: readonly T[], line: number): T {
  const v = j[key];
  if (typeof v !== 'string' || !(set as readonly string[]).includes(v)) throw new EventLogError(line, `${key} must be one of ${set.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function parseTransition(j: Record<string, unknown>, line: number): TransitionEvent {
  const t = j['time'];
  const time = typeof t === 'string' ? Date.parse(t) : Number.NaN;
  if (!Number.isFinite(time)) throw new EventLogError(line, `time must be an ISO timestamp, got ${JSON.stringify(t)}`);
  const vm = j['vm'];
  if (typeof vm !== 'string' || vm === '') throw new EventLogError(line, `vm must be a non-empty string, got ${JSON.stringify(vm)}`);
  const ev: { -readonly [K in keyof TransitionEvent]: TransitionEvent[K] } = {
    kind: 'transition',
    time,
    vm,
    from: oneOf(j, 'from', PHASES, line),
    to: oneOf(j, 'to', PHASES, line),
    reason: oneOf(j, 'reason', PARK_REASONS, line),
    line,
  };
  const durationMs = optNumber(j, 'durationMs', line, 0);
  if (durationMs !== undefined) ev.durationMs = durationMs;
  if (j['depth'] !== undefined) ev.depth = oneOf(j, 'depth', DEPTHS, line);
  const mem = optNumber(j, 'memoryReleasedBytes', line, 0);
  if (mem !== undefined) ev.memoryReleasedBytes = mem;
  // Energy may be negative: a park shorter than its break-even time costs energy.
  const energy = optNumber(j, 'energySavedJoules', line, Number.NEGATIVE_INFINITY);
  if (energy !== undefined) ev.energySavedJoules = energy;
  return ev;
}

/** Parses a whole log. Throws EventLogError for a transition record it cannot trust. */
export function parseEventLog(text: string): EventLog {
  const events: TransitionEvent[] = [];
  let nonJsonLines = 0;
  let otherRecords = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' && i === lines.length - 1) break; // the final newline
    let j: unknown;
    try {
      j = JSON.parse(raw);
    } catch {
      nonJsonLines += 1;
      continue;
    }
    if (typeof j !== 'object' || j === null || Array.isArray(j)) {
      nonJsonLines += 1;
      continue;
    }
    const rec = j as Record<string, unknown>;
    if (rec['msg'] !== 'vm transition') {
      otherRecords += 1;
      continue;
    }
    events.push(parseTransition(rec, i + 1));
  }
  // Sorted by time (stable: same-millisecond records keep log order) so the model can walk them once.
  events.sort((a, b) => a.time - b.time || a.line - b.line);
  return { events, nonJsonLines, otherRecords };
}
