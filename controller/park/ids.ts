// Stable per-VM ids for the park engine's cookies and meters, derived from the
// VM's name, never from its position in the inventory: removing or reordering
// VMs must not rename the entries of the others (docs/decisions.md, "Cookies").
import { OFPM_MAX } from '../openflow/constants.js';

/** Bits of the VM id in a park cookie (the low 8 bits of the 40-bit app id are the flow kind). */
export const VM_ID_BITS = 32;

/**
 * Meter ids: the L2 fabric owns meter 1 (l2/learning.ts); the park engine's ids
 * start at PARK_METER_BASE, METERS_PER_VM consecutive ids per VM (wake, answer,
 * probe) in one of METER_SLOTS slots. The highest id, 256 + 3 * 16384 - 1 =
 * 49407, stays below the 262144 meters OVS 3.1's userspace datapath offers (and 65536), so a
 * switch's OFPMP_METER_FEATURES max_meter check (§7.3.5.14) passes.
 */
export const PARK_METER_BASE = 256;
export const METERS_PER_VM = 3;
export const METER_SLOTS = 16384;

/** A VM name, or two, that the id scheme cannot serve. */
export class VmIdError extends Error {
  readonly code = 'ERR_VM_ID';
  constructor(message: string) {
    super(message);
    this.name = 'VmIdError';
  }
}

/** FNV-1a, 32 bits, over the UTF-8 bytes of `s`: small, fast, and the same on every platform and run. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** What ids.ts needs of a VM. */
export interface IdVm {
  readonly name: string;
  readonly dpid: bigint;
}

/** A VM's cookie id (32 bits) and its first meter id (wake; +1 answer, +2 probe). */
export interface VmIds {
  readonly id: number;
  readonly meterBase: number;
}

/**
 * The ids of every VM, in inventory order. Throws VmIdError when two names hash
 * to the same cookie id (about 1 in 10^4 for 1000 VMs): renaming one fixes it,
 * and failing at load beats two VMs sharing entries.
 *
 * Meter slots are per switch (meter ids are a switch's namespace, §7.3.4.5):
 * slot = hash mod METER_SLOTS; VMs of one switch whose slots collide take the
 * next free slot in name order, so a VM's meter ids change only when a VM it
 * collided with is added or removed (and then only after a reconnect, when
 * every meter and park entry is re-sent anyway).
 */
export function assignVmIds(vms: readonly IdVm[]): VmIds[] {
  const byId = new Map<number, string>();
  const ids = vms.map((v) => {
    const id = fnv1a32(v.name);
    const other = byId.get(id);
    if (other !== undefined) throw new VmIdError(`VMs "${other}" and "${v.name}" have the same cookie id 0x${id.toString(16)} (hash of the name): rename one of them`);
    byId.set(id, v.name);
    return id;
  });
  const slotOf = new Map<string, number>();
  const perSwitch = new Map<bigint, IdVm[]>();
  for (const v of vms) perSwitch.set(v.dpid, [...(perSwitch.get(v.dpid) ?? []), v]);
  for (const [dpid, list] of perSwitch) {
    if (list.length > METER_SLOTS) throw new VmIdError(`switch ${dpid} has ${list.length} VMs, more than the ${METER_SLOTS} meter slots`);
    const used = new Set<number>();
    for (const v of [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      let slot = fnv1a32(v.name) % METER_SLOTS;
      while (used.has(slot)) slot = (slot + 1) % METER_SLOTS;
      used.add(slot);
      slotOf.set(v.name, slot);
    }
  }
  return vms.map((v, i) => {
    const meterBase = PARK_METER_BASE + METERS_PER_VM * slotOf.get(v.name)!;
    if (meterBase + METERS_PER_VM - 1 > OFPM_MAX) throw new VmIdError(`meter id of "${v.name}" beyond OFPM_MAX`);
    return { id: ids[i]!, meterBase };
  });
}
