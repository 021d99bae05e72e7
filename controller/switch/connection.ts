/**
 * One OpenFlow 1.3 switch connection as an explicit state machine:
 *
 *   HELLO_WAIT -> FEATURES_WAIT -> CONFIGURING -> UP -> DOWN
 *
 * Every transition is logged; DOWN carries a named DisconnectReason. The socket
 * and the clock are injected (io.ts), so unit tests run it on a fake socket and
 * virtual time. Outgoing messages are encoded straight into a per-connection
 * slab and written once per event-loop turn. Everything a peer can make it
 * hold is bounded (reply parts, ports, requests, send queue, receive backlog),
 * it handles at most messagesPerTurn messages per turn, and its warnings are
 * rate-limited per reason (docs/decisions.md, "Hostile switches").
 */
import type { Datapath, DisconnectReason, Msg, PortInfo, RequestOptions } from '../app.js';
import { rateLimited, silentLogger, type Logger, type RateLimitedLogger, type RateLimitOptions } from '../log.js';
import {
  decode,
  encodeInto,
  Framer,
  mergeMultipart,
  messageSize,
  OfpDecodeError,
  OFPBRC_BAD_TYPE,
  OFPBRC_MULTIPART_BUFFER_OVERFLOW,
  OFPC_FRAG_NORMAL,
  OFPCML_MAX,
  OFPCML_NO_BUFFER,
  OFPET_BAD_REQUEST,
  OFPET_HELLO_FAILED,
  OFPHFC_INCOMPATIBLE,
  OFPMPF_REPLY_MORE,
  OFPPC_PORT_DOWN,
  OFPPR_DELETE,
  OFPPS_LINK_DOWN,
  OFP_VERSION,
} from '../openflow/index.js';
import type {
  MultipartReplyOf,
  MultipartRequestBody,
  MultipartType,
  OfpMessage,
  OfpMessageType,
  OfpPort,
} from '../openflow/index.js';
import {
  OfpErrorReplyError,
  RequestTimeoutError,
  SwitchConfigError,
  SwitchDisconnectedError,
  SwitchUsageError,
  TooManyRequestsError,
} from './errors.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import type { SocketLike } from './io.js';

export type ConnectionState = 'HELLO_WAIT' | 'FEATURES_WAIT' | 'CONFIGURING' | 'UP' | 'DOWN';

/** What the connection reports to its owner. Handlers should not throw; if they do, it is logged. */
export interface ConnectionEvents {
  /** Handshake complete: features, config and ports are known. */
  up?(conn: SwitchConnection): void;
  /** The connection is DOWN; `wasUp` says whether `up` was reported before. Called exactly once. */
  down?(conn: SwitchConnection, reason: DisconnectReason, wasUp: boolean): void;
  packetIn?(conn: SwitchConnection, msg: Msg<'packet_in'>): void;
  /** Called after `conn.ports` has been updated from the message. */
  portStatus?(conn: SwitchConnection, msg: Msg<'port_status'>): void;
  flowRemoved?(conn: SwitchConnection, msg: Msg<'flow_removed'>): void;
  /** OFPT_ERROR messages that match no outstanding request. */
  error?(conn: SwitchConnection, msg: Msg<'error'>): void;
}

/** Timing and configuration of a connection; all optional. */
export interface ConnectionConfig {
  /** Send ECHO_REQUEST after this long without any message from the switch. Default 5000. */
  readonly echoIntervalMs?: number;
  /** Disconnect ('echo-timeout') after this long without any message. Default 15000; must exceed echoIntervalMs. */
  readonly echoTimeoutMs?: number;
  /** HELLO to port-desc reply must finish within this. Default 10000. */
  readonly handshakeTimeoutMs?: number;
  /** Default per-request timeout. Default 10000. */
  readonly requestTimeoutMs?: number;
  /** SET_CONFIG miss_send_len (OF 1.3.5 §7.3.2): OFPCML_NO_BUFFER (default) or 0..OFPCML_MAX. */
  readonly missSendLen?: number;
  /**
   * Most bytes queued for a switch and not yet taken by the kernel (the socket's
   * writableLength plus our unflushed slab) before the connection is closed with
   * 'send-overflow'. Default 16 MiB.
   */
  readonly maxSendQueueBytes?: number;
  /**
   * Most bytes (sum of ofp_header.length) of one multipart reply held while its
   * parts arrive; past it we answer OFPBRC_MULTIPART_BUFFER_OVERFLOW and close
   * ('multipart-overflow'). Default 8 MiB.
   */
  readonly maxMultipartReplyBytes?: number;
  /** Most bytes of all multipart replies in flight on one connection together. Default 16 MiB. */
  readonly maxBufferedReplyBytes?: number;
  /** Most entries of the port map (port-desc + PORT_STATUS adds); past it the connection closes ('too-many-ports'). Default 8192. */
  readonly maxPorts?: number;
  /** Most requests waiting for a reply; request() past it rejects with TooManyRequestsError. Default 4096. */
  readonly maxPendingRequests?: number;
  /**
   * Messages handled per connection per event-loop turn. A connection with more
   * waiting pauses its socket and continues on the next turn (setImmediate), so
   * one flooding switch cannot delay the others' handshakes, echoes and barriers.
   * Default 256.
   */
  readonly messagesPerTurn?: number;
  /** Warnings of one reason (message + code) written per window; the rest are counted and summarised. Default 10. */
  readonly warnBurst?: number;
  /** Length of that window in ms. Default 60000. */
  readonly warnWindowMs?: number;
}

