// The controller's Prometheus metrics (docs/operations.md, "Metrics"): one
// registry per daemon (never prom-client's global one, so tests can run several),
// fixed label sets, help text on each. Transition counts come from the machine's
// own outputs (ParkObserver), state gauges are read at scrape time.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DisconnectReason } from '../app.js';
import type { Depth } from '../inventory/types.js';
import type { CountDelta, Output, Phase } from '../park/model.js';
import type { LibvirtOpName, ParkObserver, ParkPacketVerdict } from '../park/observer.js';
import type { ConnectionObserver } from '../switch/connection.js';
import { DEPTHS, DISCONNECT_REASONS, ECHO_BUCKETS, LIBVIRT_BUCKETS, LIBVIRT_OPS, PHASES, VERDICTS, WAKE_BUCKETS } from './catalogue.js';
import { zeroEconomics, type VmEconomics } from './economics.js';

/** Where the scrape-time gauges read from; each is optional (absent = nothing to report). */
export interface MetricsSources {
  /** Every inventory VM's current phase. */
  vmPhases?(): Iterable<{ readonly name: string; readonly phase: Phase }>;
  /** Switches UP now. */
  switchesConnected?(): number;
  /** The state store's health. */
  store?(): { readonly healthy: boolean; readonly pendingWrites: number };
  economics?: VmEconomics;
  /** Every hypervisor host of the inventory and whether its libvirt connection is up now. */
  hypervisors?(): Iterable<{ readonly name: string; readonly up: boolean }>;
}

export interface MetricsOptions {
  /** The inventory's VMs (bounded label values): name and parking depth. */
  readonly vms: readonly { readonly name: string; readonly depth: Depth }[];
}

type Transition = Extract<Output, { kind: 'transition' }>;

/** The metrics of one daemon, and the observers that feed them. */
export class SeamlessMetrics {
  readonly registry = new Registry();
  private sources: MetricsSources = {};
  private readonly depthOf: ReadonlyMap<string, Depth>;
  private readonly vmNames: readonly string[];

  private readonly transitions: Counter<'vm' | 'from' | 'to' | 'reason'>;
  private readonly parks: Counter<'vm' | 'depth'>;
  private readonly wakes: Counter<'vm' | 'depth' | 'reason'>;
  private readonly parkFailures: Counter<'vm' | 'depth'>;
  private readonly wakeFailures: Counter<'vm' | 'depth'>;
  private readonly wakeDuration: Histogram<'depth'>;
  private readonly held: Counter<'vm'>;
  private readonly heldDropped: Counter<'vm'>;
  private readonly packetIns: Counter<'verdict'>;
  private readonly libvirtDuration: Histogram<'op'>;
  private readonly libvirtErrors: Counter<'op' | 'code'>;
  private readonly ofpErrors: Counter<'type' | 'code'>;
  private readonly disconnects: Counter<'reason'>;
  private readonly echoRtt: Histogram;

