// The parking state machine: `step(state, event, now) -> { state, out, consumed }`.
// Pure and deterministic: no sockets, no libvirt, no timers, no wall clock. Every
// side effect is an Output the runtime shell (app.ts) executes in order, and
// every result (barrier reply, libvirt outcome, timer, counters) comes back as an
// event. Per VM: ACTIVE -> PARKING -> PARKED -> WAKING -> ACTIVE, plus WAKE_FAILED
// and UNKNOWN (libvirt has not confirmed the domain's state yet); every transition
// carries a named reason from the closed set PARK_REASONS. See docs/parking.md.
import { Map as PMap } from 'immutable';
import type { Depth, Inventory, VmSpec } from '../inventory/types.js';
import type { DomainRunState } from '../libvirt/hypervisor.js';
import type { WakeKind } from './hypervisor.js';
import { parkMemoryFrom } from '../energy/released.js';
import type { OfpMessage } from '../openflow/types.js';
import { buildArpReplyFor, buildArpRequest, buildIcmpEchoReply, buildTcpFrame } from '../packet/build.js';
import { ARP_OP_REPLY, ARP_OP_REQUEST, ICMP_ECHO_REQUEST, IP_PROTO_TCP, IP_PROTO_UDP, parseFrame, TCP_FLAG_ACK, TCP_FLAG_RST, TCP_FLAG_SYN, type ParsedFrame } from '../packet/parse.js';
import {
  activityFlows,
  decodeCookie,
  parkIgnoreFlows,
  deleteKind,
  KIND,
  meterAdds,
  packetOut,
  parkFlows,
  PROBE_TCP_ISN,
  PROBE_TCP_PORT,
  probeFlow,
  serviceProbeFlows,
  type FlowVm,
} from './flows.js';
import type { ParkRecord } from './store.js';
import { assignVmIds } from './ids.js';
import { breakEvenSeconds, energySaved, energySavedSoFar } from '../energy/model.js';
import { bootsCold, energyDepthOf, keepsPort, ladderOf, nextRung, reachedAfterMs } from './depth.js';
import { EMPTY_LEARNED, learnIdle, resolvePolicy, type PolicyInput } from './policy/index.js';
import { DEFAULT_POWER_PROFILE } from '../energy/profile.js';
export * from './model.js';
import type { CountDelta, FabricPaths, LibvirtOp, LogLevel, MemoryMeasurement, VmEnergy, MachineConfig, MachineState, Output, ParkEvent, ParkReason, Phase, Step, StepResult, SwitchState, TimerKey, VmCounters, VmState } from './model.js';

const ZERO_COUNTERS: VmCounters = { parks: 0, wakes: 0, parkFailures: 0, wakeFailures: 0, heldDropped: 0, arpAnswered: 0, icmpAnswered: 0, ignored: 0 };
const ZERO_ENERGY: VmEnergy = { savedJoules: 0, unprofitableParks: 0, periods: 0 };

/** Builds the machine's configuration from an inventory. */
export function configFromInventory(inv: Inventory): MachineConfig {
  // Cookie and meter ids from the VM's name (ids.ts), not its position; throws VmIdError on a collision.
  const ids = assignVmIds(inv.vms);
  const vms = inv.vms.map((v, i) => ({ ...v, ...ids[i]! }));
  const minIdle = Math.min(...vms.map((v) => v.idleTimeoutMs), 60_000);
  // A quarter of the smallest idle timeout, within [250 ms, 15 s]: idleness is
  // then detected at most 25 % late, and a large fleet is not polled too often.
  const pollIntervalMs = inv.park.pollIntervalMs ?? Math.min(15_000, Math.max(250, Math.floor(minIdle / 4)));
  return {
    vms,
    byName: new Map(vms.map((v) => [v.name, v])),
    byMac: new Map(vms.map((v) => [v.mac, v])),
    byIp: new Map(vms.map((v) => [v.ip, v])),
    sinks: inv.sinks,
    park: inv.park,
    pollIntervalMs,
    hostOps: new Map((inv.hypervisors ?? []).map((h) => [h.uri, h.maxConcurrentOps])),
    fabric: false,
    hostBySwitch: new Map((inv.hypervisors ?? []).flatMap((h) => (h.dpid === undefined ? [] : [[h.dpid, h.uri] as const]))),
  };
}

/**
 * Every VM UNKNOWN until a `restore` (or a later `libvirt_state`) says what
 * libvirt and the store know: nothing is routed to a domain nobody has seen
 * running, and the API says "unknown" rather than "active" meanwhile. No switch known.
 */
export function initialState(config: MachineConfig, now: number): MachineState {
  const vms = PMap<string, VmState>().withMutations((m) => {
    for (const v of config.vms) m.set(v.name, newVm(v, now));
  });
  return { vms, switches: new Map(), opsInFlight: new Map(), opQueue: [], libvirtGen: new Map() };
}

function newVm(s: VmSpec, now: number): VmState {
  return {
    name: s.name,
    dpid: s.dpid,
    uri: s.libvirt.uri,
    phase: 'unknown',
    step: 'none',
    since: now,
    activeSince: now,
    lastChangeAt: now,
    opSeq: 0,
    opInFlight: false,
    opGen: 0,
    barrierSeq: 0,
    held: [],
    wakeRequested: false,
    attempt: 0,
    seenUp: false,
    counters: ZERO_COUNTERS,
    energy: ZERO_ENERGY,
    escalateFailures: 0,
    segmentsSavedJoules: 0,
    learned: EMPTY_LEARNED,
  };
}

/**
 * Working copy for one step, outputs collected in order. VM records change in a
 * transient (mutable-in-place) version of the persistent map made on the first
 * change: O(log32 n) node copies per step, not a copy of every VM; the base
 * state is never touched. The small maps (switches) are copied on write.
 */
class Ctx {
  vms: PMap<string, VmState> | undefined;
  switches: Map<bigint, SwitchState> | undefined;
  libvirtGen: Map<string, number> | undefined;
  opsInFlight: Map<string, number> | undefined;
  opQueue: string[] | undefined;
  /** Set by a `paths` event (undefined: unchanged). */
  paths: FabricPaths | undefined;
  readonly out: Output[] = [];
  readonly counts: CountDelta[] = [];
  consumed = false;

  constructor(
    readonly cfg: MachineConfig,
    readonly base: MachineState,
    readonly now: number,
  ) {}

  vm(name: string): VmState {
    return (this.vms ?? this.base.vms).get(name)!;
  }

  set(vm: VmState): void {
    this.vms ??= this.base.vms.asMutable();
    this.vms.set(vm.name, vm);
  }

  patch(name: string, p: Partial<VmState>): VmState {
    const v = { ...this.vm(name), ...p } as VmState;
    this.set(v);
    return v;
  }

  count(name: string, key: keyof VmCounters, n = 1): void {
    const v = this.vm(name);
    this.patch(name, { counters: { ...v.counters, [key]: v.counters[key] + n } });
    this.counts.push({ vm: name, key, n });
  }

  sw(dpid: bigint): SwitchState | undefined {
    return (this.switches ?? this.base.switches).get(dpid);
  }

  setSw(dpid: bigint, s: SwitchState): void {
    this.switches ??= new Map(this.base.switches);
    this.switches.set(dpid, s);
  }

  gen(uri: string): number {
    return (this.libvirtGen ?? this.base.libvirtGen).get(uri) ?? 0;
  }

  bumpGen(uri: string): void {
    this.libvirtGen ??= new Map(this.base.libvirtGen);
    this.libvirtGen.set(uri, this.gen(uri) + 1);
  }

  /** libvirt operations in flight on the host at `uri`. */
  ops(uri: string): number {
    return (this.opsInFlight ?? this.base.opsInFlight).get(uri) ?? 0;
  }

  addOps(uri: string, n: number): void {
    this.opsInFlight ??= new Map(this.base.opsInFlight);
    const v = this.ops(uri) + n;
    if (v === 0) this.opsInFlight.delete(uri);
    else this.opsInFlight.set(uri, v);
  }

  queue(): string[] {
    this.opQueue ??= [...this.base.opQueue];
    return this.opQueue;
  }

  send(dpid: bigint, msgs: OfpMessage[]): void {
    if (msgs.length === 0 || !this.sw(dpid)?.up) return;
    this.out.push({ kind: 'send', dpid, msgs });
  }

  log(level: LogLevel, vm: string | undefined, msg: string): void {
    this.out.push(vm === undefined ? { kind: 'log', level, msg } : { kind: 'log', level, vm, msg });
  }

  result(): StepResult {
    const b = this.base;
    const state: MachineState =
      this.vms || this.switches || this.opQueue || this.libvirtGen || this.opsInFlight || this.paths
        ? {
            vms: this.vms?.asImmutable() ?? b.vms,
            switches: this.switches ?? b.switches,
            opsInFlight: this.opsInFlight ?? b.opsInFlight,
            opQueue: this.opQueue ?? b.opQueue,
            libvirtGen: this.libvirtGen ?? b.libvirtGen,
            paths: this.paths ?? b.paths,
          }
        : b;
    return { state, out: this.out, consumed: this.consumed, counts: this.counts };
  }
}

