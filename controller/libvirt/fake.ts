/**
 * In-memory Hypervisor for unit tests of the parking engine. Its state rules and error
 * codes mirror what libvirt 9 + QEMU do (checked against the real daemon, see
 * test/integration/libvirt.test.ts):
 *
 *   suspend      running -> paused; paused -> paused (no-op); shutoff -> OPERATION_INVALID
 *   resume       paused -> running; running/shutoff -> OPERATION_INVALID
 *   managedSave  running|paused -> shutoff + hasManagedSave; shutoff -> OPERATION_INVALID
 *   start        shutoff -> running (restores and drops the managed save); else OPERATION_INVALID
 *   shutdown     running -> shutoff (unless the guest ignores ACPI: LIBVIRT_TIMEOUT); else OPERATION_INVALID
 *   destroy      running|paused -> shutoff; shutoff -> OPERATION_INVALID
 *   setMemoryHardLimit  running|paused: records the limit (hardLimitOf); shutoff -> OPERATION_INVALID
 *   unknown domain -> LIBVIRT_NO_DOMAIN; disconnected or closed -> LIBVIRT_CONNECTION
 *
 * Operations on one domain are serialised like libvirt's per-domain job lock. Each
 * operation can be delayed (the state changes when the delay ends) or made to fail.
 * Every call is recorded with its outcome.
 */
import { LibvirtError, type LibvirtErrorCode } from './errors.js';
import type { DomainRunState, DomainState, Hypervisor } from './hypervisor.js';

export type FakeOp = 'getState' | 'suspend' | 'resume' | 'managedSave' | 'start' | 'shutdown' | 'destroy' | 'setMemoryHardLimit';

export interface FakeCall {
  op: FakeOp;
  domain: string;
  /** ms since the fake was created, when the call was made / finished. */
  startedAt: number;
  endedAt?: number;
  /** 'ok' or the LibvirtError code. */
  outcome?: 'ok' | LibvirtErrorCode;
}

export interface FakeDomainOptions {
  state?: DomainRunState;
  hasManagedSave?: boolean;
  /** The guest ignores the ACPI power button: shutdown() times out. */
  ignoresAcpi?: boolean;
}

export interface FakeHypervisorOptions {
  /** Delay (ms) per operation, for every domain. */
  delays?: Partial<Record<FakeOp, number>>;
  /** What shutdown() waits for an ACPI-ignoring guest before LIBVIRT_TIMEOUT (default 50 ms). */
  shutdownTimeoutMs?: number;
  /** Clock for call records (default performance.now). */
  now?: () => number;
}

interface FakeDomain {
  state: DomainRunState;
  /** The live memtune hard limit (KiB), 'unlimited' by default. */
  hardLimit: bigint | 'unlimited';
  /** Every limit set, in order (the reclaim tests check low-then-lifted). */
  hardLimits: (bigint | 'unlimited')[];
  hasManagedSave: boolean;
  ignoresAcpi: boolean;
  queue: Promise<unknown>;
}

interface Failure {
  op: FakeOp;
  domain: string | undefined;
  error: LibvirtError;
  /** Remaining times to fail; Infinity for always. */
  times: number;
}

type LifecycleCb = (domain: string, event: string, detail: string) => void;

export class FakeHypervisor implements Hypervisor {
  /** Every call, in the order made. */
  readonly calls: FakeCall[] = [];
  private readonly domains = new Map<string, FakeDomain>();
  private readonly delays: Partial<Record<FakeOp, number>>;
  private readonly domainDelays = new Map<string, Partial<Record<FakeOp, number>>>();
  private failures: Failure[] = [];
  private readonly listeners = new Set<LifecycleCb>();
  private readonly connListeners = new Set<() => void>();
  private connected = true;
  private closed = false;
  private readonly shutdownTimeoutMs: number;
  private readonly now: () => number;
  private readonly t0: number;

  constructor(opts: FakeHypervisorOptions = {}) {
    this.delays = { ...opts.delays };
    this.shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 50;
    this.now = opts.now ?? (() => performance.now());
    this.t0 = this.now();
  }

  // ---- test controls ----

