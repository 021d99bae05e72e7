// Park and wake across a fabric (issue 12 item 4), on a simulated 2-spine /
// 3-leaf fabric (test/support/park-fabric.ts): where ARP is answered, where a
// wake is caught, how ignored traffic reaches a sink on another leaf, and how the
// engine follows a VM that appears on another switch or hypervisor host.
// Assertions follow frames through the fake flow tables, not message lists
// (except where the ORDER of messages is the point: make-before-break).
import test from 'ava';
import { buildArpRequest, buildTcpFrame, parseFrame } from '../../../controller/packet/index.js';
import { decodeCookie, KIND } from '../../../controller/park/flows.js';
import { fnv1a32 } from '../../../controller/park/ids.js';
import { OFPFC_ADD, OFPFC_DELETE } from '../../../controller/openflow/constants.js';
import { flowMod, toController } from '../../../controller/openflow/build.js';
import { createControlSource, WakeTimes } from '../../../controller/api/source.js';
import { parseInventory } from '../../../controller/inventory/index.js';
import { configFromInventory, initialState, step, type Output, type ParkEvent } from '../../../controller/park/machine.js';
import { FabricWorld, type FabricSwitch } from '../../support/park-fabric.js';

const HV3 = 'qemu+tcp://hv3.example/system';
const HV4 = 'qemu+tcp://hv4.example/system';

const YAML = `
park: { probeInterval: 15ms, wakeRetries: 1, retryBackoff: 1s, pollInterval: 1s, meterRate: 100 }
defaults: { idleTimeout: 10s, minActive: 1s, wakeTimeout: 5s }
hypervisors:
  - { name: hv3, uri: "${HV3}", switch: s3 }
  - { name: hv4, uri: "${HV4}", switch: s4 }
switches: [{ name: s1, dpid: 1 }, { name: s2, dpid: 2 }, { name: s3, dpid: 3 }, { name: s4, dpid: 4 }, { name: s5, dpid: 5 }]
sinks: [{ name: k1, switch: s4, port: s4-eth11, mac: "00:00:00:00:00:fe", ip: 10.0.0.254 }]
vms:
  - { name: vm1, hypervisor: hv3, libvirt: { domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s3, port: vm1-tap, depth: pause, sink: k1, ignore: [{ src: 10.0.0.250 }] }
`;

const H1 = { mac: '00:00:00:00:00:01', ip: '10.0.0.1' };
const MON = { mac: '00:00:00:00:00:fa', ip: '10.0.0.250' };

/** vm1 (tap on s3:10, host hv3), client h1 on s5:10, monitor on s5:11, sink k1 on s4:11. */
async function world(opts: { fabric?: boolean } = {}): Promise<FabricWorld> {
  const w = new FabricWorld(YAML);
  if (opts.fabric === false) w.fabric = false;
  w.addHost('h1', H1.mac, H1.ip, 's5', 10);
  w.addHost('mon', MON.mac, MON.ip, 's5', 11);
  w.addHost('k1', '00:00:00:00:00:fe', '10.0.0.254', 's4', 11);
  w.plugVm('vm1', 's3', 10);
  await w.start();
  return w;
}

async function until(w: FabricWorld, vm: string, phase: string, maxMs = 10_000): Promise<void> {
  for (let t = 0; t < maxMs && w.status(vm).phase !== phase; t += 5) await w.advance(5);
  if (w.status(vm).phase !== phase) throw new Error(`${vm} is ${w.status(vm).phase}, wanted ${phase}`);
}

async function parked(opts: { fabric?: boolean } = {}): Promise<FabricWorld> {
  const w = await world(opts);
  w.app.parkNow('vm1');
  await until(w, 'vm1', 'parked');
  return w;
}

