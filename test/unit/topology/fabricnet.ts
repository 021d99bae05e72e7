// A simulated multi-switch network for the topology and L2-fabric tests: fake
// switches (FakeFlowTable) joined by links that may form loops, hosts that
// answer ARP and ping, and the controller's pure logic (Discovery + L2Fabric
// on one TopologyGraph). Frames really travel, LLDP probes included: a probe
// packet-out crosses its link, hits the LLDP flow of the far switch and comes
// back as a packet-in. Every frame on a switch-to-switch link is counted, so a
// test can bound the traffic a flood caused (a loop would exhaust MAX_HOPS).
import type { PortInfo } from '../../../controller/app.js';
import { L2Fabric } from '../../../controller/l2/fabric.js';
import * as C from '../../../controller/openflow/constants.js';
import type { MessageOf, OfpMessage } from '../../../controller/openflow/types.js';
import { buildArpReplyFor, buildArpRequest, buildIcmpEchoReply, buildIcmpEchoRequest } from '../../../controller/packet/build.js';
import { parseFrame } from '../../../controller/packet/parse.js';
import { Discovery, type DiscoveryOptions } from '../../../controller/topology/discovery.js';
import { FakeFlowTable, fieldsOfFrame, physicalPorts } from '../../support/fakeflowtable.js';

type Peer = { kind: 'host'; host: SimHost } | { kind: 'switch'; sw: SimSwitch; port: number };

export interface SimHost {
  name: string;
  mac: string;
  ip: string;
  sw: SimSwitch;
  port: number;
  arp: Map<string, string>;
  received: number;
  echoReplies: number;
}

export interface SimSwitch {
  name: string;
  dpid: bigint;
  table: FakeFlowTable;
  links: Map<number, Peer>;
  /** Ports cut by the test: no frames pass, the switch reported link down. */
  down: Set<number>;
  connected: boolean;
}

/** Hops processed per send() before the net calls it a storm. */
const MAX_HOPS = 5000;

export class FabricNet {
  readonly switches = new Map<string, SimSwitch>();
  readonly hosts = new Map<string, SimHost>();
  readonly discovery: Discovery;
  readonly fabric: L2Fabric;
  now = 0;
  packetIns = 0;
  /** Frames that crossed a switch-to-switch link (either direction), LLDP included. */
  linkFrames = 0;
  /** The same, LLDP excluded. */
  linkDataFrames = 0;
  readonly errors: MessageOf<'error'>[] = [];
  private readonly queue: Array<{ sw: SimSwitch; inPort: number; frame: Buffer }> = [];
  private sinceProbe = 0;

  constructor(opts: DiscoveryOptions = {}) {
    this.discovery = new Discovery({ controllerId: 'test', ...opts });
    this.fabric = new L2Fabric(this.discovery.graph, { idleTimeoutSec: 60 });
    this.discovery.graph.onChange((c) => this.deliverAll(this.fabric.topologyChanged(c)));
  }

  addSwitch(name: string, dpid: bigint): SimSwitch {
    const sw: SimSwitch = { name, dpid, table: new FakeFlowTable(), links: new Map(), down: new Set(), connected: false };
    this.switches.set(name, sw);
    return sw;
  }

  addHost(name: string, n: number, swName: string, port: number): SimHost {
    const sw = this.sw(swName);
    const hex = n.toString(16).padStart(2, '0');
    const h: SimHost = { name, mac: `00:00:00:00:00:${hex}`, ip: `10.0.0.${n}`, sw, port, arp: new Map(), received: 0, echoReplies: 0 };
    sw.links.set(port, { kind: 'host', host: h });
    this.hosts.set(name, h);
    return h;
  }

  link(a: string, pa: number, b: string, pb: number): void {
    const sa = this.sw(a);
    const sb = this.sw(b);
    sa.links.set(pa, { kind: 'switch', sw: sb, port: pb });
    sb.links.set(pb, { kind: 'switch', sw: sa, port: pa });
  }

  ports(sw: SimSwitch): Map<number, PortInfo> {
    const m = new Map<number, PortInfo>();
    for (const p of sw.links.keys()) {
      m.set(p, { portNo: p, name: `${sw.name}-eth${p}`, hwAddr: `02:00:00:00:${Number(sw.dpid).toString(16).padStart(2, '0')}:${p.toString(16).padStart(2, '0')}`, up: !sw.down.has(p) });
    }
    return m;
  }

