// The park engine's data model: VM and switch state, the events the machine
// consumes, the outputs it emits, the closed set of transition reasons and the
// typed timer keys. Types only (plus the reason list and the timer id), so
// metrics, logs, the API and replays can depend on them without the machine's logic.
import type { Map as PMap } from 'immutable';
import type { Depth, Inventory, VmSpec } from '../inventory/types.js';
import type { DomainRunState } from '../libvirt/hypervisor.js';
import type { OfpMessage } from '../openflow/types.js';
import type { FlowVm } from './flows.js';
import type { WakeKind } from './hypervisor.js';
import type { ParkRecord } from './store.js';
import type { Learned } from './policy/learned.js';


/**
 * `unknown`: libvirt has not confirmed the domain's state since the controller
 * started (it was unreachable, or has not answered yet). Such a VM is treated
 * like a parked one for its traffic (park entries: the controller sees its
 * packets and a packet wakes it, the wake reads the real state first), never
 * routed to its port, and its ICMP is not answered: nobody vouches for it.
 */
export type Phase = 'unknown' | 'active' | 'parking' | 'parked' | 'waking' | 'wake_failed';

/**
 * Why a VM changed phase: the closed set every `transition` output carries (logs,
 * onTransition, metrics labelled by reason). docs/parking.md lists each one.
 */
export const PARK_REASONS = [
  'idle',
  'operator-park',
  'parked',
  'packet',
  'packet-during-parking',
  'packet-retry',
  'operator-wake',
  'woken',
  'woken-unconfirmed',
  'park-aborted-by-traffic',
  'park-barrier-failed',
  'park-failed',
  'wake-gave-up',
  'restored',
  'reconciled',
  'confirmed-running',
  'unconfirmed',
  'escalate',
  'escalated',
  'escalate-failed',
  'pre-wake',
] as const;
export type ParkReason = (typeof PARK_REASONS)[number];

/** The engine's timers; `timerId` names one for the shell's timer table. */
export type TimerKey =
  /** The activity-counter poll (one for the whole engine). */
  | { readonly kind: 'poll' }
  /** Next readiness probe (ARP or TCP SYN) of a waking VM. */
  | { readonly kind: 'probe'; readonly vm: string }
  /** A waking VM's wakeTimeout after libvirt returned. */
  | { readonly kind: 'deadline'; readonly vm: string }
  /** Next wake attempt after a failed one (backoff, or the bound on waiting for libvirt). */
  | { readonly kind: 'retry'; readonly vm: string }
  /** A parked VM's next rung of its depth ladder (or the retry of a failed escalation). */
  | { readonly kind: 'escalate'; readonly vm: string }
  /** A parked VM's wake ahead of its predicted (predictive) or known (oracle) activity. */
  | { readonly kind: 'prewake'; readonly vm: string };

/** A stable string for a timer key (the shell's map key; one timer per key). */
export function timerId(key: TimerKey): string {
  return key.kind === 'poll' ? 'poll' : `${key.kind}:${key.vm}`;
}

/** A past failure kept for the operator after the VM recovered (`lastError` is cleared then). */
export interface Failure {
  readonly error: string;
  /** Engine clock (ms) when it happened. */
  readonly at: number;
}
/**
 * Where a VM is inside its phase.
 * parking: flows (park flows sent, barrier pending) -> persisting (the store is writing the
 *          parked intent) -> queued (waiting for a libvirt slot) -> libvirt.
 * waking: queued -> libvirt -> port (save/shutdown: tap port not back yet) -> probe (ARP)
 *         -> service (shutdown only: TCP SYN to a gateway port until it answers SYN-ACK)
 *         -> switching (make-before-break flows sent, barrier pending); backoff between failed attempts.
 */
export type Step = 'none' | 'flows' | 'persisting' | 'queued' | 'libvirt' | 'port' | 'probe' | 'service' | 'switching' | 'backoff';

