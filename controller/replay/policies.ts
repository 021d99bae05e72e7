// Policies a replay can run, by name. The machine decides; a replay only sets
// the inventory the live controller would run with: `inventory` = the inventory
// as it is (each VM's own policy and parameters), `fixed:DURATION` = every VM
// fixed with its idleTimeout set to DURATION, any other name = every VM's
// `policy: { name }` (`fixed` included: a run labelled fixed is fixed). A policy is listed here once the
// machine implements it (adding one is this one line).
import { parseDuration } from '../inventory/duration.js';
import type { Inventory, PolicyName } from '../inventory/types.js';

export const REPLAY_POLICIES: readonly PolicyName[] = ['fixed', 'adaptive', 'predictive', 'oracle'];

/** The run that keeps each VM's policy as the inventory gives it (what the live controller would do). */
export const INVENTORY_POLICY = 'inventory';

/** Policies that need the trace's future (MachineConfig.future). */
export const NEEDS_FUTURE: readonly string[] = ['oracle'];

/** A policy name that cannot be run; says which ones can. */
export class PolicyError extends Error {
  readonly code = 'ERR_REPLAY_POLICY';
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** The fixed timeouts a sweep runs by default (the savings-vs-wakes curve). */
export const DEFAULT_SWEEP = ['30s', '1m', '2m', '5m', '10m', '20m', '30m', '1h', '2h', '4h'];

/** The inventory a policy runs with, and the overridden idle timeout for fixed:DURATION. */
export function applyPolicy(inv: Inventory, policy: string): { inventory: Inventory; idleTimeoutMs?: number } {
  if (policy === INVENTORY_POLICY) return { inventory: inv };
  const m = /^fixed:(.+)$/.exec(policy);
  if (m) {
    let ms: number;
    try {
      ms = parseDuration(m[1]!);
    } catch (e) {
      throw new PolicyError(`policy ${policy}: ${(e as Error).message}`);
    }
    if (!(ms >= 1000)) throw new PolicyError(`policy ${policy}: the idle timeout must be at least 1s`);
    // A ladder's first rung is the idle timeout: move it, and drop rungs it now passes.
    const withTimeout = (v: Inventory['vms'][number]): Inventory['vms'][number] => {
      const rest = (v.depths ?? []).slice(1).filter((r) => r.afterMs > ms);
      const depths = v.depths === undefined ? undefined : [{ depth: v.depth, afterMs: ms }, ...rest];
      return { ...v, idleTimeoutMs: ms, policy: { name: 'fixed' }, ...(depths !== undefined ? { depths } : {}) };
    };
    return { inventory: { ...inv, vms: inv.vms.map(withTimeout) }, idleTimeoutMs: ms };
  }
  if (!(REPLAY_POLICIES as readonly string[]).includes(policy)) {
    throw new PolicyError(`unknown policy ${JSON.stringify(policy)}: this build runs ${REPLAY_POLICIES.join(', ')}, fixed:DURATION and ${INVENTORY_POLICY} (each VM's own) (e.g. fixed:300s)`);
  }
  // The run's policy for every VM; a VM whose inventory already names it keeps its parameters.
  const name = policy as PolicyName;
  return { inventory: { ...inv, vms: inv.vms.map((v) => ({ ...v, policy: v.policy?.name === name ? v.policy : { name } })) } };
}
