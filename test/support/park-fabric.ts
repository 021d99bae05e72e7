// A simulated leaf-spine fabric for the park engine's fabric-mode unit tests, on
// virtual time: several fake switches (the project's FakeFlowTable, as in
// ./park-world.ts), cables between them, hosts and VM taps on edge ports, one
// FakeHypervisor per hypervisor host, and a real TopologyGraph the test feeds
// with the switches and links (as LLDP discovery would). Frames really travel:
// each switch looks the frame up in its own table, a link output enters the
// peer switch, a controller output is a packet-in for the park app. There is no
// L2 fabric: a table miss is a drop, so what reaches a host was put there by the
// park engine's entries or packet-outs. Every message the engine sends, and every
// barrier, is recorded in one ordered wire log (make-before-break checks).
import type { Datapath, Msg, PortInfo } from '../../controller/app.js';
import { VirtualClock } from '../../controller/clock.js';
import { parseInventory } from '../../controller/inventory/index.js';
import type { Inventory } from '../../controller/inventory/types.js';
import { FakeHypervisor } from '../../controller/libvirt/fake.js';
import { createLogger } from '../../controller/log.js';
import { OFPCML_NO_BUFFER, OFPP_CONTROLLER, OFPP_MAX, OFPPR_ADD, OFPPR_DELETE, OFPR_ACTION } from '../../controller/openflow/constants.js';
import type { OfpMessage } from '../../controller/openflow/types.js';
import { buildArpReplyFor, buildTcpFrame } from '../../controller/packet/build.js';
import { parseFrame } from '../../controller/packet/parse.js';
import { createParkApp, type ParkApp } from '../../controller/park/app.js';
import { PARK_TABLE } from '../../controller/park/flows.js';
import { MemoryStateStore, type StateStore } from '../../controller/park/store.js';
import { TopologyGraph } from '../../controller/topology/graph.js';
import { FakeFlowTable, fieldsOfFrame, type FakeFlow } from './fakeflowtable.js';

/** One entry of the wire log: a message sent to a switch, a barrier request, or its reply. */
export type WireEntry =
  | { readonly sw: string; readonly kind: 'msg'; readonly msg: OfpMessage }
  | { readonly sw: string; readonly kind: 'barrier' }
  | { readonly sw: string; readonly kind: 'barrier_reply' };

/** Where a frame went: each (switch, in port) it entered, and how it ended. */
export interface Trace {
  readonly hops: string[];
  end: 'host' | 'vm' | 'controller' | 'drop' | 'miss' | 'loop';
  /** The host or VM that received it. */
  to?: string;
}

type Peer = { kind: 'link'; sw: FabricSwitch; port: number } | { kind: 'host'; name: string } | { kind: 'vm'; name: string };

export class FabricSwitch implements Datapath {
  readonly idHex: string;
  readonly features: Msg<'features_reply'>;
  readonly ports = new Map<number, PortInfo>();
  readonly peers = new Map<number, Peer>();
  readonly ft = new FakeFlowTable({ nTables: 254 });
  connected = true;
  /** While true, barrier replies wait until release(). */
  holdBarriers = false;
  private readonly held: Array<() => void> = [];
  #xid = 1;

  constructor(
    readonly name: string,
    readonly id: bigint,
    private readonly net: FabricWorld,
  ) {
    this.idHex = id.toString(16).padStart(16, '0');
    this.features = { type: 'features_reply', xid: 0, datapathId: id, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0, reserved: 0 };
  }

  get table(): readonly FakeFlow[] {
    return this.ft.flows(PARK_TABLE);
  }

  nextXid(): number {
    return this.#xid++;
  }

