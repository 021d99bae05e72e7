/**
 * The control API's JSON shapes (version 1) and the interface the server reads
 * the controller through. Times are epoch milliseconds; absent values are null
 * (JSON has no undefined).
 */
import type { Depth } from '../inventory/types.js';
import type { Phase, Step, VmCounters } from '../park/machine.js';

/** One VM as `GET /v1/vms` reports it. */
export interface VmView {
  readonly name: string;
  /** unknown (libvirt has not confirmed the domain yet) | active | parking | parked | waking | wake_failed */
  readonly state: Phase;
  /** Where the VM is inside its state (none when at rest). */
  readonly step: Step;
  /** Epoch ms of the last state change. */
  readonly since: number;
  /** The VM's first rung: the depth an idle VM is first parked at. */
  readonly depth: Depth;
  /** The depth ladder (inventory `depths:`; one rung when only `depth` is given). */
  readonly depths: readonly { readonly depth: Depth; readonly afterMs: number }[];
  /** The depth the VM is parked at now (escalation deepens it); null while active. */
  readonly parkedDepth: Depth | null;
  readonly domain: string;
  /** The VM's hypervisor host (inventory hypervisors[].name, or its libvirt URI for an implicit host). */
  readonly hypervisor: string;
  readonly switch: string;
  /** Current OpenFlow port of the VM's tap; null while unknown (a saved VM's tap is gone). */
  readonly port: number | null;
  /** Packets held for delivery while the VM wakes. */
  readonly held: number;
  /** The problem the VM has now (failed park or wake, odd libvirt state); null once it is parked or woken again. */
  readonly lastError: string | null;
  /** The most recent error and when it happened (epoch ms), kept after recovery; null if none since start. */
  readonly lastFailure: { readonly error: string; readonly at: number } | null;
  readonly wakes: number;
  /** Duration of the last completed wake (first packet to VM reachable), ms; null before the first. */
  readonly lastWakeMs: number | null;
  /** The last state change and its named reason (e.g. park-barrier-failed); null before the first. */
  readonly lastTransition: TransitionView | null;
  /** The last warning or error the engine logged about this VM; null if none. */
  readonly lastProblem: ProblemView | null;
  readonly counters: VmCounters;
  /** Memory the current park released now (bytes, measured: QEMU RSS before minus after); 0 when active or unmeasured. */
  readonly memoryReleasedBytes: number;
  /** Net energy parking saved so far (J, docs/energy.md); negative when parks cost more than they saved. */
  readonly energySavedJoules: number;
  /** Parks whose idle period was shorter than the depth's break-even time. */
  readonly unprofitableParks: number;
  /**
   * What the last park measured (docs/energy.md), kept after the wake; null when
   * unmeasured. `swappedBytes`/`compressedBytes` (VmSwap, zram's RAM for those
   * pages) only for a local QEMU with swap figures (depth reclaim).
   */
  readonly lastPark: LastParkMemoryView | null;
}

export interface LastParkMemoryView {
  /** QEMU's footprint before the park: RSS + zram's copy of pages already swapped out. */
  readonly residentBytes: number;
  /** That footprint minus the one after the park (zram's copy counted as used). */
  readonly releasedBytes: number;
  readonly swappedBytes: number | null;
  readonly compressedBytes: number | null;
}

export interface TransitionView {
  readonly from: Phase;
  readonly to: Phase;
  readonly reason: string;
  /** Epoch ms. */
  readonly at: number;
}

export interface ProblemView {
  readonly message: string;
  /** Epoch ms. */
  readonly at: number;
}

export interface PortView {
  readonly portNo: number;
  readonly name: string;
  readonly hwAddr: string;
  readonly up: boolean;
}

/** A connected datapath as `GET /v1/switches` reports it. */
export interface SwitchView {
  /** datapath id, 16 hex digits. */
  readonly dpid: string;
  /** Inventory name of the switch, when the inventory lists its dpid. */
  readonly name: string | null;
  /** The switch's address as the controller sees it. */
  readonly remote: string | null;
  readonly nTables: number;
  readonly ports: readonly PortView[];
}

/** One end of a switch-to-switch link. */
export interface LinkEndView {
  /** datapath id, 16 hex digits. */
  readonly dpid: string;
  /** Inventory name of the switch, when the inventory lists its dpid. */
  readonly name: string | null;
  readonly port: number;
  /** The port's name as the switch reports it (e.g. s1-eth2); null if unknown. */
  readonly portName: string | null;
}

/** A link LLDP discovered, as `GET /v1/links` reports it. */
export interface LinkView {
  /** The end with the lower (dpid, port). */
  readonly a: LinkEndView;
  readonly b: LinkEndView;
  /** On the spanning tree that broadcasts follow (false: used by shortest paths only). */
  readonly tree: boolean;
  /** Epoch ms when LLDP found it. */
  readonly since: number;
}

/** `GET /v1/links`: whether discovery runs (`seamless controller --fabric`), and the live links. */
export interface LinksView {
  readonly discovery: boolean;
  readonly links: readonly LinkView[];
}

/** A hypervisor host and the controller's libvirt connection to it, as `GET /v1/hypervisors` reports it. */
export interface HypervisorView {
  readonly name: string;
  readonly uri: string;
  /** Where libvirtd is: a socket path or "HOST:PORT (tls|tcp)". */
  readonly endpoint: string;
  /** up | connecting | down (retried in the background) | idle (not used yet) | closed */
  readonly connection: 'up' | 'connecting' | 'down' | 'idle' | 'closed';
  /** Epoch ms of the last connection state change. */
  readonly since: number;
  /** Why the last attempt failed or the connection dropped; null if never. */
  readonly lastError: string | null;
  /** Connections opened so far (1 + reconnects). */
  readonly connects: number;
  /** The host's bound on concurrent libvirt operations. */
  readonly maxConcurrentOps: number;
  /** VMs on this host. */
  readonly vms: number;
}

/** `GET /v1/status`: the daemon itself. */
export interface DaemonView {
  readonly version: string;
  readonly startedAt: number;
  readonly vms: number;
  readonly switches: number;
  /** Parked-state persistence: none, memory, or redis (with its health). */
  readonly store: { readonly kind: 'none' | 'memory' | 'redis'; readonly healthy: boolean; readonly pendingWrites: number };
}

/** What an operator command did: started it, found it already done/in progress. */
export type CommandResult = 'started' | 'already' | 'in-progress';

/** Answer of `POST /v1/vms/:name/park|wake`. */
export interface CommandView {
  readonly result: CommandResult;
  readonly vm: VmView;
}

/** Error body of every non-2xx answer. */
export interface ErrorView {
  readonly error: { readonly code: string; readonly message: string };
}

/** What the API server needs from the daemon (the real one: createControlSource; tests: fakes). */
export interface ControlSource {
  vms(): VmView[];
  /** Throws VmNotFoundError for an unknown name. */
  vm(name: string): VmView;
  /** Asks the park engine to park / wake `name`; resolves with the outcome (throws VmNotFoundError, VmBusyError). */
  park(name: string): Promise<CommandView>;
  wake(name: string): Promise<CommandView>;
  switches(): SwitchView[];
  links(): LinksView;
  /** The hypervisor hosts; absent in sources without a park engine (then the list is empty). */
  hypervisors?(): HypervisorView[];
  daemon(): DaemonView;
}
