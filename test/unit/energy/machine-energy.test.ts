// The machine records the memory a park released from the event that reports
// it (libvirt_done.memory) and accounts each idle period's energy per VM with
// the inventory's power profile (docs/energy.md). Pure: explicit times.
import test from 'ava';
import { vmEnergyNow } from '../../../controller/energy/account.js';
import { energySaved, energySavedSoFar } from '../../../controller/energy/model.js';
import { parseInventory } from '../../../controller/inventory/index.js';
import { buildArpReplyFor, buildArpRequest } from '../../../controller/packet/index.js';
import { configFromInventory, initialState, step, type MachineConfig, type MachineState, type MemoryMeasurement } from '../../../controller/park/machine.js';

const MIB = 1024 * 1024;

function setup(depth: string, power = ''): { cfg: MachineConfig; s: MachineState } {
  const inv = parseInventory(
    `park: { meterRate: 0 }\n${power}switches: [{ name: s1, dpid: 1 }]\nvms:\n  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: tap1, depth: ${depth} }\n`,
    'energy.yaml',
  );
  const cfg = configFromInventory(inv);
  let s = initialState(cfg, 0);
  s = step(cfg, s, { type: 'restore', vm: 'vm1', record: undefined, libvirt: 'running' }, 0).state;
  s = step(cfg, s, { type: 'switch_up', dpid: 1n, ports: [{ portNo: 10, name: 'tap1' }], meters: false }, 0).state;
  return { cfg, s };
}

/** park_now at `at` through the barrier and the store to libvirt's answer (with `memory`) at `doneAt`. */
function park(cfg: MachineConfig, s: MachineState, at: number, doneAt: number, memory: MemoryMeasurement | undefined): MachineState {
  const vm = () => s.vms.get('vm1')!;
  s = step(cfg, s, { type: 'park_now', vm: 'vm1' }, at).state;
  s = step(cfg, s, { type: 'barrier_done', vm: 'vm1', seq: vm().barrierSeq }, at).state;
  s = step(cfg, s, { type: 'persist_done', vm: 'vm1', seq: vm().barrierSeq }, at).state;
  s = step(cfg, s, memory === undefined ? { type: 'libvirt_done', vm: 'vm1', seq: vm().opSeq } : { type: 'libvirt_done', vm: 'vm1', seq: vm().opSeq, memory }, doneAt).state;
  if (vm().phase !== 'parked') throw new Error(`vm1 is ${vm().phase}`);
  return s;
}

/** wake_now at `at`; the VM is back (tap, ARP answer, flows switched) at `doneAt`. */
function wake(cfg: MachineConfig, s: MachineState, at: number, doneAt: number): MachineState {
  const vm = () => s.vms.get('vm1')!;
  const spec = cfg.byName.get('vm1')!;
  s = step(cfg, s, { type: 'wake_now', vm: 'vm1' }, at).state;
  s = step(cfg, s, { type: 'libvirt_done', vm: 'vm1', seq: vm().opSeq, woke: 'resumed' }, doneAt).state;
  if (vm().portNo === undefined) s = step(cfg, s, { type: 'port_status', dpid: 1n, reason: 'add', portNo: 11, name: 'tap1' }, doneAt).state;
  const probe = buildArpRequest(cfg.park.probeMac, cfg.park.probeIp, spec.ip, spec.mac);
  const answer = buildArpReplyFor(probe, spec.mac, spec.ip)!;
  s = step(cfg, s, { type: 'packet_in', dpid: 1n, inPort: vm().portNo!, cookie: 0n, data: answer }, doneAt).state;
  s = step(cfg, s, { type: 'barrier_done', vm: 'vm1', seq: vm().barrierSeq }, doneAt).state;
  if (vm().phase !== 'active') throw new Error(`vm1 is ${vm().phase} (${vm().step})`);
  return s;
}

test('the memory a park released is recorded from libvirt_done and shown while parked', (t) => {
  const { cfg, s: s0 } = setup('save');
  const s = park(cfg, s0, 1000, 3000, { beforeBytes: 300 * MIB, afterBytes: 0 });
  const v = s.vms.get('vm1')!;
  t.deepEqual(v.memory, { residentBytes: 300 * MIB, releasedBytes: 300 * MIB });
  t.is(v.parkStartedAt, 1000);
  const spec = cfg.byName.get('vm1')!;
  t.is(vmEnergyNow(spec.power!, 'save', v, 3000).memoryReleasedBytes, 300 * MIB);
  // Woken: nothing is released any more (the record is kept for vm info).
  const a = wake(cfg, s, 900_000, 901_000).vms.get('vm1')!;
  t.is(vmEnergyNow(spec.power!, 'save', a, 901_000).memoryReleasedBytes, 0);
  t.deepEqual(a.memory, { residentBytes: 300 * MIB, releasedBytes: 300 * MIB });
});

