// What a parking policy is asked: everything it may know at one poll of an
// ACTIVE VM. The machine (machine.ts onCounts) builds it; policies are pure
// functions of it. Only the oracle reads `future`.
import type { Learned } from './learned.js';

export interface FutureLike {
  nextActivity(vm: string, after: number): number | undefined;
}

export interface PolicyInput {
  readonly vm: string;
  /** Engine ms now. */
  readonly now: number;
  /** Engine ms since which the VM's counters have not moved (the machine's idle clock). */
  readonly idleFrom: number;
  /** The VM's idleTimeout (ms): fixed's rule, and the fallback until a policy has learned enough. */
  readonly idleTimeoutMs: number;
  /** Break-even idle time (ms) of the VM's depth (energy/model.ts breakEvenSeconds, Jettison eq. 4). */
  readonly breakEvenMs: number;
  /** How long the depth's wake takes (ms, the power profile's wakeMs): the oracle wakes this early. */
  readonly wakeMs: number;
  readonly pollIntervalMs: number;
  readonly epochOffsetMs: number;
  readonly learned: Learned;
  /** Replay only (oracle). */
  readonly future?: FutureLike | undefined;
}

/** A policy: when an idle VM parks, and when (if ever) a parked VM is woken ahead of its activity. */
export interface Policy {
  /** Park now? */
  shouldPark(i: PolicyInput): boolean;
  /**
   * The earliest engine time >= now at which shouldPark could turn true if no
   * new activity is seen (for a replay that skips polls); undefined = never.
   * May be early (a poll then decides nothing), never late.
   */
  earliestPark(i: PolicyInput): number | undefined;
  /** Called when the VM has just parked: engine time of a pre-wake, or undefined. */
  preWakeAt(i: PolicyInput): number | undefined;
  /** After a pre-wake, the VM is not parked again for this long (ms): the activity it was woken for may come late in its slot. */
  readonly preWakeHoldMs: number;
}
