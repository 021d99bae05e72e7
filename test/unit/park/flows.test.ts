// The park engine's entries checked against the project's fake flow table,
// which validates them like a switch would (OXM prerequisites, meters) and
// answers "where does this packet go?".
import test from 'ava';
import { OFPP_CONTROLLER } from '../../../controller/openflow/constants.js';
import { buildArpRequest, buildArp, buildIcmpEchoRequest, buildTcpFrame } from '../../../controller/packet/index.js';
import { makeCookie } from '../../../controller/cookies.js';
import { flowMod } from '../../../controller/openflow/build.js';
import { fnv1a32 } from '../../../controller/park/ids.js';
import { activityCounts, activityFlows, cookieOf, decodeCookie, deleteKind, KIND, meterAdds, meterIds, parkFlows, probeFlow, PRIO, serviceProbeFlows, staleVmDeletes, type FlowVm } from '../../../controller/park/flows.js';
import type { FlowStats, OfpMessage } from '../../../controller/openflow/types.js';
import { FakeFlowTable, fieldsOfFrame } from '../../support/fakeflowtable.js';
import { HOST, World } from '../../support/park-world.js';

const VM: FlowVm = { id: 3, meterBase: 256, mac: '52:54:00:00:00:11', ip: '10.0.0.11', gatewayPorts: [80], ignore: [{ src: '10.0.0.250' }, { tcpDst: 9100 }] };
const OTHER: FlowVm = { id: 4, meterBase: 259, mac: '52:54:00:00:00:12', ip: '10.0.0.12', gatewayPorts: [], ignore: [] };
const H1 = { mac: '00:00:00:00:00:01', ip: '10.0.0.1' };
const PROBE_MAC = '02:5e:a1:00:00:01';

const tcp = (dstPort: number, src = H1.ip, vm = VM) => buildTcpFrame({ ethSrc: H1.mac, ethDst: vm.mac, src, dst: vm.ip, srcPort: 5555, dstPort, flags: 2 });

function where(t: FakeFlowTable, frame: Buffer, inPort = 1) {
  const r = t.lookup(fieldsOfFrame(inPort, frame));
  return { ports: r.outputs.map((o) => o.port), meters: r.meters, miss: r.miss, cookie: r.flows[0]?.cookie, priority: r.flows[0]?.priority };
}

test('parked: gateway TCP wakes through the meter, other TCP drops, ARP/ICMP to controller, ignored to sink', (t) => {
  const ft = new FakeFlowTable();
  ft.applyOk([...meterAdds(VM, 100), ...parkFlows(VM, 3, true), probeFlow(VM, PROBE_MAC, true)]);
  t.deepEqual(where(ft, tcp(80)), { ports: [OFPP_CONTROLLER], meters: [meterIds(VM).wake], miss: false, cookie: cookieOf(3, KIND.PARK), priority: PRIO.PARK_GATEWAY });
  t.like(where(ft, tcp(23)), { ports: [], miss: false, priority: PRIO.PARK_CATCHALL });
  t.like(where(ft, buildArpRequest(H1.mac, H1.ip, VM.ip)), { ports: [OFPP_CONTROLLER], meters: [meterIds(VM).answer], priority: PRIO.PARK_ANSWER });
  const ping = buildIcmpEchoRequest({ ethSrc: H1.mac, ethDst: VM.mac, src: H1.ip, dst: VM.ip, id: 1, seq: 1 });
  t.like(where(ft, ping), { ports: [OFPP_CONTROLLER], meters: [meterIds(VM).answer], priority: PRIO.PARK_ANSWER });
  t.like(where(ft, tcp(80, '10.0.0.250')), { ports: [3], priority: PRIO.PARK_IGNORE });
  t.like(where(ft, tcp(9100)), { ports: [3], priority: PRIO.PARK_IGNORE });
  const probeReply = buildArp({ op: 2, sha: VM.mac, spa: VM.ip, tha: PROBE_MAC, tpa: '10.0.0.253', ethDst: PROBE_MAC });
  t.like(where(ft, probeReply, 10), { ports: [OFPP_CONTROLLER], meters: [meterIds(VM).probe], priority: PRIO.PROBE });
  // Another VM's traffic is not ours.
  t.true(where(ft, tcp(80, H1.ip, OTHER)).miss);
});

