/**
 * LLDP link discovery as plain logic (Faucet's model): fed `(now, dpid, event)`
 * by the shell (./app.ts), it updates the TopologyGraph and returns the
 * OpenFlow messages to send. No sockets, no timers.
 *
 * Per switch it installs one flow, priority LLDP_PRIORITY: eth_type 0x88cc ->
 * meter `meterId` -> controller, cookie of the topology app. Probes go out by
 * packet-out, one per up physical port, at switch-up, when a port comes up and
 * on every tick. A probe received on (dpid, port) is a link from the port it
 * names to that port; LLDP from anyone else (a real device, another
 * controller) is counted and dropped, never a link.
 */
import type { PortInfo } from '../app.js';
import { appCookieMatch, makeCookie } from '../cookies.js';
import * as C from '../openflow/constants.js';
import { deleteByCookie, flowMod, meterMod, output, packetOut, toController } from '../openflow/build.js';
import type { MessageOf, OfpMessage } from '../openflow/types.js';
import { buildLldpProbe, checkControllerId, ETH_TYPE_LLDP, parseLldp } from '../packet/lldp.js';
import { isPhysicalPort, TopologyConfigError, TopologyGraph, type GraphOptions } from './graph.js';

/** Above every park and L2 flow: probes must reach the controller whatever else matches. */
export const LLDP_PRIORITY = 60000;
const LLDP_COOKIE = makeCookie('topology', 0);
const TOPOLOGY_COOKIES = appCookieMatch('topology');

export interface DiscoveryOptions extends GraphOptions {
  /** Written into every probe's chassis id; probes with another id are foreign (default: random per process). */
  readonly controllerId?: string;
  /** Probe period, ms (default 1000). */
  readonly intervalMs?: number;
  /** Meter of the LLDP-to-controller flow (default 2; the L2 fabric owns 1, the park engine 256 and up). */
  readonly meterId?: number;
  /** LLDP packet-ins per second per switch through that meter (default 200; 0 = no meter). */
  readonly lldpRate?: number;
}

export interface DiscoveryCounters {
  probesSent: number;
  probesReceived: number;
  /** LLDP frames whose chassis id is not one of our probes. */
  foreign: number;
  /** Our probes that named a switch or port not up here (stale, or a far end not connected yet). */
  unmatched: number;
}

type PacketIn = MessageOf<'packet_in'>;

function inPortOf(msg: PacketIn): number | undefined {
  for (const f of msg.match) if (f.field === 'in_port') return f.value;
  return undefined;
}

export class Discovery {
  readonly graph: TopologyGraph;
  readonly controllerId: string;
  readonly intervalMs: number;
  readonly counters: DiscoveryCounters = { probesSent: 0, probesReceived: 0, foreign: 0, unmatched: 0 };
  private readonly meterId: number;
  private readonly rate: number;
  /** Each switch's ports (their MACs are the probes' source addresses). */
  private readonly ports = new Map<bigint, Map<number, PortInfo>>();

  /** Throws TopologyConfigError (bad intervals, meter) or LldpError (bad controller id). */
  constructor(opts: DiscoveryOptions = {}) {
    this.graph = new TopologyGraph(opts);
    this.controllerId = checkControllerId(opts.controllerId ?? Math.floor(Math.random() * 2 ** 48).toString(16));
    const int = (name: string, v: number | undefined, d: number, min: number, max: number): number => {
      if (v === undefined) return d;
      if (!Number.isInteger(v) || v < min || v > max) throw new TopologyConfigError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
      return v;
    };
    this.intervalMs = int('intervalMs', opts.intervalMs, 1000, 10, 600_000);
    this.meterId = int('meterId', opts.meterId, 2, 1, C.OFPM_MAX);
    this.rate = int('lldpRate', opts.lldpRate, 200, 0, 1_000_000);
    // A link must survive one lost probe, and a port must see at least two probe
    // rounds before it is called an edge port.
    if (this.graph.linkTimeoutMs < 2 * this.intervalMs) throw new TopologyConfigError(`linkTimeoutMs (${this.graph.linkTimeoutMs}) must be at least twice intervalMs (${this.intervalMs})`);
    if (this.graph.classifyMs < 2 * this.intervalMs) throw new TopologyConfigError(`classifyMs (${this.graph.classifyMs}) must be at least twice intervalMs (${this.intervalMs})`);
  }