let seq = 0;
function syn(from: { mac: string; ip: string }, dstPort = 80): Buffer {
  return buildTcpFrame({ ethSrc: from.mac, ethDst: '52:54:00:00:00:11', src: from.ip, dst: '10.0.0.11', srcPort: 40000, dstPort, flags: 0x02, seq: ++seq });
}

function kinds(sw: FabricSwitch): number[] {
  return sw.table.map((e) => decodeCookie(e.cookie)).filter((d) => d?.vmId === fnv1a32('vm1')).map((d) => d!.kind);
}

function tcpSeqs(frames: readonly Buffer[]): number[] {
  return frames.filter((f) => parseFrame(f)?.tcp).map((f) => f.readUInt32BE(38));
}

test('a parked VM has park entries on every switch; ARP for it is answered at the leaf where the request enters', async (t) => {
  const w = await parked();
  for (const s of ['s1', 's2', 's3', 's4', 's5']) t.true(kinds(w.sw(s)).includes(KIND.PARK), `park entries on ${s}`);
  const tr = w.inject('s5', 10, buildArpRequest(H1.mac, H1.ip, '10.0.0.11'));
  t.deepEqual(tr.hops, ['s5:10']);
  t.is(tr.end, 'controller');
  const reply = w.hosts.get('h1')!.received.map((f) => parseFrame(f)).find((f) => f?.arp?.op === 2);
  t.is(reply?.arp?.sha, '52:54:00:00:00:11');
  t.deepEqual(w.packetOuts.filter((p) => p.sw === 's5').map((p) => p.port), [10]);
  t.is(w.status('vm1').counters.arpAnswered, 1);
  t.deepEqual(w.errors, []);
});

test('a wake caught at a leaf two hops from the VM: the held SYN is delivered out of the VM port on its own switch', async (t) => {
  const w = await parked();
  const s = syn(H1);
  const tr = w.inject('s5', 10, s);
  t.deepEqual(tr.hops, ['s5:10']);
  t.is(tr.end, 'controller');
  t.is(w.status('vm1').phase, 'waking');
  await until(w, 'vm1', 'active');
  t.is(w.hv(HV3).callsOf('resume', 'd1').length, 1);
  // Delivered by a packet-out on s3 out of the VM's port, where the VM received it.
  t.true(w.packetOuts.some((p) => p.sw === 's3' && p.port === 10 && p.data.equals(s)));
  t.deepEqual(tcpSeqs(w.vmReceived.get('vm1') ?? []), [s.readUInt32BE(38)]);
  // Active again: the park entries are gone from every switch; activity entries only on s3.
  for (const n of ['s1', 's2', 's4', 's5']) t.deepEqual(kinds(w.sw(n)), [], `nothing left on ${n}`);
  t.true(kinds(w.sw('s3')).includes(KIND.ACTIVITY));
  t.deepEqual(w.errors, []);
});

test('ignored traffic is forwarded hop by hop to a sink on another leaf and does not wake the VM', async (t) => {
  const w = await parked();
  const tr = w.inject('s5', 11, syn(MON));
  t.deepEqual(tr.hops, ['s5:11', 's1:3', 's4:1']);
  t.is(tr.end, 'host');
  t.is(tr.to, 'k1');
  t.is(w.hosts.get('k1')!.received.length, 1);
  t.is(w.status('vm1').phase, 'parked');
  t.deepEqual(w.packetIns, []);
});

test('a link cut re-points the ignored traffic along the new shortest path (no wake, no loss)', async (t) => {
  const w = await parked();
  t.deepEqual(w.inject('s5', 11, syn(MON)).hops, ['s5:11', 's1:3', 's4:1']);
  w.cut('s5', 1); // s5 - s1
  await w.advance(0);
  const tr = w.inject('s5', 11, syn(MON));
  t.deepEqual(tr.hops, ['s5:11', 's2:3', 's4:2']);
  t.is(tr.to, 'k1');
  t.is(w.hosts.get('k1')!.received.length, 2);
  t.is(w.status('vm1').phase, 'parked');
});