/**
 * Passive observer of a connection (metrics): told about every OFPT_ERROR the
 * switch sends (matched to a request or not) and every keepalive round trip.
 * Must not throw; it changes nothing the connection does.
 */
export interface ConnectionObserver {
  /** An OFPT_ERROR from the switch: type and code (the experimenter's exp_type for OFPET_EXPERIMENTER). */
  ofpError?(errType: number, code: number): void;
  /** A keepalive ECHO_REPLY arrived `ms` after its ECHO_REQUEST (OF 1.3.5 §6.3.2). */
  echoRtt?(ms: number): void;
}

export interface ConnectionOptions extends ConnectionConfig {
  readonly socket: SocketLike;
  readonly events?: ConnectionEvents;
  readonly observer?: ConnectionObserver;
  readonly clock?: Clock;
  readonly log?: Logger;
}

/** Request types and the reply type each expects (besides OFPT_ERROR). */
const REPLY_FOR: Partial<Record<OfpMessageType, OfpMessageType>> = {
  echo_request: 'echo_reply',
  features_request: 'features_reply',
  get_config_request: 'get_config_reply',
  multipart_request: 'multipart_reply',
  barrier_request: 'barrier_reply',
  queue_get_config_request: 'queue_get_config_reply',
  role_request: 'role_reply',
  get_async_request: 'get_async_reply',
  experimenter: 'experimenter',
};

interface Pending {
  readonly xid: number;
  readonly requestType: OfpMessageType;
  readonly replyType: OfpMessageType;
  readonly resolve: (msgs: OfpMessage[]) => void;
  readonly reject: (err: Error) => void;
  timer: TimerHandle | undefined;
  readonly parts: OfpMessage[];
  /** Bytes of `parts` on the wire (their ofp_header.length summed). */
  bytes: number;
}

/** Size of a fresh output slab; messages are encoded into it back to back. */
const SLAB_BYTES = 32 * 1024;
/** OF 1.3.5 §7.4.4: the data of an error reply holds at least 64 bytes of the failed request. */
const ERROR_DATA_BYTES = 64;
/** Default ConnectionConfig.maxSendQueueBytes. */
export const DEFAULT_MAX_SEND_QUEUE_BYTES = 16 * 1024 * 1024;
/** Default ConnectionConfig.maxMultipartReplyBytes. */
export const DEFAULT_MAX_MULTIPART_REPLY_BYTES = 8 * 1024 * 1024;
/** Default ConnectionConfig.maxBufferedReplyBytes. */
export const DEFAULT_MAX_BUFFERED_REPLY_BYTES = 16 * 1024 * 1024;
/** Default ConnectionConfig.maxPorts. */
export const DEFAULT_MAX_PORTS = 8192;
/** Default ConnectionConfig.maxPendingRequests. */
export const DEFAULT_MAX_PENDING_REQUESTS = 4096;
/** Default ConnectionConfig.messagesPerTurn. */
export const DEFAULT_MESSAGES_PER_TURN = 256;

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v <= 0) throw new SwitchConfigError('SWITCH_BAD_OPTION', `${name} must be a positive integer, got ${v}`);
  return v;
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new SwitchConfigError('SWITCH_BAD_OPTION', `${name} must be a positive number of ms, got ${v}`);
  return v;
}

/** Fills in defaults and checks the values; throws SwitchConfigError('SWITCH_BAD_OPTION'). */
export function resolveConnectionConfig(c: ConnectionConfig): Required<ConnectionConfig> {
  const echoIntervalMs = positive('echoIntervalMs', c.echoIntervalMs ?? 5000);
  const echoTimeoutMs = positive('echoTimeoutMs', c.echoTimeoutMs ?? 15000);
  if (echoTimeoutMs <= echoIntervalMs) {
    throw new SwitchConfigError(
      'SWITCH_BAD_OPTION',
      `echoTimeoutMs (${echoTimeoutMs}) must be greater than echoIntervalMs (${echoIntervalMs})`,
    );
  }
  const missSendLen = c.missSendLen ?? OFPCML_NO_BUFFER;
  if (!Number.isInteger(missSendLen) || missSendLen < 0 || (missSendLen > OFPCML_MAX && missSendLen !== OFPCML_NO_BUFFER)) {
    throw new SwitchConfigError('SWITCH_BAD_OPTION', `missSendLen must be 0..${OFPCML_MAX} or OFPCML_NO_BUFFER, got ${missSendLen}`);
  }
  const maxSendQueueBytes = positiveInt('maxSendQueueBytes', c.maxSendQueueBytes ?? DEFAULT_MAX_SEND_QUEUE_BYTES);
  const maxMultipartReplyBytes = positiveInt('maxMultipartReplyBytes', c.maxMultipartReplyBytes ?? DEFAULT_MAX_MULTIPART_REPLY_BYTES);
  const maxBufferedReplyBytes = positiveInt('maxBufferedReplyBytes', c.maxBufferedReplyBytes ?? DEFAULT_MAX_BUFFERED_REPLY_BYTES);
  if (maxBufferedReplyBytes < maxMultipartReplyBytes) {
    throw new SwitchConfigError(
      'SWITCH_BAD_OPTION',
      `maxBufferedReplyBytes (${maxBufferedReplyBytes}) must be at least maxMultipartReplyBytes (${maxMultipartReplyBytes})`,
    );
  }
  return {
    echoIntervalMs,
    echoTimeoutMs,
    handshakeTimeoutMs: positive('handshakeTimeoutMs', c.handshakeTimeoutMs ?? 10000),
    requestTimeoutMs: positive('requestTimeoutMs', c.requestTimeoutMs ?? 10000),
    missSendLen,
    maxSendQueueBytes,
    maxMultipartReplyBytes,
    maxBufferedReplyBytes,
    maxPorts: positiveInt('maxPorts', c.maxPorts ?? DEFAULT_MAX_PORTS),
    maxPendingRequests: positiveInt('maxPendingRequests', c.maxPendingRequests ?? DEFAULT_MAX_PENDING_REQUESTS),
    messagesPerTurn: positiveInt('messagesPerTurn', c.messagesPerTurn ?? DEFAULT_MESSAGES_PER_TURN),
    warnBurst: positiveInt('warnBurst', c.warnBurst ?? 10),
    warnWindowMs: positiveInt('warnWindowMs', c.warnWindowMs ?? 60_000),
  };
}

