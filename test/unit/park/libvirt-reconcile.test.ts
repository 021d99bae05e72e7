// The park engine and libvirt's view of the domains, on virtual time: a VM is
// routed to its port only once libvirt confirmed it running; it is reconciled
// again on every (re)connect and lifecycle event; a wake that lost the libvirt
// connection is retried when libvirt is back; errors and ICMP answers stay honest.
// Issue 8, items 2, 4, 17, 18, 19, 22.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { parseInventory } from '../../../controller/inventory/index.js';
import { buildArpRequest, buildIcmpEchoRequest, buildTcpFrame, parseFrame } from '../../../controller/packet/index.js';
import { decodeCookie, KIND } from '../../../controller/park/flows.js';
import { fnv1a32 } from '../../../controller/park/ids.js';
import { configFromInventory, initialState, PARK_REASONS, step, timerId, type Output } from '../../../controller/park/machine.js';
import { HOST, World } from '../../support/park-world.js';

function inventory(vms: string): string {
  return `
park: { probeInterval: 15ms, wakeRetries: 2, retryBackoff: 1s, probeIp: 10.0.0.253, maxConcurrentOps: 2, pollInterval: 1s }
defaults: { idleTimeout: 10s, minActive: 5s, sink: k1, maxHeld: 4, wakeTimeout: 5s }
switches: [{ name: s1, dpid: 1 }]
sinks: [{ name: k1, switch: s1, port: s1-eth3, mac: "00:00:00:00:00:fe", ip: 10.0.0.254 }]
vms:
${vms}`;
}

function vmLine(n: number, depth: string): string {
  const h = (0x10 + n).toString(16);
  return `  - { name: vm${n}, libvirt: { uri: "test:///default", domain: d${n} }, mac: "52:54:00:00:00:${h}", ip: 10.0.0.${10 + n}, switch: s1, port: vm${n}-tap, depth: ${depth} }\n`;
}

let seq = 0;
function syn(w: World, vm: string): Buffer {
  const v = w.vm(vm);
  return buildTcpFrame({ ethSrc: HOST.mac, ethDst: v.mac, src: HOST.ip, dst: v.ip, srcPort: 40000, dstPort: 80, flags: 0x02, seq: ++seq });
}

function ping(w: World, vm: string): Buffer {
  const v = w.vm(vm);
  return buildIcmpEchoRequest({ ethSrc: HOST.mac, ethDst: v.mac, src: HOST.ip, dst: v.ip, id: 7, seq: ++seq, payload: Buffer.from('ping') });
}

function delivered(w: World, vm: string, p: Buffer): boolean {
  return w.receivedBy(vm).some((f) => parseFrame(f)?.tcp !== undefined && f.readUInt32BE(38) === p.readUInt32BE(38));
}

/** A saved guest: shut off with a managed-save image, no tap on the switch. */
function savedGuest(w: World, vm: string): void {
  const dom = w.vm(vm).libvirt.domain;
  w.fake.define(dom, { state: 'shutoff', hasManagedSave: true });
  const tap = w.portOf(vm)!;
  w.taps.delete(dom);
  w.sw.ports.delete(tap);
}

async function parkIdle(w: World, vm: string): Promise<void> {
  for (let i = 0; i < 60 && w.status(vm).phase !== 'parked'; i++) await w.clock.advance(1000);
  if (w.status(vm).phase !== 'parked') throw new Error(`${vm} did not park: ${JSON.stringify(w.status(vm))}`);
}

async function until(w: World, vm: string, phase: string, maxMs = 20_000): Promise<void> {
  for (let t = 0; t < maxMs && w.status(vm).phase !== phase; t += 5) await w.clock.advance(5);
  if (w.status(vm).phase !== phase) throw new Error(`${vm} is ${w.status(vm).phase}, wanted ${phase}`);
}

/** Kinds of the park entries of `vm` in the switch (cookie ids are the hash of the VM's name). */
function kinds(w: World, vm: string): number[] {
  const id = fnv1a32(vm);
  return w.sw.table.map((e) => decodeCookie(e.cookie)).filter((d) => d?.vmId === id).map((d) => d!.kind);
}

// ---- item 2: libvirt unreachable at start-up ----