/** Advances the machine by one event at time `now` (ms, from the injected clock). */
export function step(cfg: MachineConfig, state: MachineState, event: ParkEvent, now: number): StepResult {
  const c = new Ctx(cfg, state, now);
  switch (event.type) {
    case 'start':
      c.out.push({ kind: 'set_timer', key: { kind: 'poll' }, at: now + cfg.pollIntervalMs });
      break;
    case 'restore':
      if (cfg.byName.has(event.vm)) onRestore(c, event.vm, event.record, event.libvirt);
      break;
    case 'switch_up':
      onSwitchUp(c, event.dpid, event.ports, event.meters);
      break;
    case 'switch_down': {
      const s = c.sw(event.dpid);
      if (s) c.setSw(event.dpid, { ...s, up: false });
      break;
    }
    case 'port_status':
      onPortStatus(c, event);
      break;
    case 'flow_counts':
      onCounts(c, event.dpid, event.counts);
      break;
    case 'packet_in':
      onPacketIn(c, event.dpid, event.inPort, event.cookie, event.data);
      break;
    case 'barrier_done':
      if (cfg.byName.has(event.vm)) onBarrierDone(c, event.vm, event.seq);
      break;
    case 'barrier_failed':
      if (cfg.byName.has(event.vm)) onBarrierFailed(c, event.vm, event.seq, event.error);
      break;
    case 'persist_done':
    case 'persist_failed':
      if (cfg.byName.has(event.vm)) onPersistResult(c, event.vm, event.seq, event.type === 'persist_done' ? undefined : event.error);
      break;
    case 'libvirt_done':
    case 'libvirt_failed':
      if (cfg.byName.has(event.vm)) {
        if (event.type === 'libvirt_done') onLibvirtResult(c, event.vm, event.seq, undefined, undefined, event.woke, event.memory);
        else onLibvirtResult(c, event.vm, event.seq, event.error, event.code, undefined, undefined);
      }
      break;
    case 'libvirt_up':
      onLibvirtUp(c, event.uri);
      break;
    case 'libvirt_changed':
      if (cfg.byName.has(event.vm)) readState(c, event.vm);
      break;
    case 'libvirt_state':
      if (cfg.byName.has(event.vm)) onLibvirtState(c, event.vm, event.seq, event.state, event.error);
      break;
    case 'timer':
      onTimer(c, event.key);
      break;
    case 'paths':
      onPaths(c, event.paths);
      break;
    case 'park_now': {
      const v = cfg.byName.has(event.vm) ? c.vm(event.vm) : undefined;
      if (v?.phase === 'active' && v.step === 'none') beginPark(c, v.name, 'operator-park');
      else c.log('warn', event.vm, `park request ignored: VM is ${v ? v.phase : 'unknown'}`);
      break;
    }
    case 'wake_now': {
      const v = cfg.byName.has(event.vm) ? c.vm(event.vm) : undefined;
      if (v?.phase === 'parked' || v?.phase === 'wake_failed' || v?.phase === 'unknown') beginWake(c, v.name, 'operator-wake');
      else if (v?.phase === 'parking' && v.nextRung !== undefined) wakeDuringEscalation(c, v.name);
      else c.log('warn', event.vm, `wake request ignored: VM is ${v ? v.phase : 'unknown'}`);
      break;
    }
  }
  return c.result();
}

// ---------------------------------------------------------------------------
// transitions
// ---------------------------------------------------------------------------

function transition(c: Ctx, name: string, to: Phase, stepTo: Step, reason: ParkReason, p: Partial<VmState> = {}, durationMs?: number, energySavedJoules?: number): VmState {
  const before = c.vm(name);
  const from = before.phase;
  const v = c.patch(name, { ...p, phase: to, step: stepTo, since: c.now });
  // The depth this transition is about: an escalation's target, else the depth the VM
  // is (or was, for a wake that just ended) parked at, else its first rung.
  const depth = to === 'parking' && v.nextRung !== undefined ? ladderOf(spec(c, name))[v.nextRung]!.depth : (v.depth ?? before.depth ?? spec(c, name).depth);
  const o: Extract<Output, { kind: 'transition' }> = { kind: 'transition', vm: name, from, to, reason, depth };
  if (durationMs !== undefined) o.durationMs = durationMs;
  if (from === 'parking' && to === 'parked' && v.memory !== undefined) o.memoryReleasedBytes = v.memory.releasedBytes;
  if (energySavedJoules !== undefined) o.energySavedJoules = energySavedJoules;
  c.out.push(o);
  return v;
}

function persist(c: Ctx, name: string, state: ParkRecord['state'], seq?: number): void {
  const v = c.vm(name);
  const s = spec(c, name);
  // Where it runs, once it left its inventory host or switch: a restart finds it there.
  const moved = v.uri !== s.libvirt.uri || v.dpid !== s.dpid;
  const record: ParkRecord = moved ? { state, depth: currentDepth(c, name), since: c.now, uri: v.uri, dpid: v.dpid } : { state, depth: currentDepth(c, name), since: c.now };
  c.out.push(seq === undefined ? { kind: 'persist', vm: name, record } : { kind: 'persist', vm: name, record, seq });
}

function spec(c: Ctx, name: string): VmSpec & FlowVm {
  return c.cfg.byName.get(name)!;
}

/** The depth the VM is parked at now (VmState.depth); its first rung when it is not parked. */
function currentDepth(c: Ctx, name: string): Depth {
  return c.vm(name).depth ?? spec(c, name).depth;
}

/**
 * Where the VM's ignored traffic leaves switch `dpid`: the sink's port on the
 * sink's switch; on a fabric, elsewhere, the next hop toward the sink's switch
 * along the live topology; undefined (dropped) otherwise or without a path.
 */
function sinkPortOn(c: Ctx, vm: VmSpec, dpid: bigint): number | undefined {
  if (vm.sink === undefined) return undefined;
  const sink = c.cfg.sinks.find((s) => s.name === vm.sink);
  if (!sink) return undefined;
  if (sink.dpid === dpid) return typeof sink.port === 'number' ? sink.port : c.sw(dpid)?.ports.get(sink.port);
  return c.cfg.fabric ? (c.paths ?? c.base.paths)?.toward.get(sink.dpid)?.get(dpid) : undefined;
}

/** Whether the VM's controller-bound entries on switch `dpid` go through its meters (flows.ts meterIds): meter support is per switch. */
function metered(c: Ctx, dpid: bigint): boolean {
  return c.sw(dpid)?.meters === true && c.cfg.park.meterRate > 0;
}

/** The VM's park entries for switch `dpid`. */
function parkFlowsOn(c: Ctx, name: string, dpid: bigint): OfpMessage[] {
  const s = spec(c, name);
  return parkFlows(s, sinkPortOn(c, s, dpid), metered(c, dpid));
}

/** Switches that are up, in the order they came up. */
function upSwitches(c: Ctx): bigint[] {
  const out: bigint[] = [];
  for (const [d, s] of c.switches ?? c.base.switches) if (s.up) out.push(d);
  return out;
}

/**
 * Sends `msgs(dpid)` to every switch that carries the VM's park and probe
 * entries: on a fabric every switch that is up (a request is answered, and a
 * wake caught, where the packet enters), else the VM's own switch only. The
 * VM's own switch first.
 */
function toParkSwitches(c: Ctx, name: string, msgs: (dpid: bigint, own: boolean) => OfpMessage[]): void {
  const own = c.vm(name).dpid;
  c.send(own, msgs(own, true));
  if (!c.cfg.fabric) return;
  for (const d of upSwitches(c)) if (d !== own) c.send(d, msgs(d, false));
}

/** The VM's host bound on concurrent libvirt operations. */
function hostLimit(c: Ctx, uri: string): number {
  return c.cfg.hostOps?.get(uri) ?? c.cfg.park.maxConcurrentOps;
}

/** Asks for a libvirt slot on the VM's host; the operation runs now or when a slot there frees (FIFO per host). */
function requestOp(c: Ctx, name: string): void {
  const uri = c.vm(name).uri;
  if (c.ops(uri) < hostLimit(c, uri)) {
    issueOp(c, name);
  } else {
    c.patch(name, { step: 'queued' });
    c.queue().push(name);
  }
}

function issueOp(c: Ctx, name: string): void {
  const v = c.vm(name);
  const op: LibvirtOp = v.phase === 'parking' ? 'park' : 'wake';
  // The host that runs the VM now: its inventory host, or the one it moved to.
  const uri = v.uri;
  c.addOps(uri, 1);
  const seq = v.opSeq + 1;
  c.patch(name, { step: 'libvirt', opSeq: seq, opInFlight: true, opGen: c.gen(uri), opUri: uri });
  if (op === 'wake') {
    c.out.push({ kind: 'libvirt', vm: name, op, seq, uri });
    return;
  }
  // A first park goes to the first rung; an escalation to the rung it was armed for.
  const s = spec(c, name);
  const depth = v.nextRung === undefined ? s.depth : ladderOf(s)[v.nextRung]!.depth;
  c.out.push({ kind: 'libvirt', vm: name, op, seq, uri, depth });
}

function releaseSlot(c: Ctx, name: string): void {
  const v = c.vm(name);
  if (!v.opInFlight) return;
  c.patch(name, { opInFlight: false });
  // The slot is the host's the operation was issued on, even if the VM has moved since.
  const uri = v.opUri ?? v.uri;
  c.addOps(uri, -1);
  // The freed slot goes to the oldest waiter of the same host; other hosts' waiters are not held by this one.
  const q = c.queue();
  for (let i = 0; i < q.length && c.ops(uri) < hostLimit(c, uri); ) {
    const next = q[i]!;
    if (c.vm(next).uri !== uri) {
      i++;
      continue;
    }
    q.splice(i, 1);
    if (c.vm(next).step === 'queued') issueOp(c, next);
  }
}

function dequeue(c: Ctx, name: string): void {
  if (!(c.opQueue ?? c.base.opQueue).includes(name)) return;
  c.opQueue = c.queue().filter((n) => n !== name);
}

function beginPark(c: Ctx, name: string, reason: ParkReason): void {
  const seq = c.vm(name).barrierSeq + 1;
  // The idle period began with the last activity seen: the ladder's later rungs count from it.
  const idleSince = Math.min(c.vm(name).lastChangeAt, c.now);
  transition(c, name, 'parking', 'flows', reason, { barrierSeq: seq, held: [], wakeRequested: false, parkStartedAt: c.now, idleSince, segmentStartedAt: c.now, segmentsSavedJoules: 0, nextRung: undefined, escalateFailures: 0, depth: undefined });
  // The park flows must be in the switch (barrier reply) before libvirt stops the VM: never a black hole.
  // On a fabric the VM's own switch is the one confirmed: every path to the VM ends there,
  // so a packet that entered a switch not yet updated is still caught before the VM.
  toParkSwitches(c, name, (d) => parkFlowsOn(c, name, d));
  c.out.push({ kind: 'barrier', dpid: c.vm(name).dpid, vm: name, seq });
}

/**
 * Back to ACTIVE while the VM still runs (park aborted or failed): held packets
 * go to the VM port, then the park flows are removed. The activity flows were
 * never removed, so traffic flows as soon as the deletes apply.
 */
