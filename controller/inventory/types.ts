// The validated inventory: what the parking engine and tools consume. Durations are milliseconds.
import type { PowerProfile } from '../energy/model.js';

/**
 * How deeply an idle VM is parked: vCPUs paused (memory kept), paused with its
 * memory pushed to (compressed) swap (reclaim), memory saved to disk (managed
 * save), or shut down.
 */
export type Depth = 'pause' | 'reclaim' | 'save' | 'shutdown';

/** Every depth, shallowest first. */
export const DEPTHS: readonly Depth[] = ['pause', 'reclaim', 'save', 'shutdown'];

/**
 * Whether a domain parked at `depth` keeps its QEMU process and tap (so its
 * port number stays valid and a wake is a resume): pause and reclaim do,
 * save and shutdown remove both.
 */
export function keepsPort(depth: Depth): boolean {
  return depth === 'pause' || depth === 'reclaim';
}

/**
 * One rung of a VM's depth ladder (inventory `depths:`): park at `depth` once
 * the VM has been idle `afterMs` (idle measured from its last activity).
 */
export interface Rung {
  readonly depth: Depth;
  readonly afterMs: number;
}

/**
 * How the engine decides that an idle VM parks (controller/park/policy/,
 * docs/parking.md "Policies"): `fixed` = the VM's idleTimeout; `adaptive` and
 * `predictive` learn from the VM's own history; `oracle` knows the future and
 * runs only in replays (the live loader refuses it).
 */
export type PolicyName = 'fixed' | 'adaptive' | 'predictive' | 'oracle';

/** A policy and its parameters; absent parameters take the defaults of docs/parking.md. */
export interface PolicySpec {
  readonly name: PolicyName;
  /** adaptive: how many recent idle periods the timeout is chosen from. */
  readonly window?: number;
  /** adaptive/predictive: observations needed before the learned rule replaces the idle timeout. */
  readonly minSamples?: number;
  /** predictive: park when the chance of activity within the break-even time is at most this. */
  readonly threshold?: number;
  /** predictive: wake a parked VM ahead of its predicted activity. */
  readonly preWake?: boolean;
  /** predictive: the window (ms) the chance of activity is judged over, when longer than the break-even time. */
  readonly horizonMs?: number;
  /** predictive: park when the expected rest of the idle period is at least this (ms), instead of the chance rule. */
  readonly expectMs?: number;
}

/** Traffic that neither counts as activity nor wakes the VM. All given fields must match. */
export interface IgnoreRule {
  readonly src?: string;
  readonly tcpDst?: number;
  readonly udpDst?: number;
}

export interface SwitchSpec {
  readonly name: string;
  readonly dpid: bigint;
}

/** A plain host of the testbed (client, monitor); informational for topology scripts. */
export interface HostSpec {
  readonly name: string;
  readonly ip: string;
  readonly switch: string;
  readonly mac?: string;
  readonly port?: number | string;
}

/** Where traffic that must not wake a parked VM is sent. */
export interface SinkSpec {
  readonly name: string;
  readonly switch: string;
  readonly dpid: bigint;
  /** Port number, or port name resolved from the switch's port list. */
  readonly port: number | string;
  readonly mac: string;
  readonly ip: string;
}

/**
 * A hypervisor host (inventory `hypervisors:`): one libvirt connection, its own
 * bound on concurrent operations. VMs given as `libvirt: {uri, domain}` without a
 * hypervisor get an implicit one per URI, named by the URI.
 */
export interface HypervisorSpec {
  readonly name: string;
  /** libvirt URI: qemu:///system, qemu+tls://HOST[:PORT]/system or qemu+tcp://HOST[:PORT]/system. */
  readonly uri: string;
  /** Client PKI files for TLS; each absent one is libvirt's default (controller/libvirt/uri.ts DEFAULT_TLS_FILES). */
  readonly tls: { readonly caCert?: string; readonly clientCert?: string; readonly clientKey?: string };
  /** Concurrent libvirt operations on this host (default: park.maxConcurrentOps). */
  readonly maxConcurrentOps: number;
  /** Bound on connecting (TCP, TLS, RPC handshake): a dead host fails its own VMs' operations after this. */
  readonly connectTimeoutMs: number;
  /** Bound on one libvirt call on this host (a managed save of a large guest takes long). */
  readonly callTimeoutMs: number;
  /**
   * The switch this host's VMs attach to (its OVS bridge; inventory `hypervisors[].switch`)
   * and its dpid: a VM that appears on it runs on this host (docs/parking.md#fabric).
   */
  readonly switch?: string;
  readonly dpid?: bigint;
}