/** Converts an ofp_port to the apps' PortInfo. */
export function portInfo(p: OfpPort): PortInfo {
  return {
    portNo: p.portNo,
    name: p.name,
    hwAddr: p.hwAddr,
    up: (p.config & OFPPC_PORT_DOWN) === 0 && (p.state & OFPPS_LINK_DOWN) === 0,
  };
}

/**
 * A switch connection. It is the Datapath handed to apps once UP.
 * Create, then call start() to send HELLO.
 */
export class SwitchConnection implements Datapath {
  private st: ConnectionState = 'HELLO_WAIT';
  private downReason: DisconnectReason | undefined;
  private dpid = 0n;
  private dpidHex = '?';
  private feat: Msg<'features_reply'> | undefined;
  private readonly portMap = new Map<number, PortInfo>();
  private readonly framer = new Framer();
  private readonly pending = new Map<number, Pending>();
  private xidCounter = 0;
  private earlyPacketIns = 0;
  private auxId = 0;
  /** xid of our SET_CONFIG, to name it when the switch refuses it. */
  private setConfigXid = -1;
  private log: RateLimitedLogger;
  /** Bytes of multipart parts held by all pending requests. */
  private replyBytes = 0;
  /** Frames received and not yet handled (see messagesPerTurn); handled from `backlogAt`. */
  private backlog: Buffer[] = [];
  private backlogAt = 0;
  private drainQueued = false;

  // Output slab: bytes [outStart, outEnd) are encoded and not yet written.
  private out: Buffer | null = null;
  private outStart = 0;
  private outEnd = 0;
  private flushQueued = false;

  private handshakeTimer: TimerHandle | undefined;
  private keepaliveTimer: TimerHandle | undefined;
  private lastRx: number;
  private listening = false;

  private readonly socket: SocketLike;
  private readonly events: ConnectionEvents;
  private readonly clock: Clock;
  private readonly echoIntervalMs: number;
  private readonly echoTimeoutMs: number;
  private readonly handshakeTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly missSendLen: number;
  private readonly maxSendQueueBytes: number;
  private readonly maxMultipartReplyBytes: number;
  private readonly maxBufferedReplyBytes: number;
  private readonly maxPorts: number;
  private readonly maxPendingRequests: number;
  private readonly messagesPerTurn: number;
  private readonly observer: ConnectionObserver | undefined;
  /** The keepalive ECHO_REQUEST awaiting its reply (one at a time), for the round-trip time. */
  private echoSent: { xid: number; at: number } | undefined;
  /** "address:port" of the peer, for logs. */
  readonly remote: string;

  constructor(opts: ConnectionOptions) {
    this.socket = opts.socket;
    this.events = opts.events ?? {};
    this.observer = opts.observer;
    this.clock = opts.clock ?? systemClock;
    const cfg = resolveConnectionConfig(opts);
    this.echoIntervalMs = cfg.echoIntervalMs;
    this.echoTimeoutMs = cfg.echoTimeoutMs;
    this.handshakeTimeoutMs = cfg.handshakeTimeoutMs;
    this.requestTimeoutMs = cfg.requestTimeoutMs;
    this.missSendLen = cfg.missSendLen;
    this.maxSendQueueBytes = cfg.maxSendQueueBytes;
    this.maxMultipartReplyBytes = cfg.maxMultipartReplyBytes;
    this.maxBufferedReplyBytes = cfg.maxBufferedReplyBytes;
    this.maxPorts = cfg.maxPorts;
    this.maxPendingRequests = cfg.maxPendingRequests;
    this.messagesPerTurn = cfg.messagesPerTurn;
    this.remote = `${opts.socket.remoteAddress ?? '?'}:${opts.socket.remotePort ?? '?'}`;
    // One limiter per connection: repeated warnings are limited per switch and reason,
    // so a switch flooding us with bad frames cannot flood the log (or silence another switch).
    const limits: RateLimitOptions = { burst: cfg.warnBurst, windowMs: cfg.warnWindowMs, now: () => this.clock.now() };
    this.log = rateLimited((opts.log ?? silentLogger).child({ remote: this.remote }), limits);
    this.lastRx = this.clock.now();
  }

  // --- Datapath ------------------------------------------------------------