export interface VmCounters {
  readonly parks: number;
  readonly wakes: number;
  readonly parkFailures: number;
  readonly wakeFailures: number;
  /** Packets dropped because the per-VM hold queue was full or a wake gave up. */
  readonly heldDropped: number;
  readonly arpAnswered: number;
  readonly icmpAnswered: number;
  /** Packets to a parked VM dropped without waking it (ignored traffic, non-gateway ports). */
  readonly ignored: number;
}

/**
 * The QEMU process's memory measured around a park (docs/energy.md):
 * `residentBytes` before it (RSS, plus zram's copy of pages still swapped out
 * from an earlier reclaim), `releasedBytes` = that minus the same after the
 * park (the whole RSS when the process is gone: save, shutdown).
 */
export interface ParkMemory {
  readonly residentBytes: number;
  readonly releasedBytes: number;
  /** Reclaim (and any park of a local QEMU): the process's VmSwap after the park. */
  readonly swappedBytes?: number;
  /** RAM zram spends on those swapped pages (0 when swap is on a disk). */
  readonly compressedBytes?: number;
}

/** Energy accounting of a VM's finished idle periods (controller/energy/model.ts). */
export interface VmEnergy {
  /** Net energy parking saved over finished idle periods (J); a park that did not pay off subtracts. */
  readonly savedJoules: number;
  /** Finished idle periods shorter than the depth's break-even time (saved <= 0). */
  readonly unprofitableParks: number;
  /** Finished idle periods accounted (a park begun by this engine and ended by a wake). */
  readonly periods: number;
}

/** What the shell measured around a park operation: the QEMU process's RSS before and after (bytes), and its swap after. */
export interface MemoryMeasurement {
  readonly beforeBytes: number;
  readonly afterBytes: number;
  /** VmSwap after the park (local QEMU only). */
  readonly swappedBytes?: number;
  /** RAM zram holds for those swapped pages. */
  readonly compressedBytes?: number;
  /** RAM zram held for the process's swap before the park (pages still out from an earlier reclaim). */
  readonly compressedBeforeBytes?: number;
}