test('an active VM whose tap appears on another switch: new activity entries and a barrier there before the old ones go', async (t) => {
  const w = await world();
  t.is(w.status('vm1').phase, 'active');
  const s4 = w.sw('s4');
  s4.holdBarriers = true;
  const mark = w.wire.length;
  w.plugVm('vm1', 's4', 12);
  await w.advance(0);
  // Made: the VM's traffic at s4 goes to its new port; not yet broken: s3 keeps its entries until s4's barrier reply.
  t.true(kinds(s4).includes(KIND.ACTIVITY));
  t.true(kinds(w.sw('s3')).includes(KIND.ACTIVITY));
  t.like(w.status('vm1'), { dpid: 4n, portNo: 12 });
  s4.release();
  await w.advance(0);
  t.deepEqual(kinds(w.sw('s3')), []);
  const log = w.wire.slice(mark).map((e) => (e.kind === 'msg' ? `${e.sw}:${e.msg.type === 'flow_mod' ? (e.msg.command === OFPFC_ADD ? 'add' : e.msg.command === OFPFC_DELETE ? 'del' : e.msg.command) : e.msg.type}` : `${e.sw}:${e.kind}`));
  const addAt = log.indexOf('s4:add');
  const barrierAt = log.indexOf('s4:barrier');
  const replyAt = log.indexOf('s4:barrier_reply');
  const delAt = log.indexOf('s3:del');
  t.true(addAt >= 0 && addAt < barrierAt && barrierAt < replyAt && replyAt < delAt, log.join(' '));
  t.true(w.logs.some((l) => l.includes('moved from switch 0000000000000003 port 10 to switch 0000000000000004 port 12')));
  // Traffic to the VM now reaches it on s4.
  const tr = w.inject('s5', 10, syn(H1));
  t.is(tr.end, 'miss'); // no L2 fabric in this harness: s5 forwards nothing for an active VM
  t.like(w.inject('s4', 11, syn(MON)), { end: 'vm', to: 'vm1' });
});

test('a parked VM that reappears on a leaf of another hypervisor is woken through that host; the stale tap deletion on the old leaf is ignored', async (t) => {
  const w = await parked();
  // The operator moved the paused domain to hv4, whose bridge is s4.
  w.hv(HV4).define('d1', { state: 'paused' });
  w.hv(HV3).undefine('d1');
  w.plugVm('vm1', 's4', 12);
  w.unplug('s3', 10);
  await w.advance(0);
  t.like(w.status('vm1'), { phase: 'parked', dpid: 4n, portNo: 12, uri: HV4 });
  const s = syn(H1);
  t.is(w.inject('s5', 10, s).end, 'controller');
  await until(w, 'vm1', 'active');
  t.is(w.hv(HV4).callsOf('resume', 'd1').length, 1);
  t.is(w.hv(HV3).callsOf('resume', 'd1').length, 0);
  t.true(w.packetOuts.some((p) => p.sw === 's4' && p.port === 12 && p.data.equals(s)));
  t.deepEqual(tcpSeqs(w.vmReceived.get('vm1') ?? []), [s.readUInt32BE(38)]);
  t.true(kinds(w.sw('s4')).includes(KIND.ACTIVITY));
});

