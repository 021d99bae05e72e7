/**
 * A StateStore in Redis, so a controller restart forgets no parked VM.
 *
 * One hash per VM under a key prefix (default `seamless:vm:<name>`), fields:
 * state, depth, since (the ParkRecord) and, for operators, domain, lastPort,
 * lastError, updatedAt.
 *
 * Redis never blocks the engine: `put` updates an in-process copy at once and
 * writes behind it. Its promise resolves when Redis has acknowledged the write
 * (or a newer one of the same VM), and rejects with StoreUnavailableError if the
 * first attempt fails; the store then keeps retrying in the background (only
 * the latest record of each VM, in order) until Redis is back. `get` answers
 * from the in-process copy when this store wrote the VM, so a VM parked while
 * Redis was down is still known parked to this process.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';
import type { ParkRecord, StateStore } from './store.js';

/** Operator-facing facts kept next to the record. */
export interface VmDetails {
  /** libvirt domain name. */
  readonly domain?: string | undefined;
  /** The VM's OpenFlow port when it was last seen (a saved VM's tap is gone while parked). */
  readonly lastPort?: number | undefined;
  readonly lastError?: string | undefined;
}

/** A record as stored: the engine's ParkRecord plus details. */
export interface StoredVm extends ParkRecord, VmDetails {
  /** Epoch ms of the last write. */
  readonly updatedAt: number;
}

export interface RedisStateStoreOptions {
  /** `redis://[user:pass@]host:port[/db]`, `rediss://...`, `unix:///path/redis.sock` or a socket path; or a client we do not own. */
  readonly redis: string | Redis;
  /** Default `seamless:vm:`. */
  readonly keyPrefix?: string;
  /** Details to store with a VM's record, read at each put/refresh (e.g. from the park app's status). */
  readonly details?: (vm: string) => VmDetails | undefined;
  readonly log?: Logger;
  /** Time allowed for the first connection before get() fails (default 3000 ms). */
  readonly connectTimeoutMs?: number;
  /** Per-command timeout (default 2000 ms). */
  readonly commandTimeoutMs?: number;
  /** Retry backoff of unwritten records: first delay, doubling up to max (defaults 200 / 5000 ms). */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
}

/** Redis could not be reached or did not answer; the record is kept in memory and retried. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'STORE_UNAVAILABLE';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A stored hash that is not a valid record (written by something else, or by hand). */
export class StoreCorruptError extends Error {
  override readonly name = 'StoreCorruptError';
  readonly code = 'STORE_CORRUPT';
}

/** The store was closed. */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
  readonly code = 'STORE_CLOSED';
}

const STATES = new Set<string>(['parked', 'active']);
const DEPTHS = new Set<string>(['pause', 'save', 'shutdown']);

interface Entry {
  record: ParkRecord | undefined;
  details: VmDetails;
  /** Bumped on every change; `written` is the version Redis has. */
  version: number;
  written: number;
  waiters: { version: number; resolve: () => void }[];
}

/** Options for ioredis from a URL or socket path, with fail-fast settings. */
function clientFor(target: string, connectTimeout: number, commandTimeout: number): Redis {
  const common = {
    // Fail commands at once while disconnected instead of queueing them for an
    // unknown time: the store keeps its own retry queue, the engine never waits.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout,
    connectTimeout,
    // Reconnect forever, at most every 2 s.
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  } satisfies RedisOptions;
  if (target.startsWith('unix://')) return new Redis({ ...common, path: new URL(target).pathname });
  if (target.startsWith('/')) return new Redis({ ...common, path: target });
  if (target.startsWith('redis://') || target.startsWith('rediss://')) return new Redis(target, common);
  throw new TypeError(`redis: expected redis://HOST:PORT, rediss://..., unix:///PATH or /PATH, got '${target}'`);
}

