/**
 * Hypervisor over libvirt's remote protocol (no libvirt client library, no virsh):
 * the same RPCs virsh sends, written by hand on libvirtd's unix socket.
 *
 * - Lazy (re)connect: a dropped connection (libvirtd restarted) is replaced on the next
 *   call; with lifecycle or connection listeners a background reconnect (every 250 ms
 *   .. 1 s) also restores the event stream and tells onConnection listeners.
 * - Domain handles (name, uuid) are cached by name so a wake costs one round trip; a
 *   stale handle (domain undefined and redefined) is looked up again once.
 * - getState pipelines its two RPCs on the one connection.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { LibvirtError } from './errors.js';
import type { ConnectionStatus, DomainRunState, DomainState, Hypervisor } from './hypervisor.js';
import {
  AuthType,
  Proc,
  VIR_DOMAIN_EVENT_ID_LIFECYCLE,
  VIR_DOMAIN_SAVE_RUNNING,
  VIR_DOMAIN_AFFECT_LIVE,
  VIR_DOMAIN_MEMORY_PARAM_UNLIMITED,
  encodeSetMemoryParametersArgs,
  VirDomainState,
  decodeAuthListRet,
  decodeMemoryStatsRet,
  encodeMemoryStatsArgs,
  MEMORY_STAT_TAGS,
  decodeAuthPolkitRet,
  decodeDomainRet,
  decodeGetStateRet,
  decodeIntRet,
  decodeLifecycleMsg,
  encodeDomainArgs,
  encodeDomainFlagsArgs,
  encodeEventRegisterArgs,
  encodeIntArgs,
  encodeLookupByNameArgs,
  encodeOpenArgs,
  lifecycleNames,
  type RemoteDomain,
} from './protocol.js';
import { RpcConnection } from './rpcClient.js';
import { endpointLabel, parseLibvirtUri, type LibvirtEndpoint, type TlsFiles } from './uri.js';
export { DEFAULT_SOCKET_PATH } from './uri.js';

/** Background reconnect backoff bounds (ms). */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 1_000;
/**
 * Cap for a remote (TCP/TLS) host: each failed attempt there can cost a whole
 * connect timeout and a TLS handshake on a host that may be down for long, so
 * retries thin out to every 5 s; operations between them fail fast (docs/decisions.md).
 */
const RECONNECT_MAX_REMOTE_MS = 5_000;

export interface RemoteHypervisorOptions {
  /** Unix socket of libvirtd (default: from the URI, /var/run/libvirt/libvirt-sock); only for local URIs. */
  socketPath?: string;
  /** Client PKI files for qemu+tls:// URIs (defaults: libvirt's, DEFAULT_TLS_FILES). */
  tls?: Partial<TlsFiles>;
  /** Limit for one RPC, e.g. a managed save of a large guest (default 120 s). */
  callTimeoutMs?: number;
  /** How long shutdown() waits for the guest to power off (default 30 s). */
  shutdownTimeoutMs?: number;
  /** Poll interval while waiting for shutdown (default 100 ms). */
  shutdownPollMs?: number;
  /** Connect timeout, TCP + TLS handshake + libvirtd's certificate verdict + the RPC handshake (default 5 s). */
  connectTimeoutMs?: number;
  /** Timers and time for timeouts, shutdown polling and reconnects (default: systemClock). */
  clock?: Clock;
}

type LifecycleCb = (domain: string, event: string, detail: string) => void;

/** Maps virDomainState to the engine's coarse states. */
export function runStateOf(state: number): DomainRunState {
  switch (state) {
    case VirDomainState.RUNNING:
    case VirDomainState.BLOCKED: // running, waiting on a resource
      return 'running';
    case VirDomainState.PAUSED:
      return 'paused';
    case VirDomainState.SHUTOFF:
      return 'shutoff';
    case VirDomainState.CRASHED:
      return 'crashed';
    default:
      return 'other';
  }
}

/** Socket path for a local libvirt URI; LIBVIRT_BAD_URI for a remote one (kept for callers that need a local daemon). */
export function socketPathForUri(uri: string): string {
  const { endpoint } = parseLibvirtUri(uri);
  if (endpoint.kind !== 'unix') throw new LibvirtError('LIBVIRT_BAD_URI', `'${uri}' is a remote (${endpoint.kind}) URI; a local one such as qemu:///system is needed here`);
  return endpoint.socketPath;
}

