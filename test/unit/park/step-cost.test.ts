// Regression: the machine used to copy the whole VM map on every event (about
// 100 us per packet-in at 2000 VMs against 5 us at 20, bench/park-step.ts).
import test from 'ava';
import { Map as PersistentMap } from 'immutable';
import { parseInventory } from '../../../controller/inventory/index.js';
import { buildArpRequest, buildTcpFrame } from '../../../controller/packet/index.js';
import { configFromInventory, initialState, step, type MachineConfig, type MachineState, type ParkEvent } from '../../../controller/park/machine.js';

function setup(n: number): { cfg: MachineConfig; parked: MachineState; arp: ParkEvent; syn: ParkEvent } {
  const vms = Array.from({ length: n }, (_, i) => {
    const mac = `52:54:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
    return `  - { name: vm${i}, libvirt: { uri: "test:///default", domain: d${i} }, mac: "${mac}", ip: 10.1.${Math.floor(i / 250)}.${(i % 250) + 1}, switch: s1, port: tap${i}, depth: pause }`;
  });
  const cfg = configFromInventory(parseInventory(`park: { meterRate: 0 }\nswitches: [{ name: s1, dpid: 1 }]\nvms:\n${vms.join('\n')}\n`, 'cost.yaml'));
  const now = 1000;
  let s = initialState(cfg, 0);
  // Start-up: libvirt reports every domain running (VMs start UNKNOWN until it does).
  for (const v of cfg.vms) s = step(cfg, s, { type: 'restore', vm: v.name, record: undefined, libvirt: 'running' }, 0).state;
  s = step(cfg, s, { type: 'switch_up', dpid: 1n, ports: cfg.vms.map((v, i) => ({ portNo: 10 + i, name: v.port })), meters: false }, 0).state;
  const target = cfg.vms[Math.floor(n / 2)]!;
  const vm = () => s.vms.get(target.name)!;
  s = step(cfg, s, { type: 'park_now', vm: target.name }, now).state;
  s = step(cfg, s, { type: 'barrier_done', vm: target.name, seq: vm().barrierSeq }, now).state;
  s = step(cfg, s, { type: 'persist_done', vm: target.name, seq: vm().barrierSeq }, now).state;
  s = step(cfg, s, { type: 'libvirt_done', vm: target.name, seq: vm().opSeq }, now).state;
  if (vm().phase !== 'parked') throw new Error(`setup: ${target.name} is ${vm().phase}`);
  const pin = (data: Buffer): ParkEvent => ({ type: 'packet_in', dpid: 1n, inPort: 1, cookie: 0n, data });
  return {
    cfg,
    parked: s,
    arp: pin(buildArpRequest('00:00:00:00:00:01', '10.255.0.1', target.ip)),
    syn: pin(buildTcpFrame({ ethSrc: '00:00:00:00:00:01', ethDst: target.mac, src: '10.255.0.1', dst: target.ip, srcPort: 40000, dstPort: 80, flags: 2, seq: 1 })),
  };
}

// The cost itself is measured by bench/park-step.ts (`npm run bench:park-step`);
// timed assertions do not belong in tests. What makes the cost independent of
// the VM count is structural: an event replaces only its own VM's record and
// shares every other one, which is checked here exactly.
test('an event replaces only its own VM record; the other 1999 are shared (ARP answer, wake trigger)', (t) => {
  const large = setup(2000);
  for (const what of ['arp', 'syn'] as const) {
    const r = step(large.cfg, large.parked, large[what], 1000);
    // A persistent map updates in O(log n); a copied native Map (the old code) is O(n).
    t.true(PersistentMap.isMap(r.state.vms), `${what}: vms is a persistent map`);
    let shared = 0;
    for (const [name, v] of large.parked.vms) if (r.state.vms.get(name) === v) shared++;
    t.is(shared, 1999, what);
    t.not(r.state.vms.get('vm1000'), large.parked.vms.get('vm1000'), `${what}: the target's record changed`);
  }
  const r = step(large.cfg, large.parked, large.arp, 1000);
  t.is(large.parked.vms.get('vm1000')!.counters.arpAnswered, 0, 'the input state is not modified');
  t.is(r.state.vms.get('vm1000')!.counters.arpAnswered, 1);
});
