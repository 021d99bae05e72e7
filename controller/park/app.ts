// The runtime shell of the park engine: turns App callbacks, libvirt results,
// barrier replies, flow stats and timers into machine events, and executes the
// machine's outputs. All decisions live in machine.ts; this file only does I/O.
import type { App, Datapath, Msg } from '../app.js';
import type { Depth, Inventory } from '../inventory/types.js';
import { energyDepthOf } from './depth.js';
import type { DomainRunState, Hypervisor } from '../libvirt/hypervisor.js';
import type { Logger } from '../log.js';
import { OFPET_METER_MOD_FAILED, OFPMMFC_METER_EXISTS, OFPPR_ADD, OFPPR_DELETE } from '../openflow/constants.js';
import type { OfpMessage } from '../openflow/types.js';
import type { Clock, TimerHandle } from '../clock.js';
import { activityCounts, activityStatsRequest, decodeCookie, parkStatsRequest, staleVmDeletes } from './flows.js';
import { parkDomain, wakeDomain, type ParkOutcome, type WakeKind } from './hypervisor.js';
import { vmEnergyNow, type VmEnergyNow } from '../energy/account.js';
import { DEFAULT_POWER_PROFILE } from '../energy/profile.js';
import { isLocalQemu, libvirtRssReader, measureAround, qemuOffloadReader, qemuRssReader, type OffloadReader, type RssAround, type RssReader } from '../energy/memory.js';
import { METERS_PER_VM } from './ids.js';
import {
  configFromInventory,
  initialState,
  step,
  timerId,
  type Failure,
  type MachineConfig,
  type MachineState,
  type Output,
  type ParkEvent,
  type Phase,
  type Step,
  type StepResult,
  type VmCounters,
} from './machine.js';
import { packetVerdict, type ParkObserver } from './observer.js';
import type { ParkRecord, StateStore } from './store.js';
import type { FabricPaths, ParkMemory } from './model.js';
import type { TopologyGraph } from '../topology/graph.js';

export interface ParkAppOptions {
  inventory: Inventory;
  /** The hypervisor connection for a libvirt URI (called once per URI, then cached). */
  hypervisors: (uri: string) => Hypervisor;
  clock: Clock;
  /**
   * Parked-state persistence. The parked intent is written (awaited) before
   * libvirt is asked to park; without a store a restart still finds parked VMs
   * through libvirt's domain states (start-up reconciliation).
   */
  store?: StateStore;
  /**
   * Maps the clock's time to epoch ms for the `since` of stored records
   * (default: `Date.now() - clock.now() + t`, read at each write).
   */
  toEpoch?: (t: number) => number;
  log: Logger;
  /** Called on every VM transition (metrics, event streams). */
  onTransition?: (t: Extract<Output, { kind: 'transition' }>) => void;
  /** Passive observer of every step's outputs and counters, packet-in verdicts and libvirt timings (metrics). */
  observer?: ParkObserver;
  /** Timeout of barriers and flow stats requests (default 5000 ms). */
  requestTimeoutMs?: number;
  /**
   * Reads a domain's QEMU RSS around each park (memory released, docs/energy.md).
   * Default: /proc via libvirt's PID file for qemu:///system URIs, libvirt's
   * domain memory stats (`rss`) for others whose adapter has them.
   */
  readRss?: RssReader;
  /** Reads a parked domain's swap and zram share (depth reclaim); default: /proc and /sys/block for qemu:///system. */
  readOffload?: OffloadReader;
  /**
   * Fabric mode (`seamless controller --fabric`, docs/parking.md#fabric): park and
   * probe entries and meters of non-active VMs on every switch, ignored traffic
   * forwarded hop by hop to the sink along `topology`, VMs followed by their MAC on
   * edge ports. Default false: everything of a VM on its own switch.
   */
  fabric?: boolean;
  /** The live topology (fabric mode): next hops toward sinks and edge ports come from it. */
  topology?: TopologyGraph;
}