  get id(): bigint {
    return this.dpid;
  }
  get idHex(): string {
    return this.dpidHex;
  }
  get features(): Msg<'features_reply'> {
    if (this.feat === undefined) throw new SwitchUsageError('SWITCH_NOT_READY', `no FEATURES_REPLY yet from ${this.remote}`);
    return this.feat;
  }
  get ports(): ReadonlyMap<number, PortInfo> {
    return this.portMap;
  }
  get connected(): boolean {
    return this.st !== 'DOWN';
  }
  get state(): ConnectionState {
    return this.st;
  }
  /** Why the connection went down; undefined while it is not DOWN. */
  get reason(): DisconnectReason | undefined {
    return this.downReason;
  }
  /**
   * Packet-ins that arrived before the handshake completed and were dropped:
   * apps only see a switch from UP on, so they could not act on them.
   */
  get packetInsDroppedBeforeUp(): number {
    return this.earlyPacketIns;
  }
  /**
   * features_reply.auxiliary_id: 0 for the main connection of a datapath,
   * non-zero for an auxiliary one (OF 1.3.5 §6.3.6, §7.3.1). 0 before FEATURES_REPLY.
   */
  get auxiliaryId(): number {
    return this.auxId;
  }
  /** Requests waiting for a reply (for leak checks and metrics). */
  get pendingRequests(): number {
    return this.pending.size;
  }
  /** Bytes of multipart reply parts held while their replies are incomplete (bounded by maxBufferedReplyBytes). */
  get bufferedReplyBytes(): number {
    return this.replyBytes;
  }
  /** Received messages waiting for their turn (bounded: the socket is paused while any wait). */
  get backlogMessages(): number {
    return this.backlog.length - this.backlogAt;
  }
  /** Warnings held back by the per-reason rate limit so far. */
  get suppressedWarnings(): number {
    return this.log.suppressedTotal;
  }

  nextXid(): number {
    // xid 0 is left to the switch's own asynchronous messages.
    this.xidCounter = (this.xidCounter % 0xffffffff) + 1;
    return this.xidCounter;
  }

