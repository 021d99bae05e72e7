/**
 * One emulated OpenFlow 1.3 switch of the load generator (cbench's "fakeswitch").
 *
 * It does the switch side of the handshake, answers the controller's requests
 * (features, port-desc and other multiparts, barrier, echo, role, config,
 * async), silently accepts the controller's commands (set_config, flow_mod,
 * meter_mod, group_mod, packet_out, ...), and sends PACKET_INs from a
 * pre-encoded template. Received messages are never decoded: only the type
 * byte of each header is read, and a PACKET_OUT marks one packet-in as
 * answered (both flooding and learned forwarding end with exactly one
 * PACKET_OUT, since every packet-in is OFP_NO_BUFFER).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import * as W from './wire.js';

/** Thrown when the controller breaks the framing or the handshake does not complete. */
export class GeneratorError extends Error {
  constructor(
    readonly code: 'bad-frame' | 'bad-version' | 'handshake-timeout' | 'connect-failed' | 'closed' | 'not-ready',
    message: string,
  ) {
    super(message);
    this.name = 'GeneratorError';
  }
}

export interface SwitchOptions {
  readonly host: string;
  readonly port: number;
  /** 0-based index; part of the datapath id and of every MAC address. */
  readonly index: number;
  readonly dpid: bigint;
  /** Hosts that send (their source MACs get learned). */
  readonly hosts: number;
  /** Hosts that never send: packets to them are always flooded. */
  readonly silentHosts: number;
  /** Every `floodEvery`-th packet goes to a silent host. */
  readonly floodEvery: number;
  /** Ports 1..ports; host h sits on port 1 + h % ports (so source and destination ports differ). */
  readonly ports: number;
}

/** Counters; all monotonic. */
export interface SwitchCounters {
  packetIns: number;
  flowMods: number;
  packetOuts: number;
  /** OFPT_ERROR messages received from the controller (a sign we sent something it rejects). */
  errors: number;
  /** ECHO_REQUESTs (keep-alives, expected at any time). */
  echoRequests: number;
  /** Any other message from the controller. */
  other: number;
}

type Mode = 'idle' | 'window' | 'pingpong';

export class FakeSwitch {
  readonly counters: SwitchCounters = { packetIns: 0, flowMods: 0, packetOuts: 0, errors: 0, echoRequests: 0, other: 0 };
  /** Round-trip times in microseconds recorded in 'pingpong' mode while `recording`. */
  rtts: Float64Array = new Float64Array(0);
  rttCount = 0;
  recording = false;
  /** Set once FEATURES_REPLY has been sent. */
  featuresDone = false;
  /** Set once a PORT_DESC reply has been sent. */
  portDescDone = false;

  private readonly sock: net.Socket;
  private readonly template: Buffer;
  private readonly macs: Buffer;
  private readonly hostPorts: Uint32Array;
  private rest: Buffer | null = null;
  private seq = 0;
  private xid = 1;
  private mode: Mode = 'idle';
  private window = 0;
  private outstanding = 0;
  private sentAt = 0;
  private closed = false;
  private closeError: GeneratorError | null = null;
  private readonly waiters: (() => void)[] = [];