export class RemoteHypervisor implements Hypervisor {
  private conn: RpcConnection | undefined;
  private connecting: Promise<RpcConnection> | undefined;
  private readonly handles = new Map<string, RemoteDomain>();
  private readonly listeners = new Set<LifecycleCb>();
  private readonly connListeners = new Set<() => void>();
  /** Event callback id on the current connection, when registered. */
  private callbackId: number | undefined;
  private readonly registering = new WeakMap<RpcConnection, Promise<void>>();
  private reconnectTimer: TimerHandle | undefined;
  private reconnectDelayMs = RECONNECT_MIN_MS;
  /** Why the last connect attempt failed; while a background retry is pending, operations fail fast with it. */
  private lastConnectError: LibvirtError | undefined;
  private closed = false;
  private status: { state: ConnectionStatus['state']; since: number; lastError?: string } = { state: 'idle', since: 0 };
  private connects = 0;
  /** Where libvirtd is (unix socket, TCP or TLS endpoint) and the URI opened there. */
  readonly endpoint: LibvirtEndpoint;
  private readonly openUri: string;
  /** For error messages: the socket path or "HOST:PORT (tls)". */
  private readonly socketPath: string;
  private readonly callTimeoutMs: number;
  private readonly shutdownTimeoutMs: number;
  private readonly shutdownPollMs: number;
  private readonly connectTimeoutMs: number;
  private readonly clock: Clock;

  constructor(
    readonly uri: string,
    opts: RemoteHypervisorOptions = {},
  ) {
    const parsed = parseLibvirtUri(uri, opts.tls);
    if (opts.socketPath !== undefined && parsed.endpoint.kind !== 'unix') {
      throw new LibvirtError('LIBVIRT_BAD_URI', `'${uri}' is a remote URI; a socketPath option only applies to local ones`);
    }
    this.endpoint = opts.socketPath === undefined ? parsed.endpoint : { kind: 'unix', socketPath: opts.socketPath };
    this.openUri = parsed.openUri;
    this.socketPath = endpointLabel(this.endpoint);
    this.callTimeoutMs = opts.callTimeoutMs ?? 120_000;
    this.shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 30_000;
    this.shutdownPollMs = opts.shutdownPollMs ?? 100;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.clock = opts.clock ?? systemClock;
    this.status = { state: 'idle', since: this.clock.now() };
  }

  connectionStatus(): ConnectionStatus {
    const { state, since, lastError } = this.status;
    return { state, endpoint: this.socketPath, since, connects: this.connects, ...(lastError === undefined ? {} : { lastError }) };
  }

  private setStatus(state: ConnectionStatus['state'], lastError?: string): void {
    const keep = lastError ?? this.status.lastError;
    if (state !== this.status.state) this.status = { state, since: this.clock.now(), ...(keep === undefined ? {} : { lastError: keep }) };
    else if (lastError !== undefined) this.status = { ...this.status, lastError };
  }

  /** Opens the connection now (connectHypervisor calls this so a dead daemon fails fast). */
  async connect(): Promise<void> {
    await this.ensure();
  }

  async getState(domain: string): Promise<DomainState> {
    return this.withDomain(domain, async (conn, dom) => {
      // Both calls go out before either reply arrives.
      const [st, ms] = await Promise.all([
        this.call(conn, Proc.DOMAIN_GET_STATE, encodeDomainFlagsArgs(dom, 0), domain),
        this.call(conn, Proc.DOMAIN_HAS_MANAGED_SAVE_IMAGE, encodeDomainFlagsArgs(dom, 0), domain),
      ]);
      return {
        state: runStateOf(decodeGetStateRet(st).state),
        hasManagedSave: decodeIntRet(ms, 'domain_has_managed_save_image_ret') !== 0,
      };
    });
  }

  async memoryStats(domain: string): Promise<ReadonlyMap<string, bigint>> {
    return this.withDomain(domain, async (conn, dom) =>
      decodeMemoryStatsRet(await this.call(conn, Proc.DOMAIN_MEMORY_STATS, encodeMemoryStatsArgs(dom, MEMORY_STAT_TAGS.length), domain)),
    );
  }

