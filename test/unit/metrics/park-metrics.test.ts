// The park engine's metrics on virtual time (park-world): every count comes from
// what the machine emitted, so a failed park and a retried wake are counted too.
// Assertions read the exposition text, as Prometheus would.
import test from 'ava';
import { buildArpRequest, buildIcmpEchoRequest, buildTcpFrame } from '../../../controller/packet/index.js';
import { SeamlessMetrics } from '../../../controller/metrics/index.js';
import { sampleValue } from '../../support/exposition.js';
import { HOST, World } from '../../support/park-world.js';

const INVENTORY = `
park: { probeInterval: 15ms, wakeRetries: 2, retryBackoff: 1s, probeIp: 10.0.0.253, maxConcurrentOps: 2, pollInterval: 1s }
defaults: { idleTimeout: 10s, minActive: 5s, sink: k1, ignore: [{ src: 10.0.0.250 }], maxHeld: 4, wakeTimeout: 5s }
switches: [{ name: s1, dpid: 1 }]
sinks: [{ name: k1, switch: s1, port: s1-eth3, mac: "00:00:00:00:00:fe", ip: 10.0.0.254 }]
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depth: pause }
  - { name: vm2, libvirt: { uri: "test:///default", domain: d2 }, mac: "52:54:00:00:00:12", ip: 10.0.0.12, switch: s1, port: vm2-tap, depth: save }
`;

let seq = 0;
function syn(vmMac: string, vmIp: string): Buffer {
  return buildTcpFrame({ ethSrc: HOST.mac, ethDst: vmMac, src: HOST.ip, dst: vmIp, srcPort: 40000, dstPort: 80, flags: 0x02, seq: ++seq });
}

async function world(): Promise<{ w: World; m: SeamlessMetrics }> {
  const w = new World(INVENTORY);
  const m = new SeamlessMetrics({ vms: w.inv.vms });
  w.observer = m.park;
  await w.start();
  m.bind({ vmPhases: () => w.app.status() });
  return { w, m };
}

async function until(w: World, vm: string, phase: string, maxMs = 60_000): Promise<void> {
  for (let t = 0; t < maxMs && w.status(vm).phase !== phase; t += 5) await w.clock.advance(5);
  if (w.status(vm).phase !== phase) throw new Error(`${vm} is ${w.status(vm).phase}, wanted ${phase}`);
}

test('a full park/wake cycle: transitions, parks, wakes, wake duration, held packets, verdicts, libvirt ops, state gauges', async (t) => {
  const { w, m } = await world();
  let text = await m.expose();
  t.is(sampleValue(text, 'seamless_vms', { state: 'active' }), 2);
  t.is(sampleValue(text, 'seamless_vms', { state: 'parked' }), 0, 'every state is present');
  t.is(sampleValue(text, 'seamless_parks_total', { vm: 'vm1', depth: 'pause' }), 0, 'bounded series exist before the first event');
  t.is(sampleValue(text, 'seamless_libvirt_operation_duration_seconds_count', { op: 'read_state' }), 2, "start-up read each VM's domain state");

  await until(w, 'vm1', 'parked');
  await until(w, 'vm2', 'parked');
  text = await m.expose();
  t.is(sampleValue(text, 'seamless_transitions_total', { vm: 'vm1', from: 'active', to: 'parking', reason: 'idle' }), 1);
  t.is(sampleValue(text, 'seamless_transitions_total', { vm: 'vm1', from: 'parking', to: 'parked', reason: 'parked' }), 1);
  t.is(sampleValue(text, 'seamless_parks_total', { vm: 'vm1', depth: 'pause' }), 1);
  t.is(sampleValue(text, 'seamless_parks_total', { vm: 'vm2', depth: 'save' }), 1);
  t.is(sampleValue(text, 'seamless_vm_state', { vm: 'vm1', state: 'parked' }), 1);
  t.is(sampleValue(text, 'seamless_vm_state', { vm: 'vm1', state: 'active' }), 0);
  t.is(sampleValue(text, 'seamless_libvirt_operation_duration_seconds_count', { op: 'park' }), 2, 'both VMs parked (vm2 at save)');

  const vm = w.vm('vm1');
  w.sw.inject(HOST.port, buildArpRequest(HOST.mac, HOST.ip, vm.ip));
  w.sw.inject(HOST.port, buildIcmpEchoRequest({ ethSrc: HOST.mac, ethDst: vm.mac, src: HOST.ip, dst: vm.ip, id: 1, seq: 1, payload: Buffer.from('x') }));
  w.sw.inject(HOST.port, syn(vm.mac, vm.ip));
  w.sw.inject(HOST.port, syn(vm.mac, vm.ip)); // a retransmission while waking: held too
  await until(w, 'vm1', 'active');
  text = await m.expose();
  t.is(sampleValue(text, 'seamless_packet_ins_total', { verdict: 'park_arp_answered' }), 1);
  t.is(sampleValue(text, 'seamless_packet_ins_total', { verdict: 'park_icmp_answered' }), 1);
  t.is(sampleValue(text, 'seamless_packet_ins_total', { verdict: 'park_held' }), 2);
  t.is(sampleValue(text, 'seamless_held_packets_total', { vm: 'vm1' }), 2);
  t.is(sampleValue(text, 'seamless_held_dropped_total', { vm: 'vm1' }), 0);
  t.is(sampleValue(text, 'seamless_transitions_total', { vm: 'vm1', from: 'parked', to: 'waking', reason: 'packet' }), 1);
  t.is(sampleValue(text, 'seamless_wakes_total', { vm: 'vm1', depth: 'pause', reason: 'woken' }), 1);
  t.is(sampleValue(text, 'seamless_wake_duration_seconds_count', { depth: 'pause' }), 1);
  t.is(sampleValue(text, 'seamless_wake_duration_seconds_count', { depth: 'save' }), 0);
  t.true(sampleValue(text, 'seamless_wake_duration_seconds_sum', { depth: 'pause' }) > 0);
  t.is(sampleValue(text, 'seamless_libvirt_operation_duration_seconds_count', { op: 'wake' }), 1);
  t.is(sampleValue(text, 'seamless_vms', { state: 'active' }), 1);
  t.is(sampleValue(text, 'seamless_vms', { state: 'parked' }), 1);
  t.is(sampleValue(text, 'seamless_park_failures_total', { vm: 'vm1', depth: 'pause' }), 0);
  t.is(sampleValue(text, 'seamless_wake_failures_total', { vm: 'vm1', depth: 'pause' }), 0);
});