/** A VM as the operator sees it. */
export interface VmStatus {
  name: string;
  phase: Phase;
  step: Step;
  since: number;
  /** The depth the VM is parked at now (escalation deepens it); undefined while active. */
  depth: Depth | undefined;
  portNo: number | undefined;
  /** The switch the VM is attached to now (it follows the VM's tap or MAC). */
  dpid: bigint;
  /** The libvirt URI of the host that runs the VM now. */
  uri: string;
  held: number;
  /** The problem the VM has now; undefined once it is parked or woken again. */
  lastError: string | undefined;
  /** The most recent error and when (engine clock), kept after the VM recovered. */
  lastFailure: Failure | undefined;
  counters: VmCounters;
  /** Memory released, energy saved and parks that did not pay off, at the time of the call (docs/energy.md). */
  energy: VmEnergyNow;
  /** What the last park measured (RSS, and for reclaim swap and zram's copy); undefined when unmeasured. */
  lastPark: ParkMemory | undefined;
}

export interface ParkApp extends App {
  /** Resolves once persisted state is loaded and the engine runs (events before that are queued). */
  readonly ready: Promise<void>;
  status(): VmStatus[];
  /** Operator commands; no-ops (logged) when the VM is not in a state to accept them. */
  parkNow(vm: string): void;
  wakeNow(vm: string): void;
  /** The machine's state, for tests and debugging. */
  machineState(): MachineState;
}

