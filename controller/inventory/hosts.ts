import { BUILTIN_HYPERVISOR } from './load.js';
import type { HypervisorSpec, Inventory } from './types.js';

/**
 * The inventory's hypervisor hosts; for a hand-built inventory without
 * `hypervisors`, one implicit host per distinct VM URI with the default bounds.
 */
export function hypervisorsOf(inv: Inventory): readonly HypervisorSpec[] {
  if (inv.hypervisors !== undefined) return inv.hypervisors;
  return [...new Set(inv.vms.map((v) => v.libvirt.uri))].map((uri) => ({ name: uri, uri, tls: {}, maxConcurrentOps: inv.park.maxConcurrentOps, ...BUILTIN_HYPERVISOR }));
}
