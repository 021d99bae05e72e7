// The park engine end to end on virtual time: createParkApp + a simulated switch
// (flow table) + FakeHypervisor domains. Assertions ask where packets go, what
// the VM received and what libvirt was asked, not which messages were sent.
import test from 'ava';
import { buildArpRequest, buildIcmpEchoRequest, buildTcpFrame, parseFrame } from '../../../controller/packet/index.js';
import { decodeCookie, KIND } from '../../../controller/park/flows.js';
import { fnv1a32 } from '../../../controller/park/ids.js';
import { MemoryStateStore, type ParkRecord } from '../../../controller/park/store.js';
import { HOST, MONITOR, World } from '../../support/park-world.js';

function inventory(vms: string): string {
  return `
park: { probeInterval: 15ms, wakeRetries: 2, retryBackoff: 1s, probeIp: 10.0.0.253, maxConcurrentOps: 2, pollInterval: 1s }
defaults: { idleTimeout: 10s, minActive: 5s, sink: k1, ignore: [{ src: 10.0.0.250 }], maxHeld: 4, wakeTimeout: 5s }
switches: [{ name: s1, dpid: 1 }]
sinks: [{ name: k1, switch: s1, port: s1-eth3, mac: "00:00:00:00:00:fe", ip: 10.0.0.254 }]
vms:
${vms}`;
}

function vmLine(n: number, depth: string, extra = ''): string {
  const h = (0x10 + n).toString(16);
  return `  - { name: vm${n}, libvirt: { uri: "test:///default", domain: d${n} }, mac: "52:54:00:00:00:${h}", ip: 10.0.0.${10 + n}, switch: s1, port: vm${n}-tap, depth: ${depth} ${extra} }\n`;
}

let seq = 0;
function syn(w: World, vm: string, dstPort = 80, from = HOST): Buffer {
  const v = w.vm(vm);
  return buildTcpFrame({ ethSrc: from.mac, ethDst: v.mac, src: from.ip, dst: v.ip, srcPort: 40000, dstPort, flags: 0x02, seq: ++seq });
}

function tcpSeqs(frames: Buffer[]): number[] {
  return frames.filter((f) => parseFrame(f)?.tcp).map((f) => f.readUInt32BE(38));
}

function kinds(w: World, vm: string): number[] {
  return w.sw.table.map((e) => decodeCookie(e.cookie)).filter((d) => d?.vmId === fnv1a32(vm)).map((d) => d!.kind);
}

async function parkIdle(w: World, vm: string): Promise<void> {
  for (let i = 0; i < 60 && w.status(vm).phase !== 'parked'; i++) await w.clock.advance(1000);
  if (w.status(vm).phase !== 'parked') throw new Error(`${vm} did not park: ${JSON.stringify(w.status(vm))}`);
}

async function until(w: World, vm: string, phase: string, maxMs = 20_000): Promise<void> {
  for (let t = 0; t < maxMs && w.status(vm).phase !== phase; t += 5) await w.clock.advance(5);
  if (w.status(vm).phase !== phase) throw new Error(`${vm} is ${w.status(vm).phase}, wanted ${phase}`);
}

