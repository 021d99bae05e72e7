/**
 * The daemon's operator side in one object: where parked state is kept
 * (Redis with --redis, memory otherwise), wake-time bookkeeping, and the
 * control API server. `seamless controller` builds one before its apps, spreads
 * `parkOptions()` into createParkApp, then calls `serve()` once the controller
 * listens and `stop()` after it stopped.
 */
import { systemClock } from '../clock.js';
import type { Inventory } from '../inventory/types.js';
import type { ConnectionStatus } from '../libvirt/hypervisor.js';
import type { Logger } from '../log.js';
import type { ParkApp } from '../park/app.js';
import type { Output } from '../park/machine.js';
import { RedisStateStore } from '../park/redis-store.js';
import type { TopologyGraph } from '../topology/graph.js';
import { MemoryStateStore, type StateStore } from '../park/store.js';
import type { ApiAddress } from './address.js';
import { startApiServer, type ApiServer } from './server.js';
import { createControlSource, WakeTimes, type DatapathSource, type StoreHealth } from './source.js';

export interface ControlPlaneOptions {
  /** Redis URL or socket path (see RedisStateStore); without it parked state lives in memory. */
  readonly redis?: string;
  /** Redis key prefix (default `seamless:vm:`). */
  readonly redisKeyPrefix?: string;
  readonly log: Logger;
  readonly version?: string;
  /** The park engine's clock (default systemClock.now); times are shown as epoch ms. */
  readonly engineNow?: () => number;
}

/** Hides a password in a Redis URL for logs. */
function redactUrl(u: string): string {
  return u.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

export class ControlPlane {
  readonly wakeTimes = new WakeTimes();
  readonly store: StateStore;
  readonly #redis: RedisStateStore | undefined;
  readonly #log: Logger;
  readonly #version: string | undefined;
  /** Engine clock -> epoch ms (offset read at each call, so it follows wall-clock corrections). */
  readonly #toEpoch: (t: number) => number;
  #park: { app: ParkApp; inventory: Inventory } | undefined;
  #hypervisorStatus: ((uri: string) => ConnectionStatus | undefined) | undefined;
  #server: ApiServer | undefined;
  #topology: TopologyGraph | undefined;

  /** Throws TypeError for a malformed Redis target (before anything connects). */
  constructor(opts: ControlPlaneOptions) {
    this.#log = opts.log;
    this.#version = opts.version;
    const engineNow = opts.engineNow ?? (() => systemClock.now());
    this.#toEpoch = (t) => Date.now() - engineNow() + t;
    if (opts.redis !== undefined) {
      this.#redis = new RedisStateStore({
        redis: opts.redis,
        ...(opts.redisKeyPrefix === undefined ? {} : { keyPrefix: opts.redisKeyPrefix }),
        log: opts.log.child({ component: 'redis-store' }),
        details: (vm) => this.#details(vm),
      });
      this.store = this.#redis;
      opts.log.info('parked state kept in redis', { redis: redactUrl(opts.redis), keyPrefix: this.#redis.keyPrefix });
    } else {
      this.store = new MemoryStateStore();
    }
  }

  /** Options to spread into createParkApp: the store and the transition hook. */
  parkOptions(): { store: StateStore; onTransition: (t: Extract<Output, { kind: 'transition' }>) => void } {
    return {
      store: this.store,
      onTransition: (t) => {
        this.wakeTimes.onTransition(t);
        this.#redis?.refresh(t.vm);
      },
    };
  }

  /** The park engine's logger, watched so the API can show the last problem logged for each VM. */
  parkLog(log: Logger): Logger {
    return this.wakeTimes.watchLog(log);
  }

  /** Tells the plane which park engine (and inventory) the API serves. */
  attachPark(app: ParkApp, inventory: Inventory, hypervisorStatus?: (uri: string) => ConnectionStatus | undefined): void {
    this.#park = { app, inventory };
    this.#hypervisorStatus = hypervisorStatus;
  }

  /** Tells the plane which live topology `GET /v1/links` shows (its clock is the engine's: systemClock). */
  attachTopology(graph: TopologyGraph): void {
    this.#topology = graph;
  }

  /** Starts the control API on `address`, reading switches from `switches` (the Controller). */
  async serve(address: ApiAddress, switches: DatapathSource): Promise<ApiServer> {
    const source = createControlSource({
      ...(this.#park === undefined ? {} : { park: { ...this.#park, wakeTimes: this.wakeTimes } }),
      switches,
      ...(this.#topology === undefined ? {} : { topology: this.#topology }),
      ...(this.#hypervisorStatus === undefined ? {} : { hypervisorStatus: this.#hypervisorStatus }),
      store: () => this.health(),
      toEpoch: this.#toEpoch,
      ...(this.#version === undefined ? {} : { version: this.#version }),
    });
    this.#server = await startApiServer({ address, source, log: this.#log.child({ component: 'api' }) });
    return this.#server;
  }

  health(): StoreHealth {
    if (this.#redis === undefined) return { kind: 'memory', healthy: true, pendingWrites: 0 };
    return { kind: 'redis', healthy: this.#redis.healthy, pendingWrites: this.#redis.pendingWrites };
  }

  /** Closes the API server, then writes pending records (bounded) and disconnects Redis. */
  async stop(): Promise<void> {
    await this.#server?.close();
    await this.#redis?.close();
  }

  #details(vm: string) {
    const spec = this.#park?.inventory.vms.find((v) => v.name === vm);
    const st = this.#park?.app.status().find((s) => s.name === vm);
    return { domain: spec?.libvirt.domain, lastPort: st?.portNo, lastError: st?.lastError };
  }
}
