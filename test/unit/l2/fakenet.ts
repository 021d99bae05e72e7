// A tiny simulated network for L2 tests: fake switches (FakeFlowTable), hosts
// that answer ARP and ping, links, and the L2 logic as the controller. Frames
// really travel: each switch looks the frame up in its fake table; a table-miss
// to the controller becomes a packet_in for the logic, whose flow_mods are
// applied to that switch's table and whose packet_outs are executed.
import { L2Learning } from '../../../controller/l2/learning.js';
import * as C from '../../../controller/openflow/constants.js';
import type { MessageOf, OfpMessage } from '../../../controller/openflow/types.js';
import { buildArpReplyFor, buildArpRequest, buildIcmpEchoReply, buildIcmpEchoRequest } from '../../../controller/packet/build.js';
import { parseFrame } from '../../../controller/packet/parse.js';
import { FakeFlowTable, fieldsOfFrame, physicalPorts, type FakeFlowTableOptions } from '../../support/fakeflowtable.js';

type Peer = { kind: 'host'; host: SimHost } | { kind: 'switch'; sw: SimSwitch; port: number };

export interface SimHost {
  name: string;
  mac: string;
  ip: string;
  sw: SimSwitch;
  port: number;
  arp: Map<string, string>;
  /** Every frame that reached this host's NIC (addressed to it or not). */
  received: Buffer[];
  echoReplies: number;
}

export interface SimSwitch {
  name: string;
  dpid: bigint;
  table: FakeFlowTable;
  links: Map<number, Peer>;
}

const MAX_EVENTS = 10_000;

export class FakeNet {
  readonly switches = new Map<string, SimSwitch>();
  readonly hosts = new Map<string, SimHost>();
  /** Virtual ms; advance with tick(). */
  now = 0;
  packetIns = 0;
  /** Messages the logic sent, per switch name, in order. */
  readonly sent = new Map<string, OfpMessage[]>();
  /** OFPT_ERRORs the fake switches raised (a correct app causes none). */
  readonly errors: MessageOf<'error'>[] = [];
  private readonly queue: Array<{ sw: SimSwitch; inPort: number; frame: Buffer }> = [];

  constructor(
    readonly l2: L2Learning,
    private readonly tableOpts: FakeFlowTableOptions = {},
  ) {}

  addSwitch(name: string, dpid: bigint): SimSwitch {
    const sw: SimSwitch = { name, dpid, table: new FakeFlowTable(this.tableOpts), links: new Map() };
    this.switches.set(name, sw);
    this.sent.set(name, []);
    return sw;
  }

  addHost(name: string, mac: string, ip: string, swName: string, port: number): SimHost {
    const sw = this.sw(swName);
    const h: SimHost = { name, mac, ip, sw, port, arp: new Map(), received: [], echoReplies: 0 };
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

  /** Connects every switch to the controller (switchUp), applying what it returns. */
  start(): void {
    for (const sw of this.switches.values()) this.deliver(sw, this.l2.switchUp(sw.dpid));
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

  /** Advances the clock on the controller and in every switch (flows idle out). */
  tick(ms: number): void {
    this.now += ms;
    for (const sw of this.switches.values()) sw.table.advance(ms);
    for (const [dpid, msgs] of this.l2.expire(this.now)) {
      const sw = [...this.switches.values()].find((s) => s.dpid === dpid)!;
      this.deliver(sw, msgs);
    }
  }

  /** `from` sends a frame; everything it triggers runs to quiescence. */
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

  /** Where a frame from host `from` to MAC `dstMac` goes at switch `swName` right now, without the controller. */
  whereTo(swName: string, inPort: number, srcMac: string, dstMac: string) {
    const sw = this.sw(swName);
    const r = sw.table.lookup({ in_port: inPort, eth_src: srcMac, eth_dst: dstMac, eth_type: 0x0800 });
    return { ...r, ports: physicalPorts(r.outputs, inPort, [...sw.links.keys()]) };
  }

  /** Takes a port down: the link is cut and the switch reports OFPPR_MODIFY with link down. */
  portDown(swName: string, port: number): void {
    const sw = this.sw(swName);
    sw.links.delete(port);
    const msg: MessageOf<'port_status'> = {
      type: 'port_status',
      xid: 0,
      reason: C.OFPPR_MODIFY,
      desc: {
        portNo: port,
        hwAddr: '02:00:00:00:00:ff',
        name: `${swName}-eth${port}`,
        config: 0,
        state: C.OFPPS_LINK_DOWN,
        curr: 0,
        advertised: 0,
        supported: 0,
        peer: 0,
        currSpeed: 0,
        maxSpeed: 0,
      },
    };
    this.deliver(sw, this.l2.portStatus(sw.dpid, msg));
  }

  /**
   * Moves a host to another switch port without any port-status (like a VM
   * migrating). With `announce` it then sends a gratuitous ARP, as migrated VMs
   * do; without it, nobody can know it moved until it sends something.
   */
  moveHost(name: string, swName: string, port: number, announce = false): void {
    const h = this.host(name);
    h.sw.links.delete(h.port);
    const sw = this.sw(swName);
    h.sw = sw;
    h.port = port;
    sw.links.set(port, { kind: 'host', host: h });
    if (announce) this.send(name, buildArpRequest(h.mac, h.ip, h.ip));
  }

  private deliver(sw: SimSwitch, msgs: OfpMessage[]): void {
    this.sent.get(sw.name)!.push(...msgs);
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
      if (peer === undefined) continue; // a cut link
      if (peer.kind === 'switch') this.queue.push({ sw: peer.sw, inPort: peer.port, frame });
      else this.hostReceive(peer.host, frame);
    }
  }

  private run(): void {
    for (let n = 0; this.queue.length > 0; n++) {
      if (n > MAX_EVENTS) throw new Error('frame storm: more than 10000 hops (a forwarding loop?)');
      const { sw, inPort, frame } = this.queue.shift()!;
      const r = sw.table.lookup(fieldsOfFrame(inPort, frame));
      this.forward(sw, inPort, r.outputs, frame);
      if (r.controller) {
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
        this.deliver(sw, this.l2.packetIn(this.now, sw.dpid, pi));
      }
    }
  }

  private hostReceive(h: SimHost, frame: Buffer): void {
    h.received.push(frame);
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

/** Mininet's tree,depth=2,fanout=2: s1 on top (ports 1,2 to s2,s3), h1,h2 on s2, h3,h4 on s3. */
export function tree22(l2: L2Learning, opts?: FakeFlowTableOptions): FakeNet {
  const net = new FakeNet(l2, opts);
  net.addSwitch('s1', 1n);
  net.addSwitch('s2', 2n);
  net.addSwitch('s3', 3n);
  net.link('s1', 1, 's2', 3);
  net.link('s1', 2, 's3', 3);
  for (let i = 1; i <= 4; i++) net.addHost(`h${i}`, `00:00:00:00:00:0${i}`, `10.0.0.${i}`, i <= 2 ? 's2' : 's3', i <= 2 ? i : i - 2);
  net.start();
  return net;
}