/** Parks VMs' state in Redis hashes; see the file comment for the write-behind contract. */
export class RedisStateStore implements StateStore {
  readonly client: Redis;
  readonly keyPrefix: string;
  readonly #owned: boolean;
  readonly #entries = new Map<string, Entry>();
  readonly #details: ((vm: string) => VmDetails | undefined) | undefined;
  readonly #log: Logger | undefined;
  readonly #connectTimeoutMs: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  #flushing: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelay: number;
  #outage = false;
  #everReady = false;
  #gaveUp = false;
  #waiting: Promise<void> | undefined;
  #closed = false;
  #lastClientError = '';

  constructor(opts: RedisStateStoreOptions) {
    this.keyPrefix = opts.keyPrefix ?? 'seamless:vm:';
    this.#details = opts.details;
    this.#log = opts.log;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 3000;
    this.#retryMinMs = opts.retryMinMs ?? 200;
    this.#retryMaxMs = opts.retryMaxMs ?? 5000;
    this.#retryDelay = this.#retryMinMs;
    if (typeof opts.redis === 'string') {
      this.client = clientFor(opts.redis, this.#connectTimeoutMs, opts.commandTimeoutMs ?? 2000);
      this.#owned = true;
    } else {
      this.client = opts.redis;
      this.#owned = false;
    }
    // Without a listener ioredis prints every connection error; we log them once per outage.
    this.client.on('error', (e: Error) => {
      this.#lastClientError = e.message;
    });
    this.client.on('ready', () => {
      this.#everReady = true;
      this.#gaveUp = false;
      if (this.#dirtyCount() > 0) this.#kick();
    });
  }

  /** The key of a VM's hash. */
  key(vm: string): string {
    return `${this.keyPrefix}${vm}`;
  }

  /** Records not yet acknowledged by Redis. */
  get pendingWrites(): number {
    return this.#dirtyCount();
  }

  /** True when Redis is connected and nothing waits to be written. */
  get healthy(): boolean {
    return this.client.status === 'ready' && this.#dirtyCount() === 0;
  }

  /**
   * The VM's record: this process's copy if it wrote one, otherwise Redis's.
   * Rejects with StoreUnavailableError (Redis unreachable) or StoreCorruptError.
   */
  async get(vm: string): Promise<ParkRecord | undefined> {
    const e = this.#entries.get(vm);
    if (e?.record !== undefined) return e.record;
    const stored = await this.read(vm);
    if (stored === undefined) return undefined;
    return { state: stored.state, depth: stored.depth, since: stored.since };
  }

  /** The full stored hash of a VM, from Redis (not the in-process copy). */
  async read(vm: string): Promise<StoredVm | undefined> {
    const h = await this.#command(() => this.client.hgetall(this.key(vm)), `reading ${this.key(vm)}`);
    if (Object.keys(h).length === 0) return undefined;
    return parseHash(this.key(vm), h);
  }

  /** Keeps `record` at once; resolves when Redis has it (see the file comment). */
  put(vm: string, record: ParkRecord): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreClosedError(`state store closed: ${vm} not persisted`));
    const e = this.#entry(vm);
    e.record = record; // `since` is already epoch ms (the StateStore contract)
    e.details = mergeDetails(e.details, this.#details?.(vm));
    return this.#change(e);
  }

  /**
   * Re-reads the VM's details (the `details` option) and writes them if they
   * changed, e.g. after a transition set a new lastError. Best effort: never rejects.
   */
  refresh(vm: string): void {
    if (this.#closed || this.#details === undefined) return;
    const e = this.#entry(vm);
    const next = mergeDetails(e.details, this.#details(vm));
    if (sameDetails(next, e.details)) return;
    e.details = next;
    this.#change(e).catch(() => {}); // logged by the flush; retried
  }

  /** Writes what is pending (bounded by `timeoutMs`), then disconnects a client this store created. */
  async close(timeoutMs = 1000): Promise<void> {
    if (this.#closed) return;
    if (this.#dirtyCount() > 0 && this.client.status === 'ready') {
      await Promise.race([this.#flush(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    }
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const left = this.#dirtyCount();
    if (left > 0) this.#log?.error('state store closed with unwritten records', { count: left });
    if (this.#owned) this.client.disconnect();
  }

  #entry(vm: string): Entry {
    let e = this.#entries.get(vm);
    if (!e) {
      e = { record: undefined, details: {}, version: 0, written: 0, waiters: [] };
      this.#entries.set(vm, e);
    }
    return e;
  }

  #dirtyCount(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.written < e.version) n++;
    return n;
  }

  /** Marks the entry changed and starts a write; settles with that write's first attempt (success or StoreUnavailableError). */
  #change(e: Entry): Promise<void> {
    e.version++;
    const version = e.version;
    return new Promise<void>((resolve, reject) => {
      const waiter = { version, resolve };
      e.waiters.push(waiter);
      this.#flush().then(
        () => {
          if (e.written >= version) return; // resolved by the flush
          // This write failed; the record stays queued for the retry, the caller learns now.
          e.waiters = e.waiters.filter((w) => w !== waiter);
          reject(new StoreUnavailableError(`redis unavailable: record kept in memory and retried (${this.#lastClientError || this.client.status})`));
        },
        (err: unknown) => reject(err as Error),
      );
    });
  }

  /** One flush at a time; a call during a flush runs another one after it (never loses a change). */
  #flush(): Promise<void> {
    const run = async (): Promise<void> => {
      const batch = [...this.#entries].filter(([, e]) => e.written < e.version).map(([vm, e]) => ({ vm, e, version: e.version, record: e.record, details: e.details }));
      if (batch.length === 0) return;
      let failed: unknown;
      try {
        const multi = this.client.multi();
        const now = Date.now();
        for (const b of batch) {
          const key = this.key(b.vm);
          // DEL + HSET in one transaction: fields that are no longer set disappear.
          multi.del(key);
          multi.hset(key, toHash(b.record, b.details, now));
        }
        const res = await this.#command(() => multi.exec(), `writing ${batch.length} record(s)`, false);
        const bad = res?.find(([err]) => err !== null);
        if (res === null || bad !== undefined) throw new StoreUnavailableError(`redis write failed: ${bad?.[0]?.message ?? 'transaction aborted'}`);
      } catch (err) {
        failed = err;
      }
      if (failed === undefined) {
        for (const b of batch) {
          b.e.written = Math.max(b.e.written, b.version);
          const done = b.e.waiters.filter((w) => w.version <= b.e.written);
          b.e.waiters = b.e.waiters.filter((w) => w.version > b.e.written);
          for (const w of done) w.resolve();
        }
        if (this.#outage) {
          this.#outage = false;
          this.#log?.info('redis back: parked state written', { records: batch.length });
        }
        this.#retryDelay = this.#retryMinMs;
        if (this.#dirtyCount() > 0) this.#kick();
        return;
      }
      if (!this.#outage) {
        this.#outage = true;
        this.#log?.error('redis unavailable: parked state kept in memory, retrying', { pending: batch.length, err: failed });
      }
      this.#scheduleRetry();
    };
    const prev = this.#flushing ?? Promise.resolve();
    const next = prev.then(run);
    this.#flushing = next;
    void next.finally(() => {
      if (this.#flushing === next) this.#flushing = undefined;
    });
    return next;
  }

  #kick(): void {
    if (this.#closed) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    void this.#flush();
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer !== undefined) return;
    const delay = this.#retryDelay;
    this.#retryDelay = Math.min(this.#retryDelay * 2, this.#retryMaxMs);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#flush();
    }, delay);
    this.#retryTimer.unref();
  }

  /**
   * Runs a command; maps failures to StoreUnavailableError. A client that
   * never connected yet gets connectTimeoutMs to do so; after that, with
   * `wait` false (writes) a lost connection fails at once (writes are retried,
   * nobody waits), with `wait` true (reads) it gets connectTimeoutMs again.
   */
  async #command<T>(fn: () => Promise<T>, what: string, wait = true): Promise<T> {
    if (this.#closed) throw new StoreClosedError(`state store closed (${what})`);
    if (this.client.status === 'wait') void this.client.connect().catch(() => {});
    if (this.client.status !== 'ready') {
      if (!wait && this.#everReady) throw new StoreUnavailableError(`redis unavailable while ${what}: ${this.#lastClientError || `connection ${this.client.status}`}`);
      await this.#ready();
    }
    try {
      return await fn();
    } catch (e) {
      if (e instanceof StoreUnavailableError) throw e;
      throw new StoreUnavailableError(`redis unavailable while ${what}: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Waits for the connection, shared by concurrent callers; once a wait timed
   * out, reads fail at once until Redis is back (a start-up with hundreds of
   * VMs and no Redis must not wait connectTimeoutMs per VM).
   */
  #ready(): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    if (this.client.status === 'end') return Promise.reject(new StoreUnavailableError('redis connection closed'));
    if (this.#gaveUp) return Promise.reject(new StoreUnavailableError(`redis not reachable (${this.#lastClientError || this.client.status})`));
    this.#waiting ??= new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        this.#waiting = undefined;
        this.#gaveUp = true;
        reject(new StoreUnavailableError(`redis not reachable within ${this.#connectTimeoutMs} ms (${this.#lastClientError || this.client.status})`));
      }, this.#connectTimeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        this.#waiting = undefined;
        resolve();
      };
      this.client.once('ready', onReady);
    });
    return this.#waiting;
  }
}

function mergeDetails(old: VmDetails, next: VmDetails | undefined): VmDetails {
  if (next === undefined) return old;
  return {
    domain: next.domain ?? old.domain,
    // A saved VM's tap is gone while parked: keep the port it had.
    lastPort: next.lastPort ?? old.lastPort,
    lastError: next.lastError,
  };
}

function sameDetails(a: VmDetails, b: VmDetails): boolean {
  return a.domain === b.domain && a.lastPort === b.lastPort && a.lastError === b.lastError;
}

function toHash(record: ParkRecord | undefined, d: VmDetails, now: number): Record<string, string> {
  const h: Record<string, string> = { updatedAt: String(now) };
  if (record !== undefined) {
    h.state = record.state;
    h.depth = record.depth;
    h.since = String(record.since);
  }
  if (d.domain !== undefined) h.domain = d.domain;
  if (d.lastPort !== undefined) h.lastPort = String(d.lastPort);
  if (d.lastError !== undefined) h.lastError = d.lastError;
  return h;
}

/** Validates a stored hash; a hash with only details (no state yet) is `undefined`. */
function parseHash(key: string, h: Record<string, string>): StoredVm | undefined {
  if (h.state === undefined) return undefined;
  const bad = (field: string) => new StoreCorruptError(`${key}: field '${field}' is ${JSON.stringify(h[field])}`);
  if (!STATES.has(h.state)) throw bad('state');
  if (h.depth === undefined || !DEPTHS.has(h.depth)) throw bad('depth');
  const since = Number(h.since);
  if (h.since === undefined || !Number.isSafeInteger(since)) throw bad('since');
  const out: { -readonly [K in keyof StoredVm]: StoredVm[K] } = {
    state: h.state as ParkRecord['state'],
    depth: h.depth as ParkRecord['depth'],
    since,
    updatedAt: Number(h.updatedAt ?? 0),
  };
  if (h.domain !== undefined) out.domain = h.domain;
  if (h.lastPort !== undefined) {
    const p = Number(h.lastPort);
    if (!Number.isInteger(p) || p < 0 || p > 0xffffffff) throw bad('lastPort');
    out.lastPort = p;
  }
  if (h.lastError !== undefined) out.lastError = h.lastError;
  return out;
}
