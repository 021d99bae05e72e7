/**
 * One connection to libvirtd (unix socket, TCP or TLS) speaking the remote RPC protocol.
 *
 * Calls are pipelined: each gets a serial and many can be in flight; replies are matched
 * by serial (libvirt may answer out of order). Asynchronous MESSAGE packets (domain events)
 * go to `onMessage`. Keepalive PINGs are answered with PONGs. A framing error or a closed
 * socket fails every pending call with LIBVIRT_CONNECTION / LIBVIRT_PROTOCOL and marks the
 * connection closed; the owner opens a new one on its next call.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import net from 'node:net';
import { LibvirtError, fromRemoteError } from './errors.js';
import { openTransport } from './transport.js';
import { endpointLabel, type LibvirtEndpoint } from './uri.js';
import {
  KEEPALIVE_PROC_PING,
  KEEPALIVE_PROC_PONG,
  KEEPALIVE_PROGRAM,
  KEEPALIVE_PROTOCOL_VERSION,
  MessageStatus,
  MessageType,
  PacketFramer,
  ProtocolError,
  REMOTE_PROGRAM,
  REMOTE_PROTOCOL_VERSION,
  encodePacket,
  readError,
  type Packet,
} from './protocol.js';

interface Pending {
  proc: number;
  domain: string | undefined;
  resolve: (payload: Buffer) => void;
  reject: (err: LibvirtError) => void;
  timer: TimerHandle | undefined;
}

export interface CallOptions {
  /** Reject with LIBVIRT_TIMEOUT after this long (0 = no limit). */
  timeoutMs?: number;
  /** Domain name the call is about, for error messages. */
  domain?: string;
}

export class RpcConnection {
  private readonly framer = new PacketFramer();
  private readonly pending = new Map<number, Pending>();
  private serial = 0;
  private closedErr: LibvirtError | undefined;
  /** Called for every MESSAGE packet of the remote program (events). */
  onMessage: ((proc: number, payload: Buffer) => void) | undefined;
  /** Called once when the connection is gone (with the reason). */
  onClose: ((err: LibvirtError) => void) | undefined;

