// What a park released, from what the shell measured around it (pure). Used by
// the machine (park/machine.ts) when libvirt_done reports the measurement.
import type { MemoryMeasurement, ParkMemory } from '../park/model.js';

/**
 * Released = RSS before - RSS after - RAM the compressed copy still takes (zram
 * holds the swapped pages of a reclaim park: memory the host does not get back).
 * Never negative (an RSS that grew released nothing).
 */
export function parkMemoryFrom(m: MemoryMeasurement): ParkMemory {
  const compressed = m.compressedBytes ?? 0;
  const base = { residentBytes: m.beforeBytes, releasedBytes: Math.max(0, m.beforeBytes - m.afterBytes - compressed) };
  return m.swappedBytes === undefined ? base : { ...base, swappedBytes: m.swappedBytes, compressedBytes: compressed };
}
