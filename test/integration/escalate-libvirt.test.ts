// A depth ladder on the real thing: the park engine (in process, on the system
// clock) drives a userspace OVS bridge over OpenFlow 1.3 and a libvirt/QEMU (TCG)
// guest through libvirt's remote protocol. The guest parks at pause when idle,
// escalates to save (managed save of the paused domain) while parked, and an
// HTTP request from a netns host wakes it from save (restore) and is answered.
// Every wait is on a real condition (the engine's state, libvirt's), bounded.
import test from 'ava';
import { appendFileSync, mkdirSync } from 'node:fs';
import { startController } from '../../controller/daemon.js';
import { parseInventory } from '../../controller/inventory/index.js';
import { createL2App } from '../../controller/l2/app.js';
import { connectHypervisor } from '../../controller/libvirt/index.js';
import { createLogger } from '../../controller/log.js';
import { createParkApp, systemClock } from '../../controller/park/index.js';
import type { Output } from '../../controller/park/model.js';
import { createBridge, destroyBridge, setController, vsctl } from '../support/ovs.js';
import { createGuest, createNetnsHost, httpGet, randomMac, uniqueGuestName } from '../support/guest.js';

type Transition = Extract<Output, { kind: 'transition' }>;
const URI = 'qemu:///system';
const LOG = '/work/logs/escalate-libvirt.log';

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!cond()) throw new Error(`${what}: not within ${ms} ms`);
}

test('a real guest parks at pause, escalates to save while parked, and an HTTP request wakes it from save', async (t) => {
  const cleanups: Array<() => unknown> = [];
  const td = { teardown: (fn: () => unknown) => cleanups.push(fn) };
  t.teardown(async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  });
  mkdirSync('/work/logs', { recursive: true });

  const bridge = await createBridge(td, { failMode: 'secure' });
  cleanups.push(() => destroyBridge(bridge));
  const dpid = BigInt(`0x${(await vsctl('get', 'bridge', bridge, 'datapath_id')).trim().replaceAll('"', '')}`);
  const host = await createNetnsHost(td, bridge, '10.94.0.1/24');
  const name = uniqueGuestName();
  const tap = `esc${name.slice(-10)}`.slice(0, 15);
  const mac = randomMac();
  const guest = await createGuest(td, { bridge, ip: '10.94.0.11/24', label: 'esc', name, mac, targetDev: tap });

  const inventory = parseInventory(
    `
park: { probeIp: 10.94.0.253, pollInterval: 500ms }
switches: [{ name: br, dpid: ${dpid} }]
vms:
  - name: esc
    libvirt: { uri: "${URI}", domain: ${guest.name} }
    mac: "${mac}"
    ip: 10.94.0.11
    switch: br
    port: ${tap}
    minActive: 2s
    wakeTimeout: 30s
    depths: [{ depth: pause, after: 3s }, { depth: save, after: 12s }]
`,
    'escalate-libvirt.yaml',
  );
  const hv = await connectHypervisor(URI);
  cleanups.push(() => hv.close());
  const log = createLogger({ level: 'debug', format: 'json', sink: (line) => appendFileSync(LOG, `${line}\n`) });
  const transitions: Transition[] = [];
  const park = createParkApp({ inventory, hypervisors: () => hv, clock: systemClock, log, onTransition: (x) => transitions.push(x) });
  const ctl = await startController({ listen: { host: '127.0.0.1', port: 0 }, apps: [park, createL2App({ log })], log });
  cleanups.push(() => ctl.stop());
  await park.ready;
  await setController(bridge, ctl.address.port);
  const st = () => park.status()[0]!;

  await waitFor(() => st().phase === 'parked' && st().depth === 'pause', 60_000, 'park at pause');
  t.is((await hv.getState(guest.name)).state, 'paused');
  await waitFor(() => st().phase === 'parked' && st().depth === 'save', 60_000, 'escalation to save');
  t.deepEqual(await hv.getState(guest.name), { state: 'shutoff', hasManagedSave: true });
  t.is(st().portNo, undefined, 'the saved guest has no tap');
  t.true(st().energy.memoryReleasedBytes > 0, 'the escalation to save released the QEMU memory (measured)');
  const parkAt = transitions.findIndex((x) => x.reason === 'idle');
  t.deepEqual(
    transitions.slice(parkAt).map((x) => `${x.from}->${x.to} ${x.reason} ${x.depth}`),
    ['active->parking idle pause', 'parking->parked parked pause', 'parked->parking escalate save', 'parking->parked escalated save'],
  );

  // The host's first request wakes it from save; curl retransmits its SYN while the guest is restored.
  const body = await httpGet(host, `http://${guest.ip}/`, 20);
  t.is(body, guest.expectedBody);
  await waitFor(() => st().phase === 'active', 10_000, 'active after the wake');
  t.is((await hv.getState(guest.name)).state, 'running');
  const wake = transitions.find((x) => x.from === 'waking' && x.to === 'active')!;
  t.like(wake, { reason: 'woken', depth: 'save' });
  t.is(st().depth, undefined);
  t.log(JSON.stringify({ wakeFromSaveMs: wake.durationMs, memoryReleasedMiB: Math.round((transitions.find((x) => x.reason === 'escalated')!.memoryReleasedBytes ?? 0) / 2 ** 20) }));
});