test('a failed park is counted where the machine emits it: park failure, libvirt error by code, no park', async (t) => {
  const { w, m } = await world();
  w.fake.failNext('suspend', 'LIBVIRT_ERROR', { domain: 'd1' });
  for (let i = 0; i < 30 && w.status('vm1').counters.parkFailures === 0; i++) await w.clock.advance(500);
  const text = await m.expose();
  t.is(sampleValue(text, 'seamless_park_failures_total', { vm: 'vm1', depth: 'pause' }), 1);
  t.is(sampleValue(text, 'seamless_parks_total', { vm: 'vm1', depth: 'pause' }), 0);
  t.is(sampleValue(text, 'seamless_transitions_total', { vm: 'vm1', from: 'parking', to: 'active', reason: 'park-failed' }), 1);
  t.is(sampleValue(text, 'seamless_libvirt_operation_errors_total', { op: 'park', code: 'LIBVIRT_ERROR' }), 1);
});

test('a retried wake counts one wake and one duration, every failed attempt as a libvirt error', async (t) => {
  const { w, m } = await world();
  await until(w, 'vm1', 'parked');
  w.fake.failNext('resume', 'LIBVIRT_ERROR', { domain: 'd1', times: 2 });
  const vm = w.vm('vm1');
  w.sw.inject(HOST.port, syn(vm.mac, vm.ip));
  await until(w, 'vm1', 'active');
  const text = await m.expose();
  t.is(sampleValue(text, 'seamless_wakes_total', { vm: 'vm1', depth: 'pause', reason: 'woken' }), 1);
  t.is(sampleValue(text, 'seamless_wake_duration_seconds_count', { depth: 'pause' }), 1);
  // The duration runs from the first packet, through both backoffs (1 s + 2 s).
  t.is(sampleValue(text, 'seamless_wake_duration_seconds_bucket', { depth: 'pause', le: '2.5' }), 0);
  t.is(sampleValue(text, 'seamless_wake_duration_seconds_bucket', { depth: 'pause', le: '5' }), 1);
  t.is(sampleValue(text, 'seamless_libvirt_operation_errors_total', { op: 'wake', code: 'LIBVIRT_ERROR' }), 2);
  t.is(sampleValue(text, 'seamless_libvirt_operation_duration_seconds_count', { op: 'wake' }), 3);
  t.is(sampleValue(text, 'seamless_wake_failures_total', { vm: 'vm1', depth: 'pause' }), 0, 'the wake did not give up');
});

test('a wake that gives up, then a retry by packet: wake failure, dropped held packet, packet-retry transition', async (t) => {
  const { w, m } = await world();
  await until(w, 'vm1', 'parked');
  w.fake.failNext('resume', 'LIBVIRT_ERROR', { domain: 'd1', times: 3 });
  const vm = w.vm('vm1');
  w.sw.inject(HOST.port, syn(vm.mac, vm.ip));
  await until(w, 'vm1', 'wake_failed');
  let text = await m.expose();
  t.is(sampleValue(text, 'seamless_wake_failures_total', { vm: 'vm1', depth: 'pause' }), 1);
  t.is(sampleValue(text, 'seamless_held_dropped_total', { vm: 'vm1' }), 1);
  t.is(sampleValue(text, 'seamless_transitions_total', { vm: 'vm1', from: 'waking', to: 'wake_failed', reason: 'wake-gave-up' }), 1);
  t.is(sampleValue(text, 'seamless_vms', { state: 'wake_failed' }), 1);
  w.sw.inject(HOST.port, syn(vm.mac, vm.ip));
  await until(w, 'vm1', 'active');
  text = await m.expose();
  t.is(sampleValue(text, 'seamless_transitions_total', { vm: 'vm1', from: 'wake_failed', to: 'waking', reason: 'packet-retry' }), 1);
  t.is(sampleValue(text, 'seamless_wakes_total', { vm: 'vm1', depth: 'pause', reason: 'woken' }), 1);
});

test('two daemons in one process keep separate registries', async (t) => {
  const a = new SeamlessMetrics({ vms: [{ name: 'x', depth: 'pause' }] });
  const b = new SeamlessMetrics({ vms: [{ name: 'x', depth: 'pause' }] });
  a.l2PacketIn();
  t.is(sampleValue(await a.expose(), 'seamless_packet_ins_total', { verdict: 'l2' }), 1);
  t.is(sampleValue(await b.expose(), 'seamless_packet_ins_total', { verdict: 'l2' }), 0);
});