  send(...msgs: OfpMessage[]): void {
    if (!this.connected) throw new Error(`send on disconnected ${this.name}`);
    for (const m of msgs) {
      this.net.wire.push({ sw: this.name, kind: 'msg', msg: m });
      if (m.type === 'flow_mod' || m.type === 'meter_mod') {
        const errs = this.ft.apply([m]);
        if (errs.length > 0) this.net.errors.push(...errs.map((e) => `${this.name}: ${e.errType}/${'code' in e ? e.code : ''}`));
      } else if (m.type === 'packet_out') {
        const { in_port: _ignored, ...fields } = fieldsOfFrame(m.inPort, m.data);
        const r = this.ft.packetOut(m, fields);
        for (const o of r.outputs) {
          if (o.port > OFPP_MAX) throw new Error(`packet-out to reserved port ${o.port} not modelled`);
          this.net.packetOuts.push({ sw: this.name, port: o.port, data: m.data });
          this.net.out(this, o.port, m.data, { hops: [], end: 'drop' });
        }
      } else throw new Error(`unexpected message ${m.type}`);
    }
  }

  async request(msg: OfpMessage): Promise<OfpMessage[]> {
    if (msg.type !== 'multipart_request') throw new Error(`unexpected request ${msg.type}`);
    const b = msg.body;
    if (b.mpType === 'meter_features') {
      return [{ type: 'multipart_reply', xid: msg.xid, flags: 0, body: { mpType: 'meter_features', maxMeter: 262144, bandTypes: 1, capabilities: 0, maxBands: 1, maxColor: 0 } }];
    }
    if (b.mpType !== 'flow') throw new Error(`unexpected multipart ${b.mpType}`);
    return [{ type: 'multipart_reply', xid: msg.xid, flags: 0, body: { mpType: 'flow', stats: this.ft.flowStats(b) } }];
  }

  barrier(): Promise<void> {
    this.net.wire.push({ sw: this.name, kind: 'barrier' });
    return new Promise((resolve) => {
      const reply = (): void => {
        this.net.wire.push({ sw: this.name, kind: 'barrier_reply' });
        resolve();
      };
      if (this.holdBarriers) this.held.push(reply);
      else reply();
    });
  }

  /** Replies to the barriers held so far. */
  release(): void {
    this.holdBarriers = false;
    for (const r of this.held.splice(0)) r();
  }

  addPort(portNo: number, name: string, peer: Peer): void {
    this.ports.set(portNo, { portNo, name, hwAddr: '02:00:00:00:00:00', up: true });
    this.peers.set(portNo, peer);
  }
}

export interface HostAt {
  readonly name: string;
  readonly mac: string;
  readonly ip: string;
  readonly received: Buffer[];
}

/**
 * The leaf-spine of topologies/ (2 spines s1, s2; 3 leaves s3, s4, s5, each on
 * both spines): leaf port 1 to s1, port 2 to s2; spine port N to leaf sN+2.
 * Edge ports of a leaf start at 10.
 */
export class FabricWorld {
  readonly clock = new VirtualClock(1_000_000);
  readonly inv: Inventory;
  readonly switches = new Map<string, FabricSwitch>();
  readonly graph = new TopologyGraph({ classifyMs: 100, linkTimeoutMs: 3_600_000 });
  readonly hosts = new Map<string, HostAt>();
  /** Per libvirt URI: that host's hypervisor. */
  readonly hvs = new Map<string, FakeHypervisor>();
  readonly wire: WireEntry[] = [];
  readonly packetOuts: { sw: string; port: number; data: Buffer }[] = [];
  /** Packet-ins the engine got: switch and port. */
  readonly packetIns: { sw: string; port: number }[] = [];
  readonly errors: string[] = [];
  readonly logs: string[] = [];
  /** Frames each VM received through its tap (while it ran). */
  readonly vmReceived = new Map<string, Buffer[]>();
  store: StateStore = new MemoryStateStore();
  app!: ParkApp;
  fabric = true;