for (const depth of ['pause', 'save', 'shutdown'] as const) {
  test(`full cycle, depth ${depth}: park on idle, answer ARP/ICMP, wake on a packet, deliver it`, async (t) => {
    const w = new World(inventory(vmLine(1, depth)));
    await w.start();
    const oldPort = w.portOf('vm1')!;
    // Active: traffic to the VM goes straight to its port through the activity entry.
    const f0 = w.sw.inject(HOST.port, syn(w, 'vm1'));
    t.like(f0, { to: 'port', port: oldPort });
    t.is(decodeCookie((f0 as { cookie: bigint }).cookie)?.kind, KIND.ACTIVITY);

    await w.clock.advance(8000);
    t.is(w.status('vm1').phase, 'active', 'not idle yet');
    await parkIdle(w, 'vm1');
    const dom = w.fake.peek('d1')!;
    t.is(dom.state, depth === 'pause' ? 'paused' : 'shutoff');
    t.is(dom.hasManagedSave, depth === 'save');
    t.is(w.portOf('vm1') === undefined, depth !== 'pause', 'the tap is gone unless paused');
    t.false(kinds(w, 'vm1').includes(KIND.ACTIVITY), 'activity entries removed once parked');

    // ARP for the parked VM is answered by the controller, with the VM's MAC.
    const outs = w.sw.packetOuts.length;
    t.like(w.sw.inject(HOST.port, buildArpRequest(HOST.mac, HOST.ip, '10.0.0.11')), { to: 'controller', consumed: true });
    const arp = w.sw.packetOuts[outs]!;
    t.is(arp.port, HOST.port);
    t.deepEqual(parseFrame(arp.data)?.arp, { op: 2, sha: '52:54:00:00:00:11', spa: '10.0.0.11', tha: HOST.mac, tpa: HOST.ip });
    // ICMP echo too, without waking it.
    const ping = buildIcmpEchoRequest({ ethSrc: HOST.mac, ethDst: '52:54:00:00:00:11', src: HOST.ip, dst: '10.0.0.11', id: 9, seq: 3, payload: Buffer.from('ping!') });
    t.like(w.sw.inject(HOST.port, ping), { to: 'controller', consumed: true });
    const pong = parseFrame(w.sw.packetOuts[outs + 1]!.data)!;
    t.like(pong, { dst: HOST.mac, src: '52:54:00:00:00:11', icmp: { type: 0, id: 9, seq: 3 }, ipv4: { src: '10.0.0.11', dst: HOST.ip } });
    await w.clock.advance(100);
    t.is(w.status('vm1').phase, 'parked');
    t.like(w.status('vm1').counters, { arpAnswered: 1, icmpAnswered: 1, parks: 1 });

    // The first real packet wakes it; it is delivered once the VM answers the probe.
    const trigger = syn(w, 'vm1');
    t.like(w.sw.inject(HOST.port, trigger), { to: 'controller', consumed: true });
    t.is(w.status('vm1').phase, 'waking');
    await until(w, 'vm1', 'active');
    const newPort = w.portOf('vm1')!;
    if (depth === 'pause') t.is(newPort, oldPort);
    else t.not(newPort, oldPort, 'restored tap has a new port number');
    t.deepEqual(tcpSeqs(w.receivedBy('vm1')).slice(-1), [trigger.readUInt32BE(38)]);
    t.like(w.sw.inject(HOST.port, syn(w, 'vm1')), { to: 'port', port: newPort });
    t.deepEqual(kinds(w, 'vm1').filter((k) => k === KIND.PARK || k === KIND.PROBE), [], 'park and probe entries removed');
    t.like(w.status('vm1').counters, { wakes: 1, parks: 1 });
    t.is((await w.store.get('vm1'))?.state, 'active');
  });
}

test('a packet during PARKING (libvirt running) is held and delivered after an immediate wake', async (t) => {
  const w = new World(inventory(vmLine(1, 'save')));
  await w.start();
  for (let i = 0; i < 60 && w.status('vm1').phase !== 'parking'; i++) await w.clock.advance(500);
  await w.clock.advance(10);
  t.like(w.status('vm1'), { phase: 'parking', step: 'libvirt' });
  const p = syn(w, 'vm1');
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  await until(w, 'vm1', 'active');
  t.true(tcpSeqs(w.receivedBy('vm1')).includes(p.readUInt32BE(38)));
  t.is(w.fake.callsOf('managedSave').length, 1);
  t.is(w.fake.callsOf('start').length, 1);
});

test('a packet before libvirt is asked aborts the park: delivered, VM never stopped', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  w.sw.barrierHangs = true; // park entries sent, barrier pending
  for (let i = 0; i < 60 && w.status('vm1').phase !== 'parking'; i++) await w.clock.advance(500);
  t.like(w.status('vm1'), { phase: 'parking', step: 'flows' });
  w.sw.barrierHangs = false;
  const p = syn(w, 'vm1');
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  t.is(w.status('vm1').phase, 'active');
  t.true(tcpSeqs(w.receivedBy('vm1')).includes(p.readUInt32BE(38)));
  t.deepEqual(w.fake.callsOf('suspend'), []);
  t.like(w.sw.inject(HOST.port, syn(w, 'vm1')), { to: 'port', port: w.portOf('vm1') });
});

test('duplicate triggers cause one resume; held packets arrive in order', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  await parkIdle(w, 'vm1');
  const ps = [syn(w, 'vm1'), syn(w, 'vm1', 22), syn(w, 'vm1')];
  for (const p of ps) w.sw.inject(HOST.port, p);
  await until(w, 'vm1', 'active');
  t.is(w.fake.callsOf('resume').length, 1);
  t.deepEqual(tcpSeqs(w.receivedBy('vm1')).slice(-3), ps.map((p) => p.readUInt32BE(38)));
});

