// The replay engine: controller/park/machine.ts itself, driven on a
// VirtualClock by a trace, against a simulated switch (the flow_mods the machine
// emits applied to a flow table with OXM semantics; each flow classified by
// lookup: activity counters, packet-ins for parked VMs, sink for ignored
// traffic; barriers answered) and a simulated hypervisor (park and wake
// durations drawn per depth from the latency profile). No parking logic lives
// here: every decision is the machine's, read from its outputs.
//
// Speed (docs/replay.md#how-fast): one machine instance per VM (VMs share only
// libvirt's concurrency bound, maxConcurrentOps, which this mode does not model:
// docs/replay.md says when it matters), and a poll is delivered only when
// nextPollMatters (machine.ts) says it could change the VM; every other poll
// would find an unchanged counter below every bound. `fullFidelity` runs the
// live controller's shape instead (one machine for every VM, every poll); the
// equivalence test compares the two.
import { VirtualClock, type TimerHandle } from '../clock.js';
import { alwaysOnWatts, energySavedSoFar, type EnergyDepth } from '../energy/model.js';
import { DEFAULT_POWER_PROFILE } from '../energy/profile.js';
import type { Inventory, VmSpec } from '../inventory/types.js';
import type { DomainRunState } from '../libvirt/hypervisor.js';
import type { MessageOf } from '../openflow/types.js';
import { buildArp, buildIcmpEchoRequest, buildTcpFrame, buildUdpFrame } from '../packet/build.js';
import { ARP_OP_REPLY, ARP_OP_REQUEST, parseFrame, TCP_FLAG_ACK, TCP_FLAG_SYN } from '../packet/parse.js';
import { decodeCookie, KIND, PROBE_TCP_PORT, type FlowVm } from '../park/flows.js';
import type { WakeKind } from '../park/hypervisor.js';
import { configFromInventory, initialState, nextPollMatters, step, timerId } from '../park/machine.js';
import type { FutureView, MachineConfig, MachineState, Output, ParkEvent, ParkReason, Phase } from '../park/model.js';
import { FakeFlowTable, fieldsOfFrame, type FakeFlow, type PacketFields } from './flowtable.js';
import { applyPolicy, NEEDS_FUTURE } from './policies.js';
import { depthLatency, draw, type LatencyProfile } from './profile.js';
import { PHASES, round3, summariseLatency, type PolicyResult, type TraceSummary } from './results.js';
import { Rng, subSeed } from './rng.js';
import { PROTO_ICMP, PROTO_TCP, PROTO_UDP, u32ToIp, type Trace } from './trace.js';

/** Where the trace's clients enter the simulated switch. */
const CLIENT_PORT = 1;
const CLIENT_MAC = '02:00:00:00:00:01';
/** Sinks get ports 2.. in inventory order; taps from TAP_BASE. */
const TAP_BASE = 100;
/** Marks the frames the engine builds for a flow's first packet; the flow's index follows. */
const MARK = 0x5ea1f10e;

/** How long the default window runs past the trace's last packet. */
export const END_GRACE_MS = 60_000;

/** A trace matched to an inventory, shared by every policy of a run. */
export interface PreparedTrace {
  readonly trace: Trace;
  readonly inventory: Inventory;
  /** Per flow: the destination VM's index in inventory.vms, -1 unknown address, -2 sent by a VM out of the inventory. */
  readonly vmOf: Int32Array;
  readonly summary: TraceSummary;
}

/** Matches flows to VMs by destination IP; counts flows to addresses nobody owns (reported, never dropped silently). */
export function prepareTrace(trace: Trace, inventory: Inventory, window?: { startMs: number; endMs: number }): PreparedTrace {
  const byIp = new Map<number, number>();
  inventory.vms.forEach((v, i) => byIp.set(ipNum(v.ip), i));
  const vmOf = new Int32Array(trace.n);
  const unknown = new Map<number, number>();
  let outbound = 0;
  let end = -Infinity;
  for (let i = 0; i < trace.n; i++) {
    const vi = byIp.get(trace.dst[i]!);
    if (vi !== undefined) vmOf[i] = vi;
    else if (byIp.has(trace.src[i]!)) {
      vmOf[i] = -2;
      outbound++;
    } else {
      vmOf[i] = -1;
      unknown.set(trace.dst[i]!, (unknown.get(trace.dst[i]!) ?? 0) + 1);
    }
    end = Math.max(end, trace.start[i]! + trace.durMs[i]!);
  }
  const startMs = window?.startMs ?? (trace.n > 0 ? Math.floor(trace.start[0]!) : 0);
  // A minute past the last packet: the wakes its last flows started finish inside the window.
  const endMs = window?.endMs ?? (trace.n > 0 ? Math.ceil(end) + END_GRACE_MS : startMs);
  return {
    trace,
    inventory,
    vmOf,
    summary: {
      file: trace.file,
      flows: trace.n,
      vms: inventory.vms.length,
      days: (endMs - startMs) / 86_400_000,
      startMs,
      endMs,
      unknownAddresses: [...unknown].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([ip, flows]) => ({ ip: u32ToIp(ip), flows })),
      outboundFlows: outbound,
    },
  };
}

