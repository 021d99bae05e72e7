/**
 * The controller daemon: an OpenFlow listener, one SwitchConnection per
 * socket, the datapath registry (a datapath id that connects again replaces
 * its old connection) and the apps. The CLI's `seamless controller` is a thin
 * shell over startController().
 */
import { EventEmitter } from 'node:events';
import type { App, Datapath, DisconnectReason } from './app.js';
import { createLogger, type Logger } from './log.js';
import { AppDispatcher } from './switch/apps.js';
import { resolveConnectionConfig, SwitchConnection, type ConnectionConfig } from './switch/connection.js';
import { systemClock, type Clock } from './switch/io.js';
import { listenForSwitches, type BoundAddress, type TlsFiles } from './switch/server.js';

export type { BoundAddress, TlsFiles } from './switch/server.js';
export { SwitchConnection } from './switch/connection.js';

export interface ControllerOptions extends ConnectionConfig {
  /** Where switches connect; port 0 picks a free port (read it from Controller.address). */
  readonly listen: { readonly host: string; readonly port: number };
  /** Mutual TLS instead of plain TCP. */
  readonly tls?: TlsFiles;
  /** Run in this order; packet-ins go to each until one consumes it. */
  readonly apps: readonly App[];
  /** Default: JSON lines at info level on stderr. */
  readonly log?: Logger;
  /** Default: the system clock (tests may inject a fake one). */
  readonly clock?: Clock;
}

/** Events: a switch is up (after every app's switchUp finished) or down. */
export interface ControllerEventMap {
  switchUp: [dp: SwitchConnection];
  switchDown: [dp: SwitchConnection, reason: DisconnectReason];
}

export interface WaitOptions {
  /** Default 10000. */
  readonly timeoutMs?: number;
}

/** waitForSwitch/waitForSwitchDown ran out of time, or the controller stopped first. */
export class ControllerWaitError extends Error {
  override readonly name = 'ControllerWaitError';
  constructor(
    readonly code: 'SWITCH_WAIT_TIMEOUT' | 'CONTROLLER_STOPPED',
    message: string,
  ) {
    super(message);
  }
}

export interface Controller extends EventEmitter<ControllerEventMap> {
  /** Bound listen address. */
  readonly address: BoundAddress;
  /** Datapaths that completed the handshake, by datapath id. */
  readonly datapaths: ReadonlyMap<bigint, SwitchConnection>;
  /** All open connections, including ones still in the handshake. */
  readonly connectionCount: number;
  /**
   * Resolves with the datapath once it is up and every app's switchUp has run
   * (immediately if it already is). Without `dpid`: the first such switch.
   */
  waitForSwitch(dpid?: bigint, opts?: WaitOptions): Promise<SwitchConnection>;
  /** Resolves with the reason when the current (or next) connection of `dpid` goes down. */
  waitForSwitchDown(dpid: bigint, opts?: WaitOptions): Promise<DisconnectReason>;
  /** Closes every connection ('controller-stopped'), the listener, then stops the apps. Idempotent. */
  stop(): Promise<void>;
}

class ControllerImpl extends EventEmitter<ControllerEventMap> implements Controller {
  readonly datapaths = new Map<bigint, SwitchConnection>();
  private readonly conns = new Set<SwitchConnection>();
  /** Connections whose apps' switchUp has finished. */
  private readonly ready = new WeakSet<SwitchConnection>();
  private stopping: Promise<void> | undefined;
  address: BoundAddress = { host: '', port: 0 };
  private closeListener: () => Promise<void> = async () => {};
  private readonly config: Required<ConnectionConfig>;

