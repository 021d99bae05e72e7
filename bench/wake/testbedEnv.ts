// The wake benchmark on the SEaMLESS testbed (test/support/testbed.ts): the
// Mininet switch s1, client h1, and the VMs of topologies/testbed.yaml, whose
// depths are pause (vm1) and save (vm2).
import { loadInventory } from '../../controller/inventory/index.js';
import type { Inventory } from '../../controller/inventory/types.js';
import { startTestbed } from '../../test/support/testbed.js';
import type { BenchVm, WakeEnv, WakeEnvPlan } from './env.js';

/** The inventory's settings the benchmark changes, and why. */
function forBench(inv: Inventory): Inventory {
  return {
    ...inv,
    // No idle parking during the run (the benchmark parks with parkNow at known
    // times) and no anti-flap delay (a woken VM is parked again at once).
    vms: inv.vms.map((v) => ({ ...v, idleTimeoutMs: 3_600_000, minActiveMs: 0 })),
  };
}

/** Plans the benchmark on the testbed inventory `file`, client host `client` (default h1). */
export async function planTestbedEnv(file: string, memoryMiB: number, client = 'h1'): Promise<WakeEnvPlan> {
  const inventory = forBench(await loadInventory(file));
  const pick = (depth: 'pause' | 'save'): BenchVm => {
    const v = inventory.vms.find((x) => x.depth === depth);
    if (!v) throw new Error(`${file}: no VM with depth ${depth}`);
    const port = v.gatewayPorts.includes(22) || v.gatewayPorts.length === 0 ? 22 : v.gatewayPorts[0]!;
    return { name: v.name, domain: v.libvirt.domain, ip: v.ip, port };
  };
  const uris = new Set(inventory.vms.map((v) => v.libvirt.uri));
  if (uris.size !== 1) throw new Error(`${file}: the benchmark wants one libvirt URI, found ${[...uris].join(', ')}`);
  const host = inventory.hosts.find((h) => h.name === client);
  if (!host) throw new Error(`${file}: no host ${client}`);
  return {
    inventory,
    uri: [...uris][0]!,
    vms: { pause: pick('pause'), save: pick('save') },
    async start(controllerPort: number): Promise<WakeEnv> {
      const tb = await startTestbed(undefined, { inventory, controllerPort, memoryMiB });
      const h = tb.hosts[client]!;
      return {
        label: `Mininet testbed (${file}): ${tb.switchName}, client ${client} on ${h.port}, VMs ${Object.keys(tb.vms).join(', ')} (${memoryMiB} MiB)`,
        clientPrefix: tb.prefix(client),
        clientIp: h.ip,
        clientSwitchPort: h.port,
        stop: () => tb.stop(),
      };
    },
  };
}