  /** The switch connected: our old topology flows go, the LLDP flow (and its meter) come, probes go out. */
  switchUp(now: number, dpid: bigint, ports: ReadonlyMap<number, PortInfo>): OfpMessage[] {
    this.ports.set(dpid, new Map(ports));
    this.graph.switchUp(now, dpid, ports.values());
    const metered = this.rate > 0;
    const out: OfpMessage[] = [deleteByCookie(TOPOLOGY_COOKIES.cookie, TOPOLOGY_COOKIES.cookieMask)];
    if (metered) {
      // ADD then MODIFY: ADD of an existing meter fails with OFPMMFC_METER_EXISTS (ignored), MODIFY sets our rate.
      out.push(meterMod(C.OFPMC_ADD, this.meterId, this.rate, { burst: this.rate }), meterMod(C.OFPMC_MODIFY, this.meterId, this.rate, { burst: this.rate }));
    }
    out.push(
      flowMod({
        cookie: LLDP_COOKIE,
        priority: LLDP_PRIORITY,
        match: [{ field: 'eth_type', value: ETH_TYPE_LLDP }],
        instructions: toController(metered ? this.meterId : undefined),
      }),
    );
    for (const p of ports.values()) if (p.up && isPhysicalPort(p.portNo)) out.push(this.probe(dpid, p));
    return out;
  }

  switchDown(dpid: bigint): void {
    this.ports.delete(dpid);
    this.graph.switchDown(dpid);
  }

  /** A PORT_STATUS. A port that came up is probed at once (it is blocked until classified). */
  portStatus(now: number, dpid: bigint, msg: MessageOf<'port_status'>): OfpMessage[] {
    const ports = this.ports.get(dpid);
    if (ports === undefined) return [];
    const d = msg.desc;
    const deleted = msg.reason === C.OFPPR_DELETE;
    const up = !deleted && (d.config & C.OFPPC_PORT_DOWN) === 0 && (d.state & C.OFPPS_LINK_DOWN) === 0;
    const info: PortInfo = { portNo: d.portNo, name: d.name, hwAddr: d.hwAddr, up };
    if (deleted) ports.delete(d.portNo);
    else ports.set(d.portNo, info);
    this.graph.portStatus(now, dpid, d.portNo, up, deleted, d.name);
    return up && isPhysicalPort(d.portNo) ? [this.probe(dpid, info)] : [];
  }

  /**
   * A packet-in. Returns undefined when it is not LLDP (not ours to handle);
   * otherwise true (consumed), after recording a link for our own probe.
   */
  packetIn(now: number, dpid: bigint, msg: PacketIn): boolean | undefined {
    const d = msg.data;
    if (d.length < 14 || d.readUInt16BE(12) !== ETH_TYPE_LLDP) return undefined;
    const inPort = inPortOf(msg);
    const f = parseLldp(d);
    if (f === undefined || inPort === undefined || f.kind === 'foreign' || f.probe.controllerId !== this.controllerId) {
      this.counters.foreign++;
      return true;
    }
    this.counters.probesReceived++;
    const known = this.graph.portClass(f.probe.dpid, f.probe.port) !== 'down' && this.graph.portClass(dpid, inPort) !== 'down';
    if (!known) {
      this.counters.unmatched++;
      return true;
    }
    this.graph.probeReceived(now, { dpid: f.probe.dpid, port: f.probe.port }, dpid, inPort);
    return true;
  }

  /** One probe round: expire links and classify ports, then a probe out of every up port of every switch. */
  tick(now: number): Map<bigint, OfpMessage[]> {
    this.graph.tick(now);
    const res = new Map<bigint, OfpMessage[]>();
    for (const [dpid, ports] of this.ports) {
      const msgs: OfpMessage[] = [];
      for (const p of ports.values()) if (p.up && isPhysicalPort(p.portNo)) msgs.push(this.probe(dpid, p));
      if (msgs.length > 0) res.set(dpid, msgs);
    }
    return res;
  }

  private probe(dpid: bigint, p: PortInfo): OfpMessage {
    this.counters.probesSent++;
    const ttlSec = Math.ceil(this.graph.linkTimeoutMs / 1000);
    return packetOut({ actions: [output(p.portNo, 0)], data: buildLldpProbe({ controllerId: this.controllerId, dpid, port: p.portNo }, p.hwAddr, ttlSec) });
  }
}