export interface VmState {
  readonly name: string;
  readonly phase: Phase;
  readonly step: Step;
  /** When the phase was entered. */
  readonly since: number;
  /** When the VM last became ACTIVE (anti-flap). */
  readonly activeSince: number;
  /** Last time the activity counters moved (or a reset point: activation, switch reconnect). */
  readonly lastChangeAt: number;
  readonly lastCount?: bigint | undefined;
  /** The tap port's current OpenFlow number; undefined while it is absent. */
  readonly portNo?: number | undefined;
  /**
   * The switch the VM is attached to now (initially the inventory's): its tap
   * (or, on a fabric, its MAC on an edge port) was last seen there. Its activity
   * entries, probes and held packets go there.
   */
  readonly dpid: bigint;
  /**
   * The libvirt URI of the host that runs the VM now (initially the inventory's):
   * it follows the VM to a switch of another hypervisor host (hypervisors[].switch).
   */
  readonly uri: string;
  /** The URI the running libvirt operation was issued on (its slot is released there). */
  readonly opUri?: string | undefined;
  /** Sequence of libvirt operations; a completion for an older one is stale. */
  readonly opSeq: number;
  /** True while a libvirt operation of this VM holds a global slot. */
  readonly opInFlight: boolean;
  /** Sequence of awaited barriers and store writes; a reply for an older one is stale. */
  readonly barrierSeq: number;
  /** Packets held while the VM wakes, oldest first. */
  readonly held: readonly Buffer[];
  /** A packet arrived while a park operation was running: wake as soon as it ends. */
  readonly wakeRequested: boolean;
  /** Failed wake attempts in the current wake. */
  readonly attempt: number;
  readonly wakeStartedAt?: number | undefined;
  /** The gateway port the TCP readiness probe asks (step 'service'). */
  readonly probePort?: number | undefined;
  /** This wake booted the guest cold (no managed-save image, or it was shut off): ask a gateway port. */
  readonly coldBoot?: boolean | undefined;
  /**
   * The guest answered an ARP probe (or a wake) since the controller started.
   * Only then is it parked when idle: a booting guest receives no traffic, so
   * it looks idle, and parking it mid-boot would stall its boot.
   */
  readonly seenUp: boolean;
  /** No automatic park before this time (set after a failed park). */
  readonly parkNotBefore?: number | undefined;
  /** The problem the VM has NOW (failed park/wake, libvirt's odd state); cleared once it is parked or woken. */
  readonly lastError?: string | undefined;
  /** The most recent error and when, kept after recovery (history for `vm info`). */
  readonly lastFailure?: Failure | undefined;
  /**
   * Set while a wake waits for libvirt to be reachable again (an attempt failed
   * with LIBVIRT_CONNECTION): when the connection was first lost in this wake.
   */
  readonly libvirtLostAt?: number | undefined;
  /** libvirt connection generation (MachineState.libvirtGen) when the last operation was issued. */
  readonly opGen: number;
  readonly counters: VmCounters;
  /** Engine clock when this engine began the current park (ACTIVE -> PARKING); the idle period's start. */
  readonly parkStartedAt?: number | undefined;
  /** Memory measured around the last park (kept after the wake for `vm info`); undefined when unmeasured. */
  readonly memory?: ParkMemory | undefined;
  readonly energy: VmEnergy;
  /**
   * The depth the VM is parked at NOW (park/depth.ts): set when a park reaches
   * PARKED (or is restored/reconciled), deepened by each escalation, kept while
   * waking (the wake is from it), cleared once ACTIVE. Undefined while active.
   */
  readonly depth?: Depth | undefined;
  /**
   * Engine clock when the current idle period began: the VM's last activity
   * before the park. Escalation times are counted from it (rung `after`).
   */
  readonly idleSince?: number | undefined;
  /**
   * The depth ladder's rung (index into park/depth.ts ladderOf) the VM escalates
   * to next: while PARKED, the rung its `escalate` timer is armed for; while
   * PARKING from PARKED (an escalation), the rung it is going to. Undefined
   * otherwise: a PARKING VM without it is a first park of a running VM.
   */
  readonly nextRung?: number | undefined;
  /** Failed escalations to rung `nextRung`; a rung is retried once, then skipped. */
  readonly escalateFailures: number;
  /**
   * Energy accounting of an escalated idle period (docs/energy.md): when the
   * segment at the current depth began, and what the finished segments (at
   * shallower depths) saved. Undefined / 0 outside an idle period.
   */
  readonly segmentStartedAt?: number | undefined;
  readonly segmentsSavedJoules: number;
  /**
   * What the VM's parking policy learned from its past (controller/park/policy/):
   * observed idle periods, the pending pre-wake. Kept in memory only: a restart
   * forgets it and the policy falls back to the idle timeout until it has relearned.
   */
  readonly learned: Learned;
}

export interface SwitchState {
  readonly up: boolean;
  readonly meters: boolean;
  /** Port name -> number, from port-desc and PORT_STATUS. */
  readonly ports: ReadonlyMap<string, number>;
}

export interface MachineState {
  /**
   * Per-VM state in a persistent map (immutable.js, a hash array mapped trie): a
   * step replaces only the records it changes and shares the rest, so the cost
   * of an event does not grow with the number of VMs.
   */
  readonly vms: PMap<string, VmState>;
  readonly switches: ReadonlyMap<bigint, SwitchState>;
  /**
   * libvirt operations running now, per hypervisor host (by libvirt URI; bound:
   * config.hostOps, else park.maxConcurrentOps). Per host so a resume storm, or a
   * dead host whose calls hang until their timeout, holds back only that host's VMs.
   */
  readonly opsInFlight: ReadonlyMap<string, number>;
  /** VMs waiting for a libvirt slot on their host, first come first served per host. */
  readonly opQueue: readonly string[];
  /** Per libvirt URI: how many times the adapter (re)connected (`libvirt_up` events). */
  readonly libvirtGen: ReadonlyMap<string, number>;
  /** Fabric mode: the live topology's next hops and edge ports (the last `paths` event). */
  readonly paths?: FabricPaths | undefined;
}