function ipNum(ip: string): number {
  return ip.split('.').reduce((n, x) => n * 256 + Number(x), 0);
}

export interface TransitionRecord {
  readonly at: number;
  readonly vm: string;
  readonly from: Phase;
  readonly to: Phase;
  readonly reason: ParkReason;
}

export interface ReplayOptions {
  readonly profile: LatencyProfile;
  readonly seed: number;
  /** 'fixed', 'fixed:300s', or a policy name (policies.ts). */
  readonly policy: string;
  /** The live controller's shape: one machine for every VM, every poll delivered (slow; for equivalence tests). */
  readonly fullFidelity?: boolean;
  readonly onTransition?: (t: TransitionRecord) => void;
  readonly onProgress?: (flowsDone: number, flowsTotal: number) => void;
}

type Spec = VmSpec & FlowVm;

interface Hit {
  readonly flow: FakeFlow | undefined;
  readonly controller: boolean;
  readonly activity: boolean;
}

/** One VM's simulated tap, guest and domain, and its tallies. */
class VmSim {
  readonly table = new FakeFlowTable({ meters: false });
  cacheVersion = -1;
  readonly cache = new Map<number, Hit>();
  portNo: number | undefined;
  gen = 0;
  domain: DomainRunState = 'running';
  counterMoved = false;
  lastBarrierAt = -Infinity;
  /** The depth the domain was last parked at (undefined while it runs). */
  parkedDepth: string | undefined;
  activityFlow: FakeFlow | undefined;
  activityVersion = -1;
  /** The VM's flows (indices into the trace, in start order) and the first one not yet arrived. */
  flows: Int32Array = new Int32Array(0);
  cursor = 0;
  /** Until when a long flow's packet batches keep arriving. */
  longUntil = -Infinity;
  // tallies, from the machine's transition outputs and the switch's deliveries
  phase: Phase = 'unknown';
  since: number;
  readonly time: Record<Phase, number> = { unknown: 0, active: 0, parking: 0, parked: 0, waking: 0, wake_failed: 0 };
  parks = 0;
  wakes = 0;
  saved = 0;
  metParked = 0;
  readonly latencies: number[] = [];
  releasedBytes = 0;
  parkedSince = 0;
  byteMs = 0;

  constructor(
    readonly idx: number,
    readonly spec: Spec,
    readonly unit: Unit,
    readonly rng: Rng,
    t0: number,
  ) {
    this.since = t0;
    this.portNo = tapPort(idx, 0, 0);
  }
}

/** A VM's tap number: a new one after each save/shutdown wake (the tap is re-created), unique per VM. */
function tapPort(idx: number, gen: number, nVms: number): number {
  return TAP_BASE + idx + gen * nVms;
}

interface Unit {
  readonly cfg: MachineConfig;
  state: MachineState;
  readonly sims: VmSim[];
  readonly byName: Map<string, VmSim>;
  readonly byId: Map<number, VmSim>;
  readonly timers: Map<string, TimerHandle>;
  /** The poll the machine asked for last (its grid: start + k x pollInterval). */
  pollGrid: number;
  pollAt: number | undefined;
  pollHandle: TimerHandle | undefined;
}

/** Per VM: sorted times of packets that count or wake it, for the oracle (FutureView). */
class TraceFuture implements FutureView {
  readonly #times = new Map<string, Float64Array>();