  /** Adds a domain (default: running, no managed save). */
  define(name: string, opts: FakeDomainOptions = {}): this {
    this.domains.set(name, {
      state: opts.state ?? 'running',
      hasManagedSave: opts.hasManagedSave ?? false,
      ignoresAcpi: opts.ignoresAcpi ?? false,
      hardLimit: 'unlimited',
      hardLimits: [],
      queue: Promise.resolve(),
    });
    return this;
  }

  /** Removes a domain (later calls get LIBVIRT_NO_DOMAIN). */
  undefine(name: string): this {
    this.domains.delete(name);
    return this;
  }

  /** Synchronous peek at a domain's state, or undefined when it does not exist. */
  peek(name: string): DomainState | undefined {
    const d = this.domains.get(name);
    return d === undefined ? undefined : { state: d.state, hasManagedSave: d.hasManagedSave };
  }

  /** Sets the delay of one operation (for all domains, or one). */
  setDelay(op: FakeOp, ms: number, domain?: string): this {
    if (domain === undefined) this.delays[op] = ms;
    else this.domainDelays.set(domain, { ...this.domainDelays.get(domain), [op]: ms });
    return this;
  }

  /**
   * Makes `op` fail (for `domain`, or any domain) the next `times` calls (default 1;
   * Infinity for always) with `error` (a LibvirtError or just its code).
   */
  failNext(op: FakeOp, error: LibvirtError | LibvirtErrorCode = 'LIBVIRT_ERROR', opts: { domain?: string; times?: number } = {}): this {
    const err = typeof error === 'string' ? new LibvirtError(error, `injected failure of ${op}`) : error;
    this.failures.push({ op, domain: opts.domain, error: err, times: opts.times ?? 1 });
    return this;
  }

  /** Removes every injected failure. */
  clearFailures(): this {
    this.failures = [];
    return this;
  }

  /** Simulates libvirtd going away (false) and coming back (true: onConnection listeners are told). */
  setConnected(up: boolean): this {
    const was = this.connected;
    this.connected = up;
    if (up && !was) for (const cb of [...this.connListeners]) cb();
    return this;
  }

  /** Calls of one operation (optionally for one domain). */
  callsOf(op: FakeOp, domain?: string): FakeCall[] {
    return this.calls.filter((c) => c.op === op && (domain === undefined || c.domain === domain));
  }

  // ---- Hypervisor ----

  getState(domain: string): Promise<DomainState> {
    return this.run('getState', domain, (d) => ({ state: d.state, hasManagedSave: d.hasManagedSave }));
  }

  suspend(domain: string): Promise<void> {
    return this.run('suspend', domain, (d) => {
      if (d.state === 'paused') return;
      this.requireActive(domain, d);
      d.state = 'paused';
      this.emit(domain, 'suspended', 'paused');
    });
  }

  resume(domain: string): Promise<void> {
    return this.run('resume', domain, (d) => {
      this.requireActive(domain, d);
      if (d.state !== 'paused') throw invalid(domain, 'domain is already running');
      d.state = 'running';
      this.emit(domain, 'resumed', 'unpaused');
    });
  }

  managedSave(domain: string): Promise<void> {
    return this.run('managedSave', domain, (d) => {
      this.requireActive(domain, d);
      d.state = 'shutoff';
      d.hasManagedSave = true;
      this.emit(domain, 'stopped', 'saved');
    });
  }

  start(domain: string): Promise<void> {
    return this.run('start', domain, (d) => {
      if (d.state !== 'shutoff' && d.state !== 'crashed') throw invalid(domain, 'domain is already running');
      const restored = d.hasManagedSave;
      d.state = 'running';
      d.hasManagedSave = false;
      this.emit(domain, 'started', restored ? 'restored' : 'booted');
    });
  }

  shutdown(domain: string): Promise<void> {
    return this.run('shutdown', domain, async (d) => {
      if (d.state !== 'running') throw invalid(domain, 'domain is not running');
      if (d.ignoresAcpi) {
        await sleep(this.shutdownTimeoutMs);
        throw new LibvirtError('LIBVIRT_TIMEOUT', `domain '${domain}' is still running ${this.shutdownTimeoutMs} ms after the ACPI shutdown request`, { domain });
      }
      d.state = 'shutoff';
      this.emit(domain, 'shutdown', 'finished');
      this.emit(domain, 'stopped', 'shutdown');
    });
  }