test('the hold queue is bounded: extra packets are dropped and counted', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  await parkIdle(w, 'vm1');
  const ps = Array.from({ length: 7 }, () => syn(w, 'vm1'));
  for (const p of ps) w.sw.inject(HOST.port, p);
  await until(w, 'vm1', 'active');
  t.deepEqual(tcpSeqs(w.receivedBy('vm1')).slice(-4), ps.slice(0, 4).map((p) => p.readUInt32BE(38)));
  t.is(w.status('vm1').counters.heldDropped, 3);
});

test('a wake storm respects the global bound on libvirt operations, first come first served', async (t) => {
  const n = 6;
  const w = new World(inventory(Array.from({ length: n }, (_, i) => vmLine(i + 1, 'pause')).join('')));
  await w.start();
  for (let i = 0; i < 30; i++) await w.clock.advance(1000);
  for (let i = 1; i <= n; i++) t.is(w.status(`vm${i}`).phase, 'parked');
  t.is(w.hv.maxInFlight, 2, 'parks were bounded too');
  w.hv.maxInFlight = 0;
  for (let i = 1; i <= n; i++) w.sw.inject(HOST.port, syn(w, `vm${i}`));
  for (let i = 1; i <= n; i++) await until(w, `vm${i}`, 'active');
  t.is(w.hv.maxInFlight, 2);
  const resumes = w.fake.callsOf('resume');
  t.is(resumes.length, n);
  t.deepEqual(resumes.map((c) => c.domain), Array.from({ length: n }, (_, i) => `d${i + 1}`), 'FIFO');
});

test('anti-flap: a woken VM stays active for minActive even when idle', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')).replace('minActive: 5s', 'minActive: 30s'));
  await w.start();
  await w.clock.advance(31_000);
  await parkIdle(w, 'vm1');
  w.sw.inject(HOST.port, syn(w, 'vm1'));
  await until(w, 'vm1', 'active');
  await w.clock.advance(20_000); // idle 20 s > idleTimeout 10 s, but active < 30 s
  t.is(w.status('vm1').phase, 'active');
  await w.clock.advance(12_000);
  t.not(w.status('vm1').phase, 'active');
});

test('libvirt failure on park: park entries removed, VM reachable, no immediate retry', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  w.fake.failNext('suspend', 'LIBVIRT_ERROR', { domain: 'd1' });
  for (let i = 0; i < 30 && w.status('vm1').counters.parkFailures === 0; i++) await w.clock.advance(500);
  await w.clock.advance(10);
  t.is(w.status('vm1').phase, 'active');
  t.regex(w.status('vm1').lastError ?? '', /LIBVIRT_ERROR/);
  t.deepEqual(kinds(w, 'vm1').filter((k) => k === KIND.PARK), []);
  t.like(w.sw.inject(HOST.port, syn(w, 'vm1')), { to: 'port', port: w.portOf('vm1') });
  t.is((await w.store.get('vm1'))?.state, 'active');
  t.true(w.logs.some((l) => l.includes('park failed')));
});

test('libvirt failure on wake: retries with exponential backoff, then succeeds', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  await parkIdle(w, 'vm1');
  // A real error of the operation (a lost connection is retried on reconnect instead, see below).
  w.fake.failNext('resume', 'LIBVIRT_ERROR', { domain: 'd1', times: 2 });
  const p = syn(w, 'vm1');
  w.sw.inject(HOST.port, p);
  const t0 = w.clock.now();
  await until(w, 'vm1', 'active');
  const calls = w.fake.callsOf('resume');
  t.is(calls.length, 3);
  // Backoff 1 s then 2 s between attempts (plus the 25 ms the fake resume takes).
  t.true(calls[1]!.startedAt - calls[0]!.startedAt >= 1000);
  t.true(calls[2]!.startedAt - calls[1]!.startedAt >= 2000);
  t.true(w.clock.now() - t0 >= 3000);
  t.true(tcpSeqs(w.receivedBy('vm1')).includes(p.readUInt32BE(38)));
});