  constructor(p: PreparedTrace, cfg: MachineConfig) {
    const lists: number[][] = p.inventory.vms.map(() => []);
    const { trace } = p;
    for (let i = 0; i < trace.n; i++) {
      const vi = p.vmOf[i]!;
      if (vi < 0) continue;
      const s = p.inventory.vms[vi]!;
      if (ignored(s, trace.src[i]!, trace.proto[i]!, trace.dport[i]!)) continue;
      for (const t of packetTimes(trace.start[i]!, trace.durMs[i]!, trace.packets[i]!, cfg.pollIntervalMs)) lists[vi]!.push(t);
    }
    p.inventory.vms.forEach((v, i) => this.#times.set(v.name, Float64Array.from(lists[i]!).sort()));
  }

  nextActivity(vm: string, after: number): number | undefined {
    const a = this.#times.get(vm);
    if (a === undefined) return undefined;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid]! <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo < a.length ? a[lo] : undefined;
  }
}

/** The inventory's ignore rules applied to a flow record (for the oracle's view of what counts; the switch decides in the replay itself). */
function ignored(s: VmSpec, src: number, proto: number, dport: number): boolean {
  return s.ignore.some(
    (r) => (r.src === undefined || ipNum(r.src) === src) && (r.tcpDst === undefined || (proto === PROTO_TCP && dport === r.tcpDst)) && (r.udpDst === undefined || (proto === PROTO_UDP && dport === r.udpDst)),
  );
}

/**
 * When a flow's packets reach the switch, as the engine models them: the first
 * at the flow's start, then (a flow longer than a poll interval) one batch per
 * poll interval and the last at its end, so a long flow keeps moving the
 * counter while it lasts without an event per packet.
 */
function packetTimes(start: number, dur: number, packets: number, poll: number): number[] {
  const out = [start];
  if (packets < 2 || dur <= poll) return out;
  for (let t = start + poll; t < start + dur && out.length < packets; t += poll) out.push(t);
  if (out.length < packets) out.push(start + dur);
  return out;
}

/**
 * Replays the VMs of one share of the fleet (`share` = [k, n]: the VMs whose
 * index is k mod n; all of them by default) and returns their raw tallies.
 * Shares are independent in the fast mode (one machine per VM), so workers
 * can replay them in parallel (parallel.ts).
 */
