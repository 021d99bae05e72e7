/**
 * The L2 fabric's logic: per-datapath MAC learning, as a plain object fed
 * `(now, event)` that returns the OpenFlow messages to send (Faucet's model,
 * STYLE.md). No sockets, no timers, no clock: the shell (./app.ts) supplies all.
 *
 * Flow design (one table, table 0):
 *   priority 0    table-miss: meter (packet-in rate bound) + output CONTROLLER
 *   priority 100  learned:    in_port + eth_src + eth_dst -> output port
 *
 * Why match on in_port and eth_src as well as eth_dst: a flow on eth_dst alone
 * would carry a new host's packets to a known destination without the
 * controller ever seeing that host's source MAC, so replies to it would flood
 * forever. With the full triple, every (port, source, destination) the switch
 * has not seen reaches the controller once, so every source gets learned and
 * a host that moves to another port is noticed on its next packet.
 *
 * Invariant: every learned flow on a switch names only MACs that are in that
 * switch's table, on the ports recorded there. Whatever removes or moves an
 * entry (MAC move, LRU eviction, ageing, port down) deletes the flows naming
 * that MAC, so no flow can keep sending to a stale port.
 */
import { appCookieMatch, isAppCookie, makeCookie, parseCookie } from '../cookies.js';
import * as C from '../openflow/constants.js';
import { deleteByCookie, flowMod, meterMod, packetOut, toController, toPort } from '../openflow/build.js';
import type { Action, MessageOf, OfpMessage } from '../openflow/types.js';
import { readMac } from '../packet/addr.js';

type PacketIn = MessageOf<'packet_in'>;
type FlowMod = MessageOf<'flow_mod'>;

/** Priority of learned flows. Apps that must override L2 forwarding (parking) use a higher one. */
export const L2_FLOW_PRIORITY = 100;
/** Priority of the table-miss flow (OF 1.3.5 §5.4: the table-miss entry has priority 0 and matches everything). */
export const TABLE_MISS_PRIORITY = 0;

export interface L2Options {
  /** idle_timeout of learned flows, seconds (default 60; 0 = never). */
  idleTimeoutSec?: number;
  /** Packet-in rate bound per switch, packets/s (default 1000); 0 = no meter. */
  packetInRate?: number;
  /** Burst size of the meter band, packets (default: the switch's default; OFPMF_BURST set only if given). */
  packetInBurst?: number;
  /** Meter id used for the table-miss flow (default 1). */
  meterId?: number;
  /** Most MACs remembered per switch; the least recently seen is evicted beyond it (default 8192). */
  maxMacs?: number;
  /** A MAC not seen in a packet-in for this long is forgotten, seconds (default 300; 0 = never). */
  macAgeSec?: number;
  /** Table of all L2 flows (default 0). */
  tableId?: number;
}

export class L2ConfigError extends Error {
  readonly code = 'ERR_L2_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'L2ConfigError';
  }
}

interface Config {
  readonly idleTimeout: number;
  readonly rate: number;
  readonly burst: number | undefined;
  readonly meterId: number;
  readonly maxMacs: number;
  readonly macAgeMs: number;
  readonly tableId: number;
}

function intOpt(name: string, v: number | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min || v > max) throw new L2ConfigError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  return v;
}

function config(o: L2Options): Config {
  return {
    idleTimeout: intOpt('idleTimeoutSec', o.idleTimeoutSec, 60, 0, 0xffff), // u16 on the wire
    rate: intOpt('packetInRate', o.packetInRate, 1000, 0, 0xffffffff),
    burst: o.packetInBurst === undefined ? undefined : intOpt('packetInBurst', o.packetInBurst, 0, 1, 0xffffffff),
    meterId: intOpt('meterId', o.meterId, 1, 1, C.OFPM_MAX), // §7.3.4.5: meters are 1..OFPM_MAX
    maxMacs: intOpt('maxMacs', o.maxMacs, 8192, 1, 1 << 24),
    macAgeMs: intOpt('macAgeSec', o.macAgeSec, 300, 0, 1 << 24) * 1000,
    tableId: intOpt('tableId', o.tableId, 0, 0, C.OFPTT_MAX),
  };
}

