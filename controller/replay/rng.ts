// A seeded pseudo-random generator for replays and synthetic traces: the same
// seed gives the same numbers on every machine (Math.random cannot be seeded).
// mulberry32: 32-bit state, fast, good enough for simulation draws (not crypto).

export class Rng {
  #s: number;

  constructor(seed: number) {
    this.#s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** Log-normal given its median and 99th percentile (sigma = ln(p99/p50) / z(0.99)). */
  lognormal(p50: number, p99: number): number {
    const sigma = p99 > p50 ? Math.log(p99 / p50) / 2.3263 : 0;
    return p50 * Math.exp(sigma * this.normal());
  }

  /** Pareto (heavy tail) with minimum `xm` and shape `alpha`; capped at `cap`. */
  pareto(xm: number, alpha: number, cap = Infinity): number {
    return Math.min(cap, xm / Math.pow(1 - this.next(), 1 / alpha));
  }
}

/** A stream's own seed from the run seed and a label (FNV-1a), so streams do not share draws. */
export function subSeed(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