test('libvirt failure on wake after the last retry: WAKE_FAILED keeps answering ARP, a later packet retries', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  await parkIdle(w, 'vm1');
  w.fake.failNext('resume', 'LIBVIRT_ERROR', { domain: 'd1', times: 3 });
  w.sw.inject(HOST.port, syn(w, 'vm1'));
  await until(w, 'vm1', 'wake_failed');
  t.is(w.fake.callsOf('resume').length, 3);
  t.like(w.status('vm1'), { held: 0, counters: { heldDropped: 1, wakeFailures: 3 } });
  t.true(w.logs.some((l) => l.includes('wake failed after 3 attempts')));
  t.like(w.sw.inject(HOST.port, buildArpRequest(HOST.mac, HOST.ip, '10.0.0.11')), { to: 'controller', consumed: true });
  const p = syn(w, 'vm1');
  w.sw.inject(HOST.port, p);
  await until(w, 'vm1', 'active');
  t.true(tcpSeqs(w.receivedBy('vm1')).includes(p.readUInt32BE(38)));
});

test('a VM that never answers the probe fails the wake attempt after wakeTimeout', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')).replace('wakeRetries: 2', 'wakeRetries: 0'));
  await w.start();
  await parkIdle(w, 'vm1');
  w.deaf.add('vm1');
  w.sw.inject(HOST.port, syn(w, 'vm1'));
  await w.clock.advance(4000);
  t.like(w.status('vm1'), { phase: 'waking', step: 'probe' });
  const probes = w.sw.packetOuts.filter((o) => o.port === w.portOf('vm1') && parseFrame(o.data)?.arp?.op === 1);
  t.true(probes.length > 200 && probes.length < 300, `${probes.length} probes in 4 s at 15 ms`);
  t.like(parseFrame(probes[0]!.data)?.arp, { sha: '02:5e:a1:00:00:01', spa: '10.0.0.253', tpa: '10.0.0.11' });
  await w.clock.advance(1100);
  t.is(w.status('vm1').phase, 'wake_failed');
  t.regex(w.status('vm1').lastError ?? '', /no ARP answer/);
});

test('ignored traffic neither counts as activity nor wakes the VM', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  for (let i = 0; i < 8; i++) {
    const f = w.sw.inject(MONITOR.port, syn(w, 'vm1', 80, MONITOR));
    t.like(f, { to: 'port', port: w.portOf('vm1') }, 'reaches the active VM');
    t.is(decodeCookie((f as { cookie: bigint }).cookie)?.kind, KIND.ACTIVITY_IGNORE);
    await w.clock.advance(1000);
  }
  // Monitoring continues every second; the VM is parked anyway once idle for 10 s.
  for (let i = 0; i < 8 && w.status('vm1').phase !== 'parked'; i++) {
    w.sw.inject(MONITOR.port, syn(w, 'vm1', 80, MONITOR));
    await w.clock.advance(1000);
  }
  t.is(w.status('vm1').phase, 'parked');
  t.like(w.sw.inject(MONITOR.port, syn(w, 'vm1', 80, MONITOR)), { to: 'port', port: 3 }, 'to the sink');
  await w.clock.advance(1000);
  t.is(w.status('vm1').phase, 'parked');
  t.deepEqual(w.fake.callsOf('resume'), []);
});

test('gateway ports: only TCP to them wakes a parked VM', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause', ', gatewayPorts: [80]')));
  await w.start();
  await parkIdle(w, 'vm1');
  t.like(w.sw.inject(HOST.port, syn(w, 'vm1', 23)), { to: 'drop' });
  await w.clock.advance(100);
  t.is(w.status('vm1').phase, 'parked');
  t.like(w.sw.inject(HOST.port, syn(w, 'vm1', 80)), { to: 'controller', consumed: true });
  await until(w, 'vm1', 'active');
});

test('switch disconnect while parked: park entries reinstalled on reconnect', async (t) => {
  const w = new World(inventory(vmLine(1, 'save')));
  await w.start();
  await parkIdle(w, 'vm1');
  w.sw.disconnect();
  w.sw.clearFlows(); // the switch restarted and lost its flows
  await w.clock.advance(5000);
  await w.reconnect();
  t.like(w.sw.inject(HOST.port, buildArpRequest(HOST.mac, HOST.ip, '10.0.0.11')), { to: 'controller', consumed: true });
  const p = syn(w, 'vm1');
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  await until(w, 'vm1', 'active');
  t.true(tcpSeqs(w.receivedBy('vm1')).includes(p.readUInt32BE(38)));
});