  /** Connects one switch to the controller (both apps' switchUp, topology first). */
  connect(name: string): void {
    const sw = this.sw(name);
    sw.connected = true;
    this.deliver(sw, this.discovery.switchUp(this.now, sw.dpid, this.ports(sw)));
    this.deliver(sw, this.fabric.switchUp(sw.dpid).filter((m) => m.type !== 'barrier_request'));
    this.run();
  }

  /** The switch loses its controller connection (fail-secure: its flows stay). */
  disconnect(name: string): void {
    const sw = this.sw(name);
    sw.connected = false;
    this.discovery.switchDown(sw.dpid);
    this.fabric.switchDown(sw.dpid);
  }

  start(): void {
    for (const name of this.switches.keys()) this.connect(name);
  }

  /** Advances virtual time in steps of at most the probe interval, running probe rounds and MAC expiry. */
  tick(ms: number): void {
    const step = this.discovery.intervalMs;
    for (let left = ms; left > 0; ) {
      const d = Math.min(left, step - this.sinceProbe);
      this.now += d;
      left -= d;
      this.sinceProbe += d;
      for (const sw of this.switches.values()) sw.table.advance(d);
      if (this.sinceProbe >= step) {
        this.sinceProbe = 0;
        this.deliverAll(this.discovery.tick(this.now));
        this.deliverAll(this.fabric.expire(this.now));
        this.run();
      }
    }
  }

  /** Cuts (or restores) the cable between two switches: both ends report link down (up). */
  setLink(a: string, b: string, up: boolean): void {
    const sa = this.sw(a);
    for (const [pa, peer] of sa.links) {
      if (peer.kind !== 'switch' || peer.sw.name !== b) continue;
      for (const [sw, port] of [[sa, pa], [peer.sw, peer.port]] as const) {
        if (up) sw.down.delete(port);
        else sw.down.add(port);
        if (sw.connected) this.deliver(sw, this.discovery.portStatus(this.now, sw.dpid, portStatus(sw, port, up)));
      }
    }
    this.run();
  }

  sw(name: string): SimSwitch {
    const s = this.switches.get(name);
    if (s === undefined) throw new Error(`no switch ${name}`);
    return s;
  }

  host(name: string): SimHost {
    const h = this.hosts.get(name);
    if (h === undefined) throw new Error(`no host ${name}`);
    return h;
  }

  send(from: string, frame: Buffer): void {
    const h = this.host(from);
    this.queue.push({ sw: h.sw, inPort: h.port, frame });
    this.run();
  }

  /** ARP (if needed) then one ICMP echo from a to b; true if a got the reply. */
  ping(a: string, b: string, seq = 1): boolean {
    const ha = this.host(a);
    const hb = this.host(b);
    if (!ha.arp.has(hb.ip)) this.send(a, buildArpRequest(ha.mac, ha.ip, hb.ip));
    const mac = ha.arp.get(hb.ip);
    if (mac === undefined) return false;
    const before = ha.echoReplies;
    this.send(a, buildIcmpEchoRequest({ ethSrc: ha.mac, ethDst: mac, src: ha.ip, dst: hb.ip, id: 7, seq }));
    return ha.echoReplies > before;
  }

  /** Every ordered host pair; the pairs that failed. */
  pingall(seq = 1): string[] {
    const failed: string[] = [];
    for (const a of this.hosts.keys()) for (const b of this.hosts.keys()) if (a !== b && !this.ping(a, b, seq)) failed.push(`${a}->${b}`);
    return failed;
  }

  private deliverAll(res: Map<bigint, OfpMessage[]>): void {
    for (const [dpid, msgs] of res) {
      const sw = [...this.switches.values()].find((s) => s.dpid === dpid);
      if (sw !== undefined && sw.connected) this.deliver(sw, msgs);
    }
  }

  private deliver(sw: SimSwitch, msgs: OfpMessage[]): void {
    this.errors.push(...sw.table.apply(msgs));
    for (const m of msgs) {
      if (m.type !== 'packet_out') continue;
      const r = sw.table.packetOut(m, fieldsOfFrame(m.inPort, m.data));
      this.forward(sw, m.inPort, r.outputs, m.data);
    }
  }

