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
 * Parses a duration to milliseconds: a number of seconds (30, 0.5) or a string
 * with a unit ("500ms", "30s", "2m", "1h"). Negative, non-finite and empty values are errors.
 */
export function parseDuration(v: number | string): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new DurationError(`${v} is not a duration (seconds >= 0)`);
    return Math.round(v * 1000);
  }
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const m = DURATION_RE.exec(s);
  if (!m) throw new DurationError(`"${v}" is not a duration (use seconds, or a number with ms/s/m/h, e.g. "30s", "2m")`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}