test('switch disconnect while waking: the wake completes once the switch is back (tap renumbered meanwhile)', async (t) => {
  const w = new World(inventory(vmLine(1, 'save')));
  await w.start();
  await parkIdle(w, 'vm1');
  const p = syn(w, 'vm1');
  w.sw.inject(HOST.port, p);
  t.like(w.status('vm1'), { phase: 'waking' });
  w.sw.disconnect();
  await w.clock.advance(2000); // libvirt start finishes, the tap comes back unseen
  t.not(w.portOf('vm1'), undefined);
  t.is(w.status('vm1').phase, 'waking');
  await w.reconnect();
  await until(w, 'vm1', 'active');
  t.is(w.status('vm1').portNo, w.portOf('vm1'));
  t.true(tcpSeqs(w.receivedBy('vm1')).includes(p.readUInt32BE(38)));
  t.like(w.sw.inject(HOST.port, syn(w, 'vm1')), { to: 'port', port: w.portOf('vm1') });
});

test('a controller restart keeps parked VMs parked (state store) and a packet still wakes them', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  await parkIdle(w, 'vm1');
  await w.app.stop!();
  w.sw.clearFlows();
  await w.start(); // new engine, same store, same (paused) domain
  t.is(w.status('vm1').phase, 'parked');
  const p = syn(w, 'vm1');
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  await until(w, 'vm1', 'active');
  t.true(tcpSeqs(w.receivedBy('vm1')).includes(p.readUInt32BE(38)));
});

test('packets for active VMs from the table miss are left to the L2 fabric', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  await w.start();
  const consumed = w.app.packetIn!(w.sw, { type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: 60, reason: 0, tableId: 0, cookie: 0n, match: [{ field: 'in_port', value: 1 }], data: syn(w, 'vm1') });
  t.false(consumed);
  const arp = w.app.packetIn!(w.sw, { type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: 60, reason: 0, tableId: 0, cookie: 0n, match: [{ field: 'in_port', value: 1 }], data: buildArpRequest(HOST.mac, HOST.ip, '10.0.0.11') });
  t.false(arp);
});

/** A store whose writes wait until the test opens the gate (or fail, like Redis while it is away). */
class GatedStore extends MemoryStateStore {
  gate: Promise<void> | undefined;
  open: () => void = () => {};
  failWith: Error | undefined;
  readonly puts: string[] = [];
  close(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  override async put(vm: string, record: ParkRecord): Promise<void> {
    this.puts.push(`${vm}:${record.state}`);
    if (this.failWith) throw this.failWith;
    await this.gate;
    await super.put(vm, record);
  }
}

test('durability: libvirt is asked to park only after the store has the parked intent', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  const store = new GatedStore();
  w.store = store;
  await w.start();
  store.close();
  for (let i = 0; i < 60 && w.status('vm1').phase !== 'parking'; i++) await w.clock.advance(500);
  await w.clock.advance(1000);
  t.like(w.status('vm1'), { phase: 'parking', step: 'persisting' });
  t.deepEqual(store.puts, ['vm1:parked']);
  t.deepEqual(w.fake.callsOf('suspend'), [], 'libvirt not asked while the write is pending');
  t.is(w.fake.peek('d1')?.state, 'running');
  store.open();
  await until(w, 'vm1', 'parked');
  t.is(w.fake.callsOf('suspend').length, 1);
  t.like(await w.store.get('vm1'), { state: 'parked', depth: 'pause' });
});

test('durability: a packet while the intent is being written aborts the park and records active again', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  const store = new GatedStore();
  w.store = store;
  await w.start();
  store.close();
  for (let i = 0; i < 60 && w.status('vm1').step !== 'persisting'; i++) await w.clock.advance(500);
  const p = syn(w, 'vm1');
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  t.is(w.status('vm1').phase, 'active');
  store.open();
  await w.clock.advance(1000);
  t.is(w.status('vm1').phase, 'active', 'the late store reply is stale');
  t.deepEqual(w.fake.callsOf('suspend'), []);
  t.true(tcpSeqs(w.receivedBy('vm1')).includes(p.readUInt32BE(38)));
  t.deepEqual(store.puts, ['vm1:parked', 'vm1:active']);
  t.is((await w.store.get('vm1'))?.state, 'active');
});