/**
 * What the park machine needs from the live topology (controller/topology/graph.ts),
 * computed by the shell on start and on every graph change.
 */
export interface FabricPaths {
  /** Per sink switch: for every other switch that can reach it, the port of its first hop toward it. */
  readonly toward: ReadonlyMap<bigint, ReadonlyMap<bigint, number>>;
  /**
   * Per switch, the ports LLDP classified as edge ports (hosts, VMs): only a packet
   * entering there says where a MAC is. Link ports, and ports not classified yet
   * (a link not discovered yet looks like nothing), never move a VM.
   */
  readonly edgePorts: ReadonlyMap<bigint, ReadonlySet<number>>;
}

/** Replay only: the trace's future, for the oracle policy. Engine-clock ms of the VM's next activity (a packet that would count or wake it) strictly after `after`; undefined when none. */
export interface FutureView { nextActivity(vm: string, after: number): number | undefined; }

/** Static configuration: the inventory, indexed. */
export interface MachineConfig {
  readonly vms: readonly (VmSpec & FlowVm)[];
  readonly byName: ReadonlyMap<string, VmSpec & FlowVm>;
  readonly byMac: ReadonlyMap<string, VmSpec & FlowVm>;
  readonly byIp: ReadonlyMap<string, VmSpec & FlowVm>;
  readonly sinks: Inventory['sinks'];
  readonly park: Inventory['park'];
  readonly pollIntervalMs: number;
  /** Replay only: the trace's future (the oracle policy's knowledge); absent in the live controller. */
  readonly future?: FutureView;
  /**
   * Engine-clock ms + this = Unix epoch ms: the time of day and week the predictive
   * policy learns by. Absent: 0 (a replay whose clock is the trace's epoch time).
   */
  readonly epochOffsetMs?: number;
  /** Per libvirt URI: the host's bound on concurrent operations (hypervisors[].maxConcurrentOps); absent = park.maxConcurrentOps. */
  readonly hostOps?: ReadonlyMap<string, number>;
  /**
   * Fabric mode (`seamless controller --fabric`): a non-active VM's park and probe
   * entries and its meters are on every switch that is up, ignored traffic is
   * forwarded hop by hop to its sink, and a VM's MAC on an edge port locates it.
   * False: everything of a VM is on its own switch (single switch, replays).
   */
  readonly fabric: boolean;
  /** Per switch (inventory hypervisors[].switch): the libvirt URI of the host whose VMs attach to it. */
  readonly hostBySwitch?: ReadonlyMap<bigint, string>;
}

export type LibvirtOp = 'park' | 'wake';