  constructor(yaml: string) {
    this.inv = parseInventory(yaml, 'fabric.yaml', { fabric: true });
    for (const s of this.inv.switches) this.switches.set(s.name, new FabricSwitch(s.name, s.dpid, this));
    const link = (a: string, pa: number, b: string, pb: number): void => {
      const sa = this.sw(a);
      const sb = this.sw(b);
      sa.addPort(pa, `${a}-eth${pa}`, { kind: 'link', sw: sb, port: pb });
      sb.addPort(pb, `${b}-eth${pb}`, { kind: 'link', sw: sa, port: pa });
    };
    for (const leaf of ['s3', 's4', 's5']) {
      if (!this.switches.has(leaf)) continue;
      const n = Number(leaf.slice(1)) - 2;
      link(leaf, 1, 's1', n);
      link(leaf, 2, 's2', n);
    }
    for (const v of this.inv.vms) {
      const h = this.hv(v.libvirt.uri);
      h.define(v.libvirt.domain);
    }
  }

  sw(name: string): FabricSwitch {
    const s = this.switches.get(name);
    if (!s) throw new Error(`no switch ${name}`);
    return s;
  }

  swOf(dpid: bigint): FabricSwitch {
    return [...this.switches.values()].find((s) => s.id === dpid)!;
  }

  hv(uri: string): FakeHypervisor {
    let h = this.hvs.get(uri);
    if (!h) this.hvs.set(uri, (h = new FakeHypervisor({ now: () => this.clock.now() })));
    return h;
  }

  addHost(name: string, mac: string, ip: string, sw: string, port: number): HostAt {
    const h: HostAt = { name, mac, ip, received: [] };
    this.hosts.set(name, h);
    this.sw(sw).addPort(port, `${sw}-eth${port}`, { kind: 'host', name });
    return h;
  }

  /** Plugs VM `name`'s tap (port name `tap`) into `sw` at `port`; announced with PORT_STATUS when the app runs. */
  plugVm(name: string, sw: string, port: number, tap = this.inv.vms.find((v) => v.name === name)!.port): void {
    const s = this.sw(sw);
    s.addPort(port, tap, { kind: 'vm', name });
    if (this.app !== undefined && s.connected) {
      this.graph.portStatus(this.clock.now(), s.id, port, true, false);
      this.app.portStatus!(s, portStatus(OFPPR_ADD, port, tap));
    }
  }

  unplug(sw: string, port: number): void {
    const s = this.sw(sw);
    const p = s.ports.get(port);
    if (!p) return;
    s.ports.delete(port);
    s.peers.delete(port);
    this.graph.portStatus(this.clock.now(), s.id, port, false, true);
    this.app.portStatus!(s, portStatus(OFPPR_DELETE, port, p.name));
  }

  /** Cuts the cable on (sw, port): both ends go down (PORT_STATUS to the graph). */
  cut(sw: string, port: number): void {
    const s = this.sw(sw);
    const peer = s.peers.get(port);
    if (peer?.kind !== 'link') throw new Error(`${sw}:${port} is not a link`);
    s.peers.delete(port);
    peer.sw.peers.delete(peer.port);
    this.graph.portStatus(this.clock.now(), s.id, port, false, false);
    this.graph.portStatus(this.clock.now(), peer.sw.id, peer.port, false, false);
  }

  /** Creates the park app (fabric mode unless `fabric` was set false), connects every switch, discovers the links. */
  async start(): Promise<void> {
    this.app = createParkApp({
      inventory: this.inv,
      hypervisors: (uri) => this.hv(uri),
      clock: this.clock,
      store: this.store,
      ...(this.fabric ? { fabric: true, topology: this.graph } : {}),
      log: createLogger({ level: 'debug', format: 'text', sink: (line) => this.logs.push(line), now: () => this.clock.now() }),
    });
    await this.app.ready;
    const now = this.clock.now();
    for (const s of this.switches.values()) this.graph.switchUp(now, s.id, s.ports.values());
    // LLDP: every cable seen from both ends.
    for (const s of this.switches.values()) {
      for (const [port, p] of s.peers) if (p.kind === 'link') this.graph.probeReceived(now, { dpid: s.id, port }, p.sw.id, p.port);
    }
    for (const s of this.switches.values()) await this.app.switchUp!(s);
    await this.advance(this.graph.classifyMs + 1);
  }