test('durability: with the store unavailable the VM still parks (logged), and a restart reconciles it from libvirt', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  const store = new GatedStore();
  w.store = store;
  store.failWith = Object.assign(new Error('redis unavailable'), { code: 'STORE_UNAVAILABLE' });
  await w.start();
  await parkIdle(w, 'vm1');
  t.is(w.fake.peek('d1')?.state, 'paused');
  t.true(w.logs.some((l) => l.includes('parked state not confirmed by the store') && l.includes('STORE_UNAVAILABLE')));
  t.is(await store.get('vm1'), undefined, 'nothing was written');
  // The daemon restarts: the store knows nothing, libvirt says paused.
  await w.app.stop!();
  w.sw.clearFlows();
  store.failWith = undefined;
  await w.start();
  t.is(w.status('vm1').phase, 'parked');
  t.true(w.logs.some((l) => l.includes('treated as parked')));
  const p = syn(w, 'vm1');
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  await until(w, 'vm1', 'active');
  t.true(tcpSeqs(w.receivedBy('vm1')).includes(p.readUInt32BE(38)));
});

test('start-up reconcile: a VM paused in libvirt with an empty store starts PARKED and a packet wakes it', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause') + vmLine(2, 'pause')));
  w.fake.define('d1', { state: 'paused' });
  await w.start();
  t.like(w.status('vm1'), { phase: 'parked' });
  t.like(w.status('vm2'), { phase: 'active' }, 'a running guest with no record stays active');
  t.is((await w.store.get('vm1'))?.state, 'parked', 'the store is corrected');
  t.like(w.sw.inject(HOST.port, buildArpRequest(HOST.mac, HOST.ip, '10.0.0.11')), { to: 'controller', consumed: true });
  const p = syn(w, 'vm1');
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  await until(w, 'vm1', 'active');
  t.is(w.fake.callsOf('resume', 'd1').length, 1);
  t.true(tcpSeqs(w.receivedBy('vm1')).includes(p.readUInt32BE(38)));
});

test('start-up reconcile: a saved guest (shut off, managed save, no tap) whose record says active starts PARKED', async (t) => {
  const w = new World(inventory(vmLine(1, 'save')));
  w.fake.define('d1', { state: 'shutoff', hasManagedSave: true });
  const tap = w.portOf('vm1')!;
  w.taps.delete('d1');
  w.sw.ports.delete(tap);
  await w.store.put('vm1', { state: 'active', depth: 'save', since: 1 });
  await w.start();
  t.is(w.status('vm1').phase, 'parked');
  const p = syn(w, 'vm1');
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  await until(w, 'vm1', 'active');
  t.is(w.fake.callsOf('start', 'd1').length, 1);
  t.true(tcpSeqs(w.receivedBy('vm1')).includes(p.readUInt32BE(38)));
});

test('mid-boot: an idle guest that has not answered the readiness probe since start is not parked; once it answers, it is', async (t) => {
  const w = new World(inventory(vmLine(1, 'pause')));
  w.deaf.add('vm1'); // running in libvirt, network not up yet (booting)
  await w.start();
  await w.clock.advance(40_000); // idle far beyond idleTimeout + minActive
  t.like(w.status('vm1'), { phase: 'active', step: 'none' });
  t.deepEqual(w.fake.callsOf('suspend'), []);
  const probes = w.sw.packetOuts.filter((o) => o.port === w.portOf('vm1') && parseFrame(o.data)?.arp?.op === 1);
  t.true(probes.length >= 20 && probes.length <= 40, `one probe per poll, got ${probes.length}`);
  t.like(w.sw.inject(HOST.port, syn(w, 'vm1')), { to: 'port', port: w.portOf('vm1') }, 'still reachable');
  w.deaf.delete('vm1'); // booted
  await parkIdle(w, 'vm1');
  t.is(w.fake.peek('d1')?.state, 'paused');
  t.true(w.logs.some((l) => l.includes('answered the readiness probe')));
});

// --- cold boot (depth shutdown): readiness = a gateway port answers a SYN --------------------

const PROBE_MAC = '02:5e:a1:00:00:01';
const PROBE_IP = '10.0.0.253';

/** Frames the controller sent the VM from the probe address (its readiness probes), parsed. */
function probeTcp(w: World, vm: string) {
  return w.sw.packetOuts
    .filter((o) => o.port === w.portOf(vm))
    .map((o) => parseFrame(o.data)!)
    .filter((f) => f.tcp !== undefined && f.src === PROBE_MAC);
}

