// createControlSource over the real park engine (simulated switch + FakeHypervisor
// on virtual time): the views the API serves and the operator commands.
import test from 'ava';
import { createControlSource, WakeTimes } from '../../../controller/api/source.js';
import { createLogger } from '../../../controller/log.js';
import { createParkApp } from '../../../controller/park/app.js';
import { World } from '../../support/park-world.js';

const INVENTORY = `
park: { probeInterval: 15ms, pollInterval: 1s }
defaults: { idleTimeout: 1h, minActive: 0s, wakeTimeout: 5s }
switches: [{ name: s1, dpid: 1 }]
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depth: save }
  - { name: vm2, libvirt: { uri: "test:///default", domain: d2 }, mac: "52:54:00:00:00:12", ip: 10.0.0.12, switch: s1, port: vm2-tap, depth: pause }
`;

async function setup() {
  const w = new World(INVENTORY);
  const wakeTimes = new WakeTimes();
  w.app = createParkApp({ inventory: w.inv, hypervisors: () => w.hv, clock: w.clock, store: w.store, log: createLogger({ level: 'silent' }), onTransition: wakeTimes.onTransition });
  w.sw.app = w.app;
  await w.app.ready;
  await w.reconnect();
  const src = createControlSource({
    park: { app: w.app, inventory: w.inv, wakeTimes },
    switches: { datapaths: new Map([[w.sw.id, w.sw]]) },
    store: () => ({ kind: 'memory', healthy: true, pendingWrites: 0 }),
    now: () => 42,
  });
  return { w, src };
}

async function until(w: World, cond: () => boolean, ms = 20_000): Promise<void> {
  for (let i = 0; i < ms / 5 && !cond(); i++) await w.clock.advance(5);
  if (!cond()) throw new Error('condition not reached in virtual time');
}

test('VM views combine engine status and inventory', async (t) => {
  const { w, src } = await setup();
  const vms = src.vms();
  t.deepEqual(
    vms.map((v) => v.name),
    ['vm1', 'vm2'],
  );
  t.like(src.vm('vm1'), { name: 'vm1', state: 'active', step: 'none', depth: 'save', domain: 'd1', switch: 's1', port: w.portOf('vm1'), held: 0, lastError: null, wakes: 0, lastWakeMs: null });
  t.throws(() => src.vm('vm9'), { code: 'VM_NOT_FOUND', message: "no VM named 'vm9' (known: vm1, vm2)" });
  t.like(src.daemon(), { startedAt: 42, vms: 2, switches: 1, store: { kind: 'memory' } });
});

test('park then wake through the source: results, busy refusals, the last wake duration', async (t) => {
  const { w, src } = await setup();
  const started = await src.park('vm1');
  t.is(started.result, 'started');
  t.is(started.vm.state, 'parking');
  await t.throwsAsync(src.wake('vm1'), { code: 'VM_BUSY', message: /vm1 is parking \(\w+\): wake it once it is parked/ });
  t.like(await src.park('vm1'), { result: 'in-progress' });
  await until(w, () => src.vm('vm1').state === 'parked');
  t.is(w.fake.peek('d1')?.hasManagedSave, true);
  t.is(src.vm('vm1').port, null, 'the tap of a saved VM is gone');
  t.like(await src.park('vm1'), { result: 'already' });

  t.like(await src.wake('vm1'), { result: 'started', vm: { state: 'waking' } });
  t.like(await src.wake('vm1'), { result: 'in-progress' });
  await t.throwsAsync(src.park('vm1'), { code: 'VM_BUSY', message: /vm1 is waking/ });
  await until(w, () => src.vm('vm1').state === 'active');
  const v = src.vm('vm1');
  t.is(v.wakes, 1);
  t.is(v.port, w.portOf('vm1') ?? -1);
  // FakeHypervisor start takes 460 ms of virtual time in the harness, then the tap and probe.
  t.true(v.lastWakeMs !== null && v.lastWakeMs >= 460 && v.lastWakeMs < 2000, `lastWakeMs ${v.lastWakeMs}`);
  t.like(await src.wake('vm1'), { result: 'already' });
  await t.throwsAsync(src.park('nope'), { code: 'VM_NOT_FOUND' });
});