export interface VmSpec {
  readonly name: string;
  /** `uri` is the VM's hypervisor's URI; the hypervisor (host) name is `hypervisor`. */
  readonly libvirt: { readonly uri: string; readonly domain: string };
  /** The hypervisor host's name (inventory `hypervisors[].name`, or the URI for an implicit one); absent in hand-built specs. */
  readonly hypervisor?: string;
  readonly mac: string;
  readonly ip: string;
  readonly switch: string;
  readonly dpid: bigint;
  /** The tap port NAME; its number is learned from port-desc / PORT_STATUS. */
  readonly port: string;
  /** The first rung's depth (`depths[0].depth`), kept for callers that know one depth. */
  readonly depth: Depth;
  /** The first rung's idle time (`depths[0].afterMs`): when the VM is first parked. */
  readonly idleTimeoutMs: number;
  /**
   * The depth ladder, at least one rung: strictly increasing `afterMs`, strictly
   * deeper depths (park/depth.ts DEPTH_ORDER). A parked VM escalates to the next
   * rung when its idle time reaches that rung's `afterMs`. Absent in hand-built
   * specs: one rung, `{ depth, afterMs: idleTimeoutMs }` (park/depth.ts ladderOf).
   */
  readonly depths?: readonly Rung[];
  /** How the VM is parked when idle; absent = fixed (idleTimeoutMs). */
  readonly policy?: PolicySpec;
  /** Anti-flap: a VM is not parked before it has been active this long. */
  readonly minActiveMs: number;
  /** TCP ports whose traffic wakes the VM; empty = any traffic wakes it. */
  readonly gatewayPorts: readonly number[];
  readonly sink?: string;
  readonly ignore: readonly IgnoreRule[];
  /** Packets held per VM while it wakes; more are dropped and counted. */
  readonly maxHeld: number;
  /** Bound on waiting for the tap port and the ARP probe answer after libvirt is done. */
  readonly wakeTimeoutMs: number;
  /**
   * Depth reclaim on a host without swap: `pause` parks at depth pause with a
   * warning instead of refusing the configuration (`reclaimFallback`, per VM,
   * `defaults` or `park:`). Absent: refused at start-up.
   */
  readonly reclaimFallback?: 'pause';
  /**
   * The power profile of the VM's host (inventory `power:`, per libvirt URI,
   * over the defaults); absent in hand-built specs: the defaults apply.
   */
  readonly power?: PowerProfile;
}

/** Engine-wide settings (`park:` section). */
export interface ParkSettings {
  /** Bound on concurrent libvirt operations per hypervisor host (first come, first served); the default of hypervisors[].maxConcurrentOps. */
  readonly maxConcurrentOps: number;
  readonly probeIntervalMs: number;
  /** Wake attempts after the first failed one. */
  readonly wakeRetries: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  /** Controller-owned source of readiness probes. */
  readonly probeMac: string;
  readonly probeIp: string;
  /** Packet-in rate limit per parked VM (packets/s, OF meter); 0 = no meter. */
  readonly meterRate: number;
  /** Counter polling interval; derived from the smallest idle timeout when absent. */
  readonly pollIntervalMs?: number;
  /** The park-wide default policy (`park.policy`); a VM's own `policy` wins. Absent = fixed. */
  readonly policy?: PolicySpec;
}

export interface Inventory {
  readonly file: string;
  readonly switches: readonly SwitchSpec[];
  readonly hosts: readonly HostSpec[];
  readonly sinks: readonly SinkSpec[];
  readonly vms: readonly VmSpec[];
  /** Every hypervisor host the VMs use (explicit and implicit); absent in hand-built inventories. */
  readonly hypervisors?: readonly HypervisorSpec[];
  readonly park: ParkSettings;
}
