// What the wake benchmark needs from a network with VMs on it: the inventory
// the in-process controller runs with, how to reach the client, and which VM
// to wake at each depth. Implemented by localEnv.ts (one bridge, one netns
// client, two guests) and, when present, by the Mininet testbed.
import type { Inventory } from '../../controller/inventory/types.js';

/** One VM of the inventory the benchmark wakes. */
export interface BenchVm {
  /** Inventory name (the park app's key). */
  name: string;
  /** libvirt domain name. */
  domain: string;
  ip: string;
  /** A TCP port of the guest (a gateway port): the client connects to it. */
  port: number;
}

export interface WakeEnv {
  /** What it is, for the report ("mininet testbed", "bridge + netns"). */
  readonly label: string;
  readonly inventory: Inventory;
  /** libvirt URI of the VMs. */
  readonly uri: string;
  /** Command prefix that runs a program inside the client's network namespace. */
  readonly clientPrefix: readonly string[];
  readonly clientIp: string;
  /** The switch's port (root netns interface) the client is attached to: tcpdump runs there. */
  readonly clientSwitchPort: string;
  readonly vms: { readonly pause: BenchVm; readonly save: BenchVm };
  /** Points the VMs' switch at our controller on 127.0.0.1:`port` (connects at once). */
  attach(port: number): Promise<void>;
  /** Removes everything the environment created. Idempotent. */
  stop(): Promise<void>;
}
