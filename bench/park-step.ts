// Park-engine hot-path micro-benchmark: how many machine steps per second for
// the three packet-in cases that happen per packet, at 10, 200 and 2000 VMs:
//   arpAnswer  ARP request for a parked VM, answered by the controller
//   heldPacket a packet for a VM that is waking (libvirt running): held
//   wakeTrigger the first packet for a parked VM: starts the wake
// Each case steps the pure machine (controller/park/machine.ts) from the same
// prepared state, so the numbers are the engine's own cost, not libvirt's or a socket's.
// Prints one JSON object: { node, results: { "<vms>": { arpAnswer, heldPacket, wakeTrigger } } } in events/s.
// Run: npx tsx bench/park-step.ts [--ms 1000]   (or npm run build && node dist/bench/park-step.js)
import { parseInventory } from '../controller/inventory/index.js';
import { buildArpRequest, buildTcpFrame } from '../controller/packet/index.js';
import { configFromInventory, initialState, step, type MachineConfig, type MachineState, type ParkEvent } from '../controller/park/machine.js';
import { rate } from './rate.js';

/** Smaller batches than the codec's: one step at 2000 VMs used to cost ~100 us. */
const BATCH = 200;

const DPID = 1n;
const CLIENT = { mac: '00:00:00:00:00:01', ip: '10.255.0.1', port: 1 };


function mac(i: number): string {
  return `52:54:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
}

function ip(i: number): string {
  return `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

function inventory(n: number): string {
  const vms: string[] = [];
  for (let i = 0; i < n; i++) {
    vms.push(`  - { name: vm${i}, libvirt: { uri: "test:///default", domain: d${i} }, mac: "${mac(i)}", ip: ${ip(i)}, switch: s1, port: tap${i}, depth: pause }`);
  }
  return `park: { maxConcurrentOps: 4, meterRate: 0 }
defaults: { idleTimeout: 60s, minActive: 10s, maxHeld: 64 }
switches: [{ name: s1, dpid: 1 }]
vms:
${vms.join('\n')}
`;
}

function run(cfg: MachineConfig, s: MachineState, events: ParkEvent[], now: number): MachineState {
  for (const e of events) s = step(cfg, s, e, now).state;
  return s;
}

function measure(n: number, ms: number): { arpAnswer: number; heldPacket: number; wakeTrigger: number } {
  const cfg = configFromInventory(parseInventory(inventory(n), `bench-${n}.yaml`));
  const now = 1_000_000;
  const ports = cfg.vms.map((v, i) => ({ portNo: 10 + i, name: v.port }));
  let s = initialState(cfg, 0);
  // Start-up: libvirt reports every domain running (VMs start UNKNOWN until it does).
  s = run(cfg, s, cfg.vms.map((v): ParkEvent => ({ type: 'restore', vm: v.name, record: undefined, libvirt: 'running' })), 0);
  s = run(cfg, s, [{ type: 'start' }, { type: 'switch_up', dpid: DPID, ports, meters: false }], 0);
  // vm0 parked (operator park, barrier confirmed, libvirt done); the target is the middle VM
  // so a linear search would not be flattered by position.
  const target = cfg.vms[Math.floor(n / 2)]!;
  const parkSteps = (s0: MachineState): MachineState => {
    let st = step(cfg, s0, { type: 'park_now', vm: target.name }, now).state;
    const seq = st.vms.get(target.name)!.barrierSeq;
    st = step(cfg, st, { type: 'barrier_done', vm: target.name, seq }, now).state;
    // A durable engine first waits for the store; answer it if it asks.
    for (let i = 0; i < 4 && st.vms.get(target.name)!.step !== 'libvirt'; i++) {
      const v = st.vms.get(target.name)!;
      st = step(cfg, st, { type: 'persist_done', vm: target.name, seq: v.barrierSeq }, now).state;
    }
    return step(cfg, st, { type: 'libvirt_done', vm: target.name, seq: st.vms.get(target.name)!.opSeq }, now).state;
  };
  const parked = parkSteps(s);
  if (parked.vms.get(target.name)!.phase !== 'parked') throw new Error(`bench setup: ${target.name} did not park`);
  const arp = buildArpRequest(CLIENT.mac, CLIENT.ip, target.ip);
  const syn = buildTcpFrame({ ethSrc: CLIENT.mac, ethDst: target.mac, src: CLIENT.ip, dst: target.ip, srcPort: 40000, dstPort: 80, flags: 0x02, seq: 1 });
  const pin = (data: Buffer): ParkEvent => ({ type: 'packet_in', dpid: DPID, inPort: CLIENT.port, cookie: 0n, data });
  const waking = step(cfg, parked, pin(syn), now).state;
  if (waking.vms.get(target.name)!.phase !== 'waking') throw new Error('bench setup: no wake');

  // ARP: the state carries forward (the counter grows), as in the daemon.
  let cur = parked;
  const arpEv = pin(arp);
  const arpAnswer = rate(() => {
    const r = step(cfg, cur, arpEv, now);
    cur = r.state;
  }, ms, BATCH);
  const synEv = pin(syn);
  // Held packet and wake trigger: from the same state each time (the hold queue is bounded).
  const heldPacket = rate(() => step(cfg, waking, synEv, now), ms, BATCH);
  const wakeTrigger = rate(() => step(cfg, parked, synEv, now), ms, BATCH);
  return { arpAnswer, heldPacket, wakeTrigger };
}

const msArg = process.argv.indexOf('--ms');
const ms = msArg > 0 ? Number(process.argv[msArg + 1]) : 1000;
if (!Number.isFinite(ms) || ms <= 0) {
  console.error('usage: park-step [--ms MILLISECONDS]');
  process.exit(2);
}
const results: Record<string, ReturnType<typeof measure>> = {};
for (const n of [10, 200, 2000]) results[String(n)] = measure(n, ms);
console.log(JSON.stringify({ node: process.version, unit: 'events/s', results }, null, 2));