  constructor(
    private readonly opts: ControllerOptions,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly apps: AppDispatcher,
  ) {
    super();
    this.config = resolveConnectionConfig(opts);
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  async listen(): Promise<void> {
    const listener = await listenForSwitches({
      host: this.opts.listen.host,
      port: this.opts.listen.port,
      ...(this.opts.tls === undefined ? {} : { tls: this.opts.tls }),
      log: this.log,
      onSocket: (socket) => {
        if (this.stopping !== undefined) {
          socket.destroy();
          return;
        }
        const conn = new SwitchConnection({
          ...this.config,
          socket,
          clock: this.clock,
          log: this.log,
          events: {
            up: (c) => this.onUp(c),
            down: (c, reason, wasUp) => this.onDown(c, reason, wasUp),
            packetIn: (c, msg) => void this.apps.packetIn(c, msg),
            portStatus: (c, msg) => this.apps.portStatus(c, msg),
            flowRemoved: (c, msg) => this.apps.flowRemoved(c, msg),
            error: (c, msg) => this.apps.error(c, msg),
          },
        });
        this.conns.add(conn);
        conn.start();
      },
    });
    this.address = listener.address;
    this.closeListener = () => listener.close();
  }

  private onUp(conn: SwitchConnection): void {
    const old = this.datapaths.get(conn.id);
    if (old !== undefined && old !== conn) {
      this.log.info('datapath reconnected: replacing the old connection', { dpid: conn.idHex, old: old.remote, new: conn.remote });
      old.close('replaced');
    }
    this.datapaths.set(conn.id, conn);
    void this.apps.switchUp(conn).then(() => {
      if (!conn.connected) return;
      this.ready.add(conn);
      this.emit('switchUp', conn);
    });
  }

  private onDown(conn: SwitchConnection, reason: DisconnectReason, wasUp: boolean): void {
    this.conns.delete(conn);
    if (!wasUp) return;
    if (this.datapaths.get(conn.id) === conn) this.datapaths.delete(conn.id);
    this.apps.switchDown(conn, reason);
    this.emit('switchDown', conn, reason);
  }

  waitForSwitch(dpid?: bigint, opts: WaitOptions = {}): Promise<SwitchConnection> {
    const matches = (c: SwitchConnection): boolean => dpid === undefined || c.id === dpid;
    for (const c of this.datapaths.values()) if (matches(c) && c.connected && this.ready.has(c)) return Promise.resolve(c);
    return this.waitFor('switchUp', (c) => (matches(c) ? c : undefined), opts, `switch ${dpid === undefined ? '(any)' : hex(dpid)} up`);
  }

  waitForSwitchDown(dpid: bigint, opts: WaitOptions = {}): Promise<DisconnectReason> {
    return this.waitFor('switchDown', (c, reason) => (c.id === dpid ? reason : undefined), opts, `switch ${hex(dpid)} down`);
  }

  private waitFor<E extends keyof ControllerEventMap, R>(
    event: E,
    pick: (...args: ControllerEventMap[E]) => R | undefined,
    opts: WaitOptions,
    what: string,
  ): Promise<R> {
    if (this.stopping !== undefined) return Promise.reject(new ControllerWaitError('CONTROLLER_STOPPED', `controller stopped: ${what}`));
    const timeoutMs = opts.timeoutMs ?? 10000;
    return new Promise<R>((resolve, reject) => {
      const listener = (...args: ControllerEventMap[E]): void => {
        const r = pick(...args);
        if (r === undefined) return;
        cleanup();
        resolve(r);
      };
      const timer = this.clock.setTimeout(() => {
        cleanup();
        reject(new ControllerWaitError('SWITCH_WAIT_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = (): void => {
        this.clock.clearTimeout(timer);
        (this.off as (e: E, l: typeof listener) => void)(event, listener);
      };
      (this.on as (e: E, l: typeof listener) => void)(event, listener);
    });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('controller stopping', { connections: this.conns.size });
      for (const c of [...this.conns]) c.close('controller-stopped');
      await this.closeListener();
      await this.apps.stop();
      this.log.info('controller stopped');
    })();
    return this.stopping;
  }
}

function hex(id: bigint): string {
  return id.toString(16).padStart(16, '0');
}

/** Starts listening for switches and runs `apps` on them. Resolves once the listener is bound. */
export async function startController(opts: ControllerOptions): Promise<Controller> {
  const log = opts.log ?? createLogger();
  const ctl = new ControllerImpl(opts, log, opts.clock ?? systemClock, new AppDispatcher(opts.apps, log));
  await ctl.listen();
  return ctl;
}

export type { App, Datapath };
