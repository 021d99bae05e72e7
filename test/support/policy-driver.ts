// Drives controller/park/machine.ts itself (no copy of its logic) over a list
// of activity times per VM, on virtual time, for the policy tests: a switch
// whose counters count the packets a running VM receives, a hypervisor whose
// park and wake take the power profile's parkMs / wakeMs (so the energy the
// machine accounts can be recomputed by hand), guests that answer the wake's
// ARP probe at once, barriers and store writes confirmed at once. A packet for
// a VM that is not ACTIVE reaches the machine as a packet-in (a wake trigger).
// The replay engine (seamless replay) is the full version of this; these tests
// need only a few VMs and exact timings.
import { parseInventory } from '../../controller/inventory/index.js';
import { configFromInventory, initialState, step, timerId, type MachineConfig, type MachineState, type Output, type ParkEvent, type TimerKey } from '../../controller/park/machine.js';
import { buildArpReplyFor, buildTcpFrame } from '../../controller/packet/build.js';
import { ARP_OP_REQUEST, parseFrame, TCP_FLAG_SYN } from '../../controller/packet/parse.js';
import { DEFAULT_POWER_PROFILE } from '../../controller/energy/profile.js';

export const CLIENT = { mac: '00:00:00:00:00:01', ip: '10.0.0.1' };

export interface DriveOptions {
  /** Inventory (YAML); every VM on switch s1 (dpid 1). Loaded as for a replay (the oracle is allowed). */
  readonly inventory: string;
  /** Engine-ms times of each VM's packets (any order). */
  readonly activity: ReadonlyMap<string, readonly number[]>;
  /** The run stops at this engine time. */
  readonly endAt: number;
  /** Give the machine the trace's future (needed by the oracle). Default true. */
  readonly future?: boolean;
  readonly epochOffsetMs?: number;
  /** Called after every step (for assertions on intermediate states). */
  readonly onStep?: (state: MachineState, now: number, cfg: MachineConfig) => void;
}

export type Transition = Extract<Output, { kind: 'transition' }> & { readonly at: number };

export interface DriveResult {
  readonly cfg: MachineConfig;
  readonly state: MachineState;
  readonly transitions: readonly Transition[];
  /** Every poll decision point: engine times of the poll timer. */
  readonly polls: readonly number[];
}

/** First element of sorted `xs` strictly greater than `after`. */
export function nextAfter(xs: readonly number[], after: number): number | undefined {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return xs[lo];
}

