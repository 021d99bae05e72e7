// Memory released by a park, measured on real libvirt + QEMU (TCG) with a tiny
// guest: the QEMU process's RSS before and after, read the way the park shell
// reads it (controller/energy/memory.ts around park/hypervisor.ts parkDomain).
import test from 'ava';
import { connectHypervisor } from '../../controller/libvirt/index.js';
import { measureAround, qemuRssReader } from '../../controller/energy/memory.js';
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
  // The numbers, for docs/energy.md (not asserted beyond the above).
  t.log(JSON.stringify({ pause: { rssBeforeMiB: paused!.beforeBytes / 2 ** 20, rssAfterMiB: paused!.afterBytes / 2 ** 20 }, save: { rssBeforeMiB: saved!.beforeBytes / 2 ** 20, releasedMiB: (saved!.beforeBytes - saved!.afterBytes) / 2 ** 20 } }));
});
