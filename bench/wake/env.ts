// What the wake benchmark needs from a network with VMs on it: the inventory
// the in-process controller runs with, how to reach the client, and which VM
// to wake at each depth. Implemented by testbedEnv.ts (the Mininet testbed of
// topologies/testbed.yaml, the default) and localEnv.ts (one bridge, one netns
// client, two guests; no Mininet).
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

/**
 * An environment in two phases: its inventory is known first (the controller
 * is built from it and must listen before the switch is started), then
 * start() builds the network pointed at the controller's port.
 */
export interface WakeEnvPlan {
  readonly inventory: Inventory;
  /** libvirt URI of the VMs. */
  readonly uri: string;
  /** Which inventory VM to wake at each depth; `workingSet`: a reclaim VM whose service touches `touchMiB` per request. */
  readonly vms: { readonly pause: BenchVm; readonly save: BenchVm; readonly reclaim: BenchVm; readonly workingSet: BenchVm };
  /** MiB of guest memory the working-set VM's GET /cgi-bin/touch reads per request. */
  readonly touchMiB: number;
  start(controllerPort: number): Promise<WakeEnv>;
}

export interface WakeEnv {
  /** What it is, for the report ("mininet testbed", "bridge + netns"). */
  readonly label: string;
  /** Command prefix that runs a program inside the client's network namespace. */
  readonly clientPrefix: readonly string[];
  readonly clientIp: string;
  /** The switch's port (root netns interface) the client is attached to: tcpdump runs there. */
  readonly clientSwitchPort: string;
  /** Removes everything the environment created. Idempotent. */
  stop(): Promise<void>;
}