  private constructor(
    private readonly socket: net.Socket,
    /** Where libvirtd is, for error messages: a socket path or "HOST:PORT (tls)". */
    readonly socketPath: string,
    private readonly clock: Clock,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(connectionError(socketPath, 'connection to libvirtd failed', err)));
    socket.on('close', () => this.fail(new LibvirtError('LIBVIRT_CONNECTION', `connection to libvirtd at ${socketPath} closed`)));
    socket.resume();
  }

  /**
   * Connects to libvirtd: a unix socket path, or an endpoint (unix, TCP, TLS).
   * Everything up to a usable RPC stream (TCP connect, TLS handshake, libvirtd's
   * verdict on our certificate) is bounded by `timeoutMs`, so a blackholed or hung
   * host fails with LIBVIRT_CONNECTION naming it instead of waiting forever.
   */
  static async connect(target: string | LibvirtEndpoint, timeoutMs = 5000, clock: Clock = systemClock): Promise<RpcConnection> {
    const endpoint: LibvirtEndpoint = typeof target === 'string' ? { kind: 'unix', socketPath: target } : target;
    const label = endpointLabel(endpoint);
    const { socket, rest } = await openTransport(endpoint, label, timeoutMs, clock);
    socket.setNoDelay(true);
    const conn = new RpcConnection(socket, label, clock);
    if (rest.length > 0) conn.onData(rest);
    return conn;
  }

  get closed(): boolean {
    return this.closedErr !== undefined;
  }

  /** Number of calls awaiting a reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends one CALL of the remote program and resolves with the reply payload. */
  call(proc: number, args: Buffer = Buffer.alloc(0), opts: CallOptions = {}): Promise<Buffer> {
    if (this.closedErr !== undefined) return Promise.reject(this.closedErr);
    // Serial 0 is never used for calls; wrap well before 2^32.
    this.serial = this.serial >= 0xfffffff0 ? 1 : this.serial + 1;
    const serial = this.serial;
    return new Promise<Buffer>((resolve, reject) => {
      const p: Pending = { proc, domain: opts.domain, resolve, reject, timer: undefined };
      const timeoutMs = opts.timeoutMs ?? 0;
      if (timeoutMs > 0) {
        p.timer = this.clock.setTimer(() => {
          // A late reply for this serial is dropped by onPacket (no pending entry).
          this.pending.delete(serial);
          const about = opts.domain === undefined ? '' : ` for domain '${opts.domain}'`;
          reject(new LibvirtError('LIBVIRT_TIMEOUT', `libvirt procedure ${proc}${about} got no reply from libvirtd at ${this.socketPath} within ${timeoutMs} ms`, opts.domain === undefined ? {} : { domain: opts.domain }));
        }, timeoutMs);
      }
      this.pending.set(serial, p);
      this.socket.write(
        encodePacket({ prog: REMOTE_PROGRAM, vers: REMOTE_PROTOCOL_VERSION, proc, type: MessageType.CALL, serial, status: MessageStatus.OK }, args),
      );
    });
  }

  /** Closes the socket; pending calls fail with LIBVIRT_CONNECTION. */
  destroy(): void {
    this.fail(new LibvirtError('LIBVIRT_CONNECTION', `connection to libvirtd at ${this.socketPath} was closed by the client`));
  }

  private onData(chunk: Buffer): void {
    let packets: Packet[];
    try {
      packets = this.framer.push(chunk);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.fail(new LibvirtError('LIBVIRT_PROTOCOL', `libvirtd at ${this.socketPath} broke the RPC framing: ${msg}`, { cause: e }));
      return;
    }
    for (const p of packets) {
      try {
        this.onPacket(p);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        this.fail(new LibvirtError('LIBVIRT_PROTOCOL', `bad packet from libvirtd at ${this.socketPath}: ${msg}`, { cause: e }));
        return;
      }
    }
  }

  private onPacket(p: Packet): void {
    const h = p.header;
    if (h.prog === KEEPALIVE_PROGRAM) {
      if (h.proc === KEEPALIVE_PROC_PING) {
        this.socket.write(
          encodePacket({ prog: KEEPALIVE_PROGRAM, vers: KEEPALIVE_PROTOCOL_VERSION, proc: KEEPALIVE_PROC_PONG, type: MessageType.MESSAGE, serial: 0, status: MessageStatus.OK }),
        );
      }
      return;
    }
    if (h.prog !== REMOTE_PROGRAM) throw new ProtocolError(`unknown program 0x${h.prog.toString(16)}`);
    if (h.vers !== REMOTE_PROTOCOL_VERSION) throw new ProtocolError(`unknown protocol version ${h.vers}`);
    if (h.type === MessageType.MESSAGE) {
      this.onMessage?.(h.proc, p.payload);
      return;
    }
    if (h.type !== MessageType.REPLY) return; // streams are not used by this client
    const pending = this.pending.get(h.serial);
    if (pending === undefined) return; // timed out earlier: the caller already has its error
    if (pending.proc !== h.proc) throw new ProtocolError(`reply for serial ${h.serial} has procedure ${h.proc}, call was ${pending.proc}`);
    this.pending.delete(h.serial);
    if (pending.timer !== undefined) this.clock.clearTimer(pending.timer);
    if (h.status === MessageStatus.OK) pending.resolve(p.payload);
    else if (h.status === MessageStatus.ERROR) pending.reject(fromRemoteError(readError(p.payload), pending.domain));
    else throw new ProtocolError(`reply with status ${h.status}`);
  }

  private fail(err: LibvirtError): void {
    if (this.closedErr !== undefined) return;
    this.closedErr = err;
    this.socket.destroy();
    for (const p of this.pending.values()) {
      if (p.timer !== undefined) this.clock.clearTimer(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.onClose?.(err);
  }
}

export function connectionError(socketPath: string, what: string, err: Error): LibvirtError {
  const errno = (err as NodeJS.ErrnoException).code;
  const hint =
    errno === 'ENOENT' || errno === 'ECONNREFUSED'
      ? ' (is libvirtd running? start it with `libvirtd -d`)'
      : errno === 'EACCES'
        ? ' (permission denied: run as root or a member of the libvirt group)'
        : '';
  return new LibvirtError('LIBVIRT_CONNECTION', `${what} at ${socketPath}: ${err.message}${hint}`, { cause: err });
}