test('without gateway ports or meters, any traffic to the VM goes to the controller', (t) => {
  const ft = new FakeFlowTable({ meters: false });
  ft.applyOk(parkFlows(OTHER, undefined, false));
  t.like(where(ft, tcp(23, H1.ip, OTHER)), { ports: [OFPP_CONTROLLER], meters: [], priority: PRIO.PARK_CATCHALL });
});

test('active: everything to the VM MAC goes to its port; ignored traffic under its own cookie; counts are per VM', (t) => {
  const ft = new FakeFlowTable();
  ft.applyOk([...activityFlows(VM, 17), ...activityFlows(OTHER, 18)]);
  t.like(where(ft, tcp(80)), { ports: [17], cookie: cookieOf(3, KIND.ACTIVITY) });
  t.like(where(ft, tcp(80, '10.0.0.250')), { ports: [17], cookie: cookieOf(3, KIND.ACTIVITY_IGNORE) });
  t.like(where(ft, tcp(22, H1.ip, OTHER)), { ports: [18], cookie: cookieOf(4, KIND.ACTIVITY) });
  const stats = ft.flows().map((f) => ({ tableId: 0, durationSec: 0, durationNsec: 0, priority: f.priority, idleTimeout: 0, hardTimeout: 0, flags: 0, cookie: f.cookie, packetCount: BigInt(f.packetCount), byteCount: 0n, match: f.match, instructions: f.instructions }));
  t.deepEqual(activityCounts(stats), new Map([[3, 1n], [4, 1n]]), 'the ignored packet is not counted');
});

test('park entries above activity entries; deleting one kind of one VM leaves the rest', (t) => {
  const ft = new FakeFlowTable();
  ft.applyOk([...activityFlows(VM, 17), ...parkFlows(VM, 3, false), ...activityFlows(OTHER, 18), ...parkFlows(OTHER, 3, false)]);
  t.like(where(ft, tcp(80)), { ports: [OFPP_CONTROLLER] });
  ft.applyOk([deleteKind(VM.id, KIND.PARK)]);
  t.like(where(ft, tcp(80)), { ports: [17] }, 'make-before-break: activity entry takes over');
  t.like(where(ft, tcp(80, H1.ip, OTHER)), { ports: [OFPP_CONTROLLER] }, 'the other VM is still parked');
  t.true(ft.flows().some((f) => f.cookie === cookieOf(3, KIND.ACTIVITY_IGNORE)));
});

/** The controller-bound entries of `msgs` and the meter each names (undefined: none). */
function controllerBound(msgs: readonly OfpMessage[]): { priority: number; meter: number | undefined }[] {
  return msgs.flatMap((m) => {
    if (m.type !== 'flow_mod') return [];
    const up = m.instructions.some((i) => i.type === 'apply_actions' && i.actions.some((a) => a.type === 'output' && a.port === OFPP_CONTROLLER));
    if (!up) return [];
    const meter = m.instructions.find((i) => i.type === 'meter');
    return [{ priority: m.priority, meter: meter?.type === 'meter' ? meter.meterId : undefined }];
  });
}

test('meters enabled: every entry that outputs to CONTROLLER carries a meter instruction (park, answer, probe, service probe)', (t) => {
  for (const vm of [VM, OTHER]) {
    const all = [...parkFlows(vm, 3, true), probeFlow(vm, PROBE_MAC, true), ...serviceProbeFlows(vm, '10.0.0.253', 80, true)];
    const up = controllerBound(all);
    t.true(up.length >= 4, 'the audit sees the controller-bound entries');
    t.deepEqual(up.filter((f) => f.meter === undefined), [], `vm ${vm.id}: unmetered controller-bound entries`);
  }
});

