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
 *
 * Redis losing the state under the store (restarted without persistence,
 * FLUSHALL, failover to an empty replica, restored from an older RDB) is
 * detected and repaired: the in-process copy holds the latest record of every
 * VM this store wrote or read, and a full sync rewrites all of them together
 * with a marker key (`<keyPrefix>_store`, holding this store's random token).
 * After every (re)connection and every `checkIntervalMs` the store reads
 * INFO server's run_id and the marker; a new run_id (another server process:
 * empty, or loaded from an older dump) or a missing/foreign marker (the data
 * was flushed or replaced on the same server) triggers a full sync. `healthy`
 * stays false from a reconnection until that check passed and any full sync
 * is acknowledged.
 */
import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import type { ParkRecord, StateStore } from './store.js';
import { DEPTHS } from '../inventory/types.js';

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
  /**
   * How often a connected store checks that Redis still holds its state
   * (run_id and marker key; default 1000 ms). Bounds how long a FLUSHALL on a
   * live connection goes unnoticed; a reconnection is checked at once.
   */
  readonly checkIntervalMs?: number;
  /** The marker key (default `<keyPrefix>_store`: VM names start with a letter or digit, so no VM's key). */
  readonly markerKey?: string;
  /** The clock for retries and checks (default: systemClock, whose unref'd timers never keep the process alive). */
  readonly clock?: Clock;
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
const DEPTH_NAMES = new Set<string>(DEPTHS);

