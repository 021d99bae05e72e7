/**
 * The real ControlSource: reads the park engine, the inventory and the
 * datapath registry, and turns operator commands into parkNow/wakeNow.
 */
import type { PortInfo } from '../app.js';
import type { Inventory } from '../inventory/types.js';
import { hypervisorsOf } from '../inventory/hosts.js';
import type { ConnectionStatus } from '../libvirt/hypervisor.js';
import type { ParkApp, VmStatus } from '../park/app.js';
import type { LogFields, Logger } from '../log.js';
import type { Output } from '../park/machine.js';
import { ladderOf } from '../park/depth.js';
import { VmBusyError, VmNotFoundError } from './errors.js';
import type { TopologyGraph } from '../topology/graph.js';
import type { CommandView, ControlSource, DaemonView, HypervisorView, LinkEndView, LinksView, ProblemView, SwitchView, TransitionView, VmView } from './types.js';

type Transition = Extract<Output, { kind: 'transition' }>;

/**
 * Remembers, per VM, what the engine last did and said: the last wake's
 * duration, the last transition (its named reason) and the last warning or
 * error it logged about the VM. The engine's VM record keeps `lastError` only
 * for libvirt failures; an aborted park (barrier failed: switch not connected)
 * is only a transition reason and a log line, and the CLI must show that cause.
 * Pass `onTransition` to createParkApp and the engine's logger through `watchLog`.
 */
export class WakeTimes {
  readonly #last = new Map<string, number>();
  readonly #transitions = new Map<string, TransitionView>();
  readonly #problems = new Map<string, ProblemView>();
  readonly #now: () => number;

  /** `now`: epoch ms for `at` (default Date.now). */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Feed every transition here. */
  readonly onTransition = (t: Transition): void => {
    if (t.from === 'waking' && t.to === 'active' && t.durationMs !== undefined) this.#last.set(t.vm, t.durationMs);
    this.#transitions.set(t.vm, { from: t.from, to: t.to, reason: t.reason, at: this.#now() });
  };

  lastWakeMs(vm: string): number | undefined {
    return this.#last.get(vm);
  }

  lastTransition(vm: string): TransitionView | undefined {
    return this.#transitions.get(vm);
  }

  lastProblem(vm: string): ProblemView | undefined {
    return this.#problems.get(vm);
  }

  /** A logger that writes through `log` and remembers warnings and errors that carry a `vm` field. */
  watchLog(log: Logger, inherited: LogFields = {}): Logger {
    const note = (msg: string, own: LogFields | undefined): void => {
      const fields = { ...inherited, ...own };
      const vm = fields['vm'];
      if (typeof vm !== 'string') return;
      const err = fields['err'];
      const detail = err instanceof Error ? err.message : typeof err === 'string' ? err : undefined;
      this.#problems.set(vm, { message: detail === undefined ? msg : `${msg}: ${detail}`, at: this.#now() });
    };
    return {
      get level() {
        return log.level;
      },
      enabled: (level) => log.enabled(level),
      debug: (msg, fields) => log.debug(msg, fields),
      info: (msg, fields) => log.info(msg, fields),
      warn: (msg, fields) => {
        note(msg, fields);
        log.warn(msg, fields);
      },
      error: (msg, fields) => {
        note(msg, fields);
        log.error(msg, fields);
      },
      child: (fields) => this.watchLog(log.child(fields), { ...inherited, ...fields }),
    };
  }
}

/** The datapaths as the registry (Controller) holds them. */
export interface DatapathSource {
  readonly datapaths: ReadonlyMap<
    bigint,
    {
      readonly idHex: string;
      readonly remote?: string;
      readonly connected: boolean;
      readonly ports: ReadonlyMap<number, PortInfo>;
      readonly features: { readonly nTables: number };
    }
  >;
}

/** Health of the parked-state store, when there is one. */
export interface StoreHealth {
  readonly kind: 'memory' | 'redis';
  readonly healthy: boolean;
  readonly pendingWrites: number;
}