  constructor(opts: MetricsOptions) {
    const registers = [this.registry];
    this.depthOf = new Map(opts.vms.map((v) => [v.name, v.depth]));
    this.vmNames = opts.vms.map((v) => v.name);
    const self = this;

    new Gauge({
      name: 'seamless_vms',
      help: 'VMs per park state (every state present, 0 when none).',
      labelNames: ['state'],
      registers,
      collect() {
        const n = new Map<Phase, number>(PHASES.map((p) => [p, 0]));
        for (const v of self.sources.vmPhases?.() ?? []) n.set(v.phase, (n.get(v.phase) ?? 0) + 1);
        for (const [state, count] of n) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'seamless_vm_state',
      help: "1 for the VM's current park state, 0 for the others.",
      labelNames: ['vm', 'state'],
      registers,
      collect() {
        for (const v of self.sources.vmPhases?.() ?? []) {
          for (const state of PHASES) this.set({ vm: v.name, state }, state === v.phase ? 1 : 0);
        }
      },
    });
    this.transitions = new Counter({
      name: 'seamless_transitions_total',
      help: 'VM state transitions, as the park machine emits them (from, to, reason).',
      labelNames: ['vm', 'from', 'to', 'reason'],
      registers,
    });
    this.parks = new Counter({ name: 'seamless_parks_total', help: 'Parks completed (parking -> parked).', labelNames: ['vm', 'depth'], registers });
    this.wakes = new Counter({
      name: 'seamless_wakes_total',
      help: 'Wakes completed (waking -> active), by reason woken (probe answered) or woken-unconfirmed.',
      labelNames: ['vm', 'depth', 'reason'],
      registers,
    });
    this.parkFailures = new Counter({
      name: 'seamless_park_failures_total',
      help: 'Parks that failed (libvirt or the park flows\' barrier failed; the VM stays active).',
      labelNames: ['vm', 'depth'],
      registers,
    });
    this.wakeFailures = new Counter({ name: 'seamless_wake_failures_total', help: 'Wakes that gave up (to wake_failed).', labelNames: ['vm', 'depth'], registers });
    this.wakeDuration = new Histogram({
      name: 'seamless_wake_duration_seconds',
      help: 'Wake duration: first packet (or operator wake) to the VM reachable and its flows switched.',
      labelNames: ['depth'],
      buckets: WAKE_BUCKETS,
      registers,
    });
    this.held = new Counter({ name: 'seamless_held_packets_total', help: 'Packets held by the controller while the VM woke.', labelNames: ['vm'], registers });
    this.heldDropped = new Counter({
      name: 'seamless_held_dropped_total',
      help: 'Held packets dropped (hold queue full, a wake gave up, or the VM parked again).',
      labelNames: ['vm'],
      registers,
    });
    this.packetIns = new Counter({
      name: 'seamless_packet_ins_total',
      help: 'Packet-ins by verdict: what the park engine did with it (park_*), or handled by the L2 fabric (l2).',
      labelNames: ['verdict'],
      registers,
    });
    this.libvirtDuration = new Histogram({
      name: 'seamless_libvirt_operation_duration_seconds',
      help: 'libvirt operations run by the park engine (park, wake, read_state), successful or not.',
      labelNames: ['op'],
      buckets: LIBVIRT_BUCKETS,
      registers,
    });
    this.libvirtErrors = new Counter({
      name: 'seamless_libvirt_operation_errors_total',
      help: 'Failed libvirt operations by LibvirtError code (unknown when the error had none).',
      labelNames: ['op', 'code'],
      registers,
    });
    this.ofpErrors = new Counter({
      name: 'seamless_openflow_errors_total',
      help: 'OFPT_ERROR messages received from switches, by numeric type and code (OF 1.3.5 §7.4.4).',
      labelNames: ['type', 'code'],
      registers,
    });
    new Gauge({
      name: 'seamless_switches_connected',
      help: 'Switches connected and UP now (main connections).',
      registers,
      collect() {
        this.set(self.sources.switchesConnected?.() ?? 0);
      },
    });
    new Gauge({
      name: 'seamless_hypervisor_connected',
      help: "1 while the controller's libvirt connection to the hypervisor host is up, 0 while it is down or connecting.",
      labelNames: ['hypervisor'],
      registers,
      collect() {
        for (const h of self.sources.hypervisors?.() ?? []) this.set({ hypervisor: h.name }, h.up ? 1 : 0);
      },
    });
    this.disconnects = new Counter({
      name: 'seamless_switch_disconnects_total',
      help: 'Switches that went down after being UP, by disconnect reason.',
      labelNames: ['reason'],
      registers,
    });
    this.echoRtt = new Histogram({ name: 'seamless_echo_rtt_seconds', help: 'Keepalive echo request round trip to a switch.', buckets: ECHO_BUCKETS, registers });
    new Gauge({
      name: 'seamless_store_healthy',
      help: '1 when the parked-state store is healthy (always 1 for the in-memory store).',
      registers,
      collect() {
        this.set(self.sources.store?.().healthy === false ? 0 : 1);
      },
    });
    new Gauge({
      name: 'seamless_store_pending_writes',
      help: 'Parked-state records written but not yet acknowledged by the store.',
      registers,
      collect() {
        this.set(self.sources.store?.().pendingWrites ?? 0);
      },
    });
    new Gauge({
      name: 'seamless_memory_released_bytes',
      help: 'Memory released now by a parked VM (0 when active), measured.',
      labelNames: ['vm'],
      registers,
      collect() {
        const e = self.sources.economics ?? zeroEconomics;
        for (const vm of self.vmNames) this.set({ vm }, e.memoryReleasedBytes(vm));
      },
    });
    new Gauge({
      name: 'seamless_memory_swapped_bytes',
      help: "A parked VM's QEMU memory in swap (depth reclaim; 0 when active), measured after its park.",
      labelNames: ['vm'],
      registers,
      collect() {
        const e = self.sources.economics ?? zeroEconomics;
        for (const vm of self.vmNames) this.set({ vm }, e.memorySwappedBytes?.(vm) ?? 0);
      },
    });
    new Gauge({
      name: 'seamless_memory_compressed_bytes',
      help: "RAM zram spends on a parked VM's swapped memory (depth reclaim; 0 when active): not released.",
      labelNames: ['vm'],
      registers,
      collect() {
        const e = self.sources.economics ?? zeroEconomics;
        for (const vm of self.vmNames) this.set({ vm }, e.memoryCompressedBytes?.(vm) ?? 0);
      },
    });
    new Gauge({
      name: 'seamless_energy_saved_joules',
      help: 'Energy saved so far by parking this VM, net of park and wake costs.',
      labelNames: ['vm'],
      registers,
      collect() {
        const e = self.sources.economics ?? zeroEconomics;
        for (const vm of self.vmNames) this.set({ vm }, e.energySavedJoules(vm));
      },
    });
    // A counter whose total lives in the accounting: each scrape adds what it grew by.
    const unprofitableSeen = new Map<string, number>();
    new Counter({
      name: 'seamless_parks_unprofitable_total',
      help: "Parks whose idle period was shorter than the depth's break-even time (parking cost more than it saved).",
      labelNames: ['vm', 'depth'],
      registers,
      collect() {
        const e = self.sources.economics ?? zeroEconomics;
        for (const vm of self.vmNames) {
          const depth = self.depthOf.get(vm)!;
          const total = e.unprofitableParks(vm, depth);
          const grew = total - (unprofitableSeen.get(vm) ?? 0);
          if (grew > 0) {
            this.inc({ vm, depth }, grew);
            unprofitableSeen.set(vm, total);
          } else this.inc({ vm, depth }, 0);
        }
      },
    });

    // Every series of a bounded label set exists from the start (0), so a rate() or a
    // dashboard query is not empty before the first event.
    for (const [vm, depth] of this.depthOf) {
      this.parks.inc({ vm, depth }, 0);
      this.parkFailures.inc({ vm, depth }, 0);
      this.wakeFailures.inc({ vm, depth }, 0);
      for (const reason of ['woken', 'woken-unconfirmed']) this.wakes.inc({ vm, depth, reason }, 0);
      this.held.inc({ vm }, 0);
      this.heldDropped.inc({ vm }, 0);
    }
    for (const depth of DEPTHS) this.wakeDuration.zero({ depth });
    for (const verdict of VERDICTS) this.packetIns.inc({ verdict }, 0);
    for (const op of LIBVIRT_OPS) this.libvirtDuration.zero({ op });
    for (const reason of DISCONNECT_REASONS) this.disconnects.inc({ reason }, 0);
  }

  /** Where scrape-time gauges read from (set once the park app, controller and store exist). */
  bind(sources: MetricsSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** The park app's observer (ParkAppOptions.observer). */
  readonly park: ParkObserver = {
    output: (o) => {
      if (o.kind === 'transition') this.transition(o);
    },
    counted: (d: CountDelta) => {
      if (d.key === 'held') this.held.inc({ vm: d.vm }, d.n);
      else if (d.key === 'heldDropped') this.heldDropped.inc({ vm: d.vm }, d.n);
    },
    packetIn: (verdict: ParkPacketVerdict) => this.packetIns.inc({ verdict }),
    libvirtOp: (op: LibvirtOpName, seconds: number, errorCode: string | undefined) => {
      this.libvirtDuration.observe({ op }, seconds);
      if (errorCode !== undefined) this.libvirtErrors.inc({ op, code: errorCode });
    },
  };

  /** The switch connections' observer (ControllerOptions.observer). */
  readonly connection: ConnectionObserver = {
    ofpError: (errType, code) => this.ofpErrors.inc({ type: String(errType), code: String(code) }),
    echoRtt: (ms) => this.echoRtt.observe(ms / 1000),
  };

  /** A packet-in handled by the L2 fabric (L2AppOptions.onPacketIn). */
  readonly l2PacketIn = (): void => {
    this.packetIns.inc({ verdict: 'l2' });
  };

  /** A switch that was UP went down (the controller's 'switchDown' event). */
  switchDown(reason: DisconnectReason): void {
    this.disconnects.inc({ reason });
  }

  /** The exposition text (what GET /metrics serves). */
  expose(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private transition(t: Transition): void {
    const depth = this.depthOf.get(t.vm);
    if (depth === undefined) return; // not an inventory VM: its name is not a bounded label value
    const vm = t.vm;
    this.transitions.inc({ vm, from: t.from, to: t.to, reason: t.reason });
    // An escalation (parked -> parking -> parked, deeper) is not a new park; its failure is a park failure (the machine counts it so).
    if (t.from === 'parking' && t.to === 'parked' && t.reason === 'parked') this.parks.inc({ vm, depth });
    if (t.reason === 'park-failed' || t.reason === 'park-barrier-failed' || t.reason === 'escalate-failed') this.parkFailures.inc({ vm, depth });
    if (t.to === 'wake_failed') this.wakeFailures.inc({ vm, depth });
    if (t.from === 'waking' && t.to === 'active' && (t.reason === 'woken' || t.reason === 'woken-unconfirmed')) {
      this.wakes.inc({ vm, depth, reason: t.reason });
      if (t.durationMs !== undefined) this.wakeDuration.observe({ depth }, t.durationMs / 1000);
    }
  }
}
