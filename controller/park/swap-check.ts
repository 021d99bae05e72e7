// Start-up check of park depth reclaim: its memory push needs swap on the VM's
// host (docs/parking.md, "Depth reclaim"). Without swap the cgroup limit cannot
// be reached and every park would keep the memory while claiming a depth that
// releases it; so such a configuration is refused, naming the VM, unless it
// says `reclaimFallback: pause` (then the VM parks at depth pause, with a warning).
import { readFile } from 'node:fs/promises';
import { InventoryError } from '../inventory/load.js';
import type { Inventory, VmSpec } from '../inventory/types.js';

/** What is known of a host's swap. */
export type HostSwap =
  | { readonly kind: 'checked'; readonly devices: readonly string[]; readonly totalBytes: number }
  /** The host is not this machine: its /proc/swaps cannot be read from here. */
  | { readonly kind: 'unchecked'; readonly why: string };

/** Parses /proc/swaps (a header line, then `Filename Type Size(KiB) Used Priority`). */
export function parseProcSwaps(text: string): { devices: string[]; totalBytes: number } {
  const lines = text.trim().split('\n').slice(1).filter((l) => l.trim() !== '');
  const devices = lines.map((l) => l.trim().split(/\s+/)[0]!);
  const totalBytes = lines.reduce((s, l) => s + Number(l.trim().split(/\s+/)[2] ?? 0) * 1024, 0);
  return { devices, totalBytes };
}

/** A libvirt URI without a host part (`qemu:///system`, `qemu+unix:///system?...`) names this machine. */
export function isLocalUri(uri: string): boolean {
  return /^[a-z0-9+]+:\/\/\//i.test(uri);
}

/**
 * This machine's swap for local URIs (/proc/swaps); remote hosts are not
 * checked: libvirt's remote protocol has no call that reports a host's swap
 * (virNodeGetMemoryStats gives total/free/buffers/cached, not swap).
 */
export async function readHostSwap(uri: string, procSwaps = '/proc/swaps'): Promise<HostSwap> {
  if (!isLocalUri(uri)) return { kind: 'unchecked', why: `${uri} is another host: libvirt reports no swap figures, and its /proc/swaps is not readable from here` };
  return { kind: 'checked', ...parseProcSwaps(await readFile(procSwaps, 'utf8')) };
}

export interface SwapCheckResult {
  /** The inventory with fallen-back VMs at depth pause. */
  readonly inventory: Inventory;
  /** One line per VM that falls back or whose host could not be checked. */
  readonly warnings: readonly string[];
}

/**
 * Pure: refuses (InventoryError, every VM named) reclaim VMs on hosts without
 * swap, except those with `reclaimFallback: pause`, which are set to depth
 * pause. Hosts that cannot be checked pass with a warning.
 */
export function applySwapCheck(inv: Inventory, swapOf: ReadonlyMap<string, HostSwap>): SwapCheckResult {
  const issues: string[] = [];
  const warnings: string[] = [];
  const vms: VmSpec[] = inv.vms.map((vm, i) => {
    if (vm.depth !== 'reclaim') return vm;
    const swap = swapOf.get(vm.libvirt.uri);
    if (swap === undefined || swap.kind === 'unchecked') {
      warnings.push(`vm ${vm.name}: depth reclaim on ${vm.libvirt.uri}: swap not checked (${swap?.why ?? 'no answer'}); without swap its parks keep the memory (logged at each park)`);
      return vm;
    }
    if (swap.totalBytes > 0) return vm;
    if (vm.reclaimFallback === 'pause') {
      warnings.push(`vm ${vm.name}: depth reclaim needs swap and ${vm.libvirt.uri} has none (/proc/swaps is empty): parking it at depth pause (reclaimFallback: pause)`);
      return { ...vm, depth: 'pause' };
    }
    issues.push(`vms[${i}] (${vm.name}): depth reclaim needs swap on its host and ${vm.libvirt.uri} has none (/proc/swaps is empty); enable it (bash mininet/zram-swap.sh, docs/operations.md "Swap for depth reclaim") or set reclaimFallback: pause`);
    return vm;
  });
  if (issues.length > 0) throw new InventoryError(inv.file, issues);
  return { inventory: { ...inv, vms }, warnings };
}

/** Reads each reclaim VM host's swap once, then applySwapCheck. */
export async function checkReclaimSwap(inv: Inventory, read: (uri: string) => Promise<HostSwap> = readHostSwap): Promise<SwapCheckResult> {
  const uris = new Set(inv.vms.filter((v) => v.depth === 'reclaim').map((v) => v.libvirt.uri));
  const swapOf = new Map<string, HostSwap>();
  for (const uri of uris) swapOf.set(uri, await read(uri));
  return applySwapCheck(inv, swapOf);
}