  async setMemoryHardLimit(domain: string, kib: bigint | 'unlimited'): Promise<void> {
    const value = kib === 'unlimited' ? VIR_DOMAIN_MEMORY_PARAM_UNLIMITED : kib;
    await this.withDomain(domain, (conn, dom) =>
      this.call(conn, Proc.DOMAIN_SET_MEMORY_PARAMETERS, encodeSetMemoryParametersArgs(dom, [{ field: 'hard_limit', value }], VIR_DOMAIN_AFFECT_LIVE), domain),
    );
  }

  async suspend(domain: string): Promise<void> {
    await this.domainVoidCall(domain, Proc.DOMAIN_SUSPEND);
  }

  async resume(domain: string): Promise<void> {
    await this.domainVoidCall(domain, Proc.DOMAIN_RESUME);
  }

  async managedSave(domain: string): Promise<void> {
    // SAVE_RUNNING: a guest parked while paused still comes back running on start().
    await this.withDomain(domain, (conn, dom) => this.call(conn, Proc.DOMAIN_MANAGED_SAVE, encodeDomainFlagsArgs(dom, VIR_DOMAIN_SAVE_RUNNING), domain));
  }

  async start(domain: string): Promise<void> {
    await this.withDomain(domain, async (conn, dom) => {
      const ret = await this.call(conn, Proc.DOMAIN_CREATE_WITH_FLAGS, encodeDomainFlagsArgs(dom, 0), domain);
      this.handles.set(domain, decodeDomainRet(ret, 'domain_create_with_flags_ret'));
    });
  }

  async shutdown(domain: string): Promise<void> {
    await this.domainVoidCall(domain, Proc.DOMAIN_SHUTDOWN);
    const deadline = this.clock.now() + this.shutdownTimeoutMs;
    for (;;) {
      const { state } = await this.getState(domain);
      if (state === 'shutoff') return;
      if (this.clock.now() >= deadline) {
        throw new LibvirtError('LIBVIRT_TIMEOUT', `domain '${domain}' is still ${state} ${this.shutdownTimeoutMs} ms after the ACPI shutdown request (does the guest handle the power button?)`, { domain });
      }
      await this.sleep(Math.min(this.shutdownPollMs, Math.max(0, deadline - this.clock.now())));
    }
  }

