// Where the park engine remembers which VMs are parked, so a controller restart
// forgets none (their park flows are reinstalled and a packet still wakes them).
import type { Depth } from '../inventory/types.js';

/** What is kept per VM. `parked` also covers a park or wake in progress: the VM may not be running. */
export interface ParkRecord {
  readonly state: 'parked' | 'active';
  /** The depth the VM is parked at (escalation deepens it); for `active`, the depth it was last parked at or its first rung. */
  readonly depth: Depth;
  /**
   * When the state changed, in epoch milliseconds (wall clock), in `put` and in
   * `get` alike, so it means the same across restarts and processes. The engine
   * works on its own monotonic clock (ms since an arbitrary origin) and its
   * shell converts before every `put` (ParkAppOptions.toEpoch); stores keep the
   * value as given. For operators only: the engine never reads it back.
   */
  readonly since: number;
  /**
   * The libvirt URI of the host that ran the VM when the record was written, when
   * it had moved off its inventory host (a VM restored on another hypervisor's
   * switch): a restart reads and wakes it there. Absent in older records: the inventory's.
   */
  readonly uri?: string;
  /** The switch the VM was attached to then (with `uri`); absent: the inventory's. */
  readonly dpid?: bigint;
}

export interface StateStore {
  get(vm: string): Promise<ParkRecord | undefined>;
  put(vm: string, record: ParkRecord): Promise<void>;
}

/** An in-process store: survives nothing, useful for tests and single-process runs. */
export class MemoryStateStore implements StateStore {
  readonly #records = new Map<string, ParkRecord>();

  async get(vm: string): Promise<ParkRecord | undefined> {
    return this.#records.get(vm);
  }

  async put(vm: string, record: ParkRecord): Promise<void> {
    this.#records.set(vm, record);
  }
}
