// The two idempotent libvirt operations the park engine runs: park a domain
// to a depth, wake it. Idempotent so that retries and restarts after a crash
// mid-operation are safe whatever state the domain was left in.
import type { Depth } from '../inventory/types.js';
import type { Hypervisor } from '../libvirt/hypervisor.js';
import { pushMemoryOut } from './reclaim.js';

/** A domain in a state the engine cannot act on. */
export class DomainStateError extends Error {
  readonly code = 'ERR_DOMAIN_STATE';
  constructor(message: string) {
    super(message);
    this.name = 'DomainStateError';
  }
}

/** What a park did besides reaching its depth. */
export interface ParkOutcome {
  /**
   * Depth reclaim: the memory push failed (the error's text); the domain is
   * paused and parked with its memory kept, and a wake is still a resume.
   */
  readonly memoryKept?: string;
}

/**
 * Puts the domain in the parked state for `depth`; does nothing when it is
 * already there (a retry, or a restart after a crash mid-operation). Reclaim
 * pushes the memory out again even when already paused: the push is harmless
 * when there is nothing left to push, and it is how a paused domain gets there.
 */
export async function parkDomain(hv: Hypervisor, domain: string, depth: Depth): Promise<ParkOutcome> {
  const st = await hv.getState(domain);
  if (depth === 'pause' || depth === 'reclaim') {
    if (st.state === 'running') await hv.suspend(domain);
    else if (st.state !== 'paused') throw new DomainStateError(`cannot pause ${domain}: it is ${st.state}`);
    if (depth === 'pause') return {};
    try {
      await pushMemoryOut(hv, domain);
      return {};
    } catch (e) {
      // Paused with its memory: still parked and wakeable, only the release failed.
      return { memoryKept: e instanceof Error ? e.message : String(e) };
    }
  }
  if (st.state === 'shutoff') return {}; // already off (saved or not): nothing left to park
  if (depth === 'save') {
    if (st.state !== 'running' && st.state !== 'paused') throw new DomainStateError(`cannot save ${domain}: it is ${st.state}`);
    await hv.managedSave(domain);
    return {};
  }
  if (st.state === 'paused') {
    // libvirt rejects shutdown of a paused domain (OPERATION_INVALID): the guest's
    // vCPUs cannot see the ACPI button. Resume it first rather than destroy it, so
    // the guest still flushes its page cache and unmounts cleanly; destroy stays
    // the fallback below for a guest that then ignores ACPI. Costs one resume (~25 ms).
    await hv.resume(domain);
  } else if (st.state !== 'running') {
    throw new DomainStateError(`cannot shut down ${domain}: it is ${st.state}`);
  }
  try {
    await hv.shutdown(domain);
  } catch (e) {
    // The guest ignored the ACPI request: power it off so parking completes (docs/parking.md).
    if ((e as { code?: unknown }).code !== 'LIBVIRT_TIMEOUT') throw e;
    await hv.destroy(domain);
  }
  return {};
}

/**
 * How a wake made the domain run. `booted` is a cold boot: the guest's services
 * start seconds after its network, so readiness must be asked of a gateway port.
 */
export type WakeKind = 'running' | 'resumed' | 'restored' | 'booted';

/** Makes the domain run: resume a paused one, start (or restore the managed save of) a stopped one. Running: nothing to do. */
export async function wakeDomain(hv: Hypervisor, domain: string): Promise<WakeKind> {
  const st = await hv.getState(domain);
  switch (st.state) {
    case 'running':
      return 'running';
    case 'paused':
      await hv.resume(domain);
      return 'resumed';
    case 'shutoff':
      await hv.start(domain);
      // Read before the start, which consumes the image: a save-depth guest whose image an
      // operator removed (or that an operator shut down) boots cold here.
      return st.hasManagedSave ? 'restored' : 'booted';
    case 'crashed':
    case 'other':
      throw new DomainStateError(`cannot wake ${domain}: it is ${st.state}`);
  }
}