interface Entry {
  record: ParkRecord | undefined;
  details: VmDetails;
  /** Bumped on every change; `written` is the version Redis has. 0: only read back from Redis, never changed here. */
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
  /** Written with every full sync; its absence means Redis lost what the store wrote. */
  readonly markerKey: string;
  readonly #owned: boolean;
  readonly #entries = new Map<string, Entry>();
  readonly #details: ((vm: string) => VmDetails | undefined) | undefined;
  readonly #log: Logger | undefined;
  readonly #connectTimeoutMs: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #checkIntervalMs: number;
  readonly #timers: Clock;
  /** This store's marker value: a marker holding anything else was not written by this store. */
  readonly #token = randomUUID();
  #flushing: Promise<void> | undefined;
  #retryTimer: TimerHandle | undefined;
  #checkTimer: TimerHandle | undefined;
  #checking = false;
  /** A full sync is due while #syncedGen < #resetGen (starts due: the first write also writes the marker). */
  #resetGen = 1;
  #syncedGen = 0;
  /** Bumped when the connection closes: a check answered on an older connection is ignored. */
  #connGen = 0;
  /** The current connection passed its check (run_id and marker). */
  #verified = false;
  /** run_id of the Redis server last checked (undefined: not yet known, or INFO refused). */
  #runId: string | undefined;
  #foreignMarkerLogged = false;
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
    this.#checkIntervalMs = opts.checkIntervalMs ?? 1000;
    this.#timers = opts.clock ?? systemClock;
    this.markerKey = opts.markerKey ?? `${this.keyPrefix}_store`;
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
    this.client.on('close', () => {
      // Whatever comes next (the same server, a restarted one, a replica) is unverified.
      this.#connGen++;
      this.#verified = false;
    });
    this.client.on('ready', () => {
      this.#everReady = true;
      this.#gaveUp = false;
      // Check before writing (if Redis lost the state the retry must be a full
      // sync); a check that passed kicks the writes itself, a failed one must
      // not hold back what is pending.
      this.#scheduleCheck();
      void this.#check().finally(() => {
        if (!this.#verified && this.#pending()) this.#kick();
      });
    });
    // A client we do not own may already be connected (its 'ready' is past).
    if (this.client.status === 'ready') {
      this.#scheduleCheck();
      void this.#check();
    }
  }

  /** The key of a VM's hash. */
  key(vm: string): string {
    return `${this.keyPrefix}${vm}`;
  }

  /** Records not yet acknowledged by Redis (during a full sync: every record the store knows). */
  get pendingWrites(): number {
    return this.#fullSyncDue() ? this.#entries.size : this.#dirtyCount();
  }

  /**
   * True when Redis is connected, this connection passed its check (same
   * server, marker present), no full sync is due and nothing waits to be written.
   */
  get healthy(): boolean {
    return this.client.status === 'ready' && this.#verified && !this.#fullSyncDue() && this.#dirtyCount() === 0;
  }

  /**
   * The VM's record: this process's copy if it wrote one, otherwise Redis's.
   * A record read from Redis is remembered (it is rewritten if Redis loses
   * it: a VM parked by an earlier controller may never be written by this one).
   * Rejects with StoreUnavailableError (Redis unreachable) or StoreCorruptError.
   */
  async get(vm: string): Promise<ParkRecord | undefined> {
    const e = this.#entries.get(vm);
    if (e?.record !== undefined && e.version > 0) return e.record;
    const stored = await this.read(vm);
    const now = this.#entries.get(vm);
    if (now === undefined || now.version === 0) {
      // Nothing changed here meanwhile: keep Redis's view (or forget a record Redis no longer has).
      if (stored === undefined) this.#entries.delete(vm);
      else {
        const record = recordOf(stored);
        const details: VmDetails = { domain: stored.domain, lastPort: stored.lastPort, lastError: stored.lastError };
        this.#entries.set(vm, { record, details, version: 0, written: 0, waiters: [] });
      }
    }
    if (stored === undefined) return undefined;
    return recordOf(stored);
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
    if (this.#pending() && this.client.status === 'ready') {
      let h: TimerHandle | undefined;
      await Promise.race([this.#flush(), new Promise<void>((r) => (h = this.#timers.setTimer(r, timeoutMs)))]);
      if (h !== undefined) this.#timers.clearTimer(h);
    }
    this.#closed = true;
    if (this.#retryTimer !== undefined) this.#timers.clearTimer(this.#retryTimer);
    if (this.#checkTimer !== undefined) this.#timers.clearTimer(this.#checkTimer);
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

  #fullSyncDue(): boolean {
    return this.#syncedGen < this.#resetGen;
  }

  /** Something waits to be written: a changed record, or a full sync. */
  #pending(): boolean {
    return this.#fullSyncDue() || this.#dirtyCount() > 0;
  }

  /**
   * Checks that the connected Redis still holds what this store wrote: the
   * same server process (INFO server run_id) and the marker of the last full
   * sync. If not, schedules a full sync. Runs after each connection and every
   * checkIntervalMs; a failed check (connection lost) is left to the next one.
   */
  async #check(): Promise<void> {
    if (this.#closed || this.client.status !== 'ready') return;
    const conn = this.#connGen;
    let res: [Error | null, unknown][] | null;
    try {
      res = await this.client.pipeline().info('server').get(this.markerKey).exec();
    } catch {
      return; // not connected any more: the next 'ready' checks again
    }
    if (this.#closed || conn !== this.#connGen || res === null) return;
    const [[infoErr, info], [markerErr, marker]] = res as [[Error | null, unknown], [Error | null, unknown]];
    if (markerErr !== null) return; // e.g. a command timeout: the periodic check retries
    // INFO may be refused (renamed or ACL'd away): then the marker alone decides.
    const runId = infoErr === null && typeof info === 'string' ? /^run_id:([0-9a-f]+)/m.exec(info)?.[1] : undefined;
    let reason: string | undefined;
    if (runId !== undefined && this.#runId !== undefined && runId !== this.#runId) {
      // A new server process: empty (no persistence), or loaded from a dump
      // that may be older than this store's records. Either way rewrite all.
      reason = `redis restarted (run_id ${this.#runId} -> ${runId})`;
    } else if (this.#syncedGen > 0 && marker !== this.#token) {
      if (marker === null) reason = `marker key ${this.markerKey} missing (FLUSHALL/FLUSHDB, eviction, or a failover to a replica without it)`;
      else {
        reason = `marker key ${this.markerKey} holds another store's token (${String(marker)}): data replaced, or a second controller on the same key prefix`;
        if (!this.#foreignMarkerLogged) {
          this.#foreignMarkerLogged = true;
          this.#log?.warn('redis marker written by another store: is a second controller using this key prefix?', { markerKey: this.markerKey });
        }
      }
    }
    if (runId !== undefined) this.#runId = runId;
    if (reason !== undefined && !this.#fullSyncDue()) {
      this.#resetGen++;
      this.#log?.warn('redis lost the parked state: rewriting every record', { reason, records: this.#entries.size });
    } else if (reason !== undefined) {
      this.#resetGen++; // a full sync in flight may have gone to the old data: one more after it
    }
    this.#verified = true;
    if (this.#pending()) this.#kick();
    this.#scheduleCheck();
  }

  #scheduleCheck(): void {
    if (this.#closed || this.#checkTimer !== undefined) return;
    this.#checkTimer = this.#timers.setTimer(() => {
      this.#checkTimer = undefined;
      if (this.#checking) return;
      this.#checking = true;
      void this.#check().finally(() => {
        this.#checking = false;
        // Re-armed here too: a check skipped while disconnected must not stop the loop.
        this.#scheduleCheck();
      });
    }, this.#checkIntervalMs);
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
      // A full sync writes every record the store knows and the marker in one
      // transaction, so a marker present means all of them were (and, unless
      // the data was replaced since, still are) in Redis.
      const fullGen = this.#fullSyncDue() ? this.#resetGen : undefined;
      const batch = [...this.#entries]
        .filter(([, e]) => fullGen !== undefined || e.written < e.version)
        .map(([vm, e]) => ({ vm, e, version: e.version, record: e.record, details: e.details }));
      if (batch.length === 0 && fullGen === undefined) return;
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
        if (fullGen !== undefined) multi.set(this.markerKey, this.#token);
        const res = await this.#command(() => multi.exec(), `writing ${batch.length} record(s)`, false);
        const bad = res?.find(([err]) => err !== null);
        if (res === null || bad !== undefined) throw new StoreUnavailableError(`redis write failed: ${bad?.[0]?.message ?? 'transaction aborted'}`);
      } catch (err) {
        failed = err;
      }
      if (failed === undefined) {
        if (fullGen !== undefined) {
          if (this.#syncedGen > 0) this.#log?.info('redis state rewritten', { records: batch.length });
          this.#syncedGen = Math.max(this.#syncedGen, fullGen);
        }
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
        if (this.#pending()) this.#kick();
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
    if (this.#retryTimer !== undefined) this.#timers.clearTimer(this.#retryTimer);
    this.#retryTimer = undefined;
    void this.#flush();
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer !== undefined) return;
    const delay = this.#retryDelay;
    this.#retryDelay = Math.min(this.#retryDelay * 2, this.#retryMaxMs);
    this.#retryTimer = this.#timers.setTimer(() => {
      this.#retryTimer = undefined;
      void this.#flush();
    }, delay);
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
      const timer = this.#timers.setTimer(() => {
        this.client.off('ready', onReady);
        this.#waiting = undefined;
        this.#gaveUp = true;
        reject(new StoreUnavailableError(`redis not reachable within ${this.#connectTimeoutMs} ms (${this.#lastClientError || this.client.status})`));
      }, this.#connectTimeoutMs);
      const onReady = () => {
        this.#timers.clearTimer(timer);
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
    // Always written ('' = the inventory's): HSET keeps fields it is not given, and a
    // VM back on its inventory host must not be woken through the host it left.
    h.uri = record.uri ?? '';
    h.dpid = record.dpid === undefined ? '' : record.dpid.toString(16);
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
  if (h.depth === undefined || !DEPTH_NAMES.has(h.depth)) throw bad('depth');
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
  // Written since fabric mode (docs/parking.md#fabric); older records have neither.
  if (h.uri !== undefined && h.uri !== '') out.uri = h.uri;
  if (h.dpid !== undefined && h.dpid !== '') {
    if (!/^[0-9a-f]{1,16}$/.test(h.dpid)) throw bad('dpid');
    out.dpid = BigInt(`0x${h.dpid}`);
  }
  return out;
}

/** The engine's record from a stored hash (the host and switch only when the VM had moved). */
function recordOf(s: StoredVm): ParkRecord {
  return { state: s.state, depth: s.depth, since: s.since, ...(s.uri !== undefined ? { uri: s.uri } : {}), ...(s.dpid !== undefined ? { dpid: s.dpid } : {}) };
}
