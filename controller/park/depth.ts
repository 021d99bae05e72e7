// What a park depth means for a parked VM's behaviour, in one place: whether its
// tap port stays, how it wakes, which readiness probe its wake needs, which
// energy profile entry it uses, and the depth ladder (inventory `depths:`). The
// machine asks these of the VM's CURRENT depth (VmState.depth), which escalation
// changes while the VM stays parked, never of the inventory's first depth.
import type { EnergyDepth } from '../energy/model.js';
import { DEPTHS, keepsPort, type Depth, type Rung, type VmSpec } from '../inventory/types.js';

/** Depths from shallowest to deepest; a ladder must go strictly down this list. */
export const DEPTH_ORDER: readonly Depth[] = DEPTHS;
export { keepsPort };

/** Position of a depth in DEPTH_ORDER (0 = shallowest). */
export function depthRank(d: Depth): number {
  return DEPTH_ORDER.indexOf(d);
}

/**
 * A wake from this depth boots the guest cold (its services start seconds after
 * its network answers ARP): the wake must also wait for a gateway port to
 * answer a SYN (machine.ts needsServiceProbe).
 */
export function bootsCold(d: Depth): boolean {
  return d === 'shutdown';
}

/** The power profile entry of a depth (every depth has its own since reclaim's profile entry). */
export function energyDepthOf(d: Depth): EnergyDepth {
  return d;
}

/** A VM's depth ladder: the inventory's `depths`, or the one rung `depth` after `idleTimeoutMs`. */
export function ladderOf(s: Pick<VmSpec, 'depth' | 'idleTimeoutMs' | 'depths'>): readonly Rung[] {
  return s.depths !== undefined && s.depths.length > 0 ? s.depths : [{ depth: s.depth, afterMs: s.idleTimeoutMs }];
}

/**
 * The index of the first rung of `ladder`, from index `from` on, strictly deeper
 * than `current`; undefined when there is none (the VM is as deep as it goes).
 */
export function nextRung(ladder: readonly Rung[], current: Depth, from = 0): number | undefined {
  for (let i = Math.max(0, from); i < ladder.length; i++) if (depthRank(ladder[i]!.depth) > depthRank(current)) return i;
  return undefined;
}

/**
 * The idle time (ms) the VM had when it reached `current`: the last rung at or
 * above it (0 when none). A VM restored or reconciled at a depth is assumed to
 * have just reached it, so it escalates no earlier than the ladder says.
 */
export function reachedAfterMs(ladder: readonly Rung[], current: Depth): number {
  let after = 0;
  for (const r of ladder) if (depthRank(r.depth) <= depthRank(current)) after = r.afterMs;
  return after;
}