  private forward(sw: SimSwitch, inPort: number, outputs: Parameters<typeof physicalPorts>[0], frame: Buffer): void {
    for (const p of physicalPorts(outputs, inPort, [...sw.links.keys()])) {
      const peer = sw.links.get(p);
      if (peer === undefined || sw.down.has(p)) continue;
      if (peer.kind === 'switch') {
        this.linkFrames++;
        if (frame.readUInt16BE(12) !== 0x88cc) this.linkDataFrames++;
        this.queue.push({ sw: peer.sw, inPort: peer.port, frame });
      } else this.hostReceive(peer.host, frame);
    }
  }

  private run(): void {
    for (let n = 0; this.queue.length > 0; n++) {
      if (n > MAX_HOPS) throw new Error(`frame storm: more than ${MAX_HOPS} hops (a forwarding loop?)`);
      const { sw, inPort, frame } = this.queue.shift()!;
      const r = sw.table.lookup(fieldsOfFrame(inPort, frame));
      this.forward(sw, inPort, r.outputs, frame);
      if (r.controller && sw.connected) {
        this.packetIns++;
        const pi: MessageOf<'packet_in'> = {
          type: 'packet_in',
          xid: 0,
          bufferId: C.OFP_NO_BUFFER,
          totalLen: frame.length,
          reason: C.OFPR_NO_MATCH,
          tableId: 0,
          cookie: r.flows.at(-1)?.cookie ?? 0xffff_ffff_ffff_ffffn,
          match: [{ field: 'in_port', value: inPort }],
          data: frame,
        };
        if (this.discovery.packetIn(this.now, sw.dpid, pi) === undefined) this.deliverAll(this.fabric.packetIn(this.now, sw.dpid, pi));
      }
    }
  }

  private hostReceive(h: SimHost, frame: Buffer): void {
    h.received++;
    const f = parseFrame(frame);
    if (f === undefined) return;
    if (f.dst !== h.mac && f.dst !== 'ff:ff:ff:ff:ff:ff') return; // NIC filter
    if (f.arp !== undefined) {
      h.arp.set(f.arp.spa, f.arp.sha);
      const reply = buildArpReplyFor(frame, h.mac, h.ip);
      if (reply !== undefined) this.queue.push({ sw: h.sw, inPort: h.port, frame: reply });
      return;
    }
    if (f.icmp !== undefined && f.ipv4?.dst === h.ip) {
      if (f.icmp.type === 8) {
        const reply = buildIcmpEchoReply(frame);
        if (reply !== undefined) this.queue.push({ sw: h.sw, inPort: h.port, frame: reply });
      } else if (f.icmp.type === 0) h.echoReplies++;
    }
  }
}

function portStatus(sw: SimSwitch, port: number, up: boolean): MessageOf<'port_status'> {
  return {
    type: 'port_status',
    xid: 0,
    reason: C.OFPPR_MODIFY,
    desc: {
      portNo: port,
      hwAddr: '02:00:00:00:00:ff',
      name: `${sw.name}-eth${port}`,
      config: 0,
      state: up ? 0 : C.OFPPS_LINK_DOWN,
      curr: 0,
      advertised: 0,
      supported: 0,
      peer: 0,
      currSpeed: 0,
      maxSpeed: 0,
    },
  };
}

/** Leaf-spine as topologies/leafspine.py builds it: spines s1,s2 (dpid 1,2), leaves s3..s5; leaf port 1 to s1, 2 to s2, 3-4 hosts. */
export function leafSpine(opts?: DiscoveryOptions): FabricNet {
  const net = new FabricNet(opts);
  for (let i = 1; i <= 5; i++) net.addSwitch(`s${i}`, BigInt(i));
  for (let leaf = 3; leaf <= 5; leaf++) {
    net.link(`s${leaf}`, 1, 's1', leaf - 2);
    net.link(`s${leaf}`, 2, 's2', leaf - 2);
    const base = (leaf - 3) * 2;
    net.addHost(`h${base + 1}`, base + 1, `s${leaf}`, 3);
    net.addHost(`h${base + 2}`, base + 2, `s${leaf}`, 4);
  }
  return net;
}

/** A ring of 4 switches as topologies/ring.py builds it: s_i port 1 to s_{i+1} port 2; host h_i on port 3. */
export function ring4(opts?: DiscoveryOptions): FabricNet {
  const net = new FabricNet(opts);
  for (let i = 1; i <= 4; i++) net.addSwitch(`s${i}`, BigInt(i));
  for (let i = 1; i <= 4; i++) net.link(`s${i}`, 1, `s${(i % 4) + 1}`, 2);
  for (let i = 1; i <= 4; i++) net.addHost(`h${i}`, i, `s${i}`, 3);
  return net;
}