/** Creates the park engine as an App. Run it before the L2 fabric so it sees packet-ins first. */
export function createParkApp(opts: ParkAppOptions): ParkApp {
  const { clock, log } = opts;
  // The predictive policy learns by time of day and week: engine time + this = epoch ms.
  const cfg: MachineConfig = { ...configFromInventory(opts.inventory), epochOffsetMs: opts.toEpoch ? opts.toEpoch(0) : Date.now() - clock.now(), fabric: opts.fabric === true };
  const obs = opts.observer;
  const timeoutMs = opts.requestTimeoutMs ?? 5000;
  const vmById = new Map(cfg.vms.map((v) => [v.id, v]));
  const toEpoch = opts.toEpoch ?? ((t: number) => Date.now() - clock.now() + t);
  const defaultRss = qemuRssReader();
  const defaultOffload = qemuOffloadReader();
  let state = initialState(cfg, clock.now());
  const dps = new Map<bigint, Datapath>();
  const timers = new Map<string, TimerHandle>();
  const hypervisors = new Map<string, Hypervisor>();
  const unsubscribe: Array<() => void> = [];
  /**
   * Domain state reads in flight and waiting, per hypervisor host (bounded, like
   * start-up's 16): a dead host's reads, each up to its connect timeout, must not
   * take the slots of another host's reads.
   */
  const reads = new Map<string, { n: number; queue: Array<() => void> }>();
  const MAX_READS = 16;
  const backlog: ParkEvent[] = [];
  let ready = false;
  let stopped = false;
  let dispatching = false;
  const pending: ParkEvent[] = [];

  /**
   * Deletes the park entries of VMs no longer in the inventory (their cookie names
   * no current VM id): they would keep catching traffic for an address nobody
   * serves. Entries of current VMs are left alone, so their traffic is not disturbed.
   */
  async function deleteStaleEntries(dp: Datapath): Promise<void> {
    try {
      const replies = await dp.request({ ...parkStatsRequest(), xid: dp.nextXid() } as OfpMessage, { timeoutMs });
      const stats = replies.flatMap((r) => (r.type === 'multipart_reply' && r.body.mpType === 'flow' ? r.body.stats : []));
      const deletes = staleVmDeletes(stats, new Set(vmById.keys()));
      if (deletes.length === 0 || !dp.connected) return;
      log.info('deleting park entries of VMs no longer in the inventory', { dpid: dp.idHex, vmIds: deletes.length });
      dp.send(...deletes.map((m) => ({ ...m, xid: dp.nextXid() }) as OfpMessage));
    } catch (e: unknown) {
      log.warn('park entries of removed VMs not checked', { dpid: dp.idHex, err: e });
    }
  }

  function hv(uri: string): Hypervisor {
    let h = hypervisors.get(uri);
    if (!h) {
      h = opts.hypervisors(uri);
      hypervisors.set(uri, h);
      watch(uri, h);
    }
    return h;
  }

  /**
   * Every (re)connection of the adapter and every lifecycle event of one of our
   * domains goes to the machine, which reads the domain states again: so a
   * controller started while libvirt was unreachable, or a guest stopped behind
   * its back, is reconciled as soon as libvirt says so (docs/parking.md).
   */
  function watch(uri: string, h: Hypervisor): void {
    // Every VM with that domain name; the event is for those the host runs now (a VM follows its host).
    const byDomain = new Map<string, string[]>();
    for (const v of cfg.vms) byDomain.set(v.libvirt.domain, [...(byDomain.get(v.libvirt.domain) ?? []), v.name]);
    if (h.onConnection) {
      unsubscribe.push(
        h.onConnection(() => {
          log.info('libvirt connected', { uri });
          dispatch({ type: 'libvirt_up', uri });
        }),
      );
    }
    if (h.onLifecycle) {
      unsubscribe.push(
        h.onLifecycle((domain, event, detail) => {
          const vms = byDomain.get(domain)?.filter((vm) => state.vms.get(vm)?.uri === uri);
          if (vms === undefined || vms.length === 0) return;
          log.debug('libvirt lifecycle event', { uri, domain, event, detail });
          for (const vm of vms) dispatch({ type: 'libvirt_changed', vm });
        }),
      );
    }
  }

  function readDomainState(vm: string, seq: number, uri: string): void {
    const spec = cfg.byName.get(vm)!;
    let host = reads.get(uri);
    if (host === undefined) reads.set(uri, (host = { n: 0, queue: [] }));
    const slots = host;
    if (slots.n >= MAX_READS) {
      slots.queue.push(() => readDomainState(vm, seq, uri));
      return;
    }
    slots.n++;
    const started = clock.now();
    hv(uri)
      .getState(spec.libvirt.domain)
      .then(
        (st) => {
          obs?.libvirtOp?.('read_state', (clock.now() - started) / 1000, undefined);
          dispatch({ type: 'libvirt_state', vm, seq, state: st.state });
        },
        (e: unknown) => {
          obs?.libvirtOp?.('read_state', (clock.now() - started) / 1000, errCode(e) ?? 'unknown');
          dispatch({ type: 'libvirt_state', vm, seq, state: undefined, error: errText(e) });
        },
      )
      .finally(() => {
        slots.n--;
        slots.queue.shift()?.();
      });
  }

  /** Feeds one event to the machine and executes its outputs; returns `consumed`. */
  function dispatch(ev: ParkEvent): boolean {
    if (stopped) return false;
    if (!ready) {
      backlog.push(ev);
      return false;
    }
    if (dispatching) {
      // An output completed synchronously: handle it after the current step.
      pending.push(ev);
      return false;
    }
    dispatching = true;
    let consumed = false;
    try {
      const r = step(cfg, state, ev, clock.now());
      state = r.state;
      consumed = r.consumed;
      if (obs !== undefined) observe(r, ev.type === 'packet_in' && consumed);
      for (const o of r.out) execute(o);
      for (let i = 0; i < 10_000 && pending.length > 0; i++) {
        const next = step(cfg, state, pending.shift()!, clock.now());
        state = next.state;
        if (obs !== undefined) observe(next, false);
        for (const o of next.out) execute(o);
      }
    } catch (e) {
      log.error('park engine step failed', { event: ev.type, err: e });
    } finally {
      dispatching = false;
    }
    return consumed;
  }

  /** Tells the observer what a step emitted; an observer's exception must not stop the engine. */
  function observe(r: StepResult, consumedPacketIn: boolean): void {
    try {
      for (const d of r.counts) obs?.counted?.(d);
      if (consumedPacketIn) obs?.packetIn?.(packetVerdict(r.counts));
      for (const o of r.out) obs?.output?.(o);
    } catch (e) {
      log.error('park observer failed', { err: e });
    }
  }

  function later(ev: ParkEvent): void {
    queueMicrotask(() => dispatch(ev));
  }

  function execute(o: Output): void {
    switch (o.kind) {
      case 'send': {
        const dp = dps.get(o.dpid);
        if (!dp?.connected) return;
        dp.send(...o.msgs.map((m) => ({ ...m, xid: dp.nextXid() }) as OfpMessage));
        return;
      }
      case 'barrier': {
        const dp = dps.get(o.dpid);
        const vm = o.vm;
        const seq = o.seq ?? 0;
        if (!dp?.connected) {
          if (vm !== undefined) later({ type: 'barrier_failed', vm, seq, error: 'switch not connected' });
          return;
        }
        const then = o.then;
        dp.barrier({ timeoutMs }).then(
          () => {
            if (then !== undefined) {
              // Make-before-break across switches: what the barrier confirmed is in, now the old goes.
              const old = dps.get(then.dpid);
              if (old?.connected) old.send(...then.msgs.map((m) => ({ ...m, xid: old.nextXid() }) as OfpMessage));
            }
            if (vm !== undefined) dispatch({ type: 'barrier_done', vm, seq });
          },
          (e: unknown) => {
            if (vm !== undefined) dispatch({ type: 'barrier_failed', vm, seq, error: errText(e) });
            else log.warn('barrier failed', { dpid: dp.idHex, err: e });
          },
        );
        return;
      }
      case 'libvirt': {
        const spec = cfg.byName.get(o.vm)!;
        // The host that runs the VM now (the machine follows it to another host's switch).
        const uri = o.uri;
        const h = hv(uri);
        const started = clock.now();
        const { domain } = spec.libvirt;
        // /proc for a local QEMU, else libvirt's memory stats when the adapter has them.
        const rss = opts.readRss ?? (isLocalQemu(uri) ? defaultRss : h.memoryStats ? libvirtRssReader(h) : undefined);
        // The depth the machine asks for: the first rung, or the rung an escalation goes to.
        const depth = o.depth ?? spec.depth;
        let outcome: ParkOutcome = {};
        const park = async (): Promise<void> => {
          outcome = await parkDomain(h, domain, depth);
        };
        // Swap and zram are read only for a local QEMU (its /proc); remote hosts report RSS only.
        const offload = opts.readOffload ?? (isLocalQemu(uri) ? defaultOffload : undefined);
        const op: Promise<{ woke?: WakeKind; memory?: RssAround | undefined }> =
          o.op === 'park'
            ? rss === undefined
              ? park().then(() => ({}))
              : measureAround(rss, uri, domain, park, offload).then((memory) => ({ memory }))
            : wakeDomain(h, domain).then((woke) => ({ woke }));
        op.then(
          ({ woke, memory }) => {
            if (outcome.memoryKept !== undefined) {
              // Parked all the same (paused, memory kept, wake = resume): never lost, only not released.
              log.warn('reclaim: memory not released, the VM stays paused with its memory', { vm: o.vm, domain, err: outcome.memoryKept });
            }
            obs?.libvirtOp?.(o.op, (clock.now() - started) / 1000, undefined);
            log.debug('libvirt op done', { vm: o.vm, op: o.op, ...(o.op === 'park' ? { depth } : {}), ms: clock.now() - started, ...(woke ? { woke } : {}), ...(memory ? { rssBefore: memory.beforeBytes, rssAfter: memory.afterBytes } : {}) });
            dispatch({ type: 'libvirt_done', vm: o.vm, seq: o.seq, woke, memory });
          },
          (e: unknown) => {
            obs?.libvirtOp?.(o.op, (clock.now() - started) / 1000, errCode(e) ?? 'unknown');
            log.warn('libvirt op failed', { vm: o.vm, op: o.op, ...(o.op === 'park' ? { depth } : {}), err: e });
            dispatch({ type: 'libvirt_failed', vm: o.vm, seq: o.seq, error: errText(e), code: errCode(e) });
          },
        );
        return;
      }
      case 'flow_stats': {
        const dp = dps.get(o.dpid);
        if (!dp?.connected) return;
        dp.request({ ...activityStatsRequest(), xid: dp.nextXid() } as OfpMessage, { timeoutMs }).then(
          (replies) => {
            const byId = new Map<number, bigint>();
            for (const r of replies) {
              if (r.type !== 'multipart_reply' || r.body.mpType !== 'flow') continue;
              for (const [i, n] of activityCounts(r.body.stats)) byId.set(i, (byId.get(i) ?? 0n) + n);
            }
            const counts = new Map<string, bigint>();
            for (const [i, n] of byId) {
              const v = vmById.get(i);
              if (v) counts.set(v.name, n);
            }
            dispatch({ type: 'flow_counts', dpid: o.dpid, counts });
          },
          (e: unknown) => log.warn('activity counters not read', { dpid: dp.idHex, err: e }),
        );
        return;
      }
      case 'read_state':
        readDomainState(o.vm, o.seq, o.uri);
        return;
      case 'set_timer': {
        const id = timerId(o.key);
        const old = timers.get(id);
        if (old) clock.clearTimer(old);
        const key = o.key;
        timers.set(
          id,
          clock.setTimer(() => {
            timers.delete(id);
            dispatch({ type: 'timer', key });
          }, o.at - clock.now()),
        );
        return;
      }
      case 'cancel_timer': {
        const id = timerId(o.key);
        const old = timers.get(id);
        if (old) clock.clearTimer(old);
        timers.delete(id);
        return;
      }
      case 'persist': {
        const { vm, seq } = o;
        const record = { ...o.record, since: Math.round(toEpoch(o.record.since)) };
        if (!opts.store) {
          if (seq !== undefined) later({ type: 'persist_done', vm, seq });
          return;
        }
        let put: Promise<void>;
        try {
          put = opts.store.put(vm, record);
        } catch (e) {
          put = Promise.reject(e instanceof Error ? e : new Error(String(e)));
        }
        put.then(
          () => {
            if (seq !== undefined) dispatch({ type: 'persist_done', vm, seq });
          },
          (e: unknown) => {
            log.error('park state not persisted', { vm, state: record.state, err: e });
            if (seq !== undefined) dispatch({ type: 'persist_failed', vm, seq, error: errText(e) });
          },
        );
        return;
      }
      case 'transition': {
        // The run report (controller/report/events.ts) reads these fields back.
        const fields: Record<string, unknown> = { vm: o.vm, from: o.from, to: o.to, reason: o.reason };
        if (o.durationMs !== undefined) fields.durationMs = o.durationMs;
        if (o.depth !== undefined) fields.depth = o.depth;
        if (o.memoryReleasedBytes !== undefined) fields.memoryReleasedBytes = o.memoryReleasedBytes;
        if (o.energySavedJoules !== undefined) fields.energySavedJoules = o.energySavedJoules;
        log.info('vm transition', fields);
        opts.onTransition?.(o);
        return;
      }
      case 'log': {
        const fields = o.vm === undefined ? {} : { vm: o.vm };
        log[o.level](o.msg, fields);
        return;
      }
    }
  }

  /** Reads every VM's stored record and libvirt's domain state (the machine reconciles them). */
  async function load(): Promise<ParkEvent[]> {
    // Hosts named by a switch (hypervisors[].switch) are watched from the start: a VM may
    // move there before any operation of ours opens that connection (lifecycle events, reconnects).
    for (const uri of new Set(cfg.hostBySwitch?.values() ?? [])) hv(uri);
    const events: ParkEvent[] = new Array(cfg.vms.length);
    const one = async (i: number): Promise<void> => {
      const v = cfg.vms[i]!;
      let record: ParkRecord | undefined;
      let domain: DomainRunState | undefined;
      if (opts.store) {
        try {
          record = await opts.store.get(v.name);
        } catch (e) {
          // Unknown: libvirt's state decides (a paused/saved guest is parked), else active; if it
          // is in fact parked it is seen idle and re-parked (idempotent), its park flows back then.
          log.error('park state not loaded; assuming active unless libvirt reports the domain paused or shut off', { vm: v.name, err: e });
        }
      }
      const started = clock.now();
      try {
        // A VM that had moved to another host before the restart is read there (the record says where).
        domain = (await hv(record?.uri ?? v.libvirt.uri).getState(v.libvirt.domain)).state;
        obs?.libvirtOp?.('read_state', (clock.now() - started) / 1000, undefined);
      } catch (e) {
        obs?.libvirtOp?.('read_state', (clock.now() - started) / 1000, errCode(e) ?? 'unknown');
        // The machine keeps it UNKNOWN (unless the store says parked) and reads it again when libvirt reconnects.
        log.warn('domain state not read at start-up; unknown until libvirt answers', { vm: v.name, domain: v.libvirt.domain, err: e });
      }
      events[i] = { type: 'restore', vm: v.name, record, libvirt: domain };
    };
    // Bounded parallelism: thousands of VMs must not open thousands of requests at once.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < cfg.vms.length) await one(next++);
    };
    await Promise.all(Array.from({ length: Math.min(16, cfg.vms.length) }, worker));
    return events;
  }

  const readyPromise = load().then((restored) => {
    if (stopped) return;
    ready = true;
    for (const ev of restored) dispatch(ev);
    dispatch({ type: 'start' });
    const graph = opts.topology;
    if (cfg.fabric && graph !== undefined) {
      // Next hops toward the sinks and edge ports now and after every change of the live graph.
      dispatch({ type: 'paths', paths: fabricPaths(graph, cfg) });
      unsubscribe.push(graph.onChange(() => dispatch({ type: 'paths', paths: fabricPaths(graph, cfg) })));
    }
    for (const ev of backlog.splice(0)) dispatch(ev);
  });

  return {
    name: 'park',
    ready: readyPromise,

    async switchUp(dp: Datapath): Promise<void> {
      dps.set(dp.id, dp);
      const meters = await metersSupported(dp, cfg, timeoutMs);
      if (dps.get(dp.id) !== dp || !dp.connected) return; // replaced or gone meanwhile
      dispatch({ type: 'switch_up', dpid: dp.id, ports: [...dp.ports.values()].map((p) => ({ portNo: p.portNo, name: p.name })), meters });
      await deleteStaleEntries(dp);
    },

    switchDown(dp: Datapath): void {
      if (dps.get(dp.id) === dp) dps.delete(dp.id);
      dispatch({ type: 'switch_down', dpid: dp.id });
    },

    packetIn(dp: Datapath, msg: Msg<'packet_in'>): boolean {
      let inPort = 0;
      for (const f of msg.match) {
        if (f.field === 'in_port') {
          inPort = f.value;
          break;
        }
      }
      if (!ready) {
        // Stale park entries: dropped until loaded.
        const ours = decodeCookie(msg.cookie) !== undefined;
        if (ours) obs?.packetIn?.('park_other');
        return ours;
      }
      return dispatch({ type: 'packet_in', dpid: dp.id, inPort, cookie: msg.cookie, data: msg.data });
    },

    portStatus(dp: Datapath, msg: Msg<'port_status'>): void {
      const reason = msg.reason === OFPPR_ADD ? 'add' : msg.reason === OFPPR_DELETE ? 'delete' : 'modify';
      dispatch({ type: 'port_status', dpid: dp.id, reason, portNo: msg.desc.portNo, name: msg.desc.name });
    },

    error(dp: Datapath, msg: Msg<'error'>): void {
      // switchUp adds our meters unconditionally; "already exists" after a reconnect is expected.
      if (msg.errType === OFPET_METER_MOD_FAILED && 'code' in msg && msg.code === OFPMMFC_METER_EXISTS) return;
      log.warn('switch reported an error', { dpid: dp.idHex, errType: msg.errType, code: 'code' in msg ? msg.code : undefined });
    },

    async stop(): Promise<void> {
      stopped = true;
      for (const off of unsubscribe.splice(0)) off();
      for (const t of timers.values()) clock.clearTimer(t);
      timers.clear();
      await Promise.allSettled([...hypervisors.values()].map((h) => h.close()));
    },

    status(): VmStatus[] {
      return cfg.vms.map((s) => {
        const v = state.vms.get(s.name)!;
        const energy = vmEnergyNow(s.power ?? DEFAULT_POWER_PROFILE, energyDepthOf(v.depth ?? s.depth), v, clock.now());
        return { name: v.name, phase: v.phase, step: v.step, since: v.since, depth: v.depth, portNo: v.portNo, dpid: v.dpid, uri: v.uri, held: v.held.length, lastError: v.lastError, lastFailure: v.lastFailure, counters: v.counters, energy, lastPark: v.memory };
      });
    },

    parkNow(vm: string): void {
      dispatch({ type: 'park_now', vm });
    },

    wakeNow(vm: string): void {
      dispatch({ type: 'wake_now', vm });
    },

    machineState: () => state,
  };
}

