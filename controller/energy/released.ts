// What a park released, from what the shell measured around it (pure). Used by
// the machine (park/machine.ts) when libvirt_done reports the measurement.
import type { MemoryMeasurement, ParkMemory } from '../park/model.js';

/**
 * What the host spends on the process = RSS + the RAM zram spends on its
 * swapped pages (memory the host does not get back). Resident = that before the
 * park; released = before minus after, never negative (a footprint that grew
 * released nothing). Without swap figures (remote hosts, save, shutdown) it is
 * RSS alone.
 */
export function parkMemoryFrom(m: MemoryMeasurement): ParkMemory {
  const compressed = m.compressedBytes ?? 0;
  const before = m.beforeBytes + (m.compressedBeforeBytes ?? 0);
  const base = { residentBytes: before, releasedBytes: Math.max(0, before - m.afterBytes - compressed) };
  return m.swappedBytes === undefined ? base : { ...base, swappedBytes: m.swappedBytes, compressedBytes: compressed };
}