test('a ping or ARP flood at a parked VM spends its answer meter, not its wake meter nor another VM\'s', (t) => {
  const ft = new FakeFlowTable();
  ft.applyOk([...meterAdds(VM, 100), ...meterAdds(OTHER, 100), ...parkFlows(VM, 3, true), ...parkFlows(OTHER, 3, true)]);
  const ping = buildIcmpEchoRequest({ ethSrc: H1.mac, ethDst: VM.mac, src: H1.ip, dst: VM.ip, id: 1, seq: 1 });
  const answerMeters = [where(ft, ping).meters, where(ft, buildArpRequest(H1.mac, H1.ip, VM.ip)).meters];
  t.deepEqual(answerMeters, [[meterIds(VM).answer], [meterIds(VM).answer]]);
  t.deepEqual(where(ft, tcp(80)).meters, [meterIds(VM).wake]);
  const ids = new Set([...Object.values(meterIds(VM)), ...Object.values(meterIds(OTHER))]);
  t.is(ids.size, 6, 'each VM has its own wake, answer and probe meters');
});

test('meterAdds: each meter is added then modified to the configured rate (ADD alone keeps a stale rate after a restart)', (t) => {
  const ms = meterAdds(VM, 100);
  t.deepEqual(ms.map((m) => (m.type === 'meter_mod' ? [m.command, m.meterId, m.bands[0]?.type === 'drop' ? m.bands[0].rate : -1] : [])), [
    [0, 256, 100], [1, 256, 100], [0, 257, 100], [1, 257, 100], [0, 258, 100], [1, 258, 100],
  ]);
});

function statsOf(msgs: readonly OfpMessage[]): FlowStats[] {
  return msgs.flatMap((m) => (m.type === 'flow_mod' ? [{ tableId: 0, durationSec: 0, durationNsec: 0, priority: m.priority, idleTimeout: 0, hardTimeout: 0, flags: 0, cookie: m.cookie, packetCount: 0n, byteCount: 0n, match: m.match, instructions: m.instructions }] : []));
}

test('staleVmDeletes: entries of a VM id not in the inventory are deleted, every kind; known VMs keep theirs', (t) => {
  const GONE: FlowVm = { ...OTHER, id: 0xdeadbeef, mac: '52:54:00:00:00:99', ip: '10.0.0.99' };
  const ft = new FakeFlowTable({ meters: false });
  ft.applyOk([...activityFlows(VM, 17), ...parkFlows(OTHER, 3, false), ...parkFlows(GONE, 3, false), probeFlow(GONE, PROBE_MAC, false), ...activityFlows(GONE, 19)]);
  const before = ft.flows().length;
  const deletes = staleVmDeletes(statsOf([...activityFlows(VM, 17), ...parkFlows(OTHER, 3, false), ...parkFlows(GONE, 3, false), probeFlow(GONE, PROBE_MAC, false)]), new Set([VM.id, OTHER.id]));
  t.is(deletes.length, 1, 'one delete per unknown VM id');
  ft.applyOk(deletes);
  t.deepEqual(ft.flows().filter((f) => [KIND.ACTIVITY, KIND.PARK, KIND.PROBE].some((k) => f.cookie === cookieOf(GONE.id, k as 1 | 3 | 4))), []);
  t.is(ft.flows().length, before - parkFlows(GONE, 3, false).length - 1 - activityFlows(GONE, 19).length);
  t.like(where(ft, tcp(80)), { ports: [17] }, 'the active VM is not disturbed');
  t.like(where(ft, tcp(22, H1.ip, OTHER)), { ports: [OFPP_CONTROLLER] }, 'the other parked VM still wakes');
  t.deepEqual(staleVmDeletes(statsOf(parkFlows(OTHER, 3, false)), new Set([OTHER.id])), [], 'nothing to delete');
});

// --- the engine's entries on a simulated switch (test/support/park-world.ts) ---

