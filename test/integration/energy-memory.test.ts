// Memory released by a park, measured on real libvirt + QEMU (TCG) with a tiny
// guest: the QEMU process's RSS before and after, read the way the park shell
// reads it (controller/energy/memory.ts around park/hypervisor.ts parkDomain).
import test from 'ava';
import { connectHypervisor } from '../../controller/libvirt/index.js';
import { libvirtRssReader, measureAround, qemuRssReader } from '../../controller/energy/memory.js';
import { parkDomain, wakeDomain } from '../../controller/park/hypervisor.js';
import { createBridge, destroyBridge } from '../support/ovs.js';
import { createGuest } from '../support/guest.js';

const URI = 'qemu:///system';

test('a save park releases the QEMU process memory (RSS before > 0, after 0); a pause park keeps it', async (t) => {
  const cleanups: Array<() => unknown> = [];
  const td = { teardown: (fn: () => unknown) => cleanups.push(fn) };
  t.teardown(async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  });
  const bridge = await createBridge(td, { failMode: 'standalone' });
  cleanups.push(() => destroyBridge(bridge));
  const guest = await createGuest(td, { bridge, ip: '10.93.0.11/24', label: 'energy' });
  const hv = await connectHypervisor(URI);
  cleanups.push(() => hv.close());
  const read = qemuRssReader();

  const paused = await measureAround(read, URI, guest.name, () => parkDomain(hv, guest.name, 'pause'));
  t.truthy(paused, 'a running local QEMU domain is measurable');
  t.true(paused!.beforeBytes > 0);
  t.true(paused!.afterBytes > 0, 'a paused guest keeps its QEMU process and memory');
  await wakeDomain(hv, guest.name);

  const saved = await measureAround(read, URI, guest.name, () => parkDomain(hv, guest.name, 'save'));
  t.truthy(saved);
  t.true(saved!.beforeBytes > 0, 'RSS of the running guest');
  t.is(saved!.afterBytes, 0, 'the saved domain has no QEMU process');
  t.true(saved!.beforeBytes - saved!.afterBytes > 0, 'memory released by the save park');

  // libvirt's domain memory stats (remote procedure DOMAIN_MEMORY_STATS), the reader for remote hosts.
  await wakeDomain(hv, guest.name);
  const stats = await hv.memoryStats!(guest.name);
  const procRss = (await read(URI, guest.name))!;
  const statRss = Number(stats.get('rss')) * 1024;
  t.true(statRss > 0, 'libvirt reports the QEMU RSS of a running domain');
  t.true(Math.abs(statRss - procRss) < 32 * 2 ** 20, `libvirt's rss (${statRss}) is the process's VmRSS (${procRss})`);
  const viaLibvirt = await measureAround(libvirtRssReader(hv), URI, guest.name, () => parkDomain(hv, guest.name, 'save'));
  t.truthy(viaLibvirt);
  t.is(viaLibvirt!.afterBytes, 0);
  t.true(viaLibvirt!.beforeBytes > 0, 'released through libvirt stats too');
  // The numbers, for docs/energy.md (not asserted beyond the above).
  const mib = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
  t.log(JSON.stringify({ pause: { rssBeforeMiB: mib(paused!.beforeBytes), rssAfterMiB: mib(paused!.afterBytes) }, save: { rssBeforeMiB: mib(saved!.beforeBytes), releasedMiB: mib(saved!.beforeBytes - saved!.afterBytes) }, libvirtStats: Object.fromEntries([...stats].map(([k, v]) => [k, Number(v)])), saveViaLibvirtReleasedMiB: mib(viaLibvirt!.beforeBytes) }));
});