export function replayPart(p: PreparedTrace, opts: ReplayOptions, share: readonly [number, number] = [0, 1]): PartResult {
  const { trace, vmOf, summary } = p;
  const { inventory, idleTimeoutMs } = applyPolicy(p.inventory, opts.policy);
  let full = configFromInventory(inventory);
  if (inventory.vms.some((v) => NEEDS_FUTURE.includes(v.policy?.name ?? 'fixed'))) full = { ...full, future: new TraceFuture(p, full) };
  const P = full.pollIntervalMs;
  const t0 = summary.startMs;
  const clock = new VirtualClock(t0);
  const profile = opts.profile;
  const nVms = full.vms.length;
  const fullFidelity = opts.fullFidelity === true;
  const pending = new Map<number, { at: number; sim: VmSim }>();
  const sinkPorts = inventory.sinks.map((s, i) => ({ portNo: 2 + i, name: typeof s.port === 'string' ? s.port : `sink-${s.name}` }));
  const dpids = [...new Set(full.vms.map((v) => v.dpid))];
  /** A flow stats reply comes back one fixed round trip after the poll (a fixed delay keeps polls on their grid). */
  const statsDelay = profile.switchRoundTrip.p50Ms;

  const makeUnit = (vms: Spec[]): Unit => {
    const cfg: MachineConfig =
      vms.length === full.vms.length
        ? full
        : { ...full, vms, byName: new Map(vms.map((v) => [v.name, v])), byMac: new Map(vms.map((v) => [v.mac, v])), byIp: new Map(vms.map((v) => [v.ip, v])) };
    const u: Unit = { cfg, state: initialState(cfg, t0), sims: [], byName: new Map(), byId: new Map(), timers: new Map(), pollGrid: t0 + P, pollAt: undefined, pollHandle: undefined };
    for (const v of vms) {
      const idx = full.vms.indexOf(v);
      const sim = new VmSim(idx, v, u, new Rng(subSeed(opts.seed, v.name)), t0);
      sim.portNo = tapPort(idx, 0, nVms);
      u.sims.push(sim);
      u.byName.set(v.name, sim);
      u.byId.set(v.id, sim);
    }
    return u;
  };
  if (fullFidelity && share[1] !== 1) throw new Error('a full-fidelity replay runs every VM in one machine: it cannot be split');
  const mine = full.vms.filter((_, i) => i % share[1] === share[0]);
  const units: Unit[] = fullFidelity ? [makeUnit([...full.vms])] : mine.map((v) => makeUnit([v]));
  const simOf: (VmSim | undefined)[] = new Array<VmSim | undefined>(nVms);
  for (const u of units) for (const s of u.sims) simOf[s.idx] = s;
  {
    // Per VM, its flows in start order (for the poll look-ahead below).
    const counts = new Int32Array(nVms);
    for (let i = 0; i < trace.n; i++) if (vmOf[i]! >= 0) counts[vmOf[i]!]!++;
    for (const s of simOf) if (s !== undefined) s.flows = new Int32Array(counts[s.idx]!);
    const fill = new Int32Array(nVms);
    for (let i = 0; i < trace.n; i++) {
      const v = vmOf[i]!;
      const s = v >= 0 ? simOf[v] : undefined;
      if (s !== undefined) s.flows[fill[v]!++] = i;
    }
  }

  const later = (at: number, fn: () => void): void => {
    clock.setTimer(fn, at - clock.now());
  };

  const dispatch = (u: Unit, ev: ParkEvent): void => {
    const now = clock.now();
    const r = step(u.cfg, u.state, ev, now);
    u.state = r.state;
    for (const o of r.out) handle(u, o, now);
    if (!fullFidelity) reschedulePoll(u);
  };

  const reschedulePoll = (u: Unit): void => {
    const now = clock.now();
    let m: number | undefined;
    for (const s of u.sims) {
      const x = nextPollMatters(u.cfg, u.state, s.spec.name, s.counterMoved, now);
      if (x !== undefined && (m === undefined || x < m)) m = x;
    }
    if (m === undefined) {
      if (u.pollHandle) clock.clearTimer(u.pollHandle);
      u.pollHandle = undefined;
      u.pollAt = undefined;
      return;
    }
    // The machine decides when the counters come back, one reply delay after the poll.
    const base = Math.max(m - statsDelay, u.pollGrid, now);
    const at = u.pollGrid + Math.ceil((base - u.pollGrid) / P) * P;
    if (u.pollHandle !== undefined && u.pollAt === at) return;
    if (u.pollHandle) clock.clearTimer(u.pollHandle);
    u.pollAt = at;
    u.pollHandle = clock.setTimer(() => {
      u.pollHandle = undefined;
      u.pollAt = undefined;
      if (skippable(u, at)) {
        u.pollGrid = at + P;
        reschedulePoll(u);
        return;
      }
      dispatch(u, { type: 'timer', key: { kind: 'poll' } });
    }, at - now);
  };

  /**
   * A poll at `at` whose counters moved can be left out when they will move
   * again before the next poll's reply: delivered, it would only set the idle
   * clock (lastChangeAt) that the next poll sets again (a moved counter never
   * parks). The VM stays ACTIVE in between (only a poll can park it), so its
   * table does not change and its coming flows classify now as they will then.
   * Not for the baseline sample (lastCount unset) nor while a long flow's
   * batches arrive. Fast mode only; the equivalence tests pin it.
   */
  const skippable = (u: Unit, at: number): boolean => {
    if (fullFidelity || u.sims.length !== 1) return false;
    const s = u.sims[0]!;
    if (!s.counterMoved || s.longUntil >= at) return false;
    const v = u.state.vms.get(s.spec.name);
    if (v === undefined || v.phase !== 'active' || v.step !== 'none' || v.lastCount === undefined) return false;
    const from = at + statsDelay;
    const to = from + P;
    for (let k = s.cursor; k < s.flows.length; k++) {
      const i = s.flows[k]!;
      const t = trace.start[i]!;
      if (t >= to) return false;
      if (t >= from && hitOf(s, i).activity) return true;
    }
    return false;
  };

  const activityCount = (s: VmSim): FakeFlow | undefined => {
    if (s.activityVersion !== s.table.version) {
      s.activityVersion = s.table.version;
      s.activityFlow = s.table.flows(0).find((f) => decodeCookie(f.cookie)?.kind === KIND.ACTIVITY);
    }
    return s.activityFlow;
  };

  const handle = (u: Unit, o: Output, now: number): void => {
    switch (o.kind) {
      case 'send':
        for (const m of o.msgs) {
          if (m.type === 'flow_mod') {
            const d = decodeCookie(m.cookie);
            const s = d === undefined ? undefined : u.byId.get(d.vmId);
            if (s !== undefined) s.table.flowMod(m);
            else for (const x of u.sims) if (x.spec.dpid === o.dpid) x.table.flowMod(m);
          } else if (m.type === 'packet_out') packetOut(u, m);
        }
        return;
      case 'barrier': {
        if (o.vm === undefined || o.seq === undefined) return;
        const s = u.byName.get(o.vm)!;
        // One switch connection answers barriers in order: per VM, never before an earlier one.
        const at = Math.max(now + draw(s.rng, profile.switchRoundTrip), s.lastBarrierAt);
        s.lastBarrierAt = at;
        const ev: ParkEvent = { type: 'barrier_done', vm: o.vm, seq: o.seq };
        later(at, () => dispatch(u, ev));
        return;
      }
      case 'libvirt': {
        // A park names its depth once escalation exists (the shared interface's `depth?`); else the VM's.
        const s = u.byName.get(o.vm)!;
        const depth = (o as { depth?: string }).depth ?? s.spec.depth;
        libvirtOp(u, s, o.op, o.seq, now, depth);
        return;
      }
      case 'flow_stats':
        // The reply reads the counters when it is answered, one fixed round trip later.
        later(now + statsDelay, () => {
          const counts = new Map<string, bigint>();
          for (const s of u.sims) {
            if (s.spec.dpid !== o.dpid) continue;
            const f = activityCount(s);
            if (f !== undefined) counts.set(s.spec.name, BigInt(f.packetCount));
            s.counterMoved = false;
          }
          dispatch(u, { type: 'flow_counts', dpid: o.dpid, counts });
        });
        return;
      case 'read_state': {
        const s = u.byName.get(o.vm)!;
        const ev = { type: 'libvirt_state', vm: o.vm, seq: o.seq, state: s.domain } as const;
        later(now, () => dispatch(u, ev));
        return;
      }
      case 'set_timer': {
        if (o.key.kind === 'poll' && !fullFidelity) {
          u.pollGrid = o.at;
          return;
        }
        const id = timerId(o.key);
        const old = u.timers.get(id);
        if (old) clock.clearTimer(old);
        const key = o.key;
        u.timers.set(
          id,
          clock.setTimer(() => {
            u.timers.delete(id);
            dispatch(u, { type: 'timer', key });
          }, o.at - now),
        );
        return;
      }
      case 'cancel_timer': {
        const id = timerId(o.key);
        const old = u.timers.get(id);
        if (old) clock.clearTimer(old);
        u.timers.delete(id);
        return;
      }
      case 'persist': {
        if (o.seq === undefined) return;
        const s = u.byName.get(o.vm)!;
        const ev: ParkEvent = { type: 'persist_done', vm: o.vm, seq: o.seq };
        later(now + draw(s.rng, profile.storeWrite), () => dispatch(u, ev));
        return;
      }
      case 'transition': {
        const s = u.byName.get(o.vm)!;
        s.time[s.phase] += now - s.since;
        if (s.phase === 'parked') s.byteMs += s.releasedBytes * (now - s.parkedSince);
        s.phase = o.to;
        s.since = now;
        if (o.to === 'parked') {
          s.parkedSince = now;
          s.releasedBytes = o.from === 'parking' ? (o.memoryReleasedBytes ?? 0) : 0;
          if (o.from === 'parking') s.parks++;
        }
        if (o.reason === 'woken' || o.reason === 'woken-unconfirmed') s.wakes++;
        if (o.energySavedJoules !== undefined) s.saved += o.energySavedJoules;
        opts.onTransition?.({ at: now, vm: o.vm, from: o.from, to: o.to, reason: o.reason });
        return;
      }
      case 'log':
        return;
    }
  };

  const keepsTap = (depth: string): boolean => depth === 'pause' || depth === 'reclaim';

  const libvirtOp = (u: Unit, s: VmSim, op: 'park' | 'wake', seq: number, now: number, depth: string): void => {
    // A wake's duration is that of the depth the domain is parked at.
    const dl = depthLatency(profile, op === 'park' ? depth : s.parkedDepth ?? depth, s.spec.name);
    const at = now + draw(s.rng, op === 'park' ? dl.park : dl.wake);
    const name = s.spec.name;
    later(at, () => {
      if (op === 'park') {
        s.domain = keepsTap(depth) ? 'paused' : 'shutoff';
        s.parkedDepth = depth;
        if (!keepsTap(depth) && s.portNo !== undefined) {
          // The tap goes with the QEMU process: the switch reports the port gone.
          const old = s.portNo;
          s.portNo = undefined;
          dispatch(u, { type: 'port_status', dpid: s.spec.dpid, reason: 'delete', portNo: old, name: s.spec.port });
        }
        const before = profile.residentBytes;
        dispatch(u, { type: 'libvirt_done', vm: name, seq, memory: { beforeBytes: before, afterBytes: before * (1 - dl.releasedFraction) } });
        return;
      }
      const woke: WakeKind = s.domain === 'running' ? 'running' : s.domain === 'paused' ? 'resumed' : s.parkedDepth === 'save' ? 'restored' : 'booted';
      s.domain = 'running';
      s.parkedDepth = undefined;
      if (s.portNo === undefined) {
        s.gen++;
        s.portNo = tapPort(s.idx, s.gen, nVms);
        dispatch(u, { type: 'port_status', dpid: s.spec.dpid, reason: 'add', portNo: s.portNo, name: s.spec.port });
      }
      dispatch(u, { type: 'libvirt_done', vm: name, seq, woke });
    });
  };

  /** A frame the machine sent out of a port: a running guest receives it (and answers probes). */
  const packetOut = (u: Unit, m: MessageOf<'packet_out'>): void => {
    const port = m.actions.find((a) => a.type === 'output')?.port;
    if (port === undefined) return;
    const s = u.sims.find((x) => x.portNo === port);
    if (s === undefined || s.domain !== 'running') return;
    const data = m.data;
    const f = parseFrame(data);
    if (f === undefined) return;
    const now = clock.now();
    if (f.arp !== undefined) {
      if (f.arp.op !== ARP_OP_REQUEST || f.arp.tpa !== s.spec.ip) return;
      const reply = buildArp({ op: ARP_OP_REPLY, ethDst: f.arp.sha, sha: s.spec.mac, spa: s.spec.ip, tha: f.arp.sha, tpa: f.arp.spa });
      later(now, () => guestSends(u, s, reply));
      return;
    }
    if (f.tcp !== undefined && f.tcp.src === PROBE_TCP_PORT && (f.tcp.flags & TCP_FLAG_SYN) !== 0 && f.ipv4 !== undefined) {
      // The guest's service is up once libvirt returned (the profile's wake includes the boot).
      const synAck = buildTcpFrame({ ethSrc: s.spec.mac, ethDst: f.src, src: s.spec.ip, dst: f.ipv4.src, srcPort: f.tcp.dst, dstPort: PROBE_TCP_PORT, flags: TCP_FLAG_SYN | TCP_FLAG_ACK });
      later(now, () => guestSends(u, s, synAck));
      return;
    }
    const at = f.tcp !== undefined ? 54 : f.udp !== undefined ? 42 : -1;
    if (at < 0 || data.length < at + 8 || data.readUInt32BE(at) !== MARK) return;
    const i = data.readUInt32BE(at + 4);
    const w = pending.get(i);
    if (w === undefined) return;
    pending.delete(i);
    s.latencies.push(now - w.at);
    // The rest of the flow follows its first packet, now that the VM answers.
    if (trace.packets[i]! > 1) countPackets(s, i, trace.packets[i]! - 1, trace.bytes[i]! * (1 - 1 / trace.packets[i]!), false);
  };

  const guestSends = (u: Unit, s: VmSim, frame: Buffer): void => {
    if (s.portNo === undefined) return;
    const r = s.table.lookup(fieldsOfFrame(s.portNo, frame), frame.length);
    const hit = r.flows[r.flows.length - 1];
    if (r.controller && hit !== undefined) dispatch(u, { type: 'packet_in', dpid: s.spec.dpid, inPort: s.portNo, cookie: hit.cookie, data: frame });
  };

  const fieldsOf = (s: VmSim, i: number): PacketFields => {
    const proto = trace.proto[i]!;
    const f: PacketFields = { in_port: CLIENT_PORT, eth_src: CLIENT_MAC, eth_dst: s.spec.mac, eth_type: 0x0800, ipv4_src: u32ToIp(trace.src[i]!), ipv4_dst: s.spec.ip, ip_proto: proto };
    if (proto === PROTO_TCP) {
      f.tcp_src = 40000;
      f.tcp_dst = trace.dport[i]!;
    } else if (proto === PROTO_UDP) {
      f.udp_src = 40000;
      f.udp_dst = trace.dport[i]!;
    } else if (proto === PROTO_ICMP) {
      f.icmpv4_type = 8;
      f.icmpv4_code = 0;
    }
    return f;
  };

  const frameOf = (s: VmSim, i: number): Buffer => {
    const base = { ethSrc: CLIENT_MAC, ethDst: s.spec.mac, src: u32ToIp(trace.src[i]!), dst: s.spec.ip };
    const proto = trace.proto[i]!;
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(MARK, 0);
    payload.writeUInt32BE(i, 4);
    if (proto === PROTO_TCP) return buildTcpFrame({ ...base, srcPort: 40000, dstPort: trace.dport[i]!, flags: TCP_FLAG_SYN, payload });
    if (proto === PROTO_UDP) return buildUdpFrame({ ...base, srcPort: 40000, dstPort: trace.dport[i]!, payload });
    return buildIcmpEchoRequest({ ...base, id: 1, seq: i & 0xffff });
  };

  /** Classifies a batch of a flow's packets by lookup (memoised per packet class while the VM's table is unchanged). */
  /** Where a flow's packets go now (memoised per packet class while the VM's table is unchanged); counts nothing. */
  const hitOf = (s: VmSim, i: number): Hit => {
    if (s.cacheVersion !== s.table.version) {
      s.cache.clear();
      s.cacheVersion = s.table.version;
    }
    const key = trace.src[i]! * 0x1000000 + trace.proto[i]! * 0x10000 + trace.dport[i]!;
    let hit = s.cache.get(key);
    if (hit === undefined) {
      const r = s.table.lookup(fieldsOf(s, i), 0);
      const flow = r.flows[r.flows.length - 1];
      if (flow !== undefined) flow.packetCount--; // the caller counts
      hit = { flow, controller: r.controller, activity: flow !== undefined && decodeCookie(flow.cookie)?.kind === KIND.ACTIVITY };
      s.cache.set(key, hit);
    }
    return hit;
  };

  const countPackets = (s: VmSim, i: number, packets: number, bytes: number, first: boolean): void => {
    const hit = hitOf(s, i);
    if (hit.flow === undefined) return; // no seamless entry: the L2 fabric's traffic
    if (hit.controller) {
      // Parked (or parking, waking): the first packet reaches the controller; a TCP
      // client sends nothing else before the handshake, so the rest follows its delivery.
      hit.flow.packetCount++;
      hit.flow.byteCount += bytes / packets;
      const proto = trace.proto[i]!;
      if (first && (proto === PROTO_TCP || proto === PROTO_UDP)) {
        s.metParked++;
        pending.set(i, { at: clock.now(), sim: s });
      }
      dispatch(s.unit, { type: 'packet_in', dpid: s.spec.dpid, inPort: CLIENT_PORT, cookie: hit.flow.cookie, data: frameOf(s, i) });
      return;
    }
    hit.flow.packetCount += packets;
    hit.flow.byteCount += bytes;
    if (hit.activity && !s.counterMoved) {
      s.counterMoved = true;
      if (!fullFidelity) reschedulePoll(s.unit);
    }
  };

  // Start-up as the live controller does it: libvirt reports every domain running, the switch connects, polling starts.
  for (const u of units) {
    for (const s of u.sims) dispatch(u, { type: 'restore', vm: s.spec.name, record: undefined, libvirt: 'running' });
    for (const dpid of dpids) {
      const ports = [...sinkPorts, ...u.sims.filter((s) => s.spec.dpid === dpid).map((s) => ({ portNo: s.portNo!, name: s.spec.port }))];
      if (u.sims.some((s) => s.spec.dpid === dpid)) dispatch(u, { type: 'switch_up', dpid, ports, meters: false });
    }
    dispatch(u, { type: 'start' });
  }

  const progressEvery = 1 << 16;
  for (let i = 0; i < trace.n; i++) {
    const t = trace.start[i]!;
    if (t > summary.endMs) break;
    clock.runUntil(t);
    const s = simOf[vmOf[i]!];
    if (s !== undefined) {
      s.cursor++;
      const times = packetTimes(t, trace.durMs[i]!, trace.packets[i]!, P);
      if (times.length > 1) s.longUntil = Math.max(s.longUntil, times[times.length - 1]!);
      if (times.length === 1) countPackets(s, i, trace.packets[i]!, trace.bytes[i]!, true);
      else {
        // A long flow: its packets in batches, one per poll interval (packetTimes).
        const per = Math.floor(trace.packets[i]! / times.length);
        const bytesPer = trace.bytes[i]! / times.length;
        countPackets(s, i, trace.packets[i]! - per * (times.length - 1), bytesPer, true);
        for (let k = 1; k < times.length; k++) later(times[k]!, () => countPackets(s, i, per, bytesPer, false));
      }
    }
    if (opts.onProgress && (i & (progressEvery - 1)) === 0) opts.onProgress(i, trace.n);
  }
  clock.runUntil(summary.endMs);
  opts.onProgress?.(trace.n, trace.n);

  // Close the books at the trace's end: time in the current phase, a park still running (its wake not paid).
  const end = summary.endMs;
  const seconds = (end - t0) / 1000;
  const vms: VmPart[] = [];
  for (const u of units) {
    for (const s of u.sims) {
      s.time[s.phase] += end - s.since;
      if (s.phase === 'parked') s.byteMs += s.releasedBytes * (end - s.parkedSince);
      const power = s.spec.power ?? DEFAULT_POWER_PROFILE;
      const v = u.state.vms.get(s.spec.name)!;
      if (v.parkStartedAt !== undefined && power.depths[s.spec.depth as EnergyDepth] !== undefined) {
        s.saved += energySavedSoFar(power, s.spec.depth as EnergyDepth, (end - v.parkStartedAt) / 1000, v.memory?.residentBytes ?? 0, v.memory?.releasedBytes ?? 0);
      }
      let lost = 0;
      for (const w of pending.values()) if (w.sim === s) lost++;
      vms.push({
        vm: s.spec.name,
        alwaysOn: alwaysOnWatts(power, profile.residentBytes) * seconds,
        saved: s.saved,
        byteMs: s.byteMs,
        parks: s.parks,
        wakes: s.wakes,
        met: s.metParked,
        lost,
        timeMs: PHASES.map((ph) => s.time[ph]),
        latencies: s.latencies,
      });
    }
  }
  return { policy: opts.policy, ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }), vms };
}