  private constructor(
    readonly opts: SwitchOptions,
    sock: net.Socket,
  ) {
    this.sock = sock;
    this.template = W.packetInTemplate();
    const total = opts.hosts + opts.silentHosts;
    this.macs = Buffer.alloc(total * 6);
    this.hostPorts = new Uint32Array(total);
    for (let h = 0; h < total; h++) {
      W.hostMac(opts.index, h).copy(this.macs, h * 6);
      this.hostPorts[h] = 1 + (h % opts.ports);
    }
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (e) => this.fail(new GeneratorError('closed', `switch ${opts.index}: ${e.message}`)));
    sock.on('close', () => this.fail(new GeneratorError('closed', `switch ${opts.index}: connection closed`)));
  }

  /** Connects and sends HELLO; resolves once the TCP connection is up. */
  static connect(opts: SwitchOptions): Promise<FakeSwitch> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: opts.host, port: opts.port });
      const onErr = (e: Error): void =>
        reject(new GeneratorError('connect-failed', `switch ${opts.index}: connect ${opts.host}:${opts.port}: ${e.message}`));
      sock.once('error', onErr);
      sock.once('connect', () => {
        sock.off('error', onErr);
        const sw = new FakeSwitch(opts, sock);
        sock.write(W.hello(sw.xid++));
        resolve(sw);
      });
    });
  }

  /** Resolves when the controller has requested and received our features (and port-desc, if `portDesc`). */
  async handshake(timeoutMs: number, portDesc: boolean): Promise<void> {
    await this.until(() => this.featuresDone && (!portDesc || this.portDescDone), timeoutMs, 'handshake-timeout',
      `switch ${this.opts.index}: no FEATURES_REQUEST${portDesc ? '/PORT_DESC request' : ''} within ${timeoutMs} ms`);
  }

  /**
   * Resolves once the controller answers packet-ins: sends one every
   * `intervalMs` until a PACKET_OUT arrives (a controller may drop packet-ins
   * that arrive before its apps see the switch, e.g. os-ken before
   * MAIN_DISPATCHER).
   */
  async probe(timeoutMs: number, intervalMs = 100): Promise<void> {
    const start = performance.now();
    const answered = this.counters.packetOuts;
    while (this.counters.packetOuts === answered) {
      if (performance.now() - start > timeoutMs) {
        throw new GeneratorError('not-ready', `switch ${this.opts.index}: no PACKET_OUT for a packet-in within ${timeoutMs} ms`);
      }
      this.sendPacketIns(1);
      await this.until(() => this.counters.packetOuts !== answered, intervalMs, null, '').catch(() => undefined);
      if (this.closeError) throw this.closeError;
    }
  }

  /** Throughput mode: keep `window` packet-ins outstanding until `stop()`. */
  startWindow(window: number): void {
    this.mode = 'window';
    this.window = window;
    this.outstanding = 0;
    this.refill();
  }

  /** Latency mode: one packet-in at a time; each PACKET_OUT records an RTT and sends the next. */
  startPingPong(maxSamples: number): void {
    this.mode = 'pingpong';
    this.rtts = new Float64Array(maxSamples);
    this.rttCount = 0;
    this.sentAt = performance.now();
    this.sendPacketIns(1);
  }

  /** Stops sending; answers to outstanding packet-ins are still counted. */
  stop(): void {
    this.mode = 'idle';
  }

  /** Closes the connection. */
  close(): Promise<void> {
    this.mode = 'idle';
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.sock.once('close', () => resolve());
      this.sock.end();
      setTimeout(() => this.sock.destroy(), 500).unref();
    });
  }

  /** Error that closed the connection, if any. */
  get failure(): GeneratorError | null {
    return this.closeError;
  }

  private fail(e: GeneratorError): void {
    if (!this.closed) {
      this.closed = true;
      this.closeError = e;
    }
    this.mode = 'idle';
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private until(
    cond: () => boolean,
    timeoutMs: number,
    code: GeneratorError['code'] | null,
    message: string,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new GeneratorError(code ?? 'not-ready', message));
      }, timeoutMs);
      const check = (): void => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else if (this.closeError) {
          clearTimeout(timer);
          reject(this.closeError);
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  /** Sends `n` packet-ins in one write, following the traffic pattern (see `SwitchOptions`). */
  private sendPacketIns(n: number): void {
    if (this.closed || n <= 0) return;
    const { hosts, silentHosts, floodEvery } = this.opts;
    const t = this.template;
    const L = W.PI.LEN;
    const out = Buffer.allocUnsafe(n * L);
    const macs = this.macs;
    for (let i = 0; i < n; i++) {
      const o = i * L;
      t.copy(out, o, 0, L);
      const k = this.seq++;
      const src = k % hosts;
      const dst = k % floodEvery === floodEvery - 1 ? hosts + (Math.floor(k / floodEvery) % silentHosts) : (src + 1) % hosts;
      out.writeUInt32BE(this.xid, o + 4);
      this.xid = (this.xid + 1) >>> 0;
      out.writeUInt32BE(this.hostPorts[src]!, o + W.PI.IN_PORT);
      macs.copy(out, o + W.PI.ETH_DST, dst * 6, dst * 6 + 6);
      macs.copy(out, o + W.PI.ETH_SRC, src * 6, src * 6 + 6);
    }
    this.counters.packetIns += n;
    this.sock.write(out);
  }

  private refill(): void {
    if (this.mode !== 'window') return;
    const n = this.window - this.outstanding;
    if (n > 0) {
      this.outstanding += n;
      this.sendPacketIns(n);
    }
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.rest !== null) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    const len = buf.length;
    let off = 0;
    let answered = 0;
    while (off + W.HEADER_LEN <= len) {
      const msgLen = (buf[off + 2]! << 8) | buf[off + 3]!;
      if (msgLen < W.HEADER_LEN) {
        this.sock.destroy();
        this.fail(new GeneratorError('bad-frame', `switch ${this.opts.index}: message length ${msgLen} < 8`));
        return;
      }
      if (off + msgLen > len) break;
      const type = buf[off + 1]!;
      if (type === W.T.PACKET_OUT) {
        this.counters.packetOuts++;
        answered++;
        if (this.mode === 'pingpong') {
          const now = performance.now();
          if (this.recording && this.rttCount < this.rtts.length) this.rtts[this.rttCount++] = (now - this.sentAt) * 1000;
          this.sentAt = now;
          this.sendPacketIns(1);
        }
      } else if (type === W.T.FLOW_MOD) {
        this.counters.flowMods++;
      } else {
        this.control(buf.subarray(off, off + msgLen), type);
      }
      off += msgLen;
    }
    if (off < len) this.rest = buf.subarray(off);
    if (answered > 0) {
      if (this.mode === 'window') {
        this.outstanding = Math.max(0, this.outstanding - answered);
        this.refill();
      }
      if (this.waiters.length > 0) this.wake();
    }
  }

  /** Everything but FLOW_MOD and PACKET_OUT: answers requests, ignores commands. */
  private control(msg: Buffer, type: number): void {
    const xid = msg.readUInt32BE(4);
    const s = this.sock;
    if (type === W.T.ECHO_REQUEST) this.counters.echoRequests++;
    else this.counters.other++;
    switch (type) {
      case W.T.HELLO:
        // OF 1.3.5 §6.3.1: the negotiated version is the smaller of both; we only speak 1.3.
        if (msg[0]! < W.OFP_VERSION) {
          s.destroy();
          this.fail(new GeneratorError('bad-version', `switch ${this.opts.index}: controller offers OpenFlow version ${msg[0]}`));
        }
        return;
      case W.T.ERROR:
        this.counters.errors++;
        if (this.counters.errors <= 3) {
          process.stderr.write(
            `cbench: switch ${this.opts.index}: controller sent OFPT_ERROR type ${msg.readUInt16BE(8)} code ${msg.readUInt16BE(10)}\n`,
          );
        }
        return;
      case W.T.ECHO_REQUEST:
        s.write(W.mirror(msg, W.T.ECHO_REPLY));
        return;
      case W.T.FEATURES_REQUEST:
        s.write(W.featuresReply(xid, this.opts.dpid));
        this.featuresDone = true;
        this.wake();
        return;
      case W.T.GET_CONFIG_REQUEST:
        s.write(W.getConfigReply(xid));
        return;
      case W.T.MULTIPART_REQUEST: {
        const mp = msg.readUInt16BE(8);
        if (mp === W.MP.PORT_DESC) {
          s.write(W.portDescReply(xid, this.opts.index, this.opts.ports));
          this.portDescDone = true;
          this.wake();
        } else if (mp === W.MP.DESC) {
          s.write(W.descReply(xid, this.opts.index));
        } else {
          s.write(W.emptyMultipartReply(xid, mp));
        }
        return;
      }
      case W.T.BARRIER_REQUEST:
        // No state and in-order processing: every earlier message is already done (OF 1.3.5 §6.2).
        s.write(W.message(W.T.BARRIER_REPLY, xid, W.HEADER_LEN));
        return;
      case W.T.ROLE_REQUEST:
        // OF 1.3.5 §7.3.9: the reply carries the role and generation id we now hold.
        // OFPCR_ROLE_NOCHANGE (0) is answered with our current role, OFPCR_ROLE_EQUAL (1).
        {
          const reply = W.mirror(msg, W.T.ROLE_REPLY);
          if (reply.length >= 12 && reply.readUInt32BE(8) === 0) reply.writeUInt32BE(1, 8);
          s.write(reply);
        }
        return;
      case W.T.GET_ASYNC_REQUEST:
        s.write(W.getAsyncReply(xid));
        return;
      case W.T.QUEUE_GET_CONFIG_REQUEST:
        // OFPET_QUEUE_OP_FAILED (9), OFPQOFC_BAD_PORT (0): the emulated switch has no queues.
        s.write(W.errorReply(msg, 9, 0));
        return;
      default:
        // SET_CONFIG, METER_MOD, GROUP_MOD, PORT_MOD, TABLE_MOD, SET_ASYNC, ECHO_REPLY...: accepted silently.
        return;
    }
  }
}