test('switch views list connected datapaths with their ports, sorted, named from the inventory', async (t) => {
  const { w, src } = await setup();
  const [s] = src.switches();
  t.like(s, { dpid: '0000000000000001', name: 's1', remote: null, nTables: 254 });
  t.deepEqual(
    s!.ports.map((p) => [p.portNo, p.name]),
    [
      [1, 's1-eth1'],
      [2, 's1-eth2'],
      [3, 's1-eth3'],
      [10, 'vm1-tap'],
      [11, 'vm2-tap'],
    ],
  );
  w.sw.connected = false;
  t.deepEqual(src.switches(), []);
});

test('without a park engine there are no VMs and commands name the VM as unknown', async (t) => {
  const src = createControlSource({ switches: { datapaths: new Map() } });
  t.deepEqual(src.vms(), []);
  await t.throwsAsync(src.wake('vm1'), { code: 'VM_NOT_FOUND', message: "no VM named 'vm1' (the controller runs without an inventory)" });
  t.like(src.daemon(), { vms: 0, switches: 0, store: { kind: 'none' } });
});

test('a park aborted because the switch is gone: the view carries the transition reason and the engine\'s own words', async (t) => {
  const w = new World(INVENTORY);
  const wakeTimes = new WakeTimes();
  w.app = createParkApp({
    inventory: w.inv,
    hypervisors: () => w.hv,
    clock: w.clock,
    store: w.store,
    log: wakeTimes.watchLog(createLogger({ level: 'silent' })),
    onTransition: wakeTimes.onTransition,
  });
  w.sw.app = w.app;
  await w.app.ready;
  await w.reconnect();
  const src = createControlSource({ park: { app: w.app, inventory: w.inv, wakeTimes }, switches: { datapaths: new Map([[w.sw.id, w.sw]]) } });
  t.is(src.vm('vm2').lastProblem, null);
  w.sw.connected = false;
  const before = Date.now();
  await src.park('vm2');
  await until(w, () => src.vm('vm2').state === 'active');
  const v = src.vm('vm2');
  t.like(v.lastTransition, { from: 'parking', to: 'active', reason: 'park-barrier-failed' });
  t.is(v.lastProblem?.message, 'park aborted, barrier failed: switch not connected');
  t.true(v.lastProblem!.at >= before);
});

test('memory released, energy saved and unprofitable parks: measured around the park by the shell, in the VM view', async (t) => {
  const w = new World(INVENTORY);
  const MIB = 1024 * 1024;
  const reads: string[] = [];
  // The QEMU process: 300 MiB while the domain runs, none once saved (shut off).
  const readRss = async (_uri: string, domain: string) => {
    reads.push(`${domain}:${w.fake.peek(domain)!.state}`);
    return w.fake.peek(domain)!.state === 'shutoff' ? 0 : 300 * MIB;
  };
  w.app = createParkApp({ inventory: w.inv, hypervisors: () => w.hv, clock: w.clock, store: w.store, log: createLogger({ level: 'silent' }), readRss });
  w.sw.app = w.app;
  await w.app.ready;
  await w.reconnect();
  const src = createControlSource({ park: { app: w.app, inventory: w.inv }, switches: { datapaths: new Map([[w.sw.id, w.sw]]) }, now: () => 42 });
  t.like(src.vm('vm1'), { memoryReleasedBytes: 0, energySavedJoules: 0, unprofitableParks: 0 });
  await src.park('vm1');
  await until(w, () => src.vm('vm1').state === 'parked');
  t.deepEqual(reads, ['d1:running', 'd1:shutoff'], 'read before and after the park operation');
  t.is(src.vm('vm1').memoryReleasedBytes, 300 * MIB);
  // Woken 2 s later: far below the save depth's break-even time, so it did not pay off.
  await w.clock.advance(2000);
  await src.wake('vm1');
  await until(w, () => src.vm('vm1').state === 'active');
  const v = src.vm('vm1');
  t.is(v.memoryReleasedBytes, 0, 'active: nothing released any more');
  t.is(v.unprofitableParks, 1);
  t.true(v.energySavedJoules < 0, `a 2 s park at depth save costs more than it saves (${v.energySavedJoules} J)`);
});

