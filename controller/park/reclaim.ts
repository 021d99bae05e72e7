// Depth reclaim's memory push: with the domain paused, its memory hard limit
// (libvirt memtune, cgroup v1 memory.limit_in_bytes here) is set low, which makes
// the kernel push QEMU's pages into swap (zram: compressed in RAM), then lifted
// again at once, so a parked QEMU can never be OOM-killed by the limit and pages
// stay out until the guest touches them after its resume. docs/parking.md,
// "Depth reclaim". Over libvirt's remote protocol (Hypervisor.setMemoryHardLimit).
import type { Hypervisor } from '../libvirt/hypervisor.js';

/**
 * The hard limit the push sets (KiB). Low enough that almost every guest page
 * leaves (QEMU's own heap and code stay), high enough that the kernel can get
 * there: below what QEMU cannot give up the cgroup write fails with EBUSY after
 * its reclaim retries. 48 MiB: measured on the 128 MiB testbed guest, a paused
 * QEMU settles at 40-50 MiB resident (docs/decisions.md, "Depth reclaim").
 */
export const RECLAIM_HARD_LIMIT_KIB = 48n * 1024n;

/**
 * Pushes a paused domain's memory out and lifts the limit again, whatever
 * happened. Throws the push's error (the limit was not reached: too little
 * swap, or the adapter cannot set limits); the domain then stays paused with
 * its memory kept. A failure to lift the limit is thrown too, after a retry:
 * the caller must hear of a domain left with a low limit.
 */
export async function pushMemoryOut(hv: Pick<Hypervisor, 'setMemoryHardLimit'>, domain: string, limitKib = RECLAIM_HARD_LIMIT_KIB): Promise<void> {
  if (hv.setMemoryHardLimit === undefined) throw new Error(`cannot reclaim the memory of ${domain}: this libvirt adapter cannot set memory limits`);
  const set = hv.setMemoryHardLimit.bind(hv);
  let pushError: unknown;
  try {
    await set(domain, limitKib);
  } catch (e) {
    pushError = e;
  }
  try {
    await set(domain, 'unlimited');
  } catch {
    // One retry: a limit left low would OOM-kill the guest on its first large allocation after the wake.
    await set(domain, 'unlimited');
  }
  if (pushError !== undefined) throw pushError;
}