/**
 * What the machine needs from the live graph: for each sink's switch, every other
 * switch's first hop toward it (shortest path, graph.path), and each switch's edge ports.
 */
export function fabricPaths(graph: TopologyGraph, cfg: Pick<MachineConfig, 'sinks'>): FabricPaths {
  const dpids = graph.dpids();
  const toward = new Map<bigint, Map<bigint, number>>();
  for (const sink of cfg.sinks) {
    if (toward.has(sink.dpid)) continue;
    const hops = new Map<bigint, number>();
    for (const d of dpids) {
      const first = d === sink.dpid ? undefined : graph.path(d, sink.dpid)?.[0];
      if (first !== undefined) hops.set(d, first.outPort);
    }
    toward.set(sink.dpid, hops);
  }
  const edgePorts = new Map<bigint, Set<number>>();
  for (const d of dpids) edgePorts.set(d, new Set(graph.ports(d).filter((p) => graph.isEdgePort(d, p))));
  return { toward, edgePorts };
}

function errCode(e: unknown): string | undefined {
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function errText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}

/** The highest meter id the park engine uses (ids.ts: METERS_PER_VM per VM from its meterBase). */
function maxMeterId(cfg: MachineConfig): number {
  return Math.max(0, ...cfg.vms.map((v) => v.meterBase + METERS_PER_VM - 1));
}

/** True when the switch has meters for all our ids (OFPMP_METER_FEATURES, OF 1.3.5 §7.3.5.14). */
async function metersSupported(dp: Datapath, cfg: MachineConfig, timeoutMs: number): Promise<boolean> {
  if (cfg.park.meterRate === 0) return false;
  try {
    const replies = await dp.request({ type: 'multipart_request', xid: dp.nextXid(), flags: 0, body: { mpType: 'meter_features' } }, { timeoutMs });
    for (const r of replies) {
      if (r.type === 'multipart_reply' && r.body.mpType === 'meter_features') return r.body.maxMeter >= maxMeterId(cfg);
    }
  } catch {
    // No meter support: wake triggers are not rate limited (docs/parking.md).
  }
  return false;
}
