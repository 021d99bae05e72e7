/** Thrown for a duration that does not parse. */
export class DurationError extends Error {
  readonly code = 'ERR_BAD_DURATION';
  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;

/**
 * The longest delay a Node timer honours (2^31-1 ms, about 24.8 days). A longer
 * one is silently replaced by 1 ms, so a configured duration above it would turn
 * a poll or a timeout into a busy loop; no configured duration may reach it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Parses a duration to milliseconds: a number of seconds (30, 0.5) or a string
 * with a unit ("500ms", "30s", "2m", "1h"). Negative, non-finite, empty values
 * and values of MAX_TIMER_MS or more are errors (fields narrow this further).
 */
export function parseDuration(v: number | string): number {
  let ms: number;
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new DurationError(`${v} is not a duration (seconds >= 0)`);
    ms = Math.round(v * 1000);
  } else {
    const s = v.trim();
    const m = /^\d+(\.\d+)?$/.test(s) ? ([s, s, 's'] as const) : DURATION_RE.exec(s);
    if (!m) throw new DurationError(`"${v}" is not a duration (use seconds, or a number with ms/s/m/h, e.g. "30s", "2m")`);
    ms = Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
  }
  if (!(ms < MAX_TIMER_MS)) throw new DurationError(`${JSON.stringify(v)} is too long (durations must stay below ${MAX_TIMER_MS}ms, about 596h)`);
  return ms;
}

/** Shows milliseconds in the largest unit that divides them ("90s", "2m", "1500ms"); used in messages and docs. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Allowed range of one duration field, inclusive. */
export interface DurationRange {
  readonly minMs: number;
  readonly maxMs: number;
}

/**
 * Per-field ranges (docs/parking.md field reference; docs/decisions.md says why).
 * Every maximum is far below MAX_TIMER_MS; the minimums keep a typo from turning
 * a timer into a loop (a 0 poll interval sent flow stats requests back to back).
 */
export const DURATION_RANGES = {
  idleTimeout: { minMs: 1000, maxMs: 168 * 3_600_000 },
  /** A depth ladder rung's idle time (`depths[].after`): the same range as idleTimeout, which is its first rung. */
  after: { minMs: 1000, maxMs: 168 * 3_600_000 },
  minActive: { minMs: 0, maxMs: 168 * 3_600_000 },
  wakeTimeout: { minMs: 1000, maxMs: 3_600_000 },
  probeInterval: { minMs: 1, maxMs: 10_000 },
  pollInterval: { minMs: 100, maxMs: 3_600_000 },
  retryBackoff: { minMs: 10, maxMs: 3_600_000 },
  retryBackoffMax: { minMs: 10, maxMs: 24 * 3_600_000 },
  // predictive's horizon: 0 = the break-even time alone; at most a day (a longer window says nothing an hour-of-day histogram can).
  horizon: { minMs: 0, maxMs: 24 * 3_600_000 },
  // predictive's expect rule: a minute .. a week (the histograms end at ~24 days; a week is the longest useful wait).
  expect: { minMs: 60_000, maxMs: 168 * 3_600_000 },
  // A remote hypervisor host: connect (TCP + TLS + RPC handshake) and one libvirt call.
  connectTimeout: { minMs: 100, maxMs: 300_000 },
  callTimeout: { minMs: 1000, maxMs: 3_600_000 },
} as const satisfies Record<string, DurationRange>;

export type DurationField = keyof typeof DURATION_RANGES;

/** Checks a parsed duration against its field's range; returns the problem or undefined. */
export function durationRangeIssue(field: DurationField, ms: number): string | undefined {
  const r: DurationRange = DURATION_RANGES[field];
  if (ms >= r.minMs && ms <= r.maxMs) return undefined;
  return `${formatDuration(ms)} is out of range (${formatDuration(r.minMs)}..${formatDuration(r.maxMs)})`;
}
