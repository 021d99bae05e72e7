// A small environment for the wake benchmark built from the test harness
// (test/support): one OVS userspace bridge pointed at our controller, one
// client in a netns, two tiny guests (pause, save). Used when the Mininet
// testbed is not asked for; the measurement is the same.
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseInventory } from '../../controller/inventory/index.js';
import { run } from '../../test/support/exec.js';
import { createGuest, createNetnsHost, virsh, type Guest } from '../../test/support/guest.js';
import { createBridge, setController } from '../../test/support/ovs.js';
import type { BenchVm, WakeEnv } from './env.js';

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

/**
 * Builds the environment; attach() points its bridge at our controller.
 * Everything is removed by stop(), and by the harness's exit hooks on a crash.
 */
export async function createLocalEnv(memoryMiB: number): Promise<WakeEnv> {
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
    const dpid = 0x5ea1_0000_0000n + BigInt(process.pid);
    const bridge = await createBridge(t);
    await run('ovs-vsctl', ['set', 'bridge', bridge, `other-config:datapath-id=${dpid.toString(16).padStart(16, '0')}`]);
    const client = await createNetnsHost(t, bridge, '10.93.0.1/24');
    const suffix = process.pid.toString(36).slice(-5);
    const mk = async (depth: 'pause' | 'save', n: number): Promise<{ guest: Guest; tap: string; vm: BenchVm }> => {
      const guest = await createGuest(t, { bridge, ip: `10.93.0.${10 + n}/24`, memoryMiB, start: false, label: `wake-${depth}` });
      const tap = `twk${suffix}${n}`;
      await startWithTap(guest, tap);
      return { guest, tap, vm: { name: `vm-${depth}`, domain: guest.name, ip: guest.ip, port: guest.tcpPort } };
    };
    const pause = await mk('pause', 1);
    const save = await mk('save', 2);
    // Idle parking effectively off (the benchmark parks with parkNow); minActive 0 so a
    // woken VM can be parked again at once.
    const inv = {
      defaults: { idleTimeout: '1h', minActive: 0, gatewayPorts: [pause.vm.port], maxHeld: 64, wakeTimeout: '30s' },
      park: { probeMac: '02:5e:a1:00:00:01', probeIp: '10.93.0.253' },
      switches: [{ name: 'sw', dpid: `0x${dpid.toString(16)}` }],
      vms: [pause, save].map((x, i) => ({
        name: x.vm.name,
        libvirt: { uri: URI, domain: x.guest.name },
        mac: x.guest.mac,
        ip: x.guest.ip,
        switch: 'sw',
        port: x.tap,
        depth: i === 0 ? 'pause' : 'save',
      })),
    };
    return {
      label: `OVS bridge ${bridge} + netns client + 2 TCG guests (${memoryMiB} MiB)`,
      inventory: parseInventory(JSON.stringify(inv), 'bench-wake.json'),
      uri: URI,
      clientPrefix: ['ip', 'netns', 'exec', client.netns],
      clientIp: client.ip,
      clientSwitchPort: client.port,
      vms: { pause: pause.vm, save: save.vm },
      attach: (port) => setController(bridge, port),
      stop: async () => {
        await stop();
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