function unpark(c: Ctx, name: string, reason: ParkReason, error?: string): void {
  const s = spec(c, name);
  if (reason === 'park-aborted-by-traffic') sawActivity(c, name);
  const v = c.vm(name);
  dequeue(c, name);
  const msgs: OfpMessage[] = [];
  if (v.portNo !== undefined) for (const p of v.held) msgs.push(packetOut(v.portNo, p));
  else if (v.held.length > 0) c.count(name, 'heldDropped', v.held.length);
  // No idle period to account: the VM never stopped (a failed park's own cost is not modelled).
  const p: { -readonly [K in keyof VmState]?: VmState[K] } = { held: [], wakeRequested: false, activeSince: c.now, lastChangeAt: c.now, barrierSeq: v.barrierSeq + 1, ...NO_IDLE_PERIOD };
  if (error !== undefined) {
    const failures = v.counters.parkFailures + 1;
    p.lastError = error;
    p.lastFailure = { error, at: c.now };
    p.parkNotBefore = c.now + backoff(c, failures);
    c.count(name, 'parkFailures');
    c.log('error', name, `park failed, VM kept active: ${error}`);
  }
  transition(c, name, 'active', 'none', reason, p);
  toParkSwitches(c, name, (_d, own) => (own ? [...msgs, deleteKind(s.id, KIND.PARK)] : [deleteKind(s.id, KIND.PARK)]));
  c.out.push({ kind: 'barrier', dpid: v.dpid });
  // The record says 'parked' from the moment the intent was written (barrier confirmed).
  if (v.phase === 'parking' && (v.step === 'persisting' || v.step === 'queued' || v.step === 'libvirt')) persist(c, name, 'active');
}

/** The idle-period and escalation fields of a VM that is active again. */
const NO_IDLE_PERIOD = { parkStartedAt: undefined, idleSince: undefined, segmentStartedAt: undefined, segmentsSavedJoules: 0, depth: undefined, nextRung: undefined, escalateFailures: 0 } as const;

