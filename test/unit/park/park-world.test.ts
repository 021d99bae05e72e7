// The park tests' simulated switch (test/support/park-world.ts) is the project's
// one fake switch (test/support/fakeflowtable.ts): these tests pin that it
// validates, selects and counts like the fake the L2 tests use, so a park test
// that passes cannot rest on a flow a real switch would refuse.
import test from 'ava';
import * as C from '../../../controller/openflow/constants.js';
import { flowMod, toPort } from '../../../controller/openflow/build.js';
import type { FlowStats, FlowStatsRequestFields, OfpMessage } from '../../../controller/openflow/types.js';
import { buildTcpFrame } from '../../../controller/packet/index.js';
import { cookieOf, KIND, PRIO } from '../../../controller/park/flows.js';
import { fnv1a32 } from '../../../controller/park/ids.js';
import { HOST, World } from '../../support/park-world.js';

const INVENTORY = `
park: { probeInterval: 15ms, probeIp: 10.0.0.253, pollInterval: 1s, meterRate: 100 }
defaults: { idleTimeout: 10s, minActive: 5s, sink: k1, wakeTimeout: 5s }
switches: [{ name: s1, dpid: 1 }]
sinks: [{ name: k1, switch: s1, port: s1-eth3, mac: "00:00:00:00:00:fe", ip: 10.0.0.254 }]
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depth: pause }
`;

const A = { mac: '52:54:00:00:00:a1', ip: '10.0.0.161' };
const tcpTo = (dst: { mac: string; ip: string }, dstPort: number, pad = 0) =>
  Buffer.concat([buildTcpFrame({ ethSrc: HOST.mac, ethDst: dst.mac, src: HOST.ip, dst: dst.ip, srcPort: 40000, dstPort, flags: 0x02, seq: 1 }), Buffer.alloc(pad)]);

async function flowStats(w: World, sel: Partial<FlowStatsRequestFields>): Promise<FlowStats[]> {
  const body = { mpType: 'flow' as const, tableId: 0, outPort: C.OFPP_ANY, outGroup: C.OFPG_ANY, cookie: 0n, cookieMask: 0n, match: [], ...sel };
  const replies = await w.sw.request({ type: 'multipart_request', xid: 1, flags: 0, body });
  return replies.flatMap((r) => (r.type === 'multipart_reply' && r.body.mpType === 'flow' ? r.body.stats : []));
}

test('a flow_mod the shared fake refuses (tcp_dst without ip_proto, OF 1.3.5 §7.2.3.6) is not installed and comes back to the app as OFPT_ERROR', async (t) => {
  const w = new World(INVENTORY);
  await w.start();
  const bad = flowMod({ cookie: 0x77n, priority: 50000, match: [{ field: 'eth_dst', value: A.mac }, { field: 'tcp_dst', value: 80 }], instructions: [toPort(3)] });
  w.sw.send(bad);
  t.like(w.sw.inject(HOST.port, tcpTo(A, 80)), { to: 'miss' }, 'the refused entry does not forward');
  t.deepEqual(w.sw.unexpectedErrors().map((e) => [e.errType, 'code' in e ? e.code : undefined]), [[C.OFPET_BAD_MATCH, C.OFPBMC_BAD_PREREQ]]);
  await w.clock.advance(0);
  t.true(w.logs.some((l) => l.includes('switch reported an error')), 'the engine heard of it as a switch error');
});

test('a flow naming a meter the switch lacks is refused and not installed (§7.3.4.5)', async (t) => {
  const w = new World(INVENTORY);
  await w.start();
  w.sw.send(flowMod({ cookie: 0x78n, priority: 50000, match: [{ field: 'eth_dst', value: A.mac }], instructions: [{ type: 'meter', meterId: 4242 }, toPort(3)] }));
  t.deepEqual(w.sw.unexpectedErrors().map((e) => [e.errType, 'code' in e ? e.code : undefined]), [[C.OFPET_METER_MOD_FAILED, C.OFPMMFC_UNKNOWN_METER]]);
  t.like(w.sw.inject(HOST.port, tcpTo(A, 80)), { to: 'miss' });
});