test('a pause park releases what the RSS lost, never a negative amount', (t) => {
  const { cfg, s: s0 } = setup('pause');
  t.deepEqual(park(cfg, s0, 1000, 1025, { beforeBytes: 200 * MIB, afterBytes: 198 * MIB }).vms.get('vm1')!.memory, { residentBytes: 200 * MIB, releasedBytes: 2 * MIB });
  t.deepEqual(park(cfg, s0, 1000, 1025, { beforeBytes: 200 * MIB, afterBytes: 201 * MIB }).vms.get('vm1')!.memory, { residentBytes: 200 * MIB, releasedBytes: 0 });
  t.is(park(cfg, s0, 1000, 1025, undefined).vms.get('vm1')!.memory, undefined, 'unmeasured stays unmeasured');
});

test('each idle period is accounted at the wake with the inventory profile; short ones count as not paid off', (t) => {
  // A profile of round numbers from the inventory: 10 W idle, 1 W/GiB, save 1 s + 1 s, 10 J + 10 J.
  const power = 'power: { idleWatts: 10, wattsPerGiB: 1, save: { parkMs: 1000, parkJoules: 10, wakeMs: 1000, wakeJoules: 10 } }\n';
  const { cfg, s: s0 } = setup('save', power);
  const profile = cfg.byName.get('vm1')!.power!;
  t.like(profile, { idleWatts: 10, wattsPerGiB: 1 });
  const mem = { beforeBytes: 1024 * MIB, afterBytes: 0 };
  // Long period: 1000 s from the park's start to the wake's end.
  let s = park(cfg, s0, 10_000, 11_000, mem);
  // While parked the open period counts up (park charged, wake not yet).
  const mid = vmEnergyNow(profile, 'save', s.vms.get('vm1')!, 510_000);
  t.is(mid.energySavedJoules, energySavedSoFar(profile, 'save', 500, 1024 * MIB, 1024 * MIB));
  s = wake(cfg, s, 1_009_000, 1_010_000);
  let v = s.vms.get('vm1')!;
  const long = energySaved(profile, { depth: 'save', seconds: 1000, residentBytes: 1024 * MIB, releasedBytes: 1024 * MIB });
  t.is(long, 11 * 1000 - 20);
  t.deepEqual(v.energy, { savedJoules: long, unprofitableParks: 0, periods: 1 });
  t.is(v.parkStartedAt, undefined);
  // Short period: 1.5 s < T* = 20 J / 11 W: it cost more than it saved.
  s = park(cfg, s, 2_000_000, 2_000_500, mem);
  s = wake(cfg, s, 2_001_000, 2_001_500);
  v = s.vms.get('vm1')!;
  const short = energySaved(profile, { depth: 'save', seconds: 1.5, residentBytes: 1024 * MIB, releasedBytes: 1024 * MIB });
  t.true(short < 0);
  t.deepEqual(v.energy, { savedJoules: long + short, unprofitableParks: 1, periods: 2 });
  t.deepEqual(vmEnergyNow(profile, 'save', v, 2_500_000), { memoryReleasedBytes: 0, energySavedJoules: long + short, unprofitableParks: 1 });
});

test('a park that failed is no idle period: nothing accounted', (t) => {
  const { cfg, s: s0 } = setup('save');
  let s = s0;
  const vm = () => s.vms.get('vm1')!;
  s = step(cfg, s, { type: 'park_now', vm: 'vm1' }, 1000).state;
  s = step(cfg, s, { type: 'barrier_done', vm: 'vm1', seq: vm().barrierSeq }, 1000).state;
  s = step(cfg, s, { type: 'persist_done', vm: 'vm1', seq: vm().barrierSeq }, 1000).state;
  s = step(cfg, s, { type: 'libvirt_failed', vm: 'vm1', seq: vm().opSeq, error: 'boom' }, 2000).state;
  t.is(vm().phase, 'active');
  t.is(vm().parkStartedAt, undefined);
  t.deepEqual(vm().energy, { savedJoules: 0, unprofitableParks: 0, periods: 0 });
});

test('a VM found parked by reconciliation shows no memory figure of an earlier park and no idle period', (t) => {
  const { cfg, s: s0 } = setup('save');
  let s = park(cfg, s0, 1000, 2000, { beforeBytes: 300 * MIB, afterBytes: 0 });
  s = wake(cfg, s, 10_000, 11_000);
  // An operator saves the domain behind the engine's back; libvirt reports it shut off.
  s = step(cfg, s, { type: 'libvirt_state', vm: 'vm1', seq: s.vms.get('vm1')!.opSeq, state: 'shutoff' }, 20_000).state;
  const v = s.vms.get('vm1')!;
  t.is(v.phase, 'parked');
  t.is(v.memory, undefined);
  t.is(v.parkStartedAt, undefined);
  t.is(vmEnergyNow(cfg.byName.get('vm1')!.power!, 'save', v, 30_000).memoryReleasedBytes, 0);
  s = wake(cfg, s, 40_000, 41_000);
  t.is(s.vms.get('vm1')!.energy.periods, 1, 'only the period the engine parked itself');
});
