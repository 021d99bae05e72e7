/**
 * What the parking engine needs from a hypervisor. Implemented by RemoteHypervisor
 * (libvirt's remote protocol over its unix socket) and FakeHypervisor (in memory).
 */

export type DomainRunState = 'running' | 'paused' | 'shutoff' | 'crashed' | 'other';

export interface DomainState {
  state: DomainRunState;
  /** A managed-save image exists: start() will restore it instead of booting. */
  hasManagedSave: boolean;
}

/** Lifecycle event names (virDomainEventType, lower case) as passed to onLifecycle callbacks. */
export type LifecycleEvent =
  | 'defined' | 'undefined' | 'started' | 'suspended' | 'resumed' | 'stopped' | 'shutdown' | 'pmsuspended' | 'crashed';

/** The adapter's connection to one libvirt host, as `seamless hypervisor list` shows it. */
export interface ConnectionStatus {
  /** up: connected; connecting: an attempt in progress; down: the last attempt failed (retried in the background); idle: never tried; closed. */
  readonly state: 'up' | 'connecting' | 'down' | 'idle' | 'closed';
  /** Where libvirtd is: a socket path or "HOST:PORT (tls|tcp)". */
  readonly endpoint: string;
  /** Clock ms of the last change of `state`. */
  readonly since: number;
  /** Why the last connect attempt failed or the connection dropped; undefined when none. */
  readonly lastError?: string;
  /** Connections opened so far (1 + reconnects). */
  readonly connects: number;
}

export interface Hypervisor {
  /** Run state and whether a managed-save image exists. */
  getState(domain: string): Promise<DomainState>;
  /** Pauses the vCPUs; memory stays allocated (park depth 'pause'). Running -> paused. */
  suspend(domain: string): Promise<void>;
  /** Paused -> running. */
  resume(domain: string): Promise<void>;
  /** Writes memory to disk and stops qemu (park depth 'save'). Running or paused -> shutoff + hasManagedSave. A later start() resumes it running. */
  managedSave(domain: string): Promise<void>;
  /** Shutoff -> running: boots, or restores from the managed-save image if there is one (consuming it). */
  start(domain: string): Promise<void>;
  /** ACPI shutdown (park depth 'shutdown'); resolves once the domain is shut off, LIBVIRT_TIMEOUT otherwise. */
  shutdown(domain: string): Promise<void>;
  /** Hard power-off. */
  destroy(domain: string): Promise<void>;
  /**
   * Subscribes to lifecycle events of all domains: `event` is a LifecycleEvent name,
   * `detail` its detail name (e.g. 'stopped'/'saved', 'started'/'restored').
   * Returns the unsubscribe function.
   */
  onLifecycle?(cb: (domain: string, event: string, detail: string) => void): () => void;
  /**
   * Called each time the adapter opens a connection to libvirt after the
   * subscription (libvirt became reachable, or libvirtd restarted); not for a
   * connection already open when subscribing. With a subscriber the adapter
   * reconnects in the background, so the call comes without waiting for the
   * next operation. Returns the unsubscribe function.
   */
  onConnection?(cb: () => void): () => void;
  /**
   * libvirt's memory statistics of a running domain (virDomainMemoryStats), by
   * name (`rss`, `actual_balloon`, ...; sizes in KiB). Which exist depends on
   * the driver and the guest's balloon; `rss` is the QEMU process's resident
   * set. Optional: adapters without it measure nothing.
   */
  memoryStats?(domain: string): Promise<ReadonlyMap<string, bigint>>;
  /**
   * Sets the running domain's memory hard limit (memtune hard_limit, KiB; 'unlimited'
   * lifts it), live only: the persistent definition is untouched. Lowering it below
   * what QEMU holds makes the kernel reclaim the difference (into swap) or fail
   * (the limit stays). Optional: adapters without it cannot park at depth reclaim.
   */
  setMemoryHardLimit?(domain: string, kib: bigint | 'unlimited'): Promise<void>;
  /** The connection's state (remote adapters); absent for in-memory fakes. */
  connectionStatus?(): ConnectionStatus;
  /** Releases the connection; later calls fail with LIBVIRT_CONNECTION. */
  close(): Promise<void>;
}