test('depth reclaim: released net of zram\'s copy, the last park (swap, zram) in the view after the wake; the port is kept', async (t) => {
  const w = new World(INVENTORY.replace('depth: save', 'depth: reclaim'));
  const MIB = 1024 * 1024;
  let swapped = 0;
  const readRss = async (_uri: string, domain: string) => (w.fake.peek(domain)!.state === 'paused' ? 60 * MIB : 300 * MIB);
  const readOffload = async (_uri: string, domain: string) => {
    if (w.fake.peek(domain)!.state === 'paused') swapped = 240 * MIB;
    return { swappedBytes: swapped, compressedBytes: swapped / 4 };
  };
  w.app = createParkApp({ inventory: w.inv, hypervisors: () => w.hv, clock: w.clock, store: w.store, log: createLogger({ level: 'silent' }), readRss, readOffload });
  w.sw.app = w.app;
  await w.app.ready;
  await w.reconnect();
  const src = createControlSource({ park: { app: w.app, inventory: w.inv }, switches: { datapaths: new Map([[w.sw.id, w.sw]]) }, now: () => 42 });
  const port = src.vm('vm1').port;
  t.not(port, null);
  await src.park('vm1');
  await until(w, () => src.vm('vm1').state === 'parked');
  t.is(w.fake.peek('d1')!.state, 'paused');
  t.deepEqual(w.fake.hardLimitsOf('d1').at(-1), 'unlimited');
  // 300 MiB running; parked: 60 resident + 60 held by zram for 240 swapped.
  t.is(src.vm('vm1').memoryReleasedBytes, 180 * MIB);
  t.is(src.vm('vm1').port, port, 'reclaim keeps the tap: its port number stays valid');
  await src.wake('vm1');
  await until(w, () => src.vm('vm1').state === 'active');
  t.deepEqual(src.vm('vm1').lastPark, { residentBytes: 300 * MIB, releasedBytes: 180 * MIB, swappedBytes: 240 * MIB, compressedBytes: 60 * MIB });
  t.is(src.vm('vm1').memoryReleasedBytes, 0);
});

test('depth reclaim: a failed memory push still parks the VM (paused, port kept), logs why, and the wake is a resume', async (t) => {
  const w = new World(INVENTORY.replace('depth: save', 'depth: reclaim'));
  const lines: string[] = [];
  w.fake.failNext('setMemoryHardLimit', 'LIBVIRT_ERROR', { domain: 'd1', times: 1 });
  w.app = createParkApp({ inventory: w.inv, hypervisors: () => w.hv, clock: w.clock, store: w.store, log: createLogger({ level: 'warn', sink: (l) => lines.push(l) }) });
  w.sw.app = w.app;
  await w.app.ready;
  await w.reconnect();
  const src = createControlSource({ park: { app: w.app, inventory: w.inv }, switches: { datapaths: new Map([[w.sw.id, w.sw]]) }, now: () => 42 });
  await src.park('vm1');
  await until(w, () => src.vm('vm1').state === 'parked');
  t.is(w.fake.peek('d1')!.state, 'paused', 'paused with its memory');
  t.is(w.fake.hardLimitsOf('d1').at(-1), 'unlimited', 'the limit was lifted');
  const warn = lines.find((l) => l.includes('reclaim: memory not released'));
  t.truthy(warn, lines.join('\n'));
  t.regex(warn!, /"vm":"vm1"/);
  await src.wake('vm1');
  await until(w, () => src.vm('vm1').state === 'active');
  t.is(w.fake.callsOf('resume', 'd1').length, 1);
});

test('hypervisors: each host with its connection status and VM count; VMs name their host', async (t) => {
  const { w } = await setup();
  const status = { state: 'down' as const, endpoint: 'hv.example:16514 (tls)', since: 7, lastError: 'timed out after 5000 ms', connects: 2 };
  const src = createControlSource({
    park: { app: w.app!, inventory: w.inv },
    switches: { datapaths: new Map([[w.sw.id, w.sw]]) },
    hypervisorStatus: (uri) => (uri === 'test:///default' ? status : undefined),
    toEpoch: (ms) => ms + 1000,
  });
  t.deepEqual(src.hypervisors?.(), [
    { name: 'test:///default', uri: 'test:///default', endpoint: 'hv.example:16514 (tls)', connection: 'down', since: 1007, lastError: 'timed out after 5000 ms', connects: 2, maxConcurrentOps: 4, vms: 2 },
  ]);
  t.is(src.vm('vm1').hypervisor, 'test:///default');
});