test('libvirt unreachable at start-up: VMs are UNKNOWN and not routed to their port; reconciled as soon as libvirt connects', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause') + vmLine(2, 'save') + vmLine(3, 'pause')));
  w.fake.define('d1', { state: 'paused' });
  savedGuest(w, 'vm2');
  w.fake.setConnected(false); // memory store, empty: only libvirt knows
  await w.start();
  for (const vm of ['vm1', 'vm2', 'vm3']) t.is(w.status(vm).phase, 'unknown', vm);
  t.false(kinds(w, 'vm1').includes(KIND.ACTIVITY), 'no activity entry to a paused guest');
  t.false(kinds(w, 'vm3').includes(KIND.ACTIVITY), 'nor to a guest nobody confirmed running');
  // ARP is still answered for it, so clients keep sending to its MAC (and wake it).
  t.like(w.sw.inject(HOST.port, buildArpRequest(HOST.mac, HOST.ip, '10.0.0.11')), { to: 'controller', consumed: true });
  await w.clock.advance(3000);
  for (const vm of ['vm1', 'vm2', 'vm3']) t.is(w.status(vm).phase, 'unknown', `${vm} still unknown while libvirt is away`);

  w.fake.setConnected(true);
  await w.clock.advance(10);
  t.is(w.status('vm1').phase, 'parked');
  t.is(w.status('vm2').phase, 'parked');
  t.is(w.status('vm3').phase, 'active', 'libvirt confirmed it running');
  t.is((await w.store.get('vm1'))?.state, 'parked', 'the store learns it');
  t.like(w.sw.inject(HOST.port, syn(w, 'vm3')), { to: 'port', port: w.portOf('vm3') });
  const p = syn(w, 'vm1');
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  await until(w, 'vm1', 'active');
  t.true(delivered(w, 'vm1', p));
  t.true(w.logs.some((l) => l.includes('confirmed-running')));
});

test('libvirt unreachable at start-up: a packet for an UNKNOWN VM is held, and delivered once libvirt is back', async (t) => {
  const w = new World(inventory(vmLine(1, 'save')));
  savedGuest(w, 'vm1');
  w.fake.setConnected(false);
  await w.start();
  const p = syn(w, 'vm1');
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  t.is(w.status('vm1').phase, 'waking');
  await w.clock.advance(3500); // longer than the 1 s + 2 s backoffs of wakeRetries: 2
  t.like(w.status('vm1'), { phase: 'waking', held: 1 });
  w.fake.setConnected(true);
  await until(w, 'vm1', 'active');
  t.true(delivered(w, 'vm1', p));
  t.is(w.fake.callsOf('start', 'd1').length, 1, 'one restore');
});

test('a guest paused behind the engine\'s back (lifecycle event) is reconciled PARKED, and a packet wakes it', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  t.is(w.status('vm1').phase, 'active');
  await w.fake.suspend('d1'); // an operator's `virsh suspend`
  await w.clock.advance(10);
  t.is(w.status('vm1').phase, 'parked');
  t.false(kinds(w, 'vm1').includes(KIND.ACTIVITY));
  const p = syn(w, 'vm1');
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  await until(w, 'vm1', 'active');
  t.true(delivered(w, 'vm1', p));
});

test('a parked guest that libvirt runs behind the engine\'s back (lifecycle event) is ACTIVE again, its traffic routed to it (was: parked while running, its next request counted as a wake)', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  await parkIdle(w, 'vm1');
  const wakes = w.status('vm1').counters.wakes;
  await w.fake.resume('d1'); // an operator's `virsh resume`
  await w.clock.advance(10);
  t.is(w.status('vm1').phase, 'active');
  t.true(kinds(w, 'vm1').includes(KIND.ACTIVITY), 'activity entry to the running guest');
  t.false(kinds(w, 'vm1').includes(KIND.PARK), 'park entries gone');
  const p = syn(w, 'vm1');
  t.like(w.sw.inject(HOST.port, p), { to: 'port' });
  t.is(w.status('vm1').counters.wakes, wakes, 'no wake: the guest was running');
  // Our own park is not undone by the lifecycle events it causes.
  await parkIdle(w, 'vm1');
  await w.clock.advance(2000);
  t.is(w.status('vm1').phase, 'parked');
});

test('a libvirt reconnect reconciles what changed while it was away (no event could arrive)', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause') + vmLine(2, 'pause')));
  await w.start();
  w.fake.setConnected(false);
  w.fake.define('d1', { state: 'paused' }); // changed while the connection was down
  await w.clock.advance(1000);
  t.is(w.status('vm1').phase, 'active');
  w.fake.setConnected(true);
  await w.clock.advance(10);
  t.is(w.status('vm1').phase, 'parked');
  t.is(w.status('vm2').phase, 'active');
});