/** The client's own frames the VM received (not the controller's probes). */
function fromClient(w: World, vm: string): number[] {
  return tcpSeqs(w.receivedBy(vm).filter((f) => parseFrame(f)?.src === HOST.mac));
}

test('shutdown: the held SYN waits until the gateway port listens (RST = not yet), then is delivered once', async (t) => {
  const w = new World(inventory(vmLine(1, 'shutdown', ', gatewayPorts: [22, 80]')));
  await w.start();
  await parkIdle(w, 'vm1');
  t.is(w.fake.peek('d1')?.state, 'shutoff');
  // The guest boots: its kernel answers ARP, but nothing listens on 80 yet.
  w.closedPorts.set('vm1', new Set([80]));
  const trigger = syn(w, 'vm1', 80);
  w.sw.inject(HOST.port, trigger);
  await w.clock.advance(1000);
  t.like(w.status('vm1'), { phase: 'waking', step: 'service' });
  t.deepEqual(fromClient(w, 'vm1'), [], 'the client SYN is still held: delivered now it would be refused');
  const probes = probeTcp(w, 'vm1');
  t.true(probes.length > 20 && probes.length < 60, `${probes.length} SYNs in the ~0.5 s after the 460 ms boot, at 15 ms`);
  t.like(probes[0], { dst: '52:54:00:00:00:11', ipv4: { src: PROBE_IP, dst: '10.0.0.11' }, tcp: { src: 0x5ea1, dst: 80, flags: 0x02 } });
  t.true(probes.every((p) => p.tcp!.dst === 80), 'the port the held SYN wants');

  // The service starts: the next SYN is answered SYN-ACK, the controller resets it and switches.
  w.closedPorts.delete('vm1');
  await until(w, 'vm1', 'active', 200);
  t.deepEqual(fromClient(w, 'vm1'), [trigger.readUInt32BE(38)], 'the held SYN, exactly once');
  const rst = probeTcp(w, 'vm1').filter((p) => p.tcp!.flags === 0x04);
  t.is(rst.length, 1, 'the half-open probe connection is reset');
  t.deepEqual(kinds(w, 'vm1').filter((k) => k === KIND.PARK || k === KIND.PROBE), [], 'park and probe entries removed');
  t.true(w.logs.some((l) => l.includes('gateway port 80 answered the TCP readiness probe')));
});

test('shutdown: the probed port is the one the held SYN wants; without a held SYN, the first gateway port', async (t) => {
  const w = new World(inventory(vmLine(1, 'shutdown', ', gatewayPorts: [22, 80]')));
  await w.start();
  await parkIdle(w, 'vm1');
  w.sw.inject(HOST.port, syn(w, 'vm1', 22));
  await until(w, 'vm1', 'active');
  t.deepEqual([...new Set(probeTcp(w, 'vm1').map((p) => p.tcp!.dst))], [22]);

  // A wake with nothing held (the API's `vm wake`) asks port 22, the first one.
  await w.clock.advance(5000);
  await parkIdle(w, 'vm1');
  const before = w.sw.packetOuts.length;
  w.app.wakeNow('vm1');
  await until(w, 'vm1', 'active');
  const asked = w.sw.packetOuts.slice(before).map((o) => parseFrame(o.data)!).filter((f) => f.tcp?.flags === 0x02 && f.src === PROBE_MAC);
  t.true(asked.length >= 1 && asked.every((f) => f.tcp!.dst === 22));
});

test('shutdown: a gateway port that never listens fails the wake attempt after wakeTimeout, naming the port', async (t) => {
  const w = new World(inventory(vmLine(1, 'shutdown', ', gatewayPorts: [80]')).replace('wakeRetries: 2', 'wakeRetries: 0'));
  await w.start();
  await parkIdle(w, 'vm1');
  w.closedPorts.set('vm1', new Set([80]));
  w.sw.inject(HOST.port, syn(w, 'vm1', 80));
  await w.clock.advance(6000);
  t.is(w.status('vm1').phase, 'wake_failed');
  t.regex(w.status('vm1').lastError ?? '', /gateway port 80 never answered a SYN/);
  t.deepEqual(kinds(w, 'vm1').filter((k) => k === KIND.PROBE), [], 'probe entries removed');
  t.true(kinds(w, 'vm1').includes(KIND.PARK), 'still answered for (ARP, ICMP) while failed');
});

