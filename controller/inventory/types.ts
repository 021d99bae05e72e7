// The validated inventory: what the parking engine and tools consume. Durations are milliseconds.
import type { PowerProfile } from '../energy/model.js';

/** How deeply an idle VM is parked: vCPUs paused (memory kept), memory saved to disk (managed save), or shut down. */
export type Depth = 'pause' | 'save' | 'shutdown';

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
  readonly depth: Depth;
  readonly idleTimeoutMs: number;
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
