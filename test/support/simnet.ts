// A simulated network of fake switches (FakeFlowTable), links and hosts that
// answer ARP and ping, for the L2 tests (test/unit/l2/fakenet.ts: the learning
// switch as controller) and the fabric tests (test/unit/topology/fabricnet.ts:
// LLDP discovery + the L2 fabric). Frames really travel: each switch looks a
// frame up in its table; a table-miss to the controller becomes a packet_in the
// subclass hands to its controller logic, whose flow_mods are applied to that
// switch's table and whose packet_outs are executed. Everything a send causes
// runs to quiescence, bounded (a forwarding loop is a "frame storm" error).
import * as C from '../../controller/openflow/constants.js';
import type { MessageOf, OfpMessage } from '../../controller/openflow/types.js';
import { buildArpReplyFor, buildArpRequest, buildIcmpEchoReply, buildIcmpEchoRequest } from '../../controller/packet/build.js';
import { parseFrame } from '../../controller/packet/parse.js';
import { FakeFlowTable, fieldsOfFrame, physicalPorts, type FakeFlowTableOptions } from './fakeflowtable.js';

export type Peer = { kind: 'host'; host: SimHost } | { kind: 'switch'; sw: SimSwitch; port: number };

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
  /** Ports cut by the test: no frames pass. */
  down: Set<number>;
  /** Whether table-misses reach the controller (a disconnected switch keeps forwarding by its flows). */
  connected: boolean;
}

export abstract class SimNet {
  readonly switches = new Map<string, SimSwitch>();
  readonly hosts = new Map<string, SimHost>();
  /** Virtual ms. */
  now = 0;
  packetIns = 0;
  /** OFPT_ERRORs the fake switches raised (a correct app causes none). */
  readonly errors: MessageOf<'error'>[] = [];
  private readonly queue: Array<{ sw: SimSwitch; inPort: number; frame: Buffer }> = [];

  /** `maxHops`: frames processed per send() before the net calls it a storm. */
  constructor(
    private readonly maxHops: number,
    private readonly tableOpts: FakeFlowTableOptions = {},
  ) {}

  /** The controller's logic for one packet-in of a connected switch. */
  protected abstract packetIn(sw: SimSwitch, pi: MessageOf<'packet_in'>): void;

  /** A frame crossed a switch-to-switch link (counters). */
  protected onLinkFrame(_frame: Buffer): void {}

  /** `connected`: whether the switch starts connected to the controller. */
  protected newSwitch(name: string, dpid: bigint, connected: boolean): SimSwitch {
    const sw: SimSwitch = { name, dpid, table: new FakeFlowTable(this.tableOpts), links: new Map(), down: new Set(), connected };
    this.switches.set(name, sw);
    return sw;
  }

  protected attachHost(name: string, mac: string, ip: string, swName: string, port: number): SimHost {
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

  /** Every ordered host pair; the pairs that failed. */
  pingall(seq = 1): string[] {
    const failed: string[] = [];
    for (const a of this.hosts.keys()) for (const b of this.hosts.keys()) if (a !== b && !this.ping(a, b, seq)) failed.push(`${a}->${b}`);
    return failed;
  }

  /** Applies the controller's messages to a switch: flow and meter mods to its table, packet-outs sent. */
  protected deliver(sw: SimSwitch, msgs: OfpMessage[]): void {
    this.errors.push(...sw.table.apply(msgs));
    for (const m of msgs) {
      if (m.type !== 'packet_out') continue;
      const r = sw.table.packetOut(m, fieldsOfFrame(m.inPort, m.data));
      this.forward(sw, m.inPort, r.outputs, m.data);
    }
  }

  /** Runs the queued frames to quiescence. */
  protected run(): void {
    for (let n = 0; this.queue.length > 0; n++) {
      if (n > this.maxHops) throw new Error(`frame storm: more than ${this.maxHops} hops (a forwarding loop?)`);
      const { sw, inPort, frame } = this.queue.shift()!;
      const r = sw.table.lookup(fieldsOfFrame(inPort, frame));
      this.forward(sw, inPort, r.outputs, frame);
      if (r.controller && sw.connected) {
        this.packetIns++;
        this.packetIn(sw, {
          type: 'packet_in',
          xid: 0,
          bufferId: C.OFP_NO_BUFFER,
          totalLen: frame.length,
          reason: C.OFPR_NO_MATCH,
          tableId: 0,
          cookie: r.flows.at(-1)?.cookie ?? 0xffff_ffff_ffff_ffffn,
          match: [{ field: 'in_port', value: inPort }],
          data: frame,
        });
      }
    }
  }

  private forward(sw: SimSwitch, inPort: number, outputs: Parameters<typeof physicalPorts>[0], frame: Buffer): void {
    for (const p of physicalPorts(outputs, inPort, [...sw.links.keys()])) {
      const peer = sw.links.get(p);
      if (peer === undefined || sw.down.has(p)) continue; // a cut link
      if (peer.kind === 'switch') {
        this.onLinkFrame(frame);
        this.queue.push({ sw: peer.sw, inPort: peer.port, frame });
      } else this.hostReceive(peer.host, frame);
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

/** A PORT_STATUS (OFPPR_MODIFY) for `port` of switch `swName`, link up or down. */
export function portStatusMsg(swName: string, port: number, up: boolean): MessageOf<'port_status'> {
  return {
    type: 'port_status',
    xid: 0,
    reason: C.OFPPR_MODIFY,
    desc: {
      portNo: port,
      hwAddr: '02:00:00:00:00:ff',
      name: `${swName}-eth${port}`,
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
