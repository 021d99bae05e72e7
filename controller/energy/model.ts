// The energy model of parking (docs/energy.md): pure arithmetic, no I/O, no
// clock. It follows the structure of the Jettison model (Bila et al., "Energy-
// Oriented Partial Desktop Virtual Machine Migration", ACM TOCS 33(1), 2015,
// eq. 1-4): the energy of an idle period left running, the energy of the same
// period spent in a low-power state including the cost of getting into and out
// of it, their difference, and the break-even idle time at which the
// difference is zero. Here the "low-power state" is a parking depth and the
// power is the host's share for one VM: its idle draw plus its resident memory.

/** A parking depth (the inventory's `depth`). */
export type EnergyDepth = 'pause' | 'reclaim' | 'save' | 'shutdown';

export const ENERGY_DEPTHS: readonly EnergyDepth[] = ['pause', 'reclaim', 'save', 'shutdown'];

/** What one depth's transitions cost: energy (J) and duration (ms) of the park and of the wake. */
export interface TransitionCost {
  readonly parkJoules: number;
  readonly parkMs: number;
  readonly wakeJoules: number;
  readonly wakeMs: number;
}

/**
 * A host's power profile, per VM. `idleWatts`: the host power an idle running
 * VM adds (its vCPUs' timer ticks, QEMU's threads), saved at every depth since
 * the vCPUs stop. `wattsPerGiB`: power of resident guest memory, saved only for
 * the memory the park released (measured).
 */
export interface PowerProfile {
  readonly idleWatts: number;
  readonly wattsPerGiB: number;
  readonly depths: Readonly<Record<EnergyDepth, TransitionCost>>;
}

export const GIB = 1024 ** 3;

/**
 * One idle period as the machine saw it. `residentBytes`: the QEMU process's
 * RSS before the park (0 when unmeasured); `releasedBytes`: RSS before minus
 * after (0 when unmeasured; never more than residentBytes).
 */
export interface IdlePeriod {
  readonly depth: EnergyDepth;
  /** Seconds from the start of the park (ACTIVE -> PARKING) to the end of the wake (WAKING -> ACTIVE). */
  readonly seconds: number;
  readonly residentBytes: number;
  readonly releasedBytes: number;
}

/** Eq. 1: power (W) of the VM left running idle: P_on = P_idle + w * M. */
export function alwaysOnWatts(p: PowerProfile, residentBytes: number): number {
  return p.idleWatts + p.wattsPerGiB * (residentBytes / GIB);
}

/** Power (W) while parked: only the memory the park did not release, P_d = w * (M - R). */
export function parkedWatts(p: PowerProfile, residentBytes: number, releasedBytes: number): number {
  return p.wattsPerGiB * (Math.max(0, residentBytes - Math.min(releasedBytes, residentBytes)) / GIB);
}

/** Eq. 1: energy (J) of an idle period of `seconds` left running: E_on(T) = P_on * T. */
export function energyAlwaysOn(p: PowerProfile, period: IdlePeriod): number {
  return alwaysOnWatts(p, period.residentBytes) * period.seconds;
}

/**
 * Eq. 2: energy (J) of the same period parked at its depth:
 * E_park(T) = E_p + E_w + P_d * (T - t_p - t_w). A period shorter than the
 * transitions themselves still pays both of them in full (the parked term is 0).
 */
export function energyParked(p: PowerProfile, period: IdlePeriod): number {
  const c = p.depths[period.depth];
  const parkedSeconds = Math.max(0, period.seconds - (c.parkMs + c.wakeMs) / 1000);
  return c.parkJoules + c.wakeJoules + parkedWatts(p, period.residentBytes, period.releasedBytes) * parkedSeconds;
}

/** Eq. 3: energy (J) parking saved over the period (negative when it cost more): S(T) = E_on(T) - E_park(T). */
export function energySaved(p: PowerProfile, period: IdlePeriod): number {
  return energyAlwaysOn(p, period) - energyParked(p, period);
}

/**
 * Eq. 4: the break-even idle time (s) of a depth, where S(T*) = 0:
 *   T* = (E_p + E_w - P_d * (t_p + t_w)) / (P_on - P_d),
 * and never less than t_p + t_w (a park cannot be shorter than its transitions).
 * Infinity when parking saves no power (P_on <= P_d): such a park never pays off.
 */
export function breakEvenSeconds(p: PowerProfile, depth: EnergyDepth, residentBytes: number, releasedBytes: number): number {
  const c = p.depths[depth];
  const on = alwaysOnWatts(p, residentBytes);
  const parked = parkedWatts(p, residentBytes, releasedBytes);
  if (on <= parked) return Infinity;
  const transitions = (c.parkMs + c.wakeMs) / 1000;
  const t = (c.parkJoules + c.wakeJoules - parked * transitions) / (on - parked);
  // Below t_p + t_w the parked term of eq. 2 is 0 and S(T) = P_on * T - E_p - E_w.
  if (t >= transitions) return t;
  return Math.max((c.parkJoules + c.wakeJoules) / on, 0);
}

/** Whether a finished idle period's park paid off: it saved energy (S(T) > 0, i.e. T > T*). */
export function paidOff(p: PowerProfile, period: IdlePeriod): boolean {
  return energySaved(p, period) > 0;
}

/**
 * Energy (J) saved so far by a park that has not ended yet, `seconds` after it
 * started: the wake has not been paid, so E_w and t_w are left out; it is
 * charged when the wake ends the period (energySaved then covers all of it).
 */
export function energySavedSoFar(p: PowerProfile, depth: EnergyDepth, seconds: number, residentBytes: number, releasedBytes: number): number {
  const c = p.depths[depth];
  const parkedSeconds = Math.max(0, seconds - c.parkMs / 1000);
  return alwaysOnWatts(p, residentBytes) * seconds - c.parkJoules - parkedWatts(p, residentBytes, releasedBytes) * parkedSeconds;
}