/** One VM's raw tallies (a worker's share of a run is a list of these). */
export interface VmPart {
  readonly vm: string;
  readonly alwaysOn: number;
  readonly saved: number;
  readonly byteMs: number;
  readonly parks: number;
  readonly wakes: number;
  readonly met: number;
  readonly lost: number;
  /** Per phase, in PHASES order (ms). */
  readonly timeMs: number[];
  readonly latencies: number[];
}

export interface PartResult {
  readonly policy: string;
  readonly idleTimeoutMs?: number;
  readonly vms: VmPart[];
}

/** Replays a prepared trace under one policy; deterministic for a seed. */
export function replay(p: PreparedTrace, opts: ReplayOptions): PolicyResult {
  const wall = performance.now();
  return assemble([replayPart(p, opts)], p.summary, (performance.now() - wall) / 1000);
}

/**
 * The result of a run from its parts (one per worker): totals summed in VM
 * name order, so the figures do not depend on how the VMs were split.
 */
export function assemble(parts: readonly PartResult[], summary: TraceSummary, wallSeconds: number): PolicyResult {
  const vms = parts.flatMap((x) => x.vms).sort((a, b) => (a.vm < b.vm ? -1 : a.vm > b.vm ? 1 : 0));
  const first = parts[0]!;
  let alwaysOn = 0;
  let saved = 0;
  let byteMs = 0;
  let wakes = 0;
  let met = 0;
  let lost = 0;
  const timeMs = PHASES.map(() => 0);
  const all: number[] = [];
  for (const v of vms) {
    alwaysOn += v.alwaysOn;
    saved += v.saved;
    byteMs += v.byteMs;
    wakes += v.wakes;
    met += v.met;
    lost += v.lost;
    v.timeMs.forEach((ms, k) => (timeMs[k]! += ms));
    for (const l of v.latencies) all.push(l);
  }
  const vmDays = vms.length * summary.days;
  const r: PolicyResult = {
    policy: first.policy,
    alwaysOnJoules: round3(alwaysOn),
    savedJoules: round3(saved),
    savedPct: alwaysOn > 0 ? round3((100 * saved) / alwaysOn) : 0,
    ofOraclePct: null,
    memoryByteHoursSaved: round3(byteMs / 3_600_000),
    wakes,
    wakesPerVmDay: vmDays > 0 ? round3(wakes / vmDays) : 0,
    addedLatencyMs: summariseLatency(all),
    flowsMetParked: met,
    timeInStateSeconds: Object.fromEntries(PHASES.map((ph, k) => [ph, round3(timeMs[k]! / 1000)])) as Record<Phase, number>,
    perVm: vms.map((v) => ({ vm: v.vm, savedJoules: round3(v.saved), parks: v.parks, wakes: v.wakes, p99AddedMs: summariseLatency(v.latencies).p99, flowsMetParked: v.met })),
    flowsLost: lost,
    replaySeconds: round3(wallSeconds),
  };
  return first.idleTimeoutMs === undefined ? r : { ...r, idleTimeoutMs: first.idleTimeoutMs };
}