test('shutdown: the guest resolving the probe address gets the probe MAC from the controller', async (t) => {
  const w = new World(inventory(vmLine(1, 'shutdown', ', gatewayPorts: [80]')));
  await w.start();
  await parkIdle(w, 'vm1');
  w.closedPorts.set('vm1', new Set([80]));
  w.sw.inject(HOST.port, syn(w, 'vm1', 80));
  await w.clock.advance(1000);
  t.is(w.status('vm1').step, 'service');
  const port = w.portOf('vm1')!;
  const outs = w.sw.packetOuts.length;
  t.like(w.sw.inject(port, buildArpRequest('52:54:00:00:00:11', '10.0.0.11', PROBE_IP)), { to: 'controller', consumed: true });
  const reply = w.sw.packetOuts.slice(outs).find((o) => parseFrame(o.data)?.arp?.op === 2);
  t.is(reply?.port, port);
  t.like(parseFrame(reply!.data)?.arp, { sha: PROBE_MAC, spa: PROBE_IP, tpa: '10.0.0.11' });
});

// A pause/save guest that libvirt has to boot (its image was removed, or an operator shut
// it down) is as cold as a shutdown one: its held SYN must wait for the service too.
for (const [depth, why] of [['save', 'it had no managed-save image'], ['pause', 'it was shut off, not paused']] as const) {
  test(`${depth}: a wake that boots the guest cold waits for the gateway port like depth shutdown`, async (t) => {
    const w = new World(inventory(vmLine(1, depth, ', gatewayPorts: [80]')));
    await w.start();
    await parkIdle(w, 'vm1');
    // Behind our back: the image is deleted / the paused guest is shut down (its tap leaves).
    w.fake.define('d1', { state: 'shutoff', hasManagedSave: false });
    w.domainChanged('d1');
    w.closedPorts.set('vm1', new Set([80]));
    const trigger = syn(w, 'vm1', 80);
    w.sw.inject(HOST.port, trigger);
    await w.clock.advance(1000);
    t.like(w.status('vm1'), { phase: 'waking', step: 'service' });
    t.deepEqual(fromClient(w, 'vm1'), [], 'held: delivered now it would be refused');
    t.true(w.logs.some((l) => l.includes(`booted cold (${why}): the held packets wait until a gateway port answers a SYN`)));
    w.closedPorts.delete('vm1');
    await until(w, 'vm1', 'active', 200);
    t.deepEqual(fromClient(w, 'vm1'), [trigger.readUInt32BE(38)], 'the held SYN, exactly once');
    t.is(w.fake.callsOf('start', 'd1').length, 1);

    // The next park/wake of the same VM is an ordinary one again: no TCP probe.
    await w.clock.advance(6000);
    await parkIdle(w, 'vm1');
    const before = probeTcp(w, 'vm1').length;
    w.sw.inject(HOST.port, syn(w, 'vm1', 80));
    await until(w, 'vm1', 'active');
    t.is(probeTcp(w, 'vm1').length, before, 'restored/resumed: ARP readiness only');
  });
}

test('save: a cold boot without a probe address is judged by ARP, with a warning that says what to set', async (t) => {
  const w = new World(inventory(vmLine(1, 'save', ', gatewayPorts: [80]')).replace('probeIp: 10.0.0.253, ', ''));
  await w.start();
  await parkIdle(w, 'vm1');
  w.fake.define('d1', { state: 'shutoff', hasManagedSave: false });
  w.sw.inject(HOST.port, syn(w, 'vm1', 80));
  await until(w, 'vm1', 'active');
  t.deepEqual(probeTcp(w, 'vm1'), []);
  t.true(w.logs.some((l) => l.includes('booted cold (it had no managed-save image): ready when it answers ARP; set gatewayPorts and park.probeIp')));
});

for (const depth of ['pause', 'save'] as const) {
  test(`${depth}: no TCP readiness probe (the guest's sockets were never closed)`, async (t) => {
    const w = new World(inventory(vmLine(1, depth, ', gatewayPorts: [80]')));
    await w.start();
    await parkIdle(w, 'vm1');
    w.sw.inject(HOST.port, syn(w, 'vm1', 80));
    await until(w, 'vm1', 'active');
    t.deepEqual(probeTcp(w, 'vm1'), []);
  });
}
