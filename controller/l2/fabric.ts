/**
 * The L2 fabric across many switches (fabric mode of the L2 app): plain logic
 * fed `(now, dpid, event)` that returns the OpenFlow messages to send, per
 * switch, reading the live TopologyGraph (controller/topology/graph.ts).
 *
 * Rules, and why:
 *  - Nothing goes out of, or is accepted from, a port the graph calls
 *    `pending` or `down`: until LLDP has said whether a switch is behind a
 *    port, flooding into it could close a loop.
 *  - Broadcast and unknown unicast go out of the switch's edge ports and its
 *    spanning-tree ports, never the one it came in on, and never with
 *    OFPP_FLOOD (which would include blocked ports). Each switch floods what
 *    it receives on a tree port the same way, so a flood crosses every switch
 *    once along the tree: no loop whatever the cabling. A broadcast arriving
 *    on a non-tree link port is dropped.
 *  - MACs are learned only on edge ports (one table for the whole fabric:
 *    mac -> switch, port): a MAC seen through a link port says nothing about
 *    where the host is.
 *  - Known unicast goes on a shortest path: flows on every switch of the path
 *    (ingress: in_port + eth_src + eth_dst, so a new source still reaches the
 *    controller once; transit and egress: eth_src + eth_dst), then the packet
 *    itself out of the ingress switch.
 *  - Any link or switch change flushes every learned flow in the fabric (one
 *    delete per switch by cookie): paths and the tree are recomputed on the
 *    next packet-ins. The learned MAC table stays (hosts did not move), so
 *    re-convergence costs one packet-in per active flow, not a new flood.
 */
import { idCookieMatch, makeCookie, parseCookie } from '../cookies.js';
import * as C from '../openflow/constants.js';
import { deleteByCookie, flowMod, packetOut, toPort } from '../openflow/build.js';
import type { Action, MessageOf, OfpMessage } from '../openflow/types.js';
import { readMac } from '../packet/addr.js';
import type { TopologyChange, TopologyGraph } from '../topology/graph.js';
import { L2_FLOW_PRIORITY, L2ConfigError, L2Switch, type L2Options } from './learning.js';

type PacketIn = MessageOf<'packet_in'>;

/** Cookie of fabric-learned flows: an L2 cookie with id 1, so a flush leaves the table-miss (id 0) alone. */
const FABRIC_COOKIE = makeCookie('l2', 1);
const FABRIC_COOKIES = idCookieMatch('l2', 1);
const L2_MISS_COOKIE = makeCookie('l2', 0);
const NO_DATA = Buffer.alloc(0);

/** Where a MAC was learned. */
export interface FabricMac {
  readonly mac: string;
  readonly dpid: bigint;
  readonly port: number;
  readonly seen: number;
}

/** Messages per datapath, in order per datapath. */
export type PerSwitch = Map<bigint, OfpMessage[]>;

export interface FabricCounters {
  /** Packet-ins flooded along the tree. */
  floods: number;
  /** Packet-ins dropped because they came in on a pending, down or non-tree link port. */
  blocked: number;
  /** Paths installed for known unicast. */
  paths: number;
  /** Fabric-wide flushes after a topology change. */
  flushes: number;
}

function inPortOf(msg: PacketIn): number | undefined {
  for (const f of msg.match) if (f.field === 'in_port') return f.value;
  return undefined;
}

function push(res: PerSwitch, dpid: bigint, ...msgs: OfpMessage[]): void {
  const l = res.get(dpid);
  if (l === undefined) res.set(dpid, msgs);
  else l.push(...msgs);
}

export class L2Fabric {
  readonly counters: FabricCounters = { floods: 0, blocked: 0, paths: 0, flushes: 0 };
  private readonly macs = new Map<string, FabricMac>();
  /** Per switch: its table-miss/meter set-up and error fallback (the single-switch logic's). */
  private readonly switches = new Map<bigint, L2Switch>();
  private readonly idleTimeout: number;
  private readonly maxMacs: number;
  private readonly macAgeMs: number;
  private readonly tableId: number;

