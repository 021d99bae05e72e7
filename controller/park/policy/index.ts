// The parking policies (docs/parking.md "Policies"): which one a VM runs, with
// its parameters resolved over the defaults, and what it learns from a
// finished idle period. machine.ts calls these where it decides an idle VM parks.
import type { PolicySpec } from '../../inventory/types.js';
import { ADAPTIVE_DEFAULTS, adaptivePolicy, bestTimeout } from './adaptive.js';
import { fixedPolicy } from './fixed.js';
import { recordIdle, type Learned, type LearnWhat } from './learned.js';
import { oraclePolicy } from './oracle.js';
import { PREDICTIVE_DEFAULTS, predictivePolicy } from './predictive.js';
import type { Policy } from './types.js';

export type { Policy, PolicyInput } from './types.js';
export { EMPTY_LEARNED, type Learned } from './learned.js';

/** A VM's policy with its parameters resolved; built once per spec (cached). */
export interface ResolvedPolicy {
  readonly policy: Policy;
  readonly learn: LearnWhat;
  /** Whether this policy may set a pre-wake when the VM parks. */
  readonly preWakes: boolean;
}

const NOTHING: LearnWhat = { recentWindow: 0, histograms: false };
const FIXED: ResolvedPolicy = { policy: fixedPolicy, learn: NOTHING, preWakes: false };
const cache = new WeakMap<PolicySpec, ResolvedPolicy>();

/** The policy for a VM's spec (absent = fixed). */
export function resolvePolicy(spec: PolicySpec | undefined): ResolvedPolicy {
  if (spec === undefined || spec.name === 'fixed') return FIXED;
  const hit = cache.get(spec);
  if (hit) return hit;
  let r: ResolvedPolicy;
  switch (spec.name) {
    case 'adaptive': {
      const p = { window: spec.window ?? ADAPTIVE_DEFAULTS.window, minSamples: spec.minSamples ?? ADAPTIVE_DEFAULTS.minSamples };
      r = { policy: adaptivePolicy(p), learn: { recentWindow: p.window, histograms: false }, preWakes: false };
      break;
    }
    case 'predictive': {
      const p = {
        threshold: spec.threshold ?? PREDICTIVE_DEFAULTS.threshold,
        minSamples: spec.minSamples ?? PREDICTIVE_DEFAULTS.minSamples,
        preWake: spec.preWake ?? PREDICTIVE_DEFAULTS.preWake,
        horizonMs: spec.horizonMs ?? PREDICTIVE_DEFAULTS.horizonMs,
        expectMs: spec.expectMs,
      };
      r = { policy: predictivePolicy(p), learn: { recentWindow: 0, histograms: true }, preWakes: p.preWake };
      break;
    }
    case 'oracle':
      r = { policy: oraclePolicy, learn: NOTHING, preWakes: true };
      break;
  }
  cache.set(spec, r);
  return r;
}

/**
 * What the VM's policy learns from a finished idle period [start, end) (engine ms):
 * adaptive also re-chooses its timeout here (not at every poll) for break-even `breakEvenMs`.
 */
export function learnIdle(r: ResolvedPolicy, l: Learned, start: number, end: number, epochOffsetMs: number, breakEvenMs: number): Learned {
  if (r.learn === NOTHING) return l;
  const out = recordIdle(l, r.learn, start, end, epochOffsetMs);
  if (r.learn.recentWindow > 0 && out !== l) return { ...out, timeoutMs: bestTimeout(out.recent, breakEvenMs) };
  return out;
}
