/**
 * The set of switch connections and the datapaths they serve. It creates a
 * SwitchConnection per accepted socket, keeps `datapaths` (id -> UP main
 * connection), replaces the old connection when a datapath id connects again
 * ('replaced'), and drives the apps. Auxiliary connections (auxiliary_id != 0,
 * OF 1.3.5 §6.3.6) never replace or become a datapath: their packet-ins go to
 * the apps with the main connection as the Datapath. Socket-agnostic, so unit
 * tests feed it fake sockets.
 */
import { EventEmitter } from 'node:events';
import type { DisconnectReason, Msg } from '../app.js';
import type { Logger } from '../log.js';
import type { AppDispatcher } from './apps.js';
import { SwitchConnection, type ConnectionConfig, type ConnectionObserver } from './connection.js';
import type { Clock } from '../clock.js';
import type { SocketLike } from './io.js';

/** Events: a switch is up (after every app's switchUp finished) or down. */
export interface RegistryEventMap {
  switchUp: [dp: SwitchConnection];
  switchDown: [dp: SwitchConnection, reason: DisconnectReason];
}

export interface WaitOptions {
  /** Default 10000. */
  readonly timeoutMs?: number;
}

/** waitForSwitch/waitForSwitchDown ran out of time, or the registry was closed first. */
export class SwitchWaitError extends Error {
  override readonly name = 'SwitchWaitError';
  constructor(
    readonly code: 'SWITCH_WAIT_TIMEOUT' | 'CONTROLLER_STOPPED',
    message: string,
  ) {
    super(message);
  }
}

export interface RegistryOptions {
  readonly apps: AppDispatcher;
  readonly config: ConnectionConfig;
  readonly clock: Clock;
  readonly log: Logger;
  /** Passed to every connection (metrics: OFPT_ERRORs, echo round trips). */
  readonly observer?: ConnectionObserver;
}

function hex(id: bigint): string {
  return id.toString(16).padStart(16, '0');
}

export class DatapathRegistry extends EventEmitter<RegistryEventMap> {
  /** Datapaths that completed the handshake, by datapath id. */
  readonly datapaths = new Map<bigint, SwitchConnection>();
  private readonly conns = new Set<SwitchConnection>();
  /** UP auxiliary connections. */
  private readonly auxiliaries = new Set<SwitchConnection>();
  private auxDropped = 0;
  /** Auxiliary connections whose first dropped packet-in was logged. */
  private readonly auxDropLogged = new WeakSet<SwitchConnection>();
  /** Connections whose apps' switchUp has finished. */
  private readonly ready = new WeakSet<SwitchConnection>();
  private closed = false;
  /** packetInsDroppedBeforeUp of connections already gone. */
  private earlyPacketInsOfClosed = 0;
  private readonly apps: AppDispatcher;
  private readonly config: ConnectionConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly observer: ConnectionObserver | undefined;

  constructor(opts: RegistryOptions) {
    super();
    this.observer = opts.observer;
    this.apps = opts.apps;
    this.config = opts.config;
    this.clock = opts.clock;
    this.log = opts.log;
  }

  /** All open connections, including ones still in the handshake. */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** The open connections themselves, including ones still in the handshake (for diagnostics and tests). */
  get connections(): ReadonlySet<SwitchConnection> {
    return this.conns;
  }

  /** Auxiliary connections that completed their handshake and are still open. */
  get auxiliaryConnectionCount(): number {
    return this.auxiliaries.size;
  }

  /** Packet-ins that came on an auxiliary connection while its datapath had no main connection up (dropped). */
  get auxPacketInsDropped(): number {
    return this.auxDropped;
  }

  /**
   * Packet-ins dropped because they arrived before their connection's handshake
   * completed, over every connection this registry has had.
   */
  get packetInsDroppedBeforeUp(): number {
    let n = this.earlyPacketInsOfClosed;
    for (const c of this.conns) n += c.packetInsDroppedBeforeUp;
    return n;
  }

  /** Starts the OpenFlow handshake on a new socket. After closeAll() sockets are refused. */
  accept(socket: SocketLike): SwitchConnection | undefined {
    if (this.closed) {
      socket.destroy();
      return undefined;
    }
    const conn = new SwitchConnection({
      ...this.config,
      ...(this.observer === undefined ? {} : { observer: this.observer }),
      socket,
      clock: this.clock,
      log: this.log,
      events: {
        up: (c) => this.onUp(c),
        down: (c, reason, wasUp) => this.onDown(c, reason, wasUp),
        packetIn: (c, msg) => (c.auxiliaryId === 0 ? void this.apps.packetIn(c, msg) : this.auxPacketIn(c, msg)),
        portStatus: (c, msg) => {
          if (c.auxiliaryId === 0) this.apps.portStatus(c, msg);
          // The main connection's port map is what apps read; the switch reports ports there.
          else this.log.info('port_status on an auxiliary connection ignored', { dpid: c.idHex, auxiliaryId: c.auxiliaryId, portNo: msg.desc.portNo });
        },
        flowRemoved: (c, msg) => {
          const dp = c.auxiliaryId === 0 ? c : this.mainOf(c);
          if (dp !== undefined) this.apps.flowRemoved(dp, msg);
        },
        // An unmatched error on an auxiliary connection cannot be about what apps sent (that
        // goes on the main connection); the connection has logged it already.
        error: (c, msg) => (c.auxiliaryId === 0 ? this.apps.error(c, msg) : undefined),
      },
    });
    this.conns.add(conn);
    conn.start();
    return conn;
  }

