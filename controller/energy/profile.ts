// The default power profile and the merge of the inventory's `power:` section
// over it. Pure. Where each default comes from: docs/energy.md, "Defaults".
import { ENERGY_DEPTHS, type EnergyDepth, type PowerProfile, type TransitionCost } from './model.js';

/**
 * Power of one host core busy with a transition (W). An assumption, not a
 * measurement (these machines have no power meter): a server core under load.
 * Each transition's default energy is its measured duration times this.
 */
export const ACTIVE_CORE_WATTS = 15;

/** A reclaim park of the 128 MiB testbed guest: suspend + push into zram (docs/benchmarks.md, "Depth reclaim"). */
export const RECLAIM_PARK_MS = 400;

const cost = (parkMs: number, wakeMs: number): TransitionCost => ({
  parkMs,
  parkJoules: (ACTIVE_CORE_WATTS * parkMs) / 1000,
  wakeMs,
  wakeJoules: (ACTIVE_CORE_WATTS * wakeMs) / 1000,
});

/**
 * Defaults (docs/energy.md, "Defaults"): durations measured on this project's
 * testbed (docs/benchmarks.md, /work NOTES), energies = duration x 15 W, idle
 * and memory power assumed.
 */
export const DEFAULT_POWER_PROFILE: PowerProfile = {
  idleWatts: 2,
  wattsPerGiB: 0.375,
  depths: {
    // virsh suspend / resume of a 128 MiB guest: ~25 ms each.
    pause: cost(25, 25),
    // suspend, then the memory push (hard limit low, lifted): RECLAIM_PARK_MS measured by
    // test/integration/libvirt-reclaim.test.ts; the wake is a resume (pages fault back on demand).
    reclaim: cost(RECLAIM_PARK_MS, 25),
    // managedsave 1.8 s; start from the managed save: bare restore median ~700 ms (bench:wake).
    save: cost(1800, 700),
    // ACPI shutdown: not measured, 1 s assumed; cold boot 7.5 s on the TCG testbed (docs/parking.md).
    shutdown: cost(1000, 7500),
  },
};

/** The inventory's per-depth overrides (all optional). */
export interface TransitionOverride {
  readonly parkJoules?: number | undefined;
  readonly parkMs?: number | undefined;
  readonly wakeJoules?: number | undefined;
  readonly wakeMs?: number | undefined;
}

/** The inventory's `power:` fields (all optional). */
export interface PowerOverride {
  readonly idleWatts?: number | undefined;
  readonly wattsPerGiB?: number | undefined;
  readonly pause?: TransitionOverride | undefined;
  readonly reclaim?: TransitionOverride | undefined;
  readonly save?: TransitionOverride | undefined;
  readonly shutdown?: TransitionOverride | undefined;
}

function mergeCost(base: TransitionCost, o: TransitionOverride | undefined): TransitionCost {
  if (o === undefined) return base;
  return {
    parkJoules: o.parkJoules ?? base.parkJoules,
    parkMs: o.parkMs ?? base.parkMs,
    wakeJoules: o.wakeJoules ?? base.wakeJoules,
    wakeMs: o.wakeMs ?? base.wakeMs,
  };
}

/** `base` with the fields `o` gives replaced (later overrides win). */
export function mergeProfile(base: PowerProfile, ...overrides: (PowerOverride | undefined)[]): PowerProfile {
  let p = base;
  for (const o of overrides) {
    if (o === undefined) continue;
    const depths = {} as Record<EnergyDepth, TransitionCost>;
    for (const d of ENERGY_DEPTHS) depths[d] = mergeCost(p.depths[d], o[d]);
    p = { idleWatts: o.idleWatts ?? p.idleWatts, wattsPerGiB: o.wattsPerGiB ?? p.wattsPerGiB, depths };
  }
  return p;
}
