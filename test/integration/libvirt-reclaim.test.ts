// Park depth reclaim on real libvirt + QEMU (TCG) with zram swap: the memory
// push goes over libvirt's remote protocol (DOMAIN_SET_MEMORY_PARAMETERS), the
// QEMU process's RSS drops and its pages are in swap (checked from /proc), the
// limit is lifted again (cgroup v1 memory.limit_in_bytes), and a resume brings
// the guest back serving. Needs swap: mininet/setup.sh enables zram when the
// host has none.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { connectHypervisor } from '../../controller/libvirt/index.js';
import { measureAround, qemuOffloadReader, qemuRssReader } from '../../controller/energy/memory.js';
import { parkMemoryFrom } from '../../controller/energy/released.js';
import { parkDomain, wakeDomain } from '../../controller/park/hypervisor.js';
import { createBridge, destroyBridge } from '../support/ovs.js';
import { createGuest, createNetnsHost, httpGet, virsh } from '../support/guest.js';

const URI = 'qemu:///system';
const MIB = 2 ** 20;

/** The memory cgroup (v1) libvirt put the domain's QEMU in, from /proc/PID/cgroup. */
async function memoryLimitOf(domain: string): Promise<bigint> {
  const pid = (await readFile(`/var/run/libvirt/qemu/${domain}.pid`, 'utf8')).trim();
  const line = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).split('\n').find((l) => /^\d+:memory:/.test(l));
  if (line === undefined) throw new Error(`QEMU ${pid} of ${domain} has no cgroup v1 memory controller`);
  return BigInt((await readFile(`/sys/fs/cgroup/memory${line.split(':')[2]}/memory.limit_in_bytes`, 'utf8')).trim());
}

test('reclaim park: suspend, memory pushed into swap over the remote protocol, limit lifted; resume serves again', async (t) => {
  const swaps = (await readFile('/proc/swaps', 'utf8')).trim().split('\n').slice(1);
  t.true(swaps.length > 0, 'the host has swap (mininet/setup.sh enables zram)');
  const cleanups: Array<() => unknown> = [];
  const td = { teardown: (fn: () => unknown) => cleanups.push(fn) };
  t.teardown(async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  });
  const bridge = await createBridge(td, { failMode: 'standalone' });
  cleanups.push(() => destroyBridge(bridge));
  const guest = await createGuest(td, { bridge, ip: '10.94.0.11/24', label: 'reclaim', fill: 'random:8' });
  const client = await createNetnsHost(td, bridge, '10.94.0.2/24');
  t.is(await httpGet(client, `http://${guest.ip}/`), guest.expectedBody);
  const hv = await connectHypervisor(URI);
  cleanups.push(() => hv.close());

  const m = await measureAround(qemuRssReader(), URI, guest.name, async () => {
    t.deepEqual(await parkDomain(hv, guest.name, 'reclaim'), {}, 'the push succeeded');
  }, qemuOffloadReader());
  t.truthy(m);
  const mem = parkMemoryFrom(m!);
  t.is((await hv.getState(guest.name)).state, 'paused');
  t.true(m!.afterBytes < m!.beforeBytes / 2, `RSS ${m!.beforeBytes} -> ${m!.afterBytes}: most of it left`);
  t.true((m!.swappedBytes ?? 0) > 32 * MIB, `VmSwap ${m!.swappedBytes} after the push`);
  t.true(mem.releasedBytes > 0 && mem.releasedBytes < m!.beforeBytes, 'released net of the compressed copy');
  t.true((await memoryLimitOf(guest.name)) > 2n ** 60n, 'the hard limit is lifted again (no OOM kill possible)');
  const st = await virsh('memtune', guest.name);
  t.regex(st, /hard_limit\s*:\s*unlimited/, 'libvirt itself reports no limit');

  // Idempotent from an already reclaimed domain: a second push is harmless.
  t.deepEqual(await parkDomain(hv, guest.name, 'reclaim'), {});
  t.is(await wakeDomain(hv, guest.name), 'resumed');
  t.is(await httpGet(client, `http://${guest.ip}/`), guest.expectedBody);
  t.log(JSON.stringify({ rssBeforeMiB: m!.beforeBytes / MIB, rssAfterMiB: m!.afterBytes / MIB, swappedMiB: (m!.swappedBytes ?? 0) / MIB, compressedMiB: (m!.compressedBytes ?? 0) / MIB, releasedMiB: mem.releasedBytes / MIB }));
});