test('flow stats answer by cookie/cookie_mask, match and out_port, with per-entry packet and byte counters and virtual-time durations (§7.3.5.2)', async (t) => {
  const w = new World(INVENTORY);
  const B = { mac: '52:54:00:00:00:b1', ip: '10.0.0.177' };
  w.sw.send(
    flowMod({ cookie: 0x1_01n, priority: 100, match: [{ field: 'eth_dst', value: A.mac }], instructions: [toPort(3)] }),
    flowMod({ cookie: 0x1_02n, priority: 200, match: [{ field: 'eth_dst', value: A.mac }, { field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 }, { field: 'tcp_dst', value: 22 }], instructions: [toPort(2)] }),
    flowMod({ cookie: 0x2_01n, priority: 100, match: [{ field: 'eth_dst', value: B.mac }], instructions: [toPort(3)] }),
  );
  await w.clock.advance(2500);
  const f80 = tcpTo(A, 80);
  const f22 = tcpTo(A, 22, 40);
  w.sw.inject(HOST.port, f80);
  w.sw.inject(HOST.port, f80);
  w.sw.inject(HOST.port, f22);
  const byCookie = await flowStats(w, { cookie: 0x100n, cookieMask: 0xf00n });
  t.deepEqual(byCookie.map((s) => [s.cookie, s.packetCount, s.byteCount]), [
    [0x1_02n, 1n, BigInt(f22.length)],
    [0x1_01n, 2n, BigInt(2 * f80.length)],
  ], 'highest priority first, counters per entry');
  t.deepEqual(byCookie.map((s) => [s.durationSec, s.durationNsec]), [[2, 500_000_000], [2, 500_000_000]]);
  t.deepEqual((await flowStats(w, { outPort: 3 })).map((s) => s.cookie).sort(), [0x1_01n, 0x2_01n], 'out_port selects entries that output there');
  t.deepEqual((await flowStats(w, { match: [{ field: 'eth_dst', value: B.mac }] })).map((s) => s.cookie), [0x2_01n], 'non-strict match filter');
});

test('DELETE by cookie with a match removes only the entries the match covers (§6.4 non-strict)', async (t) => {
  const w = new World(INVENTORY);
  w.sw.send(
    flowMod({ cookie: 0x1_01n, priority: 100, match: [{ field: 'eth_dst', value: A.mac }], instructions: [toPort(3)] }),
    flowMod({ cookie: 0x1_02n, priority: 200, match: [{ field: 'eth_dst', value: A.mac }, { field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 }, { field: 'tcp_dst', value: 22 }], instructions: [toPort(2)] }),
  );
  const del: OfpMessage = flowMod({ command: C.OFPFC_DELETE, cookie: 0x100n, cookieMask: 0xf00n, match: [{ field: 'eth_type', value: 0x0800 }] });
  w.sw.send(del);
  t.deepEqual(w.sw.table.map((e) => e.cookie), [0x1_01n], 'the entry that wildcards eth_type is kept');
  t.like(w.sw.inject(HOST.port, tcpTo(A, 22)), { to: 'port', port: 3, cookie: 0x1_01n });
  t.deepEqual(w.sw.unexpectedErrors(), []);
});

test('the engine\'s wake entry goes through the VM\'s wake meter; a switch that lost its flows (clearFlows) gets them back on reconnect', async (t) => {
  const w = new World(INVENTORY);
  await w.start();
  for (let i = 0; i < 60 && w.status('vm1').phase !== 'parked'; i++) await w.clock.advance(1000);
  t.is(w.status('vm1').phase, 'parked');
  const vm = w.vm('vm1');
  const parkCookie = cookieOf(fnv1a32('vm1'), KIND.PARK);
  const wakeMeter = w.sw.table.find((e) => e.cookie === parkCookie && e.priority === PRIO.PARK_CATCHALL)?.instructions.find((i) => i.type === 'meter');
  t.truthy(wakeMeter, 'the wake (catch-all) entry names a meter');
  w.sw.disconnect();
  w.sw.clearFlows();
  t.deepEqual(w.sw.table, []);
  t.like(w.sw.inject(HOST.port, tcpTo(vm, 80)), { to: 'miss' });
  await w.reconnect();
  const f = w.sw.inject(HOST.port, tcpTo(vm, 80));
  t.like(f, { to: 'controller', cookie: parkCookie, consumed: true });
  t.deepEqual(f.to === 'controller' ? f.meters : [], [wakeMeter?.type === 'meter' ? wakeMeter.meterId : -1]);
  t.deepEqual(w.sw.unexpectedErrors(), [], 'only the expected METER_EXISTS on re-adding meters');
});
