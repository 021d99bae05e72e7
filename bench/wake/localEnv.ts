// A small environment for the wake benchmark built from the test harness
// (test/support): one OVS userspace bridge pointed at our controller, one
// client in a netns, four tiny guests (pause, save, reclaim, and a reclaim
// guest whose service touches touchMiB of RAM per request). No Mininet: used with
// `--env local` when the Mininet lock must not be held; the measurement is
// the same as on the testbed.
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseInventory } from '../../controller/inventory/index.js';
import { run } from '../../test/support/exec.js';
import { createGuest, createNetnsHost, randomMac, uniqueGuestName, virsh, type Guest } from '../../test/support/guest.js';
import { createBridge, setController } from '../../test/support/ovs.js';
import type { BenchVm, WakeEnv, WakeEnvPlan } from './env.js';

const URI = 'qemu:///system';

/** Gives a defined (not started) guest a fixed tap name, then starts it: the inventory names VM ports. */
async function startWithTap(guest: Guest, tap: string): Promise<void> {
  const xml = await virsh('dumpxml', '--inactive', guest.name);
  const fixed = xml.replace(/(<interface type='bridge'>)/, `$1\n      <target dev='${tap}'/>`);
  if (fixed === xml) throw new Error(`no bridge interface in ${guest.name}'s XML`);
  const file = path.join(tmpdir(), `${guest.name}.xml`);
  writeFileSync(file, fixed);
  try {
    await virsh('define', file);
  } finally {
    rmSync(file, { force: true });
  }
  await virsh('start', guest.name);
  await guest.waitReady();
}

/** Plans the environment (names, MACs, inventory); start() builds it. */
export function planLocalEnv(memoryMiB: number, touchMiB = 32): WakeEnvPlan {
  const dpid = 0x5ea1_0000_0000n + BigInt(process.pid);
  const suffix = process.pid.toString(36).slice(-5);
  const roles = ['pause', 'save', 'reclaim', 'workingSet'] as const;
  const guests = roles.map((role, i) => ({
    depth: role === 'workingSet' ? ('reclaim' as const) : role,
    fill: role === 'workingSet' ? `random:${touchMiB}` : undefined,
    domain: uniqueGuestName(),
    mac: randomMac(),
    ip: `10.93.0.${11 + i}`,
    tap: `twk${suffix}${i + 1}`,
    vm: { name: `vm-${role}`, domain: '', ip: `10.93.0.${11 + i}`, port: 22 } as BenchVm,
  }));
  for (const g of guests) g.vm.domain = g.domain;
  // Idle parking effectively off (the benchmark parks with parkNow); minActive 0 so a
  // (port 80 wakes too: the working-set cycles' HTTP request must reach a parked VM)
  // woken VM can be parked again at once.
  const inv = {
    defaults: { idleTimeout: '1h', minActive: 0, gatewayPorts: [22, 80], maxHeld: 64, wakeTimeout: '30s' },
    park: { probeMac: '02:5e:a1:00:00:01', probeIp: '10.93.0.253' },
    switches: [{ name: 'sw', dpid: `0x${dpid.toString(16)}` }],
    vms: guests.map((g) => ({ name: g.vm.name, libvirt: { uri: URI, domain: g.domain }, mac: g.mac, ip: g.ip, switch: 'sw', port: g.tap, depth: g.depth })),
  };
  return {
    inventory: parseInventory(JSON.stringify(inv), 'bench-wake.json'),
    uri: URI,
    vms: { pause: guests[0]!.vm, save: guests[1]!.vm, reclaim: guests[2]!.vm, workingSet: guests[3]!.vm },
    touchMiB,
    async start(controllerPort: number): Promise<WakeEnv> {
      const cleanups: Array<() => unknown> = [];
      const t = { teardown: (fn: () => unknown) => cleanups.push(fn) };
      const stop = async () => {
        for (const fn of cleanups.splice(0).reverse()) {
          try {
            await fn();
          } catch (e) {
            process.stderr.write(`cleanup: ${e instanceof Error ? e.message : String(e)}\n`);
          }
        }
      };
      try {
        const bridge = await createBridge(t);
        await run('ovs-vsctl', ['set', 'bridge', bridge, `other-config:datapath-id=${dpid.toString(16).padStart(16, '0')}`]);
        await setController(bridge, controllerPort);
        const client = await createNetnsHost(t, bridge, '10.93.0.1/24');
        for (const g of guests) {
          const guest = await createGuest(t, { bridge, name: g.domain, mac: g.mac, ip: `${g.ip}/24`, memoryMiB, start: false, label: g.vm.name, readyTimeoutMs: 240_000, ...(g.fill === undefined ? {} : { fill: g.fill }) });
          await startWithTap(guest, g.tap);
        }
        return {
          label: `OVS bridge ${bridge} + netns client + 4 TCG guests (${memoryMiB} MiB), no Mininet`,
          clientPrefix: ['ip', 'netns', 'exec', client.netns],
          clientIp: client.ip,
          clientSwitchPort: client.port,
          stop,
        };
      } catch (e) {
        await stop();
        throw e;
      }
    },
  };
}