test('a restart after a move reads and wakes the VM on the host it moved to (the stored record keeps it)', async (t) => {
  const w = await parked();
  w.hv(HV4).define('d1', { state: 'paused' });
  w.hv(HV3).undefine('d1');
  w.plugVm('vm1', 's4', 12);
  await w.advance(0);
  const rec = await w.store.get('vm1');
  t.like(rec, { state: 'parked', uri: HV4, dpid: 4n });
  await w.app.stop!();

  // A new controller with the same store; vm1's tap is not on any switch yet.
  const w2 = new FabricWorld(YAML);
  w2.store = w.store;
  w2.hv(HV3).undefine('d1');
  w2.hv(HV4).define('d1', { state: 'paused' });
  w2.addHost('h1', H1.mac, H1.ip, 's5', 10);
  await w2.start();
  t.like(w2.status('vm1'), { phase: 'parked', uri: HV4, dpid: 4n });
  t.is(w2.hv(HV3).callsOf('getState', 'd1').length, 0);
  w2.inject('s5', 10, syn(H1));
  await w2.advance(100);
  t.is(w2.hv(HV4).callsOf('resume', 'd1').length, 1);
  t.is(w2.hv(HV3).callsOf('resume', 'd1').length, 0);
  // Its tap comes back on s4: probed there and active.
  w2.plugVm('vm1', 's4', 12);
  await until(w2, 'vm1', 'active');
  t.like(w2.status('vm1'), { dpid: 4n, portNo: 12 });
});

test('a VM restored on another host under another tap name is located by its MAC on an edge port, and woken there', async (t) => {
  const w = await parked();
  // An operator restored it on hv4 (running) with tap vnet7, a name the inventory does not know, on s4:13.
  w.hv(HV3).undefine('d1');
  w.hv(HV4).define('d1', { state: 'running' });
  w.plugVm('vm1', 's4', 13, 'vnet7');
  await w.advance(w.graph.classifyMs + 1); // s4:13 is an edge port once classified
  t.like(w.status('vm1'), { dpid: 3n, uri: HV3 }); // the tap name says nothing
  // The table-miss entry of the L2 fabric (not modelled otherwise here): unknown traffic to the controller.
  w.sw('s4').ft.applyOk([flowMod({ priority: 0, match: [], instructions: toController() })]);
  // The restored guest resolves its peer: its ARP request enters s4 on port 13.
  t.is(w.inject('s4', 13, buildArpRequest('52:54:00:00:00:11', '10.0.0.11', H1.ip)).end, 'controller');
  t.like(w.status('vm1'), { phase: 'parked', dpid: 4n, portNo: 13, uri: HV4 });
  t.true(w.logs.some((l) => l.includes('to switch 0000000000000004 port 13 (MAC 52:54:00:00:00:11); libvirt host now ' + HV4)));
  const hv3Calls = w.hv(HV3).calls.length;
  const s = syn(H1);
  w.inject('s5', 10, s);
  await until(w, 'vm1', 'active');
  t.is(w.hv(HV3).calls.length, hv3Calls); // nothing asked of the host it left
  t.true(w.hv(HV4).callsOf('getState', 'd1').length > 0);
  t.true(w.packetOuts.some((p) => p.sw === 's4' && p.port === 13 && p.data.equals(s)));
  t.deepEqual(tcpSeqs(w.vmReceived.get('vm1') ?? []), [s.readUInt32BE(38)]);
});

test('a VM MAC entering on a switch-to-switch link port does not move the VM', async (t) => {
  const w = await parked();
  w.sw('s1').ft.applyOk([flowMod({ priority: 0, match: [], instructions: toController() })]);
  t.is(w.inject('s1', 1, buildArpRequest('52:54:00:00:00:11', '10.0.0.11', H1.ip)).end, 'controller');
  t.like(w.status('vm1'), { dpid: 3n, portNo: 10, uri: HV3 });
});

test('without fabric mode (single switch, replays) everything of a VM stays on its own switch, as before', async (t) => {
  const w = await parked({ fabric: false });
  t.true(kinds(w.sw('s3')).includes(KIND.PARK));
  for (const s of ['s1', 's2', 's4', 's5']) t.deepEqual(kinds(w.sw(s)), [], `no entries on ${s}`);
  t.is(w.inject('s5', 10, buildArpRequest(H1.mac, H1.ip, '10.0.0.11')).end, 'miss');
  t.deepEqual(w.packetIns, []);
});