export type ParkEvent =
  /** Arms the counter poll; sent once when the runtime starts. */
  | { type: 'start' }
  /**
   * What start-up found for a VM: its persisted record and libvirt's view of the
   * domain (each undefined when absent or unreadable). Sent once per VM before `start`.
   */
  | { type: 'restore'; vm: string; record: ParkRecord | undefined; libvirt: DomainRunState | undefined }
  | { type: 'switch_up'; dpid: bigint; ports: readonly { portNo: number; name: string }[]; meters: boolean }
  | { type: 'switch_down'; dpid: bigint }
  | { type: 'port_status'; dpid: bigint; reason: 'add' | 'delete' | 'modify'; portNo: number; name: string }
  /** Activity packet counters of one switch, by VM name. */
  | { type: 'flow_counts'; dpid: bigint; counts: ReadonlyMap<string, bigint> }
  | { type: 'packet_in'; dpid: bigint; inPort: number; cookie: bigint; data: Buffer }
  | { type: 'barrier_done'; vm: string; seq: number }
  | { type: 'barrier_failed'; vm: string; seq: number; error: string }
  /** The store has (or failed to write) the record of an awaited `persist` output. */
  | { type: 'persist_done'; vm: string; seq: number }
  | { type: 'persist_failed'; vm: string; seq: number; error: string }
  /**
   * `woke`: how a wake operation made the domain run (absent for parks).
   * `memory`: a park's QEMU RSS before/after, when the shell could read it.
   */
  | { type: 'libvirt_done'; vm: string; seq: number; woke?: WakeKind | undefined; memory?: MemoryMeasurement | undefined }
  /** `code`: the LibvirtError code when there is one (LIBVIRT_CONNECTION waits for a reconnect). */
  | { type: 'libvirt_failed'; vm: string; seq: number; error: string; code?: string | undefined }
  /** The libvirt adapter for `uri` (re)connected: reconcile its VMs, retry wakes that lost the connection. */
  | { type: 'libvirt_up'; uri: string }
  /** libvirt reported a lifecycle event for the VM's domain: read its state again. */
  | { type: 'libvirt_changed'; vm: string }
  /** Answer to a `read_state` output: the domain's state, or undefined with `error` when it could not be read. */
  | { type: 'libvirt_state'; vm: string; seq: number; state: DomainRunState | undefined; error?: string | undefined }
  | { type: 'timer'; key: TimerKey }
  /** Fabric mode: the live topology's next hops toward each sink switch, and its edge ports. */
  | { type: 'paths'; paths: FabricPaths }
  /** Operator commands. */
  | { type: 'park_now'; vm: string }
  | { type: 'wake_now'; vm: string };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Output =
  /** OpenFlow messages for one switch, in order (xids are assigned by the shell). */
  | { kind: 'send'; dpid: bigint; msgs: OfpMessage[] }
  /**
   * A barrier request on `dpid` (OF 1.3.5 §6.2: everything sent before it is
   * processed first). With vm/seq the shell reports barrier_done/failed. With
   * `then`, the shell sends `then.msgs` to `then.dpid` once the reply came (not
   * on a failure): make-before-break across two switches (a moved VM's old entries).
   */
  | { kind: 'barrier'; dpid: bigint; vm?: string; seq?: number; then?: { dpid: bigint; msgs: OfpMessage[] } }
  /** `uri`: the host that runs the VM now. `depth`: for parks, the depth to go to (the first rung, or the rung an escalation goes to). */
  | { kind: 'libvirt'; vm: string; op: LibvirtOp; seq: number; uri: string; depth?: Depth }
  /** Read the activity counters of a switch; the shell answers with flow_counts. */
  | { kind: 'flow_stats'; dpid: bigint }
  /**
   * Read the domain's state from libvirt; the shell answers with libvirt_state
   * carrying `seq` (the VM's opSeq when asked: an answer that crossed one of our
   * own libvirt operations is stale and ignored).
   */
  | { kind: 'read_state'; vm: string; seq: number; uri: string }
  | { kind: 'set_timer'; key: TimerKey; at: number }
  | { kind: 'cancel_timer'; key: TimerKey }
  /**
   * Write the VM's record to the state store (`record.since` is on the engine's
   * clock; the shell converts it to epoch ms). With `seq` the write is awaited:
   * the shell reports persist_done/persist_failed.
   */
  | { kind: 'persist'; vm: string; record: ParkRecord; seq?: number }
  /**
   * A named transition. Facts of the transition ride along so logs, metrics and the
   * run report consume them from here: the VM's depth; on parking -> parked the memory
   * that park released (measured); on the transition that ends an idle period the
   * energy that period saved against staying up (negative: it did not pay off).
   */
  | { kind: 'transition'; vm: string; from: Phase; to: Phase; reason: ParkReason; durationMs?: number; depth?: Depth; memoryReleasedBytes?: number; energySavedJoules?: number }
  | { kind: 'log'; level: LogLevel; vm?: string; msg: string };

/**
 * A per-VM counter the step moved (VmCounters' keys, plus `held`: a packet was
 * queued for a waking VM). Observers (metrics) count from these, so every path
 * that counts in the machine is counted there too.
 */
export interface CountDelta {
  readonly vm: string;
  readonly key: keyof VmCounters | 'held';
  readonly n: number;
}

export interface StepResult {
  readonly state: MachineState;
  readonly out: Output[];
  /** The counters this step moved, in order. */
  readonly counts: readonly CountDelta[];
  /** packet_in only: the packet was for the park engine (no other app should see it). */
  readonly consumed: boolean;
}