  /** Throws L2ConfigError for bad options. */
  constructor(
    readonly graph: TopologyGraph,
    private readonly opts: L2Options = {},
  ) {
    new L2Switch(opts); // validates the options (throws L2ConfigError)
    this.idleTimeout = opts.idleTimeoutSec ?? 60;
    this.maxMacs = opts.maxMacs ?? 8192;
    this.macAgeMs = (opts.macAgeSec ?? 300) * 1000;
    this.tableId = opts.tableId ?? 0;
    if (this.maxMacs < 1) throw new L2ConfigError(`maxMacs must be at least 1, got ${this.maxMacs}`);
  }

  /** The per-switch set-up state (meter fallback), if the switch is up. */
  switch(dpid: bigint): L2Switch | undefined {
    return this.switches.get(dpid);
  }

  /** Every learned MAC, least recently learned first. */
  learned(): FabricMac[] {
    return [...this.macs.values()];
  }

  locate(mac: string): FabricMac | undefined {
    return this.macs.get(mac);
  }

  /** A switch connected: its L2 flows are replaced by the meter and table-miss (a barrier_request orders them). */
  switchUp(dpid: bigint): OfpMessage[] {
    const sw = new L2Switch(this.opts);
    this.switches.set(dpid, sw);
    for (const [mac, e] of this.macs) if (e.dpid === dpid) this.macs.delete(mac);
    return sw.switchUp();
  }

  switchDown(dpid: bigint): void {
    this.switches.delete(dpid);
    for (const [mac, e] of this.macs) if (e.dpid === dpid) this.macs.delete(mac);
  }

  error(dpid: bigint, msg: MessageOf<'error'>): OfpMessage[] {
    return this.switches.get(dpid)?.error(msg) ?? [];
  }

  /**
   * What a topology change costs: a link or switch change flushes every learned
   * flow on every switch; edge ports that went down take their MACs (and the
   * flows naming them) along.
   */
  topologyChanged(c: TopologyChange): PerSwitch {
    const res: PerSwitch = new Map();
    if (c.kind === 'ports') {
      for (const port of c.ports) {
        if (this.graph.portClass(c.dpid, port) === 'edge') continue; // newly classified: nothing learned there yet
        for (const e of [...this.macs.values()]) if (e.dpid === c.dpid && e.port === port) this.forget(e, res);
      }
      return res;
    }
    if (c.kind === 'switch-up') return res; // its own switchUp cleans it; others' paths cannot use it before a link-up
    this.counters.flushes++;
    for (const dpid of this.switches.keys()) push(res, dpid, this.flushAll());
    return res;
  }

  /** The hot path. */
  packetIn(now: number, dpid: bigint, msg: PacketIn): PerSwitch {
    const res: PerSwitch = new Map();
    if (!this.switches.has(dpid)) return res;
    // A packet sent up by another seamless app's flow is that app's business.
    if (msg.cookie !== L2_MISS_COOKIE && parseCookie(msg.cookie) !== undefined) return res;
    const d = msg.data;
    const inPort = inPortOf(msg);
    if (d.length < 14 || inPort === undefined) return res;
    if ((d[6]! & 1) !== 0) return res; // a multicast source address is invalid (IEEE 802.3 §3.2.3)
    const cls = this.graph.portClass(dpid, inPort);
    if (cls === 'pending' || cls === 'down') {
      this.counters.blocked++;
      return res;
    }
    const src = readMac(d, 6);
    if (cls === 'edge' && src !== '00:00:00:00:00:00') this.learn(now, src, dpid, inPort, res);

    const dst = readMac(d, 0);
    const known = (d[0]! & 1) === 0 ? this.live(now, dst, res) : undefined;
    if (known === undefined) {
      // Broadcast, multicast or unknown unicast: along the tree only.
      if (cls === 'link' && !this.graph.treePorts(dpid).has(inPort)) {
        this.counters.blocked++;
        return res;
      }
      this.counters.floods++;
      const ports = this.floodPorts(dpid, inPort);
      if (ports.length > 0) push(res, dpid, this.packetOutTo(msg, inPort, ports));
      return res;
    }
    const hops = this.graph.path(dpid, known.dpid);
    if (hops === undefined) return res; // unreachable now: the next topology change will tell
    const outHere = hops.length === 0 ? known.port : hops[0]!.outPort;
    if (outHere === inPort) return res; // already on that segment
    // Downstream switches first, so the packet meets its flows there (a miss is harmless: a packet-in there).
    if (src !== '00:00:00:00:00:00') {
      for (let i = 1; i < hops.length; i++) push(res, hops[i]!.dpid, this.pathFlow(undefined, src, dst, hops[i]!.outPort));
      if (hops.length > 0) push(res, known.dpid, this.pathFlow(undefined, src, dst, known.port));
      push(res, dpid, this.pathFlow(cls === 'edge' ? inPort : undefined, src, dst, outHere));
      this.counters.paths++;
    }
    push(res, dpid, this.packetOutTo(msg, inPort, [outHere]));
    return res;
  }