export interface ControlSourceOptions {
  /** The park engine and its inventory; absent when the controller runs the L2 fabric only. */
  readonly park?: { readonly app: ParkApp; readonly inventory: Inventory; readonly wakeTimes?: WakeTimes };
  readonly switches: DatapathSource;
  /** The live topology (topology discovery on); absent: links() says discovery is off. */
  readonly topology?: TopologyGraph;
  /** Maps the topology's clock to epoch ms for a link's `since` (default: toEpoch). */
  readonly topologyToEpoch?: (t: number) => number;
  readonly store?: () => StoreHealth;
  readonly version?: string;
  /** Default Date.now (the daemon's start time is taken when the source is created). */
  readonly now?: () => number;
  /** Maps the park engine's clock (monotonic in the daemon) to epoch ms for `since`; default identity. */
  readonly toEpoch?: (t: number) => number;
  /** The libvirt connection of each host, by URI (the controller's adapters). */
  readonly hypervisorStatus?: (uri: string) => ConnectionStatus | undefined;
}

/** Builds the ControlSource the API server reads. */
export function createControlSource(opts: ControlSourceOptions): ControlSource {
  const startedAt = (opts.now ?? Date.now)();
  const toEpoch = opts.toEpoch ?? ((t: number) => t);
  const inv = opts.park?.inventory;
  const specs = new Map((inv?.vms ?? []).map((v) => [v.name, v]));
  const switchNames = new Map((inv?.switches ?? []).map((s) => [s.dpid, s.name]));
  const hostNames = new Map((inv?.hypervisors ?? []).map((h) => [h.uri, h.name]));

  function view(s: VmStatus): VmView {
    const spec = specs.get(s.name)!;
    return {
      name: s.name,
      state: s.phase,
      step: s.step,
      since: Math.round(toEpoch(s.since)),
      depth: spec.depth,
      depths: ladderOf(spec).map((r) => ({ depth: r.depth, afterMs: r.afterMs })),
      parkedDepth: s.depth ?? null,
      domain: spec.libvirt.domain,
      // Where the VM is now: it follows its tap or MAC to another switch, and that switch's host.
      hypervisor: s.uri === spec.libvirt.uri ? (spec.hypervisor ?? spec.libvirt.uri) : (hostNames.get(s.uri) ?? s.uri),
      switch: s.dpid === spec.dpid ? spec.switch : (switchNames.get(s.dpid) ?? s.dpid.toString(16).padStart(16, '0')),
      port: s.portNo ?? null,
      held: s.held,
      lastError: s.lastError ?? null,
      lastFailure: s.lastFailure === undefined ? null : { error: s.lastFailure.error, at: Math.round(toEpoch(s.lastFailure.at)) },
      wakes: s.counters.wakes,
      lastWakeMs: opts.park?.wakeTimes?.lastWakeMs(s.name) ?? null,
      lastTransition: opts.park?.wakeTimes?.lastTransition(s.name) ?? null,
      lastProblem: opts.park?.wakeTimes?.lastProblem(s.name) ?? null,
      counters: s.counters,
      memoryReleasedBytes: s.energy.memoryReleasedBytes,
      energySavedJoules: s.energy.energySavedJoules,
      unprofitableParks: s.energy.unprofitableParks,
      lastPark:
        s.lastPark === undefined
          ? null
          : { residentBytes: s.lastPark.residentBytes, releasedBytes: s.lastPark.releasedBytes, swappedBytes: s.lastPark.swappedBytes ?? null, compressedBytes: s.lastPark.compressedBytes ?? null },
    };
  }

  function vms(): VmView[] {
    return opts.park?.app.status().map(view) ?? [];
  }

  function vm(name: string): VmView {
    const s = specs.has(name) ? opts.park?.app.status().find((x) => x.name === name) : undefined;
    if (s === undefined) throw new VmNotFoundError(name, [...specs.keys()]);
    return view(s);
  }

  return {
    vms,
    vm,

    async park(name: string): Promise<CommandView> {
      vm(name);
      await opts.park!.app.ready;
      const before = vm(name);
      if (before.state === 'parked') return { result: 'already', vm: before };
      if (before.state === 'parking') return { result: 'in-progress', vm: before };
      if (before.state !== 'active' || before.step !== 'none') {
        throw new VmBusyError(`${name} is ${before.state}${before.step === 'none' ? '' : ` (${before.step})`}: it can be parked once it is active`);
      }
      opts.park!.app.parkNow(name);
      const after = vm(name);
      if (after.state === 'active') throw new VmBusyError(`${name} did not accept the park request (see the controller log)`);
      return { result: 'started', vm: after };
    },

    async wake(name: string): Promise<CommandView> {
      vm(name);
      await opts.park!.app.ready;
      const before = vm(name);
      if (before.state === 'active') return { result: 'already', vm: before };
      if (before.state === 'waking') return { result: 'in-progress', vm: before };
      // A parked VM escalating to a deeper depth (parkedDepth set) is parked: the engine
      // wakes it right after the escalation (or now, if it still waits for libvirt).
      const escalating = before.state === 'parking' && before.parkedDepth !== null;
      if (before.state === 'parking' && !escalating) throw new VmBusyError(`${name} is parking (${before.step}): wake it once it is parked`);
      opts.park!.app.wakeNow(name);
      const after = vm(name);
      if (escalating) return { result: 'started', vm: after };
      if (after.state === before.state && after.since === before.since) throw new VmBusyError(`${name} did not accept the wake request (see the controller log)`);
      return { result: 'started', vm: after };
    },

    switches(): SwitchView[] {
      const out: SwitchView[] = [];
      for (const [id, dp] of opts.switches.datapaths) {
        if (!dp.connected) continue;
        out.push({
          dpid: dp.idHex,
          name: switchNames.get(id) ?? null,
          remote: dp.remote ?? null,
          nTables: dp.features.nTables,
          ports: [...dp.ports.values()].sort((a, b) => a.portNo - b.portNo).map((p) => ({ portNo: p.portNo, name: p.name, hwAddr: p.hwAddr, up: p.up })),
        });
      }
      return out.sort((a, b) => a.dpid.localeCompare(b.dpid));
    },

    links(): LinksView {
      const g = opts.topology;
      if (g === undefined) return { discovery: false, links: [] };
      const epoch = opts.topologyToEpoch ?? toEpoch;
      const end = (dpid: bigint, port: number): LinkEndView => ({
        dpid: dpid.toString(16).padStart(16, '0'),
        name: switchNames.get(dpid) ?? null,
        port,
        portName: opts.switches.datapaths.get(dpid)?.ports.get(port)?.name ?? null,
      });
      return {
        discovery: true,
        links: g.links().map((l) => ({
          a: end(l.a.dpid, l.a.port),
          b: end(l.b.dpid, l.b.port),
          tree: g.treePorts(l.a.dpid).has(l.a.port) && g.treePorts(l.b.dpid).has(l.b.port),
          since: Math.round(epoch(l.since)),
        })),
      };
    },

    hypervisors(): HypervisorView[] {
      if (inv === undefined) return [];
      return hypervisorsOf(inv).map((h) => {
        const st = opts.hypervisorStatus?.(h.uri);
        return {
          name: h.name,
          uri: h.uri,
          endpoint: st?.endpoint ?? h.uri,
          connection: st?.state ?? 'idle',
          since: Math.round(toEpoch(st?.since ?? 0)),
          lastError: st?.lastError ?? null,
          connects: st?.connects ?? 0,
          maxConcurrentOps: h.maxConcurrentOps,
          vms: inv.vms.filter((v) => v.libvirt.uri === h.uri).length,
        };
      });
    },

    daemon(): DaemonView {
      const store = opts.store?.() ?? { kind: 'none' as const, healthy: true, pendingWrites: 0 };
      return {
        version: opts.version ?? '0.1.0',
        startedAt,
        vms: specs.size,
        switches: [...opts.switches.datapaths.values()].filter((d) => d.connected).length,
        store,
      };
    },
  };
}