  /** Advances virtual time; the graph classifies edge ports as discovery's tick would. */
  async advance(ms: number): Promise<void> {
    await this.clock.advance(ms);
    this.graph.tick(this.clock.now());
    await this.clock.advance(0);
  }

  /** Sends `frame` into switch `sw` on `port` (from whatever is plugged there) and follows it. */
  inject(sw: string, port: number, frame: Buffer): Trace {
    const t: Trace = { hops: [], end: 'drop' };
    this.enter(this.sw(sw), port, frame, t);
    return t;
  }

  private enter(s: FabricSwitch, inPort: number, data: Buffer, t: Trace): void {
    if (t.hops.length > 16) {
      t.end = 'loop';
      return;
    }
    t.hops.push(`${s.name}:${inPort}`);
    const r = s.ft.lookup(fieldsOfFrame(inPort, data), data.length);
    if (r.miss) {
      t.end = 'miss';
      return;
    }
    if (r.outputs.length === 0) {
      t.end = 'drop';
      return;
    }
    for (const o of r.outputs) {
      if (o.port === OFPP_CONTROLLER) {
        if (o.maxLen !== OFPCML_NO_BUFFER) throw new Error('packet-ins must be unbuffered');
        t.end = 'controller';
        this.packetIns.push({ sw: s.name, port: inPort });
        const hit = r.flows[0]!;
        this.app.packetIn!(s, { type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: data.length, reason: OFPR_ACTION, tableId: hit.tableId, cookie: hit.cookie, match: [{ field: 'in_port', value: inPort }], data });
      } else this.out(s, o.port, data, t);
    }
  }

  /** A frame leaves `s` through `port`: into the next switch, a host or a VM. */
  out(s: FabricSwitch, port: number, data: Buffer, t: Trace): void {
    const peer = s.peers.get(port);
    if (peer === undefined) return;
    if (peer.kind === 'link') {
      this.enter(peer.sw, peer.port, data, t);
      return;
    }
    if (peer.kind === 'host') {
      t.end = 'host';
      t.to = peer.name;
      this.hosts.get(peer.name)!.received.push(data);
      return;
    }
    t.end = 'vm';
    t.to = peer.name;
    this.toVm(peer.name, s, port, data);
  }

  /** A running VM gets the frame and answers ARP for its IP and TCP SYNs, like a Linux guest. */
  private toVm(name: string, s: FabricSwitch, port: number, data: Buffer): void {
    const v = this.inv.vms.find((x) => x.name === name)!;
    const running = [...this.hvs.values()].some((h) => h.peek(v.libvirt.domain)?.state === 'running');
    if (!running) return;
    this.vmReceived.set(name, [...(this.vmReceived.get(name) ?? []), data]);
    const f = parseFrame(data);
    let reply = buildArpReplyFor(data, v.mac, v.ip);
    if (!reply && f?.tcp && f.ipv4?.dst === v.ip && (f.tcp.flags & 0x12) === 0x02) {
      reply = buildTcpFrame({ ethSrc: v.mac, ethDst: f.src, src: v.ip, dst: f.ipv4.src, srcPort: f.tcp.dst, dstPort: f.tcp.src, flags: 0x12, seq: 1000 });
    }
    if (reply) {
      const r = reply;
      queueMicrotask(() => s.connected && s.peers.get(port)?.kind === 'vm' && this.enter(s, port, r, { hops: [], end: 'drop' }));
    }
  }

  status(name: string) {
    return this.app.status().find((s) => s.name === name)!;
  }

  vm(name: string) {
    return this.inv.vms.find((v) => v.name === name)!;
  }
}

function portStatus(reason: number, portNo: number, name: string): Msg<'port_status'> {
  return { type: 'port_status', xid: 0, reason, desc: { portNo, hwAddr: '02:00:00:00:00:00', name, config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0 } };
}