  /**
   * Queues messages for one write at the end of this event-loop turn. Throws
   * OfpEncodeError if one cannot be encoded; then none of this call's messages
   * is queued. After DOWN, messages are dropped (logged at debug).
   */
  send(...msgs: OfpMessage[]): void {
    if (this.st === 'DOWN') {
      if (this.log.enabled('debug')) this.log.debug('send after disconnect dropped', { count: msgs.length });
      return;
    }
    const mark = this.outEnd;
    const slab = this.out;
    const start = this.outStart;
    try {
      for (const m of msgs) this.enqueue(m);
    } catch (e) {
      // All or nothing: forget what this call encoded.
      if (this.out === slab) this.outEnd = mark;
      else {
        // A new slab was started: it holds the carried-over bytes, then ours.
        this.outEnd = mark - start;
      }
      throw e;
    }
    // Our own queue alone can pass the limit when an app sends a burst in one turn;
    // the socket's share is checked once per flush, off the per-message path.
    if (this.outEnd - this.outStart > this.maxSendQueueBytes) {
      this.sendOverflow(0, this.outEnd - this.outStart);
      return;
    }
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flush);
    }
  }

  /**
   * Datapath.request(): xid 0 gets a fresh xid, a non-zero xid is used as given
   * (SwitchUsageError 'OFP_XID_IN_USE' if outstanding). Resolves with the reply
   * (all parts for multipart); rejects with OfpErrorReplyError, RequestTimeoutError,
   * SwitchDisconnectedError, TooManyRequestsError past maxPendingRequests, or
   * SwitchUsageError 'OFP_NO_REPLY_EXPECTED' for types the switch never answers.
   */
  request(msg: OfpMessage, opts: RequestOptions = {}): Promise<OfpMessage[]> {
    const replyType = REPLY_FOR[msg.type];
    if (replyType === undefined) {
      return Promise.reject(
        new SwitchUsageError('OFP_NO_REPLY_EXPECTED', `a ${msg.type} gets no reply: use send() and barrier()`),
      );
    }
    if (this.st === 'DOWN') return Promise.reject(new SwitchDisconnectedError(this.dpidHex, this.downReason ?? 'socket-closed'));
    // A switch that stops answering must not make us hold an unbounded number of requests.
    if (this.pending.size >= this.maxPendingRequests) {
      this.log.warn('too many requests waiting for replies: request refused', { type: msg.type, limit: this.maxPendingRequests });
      return Promise.reject(new TooManyRequestsError(this.dpidHex, msg.type, this.maxPendingRequests));
    }
    let m = msg;
    if (m.xid === 0) m = { ...m, xid: this.nextXid() };
    else if (this.pending.has(m.xid)) {
      return Promise.reject(new SwitchUsageError('OFP_XID_IN_USE', `xid ${m.xid} is already used by an outstanding request`));
    }
    const xid = m.xid;
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
    return new Promise<OfpMessage[]>((resolve, reject) => {
      const p: Pending = { xid, requestType: m.type, replyType, resolve, reject, timer: undefined, parts: [], bytes: 0 };
      p.timer = this.clock.setTimer(() => {
        if (this.pending.get(xid) !== p) return;
        this.pending.delete(xid);
        this.replyBytes -= p.bytes;
        this.log.warn('request timed out', { xid, type: p.requestType, timeoutMs });
        reject(new RequestTimeoutError(this.dpidHex, xid, p.requestType, timeoutMs));
      }, timeoutMs);
      this.pending.set(xid, p);
      try {
        this.send(m);
      } catch (e) {
        this.pending.delete(xid);
        this.clock.clearTimer(p.timer);
        reject(e as Error);
      }
    });
  }

  async barrier(opts: RequestOptions = {}): Promise<void> {
    await this.request({ type: 'barrier_request', xid: 0 }, opts);
  }

  // --- helpers beyond Datapath ----------------------------------------------

  /**
   * Sends a multipart request and resolves with the reply bodies merged into
   * one: list bodies (flow stats, ports, ...) are concatenated in order.
   */
  async multipart<T extends MultipartType>(
    body: Extract<MultipartRequestBody, { mpType: T }>,
    opts: RequestOptions = {},
  ): Promise<MultipartReplyOf<T>> {
    const parts = await this.request({ type: 'multipart_request', xid: 0, flags: 0, body }, opts);
    return mergeMultipart(parts) as MultipartReplyOf<T>;
  }

  /** OFPT_ROLE_REQUEST (OF 1.3.5 §7.3.9); resolves with the switch's ROLE_REPLY. */
  async requestRole(role: number, generationId: bigint, opts: RequestOptions = {}): Promise<Msg<'role_reply'>> {
    const [reply] = await this.request({ type: 'role_request', xid: 0, role, generationId }, opts);
    return reply as Msg<'role_reply'>;
  }

  /** Attaches to the socket, sends HELLO and starts the handshake timer. */
  start(): void {
    if (this.listening || this.st === 'DOWN') return;
    this.listening = true;
    this.socket.on('data', this.onData);
    this.socket.on('error', this.onError);
    this.socket.on('close', this.onClose);
    this.socket.setNoDelay?.(true);
    this.log.info('switch connected', { state: this.st });
    this.handshakeTimer = this.clock.setTimer(this.onHandshakeTimeout, this.handshakeTimeoutMs);
    // OF 1.3.5 §6.3.1: HELLO with the highest version we support and a bitmap of all of them.
    this.send({ type: 'hello', xid: this.nextXid(), elements: [{ type: 'versionbitmap', versions: [OFP_VERSION] }] });
  }

  /** Closes the connection with `reason` (idempotent). */
  close(reason: DisconnectReason): void {
    this.disconnect(reason, false);
  }

  // --- internals --------------------------------------------------------------

  private isDown(): boolean {
    return this.st === 'DOWN';
  }

  private enqueue(m: OfpMessage): void {
    const size = messageSize(m);
    let out = this.out;
    if (out === null || out.length - this.outEnd < size) {
      const carry = this.outEnd - this.outStart;
      const fresh = Buffer.allocUnsafe(Math.max(SLAB_BYTES, carry + size));
      if (out !== null && carry > 0) out.copy(fresh, 0, this.outStart, this.outEnd);
      this.out = out = fresh;
      this.outStart = 0;
      this.outEnd = carry;
    }
    this.outEnd += encodeInto(m, out, this.outEnd);
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    if (this.out === null || this.outEnd === this.outStart || this.st === 'DOWN') return;
    const chunk = this.out.subarray(this.outStart, this.outEnd);
    // Backpressure: a switch that stops reading (but keeps sending) would make the
    // socket buffer our replies without bound; past the limit we give up on it.
    const backlog = this.socket.writableLength;
    if (backlog + chunk.length > this.maxSendQueueBytes) {
      this.sendOverflow(backlog, chunk.length);
      return;
    }
    // The written bytes are never touched again: the next message goes after them or into a new slab.
    this.outStart = this.outEnd;
    this.socket.write(chunk);
  };

  private sendOverflow(socketBytes: number, queuedBytes: number): void {
    this.log.warn('switch is not reading: send queue over the limit, closing', {
      socketBytes,
      queuedBytes,
      limit: this.maxSendQueueBytes,
    });
    this.disconnect('send-overflow', false);
  }

  private transition(to: ConnectionState, fields: Record<string, unknown> = {}): void {
    const from = this.st;
    this.st = to;
    this.log.info('switch state', { from, to, ...fields });
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.st === 'DOWN') return;
    let frames: Buffer[];
    try {
      frames = this.framer.push(chunk);
    } catch (e) {
      this.decodeFailed(e, null);
      return;
    }
    if (frames.length === 0) return;
    // Liveness means whole messages: a peer that trickles the bytes of a frame it
    // never finishes is not alive (it gets echo requests and then 'echo-timeout').
    this.lastRx = this.clock.now();
    if (this.backlogAt < this.backlog.length) {
      // Older messages are still waiting for their turn: keep the order.
      for (const f of frames) this.backlog.push(f);
      return;
    }
    this.handleFrames(frames, 0);
  };

  /**
   * Handles frames[i..], at most messagesPerTurn of them; the rest wait in the
   * backlog with the socket paused (TCP then pushes back on the switch), and
   * the next turn continues. Other connections' I/O runs in between.
   */
  private handleFrames(frames: Buffer[], from: number): void {
    const end = Math.min(frames.length, from + this.messagesPerTurn);
    let i = from;
    for (; i < end; i += 1) {
      if (this.isDown()) return; // a handler may have closed the connection
      this.handleFrame(frames[i]!);
    }
    if (this.isDown()) return;
    if (i < frames.length) {
      if (this.backlog !== frames) {
        this.backlog = frames;
        this.socket.pause?.();
      }
      this.backlogAt = i;
      if (!this.drainQueued) {
        this.drainQueued = true;
        setImmediate(this.drainBacklog);
      }
      return;
    }
    if (this.backlog === frames) this.clearBacklog();
  }

  private readonly drainBacklog = (): void => {
    this.drainQueued = false;
    if (this.isDown() || this.backlogAt >= this.backlog.length) return;
    this.handleFrames(this.backlog, this.backlogAt);
  };

  private clearBacklog(): void {
    const wasPaused = this.backlog.length > 0;
    this.backlog = [];
    this.backlogAt = 0;
    if (wasPaused && !this.isDown()) this.socket.resume?.();
  }

  private handleFrame(frame: Buffer): void {
    let msg: OfpMessage;
    try {
      msg = decode(frame);
    } catch (e) {
      this.decodeFailed(e, frame);
      return;
    }
    try {
      this.dispatch(msg, frame);
    } catch (e) {
      this.log.error('message handling failed', { type: msg.type, err: e });
    }
  }

  private readonly onError = (err: Error): void => {
    this.log.warn('socket error', { err });
    this.disconnect('socket-error', false);
  };

  private readonly onClose = (): void => {
    this.disconnect('socket-closed', false);
    // Nothing is emitted after 'close': now the listeners can go.
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
    this.listening = false;
  };

  private readonly onHandshakeTimeout = (): void => {
    this.handshakeTimer = undefined;
    this.log.warn('handshake timed out', { state: this.st, timeoutMs: this.handshakeTimeoutMs });
    this.disconnect('handshake-timeout', false);
  };

  /**
   * Keepalive: one timer, re-armed lazily so that receiving a message costs only
   * a clock read. ECHO_REQUEST when idle for echoIntervalMs; down after echoTimeoutMs.
   */
  private readonly onKeepalive = (): void => {
    this.keepaliveTimer = undefined;
    if (this.st === 'DOWN') return;
    // Summaries of warnings held back in windows that have ended.
    this.log.sweep();
    const now = this.clock.now();
    const idle = now - this.lastRx;
    if (idle >= this.echoTimeoutMs) {
      this.log.warn('no message from switch', { idleMs: Math.round(idle) });
      this.disconnect('echo-timeout', false);
      return;
    }
    let next: number;
    if (idle >= this.echoIntervalMs) {
      const xid = this.nextXid();
      this.echoSent = { xid, at: now };
      this.send({ type: 'echo_request', xid, data: Buffer.alloc(0) });
      next = Math.min(this.lastRx + this.echoTimeoutMs, now + this.echoIntervalMs);
    } else {
      next = this.lastRx + this.echoIntervalMs;
    }
    this.keepaliveTimer = this.clock.setTimer(this.onKeepalive, Math.max(0, next - now));
  };

  /** Answers a malformed message (OF 1.3.5 §7.4.4) or closes when framing is lost. */
  private decodeFailed(e: unknown, frame: Buffer | null): void {
    if (e instanceof OfpDecodeError && !e.fatal && frame !== null) {
      this.log.warn('malformed message answered with OFPT_ERROR', {
        code: e.code,
        detail: e.message,
        msgType: frame[1],
        xid: frame.readUInt32BE(4),
      });
      this.sendError(frame, e.errType, e.errCode);
      return;
    }
    if (e instanceof OfpDecodeError) {
      this.log.warn('fatal decode error', { code: e.code, detail: e.message });
      // Framing is lost: there is no trustworthy message to quote, so the data is empty.
      if (frame !== null) this.sendError(frame, e.errType, e.errCode);
      else this.send({ type: 'error', xid: 0, errType: e.errType, code: e.errCode, data: Buffer.alloc(0) });
    } else {
      this.log.error('decoder failed unexpectedly', { err: e });
    }
    this.disconnect('decode-error', true);
  }

  /** OFPT_ERROR quoting up to 64 bytes of `frame`, with its xid (OF 1.3.5 §7.4.4). */
  private sendError(frame: Buffer, errType: number, code: number): void {
    this.send({
      type: 'error',
      xid: frame.readUInt32BE(4),
      errType,
      code,
      data: frame.subarray(0, Math.min(frame.length, ERROR_DATA_BYTES)),
    });
  }

  private dispatch(msg: OfpMessage, frame: Buffer): void {
    switch (msg.type) {
      case 'packet_in':
        // The hot path: straight to the apps.
        if (this.st === 'UP') this.events.packetIn?.(this, msg);
        else this.dropEarlyPacketIn();
        return;
      case 'echo_request':
        // OF 1.3.5 §6.3.2: answer with the same xid and payload.
        this.send({ type: 'echo_reply', xid: msg.xid, data: msg.data });
        return;
      case 'hello':
        this.onHello(msg);
        return;
      case 'port_status':
        this.applyPortStatus(msg);
        if (this.st === 'UP') this.events.portStatus?.(this, msg);
        return;
      case 'flow_removed':
        if (this.st === 'UP') this.events.flowRemoved?.(this, msg);
        return;
      case 'unknown':
        // OF 1.3.5 §7.4.4: a message type we do not understand gets OFPBRC_BAD_TYPE.
        this.log.warn('unknown message type answered with OFPBRC_BAD_TYPE', { msgType: msg.msgType });
        this.sendError(frame, OFPET_BAD_REQUEST, OFPBRC_BAD_TYPE);
        return;
      default:
        break;
    }
    if (this.st === 'HELLO_WAIT') {
      // OF 1.3.5 §6.3.1: the first message of each side is HELLO.
      this.helloFailed(`expected HELLO first, got ${msg.type}`);
      return;
    }
    if (msg.type === 'error') this.observer?.ofpError?.(msg.errType, 'code' in msg ? msg.code : msg.expType);
    const p = this.pending.get(msg.xid);
    if (p !== undefined && (msg.type === 'error' || msg.type === p.replyType)) {
      this.complete(p, msg, frame);
      return;
    }
    if (msg.type === 'error' && (this.st === 'FEATURES_WAIT' || this.st === 'CONFIGURING')) {
      // Before UP only our handshake messages are out; an error for one of them
      // (SET_CONFIG has no reply, so its error arrives unmatched) means the switch refused it.
      this.handshakeError(msg, msg.xid === this.setConfigXid ? 'set_config' : 'unknown');
      return;
    }
    if (msg.type === 'error') {
      this.log.warn('unsolicited OFPT_ERROR', {
        xid: msg.xid,
        errType: msg.errType,
        code: 'code' in msg ? msg.code : msg.expType,
      });
      if (this.st === 'UP') this.events.error?.(this, msg);
      return;
    }
    if (msg.type === 'echo_reply') {
      // Our keepalive: receiving it already refreshed lastRx; its xid gives the round trip.
      if (this.echoSent !== undefined && this.echoSent.xid === msg.xid) {
        this.observer?.echoRtt?.(this.clock.now() - this.echoSent.at);
        this.echoSent = undefined;
      }
      return;
    }
    this.log.debug('unexpected message ignored', { type: msg.type, xid: msg.xid });
  }

  private dropEarlyPacketIn(): void {
    // Logged once per connection: a switch with traffic sends many before UP.
    if (this.earlyPacketIns === 0) this.log.debug('packet_in before handshake dropped (further ones only counted)', { state: this.st });
    this.earlyPacketIns += 1;
  }

  private complete(p: Pending, msg: OfpMessage, frame: Buffer): void {
    if (msg.type === 'multipart_reply') {
      p.bytes += frame.length;
      this.replyBytes += frame.length;
      if (p.bytes > this.maxMultipartReplyBytes || this.replyBytes > this.maxBufferedReplyBytes) {
        this.multipartOverflow(p, frame);
        return;
      }
      p.parts.push(msg);
      // OF 1.3.5 §7.3.5: more parts follow while OFPMPF_REPLY_MORE is set.
      if ((msg.flags & OFPMPF_REPLY_MORE) !== 0) return;
    }
    this.pending.delete(p.xid);
    this.replyBytes -= p.bytes;
    if (p.timer !== undefined) this.clock.clearTimer(p.timer);
    if (msg.type === 'error') p.reject(new OfpErrorReplyError(this.dpidHex, p.requestType, msg));
    else if (msg.type === 'multipart_reply') p.resolve(p.parts);
    else p.resolve([msg]);
  }

  /**
   * A multipart reply grew past its limit (or all replies in flight past theirs):
   * we will not hold more of it. OFPET_BAD_REQUEST / OFPBRC_MULTIPART_BUFFER_OVERFLOW
   * (OF 1.3.5 §7.4.4, the code for a multipart sequence that overflows its buffer)
   * quoting the part that crossed the line, then close: the reply cannot be
   * completed and the switch would keep sending parts.
   */
  private multipartOverflow(p: Pending, frame: Buffer): void {
    this.log.warn('multipart reply over its byte limit: answered OFPBRC_MULTIPART_BUFFER_OVERFLOW, closing', {
      request: p.requestType,
      xid: p.xid,
      parts: p.parts.length + 1,
      replyBytes: p.bytes,
      bufferedBytes: this.replyBytes,
      replyLimit: this.maxMultipartReplyBytes,
      connectionLimit: this.maxBufferedReplyBytes,
    });
    this.sendError(frame, OFPET_BAD_REQUEST, OFPBRC_MULTIPART_BUFFER_OVERFLOW);
    this.disconnect('multipart-overflow', true);
  }

  private onHello(msg: Msg<'hello'>): void {
    if (this.st !== 'HELLO_WAIT') {
      this.log.debug('extra HELLO ignored');
      return;
    }
    const peerVersion = msg.version ?? OFP_VERSION;
    const bitmap = msg.elements.find((e) => e.type === 'versionbitmap');
    // OF 1.3.5 §6.3.1: with bitmaps on both sides, the highest version set in both;
    // otherwise the smaller of the two header versions. We only speak 0x04.
    const ok = bitmap !== undefined ? bitmap.versions.includes(OFP_VERSION) : Math.min(OFP_VERSION, peerVersion) === OFP_VERSION;
    if (!ok) {
      const offered = bitmap !== undefined ? bitmap.versions.join(',') : String(peerVersion);
      this.helloFailed(`controller speaks OpenFlow 1.3 (version 4) only; switch offered version(s) ${offered}`);
      return;
    }
    this.transition('FEATURES_WAIT', { peerVersion, bitmap: bitmap !== undefined });
    this.handshake().catch((e: unknown) => {
      if (this.isDown()) return;
      if (e instanceof OfpErrorReplyError) this.handshakeError(e.reply, e.requestType);
      // A request timeout: the handshake timer ends it.
      else this.log.warn('handshake step failed', { state: this.st, err: e });
    });
  }

  /** The switch answered a handshake message with OFPT_ERROR: fail now rather than wait for the handshake timer. */
  private handshakeError(msg: Msg<'error'>, request: string): void {
    this.log.warn('switch refused a handshake message', {
      state: this.st,
      request,
      xid: msg.xid,
      errType: msg.errType,
      code: 'code' in msg ? msg.code : msg.expType,
    });
    this.disconnect('handshake-error', false);
  }

  private helloFailed(why: string): void {
    this.log.warn('version negotiation failed', { why });
    // OF 1.3.5 §6.3.1: OFPET_HELLO_FAILED / OFPHFC_INCOMPATIBLE with an ASCII explanation, then close.
    this.send({ type: 'error', xid: 0, errType: OFPET_HELLO_FAILED, code: OFPHFC_INCOMPATIBLE, data: Buffer.from(why, 'ascii') });
    this.disconnect('hello-failed', true);
  }

  private async handshake(): Promise<void> {
    const [reply] = await this.request({ type: 'features_request', xid: 0 });
    if (this.st !== 'FEATURES_WAIT') return;
    const features = reply as Msg<'features_reply'>;
    this.feat = features;
    this.dpid = features.datapathId;
    this.dpidHex = features.datapathId.toString(16).padStart(16, '0');
    this.auxId = features.auxiliaryId;
    this.log = this.log.child(this.auxId === 0 ? { dpid: this.dpidHex } : { dpid: this.dpidHex, auxiliaryId: this.auxId });
    if (this.auxId !== 0) {
      // OF 1.3.5 §6.3.6: an auxiliary connection shares its datapath with the main
      // one; switch configuration and the port list belong to the main connection,
      // so it goes straight to UP (keepalive and requests still work on it).
      this.goUp({ auxiliaryId: this.auxId });
      return;
    }
    this.transition('CONFIGURING', { nTables: features.nTables, nBuffers: features.nBuffers, auxiliaryId: features.auxiliaryId });
    // OF 1.3.5 §7.3.2: normal fragment handling; miss_send_len bounds packet-in data.
    this.setConfigXid = this.nextXid();
    this.send({ type: 'set_config', xid: this.setConfigXid, flags: OFPC_FRAG_NORMAL, missSendLen: this.missSendLen });
    const body = await this.multipart({ mpType: 'port_desc' });
    if (this.state !== 'CONFIGURING') return;
    for (const p of body.ports) if (!this.setPort(p)) return;
    this.goUp({ ports: this.portMap.size });
  }

  private goUp(fields: Record<string, unknown>): void {
    this.clearHandshakeTimer();
    this.transition('UP', fields);
    this.lastRx = this.clock.now();
    this.keepaliveTimer = this.clock.setTimer(this.onKeepalive, this.echoIntervalMs);
    try {
      this.events.up?.(this);
    } catch (e) {
      this.log.error('up handler threw', { err: e });
    }
  }

  private applyPortStatus(msg: Msg<'port_status'>): void {
    // OF 1.3.5 §7.4.3: reason says whether the port was added, deleted or modified.
    if (msg.reason === OFPPR_DELETE) this.portMap.delete(msg.desc.portNo);
    else this.setPort(msg.desc);
  }

  /**
   * Adds or updates a port; a new port past maxPorts closes the connection
   * ('too-many-ports'): apps could not trust a port map with ports missing, and
   * a switch with that many ports is misconfigured or hostile. Returns false then.
   */
  private setPort(p: OfpPort): boolean {
    if (this.portMap.size >= this.maxPorts && !this.portMap.has(p.portNo)) {
      this.log.warn('switch reports more ports than the limit, closing', { portNo: p.portNo, limit: this.maxPorts, state: this.st });
      this.disconnect('too-many-ports', false);
      return false;
    }
    this.portMap.set(p.portNo, portInfo(p));
    return true;
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer !== undefined) {
      this.clock.clearTimer(this.handshakeTimer);
      this.handshakeTimer = undefined;
    }
  }

  /**
   * The single way to DOWN: releases timers and pending requests, then closes
   * the socket. `graceful` writes what is queued (an OFPT_ERROR) before closing.
   */
  private disconnect(reason: DisconnectReason, graceful: boolean): void {
    if (this.st === 'DOWN') return;
    const wasUp = this.st === 'UP';
    if (graceful) {
      this.flush();
      if (this.isDown()) return; // the flush found the send queue over its limit and closed
    }
    this.transition('DOWN', this.earlyPacketIns === 0 ? { reason } : { reason, packetInsDroppedBeforeUp: this.earlyPacketIns });
    this.downReason = reason;
    this.clearHandshakeTimer();
    if (this.keepaliveTimer !== undefined) {
      this.clock.clearTimer(this.keepaliveTimer);
      this.keepaliveTimer = undefined;
    }
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.replyBytes = 0;
    this.backlog = [];
    this.backlogAt = 0;
    for (const p of pending) {
      if (p.timer !== undefined) this.clock.clearTimer(p.timer);
      p.reject(new SwitchDisconnectedError(this.dpidHex, reason));
    }
    this.out = null;
    this.outStart = this.outEnd = 0;
    this.log.flushSuppressed();
    if (graceful) this.socket.end(() => this.socket.destroy());
    else this.socket.destroy();
    try {
      this.events.down?.(this, reason, wasUp);
    } catch (e) {
      this.log.error('down handler threw', { err: e });
    }
  }
}
