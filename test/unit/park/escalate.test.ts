// Depth ladders (inventory `depths:`): a parked VM parks deeper as its idleness
// grows, each escalation a named transition of the machine, each wake from the
// depth it is at. On virtual time with the simulated switch and FakeHypervisor.
import test from 'ava';
import { buildArpRequest, buildTcpFrame, parseFrame } from '../../../controller/packet/index.js';
import type { Output } from '../../../controller/park/model.js';
import { energySaved, energySavedSoFar } from '../../../controller/energy/model.js';
import { DEFAULT_POWER_PROFILE } from '../../../controller/energy/profile.js';
import { HOST, World } from '../../support/park-world.js';

type Transition = Extract<Output, { kind: 'transition' }>;

/** vm1 parks at pause after 10 s idle, escalates to save at 60 s (and to shutdown at 300 s with THREE). */
function inventory(ladder = '[{ depth: pause, after: 10s }, { depth: save, after: 60s }]'): string {
  return `
park: { probeInterval: 15ms, wakeRetries: 2, retryBackoff: 1s, probeIp: 10.0.0.253, maxConcurrentOps: 2, pollInterval: 1s }
defaults: { minActive: 5s, maxHeld: 4, wakeTimeout: 5s }
switches: [{ name: s1, dpid: 1 }]
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depths: ${ladder} }
`;
}
const THREE = '[{ depth: pause, after: 10s }, { depth: save, after: 60s }, { depth: shutdown, after: 300s }]';

let seq = 0;
function syn(w: World): Buffer {
  const v = w.vm('vm1');
  return buildTcpFrame({ ethSrc: HOST.mac, ethDst: v.mac, src: HOST.ip, dst: v.ip, srcPort: 40000, dstPort: 80, flags: 0x02, seq: ++seq });
}

function received(w: World, p: Buffer): boolean {
  return w.receivedBy('vm1').some((f) => parseFrame(f)?.tcp !== undefined && f.readUInt32BE(38) === p.readUInt32BE(38));
}

/** A world whose transitions are recorded. */
function world(yaml: string): { w: World; transitions: Transition[] } {
  const w = new World(yaml);
  const transitions: Transition[] = [];
  w.observer = { output: (o) => void (o.kind === 'transition' && transitions.push(o)) };
  return { w, transitions };
}