// ---- item 4: a lost libvirt connection is retried on reconnect ----

test('a wake that lost the libvirt connection is retried the moment libvirt is back, not after the backoff', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  await parkIdle(w, 'vm1');
  w.fake.setConnected(false); // libvirtd restarting
  const p = syn(w, 'vm1');
  w.sw.inject(HOST.port, p);
  await w.clock.advance(300);
  t.like(w.status('vm1'), { phase: 'waking', step: 'backoff' });
  w.fake.setConnected(true);
  // 100 ms later (resume 25 ms + probe), well before the 1 s backoff would have retried.
  await w.clock.advance(100);
  t.is(w.status('vm1').phase, 'active');
  t.true(delivered(w, 'vm1', p));
  t.is(w.fake.callsOf('resume', 'd1').length, 1);
});

test('a lost libvirt connection does not use up retries, but a wake waits at most wakeTimeout for libvirt, then WAKE_FAILED', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  await parkIdle(w, 'vm1');
  w.fake.setConnected(false);
  w.sw.inject(HOST.port, syn(w, 'vm1'));
  await w.clock.advance(4900);
  t.is(w.status('vm1').phase, 'waking', 'still waiting for libvirt within wakeTimeout (5 s)');
  await until(w, 'vm1', 'wake_failed', 2000);
  t.regex(w.status('vm1').lastError ?? '', /LIBVIRT_CONNECTION|cannot connect/);
  t.true(w.logs.some((l) => l.includes('libvirt unreachable for')));
});

// ---- item 17: no "active" before libvirt answered ----

test('before start-up has read libvirt and the store, every VM is UNKNOWN, not active', async (t) => {
  const w = new World(inventory(vmLine(1, 'save') + vmLine(2, 'pause')));
  await w.store.put('vm1', { state: 'parked', depth: 'save', since: 1 }); // a managed save was running at the restart
  w.fake.setDelay('getState', 30);
  const started = w.start();
  t.like(w.status('vm1'), { phase: 'unknown', portNo: undefined });
  t.is(w.status('vm2').phase, 'unknown');
  await started;
  t.is(w.status('vm1').phase, 'parked');
  t.is(w.status('vm2').phase, 'active');
});

// ---- item 18: lastError only while it is current ----

test('lastError is cleared once the VM is woken; lastFailure keeps the error and when', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  await parkIdle(w, 'vm1');
  w.fake.failNext('resume', 'LIBVIRT_ERROR', { domain: 'd1' });
  w.sw.inject(HOST.port, syn(w, 'vm1'));
  await w.clock.advance(100);
  t.regex(w.status('vm1').lastError ?? '', /injected failure of resume/);
  const failedAt = w.status('vm1').lastFailure?.at;
  await until(w, 'vm1', 'active');
  t.is(w.status('vm1').lastError, undefined);
  t.like(w.status('vm1').lastFailure, { at: failedAt });
  t.regex(w.status('vm1').lastFailure?.error ?? '', /injected failure of resume/);
});

test('a park failure is the current error of the (still active) VM until a park succeeds', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  w.fake.failNext('suspend', 'LIBVIRT_ERROR', { domain: 'd1' });
  for (let i = 0; i < 30 && w.status('vm1').counters.parkFailures === 0; i++) await w.clock.advance(1000);
  t.like(w.status('vm1'), { phase: 'active' });
  t.regex(w.status('vm1').lastError ?? '', /injected failure of suspend/);
  await parkIdle(w, 'vm1');
  t.is(w.status('vm1').lastError, undefined);
  t.regex(w.status('vm1').lastFailure?.error ?? '', /injected failure of suspend/);
});

// ---- item 19: no ping answers for a VM that cannot be woken ----