/** One learned MAC. */
interface MacEntry {
  /** The MAC as a 48-bit integer (exact in a double). */
  readonly mac: number;
  /** Its text form, made once when learned, for OXM values. */
  readonly text: string;
  port: number;
  /** `now` of the last packet-in with this source. */
  seen: number;
  /** `now` when the entry last moved to the young end of the LRU map (seen - placed < LRU_REFRESH_MS). */
  placed: number;
}

/** What one switch has learned, for tests and introspection. */
export interface LearnedMac {
  mac: string;
  port: number;
  seen: number;
}

const L2_COOKIE = makeCookie('l2', 0);
const L2_COOKIES = appCookieMatch('l2');
/** Re-order the LRU map at most this often per MAC (ms): refreshing a Map position costs a delete + set. */
const LRU_REFRESH_MS = 1000;
const NO_DATA = Buffer.alloc(0);

/** MAC at `off` in a frame as a 48-bit integer. */
function macAt(d: Buffer, off: number): number {
  return ((d[off]! << 8) | d[off + 1]!) * 0x1_0000_0000 + d.readUInt32BE(off + 2);
}

function inPortOf(msg: PacketIn): number | undefined {
  const m = msg.match;
  for (let i = 0; i < m.length; i++) {
    const f = m[i]!;
    if (f.field === 'in_port') return f.value;
  }
  return undefined;
}

/**
 * MAC learning for one switch. Every method returns the messages to send to
 * that switch, in order; a `barrier_request` in the list means "wait for the
 * earlier messages to be done before sending the rest" (OF 1.3.5 §6.2: a
 * switch may reorder messages between barriers).
 */
export class L2Switch {
  private readonly macs = new Map<number, MacEntry>();
  private readonly cfg: Config;
  /** False after the switch refused the meter: the table-miss goes without it. */
  private meterUsable: boolean;
  private readonly floodActions: Action[] = [{ type: 'output', port: C.OFPP_FLOOD, maxLen: 0 }];

  constructor(opts: L2Options | Config = {}) {
    this.cfg = 'macAgeMs' in opts ? opts : config(opts);
    this.meterUsable = this.cfg.rate > 0;
  }

  /** Number of MACs learned. */
  get size(): number {
    return this.macs.size;
  }

  /** The port `mac` ('aa:bb:..') was learned on, if known. */
  portOf(mac: string): number | undefined {
    return this.macs.get(Number.parseInt(mac.replaceAll(':', ''), 16))?.port;
  }

  /** The learned MACs, least recently seen first. */
  learned(): LearnedMac[] {
    return [...this.macs.values()].map((e) => ({ mac: e.text, port: e.port, seen: e.seen }));
  }

  /**
   * The switch (re)connected: forget what we knew, delete our old flows (by
   * cookie, so other apps' and other controllers' flows stay), install the
   * packet-in meter and the table-miss flow.
   */
  switchUp(): OfpMessage[] {
    this.macs.clear();
    this.meterUsable = this.cfg.rate > 0;
    const out: OfpMessage[] = [
      // OF 1.3.5 §6.4: a delete with cookie_mask removes only flows whose cookie matches under the mask.
      { ...this.deleteBase(), tableId: C.OFPTT_ALL },
    ];
    if (this.meterUsable) {
      const opts = this.cfg.burst === undefined ? { stats: true } : { stats: true, burst: this.cfg.burst };
      // Delete then add: OFPMC_ADD of an existing meter fails with OFPMMFC_METER_EXISTS
      // (§7.4.4), and deleting a missing meter is harmless. Deleting a meter also removes
      // the flows that use it (§7.3.4.5), here only our old table-miss.
      out.push(meterMod(C.OFPMC_DELETE, this.cfg.meterId, 0));
      out.push(meterMod(C.OFPMC_ADD, this.cfg.meterId, this.cfg.rate, opts));
      out.push({ type: 'barrier_request', xid: 0 });
    }
    out.push(this.tableMiss());
    return out;
  }