  /** Forgets MACs not seen for macAgeSec and deletes their flows everywhere. */
  expire(now: number): PerSwitch {
    const res: PerSwitch = new Map();
    if (this.macAgeMs === 0) return res;
    for (const e of [...this.macs.values()]) if (now - e.seen > this.macAgeMs) this.forget(e, res);
    return res;
  }

  // --- internals ---

  /** Edge ports plus tree ports of `dpid`, without `inPort`. */
  floodPorts(dpid: bigint, inPort: number): number[] {
    const tree = this.graph.treePorts(dpid);
    return this.graph.ports(dpid).filter((p) => p !== inPort && (tree.has(p) || this.graph.isEdgePort(dpid, p)));
  }

  private learn(now: number, mac: string, dpid: bigint, port: number, res: PerSwitch): void {
    const e = this.macs.get(mac);
    if (e !== undefined && e.dpid === dpid && e.port === port) {
      this.macs.set(mac, { ...e, seen: now });
      return;
    }
    // New, or moved: flows naming it point the old way everywhere.
    if (e !== undefined) this.forget(e, res);
    else if (this.macs.size >= this.maxMacs) {
      const oldest = this.macs.values().next().value;
      if (oldest !== undefined) this.forget(oldest, res);
    }
    this.macs.set(mac, { mac, dpid, port, seen: now });
  }

  private live(now: number, mac: string, res: PerSwitch): FabricMac | undefined {
    const e = this.macs.get(mac);
    if (e === undefined) return undefined;
    if (this.macAgeMs !== 0 && now - e.seen > this.macAgeMs) {
      this.forget(e, res);
      return undefined;
    }
    if (this.graph.portClass(e.dpid, e.port) !== 'edge') {
      // Its port went down or turned out to be a link: the location is stale.
      this.forget(e, res);
      return undefined;
    }
    return e;
  }

  private forget(e: FabricMac, res: PerSwitch): void {
    this.macs.delete(e.mac);
    for (const dpid of this.switches.keys()) {
      push(res, dpid, this.deleteMatching([{ field: 'eth_dst', value: e.mac }]), this.deleteMatching([{ field: 'eth_src', value: e.mac }]));
    }
  }

  private pathFlow(inPort: number | undefined, src: string, dst: string, out: number): MessageOf<'flow_mod'> {
    const match: MessageOf<'flow_mod'>['match'] = [];
    if (inPort !== undefined) match.push({ field: 'in_port', value: inPort });
    match.push({ field: 'eth_src', value: src }, { field: 'eth_dst', value: dst });
    return flowMod({ cookie: FABRIC_COOKIE, tableId: this.tableId, idleTimeout: this.idleTimeout, priority: L2_FLOW_PRIORITY, match, instructions: [toPort(out)] });
  }

  private packetOutTo(msg: PacketIn, inPort: number, ports: number[]): OfpMessage {
    const actions: Action[] = ports.map((port) => ({ type: 'output', port, maxLen: 0 }));
    // §7.3.7: with a valid buffer_id the switch uses its buffered copy and data must be empty.
    return packetOut({ bufferId: msg.bufferId, inPort, actions, data: msg.bufferId === C.OFP_NO_BUFFER ? msg.data : NO_DATA });
  }

  private deleteMatching(match: MessageOf<'flow_mod'>['match']): MessageOf<'flow_mod'> {
    return deleteByCookie(FABRIC_COOKIES.cookie, FABRIC_COOKIES.cookieMask, { tableId: this.tableId, match });
  }

  private flushAll(): MessageOf<'flow_mod'> {
    return deleteByCookie(FABRIC_COOKIES.cookie, FABRIC_COOKIES.cookieMask, { tableId: this.tableId });
  }
}
