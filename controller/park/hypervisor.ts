// The part of the libvirt adapter (controller/libvirt) the park engine uses,
// and the two idempotent operations built on it. Typed structurally so any
// adapter with these methods (the real one, FakeHypervisor) plugs in.
import type { Clock } from './clock.js';

export type DomainRunState = 'running' | 'paused' | 'shutoff' | 'crashed' | 'other';

export interface DomainState {
  readonly state: DomainRunState;
  readonly hasManagedSave: boolean;
}

export interface ParkHypervisor {
  getState(domain: string): Promise<DomainState>;
  suspend(domain: string): Promise<void>;
  resume(domain: string): Promise<void>;
  managedSave(domain: string): Promise<void>;
  /** Boots the domain; restores its managed save image when there is one. */
  start(domain: string): Promise<void>;
  shutdown(domain: string): Promise<void>;
  destroy(domain: string): Promise<void>;
  close(): Promise<void> | void;
}

/** A domain in a state the engine cannot act on. */
export class DomainStateError extends Error {
  readonly code = 'ERR_DOMAIN_STATE';
  constructor(message: string) {
    super(message);
    this.name = 'DomainStateError';
  }
}

export interface ParkOpOptions {
  clock: Clock;
  /** depth 'shutdown': how long to wait for the guest to power off before destroying it. */
  shutdownGraceMs?: number;
  /** Poll period while waiting for a guest shutdown. */
  shutdownPollMs?: number;
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((r) => clock.setTimer(r, ms));
}

/**
 * Puts the domain in the parked state for `depth`; does nothing when it is
 * already there (a retry, or a restart after a crash mid-operation).
 */
export async function parkDomain(hv: ParkHypervisor, domain: string, depth: 'pause' | 'save' | 'shutdown', opts: ParkOpOptions): Promise<void> {
  const st = await hv.getState(domain);
  if (depth === 'pause') {
    if (st.state === 'paused') return;
    if (st.state !== 'running') throw new DomainStateError(`cannot pause ${domain}: it is ${st.state}`);
    await hv.suspend(domain);
    return;
  }
  if (st.state === 'shutoff') return; // already off (saved or not): nothing left to park
  if (depth === 'save') {
    if (st.state !== 'running' && st.state !== 'paused') throw new DomainStateError(`cannot save ${domain}: it is ${st.state}`);
    await hv.managedSave(domain);
    return;
  }
  await hv.shutdown(domain);
  const grace = opts.shutdownGraceMs ?? 30_000;
  const poll = opts.shutdownPollMs ?? 200;
  for (let waited = 0; waited < grace; waited += poll) {
    await sleep(opts.clock, poll);
    if ((await hv.getState(domain)).state === 'shutoff') return;
  }
  // The guest ignored the ACPI request: power it off so parking completes (documented in docs/parking.md).
  await hv.destroy(domain);
}

/** Makes the domain run: resume a paused one, start (or restore the managed save of) a stopped one. Running: nothing to do. */
export async function wakeDomain(hv: ParkHypervisor, domain: string): Promise<void> {
  const st = await hv.getState(domain);
  switch (st.state) {
    case 'running':
      return;
    case 'paused':
      await hv.resume(domain);
      return;
    case 'shutoff':
      await hv.start(domain);
      return;
    case 'crashed':
    case 'other':
      throw new DomainStateError(`cannot wake ${domain}: it is ${st.state}`);
  }
}
