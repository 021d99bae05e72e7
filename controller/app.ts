/**
 * The contract between the switch-connection layer (controller/switch) and the
 * applications that run on it (the L2 fabric, the parking engine).
 *
 * Apps see a Datapath only once its handshake is complete (HELLO, FEATURES,
 * SET_CONFIG, port description): they never deal with half-open switches.
 */
import type { OfpMessage } from './openflow/types.js';

/** The member of the OfpMessage union with the given `type`. */
export type Msg<T extends OfpMessage['type']> = Extract<OfpMessage, { type: T }>;

/** Why a switch connection ended; shown in logs and metrics. */
export type DisconnectReason =
  | 'socket-closed' // the peer closed the TCP/TLS connection
  | 'socket-error' // the socket failed (reset, TLS failure)
  | 'hello-failed' // no common version (we sent OFPET_HELLO_FAILED)
  | 'handshake-timeout' // HELLO/FEATURES/port-desc did not complete in time
  | 'handshake-error' // the switch answered FEATURES/SET_CONFIG/port-desc with OFPT_ERROR
  | 'echo-timeout' // the switch stopped answering echo requests
  | 'decode-error' // a fatal framing/decoding error
  | 'replaced' // the same datapath id connected again
  | 'send-overflow' // the switch stopped reading: our unwritten bytes passed the limit
  | 'multipart-overflow' // a multipart reply (or all replies in flight) passed its byte limit; we sent OFPBRC_MULTIPART_BUFFER_OVERFLOW
  | 'too-many-ports' // port-desc or PORT_STATUS would grow the port map past its limit
  | 'controller-stopped'; // we shut down

/** One switch port as last reported by port-desc or PORT_STATUS. */
export interface PortInfo {
  readonly portNo: number;
  readonly name: string;
  readonly hwAddr: string;
  /** Link up and port not administratively down. */
  readonly up: boolean;
}

export interface RequestOptions {
  /** Milliseconds before the request fails with a timeout error. */
  readonly timeoutMs?: number;
}

/** A connected, configured switch. */
export interface Datapath {
  readonly id: bigint;
  /** datapath id as 16 hex digits, for logs and keys. */
  readonly idHex: string;
  readonly features: Msg<'features_reply'>;
  /** Current ports, kept up to date from PORT_STATUS. */
  readonly ports: ReadonlyMap<number, PortInfo>;
  /** True until the connection goes down. */
  readonly connected: boolean;
  /** A fresh transaction id. */
  nextXid(): number;
  /** Queues messages; they are flushed together (one write per event-loop turn). */
  send(...msgs: OfpMessage[]): void;
  /**
   * Sends a request and resolves with its reply (for multipart requests: all
   * reply parts, merged in order). Rejects with a typed error on an OFPT_ERROR
   * for the same xid, a timeout, the connection going down, or too many
   * requests already waiting for this switch's replies (TooManyRequestsError).
   */
  request(msg: OfpMessage, opts?: RequestOptions): Promise<OfpMessage[]>;
  /** Sends a barrier and resolves when its reply arrives (OF 1.3.5 §6.2: replies to earlier messages come first). */
  barrier(opts?: RequestOptions): Promise<void>;
}

/**
 * An application. Handlers must not throw (the connection layer logs and
 * survives if they do). `packetIn` returns true when it consumed the packet,
 * which stops later apps from seeing it: the parking engine runs before the
 * L2 fabric so packets for parked VMs never get learned or flooded.
 */
export interface App {
  readonly name: string;
  switchUp?(dp: Datapath): void | Promise<void>;
  switchDown?(dp: Datapath, reason: DisconnectReason): void;
  packetIn?(dp: Datapath, msg: Msg<'packet_in'>): boolean | void;
  portStatus?(dp: Datapath, msg: Msg<'port_status'>): void;
  flowRemoved?(dp: Datapath, msg: Msg<'flow_removed'>): void;
  /** OFPT_ERROR messages not matched to an outstanding request. */
  error?(dp: Datapath, msg: Msg<'error'>): void;
  stop?(): void | Promise<void>;
}