function harnessInventory(): string {
  return `
park: { probeInterval: 15ms, probeIp: 10.0.0.253, pollInterval: 1s, meterRate: 100 }
defaults: { idleTimeout: 10s, minActive: 5s, sink: k1, ignore: [{ src: 10.0.0.250 }], wakeTimeout: 5s }
switches: [{ name: s1, dpid: 1 }]
sinks: [{ name: k1, switch: s1, port: s1-eth3, mac: "00:00:00:00:00:fe", ip: 10.0.0.254 }]
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depth: pause }
  - { name: vm2, libvirt: { uri: "test:///default", domain: d2 }, mac: "52:54:00:00:00:12", ip: 10.0.0.12, switch: s1, port: vm2-tap, depth: shutdown, gatewayPorts: [80] }
`;
}

async function until(w: World, vm: string, phase: string, maxMs = 60_000): Promise<void> {
  for (let t = 0; t < maxMs && w.status(vm).phase !== phase; t += 5) await w.clock.advance(5);
  if (w.status(vm).phase !== phase) throw new Error(`${vm} is ${w.status(vm).phase}, wanted ${phase}`);
}

test('audit: every controller-bound entry the engine installs over boot check, park, wake and cold-boot probe names a meter', async (t) => {
  const w = new World(harnessInventory());
  const sent: OfpMessage[] = [];
  const send = w.sw.send.bind(w.sw);
  w.sw.send = (...msgs: OfpMessage[]) => {
    sent.push(...msgs);
    send(...msgs);
  };
  await w.start();
  await until(w, 'vm1', 'parked');
  await until(w, 'vm2', 'parked');
  for (const vm of ['vm1', 'vm2']) {
    const v = w.vm(vm);
    w.sw.inject(HOST.port, buildTcpFrame({ ethSrc: HOST.mac, ethDst: v.mac, src: HOST.ip, dst: v.ip, srcPort: 40000, dstPort: 80, flags: 2, seq: 1 }));
    await until(w, vm, 'active');
  }
  const up = controllerBound(sent);
  const priorities = new Set(up.map((f) => f.priority));
  for (const p of [PRIO.PARK_ANSWER, PRIO.PARK_GATEWAY, PRIO.PARK_CATCHALL, PRIO.PROBE]) t.true(priorities.has(p), `the run installed a controller-bound entry at priority ${p}`);
  t.deepEqual(up.filter((f) => f.meter === undefined), [], 'controller-bound entries without a meter');
  // The shared fake switch validated every message of the run (OXM prerequisites, meters): nothing was refused.
  t.deepEqual(w.sw.unexpectedErrors(), [], 'messages the switch refused');
});

test('on connect, the park entries of a VM no longer in the inventory are deleted; current VMs and other apps keep theirs', async (t) => {
  const w = new World(harnessInventory());
  // Left on the switch by an earlier run whose inventory had "vm-gone".
  const gone: FlowVm = { id: fnv1a32('vm-gone'), meterBase: 300, mac: '52:54:00:00:00:99', ip: '10.0.0.99', gatewayPorts: [], ignore: [] };
  const l2 = flowMod({ cookie: makeCookie('l2', 0), priority: 0, instructions: [] });
  w.sw.send(...parkFlows(gone, undefined, false), probeFlow(gone, PROBE_MAC, false), l2);
  const goneFrame = buildTcpFrame({ ethSrc: HOST.mac, ethDst: gone.mac, src: HOST.ip, dst: gone.ip, srcPort: 1, dstPort: 80, flags: 2, seq: 1 });
  t.like(w.sw.inject(HOST.port, goneFrame), { to: 'controller' }, 'before: the stale entry catches the traffic');
  await w.start();
  t.deepEqual(w.sw.table.filter((e) => decodeCookie(e.cookie)?.vmId === gone.id), [], 'stale entries deleted');
  t.true(w.sw.table.some((e) => e.cookie === makeCookie('l2', 0)), "the L2 fabric's entry is kept");
  t.true(w.sw.table.some((e) => decodeCookie(e.cookie)?.vmId === fnv1a32('vm1')), "vm1's entries are kept");
  t.like(w.sw.inject(HOST.port, goneFrame), { to: 'drop' }, 'after: the L2 entry (no instructions) has the traffic');
});