  async destroy(domain: string): Promise<void> {
    await this.domainVoidCall(domain, Proc.DOMAIN_DESTROY);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => this.clock.setTimer(r, ms));
  }

  onLifecycle(cb: LifecycleCb): () => void {
    this.listeners.add(cb);
    if (this.listeners.size === 1) {
      // Register on the live connection, or connect (which registers) in the background.
      void this.ensure()
        .then((conn) => this.registerEvents(conn))
        .catch(() => this.scheduleReconnect());
    }
    return () => {
      if (!this.listeners.delete(cb) || this.listeners.size > 0) return;
      const conn = this.conn;
      const id = this.callbackId;
      this.callbackId = undefined;
      if (conn !== undefined && !conn.closed && id !== undefined) {
        void this.call(conn, Proc.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, encodeIntArgs(id)).catch(() => undefined);
      }
    };
  }

  onConnection(cb: () => void): () => void {
    this.connListeners.add(cb);
    // Not connected: start the background reconnect now, so the first connection is reported.
    if (this.conn === undefined || this.conn.closed) void this.ensure().catch(() => this.scheduleReconnect());
    return () => {
      this.connListeners.delete(cb);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.setStatus('closed');
    if (this.reconnectTimer !== undefined) this.clock.clearTimer(this.reconnectTimer);
    this.listeners.clear();
    this.connListeners.clear();
    const conn = this.conn ?? (await this.connecting?.catch(() => undefined));
    this.conn = undefined;
    if (conn !== undefined && !conn.closed) {
      await this.call(conn, Proc.CONNECT_CLOSE, Buffer.alloc(0), undefined, 2000).catch(() => undefined);
      conn.destroy();
    }
  }

  // ---- internals ----

  private call(conn: RpcConnection, proc: number, args: Buffer, domain?: string, timeoutMs = this.callTimeoutMs): Promise<Buffer> {
    return conn.call(proc, args, { timeoutMs, ...(domain === undefined ? {} : { domain }) });
  }

  private async domainVoidCall(domain: string, proc: number): Promise<void> {
    await this.withDomain(domain, (conn, dom) => this.call(conn, proc, encodeDomainArgs(dom), domain));
  }

  /** Runs `op` with a domain handle; a cached handle that turned stale is looked up again once. */
  private async withDomain<T>(domain: string, op: (conn: RpcConnection, dom: RemoteDomain) => Promise<T>): Promise<T> {
    if (typeof domain !== 'string' || domain === '') throw new LibvirtError('LIBVIRT_NO_DOMAIN', `invalid domain name ${JSON.stringify(domain)}`);
    const conn = await this.ensure();
    const cached = this.handles.get(domain);
    if (cached === undefined) return op(conn, await this.lookup(conn, domain));
    try {
      return await op(conn, cached);
    } catch (e) {
      if (!(e instanceof LibvirtError) || e.code !== 'LIBVIRT_NO_DOMAIN') throw e;
      this.handles.delete(domain);
      return op(conn, await this.lookup(conn, domain));
    }
  }

  private async lookup(conn: RpcConnection, domain: string): Promise<RemoteDomain> {
    const ret = await this.call(conn, Proc.DOMAIN_LOOKUP_BY_NAME, encodeLookupByNameArgs(domain), domain);
    const dom = decodeDomainRet(ret, 'domain_lookup_by_name_ret');
    this.handles.set(domain, dom);
    return dom;
  }

  private ensure(): Promise<RpcConnection> {
    if (this.closed) return Promise.reject(new LibvirtError('LIBVIRT_CONNECTION', `hypervisor connection to ${this.uri} was closed`));
    if (this.conn !== undefined && !this.conn.closed) return Promise.resolve(this.conn);
    // A remote host that just failed to connect, with a background retry scheduled: fail now
    // with its error instead of making every operation wait a connect timeout of its own (a
    // dead host's VMs would otherwise hold start-up and the read slots one timeout after
    // another). Not for the local socket: a refused unix connect costs nothing to retry.
    if (this.endpoint.kind !== 'unix' && this.connecting === undefined && this.reconnectTimer !== undefined && this.lastConnectError !== undefined) {
      const e = this.lastConnectError;
      return Promise.reject(new LibvirtError(e.code, `${e.message}; libvirtd at ${this.socketPath} is retried in the background`, { cause: e }));
    }
    if (this.connecting === undefined) this.setStatus('connecting');
    this.connecting ??= this.open().then(
      (conn) => {
        this.connecting = undefined;
        this.lastConnectError = undefined;
        return conn;
      },
      (e: unknown) => {
        this.connecting = undefined;
        this.lastConnectError = e instanceof LibvirtError ? e : new LibvirtError('LIBVIRT_CONNECTION', `cannot connect to libvirtd at ${this.socketPath}: ${String(e)}`, { cause: e });
        this.setStatus(this.closed ? 'closed' : 'down', this.lastConnectError.message);
        throw this.lastConnectError;
      },
    );
    return this.connecting;
  }

  private async open(): Promise<RpcConnection> {
    const conn = await RpcConnection.connect(this.endpoint, this.connectTimeoutMs, this.clock);
    try {
      conn.onMessage = (proc, payload) => this.onEvent(proc, payload);
      // Same handshake as libvirt's remote driver: list auth types, satisfy polkit if asked, open the URI.
      const auth = decodeAuthListRet(await this.call(conn, Proc.AUTH_LIST, Buffer.alloc(0), undefined, this.connectTimeoutMs));
      if (auth.length > 0 && !auth.includes(AuthType.NONE)) {
        if (!auth.includes(AuthType.POLKIT)) {
          throw new LibvirtError('LIBVIRT_AUTH', `libvirtd at ${this.socketPath} requires authentication types [${auth.join(', ')}]; only none and polkit are supported`);
        }
        const ok = decodeAuthPolkitRet(await this.call(conn, Proc.AUTH_POLKIT, Buffer.alloc(0), undefined, this.connectTimeoutMs));
        if (!ok) throw new LibvirtError('LIBVIRT_AUTH', `polkit authentication with libvirtd at ${this.socketPath} did not complete`);
      }
      await this.call(conn, Proc.CONNECT_OPEN, encodeOpenArgs(this.openUri, 0), undefined, this.connectTimeoutMs);
      if (this.closed) {
        conn.destroy();
        throw new LibvirtError('LIBVIRT_CONNECTION', `hypervisor connection to ${this.uri} was closed`);
      }
      this.conn = conn;
      this.connects++;
      this.setStatus('up');
      this.callbackId = undefined;
      // UUIDs survive a daemon restart, ids do not; drop every handle to be safe.
      this.handles.clear();
      conn.onClose = (err) => {
        if (this.conn === conn) {
          this.setStatus(this.closed ? 'closed' : 'down', err.message);
          this.conn = undefined;
          this.callbackId = undefined;
        }
        this.scheduleReconnect();
      };
      this.reconnectDelayMs = RECONNECT_MIN_MS;
      if (this.listeners.size > 0) await this.registerEvents(conn);
      for (const cb of [...this.connListeners]) {
        try {
          cb();
        } catch {
          // A throwing listener must not fail the connection or starve the others.
        }
      }
      return conn;
    } catch (e) {
      conn.destroy();
      // A handshake call that timed out is a host that does not answer: a connection failure naming it.
      if (e instanceof LibvirtError && e.code === 'LIBVIRT_TIMEOUT') {
        throw new LibvirtError('LIBVIRT_CONNECTION', `timed out after ${this.connectTimeoutMs} ms connecting (RPC handshake) to libvirtd at ${this.socketPath} (host down, blackholed or hung?)`, { cause: e });
      }
      throw e;
    }
  }

  private registerEvents(conn: RpcConnection): Promise<void> {
    if (this.callbackId !== undefined || this.listeners.size === 0 || conn.closed) return Promise.resolve();
    // One registration per connection even when open() and onLifecycle() race (two would double every event).
    const inFlight = this.registering.get(conn);
    if (inFlight !== undefined) return inFlight;
    const p = this.call(conn, Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, encodeEventRegisterArgs(VIR_DOMAIN_EVENT_ID_LIFECYCLE, null))
      .then((ret) => {
        if (this.conn === conn) this.callbackId = decodeIntRet(ret, 'connect_domain_event_callback_register_any_ret');
      })
      .finally(() => this.registering.delete(conn));
    this.registering.set(conn, p);
    return p;
  }

  /**
   * With listeners, keep trying to reconnect (backoff 250 ms .. 1 s) so events resume
   * and a wake waiting for libvirt is retried without a call. Capped at 1 s: a failed
   * connect to a local unix socket costs microseconds, and every second of the cap is
   * added to a wake that waits for a restarted libvirtd (docs/decisions.md).
   */
  private scheduleReconnect(): void {
    if (this.closed || (this.listeners.size === 0 && this.connListeners.size === 0) || this.reconnectTimer !== undefined) return;
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(delay * 2, this.endpoint.kind === 'unix' ? RECONNECT_MAX_MS : RECONNECT_MAX_REMOTE_MS);
    this.reconnectTimer = this.clock.setTimer(() => {
      this.reconnectTimer = undefined;
      this.ensure().catch(() => this.scheduleReconnect());
    }, delay);
  }

  private onEvent(proc: number, payload: Buffer): void {
    if (proc !== Proc.DOMAIN_EVENT_CALLBACK_LIFECYCLE) return;
    // One lifecycle callback per connection, so every such message is ours (checking the
    // id would drop events that race the REGISTER_ANY reply's continuation).
    const msg = decodeLifecycleMsg(payload);
    if (this.listeners.size === 0) return;
    const { event, detail } = lifecycleNames(msg.event, msg.detail);
    for (const cb of [...this.listeners]) {
      try {
        cb(msg.dom.name, event, detail);
      } catch {
        // A throwing listener must not break the connection or the other listeners.
      }
    }
  }
}


/**
 * Connects to libvirt at `uri` (e.g. 'qemu:///system') over its unix socket.
 * Rejects with LIBVIRT_CONNECTION (naming the socket path) when libvirtd is not running.
 */
export async function connectHypervisor(uri: string, opts: RemoteHypervisorOptions = {}): Promise<Hypervisor> {
  const h = new RemoteHypervisor(uri, opts);
  await h.connect();
  return h;
}