async function until(w: World, pred: () => boolean, what: string, maxMs = 400_000, stepMs = 100): Promise<void> {
  for (let t = 0; t < maxMs && !pred(); t += stepMs) await w.clock.advance(stepMs);
  if (!pred()) throw new Error(`${what} never happened: ${JSON.stringify(w.status('vm1'), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
}

const parkedAt = (w: World, depth: string) => () => w.status('vm1').phase === 'parked' && w.status('vm1').depth === depth;

test('pause -> save: parked at pause after 10 s idle, escalated to save when idle 60 s (counted from the last activity), as named transitions', async (t) => {
  const { w, transitions } = world(inventory());
  await w.start();
  const start = w.clock.now();
  await until(w, parkedAt(w, 'pause'), 'park at pause');
  t.is(w.fake.peek('d1')!.state, 'paused');
  t.is((await w.store.get('vm1'))?.depth, 'pause');
  const pausePort = w.portOf('vm1');
  t.truthy(pausePort, 'a paused VM keeps its tap');
  // The VM never moved after start: its idle period began at start. Not escalated before 60 s of it.
  await w.clock.advance(start + 59_000 - w.clock.now());
  t.like(w.status('vm1'), { phase: 'parked', depth: 'pause' });
  t.deepEqual(w.fake.callsOf('managedSave'), []);
  await until(w, parkedAt(w, 'save'), 'escalation to save', 10_000, 10);
  t.true(w.clock.now() >= start + 60_000);
  t.like(w.fake.peek('d1'), { state: 'shutoff', hasManagedSave: true });
  t.is(w.fake.callsOf('managedSave').length, 1);
  t.is(w.portOf('vm1'), undefined, 'the saved domain has no tap');
  t.is(w.status('vm1').portNo, undefined);
  t.is((await w.store.get('vm1'))?.depth, 'save', 'the store knows the depth reached');
  t.deepEqual(
    transitions.map((x) => `${x.from}->${x.to} ${x.reason} ${x.depth}`),
    ['unknown->active confirmed-running pause', 'active->parking idle pause', 'parking->parked parked pause', 'parked->parking escalate save', 'parking->parked escalated save'],
  );
  t.like(w.status('vm1').counters, { parks: 1, parkFailures: 0 });
  // Still answered for while saved.
  t.like(w.sw.inject(HOST.port, buildArpRequest(HOST.mac, HOST.ip, '10.0.0.11')), { to: 'controller', consumed: true });
  // The ladder has no deeper rung: nothing more happens.
  await w.clock.advance(600_000);
  t.is(w.fake.callsOf('managedSave').length, 1);
  t.deepEqual(w.fake.callsOf('shutdown'), []);
});

for (const [depth, woke] of [['pause', 'resume'], ['save', 'start'], ['shutdown', 'start']] as const) {
  test(`wake from the ${depth} rung of a pause/save/shutdown ladder: the packet is delivered, the VM is ACTIVE with no parked depth`, async (t) => {
    const { w, transitions } = world(inventory(THREE));
    await w.start();
    await until(w, parkedAt(w, depth), `parked at ${depth}`);
    const p = syn(w);
    t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
    await until(w, () => w.status('vm1').phase === 'active', 'wake', 30_000, 5);
    t.true(received(w, p));
    t.is(w.fake.callsOf(woke).length, 1);
    t.is(w.fake.peek('d1')!.state, 'running');
    t.is(w.status('vm1').depth, undefined);
    const wake = transitions.filter((x) => x.from === 'waking' && x.to === 'active');
    t.deepEqual(wake.map((x) => x.depth), [depth], 'the wake is reported from the depth it was at');
    t.like(w.sw.inject(HOST.port, syn(w)), { to: 'port', port: w.portOf('vm1') });
    t.is((await w.store.get('vm1'))?.state, 'active');
    // The next idle period starts the ladder again from its first rung.
    await until(w, parkedAt(w, 'pause'), 'parked at pause again');
  });
}

test('a packet during an escalation (libvirt saving) is held and delivered right after it, woken from save', async (t) => {
  const { w, transitions } = world(inventory());
  await w.start();
  await until(w, parkedAt(w, 'pause'), 'park at pause');
  await until(w, () => w.status('vm1').phase === 'parking', 'escalation start', 100_000, 10);
  t.is(w.status('vm1').step, 'libvirt');
  const p = syn(w);
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  t.is(w.status('vm1').phase, 'parking', 'the save is not interrupted');
  await until(w, () => w.status('vm1').phase === 'active', 'wake', 30_000, 5);
  t.true(received(w, p));
  t.is(w.fake.callsOf('managedSave').length, 1);
  t.is(w.fake.callsOf('start').length, 1, 'woken from save by a restore');
  t.deepEqual(
    transitions.slice(-4).map((x) => `${x.from}->${x.to} ${x.reason} ${x.depth}`),
    ['parked->parking escalate save', 'parking->parked escalated save', 'parked->waking packet-during-parking save', 'waking->active woken save'],
  );
});

test('a packet while the escalation waits for a libvirt slot drops the escalation and wakes the VM from pause', async (t) => {
  // One libvirt slot; vm2's save (5 s here) starts at 58 s idle and holds it when vm1's escalation comes due at 60 s.
  const vm2 = '  - { name: vm2, libvirt: { uri: "test:///default", domain: d2 }, mac: "52:54:00:00:00:12", ip: 10.0.0.12, switch: s1, port: vm2-tap, depth: save, idleTimeout: 58s }\n';
  const { w, transitions } = world(inventory().replace('maxConcurrentOps: 2', 'maxConcurrentOps: 1') + vm2);
  w.hv.delays['managedSave'] = 5000;
  await w.start();
  await until(w, () => w.status('vm1').phase === 'parking' && w.status('vm1').depth === 'pause', 'escalation start', 100_000, 10);
  t.like(w.status('vm1'), { step: 'queued' });
  t.like(w.status('vm2'), { phase: 'parking', step: 'libvirt' });
  const p = syn(w);
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  t.is(w.status('vm1').phase, 'waking');
  await until(w, () => w.status('vm1').phase === 'active', 'wake', 30_000, 5);
  t.true(received(w, p));
  t.deepEqual(w.fake.callsOf('managedSave').map((c) => c.domain), ['d2'], 'vm1 was never saved');
  t.is(w.fake.callsOf('resume').length, 1, 'woken from pause');
  t.deepEqual(
    transitions.filter((x) => x.vm === 'vm1').slice(-3).map((x) => `${x.from}->${x.to} ${x.reason} ${x.depth}`),
    ['parked->parking escalate save', 'parking->waking packet pause', 'waking->active woken pause'],
  );
});

test('a failed escalation leaves the VM parked at pause, is retried once, and a second failure skips the rung; a packet still wakes it', async (t) => {
  const { w, transitions } = world(inventory());
  await w.start();
  await until(w, parkedAt(w, 'pause'), 'park at pause');
  w.fake.failNext('managedSave', 'LIBVIRT_ERROR', { domain: 'd1', times: 2 });
  await until(w, () => transitions.some((x) => x.reason === 'escalate-failed'), 'first failure', 100_000, 10);
  t.like(w.status('vm1'), { phase: 'parked', depth: 'pause' });
  t.truthy(w.status('vm1').lastError);
  t.is(w.fake.peek('d1')!.state, 'paused');
  await until(w, () => transitions.filter((x) => x.reason === 'escalate-failed').length === 2, 'the retry (fails too)', 10_000, 10);
  t.is(w.fake.callsOf('managedSave').length, 2, 'retried once');
  await w.clock.advance(600_000);
  t.is(w.fake.callsOf('managedSave').length, 2, 'then the rung is skipped: no third try');
  t.like(w.status('vm1'), { phase: 'parked', depth: 'pause' });
  t.is(w.status('vm1').counters.parkFailures, 2);
  t.is((await w.store.get('vm1'))?.state, 'parked');
  const p = syn(w);
  w.sw.inject(HOST.port, p);
  await until(w, () => w.status('vm1').phase === 'active', 'wake', 30_000, 5);
  t.true(received(w, p));
  t.is(w.fake.callsOf('resume').length, 1, 'woken from pause');
});

test('a failed escalation whose retry succeeds reaches save', async (t) => {
  const { w, transitions } = world(inventory());
  await w.start();
  await until(w, parkedAt(w, 'pause'), 'park at pause');
  w.fake.failNext('managedSave', 'LIBVIRT_ERROR', { domain: 'd1' });
  await until(w, parkedAt(w, 'save'), 'escalation after a retry', 100_000, 10);
  t.deepEqual(transitions.filter((x) => x.reason.startsWith('escalate')).map((x) => x.reason), ['escalate', 'escalate-failed', 'escalate', 'escalated']);
  t.is(w.status('vm1').lastError, undefined, 'the error is over once escalated');
});

test('a restart while escalated keeps the depth (store), wakes it from save; a restart at pause still escalates later', async (t) => {
  const { w } = world(inventory());
  await w.start();
  await until(w, parkedAt(w, 'save'), 'escalation to save');
  await w.app.stop!();
  w.sw.clearFlows();
  await w.start(); // new engine, same store, same (saved) domain
  t.like(w.status('vm1'), { phase: 'parked', depth: 'save' });
  const p = syn(w);
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  await until(w, () => w.status('vm1').phase === 'active', 'wake', 30_000, 5);
  t.true(received(w, p));
  t.is(w.fake.callsOf('start').length, 1);

  const b = world(inventory());
  await b.w.start();
  await until(b.w, parkedAt(b.w, 'pause'), 'park at pause');
  await b.w.app.stop!();
  const restartedAt = b.w.clock.now();
  await b.w.start();
  t.like(b.w.status('vm1'), { phase: 'parked', depth: 'pause' });
  await until(b.w, parkedAt(b.w, 'save'), 'escalation after the restart', 100_000, 10);
  // The restarted engine counts the rest of the ladder from when it found the VM at pause (10 s rung): 50 s more.
  t.true(b.w.clock.now() >= restartedAt + 50_000);
  t.is(b.w.fake.callsOf('managedSave').length, 1);
});

test('energy of an escalated period: the pause segment up to the escalation, then the save segment with its park and the wake', async (t) => {
  const { w, transitions } = world(inventory());
  await w.start();
  await until(w, parkedAt(w, 'pause'), 'park at pause');
  const parkStart = transitions.find((x) => x.reason === 'idle')!;
  const parkStartAt = w.app.machineState().vms.get('vm1')!.parkStartedAt!;
  await until(w, parkedAt(w, 'save'), 'escalation to save', 100_000, 10);
  const escalatedAt = w.app.machineState().vms.get('vm1')!.segmentStartedAt!;
  await w.clock.advance(3_600_000);
  w.sw.inject(HOST.port, syn(w));
  await until(w, () => w.status('vm1').phase === 'active', 'wake', 30_000, 5);
  const wake = transitions.at(-1)!;
  const wokeAt = w.app.machineState().vms.get('vm1')!.activeSince;
  const p = DEFAULT_POWER_PROFILE;
  const expected = energySavedSoFar(p, 'pause', (escalatedAt - parkStartAt) / 1000, 0, 0) + energySaved(p, { depth: 'save', seconds: (wokeAt - escalatedAt) / 1000, residentBytes: 0, releasedBytes: 0 });
  t.truthy(parkStart);
  t.is(wake.energySavedJoules, expected);
  t.is(w.status('vm1').energy.energySavedJoules, expected);
  // Not the single-depth figure of the whole period at either depth.
  t.not(expected, energySaved(p, { depth: 'save', seconds: (wokeAt - parkStartAt) / 1000, residentBytes: 0, releasedBytes: 0 }));
});
