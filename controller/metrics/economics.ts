// What parking is worth, per VM, as the metrics read it at scrape time. The
// daemon (cli/controller-cmd.ts) binds it to the park engine's own accounting
// (docs/energy.md); without a park engine every figure is 0.
import type { Depth } from '../inventory/types.js';

export interface VmEconomics {
  /** Memory released now by this VM being parked (bytes, measured); 0 when it is not parked. */
  memoryReleasedBytes(vm: string): number;
  /** Depth reclaim: the parked VM's QEMU memory in swap now (bytes, VmSwap measured after its park); 0 when not parked. */
  memorySwappedBytes?(vm: string): number;
  /** Depth reclaim: RAM zram spends now on that swapped memory (bytes); 0 when not parked or swap is on disk. */
  memoryCompressedBytes?(vm: string): number;
  /** Energy saved so far by parking this VM, net of park and wake costs (joules). */
  energySavedJoules(vm: string): number;
  /** Parks of this VM (at `depth`) whose idle period was shorter than the depth's break-even time; monotonic. */
  unprofitableParks(vm: string, depth: Depth): number;
}

/** The provider used until the accounting is plugged in: nothing measured, nothing saved. */
export const zeroEconomics: VmEconomics = {
  memoryReleasedBytes: () => 0,
  energySavedJoules: () => 0,
  unprofitableParks: () => 0,
};