  /** The table-miss flow: meter (if usable), then the whole packet to the controller, unbuffered. */
  tableMiss(): FlowMod {
    // OFPCML_NO_BUFFER: "the complete packet must be sent to the controller" and not buffered (§7.2.5).
    const instructions = toController(this.meterUsable ? this.cfg.meterId : undefined);
    return flowMod({ cookie: L2_COOKIE, tableId: this.cfg.tableId, priority: TABLE_MISS_PRIORITY, instructions });
  }

  /** The hot path: learn the source, then forward (flow + packet-out) or flood. */
  packetIn(now: number, msg: PacketIn): OfpMessage[] {
    // A packet sent up by another seamless app's flow is that app's business.
    if (msg.cookie !== L2_COOKIE && parseCookie(msg.cookie) !== undefined) return [];
    const d = msg.data;
    if (d.length < 14) return []; // not even an Ethernet header
    const inPort = inPortOf(msg);
    if (inPort === undefined) return []; // §7.4.1: OFPXMT_OFB_IN_PORT is always present; be lenient anyway
    if ((d[6]! & 1) !== 0) return []; // a multicast source address is invalid (IEEE 802.3 §3.2.3): drop

    const out: OfpMessage[] = [];
    const src = macAt(d, 6);
    const srcEntry = src === 0 ? undefined : this.learn(now, src, d, inPort, out);

    if ((d[0]! & 1) !== 0) {
      this.flood(msg, inPort, out); // broadcast / multicast destination
      return out;
    }
    const dst = this.live(now, macAt(d, 0), out);
    if (dst === undefined) {
      this.flood(msg, inPort, out);
      return out;
    }
    // The destination sits behind the port the packet came in on: it is already
    // on that segment, and sending it back out would duplicate it. Drop it.
    if (dst.port === inPort) return out;
    if (srcEntry !== undefined) out.push(this.forwardFlow(inPort, srcEntry.text, dst.text, dst.port));
    out.push(packetOut({
      bufferId: msg.bufferId,
      inPort,
      actions: [{ type: 'output', port: dst.port, maxLen: 0 }],
      // §7.3.7: with a valid buffer_id the switch uses its buffered copy and data must be empty.
      data: msg.bufferId === C.OFP_NO_BUFFER ? d : NO_DATA,
    }));
    return out;
  }

  /**
   * A port changed. A port that is deleted, administratively down or has lost
   * its link takes its MACs and flows with it (flows out of it and into it).
   */
  portStatus(msg: MessageOf<'port_status'>): OfpMessage[] {
    const p = msg.desc;
    const gone =
      msg.reason === C.OFPPR_DELETE || (p.config & C.OFPPC_PORT_DOWN) !== 0 || (p.state & C.OFPPS_LINK_DOWN) !== 0;
    if (!gone) return [];
    return this.forgetPort(p.portNo);
  }

  /** Forgets every MAC on `port` and deletes our flows into and out of it. */
  forgetPort(port: number): OfpMessage[] {
    for (const [mac, e] of this.macs) if (e.port === port) this.macs.delete(mac);
    return [
      // §6.4: out_port restricts a delete to flows that output to that port.
      { ...this.deleteBase(), outPort: port },
      this.deleteMatching([{ field: 'in_port', value: port }]),
    ];
  }

