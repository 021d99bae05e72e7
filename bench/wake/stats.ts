// Order statistics for the wake benchmark. Nearest-rank percentiles: with 30
// samples p99 is the maximum, which is what a "p99 < 100 ms" target should
// mean on so few samples (no interpolation that hides the worst wake).

/** The nearest-rank p-th percentile (0 < p <= 100) of `samples`; NaN when empty. */
export function percentile(samples: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  if (samples.length === 0) return Number.NaN;
  const s = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length, Math.max(1, rank)) - 1]!;
}

/** The median (nearest-rank p50). */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** Rounds to 0.1 ms for printing; NaN stays NaN (printed as null in JSON). */
export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
