// adaptive: the idle timeout chosen from the VM's own recent idle periods and
// its depth's break-even time T* (eq. 4 of the Jettison energy model: Bila et
// al., "Energy-Oriented Partial Desktop Virtual Machine Migration", ACM TOCS
// 33(1), 2015, sysweb.cs.toronto.edu/publications/313; controller/energy/model.ts
// breakEvenSeconds). Jettison sleeps a desktop only when the idle period is
// expected to outlast the break-even time; here the timeout is the one that
// would have saved the most over the recent periods.
//
// Parking after a timeout tau an idle period of length T > tau saves
// (P_on - P_d) * (T - tau - T*) (energy/model.ts eq. 3 with the park starting
// at tau), and nothing when T <= tau. So over the recent periods R:
//   savings(tau) = sum over T in R, T > tau of (T - tau - T*)
// which only decreases between the lengths of R and jumps up at each of them:
// its maximum is at tau = 0 or at one of the lengths. The policy takes the
// candidate with the largest savings, the longer one on a tie (fewer wakes for
// the same energy); with nothing positive that is the longest period seen
// (savings 0), so a VM whose periods never pay off parks only beyond its history.
import type { Policy, PolicyInput } from './types.js';
import { fixedPolicy } from './fixed.js';

export interface AdaptiveParams {
  /** Recent idle periods the timeout is chosen from. */
  readonly window: number;
  /** Periods needed before the learned timeout replaces idleTimeout. */
  readonly minSamples: number;
}

export const ADAPTIVE_DEFAULTS: AdaptiveParams = { window: 64, minSamples: 8 };

/**
 * The timeout (ms) maximising the savings over `periods` for break-even `breakEvenMs`
 * (see the file comment). Exported for the tests and docs/parking.md's rule.
 */
export function bestTimeout(periods: readonly number[], breakEvenMs: number): number {
  // A depth that saves no power never pays off (energy/model.ts): never park.
  if (!Number.isFinite(breakEvenMs)) return Infinity;
  const sorted = [...periods].sort((a, b) => a - b);
  const n = sorted.length;
  // suffix[i] = sum of sorted[i..]: savings(tau) in O(1) per candidate.
  const suffix = new Array<number>(n + 1).fill(0);
  for (let i = n - 1; i >= 0; i--) suffix[i] = suffix[i + 1]! + sorted[i]!;
  let best = 0;
  let bestSave = -Infinity;
  // Candidate tau = 0 (i = 0: every period longer) and tau = sorted[i-1] (periods after index i-1 that are longer).
  for (let i = 0; i <= n; i++) {
    const tau = i === 0 ? 0 : sorted[i - 1]!;
    let j = i;
    while (j < n && sorted[j]! <= tau) j++;
    const k = n - j;
    const save = suffix[j]! - k * (tau + breakEvenMs);
    if (save >= bestSave) {
      bestSave = save;
      best = tau;
    }
  }
  return best;
}

export function adaptivePolicy(p: AdaptiveParams): Policy {
  /** The timeout in force: learned once there are enough periods, never below one poll (a VM is not parked mid-burst). */
  const timeout = (i: PolicyInput): number => {
    const l = i.learned;
    // Chosen when a period is recorded (index.ts learn), not at every poll.
    if (l.recent.length < p.minSamples || l.timeoutMs === undefined) return i.idleTimeoutMs;
    return Math.max(i.pollIntervalMs, l.timeoutMs);
  };
  return {
    shouldPark: (i) => i.now - i.idleFrom >= timeout(i),
    earliestPark: (i) => Math.max(i.now, i.idleFrom + timeout(i)),
    preWakeAt: fixedPolicy.preWakeAt,
    preWakeHoldMs: 0,
  };
}
