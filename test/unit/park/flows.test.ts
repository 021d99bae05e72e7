// The park engine's entries checked against the project's fake flow table,
// which validates them like a switch would (OXM prerequisites, meters) and
// answers "where does this packet go?".
import test from 'ava';
import { OFPP_CONTROLLER } from '../../../controller/openflow/constants.js';
import { buildArpRequest, buildArp, buildIcmpEchoRequest, buildTcpFrame } from '../../../controller/packet/index.js';
import { activityCounts, activityFlows, cookieOf, deleteKind, KIND, meterAdd, meterIdOf, parkFlows, probeFlow, PRIO, type FlowVm } from '../../../controller/park/flows.js';
import { FakeFlowTable, fieldsOfFrame } from '../../support/fakeflowtable.js';

const VM: FlowVm = { index: 3, mac: '52:54:00:00:00:11', ip: '10.0.0.11', gatewayPorts: [80], ignore: [{ src: '10.0.0.250' }, { tcpDst: 9100 }] };
const OTHER: FlowVm = { index: 4, mac: '52:54:00:00:00:12', ip: '10.0.0.12', gatewayPorts: [], ignore: [] };
const H1 = { mac: '00:00:00:00:00:01', ip: '10.0.0.1' };
const PROBE_MAC = '02:5e:a1:00:00:01';

const tcp = (dstPort: number, src = H1.ip, vm = VM) => buildTcpFrame({ ethSrc: H1.mac, ethDst: vm.mac, src, dst: vm.ip, srcPort: 5555, dstPort, flags: 2 });

function where(t: FakeFlowTable, frame: Buffer, inPort = 1) {
  const r = t.lookup(fieldsOfFrame(inPort, frame));
  return { ports: r.outputs.map((o) => o.port), meters: r.meters, miss: r.miss, cookie: r.flows[0]?.cookie, priority: r.flows[0]?.priority };
}

test('parked: gateway TCP wakes through the meter, other TCP drops, ARP/ICMP to controller, ignored to sink', (t) => {
  const ft = new FakeFlowTable();
  ft.applyOk([meterAdd(VM.index, 100), ...parkFlows(VM, 3, meterIdOf(VM.index)), probeFlow(VM, PROBE_MAC)]);
  t.deepEqual(where(ft, tcp(80)), { ports: [OFPP_CONTROLLER], meters: [meterIdOf(3)], miss: false, cookie: cookieOf(3, KIND.PARK), priority: PRIO.PARK_GATEWAY });
  t.like(where(ft, tcp(23)), { ports: [], miss: false, priority: PRIO.PARK_CATCHALL });
  t.like(where(ft, buildArpRequest(H1.mac, H1.ip, VM.ip)), { ports: [OFPP_CONTROLLER], meters: [], priority: PRIO.PARK_ANSWER });
  const ping = buildIcmpEchoRequest({ ethSrc: H1.mac, ethDst: VM.mac, src: H1.ip, dst: VM.ip, id: 1, seq: 1 });
  t.like(where(ft, ping), { ports: [OFPP_CONTROLLER], priority: PRIO.PARK_ANSWER });
  t.like(where(ft, tcp(80, '10.0.0.250')), { ports: [3], priority: PRIO.PARK_IGNORE });
  t.like(where(ft, tcp(9100)), { ports: [3], priority: PRIO.PARK_IGNORE });
  const probeReply = buildArp({ op: 2, sha: VM.mac, spa: VM.ip, tha: PROBE_MAC, tpa: '10.0.0.253', ethDst: PROBE_MAC });
  t.like(where(ft, probeReply, 10), { ports: [OFPP_CONTROLLER], priority: PRIO.PROBE });
  // Another VM's traffic is not ours.
  t.true(where(ft, tcp(80, H1.ip, OTHER)).miss);
});

test('without gateway ports or meters, any traffic to the VM goes to the controller', (t) => {
  const ft = new FakeFlowTable({ meters: false });
  ft.applyOk(parkFlows(OTHER, undefined, undefined));
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
  ft.applyOk([...activityFlows(VM, 17), ...parkFlows(VM, 3, undefined), ...activityFlows(OTHER, 18), ...parkFlows(OTHER, 3, undefined)]);
  t.like(where(ft, tcp(80)), { ports: [OFPP_CONTROLLER] });
  ft.applyOk([deleteKind(VM.index, KIND.PARK)]);
  t.like(where(ft, tcp(80)), { ports: [17] }, 'make-before-break: activity entry takes over');
  t.like(where(ft, tcp(80, H1.ip, OTHER)), { ports: [OFPP_CONTROLLER] }, 'the other VM is still parked');
  t.true(ft.flows().some((f) => f.cookie === cookieOf(3, KIND.ACTIVITY_IGNORE)));
});
