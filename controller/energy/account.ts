// A VM's memory and energy figures at a given time, from the machine's state.
// Pure: the machine records the measured memory and the finished idle periods;
// this adds the open period (a VM parked now) at `now`. docs/energy.md.
import type { Phase, VmState } from '../park/model.js';
import { energySavedSoFar, type EnergyDepth, type PowerProfile } from './model.js';

export interface VmEnergyNow {
  /** Memory the current park released (bytes): 0 unless parked, waking or wake_failed, or unmeasured. */
  readonly memoryReleasedBytes: number;
  /** Net energy saved so far (J): finished idle periods plus the open one up to `now`. */
  readonly energySavedJoules: number;
  /** Finished idle periods that did not pay off (shorter than the break-even time). */
  readonly unprofitableParks: number;
}

/** Phases in which the VM's memory is released (its domain stopped or saved). */
const RELEASED: ReadonlySet<Phase> = new Set(['parked', 'waking', 'wake_failed']);

/**
 * `depth`: the depth the VM is parked at now. An escalated period's open figure is
 * its finished segments (`segmentsSavedJoules`) plus the current segment so far.
 */
export function vmEnergyNow(
  profile: PowerProfile,
  depth: EnergyDepth,
  v: Pick<VmState, 'phase' | 'parkStartedAt' | 'memory' | 'energy'> & Partial<Pick<VmState, 'segmentStartedAt' | 'segmentsSavedJoules'>>,
  now: number,
): VmEnergyNow {
  const released = RELEASED.has(v.phase) ? (v.memory?.releasedBytes ?? 0) : 0;
  let saved = v.energy.savedJoules;
  // Open period: a park this engine began and no wake has ended yet.
  if (v.parkStartedAt !== undefined && v.phase !== 'active') {
    const segStart = v.segmentStartedAt ?? v.parkStartedAt;
    saved += (v.segmentsSavedJoules ?? 0) + energySavedSoFar(profile, depth, Math.max(0, now - segStart) / 1000, v.memory?.residentBytes ?? 0, v.memory?.releasedBytes ?? 0);
  }
  return { memoryReleasedBytes: released, energySavedJoules: saved, unprofitableParks: v.energy.unprofitableParks };
}