  /**
   * An OFPT_ERROR from the switch. If it refused the meter (OFPET_METER_MOD_FAILED
   * for our OFPMC_ADD, or OFPET_BAD_INSTRUCTION for the table-miss that uses it),
   * fall back to a table-miss without the meter: forwarding matters more than the
   * packet-in bound. Returns the messages to send (none for other errors).
   */
  error(msg: MessageOf<'error'>): OfpMessage[] {
    if (!this.meterUsable || msg.errType === 0xffff) return [];
    // §7.4.4: data holds at least the first 64 bytes of the failed request.
    const d = msg.data;
    if (d.length < 10) return [];
    const meterAddFailed =
      msg.errType === C.OFPET_METER_MOD_FAILED && d[1] === C.OFPT_METER_MOD && d.readUInt16BE(8) === C.OFPMC_ADD;
    const missFailed = msg.errType === C.OFPET_BAD_INSTRUCTION && d[1] === C.OFPT_FLOW_MOD;
    if (!meterAddFailed && !missFailed) return [];
    this.meterUsable = false;
    return [this.tableMiss()];
  }

  /**
   * Whether an OFPT_ERROR is about one of our messages, judged from the start
   * of the failed request it carries (§7.4.4): a flow_mod with an L2 cookie or a
   * meter_mod for our meter. Packet-outs carry no owner; they count as ours
   * since the L2 fabric sends almost all of them.
   */
  isOurs(msg: MessageOf<'error'>): boolean {
    const d = msg.data;
    if (d.length < 8) return false;
    if (d[1] === C.OFPT_FLOW_MOD) return d.length >= 16 && isAppCookie(d.readBigUInt64BE(8), 'l2');
    if (d[1] === C.OFPT_METER_MOD) return d.length >= 16 && d.readUInt32BE(12) === this.cfg.meterId;
    return d[1] === C.OFPT_PACKET_OUT;
  }

  /** True while the table-miss flow uses the meter (false after the switch refused it). */
  get metered(): boolean {
    return this.meterUsable;
  }

  /** Forgets MACs not seen for macAgeSec and deletes their flows. Call now and then. */
  expire(now: number): OfpMessage[] {
    const out: OfpMessage[] = [];
    if (this.cfg.macAgeMs === 0) return out;
    // Map order is by `placed`, and seen - placed < LRU_REFRESH_MS: once an entry is
    // live by that margin, every later one is live too.
    for (const e of this.macs.values()) {
      if (now - e.placed <= this.cfg.macAgeMs - LRU_REFRESH_MS) break;
      if (now - e.seen > this.cfg.macAgeMs) this.forget(e, out);
    }
    return out;
  }

  // --- internals ---

  /** Records `src` on `inPort`; returns its entry. */
  private learn(now: number, src: number, d: Buffer, inPort: number, out: OfpMessage[]): MacEntry {
    let e = this.macs.get(src);
    if (e === undefined) {
      if (this.macs.size >= this.cfg.maxMacs) {
        const oldest = this.macs.values().next().value;
        if (oldest !== undefined) this.forget(oldest, out);
      }
      e = { mac: src, text: readMac(d, 6), port: inPort, seen: now, placed: now };
      this.macs.set(src, e);
      return e;
    }
    if (e.port !== inPort) {
      // The host moved: flows to it point at the old port; flows from it match the old in_port.
      this.deleteFlowsOf(e.text, out);
      e.port = inPort;
    }
    if (now - e.placed >= LRU_REFRESH_MS) {
      this.macs.delete(src);
      this.macs.set(src, e);
      e.placed = now;
    }
    e.seen = now;
    return e;
  }

  /** The entry for `mac` if known and not aged out (an aged one is forgotten here). */
  private live(now: number, mac: number, out: OfpMessage[]): MacEntry | undefined {
    const e = this.macs.get(mac);
    if (e === undefined) return undefined;
    if (this.cfg.macAgeMs !== 0 && now - e.seen > this.cfg.macAgeMs) {
      this.forget(e, out);
      return undefined;
    }
    return e;
  }