test('a VM whose inventory host names no switch keeps its inventory URI wherever its tap appears', async (t) => {
  const w = new FabricWorld(YAML.replace(`, switch: s3 }`, ' }'));
  w.addHost('h1', H1.mac, H1.ip, 's5', 10);
  w.plugVm('vm1', 's3', 10);
  await w.start();
  w.app.parkNow('vm1');
  await until(w, 'vm1', 'parked');
  w.plugVm('vm1', 's4', 12);
  await w.advance(0);
  t.like(w.status('vm1'), { dpid: 4n, portNo: 12, uri: HV3 });
  w.inject('s5', 10, syn(H1));
  await until(w, 'vm1', 'active');
  t.is(w.hv(HV3).callsOf('resume', 'd1').length, 1);
});

test('the API view (vm info) shows the switch and hypervisor the VM is on now', async (t) => {
  const w = await parked();
  const src = createControlSource({ park: { app: w.app, inventory: w.inv, wakeTimes: new WakeTimes() }, switches: { datapaths: new Map() }, store: () => ({ kind: 'memory', healthy: true, pendingWrites: 0 }) });
  t.like(src.vm('vm1'), { switch: 's3', hypervisor: 'hv3', port: 10 });
  w.hv(HV4).define('d1', { state: 'paused' });
  w.plugVm('vm1', 's4', 12);
  await w.advance(0);
  t.like(src.vm('vm1'), { switch: 's4', hypervisor: 'hv4', port: 12 });
});

test('a VM waiting for a libvirt slot of its host that moves to another host gets a slot there (the old host does not hold it)', (t) => {
  const text = `park: { meterRate: 0, maxConcurrentOps: 1 }
hypervisors:
  - { name: hv3, uri: "${HV3}", switch: s3 }
  - { name: hv4, uri: "${HV4}", switch: s4 }
switches: [{ name: s3, dpid: 3 }, { name: s4, dpid: 4 }]
vms:
  - { name: vm1, hypervisor: hv3, libvirt: { domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s3, port: tap1, depth: pause }
  - { name: vm2, hypervisor: hv3, libvirt: { domain: d2 }, mac: "52:54:00:00:00:12", ip: 10.0.0.12, switch: s3, port: tap2, depth: pause }
`;
  const cfg = configFromInventory(parseInventory(text, 'q.yaml'));
  let s = initialState(cfg, 0);
  const out: Output[] = [];
  const run = (e: ParkEvent): void => {
    const r = step(cfg, s, e, 1000);
    s = r.state;
    out.push(...r.out);
  };
  for (const v of cfg.vms) run({ type: 'restore', vm: v.name, record: undefined, libvirt: 'running' });
  run({ type: 'switch_up', dpid: 3n, ports: [{ portNo: 10, name: 'tap1' }, { portNo: 11, name: 'tap2' }], meters: false });
  run({ type: 'switch_up', dpid: 4n, ports: [], meters: false });
  for (const vm of ['vm1', 'vm2']) {
    run({ type: 'park_now', vm });
    run({ type: 'barrier_done', vm, seq: s.vms.get(vm)!.barrierSeq });
    run({ type: 'persist_done', vm, seq: s.vms.get(vm)!.barrierSeq });
  }
  t.is(s.vms.get('vm2')!.step, 'queued'); // hv3's one slot is vm1's
  out.length = 0;
  run({ type: 'port_status', dpid: 4n, reason: 'add', portNo: 20, name: 'tap2' });
  t.like(s.vms.get('vm2'), { step: 'libvirt', uri: HV4, dpid: 4n, portNo: 20 });
  t.deepEqual(out.filter((o) => o.kind === 'libvirt').map((o) => [o.kind === 'libvirt' && o.vm, o.kind === 'libvirt' && o.uri]), [['vm2', HV4]]);
  t.deepEqual(s.opQueue, []);
  t.is(s.opsInFlight.get(HV3), 1);
  t.is(s.opsInFlight.get(HV4), 1);
});