  setMemoryHardLimit(domain: string, kib: bigint | 'unlimited'): Promise<void> {
    return this.run('setMemoryHardLimit', domain, (d) => {
      this.requireActive(domain, d);
      d.hardLimit = kib;
      d.hardLimits.push(kib);
    });
  }

  /** The limits set on a domain so far, in order. */
  hardLimitsOf(domain: string): readonly (bigint | 'unlimited')[] {
    return this.domains.get(domain)?.hardLimits ?? [];
  }

  destroy(domain: string): Promise<void> {
    return this.run('destroy', domain, (d) => {
      this.requireActive(domain, d);
      d.state = 'shutoff';
      this.emit(domain, 'stopped', 'destroyed');
    });
  }

  onLifecycle(cb: LifecycleCb): () => void {
    this.listeners.add(cb);
    return () => {
      this.listeners.delete(cb);
    };
  }

  onConnection(cb: () => void): () => void {
    this.connListeners.add(cb);
    return () => {
      this.connListeners.delete(cb);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.connListeners.clear();
  }

  // ---- internals ----

  private requireActive(domain: string, d: FakeDomain): void {
    if (d.state !== 'running' && d.state !== 'paused') throw invalid(domain, 'domain is not running');
  }

  private emit(domain: string, event: string, detail: string): void {
    for (const cb of [...this.listeners]) {
      try {
        cb(domain, event, detail);
      } catch {
        // Same contract as the real adapter: a throwing listener is ignored.
      }
    }
  }

  private run<T>(op: FakeOp, domain: string, body: (d: FakeDomain) => T | Promise<T>): Promise<T> {
    const call: FakeCall = { op, domain, startedAt: this.now() - this.t0 };
    this.calls.push(call);
    const finish = (outcome: 'ok' | LibvirtErrorCode): void => {
      call.endedAt = this.now() - this.t0;
      call.outcome = outcome;
    };
    const fail = (e: unknown): never => {
      finish(e instanceof LibvirtError ? e.code : 'LIBVIRT_ERROR');
      throw e;
    };
    if (this.closed) return Promise.reject(new LibvirtError('LIBVIRT_CONNECTION', 'fake hypervisor was closed')).catch(fail);
    if (!this.connected) {
      return Promise.reject(new LibvirtError('LIBVIRT_CONNECTION', 'cannot connect to libvirtd at fake://libvirt-sock (disconnected by the test)')).catch(fail);
    }
    const d = this.domains.get(domain);
    if (d === undefined) {
      return Promise.reject(
        new LibvirtError('LIBVIRT_NO_DOMAIN', `Domain not found: no domain with matching name '${domain}'`, { libvirtCode: 42, domain }),
      ).catch(fail);
    }
    const task = d.queue.then(async () => {
      const delay = this.domainDelays.get(domain)?.[op] ?? this.delays[op] ?? 0;
      if (delay > 0) await sleep(delay);
      const injected = this.takeFailure(op, domain);
      if (injected !== undefined) throw injected;
      // The domain may have been undefined while this call waited.
      if (!this.domains.has(domain)) {
        throw new LibvirtError('LIBVIRT_NO_DOMAIN', `Domain not found: no domain with matching name '${domain}'`, { libvirtCode: 42, domain });
      }
      return body(d);
    });
    d.queue = task.catch(() => undefined);
    return task.then(
      (v) => {
        finish('ok');
        return v;
      },
      fail,
    );
  }

  private takeFailure(op: FakeOp, domain: string): LibvirtError | undefined {
    const f = this.failures.find((x) => x.op === op && (x.domain === undefined || x.domain === domain));
    if (f === undefined) return undefined;
    f.times -= 1;
    if (f.times <= 0) this.failures = this.failures.filter((x) => x !== f);
    return f.error;
  }
}

function invalid(domain: string, why: string): LibvirtError {
  return new LibvirtError('LIBVIRT_OPERATION_INVALID', `Requested operation is not valid: ${why} (domain '${domain}')`, { libvirtCode: 55, domain });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