  private forget(e: MacEntry, out: OfpMessage[]): void {
    this.macs.delete(e.mac);
    this.deleteFlowsOf(e.text, out);
  }

  private deleteFlowsOf(mac: string, out: OfpMessage[]): void {
    out.push(this.deleteMatching([{ field: 'eth_dst', value: mac }]));
    out.push(this.deleteMatching([{ field: 'eth_src', value: mac }]));
  }

  private flood(msg: PacketIn, inPort: number, out: OfpMessage[]): void {
    // OFPP_FLOOD: all ports except the ingress port and ports with OFPPC_NO_FLOOD
    // (OVS honours no-flood in OF1.3, which lets an operator prune a loop).
    out.push(packetOut({
      bufferId: msg.bufferId,
      inPort,
      actions: this.floodActions,
      data: msg.bufferId === C.OFP_NO_BUFFER ? msg.data : NO_DATA,
    }));
  }

  private forwardFlow(inPort: number, src: string, dst: string, port: number): FlowMod {
    return flowMod({
      cookie: L2_COOKIE,
      tableId: this.cfg.tableId,
      idleTimeout: this.cfg.idleTimeout,
      priority: L2_FLOW_PRIORITY,
      match: [
        { field: 'in_port', value: inPort },
        { field: 'eth_src', value: src },
        { field: 'eth_dst', value: dst },
      ],
      instructions: [toPort(port)],
    });
  }

  /** A non-strict delete of our flows in our table; callers add a match or out_port. */
  /** A non-strict delete of our flows in our table matching `match` (on the eviction path: no spread copies). */
  private deleteMatching(match: FlowMod['match']): FlowMod {
    return deleteByCookie(L2_COOKIES.cookie, L2_COOKIES.cookieMask, { tableId: this.cfg.tableId, match });
  }

  private deleteBase(): FlowMod {
    return deleteByCookie(L2_COOKIES.cookie, L2_COOKIES.cookieMask, { tableId: this.cfg.tableId });
  }
}

/**
 * MAC learning for many switches, keyed by datapath id: the `(now, dpid, event)`
 * form of L2Switch. Events for a datapath that is not up are ignored (return []).
 */
export class L2Learning {
  private readonly switches = new Map<bigint, L2Switch>();
  private readonly cfg: Config;

  /** Throws L2ConfigError for out-of-range options. */
  constructor(opts: L2Options = {}) {
    this.cfg = config(opts);
  }

  /** The per-switch state, if the switch is up. */
  switch(dpid: bigint): L2Switch | undefined {
    return this.switches.get(dpid);
  }

  switchUp(dpid: bigint): OfpMessage[] {
    const sw = new L2Switch(this.cfg);
    this.switches.set(dpid, sw);
    return sw.switchUp();
  }

  switchDown(dpid: bigint): void {
    this.switches.delete(dpid);
  }

  packetIn(now: number, dpid: bigint, msg: PacketIn): OfpMessage[] {
    return this.switches.get(dpid)?.packetIn(now, msg) ?? [];
  }

  portStatus(dpid: bigint, msg: MessageOf<'port_status'>): OfpMessage[] {
    return this.switches.get(dpid)?.portStatus(msg) ?? [];
  }

  error(dpid: bigint, msg: MessageOf<'error'>): OfpMessage[] {
    return this.switches.get(dpid)?.error(msg) ?? [];
  }

  /** Ages every switch's table; returns the messages per datapath (only non-empty lists). */
  expire(now: number): Map<bigint, OfpMessage[]> {
    const res = new Map<bigint, OfpMessage[]>();
    for (const [dpid, sw] of this.switches) {
      const msgs = sw.expire(now);
      if (msgs.length > 0) res.set(dpid, msgs);
    }
    return res;
  }
}

/** True for a flow cookie owned by the L2 fabric. */
export function isL2Cookie(cookie: bigint): boolean {
  return isAppCookie(cookie, 'l2');
}