export function drive(o: DriveOptions): DriveResult {
  const inv = parseInventory(o.inventory, 'policy-driver.yaml', { replay: true });
  const sorted = new Map([...o.activity].map(([vm, ts]) => [vm, [...ts].sort((a, b) => a - b)]));
  const base = configFromInventory(inv);
  const cfg: MachineConfig = {
    ...base,
    epochOffsetMs: o.epochOffsetMs ?? 0,
    ...(o.future === false ? {} : { future: { nextActivity: (vm: string, after: number) => nextAfter(sorted.get(vm) ?? [], after) } }),
  };
  const ports = new Map(cfg.vms.map((v, i) => [v.name, 10 + i]));
  let state = initialState(cfg, 0);
  let now = 0;
  const counters = new Map(cfg.vms.map((v) => [v.name, 0n]));
  const transitions: Transition[] = [];
  const polls: number[] = [];
  const timers = new Map<string, { at: number; key: TimerKey }>();
  const later: { at: number; seq: number; ev: ParkEvent }[] = [];
  let seq = 0;
  const immediate: ParkEvent[] = [];
  const packets: { at: number; vm: string }[] = [];
  for (const [vm, ts] of sorted) for (const at of ts) packets.push({ at, vm });
  packets.sort((a, b) => a.at - b.at);
  let pi = 0;

  const run = (ev: ParkEvent): void => {
    const r = step(cfg, state, ev, now);
    state = r.state;
    for (const out of r.out) handle(out);
    o.onStep?.(state, now, cfg);
  };
  const handle = (out: Output): void => {
    switch (out.kind) {
      case 'set_timer':
        timers.set(timerId(out.key), { at: out.at, key: out.key });
        return;
      case 'cancel_timer':
        timers.delete(timerId(out.key));
        return;
      case 'flow_stats':
        immediate.push({ type: 'flow_counts', dpid: out.dpid, counts: new Map(counters) });
        return;
      case 'barrier':
        if (out.vm !== undefined && out.seq !== undefined) immediate.push({ type: 'barrier_done', vm: out.vm, seq: out.seq });
        return;
      case 'persist':
        if (out.seq !== undefined) immediate.push({ type: 'persist_done', vm: out.vm, seq: out.seq });
        return;
      case 'libvirt': {
        const s = cfg.byName.get(out.vm)!;
        const c = (s.power ?? DEFAULT_POWER_PROFILE).depths[s.depth];
        const ev: ParkEvent = out.op === 'park' ? { type: 'libvirt_done', vm: out.vm, seq: out.seq } : { type: 'libvirt_done', vm: out.vm, seq: out.seq, woke: 'resumed' };
        later.push({ at: now + (out.op === 'park' ? c.parkMs : c.wakeMs), seq: seq++, ev });
        return;
      }
      case 'send':
        // The guest answers the wake's ARP probe at once.
        for (const m of out.msgs) {
          if (m.type !== 'packet_out') continue;
          const f = parseFrame(m.data);
          if (f?.arp?.op !== ARP_OP_REQUEST) continue;
          const s = cfg.byIp.get(f.arp.tpa);
          if (!s) continue;
          const reply = buildArpReplyFor(m.data, s.mac, s.ip);
          if (reply) immediate.push({ type: 'packet_in', dpid: out.dpid, inPort: ports.get(s.name)!, cookie: 0n, data: reply });
        }
        return;
      case 'transition':
        transitions.push({ ...out, at: now });
        return;
      default:
        return;
    }
  };
  const drain = (): void => {
    while (immediate.length > 0) run(immediate.shift()!);
  };

  run({ type: 'switch_up', dpid: 1n, ports: cfg.vms.map((v) => ({ portNo: ports.get(v.name)!, name: v.port })), meters: false });
  for (const v of cfg.vms) run({ type: 'restore', vm: v.name, record: undefined, libvirt: 'running' });
  // Known up (the boot check is not what these tests are about).
  state = { ...state, vms: state.vms.map((v) => ({ ...v, seenUp: true })) };
  run({ type: 'start' });
  drain();
  for (;;) {
    // The next thing to happen: a packet, a hypervisor completion or a timer (ties: packets first, then in order).
    let at = Infinity;
    let what: 'packet' | 'later' | 'timer' | undefined;
    if (pi < packets.length) {
      at = packets[pi]!.at;
      what = 'packet';
    }
    let li = -1;
    for (let i = 0; i < later.length; i++) {
      // Strictly earlier than what was found (the list is in issue order: the first of equal times wins).
      if (later[i]!.at < at) {
        at = later[i]!.at;
        what = 'later';
        li = i;
      }
    }
    let tk: string | undefined;
    for (const [id, t] of timers) {
      if (t.at < at) {
        at = t.at;
        what = 'timer';
        tk = id;
      }
    }
    if (what === undefined || at > o.endAt) break;
    now = Math.max(now, at);
    if (what === 'packet') {
      const { vm } = packets[pi++]!;
      const s = cfg.byName.get(vm)!;
      if (state.vms.get(vm)!.phase === 'active') counters.set(vm, counters.get(vm)! + 1n);
      else {
        const data = buildTcpFrame({ ethSrc: CLIENT.mac, ethDst: s.mac, src: CLIENT.ip, dst: s.ip, srcPort: 40000, dstPort: 80, flags: TCP_FLAG_SYN });
        run({ type: 'packet_in', dpid: 1n, inPort: 1, cookie: 0n, data });
      }
    } else if (what === 'later') {
      run(later.splice(li, 1)[0]!.ev);
    } else {
      const t = timers.get(tk!)!;
      timers.delete(tk!);
      if (t.key.kind === 'poll') polls.push(now);
      run({ type: 'timer', key: t.key });
    }
    drain();
  }
  return { cfg, state, transitions, polls };
}