function backoff(c: Ctx, attempt: number): number {
  return Math.min(c.cfg.park.retryBackoffMaxMs, c.cfg.park.retryBackoffMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Wake wanted while an escalation runs. libvirt busy with it: woken right after it
 * (packet-during-parking, like a first park). Still waiting for a libvirt slot:
 * the escalation is dropped and the VM woken from the depth it is at.
 */
function wakeDuringEscalation(c: Ctx, name: string): void {
  if (c.vm(name).step === 'libvirt') {
    c.patch(name, { wakeRequested: true });
    return;
  }
  dequeue(c, name);
  beginWake(c, name, 'packet');
}

function beginWake(c: Ctx, name: string, reason: ParkReason): void {
  const s = spec(c, name);
  // The wake is from the depth the VM is at: no escalation from here on.
  c.out.push({ kind: 'cancel_timer', key: { kind: 'escalate', vm: name } });
  if (c.vm(name).nextRung !== undefined) c.patch(name, { nextRung: undefined, escalateFailures: 0 });
  // A packet is activity: it ends the idle period the policy learns from (a pre-wake or an operator's wake is not).
  if (reason === 'packet' || reason === 'packet-during-parking' || reason === 'packet-retry') sawActivity(c, name);
  clearPreWake(c, name);
  transition(c, name, 'waking', 'queued', reason, { attempt: 0, wakeStartedAt: c.now, wakeRequested: false, lastError: undefined, coldBoot: undefined, libvirtLostAt: undefined });
  toParkSwitches(c, name, (d) => [probeFlow(s, c.cfg.park.probeMac, metered(c, d))]);
  requestOp(c, name);
}

function startProbe(c: Ctx, name: string): void {
  c.patch(name, { step: 'probe' });
  sendProbe(c, name);
}

function sendProbe(c: Ctx, name: string): void {
  const s = spec(c, name);
  const v = c.vm(name);
  if (v.portNo !== undefined) {
    const { probeMac, probeIp } = c.cfg.park;
    const frame =
      v.step === 'service' && v.probePort !== undefined
        ? buildTcpFrame({ ethSrc: probeMac, ethDst: s.mac, src: probeIp, dst: s.ip, srcPort: PROBE_TCP_PORT, dstPort: v.probePort, flags: TCP_FLAG_SYN, seq: PROBE_TCP_ISN })
        : buildArpRequest(probeMac, probeIp, s.ip, s.mac);
    c.send(v.dpid, [packetOut(v.portNo, frame)]);
  }
  c.out.push({ kind: 'set_timer', key: { kind: 'probe', vm: name }, at: c.now + c.cfg.park.probeIntervalMs });
}

/**
 * A cold-booted guest answers ARP as soon as its kernel has the address, seconds
 * before its services listen: a held SYN delivered then would be answered with
 * RST, a refused connection. So its wake also waits until a gateway port answers
 * a SYN with SYN-ACK. That is every wake at depth shutdown, and a wake of a
 * pause/save guest that libvirt had to boot (its image was removed, or an
 * operator shut it down). Paused and restored guests resume with their sockets
 * listening, and skip this step. Without a probe address (park.probeIp; the
 * inventory requires one for depth shutdown) only the ARP answer can be awaited.
 */
function needsServiceProbe(c: Ctx, s: VmSpec): boolean {
  if (s.gatewayPorts.length === 0 || c.cfg.park.probeIp === '0.0.0.0') return false;
  return bootsCold(currentDepth(c, s.name)) || c.vm(s.name).coldBoot === true;
}

/** The ARP probe was answered: probe the gateway port the first held SYN wants (else the first one). */
function startServiceProbe(c: Ctx, name: string): void {
  const s = spec(c, name);
  const v = c.vm(name);
  let port = s.gatewayPorts[0]!;
  for (const p of v.held) {
    const d = parseFrame(p)?.tcp?.dst;
    if (d !== undefined && s.gatewayPorts.includes(d)) {
      port = d;
      break;
    }
  }
  c.out.push({ kind: 'cancel_timer', key: { kind: 'probe', vm: name } });
  c.patch(name, { step: 'service', probePort: port });
  toParkSwitches(c, name, (d) => serviceProbeFlows(s, c.cfg.park.probeIp, port, metered(c, d)));
  // The entries must be in before the guest can answer the first SYN (§6.2).
  c.out.push({ kind: 'barrier', dpid: v.dpid });
  sendProbe(c, name);
}

/**
 * The VM answered: make-before-break. Activity flows to the CURRENT port, then
 * (barrier-ordered, §6.2) the held packets in arrival order, then the park and
 * probe flows go; the awaited barrier closes the wake.
 */
function startSwitching(c: Ctx, name: string): void {
  const s = spec(c, name);
  const v = c.vm(name);
  if (v.portNo === undefined) {
    // Not expected: the probe answers that lead here come in through the tap port. Said
    // loudly and handled as a failed attempt, so the wake can neither hang nor black-hole.
    c.log('error', name, `cannot switch flows: tap ${s.port} has no known port number (wake step ${v.step})`);
    // A previous switching may have removed them: the retry needs the park and probe entries back.
    toParkSwitches(c, name, (d) => [...parkFlowsOn(c, name, d), probeFlow(s, c.cfg.park.probeMac, metered(c, d))]);
    wakeAttemptFailed(c, name, `tap ${s.port} has no known port number when switching flows`);
    return;
  }
  c.out.push({ kind: 'cancel_timer', key: { kind: 'probe', vm: name } }, { kind: 'cancel_timer', key: { kind: 'deadline', vm: name } });
  const seq = v.barrierSeq + 1;
  c.patch(name, { step: 'switching', held: [], barrierSeq: seq });
  // Everything on the VM's CURRENT switch; the park and probe entries go from every switch that has them.
  c.send(v.dpid, activityFlows(s, v.portNo));
  c.out.push({ kind: 'barrier', dpid: v.dpid });
  c.send(v.dpid, v.held.map((p) => packetOut(v.portNo!, p)));
  toParkSwitches(c, name, () => [deleteKind(s.id, KIND.PARK), deleteKind(s.id, KIND.PROBE)]);
  c.out.push({ kind: 'barrier', dpid: v.dpid, vm: name, seq });
}

/**
 * The idle period that began with this engine's park ends now: its energy is
 * accounted (docs/energy.md, eq. 3) and a park that did not pay off is counted.
 * A VM found parked at start-up or by reconciliation has no known start: not accounted.
 */
function accountIdlePeriod(c: Ctx, name: string): number | undefined {
  const v = c.vm(name);
  if (v.parkStartedAt === undefined) return undefined;
  const s = spec(c, name);
  const depth = currentDepth(c, name);
  // An escalated period is a sum of segments (docs/energy.md): the shallower depths'
  // segments were accounted when each escalation ended; the last one, at the depth
  // woken from, pays its park and the wake (eq. 3).
  const segStart = v.segmentStartedAt ?? v.parkStartedAt;
  const last = { depth: energyDepthOf(depth), seconds: (c.now - segStart) / 1000, residentBytes: v.memory?.residentBytes ?? 0, releasedBytes: v.memory?.releasedBytes ?? 0 };
  const profile = s.power ?? DEFAULT_POWER_PROFILE;
  const saved = v.segmentsSavedJoules + energySaved(profile, last);
  const e = v.energy;
  const unprofitable = saved <= 0;
  c.patch(name, { parkStartedAt: undefined, segmentStartedAt: undefined, segmentsSavedJoules: 0, energy: { savedJoules: e.savedJoules + saved, unprofitableParks: e.unprofitableParks + (unprofitable ? 1 : 0), periods: e.periods + 1 } });
  if (unprofitable) c.log('info', name, `park did not pay off: idle ${((c.now - v.parkStartedAt) / 1000).toFixed(1)} s ending at depth ${depth} cost ${(-saved).toFixed(2)} J more than staying up`);
  return saved;
}

/**
 * Arms the escalate timer for the first rung from index `from` on that is deeper
 * than the VM's current depth, at the idle period's start plus that rung's
 * `after`; clears `nextRung` when the VM is as deep as its ladder goes.
 */
function armEscalation(c: Ctx, name: string, from: number): void {
  const v = c.vm(name);
  const ladder = ladderOf(spec(c, name));
  const i = nextRung(ladder, currentDepth(c, name), from);
  if (i === undefined) {
    if (v.nextRung !== undefined) c.patch(name, { nextRung: undefined });
    return;
  }
  c.patch(name, { nextRung: i });
  c.out.push({ kind: 'set_timer', key: { kind: 'escalate', vm: name }, at: Math.max(c.now, (v.idleSince ?? c.now) + ladder[i]!.afterMs) });
}

/** The escalate timer: a PARKED VM at rest parks again, deeper (PARKED -> PARKING, reason escalate). */
function onEscalateTimer(c: Ctx, name: string): void {
  const v = c.vm(name);
  if (v.phase !== 'parked' || v.step !== 'none' || v.nextRung === undefined) return;
  // The park entries are in place and the record says parked: only libvirt has work to do.
  transition(c, name, 'parking', 'queued', 'escalate', { held: [], wakeRequested: false });
  requestOp(c, name);
}

/**
 * An escalation's libvirt outcome. Done: PARKED at the deeper depth (`escalated`),
 * the finished segment's energy accounted, the next rung armed. Failed: PARKED at
 * the depth it was at (`escalate-failed`, nothing lost: the domain was paused or
 * saved and a wake reads its real state); the rung is retried once after the
 * backoff, then skipped for the next one. Either way a packet that came meanwhile wakes it now.
 */
function onEscalateResult(c: Ctx, name: string, error: string | undefined, memory: MemoryMeasurement | undefined): void {
  const v = c.vm(name);
  const s = spec(c, name);
  const rung = v.nextRung!;
  const from = currentDepth(c, name);
  const to = ladderOf(s)[rung]!.depth;
  const wakeNow = v.wakeRequested || v.held.length > 0;
  if (error !== undefined) {
    const failures = v.escalateFailures + 1;
    const retry = failures < 2 && !wakeNow;
    transition(c, name, 'parked', 'none', 'escalate-failed', { lastError: error, lastFailure: { error, at: c.now }, escalateFailures: retry ? failures : 0, wakeRequested: false });
    c.count(name, 'parkFailures');
    c.log('error', name, `escalation from ${from} to ${to} failed, VM stays parked at ${from}: ${error}; ${retry ? `retrying in ${backoff(c, failures)} ms` : 'rung skipped'}`);
    if (wakeNow) beginWake(c, name, 'packet-during-parking');
    else if (retry) c.out.push({ kind: 'set_timer', key: { kind: 'escalate', vm: name }, at: c.now + backoff(c, failures) });
    else armEscalation(c, name, rung + 1);
    if (!wakeNow) catchUpPreWake(c, name);
    return;
  }
  // The segment at the shallower depth ends: what it saved so far (its park paid, no wake).
  const profile = s.power ?? DEFAULT_POWER_PROFILE;
  const segStart = v.segmentStartedAt ?? v.parkStartedAt;
  const segSaved =
    segStart === undefined ? 0 : energySavedSoFar(profile, energyDepthOf(from), (c.now - segStart) / 1000, v.memory?.residentBytes ?? 0, v.memory?.releasedBytes ?? 0);
  // Released is counted against the RSS the VM had running (the first park's "before").
  const resident = v.memory?.residentBytes ?? memory?.beforeBytes;
  // What the host holds after this park (RSS + zram's copy), against the running footprint of the first park.
  const m = memory === undefined ? undefined : parkMemoryFrom(memory);
  const mem = m === undefined ? v.memory : resident === undefined ? m : { ...m, residentBytes: resident, releasedBytes: Math.max(0, resident - (m.residentBytes - m.releasedBytes)) };
  const p: { -readonly [K in keyof VmState]?: VmState[K] } = {
    depth: to,
    nextRung: undefined,
    escalateFailures: 0,
    lastError: undefined,
    memory: mem,
    segmentStartedAt: c.now,
    segmentsSavedJoules: v.segmentsSavedJoules + segSaved,
  };
  if (!keepsPort(to)) p.portNo = undefined;
  transition(c, name, 'parked', 'none', 'escalated', p);
  persist(c, name, 'parked');
  if (wakeNow) beginWake(c, name, 'packet-during-parking');
  else {
    armEscalation(c, name, rung + 1);
    catchUpPreWake(c, name);
  }
}

/**
 * A pre-wake whose time came while an escalation held the VM in PARKING was
 * ignored by its timer (onPreWake wakes only a VM at rest): run it now that the
 * VM is PARKED again, late by at most the escalation's libvirt time.
 */
function catchUpPreWake(c: Ctx, name: string): void {
  const at = c.vm(name).learned.preWakeAt;
  if (at !== undefined && c.now >= at) onPreWake(c, name);
}

function finishWake(c: Ctx, name: string, reason: ParkReason): void {
  const saved = accountIdlePeriod(c, name);
  const v = c.vm(name);
  const took = v.wakeStartedAt === undefined ? undefined : c.now - v.wakeStartedAt;
  // lastError described this wake's trouble; it is over (lastFailure keeps it for the operator).
  transition(c, name, 'active', 'none', reason, { activeSince: c.now, lastChangeAt: c.now, attempt: 0, lastCount: undefined, seenUp: true, probePort: undefined, coldBoot: undefined, lastError: undefined, libvirtLostAt: undefined, ...NO_IDLE_PERIOD }, took, saved);
  c.count(name, 'wakes');
  persist(c, name, 'active');
}

function wakeAttemptFailed(c: Ctx, name: string, error: string): void {
  const v = c.vm(name);
  const attempt = v.attempt + 1;
  c.out.push({ kind: 'cancel_timer', key: { kind: 'probe', vm: name } }, { kind: 'cancel_timer', key: { kind: 'deadline', vm: name } });
  c.count(name, 'wakeFailures');
  if (attempt <= c.cfg.park.wakeRetries) {
    const delay = backoff(c, attempt);
    c.patch(name, { step: 'backoff', attempt, lastError: error, lastFailure: { error, at: c.now }, libvirtLostAt: undefined });
    c.log('warn', name, `wake attempt ${attempt} failed (${error}); retrying in ${delay} ms`);
    c.out.push({ kind: 'set_timer', key: { kind: 'retry', vm: name }, at: c.now + delay });
    return;
  }
  giveUpWake(c, name, `wake failed after ${attempt} attempts`, error, { attempt });
}

/**
 * Give up: park flows keep answering ARP (not ICMP: nobody can vouch for a VM
 * that cannot be woken); held packets are dropped; the next packet retries.
 */
function giveUpWake(c: Ctx, name: string, what: string, error: string, p: Partial<VmState> = {}): void {
  const v = c.vm(name);
  const s = spec(c, name);
  const dropped = v.held.length;
  c.out.push({ kind: 'cancel_timer', key: { kind: 'retry', vm: name } });
  transition(c, name, 'wake_failed', 'none', 'wake-gave-up', { ...p, held: [], lastError: error, lastFailure: { error, at: c.now }, libvirtLostAt: undefined });
  if (dropped > 0) c.count(name, 'heldDropped', dropped);
  c.log('error', name, `${what}, ${dropped} held packets dropped: ${error}`);
  toParkSwitches(c, name, () => [deleteKind(s.id, KIND.PROBE)]);
}

/**
 * A wake attempt lost its libvirt connection (libvirtd restarted or unreachable):
 * not an error of the operation, so it is retried the moment the adapter
 * reconnects (`libvirt_up`) instead of after the backoff, and it does not use up
 * a retry. wakeDomain reads the state first, so whatever the lost call did is
 * safe to repeat. Bounded: a wake waits at most wakeTimeout in total for libvirt.
 */
function wakeLostLibvirt(c: Ctx, name: string, error: string, opGen: number): void {
  const v = c.vm(name);
  const s = spec(c, name);
  const lostAt = v.libvirtLostAt ?? c.now;
  c.count(name, 'wakeFailures');
  c.patch(name, { lastError: error, lastFailure: { error, at: c.now }, libvirtLostAt: lostAt });
  if (c.now - lostAt >= s.wakeTimeoutMs) {
    giveUpWake(c, name, `wake failed: libvirt unreachable for ${c.now - lostAt} ms`, error, { attempt: v.attempt + 1 });
    return;
  }
  if (c.gen(v.opUri ?? v.uri) > opGen) {
    // The adapter reconnected while this operation was failing: retry at once.
    c.log('info', name, `libvirt connection lost during the wake (${error}); libvirt is back, retrying now`);
    requestOp(c, name);
    return;
  }
  c.patch(name, { step: 'backoff' });
  c.log('warn', name, `libvirt connection lost during the wake (${error}); retrying as soon as libvirt is reachable again (for at most ${lostAt + s.wakeTimeoutMs - c.now} ms)`);
  // Fallback for an adapter that cannot report reconnects: the usual backoff, within the bound.
  c.out.push({ kind: 'set_timer', key: { kind: 'retry', vm: name }, at: Math.min(c.now + backoff(c, v.attempt + 1), lostAt + s.wakeTimeoutMs) });
}

function hold(c: Ctx, name: string, data: Buffer): void {
  const v = c.vm(name);
  if (v.held.length >= spec(c, name).maxHeld) {
    c.count(name, 'heldDropped');
    if (v.counters.heldDropped === 0) c.log('warn', name, `hold queue full (${v.held.length}); dropping packets until the VM is up`);
    return;
  }
  // The packet-in buffer is a view into the receive frame: copy what we keep.
  c.patch(name, { held: [...v.held, Buffer.from(data)] });
  c.counts.push({ vm: name, key: 'held', n: 1 });
}

// ---------------------------------------------------------------------------
// event handlers
// ---------------------------------------------------------------------------

function onRestore(c: Ctx, name: string, record: ParkRecord | undefined, libvirt: DomainRunState | undefined): void {
  if (c.vm(name).phase !== 'unknown') return; // restored once already
  if (record?.uri !== undefined || record?.dpid !== undefined) {
    // It had moved before the restart: its host (and switch) are where it was last seen, until it shows up elsewhere.
    const v = c.patch(name, { uri: record.uri ?? c.vm(name).uri, dpid: record.dpid ?? c.vm(name).dpid });
    c.log('info', name, `restored on host ${v.uri}, switch ${v.dpid.toString(16).padStart(16, '0')} (where it was last seen)`);
  }
  if (record?.state === 'parked') {
    // Parked (or mid-operation) before the restart: keep it parked; a packet wakes it,
    // and the wake operation is idempotent whatever state libvirt left it in.
    // At the depth it had reached (the record keeps it), assumed reached just now: the
    // engine's clock does not survive the restart, so later rungs come no earlier than due.
    const ladder = ladderOf(spec(c, name));
    transition(c, name, 'parked', 'none', 'restored', { depth: record.depth, idleSince: c.now - reachedAfterMs(ladder, record.depth) });
    armEscalation(c, name, 0);
    return;
  }
  if (libvirt === undefined) {
    // Nobody knows whether it runs: UNKNOWN (park entries, so its traffic reaches the
    // controller and wakes it) until libvirt answers (libvirt_up -> read_state).
    c.log('warn', name, `libvirt did not report the domain state at start-up (the store ${record === undefined ? 'has no record' : `says ${record.state}`}): state unknown until libvirt answers; a packet wakes it`);
    return;
  }
  // The store says active (or has nothing: it was unavailable when the park was
  // decided, or the daemon died before the write): libvirt decides.
  applyLibvirtState(c, name, libvirt, `at start-up, the store ${record === undefined ? 'has no record' : `says ${record.state}`}`);
}

function onSwitchUp(c: Ctx, dpid: bigint, ports: readonly { portNo: number; name: string }[], meters: boolean): void {
  c.setSw(dpid, { up: true, meters, ports: new Map(ports.map((p) => [p.name, p.portNo])) });
  const sw = c.sw(dpid)!;
  // A VM's tap on this switch locates it here, wherever it was (restored or migrated onto this switch).
  for (const p of ports) {
    const name = vmByTap(c, dpid, p.name);
    if (name !== undefined && c.vm(name).dpid !== dpid) moveTo(c, name, dpid, p.portNo, `tap ${p.name}`);
  }
  // On a fabric every VM has entries here (park entries of non-active VMs, none of active VMs elsewhere).
  const vms = c.cfg.fabric ? c.cfg.vms : c.cfg.vms.filter((v) => c.vm(v.name).dpid === dpid);
  if (meters && c.cfg.park.meterRate > 0) c.send(dpid, vms.flatMap((v) => meterAdds(v, c.cfg.park.meterRate)));
  for (const s of vms) {
    if (c.vm(s.name).dpid !== dpid) {
      resyncElsewhere(c, s.name, dpid);
      continue;
    }
    const portNo = sw.ports.get(s.port);
    const v = c.patch(s.name, portNo === undefined ? { portNo: undefined } : { portNo });
    // Resynchronise: the switch may have lost or kept our entries; ADD of an identical entry replaces it (§6.4).
    switch (v.phase) {
      case 'active':
        c.patch(s.name, { lastChangeAt: c.now }); // no counters were seen while the switch was away
        if (portNo !== undefined) c.send(dpid, activityFlows(s, portNo));
        c.send(dpid, [deleteKind(s.id, KIND.PARK), deleteKind(s.id, KIND.PROBE)]);
        break;
      case 'parking':
        if (v.step === 'flows') {
          const seq = v.barrierSeq + 1;
          c.patch(s.name, { barrierSeq: seq });
          c.send(dpid, parkFlowsOn(c, s.name, dpid));
          c.out.push({ kind: 'barrier', dpid, vm: s.name, seq });
        } else c.send(dpid, parkFlowsOn(c, s.name, dpid));
        break;
      case 'parked':
      case 'wake_failed':
      case 'unknown':
        c.send(dpid, [...parkFlowsOn(c, s.name, dpid), deleteKind(s.id, KIND.ACTIVITY), deleteKind(s.id, KIND.ACTIVITY_IGNORE), deleteKind(s.id, KIND.PROBE)]);
        break;
      case 'waking':
        if (v.step === 'switching') {
          startSwitching(c, s.name);
        } else {
          c.send(dpid, [...parkFlowsOn(c, s.name, dpid), probeFlow(s, c.cfg.park.probeMac, metered(c, dpid))]);
          if (v.step === 'port' && portNo !== undefined) startProbe(c, s.name);
        }
        break;
    }
  }
}

/**
 * Fabric: a switch (re)connected that is not the VM's. An active VM has no
 * entries there (stale ones go); any other VM gets its park entries (and, while
 * waking, its probe entry), so its traffic is caught where it enters.
 */
function resyncElsewhere(c: Ctx, name: string, dpid: bigint): void {
  const s = spec(c, name);
  const v = c.vm(name);
  const stale = [deleteKind(s.id, KIND.ACTIVITY), deleteKind(s.id, KIND.ACTIVITY_IGNORE)];
  if (v.phase === 'active' || (v.phase === 'waking' && v.step === 'switching')) c.send(dpid, [...stale, deleteKind(s.id, KIND.PARK), deleteKind(s.id, KIND.PROBE)]);
  else if (v.phase === 'waking') c.send(dpid, [...parkFlowsOn(c, name, dpid), probeFlow(s, c.cfg.park.probeMac, metered(c, dpid)), ...stale]);
  else c.send(dpid, [...parkFlowsOn(c, name, dpid), ...stale, deleteKind(s.id, KIND.PROBE)]);
}

/** Tap name -> the VMs whose inventory names that tap, per configuration (built once). */
const tapIndex = new WeakMap<MachineConfig, Map<string, (VmSpec & FlowVm)[]>>();

/**
 * The VM whose tap port `tapName` is, on switch `dpid`: the VM the inventory
 * puts there, else the only VM with that tap name anywhere (it moved here).
 * Two VMs with that name elsewhere: nobody (tap names must be unique to be followed).
 */
function vmByTap(c: Ctx, dpid: bigint, tapName: string): string | undefined {
  let idx = tapIndex.get(c.cfg);
  if (idx === undefined) {
    idx = new Map();
    for (const v of c.cfg.vms) idx.set(v.port, [...(idx.get(v.port) ?? []), v]);
    tapIndex.set(c.cfg, idx);
  }
  const list = idx.get(tapName);
  if (list === undefined) return undefined;
  if (list.length === 1) return list[0]!.name;
  return list.find((v) => v.dpid === dpid)?.name;
}

/**
 * The host that runs the VM once it is on switch `dpid`: the hypervisor whose
 * switch that is (hypervisors[].switch). A VM whose inventory host names no
 * switch keeps its inventory URI wherever it appears; a switch of no host
 * (a spine) leaves the host as it was.
 */
function hostOn(c: Ctx, name: string, dpid: bigint): string {
  const s = spec(c, name);
  const hosts = c.cfg.hostBySwitch;
  if (hosts === undefined || hosts.size === 0) return s.libvirt.uri;
  let switched = false;
  for (const uri of hosts.values()) if (uri === s.libvirt.uri) switched = true;
  if (!switched) return s.libvirt.uri;
  return hosts.get(dpid) ?? c.vm(name).uri;
}

/**
 * The VM appeared on another switch (its tap there, or on a fabric its MAC on an
 * edge port): its location and host follow it. An ACTIVE VM is made before it is
 * broken: activity entries on the new switch, a barrier there, and only after its
 * reply are the old switch's activity entries deleted (the `then` of the barrier).
 * Without a fabric the park and probe entries of a non-active VM move the same way.
 * A waking VM's probes and held packets go to the new location from now on.
 */
function moveTo(c: Ctx, name: string, dpid: bigint, portNo: number, how: string): void {
  const s = spec(c, name);
  const before = c.vm(name);
  const uri = hostOn(c, name, dpid);
  const v = c.patch(name, { dpid, portNo, uri });
  const hex = (d: bigint): string => d.toString(16).padStart(16, '0');
  c.log('info', name, `moved from switch ${hex(before.dpid)} port ${before.portNo ?? '-'} to switch ${hex(dpid)} port ${portNo} (${how})${uri === before.uri ? '' : `; libvirt host now ${uri}`}`);
  // The stored record says where it is, so a restart reads and wakes it on this host.
  const recorded = recordedState(v);
  if (recorded !== undefined) persist(c, name, recorded);
  if (v.step === 'queued' && uri !== before.uri) {
    // Waiting for a slot of the host it left: it waits for one of its new host's instead.
    dequeue(c, name);
    requestOp(c, name);
  }
  const oldUp = c.sw(before.dpid)?.up === true;
  const then = (msgs: OfpMessage[]): Output => (oldUp ? { kind: 'barrier', dpid, then: { dpid: before.dpid, msgs } } : { kind: 'barrier', dpid });
  if (v.phase === 'active' || (v.phase === 'waking' && v.step === 'switching')) {
    c.send(dpid, activityFlows(s, portNo));
    c.out.push(then([deleteKind(s.id, KIND.ACTIVITY), deleteKind(s.id, KIND.ACTIVITY_IGNORE)]));
    return;
  }
  if (!c.cfg.fabric) {
    const probe = v.phase === 'waking' ? [probeFlow(s, c.cfg.park.probeMac, metered(c, dpid))] : [];
    c.send(dpid, [...parkFlowsOn(c, name, dpid), ...probe]);
    c.out.push(then([deleteKind(s.id, KIND.PARK), deleteKind(s.id, KIND.PROBE)]));
  }
  if (v.phase === 'waking' && v.step === 'port') startProbe(c, name);
}

/** What the store says of a VM in this phase ('parked' from the moment the park intent is written); undefined: nothing known yet. */
function recordedState(v: VmState): ParkRecord['state'] | undefined {
  if (v.phase === 'unknown') return undefined;
  return v.phase === 'active' || (v.phase === 'parking' && v.step === 'flows') ? 'active' : 'parked';
}

/**
 * Fabric: the live topology changed. Ignored traffic of non-active VMs whose
 * next hop toward their sink changed on a switch is re-pointed there (a flow ADD
 * with the same match and priority replaces the entry, §6.4: no gap).
 */
function onPaths(c: Ctx, paths: FabricPaths): void {
  const old = c.paths ?? c.base.paths;
  c.paths = paths;
  if (!c.cfg.fabric) return;
  const up = upSwitches(c);
  const changed = new Map<bigint, bigint[]>(); // sink switch -> switches whose next hop changed
  for (const sink of c.cfg.sinks) {
    if (changed.has(sink.dpid)) continue;
    const a = old?.toward.get(sink.dpid);
    const b = paths.toward.get(sink.dpid);
    changed.set(sink.dpid, up.filter((d) => d !== sink.dpid && a?.get(d) !== b?.get(d)));
  }
  for (const s of c.cfg.vms) {
    if (s.sink === undefined || s.ignore.length === 0) continue;
    const sink = c.cfg.sinks.find((x) => x.name === s.sink);
    const where = sink === undefined ? undefined : changed.get(sink.dpid);
    if (where === undefined || where.length === 0 || c.vm(s.name).phase === 'active') continue;
    for (const d of where) c.send(d, parkIgnoreFlows(s, sinkPortOn(c, s, d)));
  }
}

function onPortStatus(c: Ctx, e: Extract<ParkEvent, { type: 'port_status' }>): void {
  const sw = c.sw(e.dpid);
  if (sw) {
    const ports = new Map(sw.ports);
    if (e.reason === 'delete') {
      if (ports.get(e.name) === e.portNo) ports.delete(e.name);
    } else ports.set(e.name, e.portNo);
    c.setSw(e.dpid, { ...sw, ports });
  }
  // A sink port that moved: re-point the ignore entries of VMs that are not active.
  for (const sink of c.cfg.sinks) {
    if (sink.dpid !== e.dpid || sink.port !== e.name || e.reason === 'delete') continue;
    for (const s of c.cfg.vms) {
      const v = c.vm(s.name);
      if (s.sink === sink.name && v.phase !== 'active') c.send(e.dpid, parkFlowsOn(c, s.name, e.dpid));
    }
  }
  const name = vmByTap(c, e.dpid, e.name);
  if (name === undefined) return;
  const s = spec(c, name);
  const v = c.vm(name);
  if (e.reason === 'delete') {
    // Only the port the VM is at now: a stale tap deleted on the switch it left changes nothing.
    if (v.dpid === e.dpid && v.portNo === e.portNo) c.patch(s.name, { portNo: undefined });
    return;
  }
  if (v.dpid !== e.dpid) {
    moveTo(c, name, e.dpid, e.portNo, `tap ${e.name}`);
    return;
  }
  if (v.portNo === e.portNo) return;
  c.patch(s.name, { portNo: e.portNo });
  c.log('info', s.name, `tap ${s.port} is port ${e.portNo}`);
  if (v.phase === 'active') c.send(v.dpid, activityFlows(s, e.portNo));
  else if (v.phase === 'waking' && v.step === 'port') startProbe(c, s.name);
}

function onCounts(c: Ctx, dpid: bigint, counts: ReadonlyMap<string, bigint>): void {
  if (!c.sw(dpid)?.up) return;
  for (const s of c.cfg.vms) {
    let v = c.vm(s.name);
    if (v.dpid !== dpid || v.phase !== 'active') continue;
    const n = counts.get(s.name);
    if (n !== undefined && n !== v.lastCount) {
      // The first sample is a baseline; later any change (even a reset to a lower value) is activity.
      if (v.lastCount !== undefined) sawActivity(c, s.name);
      v = c.patch(s.name, v.lastCount === undefined ? { lastCount: n } : { lastCount: n, lastChangeAt: c.now });
    }
    // The VM's policy decides (controller/park/policy/; fixed = idleFor >= idleTimeout).
    if (c.now - v.activeSince >= s.minActiveMs && (v.parkNotBefore === undefined || c.now >= v.parkNotBefore) && resolvePolicy(s.policy).policy.shouldPark(policyInput(c.cfg, v, c.now))) {
      if (v.seenUp) beginPark(c, s.name, 'idle');
      else bootCheck(c, s.name);
    }
  }
}

/**
 * When a counter poll could next change this VM, as far as the machine knows
 * now (engine clock, ms): polls before it find an unchanged counter and an idle
 * time below every bound, so they do nothing. `counterMoved`: the VM's counter
 * changed since the machine last saw it (only the switch knows that). Undefined:
 * no poll matters until another event changes the VM (it is not ACTIVE). The
 * replay engine uses this to skip polls; it must stay in step with onCounts.
 * The idle deadline comes from the VM's idle timeout; a policy that decides by
 * time plugs in here.
 */
export function nextPollMatters(cfg: MachineConfig, state: MachineState, name: string, counterMoved: boolean, now: number): number | undefined {
  const v = state.vms.get(name);
  const s = cfg.byName.get(name);
  if (v === undefined || s === undefined || v.phase !== 'active') return undefined;
  // The first sample is the baseline; a moved counter resets the idle clock.
  if (counterMoved || v.lastCount === undefined) return now;
  // The VM's parking policy says when its decision could change (fixed: lastChangeAt + idleTimeout).
  return nextDecisionAt(cfg, state, name, now);
}

/**
 * Idle, but not known up since the controller started (it may still be booting):
 * ask it with the wake's readiness probe (ARP from the probe address, reply
 * caught by the probe entry). The answer makes it parkable at the next poll;
 * without one it is asked again at every poll and never parked.
 */
function bootCheck(c: Ctx, name: string): void {
  const s = spec(c, name);
  const v = c.vm(name);
  if (v.portNo === undefined) return;
  c.send(v.dpid, [probeFlow(s, c.cfg.park.probeMac, metered(c, v.dpid)), packetOut(v.portNo, buildArpRequest(c.cfg.park.probeMac, c.cfg.park.probeIp, s.ip, s.mac))]);
}

function matchesIgnore(s: VmSpec, f: ParsedFrame): boolean {
  if (!f.ipv4) return false;
  return s.ignore.some(
    (r) =>
      (r.src === undefined || r.src === f.ipv4!.src) &&
      (r.tcpDst === undefined || (f.ipv4!.proto === IP_PROTO_TCP && f.tcp?.dst === r.tcpDst)) &&
      (r.udpDst === undefined || (f.ipv4!.proto === IP_PROTO_UDP && f.udp?.dst === r.udpDst)),
  );
}

function wakes(s: VmSpec, f: ParsedFrame): boolean {
  if (s.gatewayPorts.length === 0) return true;
  return f.tcp !== undefined && s.gatewayPorts.includes(f.tcp.dst);
}

/**
 * Fabric: a frame from a VM's MAC entering an edge port says where the VM is
 * (its probe answer after it was restored on another host under another tap
 * name). Link ports and ports not yet classified say nothing: a frame of the VM
 * reaches them from elsewhere.
 */
function followMac(c: Ctx, dpid: bigint, inPort: number, f: ParsedFrame): void {
  const s = c.cfg.byMac.get(f.src);
  if (s === undefined) return;
  const v = c.vm(s.name);
  if (v.dpid === dpid && v.portNo === inPort) return;
  if ((c.paths ?? c.base.paths)?.edgePorts.get(dpid)?.has(inPort) !== true) return;
  if (v.dpid === dpid) {
    c.patch(s.name, { portNo: inPort });
    c.log('info', s.name, `seen on port ${inPort} (its MAC)`);
    if (v.phase === 'active') c.send(dpid, activityFlows(s, inPort));
    else if (v.phase === 'waking' && v.step === 'port') startProbe(c, s.name);
    return;
  }
  moveTo(c, s.name, dpid, inPort, `MAC ${s.mac}`);
}

function onPacketIn(c: Ctx, dpid: bigint, inPort: number, cookie: bigint, data: Buffer): void {
  const f = parseFrame(data);
  if (!f) return;
  if (c.cfg.fabric) followMac(c, dpid, inPort, f);
  const arp = f.arp;
  if (arp) {
    // Readiness probe answer: ARP reply from the VM to the controller's probe address.
    if (arp.op === ARP_OP_REPLY && f.dst === c.cfg.park.probeMac) {
      const s = c.cfg.byMac.get(arp.sha);
      c.consumed = true;
      if (s && c.vm(s.name).dpid === dpid && arp.spa === s.ip) {
        const v = c.vm(s.name);
        if (v.phase === 'waking' && v.step === 'probe') {
          if (v.portNo !== inPort) c.patch(s.name, { portNo: inPort });
          if (needsServiceProbe(c, s)) startServiceProbe(c, s.name);
          else startSwitching(c, s.name);
        } else if (v.phase === 'active' && !v.seenUp) {
          c.patch(s.name, { seenUp: true });
          c.send(dpid, [deleteKind(s.id, KIND.PROBE)]);
          c.log('info', s.name, 'answered the readiness probe: parked when idle from now on');
        }
      }
      return;
    }
    if (arp.op === ARP_OP_REQUEST) {
      if (arp.tpa === c.cfg.park.probeIp && c.cfg.park.probeIp !== '0.0.0.0') {
        // A guest answering our TCP probe resolves the probe address: it is ours.
        const reply = buildArpReplyFor(data, c.cfg.park.probeMac, c.cfg.park.probeIp);
        c.consumed = true;
        if (reply) c.send(dpid, [packetOut(inPort, reply)]);
        return;
      }
      const s = c.cfg.byIp.get(arp.tpa);
      // On a fabric the request is answered at whichever switch it entered.
      if (!s || (!c.cfg.fabric && c.vm(s.name).dpid !== dpid) || c.vm(s.name).phase === 'active') return;
      // Answered on the VM's behalf so clients keep resolving it while it is parked.
      const reply = buildArpReplyFor(data, s.mac, s.ip);
      c.consumed = true;
      if (reply) {
        c.send(dpid, [packetOut(inPort, reply)]);
        c.count(s.name, 'arpAnswered');
      }
      return;
    }
  }
  if (f.tcp !== undefined && f.tcp.dst === PROBE_TCP_PORT && f.ipv4?.dst === c.cfg.park.probeIp && f.dst === c.cfg.park.probeMac) {
    onServiceProbeAnswer(c, dpid, inPort, f);
    return;
  }
  const s = c.cfg.byMac.get(f.dst);
  if (!s) return;
  const v = c.vm(s.name);
  // On a fabric a wake is caught at whichever switch the packet entered.
  if (!c.cfg.fabric && v.dpid !== dpid) return;
  if (v.phase === 'active') {
    // Only packets our (stale) park entries sent; table-miss packets belong to the L2 fabric.
    if (decodeCookie(cookie) === undefined) return;
    c.consumed = true;
    if (v.portNo !== undefined) c.send(v.dpid, [packetOut(v.portNo, Buffer.from(data))]); // the packet-in buffer is a view: copy
    return;
  }
  c.consumed = true;
  if (f.icmp?.type === ICMP_ECHO_REQUEST && f.ipv4?.dst === s.ip) {
    // Answered by the controller: ping-based monitoring stays green without waking the VM.
    // Not while the last wake failed or libvirt has not confirmed the domain: the
    // controller only vouches for a VM it can wake (docs/parking.md). Dropped, not a wake
    // trigger: a monitor's pings would otherwise retry a failing wake every few seconds.
    if (v.phase === 'wake_failed' || v.phase === 'unknown') return;
    const reply = buildIcmpEchoReply(data);
    if (reply) {
      c.send(dpid, [packetOut(inPort, reply)]);
      c.count(s.name, 'icmpAnswered');
    }
    return;
  }
  if (matchesIgnore(s, f)) {
    c.count(s.name, 'ignored');
    return;
  }
  switch (v.phase) {
    case 'parking':
      if (v.nextRung !== undefined) {
        // An escalation: the VM is parked, so only what would wake a parked VM wakes it.
        if (!wakes(s, f)) {
          c.count(s.name, 'ignored');
          return;
        }
        hold(c, s.name, data);
        wakeDuringEscalation(c, s.name);
        return;
      }
      if (v.step === 'libvirt') {
        hold(c, s.name, data);
        c.patch(s.name, { wakeRequested: true });
      } else {
        // libvirt has not been asked yet: cancel the park instead of parking and waking.
        hold(c, s.name, data);
        unpark(c, s.name, 'park-aborted-by-traffic');
      }
      return;
    case 'parked':
    case 'wake_failed':
    case 'unknown':
      if (!wakes(s, f)) {
        c.count(s.name, 'ignored');
        return;
      }
      hold(c, s.name, data);
      // From UNKNOWN too: wakeDomain reads the real state first (running = nothing to do).
      beginWake(c, s.name, v.phase === 'wake_failed' ? 'packet-retry' : 'packet');
      return;
    case 'waking':
      if (v.step === 'switching') {
        // Flows are being switched: forward in order behind the held packets already sent.
        if (v.portNo !== undefined) c.send(v.dpid, [packetOut(v.portNo, Buffer.from(data))]); // the packet-in buffer is a view: copy
      } else hold(c, s.name, data);
      return;
  }
}

/** A guest's answer to the TCP readiness probe: SYN-ACK means ready; RST means not listening yet (the timer probes again). */
function onServiceProbeAnswer(c: Ctx, dpid: bigint, inPort: number, f: ParsedFrame): void {
  c.consumed = true;
  const s = c.cfg.byMac.get(f.src);
  if (!s || c.vm(s.name).dpid !== dpid || f.ipv4?.src !== s.ip || f.tcp === undefined) return;
  const v = c.vm(s.name);
  if (v.phase !== 'waking' || v.step !== 'service' || f.tcp.src !== v.probePort) return; // late answer
  const synAck = TCP_FLAG_SYN | TCP_FLAG_ACK;
  if ((f.tcp.flags & synAck) !== synAck) return;
  // Close the half-open probe connection so the guest does not keep retransmitting its SYN-ACK.
  const { probeMac, probeIp } = c.cfg.park;
  const rst = buildTcpFrame({ ethSrc: probeMac, ethDst: s.mac, src: probeIp, dst: s.ip, srcPort: PROBE_TCP_PORT, dstPort: v.probePort, flags: TCP_FLAG_RST, seq: (PROBE_TCP_ISN + 1) >>> 0 });
  c.send(dpid, [packetOut(inPort, rst)]);
  if (v.portNo !== inPort) c.patch(s.name, { portNo: inPort });
  c.log('info', s.name, `gateway port ${v.probePort} answered the TCP readiness probe`);
  startSwitching(c, s.name);
}

function onBarrierDone(c: Ctx, name: string, seq: number): void {
  const v = c.vm(name);
  if (seq !== v.barrierSeq) return;
  if (v.phase === 'parking' && v.step === 'flows') {
    // Park flows confirmed in the switch. Before libvirt may stop the VM, the
    // store must say 'parked': a daemon restarted after the park must know it.
    const next = seq + 1;
    c.patch(name, { step: 'persisting', barrierSeq: next });
    persist(c, name, 'parked', next);
  } else if (v.phase === 'waking' && v.step === 'switching') {
    finishWake(c, name, 'woken');
  }
}

function onBarrierFailed(c: Ctx, name: string, seq: number, error: string): void {
  const v = c.vm(name);
  if (seq !== v.barrierSeq) return;
  if (v.phase === 'parking' && v.step === 'flows') {
    // Unconfirmed park flows: do not stop the VM. switch_up resynchronises the flows.
    unpark(c, name, 'park-barrier-failed');
    c.log('warn', name, `park aborted, barrier failed: ${error}`);
  } else if (v.phase === 'waking' && v.step === 'switching') {
    // The VM runs and answered; an ACTIVE VM forwards any packet its stale park
    // entries still send, and switch_up removes them.
    c.log('warn', name, `wake barrier failed (${error}); VM active, flows resynchronised on reconnect`);
    finishWake(c, name, 'woken-unconfirmed');
  }
}

function onPersistResult(c: Ctx, name: string, seq: number, error: string | undefined): void {
  const v = c.vm(name);
  if (seq !== v.barrierSeq || v.phase !== 'parking' || v.step !== 'persisting') return;
  if (error !== undefined) {
    // Park anyway: a store that retries in the background (Redis) may still write
    // it, and start-up reconciles with libvirt (a paused/saved guest is restored
    // PARKED whatever the store says), so the VM cannot be left unreachable.
    // Refusing to park would let a store outage keep every idle VM running.
    c.log('warn', name, `parked state not confirmed by the store (${error}); parking anyway, start-up reconciles with libvirt`);
  }
  requestOp(c, name);
}

function onLibvirtResult(c: Ctx, name: string, seq: number, error: string | undefined, code: string | undefined, woke: WakeKind | undefined, memory: MemoryMeasurement | undefined): void {
  releaseSlot(c, name);
  const v = c.vm(name);
  if (seq !== v.opSeq || v.step !== 'libvirt') return;
  const s = spec(c, name);
  if (v.phase === 'parking' && v.nextRung !== undefined) {
    onEscalateResult(c, name, error, memory);
    return;
  }
  if (v.phase === 'parking') {
    if (error !== undefined) {
      unpark(c, name, 'park-failed', error);
      return;
    }
    // save/shutdown: the tap is gone; it comes back under a new number. An old error is over.
    // Measured by the shell around the operation (docs/energy.md); a grown RSS released nothing.
    const mem = memory === undefined ? undefined : parkMemoryFrom(memory);
    transition(c, name, 'parked', 'none', 'parked', keepsPort(s.depth) ? { lastError: undefined, memory: mem, depth: s.depth } : { portNo: undefined, lastError: undefined, memory: mem, depth: s.depth });
    c.count(name, 'parks');
    c.send(c.vm(name).dpid, [deleteKind(s.id, KIND.ACTIVITY), deleteKind(s.id, KIND.ACTIVITY_IGNORE)]);
    // Held packets stay held: they are delivered when the VM is up again.
    if (v.wakeRequested || v.held.length > 0) beginWake(c, name, 'packet-during-parking');
    else {
      armEscalation(c, name, 0);
      armPreWake(c, name);
    }
    return;
  }
  if (v.phase !== 'waking') return;
  if (error !== undefined) {
    if (code === 'LIBVIRT_CONNECTION') wakeLostLibvirt(c, name, error, v.opGen);
    else wakeAttemptFailed(c, name, error);
    return;
  }
  if (v.libvirtLostAt !== undefined) c.patch(name, { libvirtLostAt: undefined });
  const depth = currentDepth(c, name);
  if (woke === 'booted' && !bootsCold(depth)) {
    // Kept for the whole wake: a retry finds the domain running and reports 'running'.
    c.patch(name, { coldBoot: true });
    const how = depth === 'save' ? 'it had no managed-save image' : 'it was shut off, not paused';
    c.log(
      'warn',
      name,
      needsServiceProbe(c, s)
        ? `booted cold (${how}): the held packets wait until a gateway port answers a SYN`
        : `booted cold (${how}): ready when it answers ARP; set gatewayPorts and park.probeIp so a held SYN waits for its service`,
    );
  }
  c.out.push({ kind: 'set_timer', key: { kind: 'deadline', vm: name }, at: c.now + s.wakeTimeoutMs });
  if (c.vm(name).portNo !== undefined) startProbe(c, name);
  else c.patch(name, { step: 'port' });
}

function onTimer(c: Ctx, key: TimerKey): void {
  if (key.kind === 'poll') {
    const dpids = new Set<bigint>();
    for (const s of c.cfg.vms) {
      // Activity entries are only on the VM's current switch: its counters are read there.
      const v = c.vm(s.name);
      if (v.phase === 'active' && c.sw(v.dpid)?.up) dpids.add(v.dpid);
    }
    for (const dpid of dpids) c.out.push({ kind: 'flow_stats', dpid });
    c.out.push({ kind: 'set_timer', key: { kind: 'poll' }, at: c.now + c.cfg.pollIntervalMs });
    return;
  }
  const name = key.vm;
  if (!c.cfg.byName.has(name)) return;
  if (key.kind === 'escalate') {
    onEscalateTimer(c, name);
    return;
  }
  if (key.kind === 'prewake') {
    onPreWake(c, name);
    return;
  }
  const v = c.vm(name);
  if (v.phase !== 'waking') return;
  switch (key.kind) {
    case 'probe':
      if (v.step === 'probe' || v.step === 'service') sendProbe(c, name);
      return;
    case 'deadline':
      if (v.step === 'probe' || v.step === 'port' || v.step === 'service') {
        const why = v.step === 'port' ? 'tap port never appeared' : v.step === 'probe' ? 'no ARP answer' : `gateway port ${v.probePort} never answered a SYN`;
        wakeAttemptFailed(c, name, `not ready ${spec(c, name).wakeTimeoutMs} ms after libvirt (${why})`);
      }
      return;
    case 'retry':
      if (v.step === 'backoff') requestOp(c, name);
      return;
  }
}

/** The pre-wake timer: wake a VM still parked at rest whose pre-wake is due (a stale timer finds none). */
function onPreWake(c: Ctx, name: string): void {
  const v = c.vm(name);
  const at = v.learned.preWakeAt;
  if (at === undefined || c.now < at || v.phase !== 'parked' || v.step !== 'none') return;
  const hold = resolvePolicy(spec(c, name).policy).policy.preWakeHoldMs;
  // Not parked again before the expected activity had its chance to come.
  if (hold > 0) c.patch(name, { parkNotBefore: c.now + hold });
  beginWake(c, name, 'pre-wake');
}

/**
 * The libvirt adapter for `uri` (re)connected. Whatever happened while it was
 * away (libvirtd restarted, an operator paused a guest, the controller started
 * without it) is read again: every VM of that URI that is UNKNOWN or at rest
 * ACTIVE gets its domain state read (then onLibvirtState reconciles), and wakes
 * that lost the connection are retried now instead of after their backoff.
 */
function onLibvirtUp(c: Ctx, uri: string): void {
  c.bumpGen(uri);
  for (const s of c.cfg.vms) {
    const v = c.vm(s.name);
    if (v.uri !== uri) continue;
    if (v.phase === 'waking' && v.step === 'backoff' && v.libvirtLostAt !== undefined) {
      c.out.push({ kind: 'cancel_timer', key: { kind: 'retry', vm: s.name } });
      c.log('info', s.name, 'libvirt is reachable again: retrying the wake now');
      requestOp(c, s.name);
    } else readState(c, s.name);
  }
}

/** Asks the shell for the domain's state when it could change what the VM's traffic needs. */
function readState(c: Ctx, name: string): void {
  const v = c.vm(name);
  const atRest = v.step === 'none' && (v.phase === 'active' || v.phase === 'parked');
  if (v.phase === 'unknown' || atRest) c.out.push({ kind: 'read_state', vm: name, seq: v.opSeq, uri: v.uri });
}

function onLibvirtState(c: Ctx, name: string, seq: number, state: DomainRunState | undefined, error: string | undefined): void {
  const v = c.vm(name);
  // One of our own operations ran since the read was asked: its answer may predate it.
  if (seq !== v.opSeq || v.opInFlight) return;
  if (state === undefined) {
    if (v.phase === 'unknown') c.log('warn', name, `domain state still unknown: ${error ?? 'libvirt did not answer'}; its traffic wakes it`);
    return;
  }
  applyLibvirtState(c, name, state, `while the engine had it ${v.phase}`);
}

/**
 * The depth of a domain libvirt reports paused or shut off that the engine did not
 * park (or whose record it lost): the VM's first rung when that rung fits the
 * state, else the shallowest depth that does (pause: kept port, resume; save:
 * a wake that finds no image boots cold and says so, coldBoot).
 */
function reconciledDepth(s: VmSpec, state: 'paused' | 'shutoff'): Depth {
  const paused = state === 'paused';
  return keepsPort(s.depth) === paused ? s.depth : paused ? 'pause' : 'save';
}

/**
 * What libvirt reports for a VM that is UNKNOWN, or at rest ACTIVE or PARKED. Only a
 * domain libvirt confirms running is routed to its port:
 * - running: UNKNOWN or PARKED -> ACTIVE (`confirmed-running`; a parked VM that
 *   runs was started or resumed outside seamless);
 * - paused / shut off: -> PARKED (`reconciled`): park entries answer for it
 *   and a packet starts it; as ACTIVE its traffic would go to a stopped guest;
 * - crashed / other: ACTIVE -> UNKNOWN (`unconfirmed`) with the state as
 *   lastError; a packet tries a wake, which reports why it cannot.
 * In any other phase the engine itself is driving libvirt and ignores this.
 */
function applyLibvirtState(c: Ctx, name: string, state: DomainRunState, context: string): void {
  const v = c.vm(name);
  const s = spec(c, name);
  if (v.phase !== 'unknown' && !(v.step === 'none' && (v.phase === 'active' || v.phase === 'parked'))) return;
  // A PARKED VM changes only when libvirt runs it behind the engine's back (an operator
  // started or resumed it, or it was defined shut off and started since): its state
  // and counts must not say parked. Paused/shut off is what PARKED expects.
  if (v.phase === 'parked' && state !== 'running') return;
  switch (state) {
    case 'running': {
      if (v.phase === 'active') return;
      if (v.phase === 'parked') {
        c.log('info', name, 'libvirt reports the domain running while parked (started or resumed outside seamless): active again');
        accountIdlePeriod(c, name);
        c.out.push({ kind: 'cancel_timer', key: { kind: 'escalate', vm: name } });
        clearPreWake(c, name);
        persist(c, name, 'active');
      }
      transition(c, name, 'active', 'none', 'confirmed-running', { activeSince: c.now, lastChangeAt: c.now, lastCount: undefined, lastError: undefined, ...NO_IDLE_PERIOD });
      if (v.phase === 'parked') persist(c, name, 'active');
      const msgs: OfpMessage[] = v.portNo === undefined ? [] : activityFlows(s, v.portNo);
      toParkSwitches(c, name, (_d, own) => [...(own ? msgs : []), deleteKind(s.id, KIND.PARK), deleteKind(s.id, KIND.PROBE)]);
      return;
    }
    case 'paused':
    case 'shutoff': {
      c.log('warn', name, `libvirt reports the domain ${state} ${context}: treated as parked`);
      // Not parked by us: nothing was measured, an earlier park's memory figure does not apply.
      const depth = reconciledDepth(s, state);
      // Assumed to have just reached that depth: its ladder's deeper rungs come no earlier than they would have.
      const idleSince = c.now - reachedAfterMs(ladderOf(s), depth);
      transition(c, name, 'parked', 'none', 'reconciled', state === 'shutoff' ? { portNo: undefined, lastError: undefined, memory: undefined, depth, idleSince } : { lastError: undefined, memory: undefined, depth, idleSince });
      // Park entries first (they outrank the activity entries), then the activity entries go.
      toParkSwitches(c, name, (d) => [...parkFlowsOn(c, name, d), deleteKind(s.id, KIND.ACTIVITY), deleteKind(s.id, KIND.ACTIVITY_IGNORE), deleteKind(s.id, KIND.PROBE)]);
      persist(c, name, 'parked');
      armEscalation(c, name, 0);
      return;
    }
    case 'crashed':
    case 'other': {
      const error = `libvirt reports the domain ${state}`;
      c.patch(name, { lastError: error, lastFailure: { error, at: c.now } });
      if (v.phase === 'unknown') return;
      c.log('error', name, `${error}: its traffic is no longer routed to it; a packet tries to wake it`);
      transition(c, name, 'unknown', 'none', 'unconfirmed');
      toParkSwitches(c, name, (d) => [...parkFlowsOn(c, name, d), deleteKind(s.id, KIND.ACTIVITY), deleteKind(s.id, KIND.ACTIVITY_IGNORE)]);
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// parking policies (controller/park/policy/)
// ---------------------------------------------------------------------------

/** What the VM's policy may know at `now`: its idle clock, its depth's break-even and wake times, its own past. */
function policyInput(cfg: MachineConfig, v: VmState, now: number): PolicyInput {
  const s = cfg.byName.get(v.name)!;
  const profile = s.power ?? DEFAULT_POWER_PROFILE;
  return {
    vm: v.name,
    now,
    idleFrom: v.lastChangeAt,
    idleTimeoutMs: s.idleTimeoutMs,
    breakEvenMs: breakEvenMs(cfg, v),
    wakeMs: profile.depths[s.depth].wakeMs,
    pollIntervalMs: cfg.pollIntervalMs,
    epochOffsetMs: cfg.epochOffsetMs ?? 0,
    learned: v.learned,
    future: cfg.future,
  };
}

/** Break-even idle time (ms) of the VM's depth with its last measured memory (energy/model.ts, Jettison eq. 4). */
function breakEvenMs(cfg: MachineConfig, v: VmState): number {
  const s = cfg.byName.get(v.name)!;
  return 1000 * breakEvenSeconds(s.power ?? DEFAULT_POWER_PROFILE, s.depth, v.memory?.residentBytes ?? 0, v.memory?.releasedBytes ?? 0);
}

/**
 * Activity seen now (counters moved, a packet woke it or aborted its park): the
 * idle period since the last activity is over and its policy learns from it.
 * Periods of one poll or less are the VM being busy, not idle: not learned.
 */
function sawActivity(c: Ctx, name: string): void {
  const v = c.vm(name);
  const since = v.learned.idleSince;
  const r = resolvePolicy(spec(c, name).policy);
  let learned = v.learned;
  if (since !== undefined && c.now - since > c.cfg.pollIntervalMs) learned = learnIdle(r, learned, since, c.now, c.cfg.epochOffsetMs ?? 0, breakEvenMs(c.cfg, v));
  c.patch(name, { learned: { ...learned, idleSince: c.now } });
}

/** The VM just parked: its policy may want it woken ahead of its next activity (predictive, oracle). */
function armPreWake(c: Ctx, name: string): void {
  const r = resolvePolicy(spec(c, name).policy);
  if (!r.preWakes) return;
  const v = c.vm(name);
  const at = r.policy.preWakeAt(policyInput(c.cfg, v, c.now));
  if (at === undefined) return;
  c.patch(name, { learned: { ...v.learned, preWakeAt: at } });
  c.out.push({ kind: 'set_timer', key: { kind: 'prewake', vm: name }, at });
}

function clearPreWake(c: Ctx, name: string): void {
  const v = c.vm(name);
  if (v.learned.preWakeAt === undefined) return;
  c.patch(name, { learned: { ...v.learned, preWakeAt: undefined } });
  c.out.push({ kind: 'cancel_timer', key: { kind: 'prewake', vm: name } });
}

/**
 * For a replay that skips polls: the earliest engine time >= now at which the
 * VM could park if no new activity is seen (its policy's earliestPark, bounded
 * by minActive and a failed park's backoff); undefined when it cannot park
 * from where it is (not ACTIVE at rest) or its policy never would.
 * It may be early (that poll then decides nothing), never late.
 */
export function nextDecisionAt(cfg: MachineConfig, state: MachineState, vm: string, now: number): number | undefined {
  const v = state.vms.get(vm);
  const s = cfg.byName.get(vm);
  if (!v || !s || v.phase !== 'active' || v.step !== 'none') return undefined;
  const at = resolvePolicy(s.policy).policy.earliestPark(policyInput(cfg, v, now));
  if (at === undefined) return undefined;
  return Math.max(at, v.activeSince + s.minActiveMs, v.parkNotBefore ?? -Infinity, now);
}