test('WAKE_FAILED: ICMP echo is no longer answered, ARP still is, and the next TCP packet retries the wake', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  await parkIdle(w, 'vm1');
  const outs0 = w.sw.packetOuts.length;
  t.like(w.sw.inject(HOST.port, ping(w, 'vm1')), { to: 'controller', consumed: true });
  t.is(w.sw.packetOuts.length, outs0 + 1, 'parked: the controller answers the ping');
  w.fake.failNext('resume', 'LIBVIRT_ERROR', { domain: 'd1', times: 3 });
  w.sw.inject(HOST.port, syn(w, 'vm1'));
  await until(w, 'vm1', 'wake_failed');
  const outs = w.sw.packetOuts.length;
  t.like(w.sw.inject(HOST.port, ping(w, 'vm1')), { to: 'controller', consumed: true });
  t.is(w.sw.packetOuts.length, outs, 'no echo reply for a VM whose last wake failed');
  t.is(w.status('vm1').phase, 'wake_failed', 'a ping does not retry the wake');
  t.like(w.sw.inject(HOST.port, buildArpRequest(HOST.mac, HOST.ip, '10.0.0.11')), { to: 'controller', consumed: true });
  t.is(w.sw.packetOuts.length, outs + 1, 'ARP still answered');
  const p = syn(w, 'vm1');
  w.sw.inject(HOST.port, p);
  await until(w, 'vm1', 'active');
  t.true(delivered(w, 'vm1', p));
});

test('UNKNOWN: ICMP echo is not answered either (nobody vouches for the VM)', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  w.fake.setConnected(false);
  await w.start();
  const outs = w.sw.packetOuts.length;
  t.like(w.sw.inject(HOST.port, ping(w, 'vm1')), { to: 'controller', consumed: true });
  t.is(w.sw.packetOuts.length, outs);
});

// ---- item 22: reasons, timer keys, no silent "unreachable" ----

test('docs/parking.md lists exactly the transition reasons of PARK_REASONS', (t) => {
  const doc = readFileSync(new URL('../../../docs/parking.md', import.meta.url), 'utf8');
  const section = /<!-- reasons -->([\s\S]*?)<!-- \/reasons -->/.exec(doc)?.[1];
  t.truthy(section, 'docs/parking.md has a <!-- reasons --> list');
  const documented = [...(section ?? '').matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
  t.deepEqual([...documented].sort(), [...PARK_REASONS].sort());
});

test('every transition of a full cycle carries a reason from PARK_REASONS', async (t) => {
  const reasons: string[] = [];
  const w = new World(inventory(vmLine(1, 'save')));
  await w.start();
  const orig = w.logs.length;
  await parkIdle(w, 'vm1');
  w.sw.inject(HOST.port, syn(w, 'vm1'));
  await until(w, 'vm1', 'active');
  for (const l of w.logs.slice(orig)) {
    const m = /vm transition.*reason=([a-z-]+)/.exec(l);
    if (m) reasons.push(m[1]!);
  }
  t.deepEqual(reasons, ['idle', 'parked', 'packet', 'woken']);
  for (const r of reasons) t.true((PARK_REASONS as readonly string[]).includes(r), r);
});

test('timer keys are typed: the poll and per-VM timers are objects, named by timerId', (t) => {
  const cfg = configFromInventory(parseInventory(inventory(vmLine(1, 'pause')), 'test.yaml'));
  const s0 = initialState(cfg, 0);
  const r = step(cfg, s0, { type: 'timer', key: { kind: 'poll' } }, 1000);
  const set = r.out.find((o): o is Extract<Output, { kind: 'set_timer' }> => o.kind === 'set_timer');
  t.deepEqual(set?.key, { kind: 'poll' });
  t.is(set?.at, 1000 + cfg.pollIntervalMs);
  t.is(timerId({ kind: 'poll' }), 'poll');
  t.not(timerId({ kind: 'probe', vm: 'vm1' }), timerId({ kind: 'retry', vm: 'vm1' }));
  // A stale per-VM timer for a VM that is not waking does nothing.
  t.deepEqual(step(cfg, s0, { type: 'timer', key: { kind: 'retry', vm: 'vm1' } }, 1000).out, []);
});

test('a wake whose tap vanished while its flows were being switched logs an error and retries (not stuck)', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  await parkIdle(w, 'vm1');
  w.sw.barrierHangs = true; // hold the wake in step 'switching'
  const p = syn(w, 'vm1');
  w.sw.inject(HOST.port, p);
  await w.clock.advance(100);
  t.like(w.status('vm1'), { phase: 'waking', step: 'switching' });
  w.sw.disconnect();
  const tap = w.portOf('vm1')!;
  w.sw.ports.delete(tap); // the switch comes back without the tap
  w.sw.barrierHangs = false;
  await w.reconnect();
  t.true(w.logs.some((l) => l.includes('cannot switch flows')), 'said loudly');
  t.not(w.status('vm1').step, 'switching');
  w.sw.addPort(tap, w.vm('vm1').port); // the tap is back
  await until(w, 'vm1', 'active');
});