  /** Closes every connection with `reason` and refuses new ones. */
  closeAll(reason: DisconnectReason): void {
    this.closed = true;
    for (const c of [...this.conns]) c.close(reason);
  }

  /** The UP main connection of an auxiliary connection's datapath, if any. */
  private mainOf(aux: SwitchConnection): SwitchConnection | undefined {
    const main = this.datapaths.get(aux.id);
    return main !== undefined && main.connected ? main : undefined;
  }

  private auxPacketIn(aux: SwitchConnection, msg: Msg<'packet_in'>): void {
    const main = this.mainOf(aux);
    if (main !== undefined) {
      // Apps answer through the Datapath they are given, so replies go on the main connection.
      this.apps.packetIn(main, msg);
      return;
    }
    if (!this.auxDropLogged.has(aux)) {
      this.auxDropLogged.add(aux);
      this.log.debug('packet_in on an auxiliary connection without a main one dropped (further ones only counted)', { dpid: aux.idHex, auxiliaryId: aux.auxiliaryId });
    }
    this.auxDropped += 1;
  }

  private onUp(conn: SwitchConnection): void {
    if (conn.auxiliaryId !== 0) {
      this.auxiliaries.add(conn);
      this.log.info('auxiliary connection up', {
        dpid: conn.idHex,
        auxiliaryId: conn.auxiliaryId,
        remote: conn.remote,
        main: this.datapaths.get(conn.id)?.remote,
      });
      return;
    }
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
    this.earlyPacketInsOfClosed += conn.packetInsDroppedBeforeUp;
    // An auxiliary connection going down leaves its datapath (and the apps) alone.
    if (this.auxiliaries.delete(conn)) return;
    if (!wasUp) return;
    if (this.datapaths.get(conn.id) === conn) this.datapaths.delete(conn.id);
    this.apps.switchDown(conn, reason);
    this.emit('switchDown', conn, reason);
  }

  /**
   * Resolves with the datapath once it is up and every app's switchUp has run
   * (immediately if it already is). Without `dpid`: the first such switch.
   */
  waitForSwitch(dpid?: bigint, opts: WaitOptions = {}): Promise<SwitchConnection> {
    const matches = (c: SwitchConnection): boolean => dpid === undefined || c.id === dpid;
    for (const c of this.datapaths.values()) if (matches(c) && c.connected && this.ready.has(c)) return Promise.resolve(c);
    return this.waitFor('switchUp', (c) => (matches(c) ? c : undefined), opts, `switch ${dpid === undefined ? '(any)' : hex(dpid)} up`);
  }

  /** Resolves with the reason when the current (or next) connection of `dpid` goes down. */
  waitForSwitchDown(dpid: bigint, opts: WaitOptions = {}): Promise<DisconnectReason> {
    return this.waitFor('switchDown', (c, reason) => (c.id === dpid ? reason : undefined), opts, `switch ${hex(dpid)} down`);
  }

  private waitFor<E extends keyof RegistryEventMap, R>(
    event: E,
    pick: (...args: RegistryEventMap[E]) => R | undefined,
    opts: WaitOptions,
    what: string,
  ): Promise<R> {
    if (this.closed) return Promise.reject(new SwitchWaitError('CONTROLLER_STOPPED', `controller stopped: ${what}`));
    const timeoutMs = opts.timeoutMs ?? 10000;
    return new Promise<R>((resolve, reject) => {
      const on = this.on as (e: E, l: (...args: RegistryEventMap[E]) => void) => void;
      const off = this.off as typeof on;
      const listener = (...args: RegistryEventMap[E]): void => {
        const r = pick(...args);
        if (r === undefined) return;
        cleanup();
        resolve(r);
      };
      const timer = this.clock.setTimer(() => {
        cleanup();
        reject(new SwitchWaitError('SWITCH_WAIT_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = (): void => {
        this.clock.clearTimer(timer);
        off.call(this, event, listener);
      };
      on.call(this, event, listener);
    });
  }
}
