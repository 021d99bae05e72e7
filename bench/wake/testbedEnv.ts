// The wake benchmark on the SEaMLESS testbed (test/support/testbed.ts): the
// Mininet switch s1, client h1, and the VMs of topologies/testbed.yaml, whose
// depths are pause (vm1) and save (vm2), plus two reclaim VMs added here when the
// inventory has none (the testbed inventory stays as the other tests know it):
// vmr (plain guest) and vmw (its service touches touchMiB of RAM per request).
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

/** Adds the reclaim VMs vmr and vmw (modelled on the pause VM, next free addresses) unless the inventory has them. */
function withReclaimVms(inv: Inventory): Inventory {
  if (inv.vms.some((v) => v.name === 'vmw')) return inv;
  const base = inv.vms.find((v) => v.depth === 'pause');
  if (base === undefined) throw new Error(`${inv.file}: no VM with depth pause to model the reclaim VMs on`);
  const add = (name: string, n: number) => ({
    ...base,
    name,
    libvirt: { uri: base.libvirt.uri, domain: `seamless-${name}` },
    mac: `52:54:00:00:00:${(0x20 + n).toString(16)}`,
    ip: base.ip.replace(/\.\d+$/, `.${20 + n}`),
    port: `${name}-tap`,
    depth: 'reclaim' as const,
  });
  const extra = inv.vms.some((v) => v.depth === 'reclaim') ? [add('vmw', 2)] : [add('vmr', 1), add('vmw', 2)];
  return { ...inv, vms: [...inv.vms, ...extra] };
}

/** Plans the benchmark on the testbed inventory `file`, client host `client` (default h1). */
export async function planTestbedEnv(file: string, memoryMiB: number, client = 'h1', touchMiB = 32): Promise<WakeEnvPlan> {
  const inventory = withReclaimVms(forBench(await loadInventory(file)));
  const pick = (depth: 'pause' | 'save' | 'reclaim', name?: string): BenchVm => {
    const v = inventory.vms.find((x) => (name === undefined ? x.depth === depth : x.name === name));
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
    vms: { pause: pick('pause'), save: pick('save'), reclaim: pick('reclaim'), workingSet: pick('reclaim', 'vmw') },
    touchMiB,
    async start(controllerPort: number): Promise<WakeEnv> {
      const tb = await startTestbed(undefined, { inventory, controllerPort, memoryMiB, guestArgs: { vmw: `seamless.fill=random:${touchMiB}` } });
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
