// A simulated switch + VMs for the park engine's unit tests, on virtual time.
// The switch keeps a table-0 flow table (ADD replaces identical match+priority,
// DELETE by cookie/cookie_mask, OF 1.3.5 §6.4), forwards injected frames by
// highest-priority match, counts packets per entry and answers barriers and
// flow stats. VMs are FakeHypervisor domains: while running they answer ARP
// requests for their IP; save/shutdown removes their tap port and a start brings
// it back under a NEW port number, as OVS does with libvirt taps.
import type { Datapath, Msg, PortInfo } from '../../../controller/app.js';
import { parseInventory } from '../../../controller/inventory/index.js';
import type { Inventory } from '../../../controller/inventory/types.js';
import { FakeHypervisor } from '../../../controller/libvirt/fake.js';
import type { DomainState, Hypervisor } from '../../../controller/libvirt/hypervisor.js';
import { createLogger } from '../../../controller/log.js';
import { OFPCML_NO_BUFFER, OFPFC_ADD, OFPFC_DELETE, OFPP_CONTROLLER, OFPPR_ADD, OFPPR_DELETE } from '../../../controller/openflow/constants.js';
import type { FlowStats, Instruction, Match, OfpMessage } from '../../../controller/openflow/types.js';
import { buildArpReplyFor, buildTcpFrame } from '../../../controller/packet/build.js';
import { parseFrame, type ParsedFrame } from '../../../controller/packet/parse.js';
import { createParkApp, type ParkApp } from '../../../controller/park/app.js';
import { VirtualClock } from '../../../controller/clock.js';
import { MemoryStateStore, type StateStore } from '../../../controller/park/store.js';

type FlowMod = Msg<'flow_mod'>;

interface Entry {
  cookie: bigint;
  priority: number;
  match: Match;
  instructions: Instruction[];
  packets: bigint;
}

export type Fate =
  | { to: 'port'; port: number; cookie: bigint }
  | { to: 'controller'; cookie: bigint; consumed: boolean }
  | { to: 'drop'; cookie: bigint }
  | { to: 'miss' };

function fieldValue(f: ParsedFrame, inPort: number, field: string): unknown {
  switch (field) {
    case 'in_port':
      return inPort;
    case 'eth_dst':
      return f.dst;
    case 'eth_src':
      return f.src;
    case 'eth_type':
      return f.ethType;
    case 'arp_op':
      return f.arp?.op;
    case 'arp_spa':
      return f.arp?.spa;
    case 'arp_tpa':
      return f.arp?.tpa;
    case 'ip_proto':
      return f.ipv4?.proto;
    case 'ipv4_src':
      return f.ipv4?.src;
    case 'ipv4_dst':
      return f.ipv4?.dst;
    case 'tcp_src':
      return f.tcp?.src;
    case 'tcp_dst':
      return f.tcp?.dst;
    case 'udp_dst':
      return f.udp?.dst;
    case 'icmpv4_type':
      return f.icmp?.type;
    default:
      throw new Error(`harness cannot match on ${field}`);
  }
}

function matches(m: Match, f: ParsedFrame, inPort: number): boolean {
  return m.every((o) => o.field !== 'unknown' && o.mask === undefined && fieldValue(f, inPort, o.field) === o.value);
}

function sameMatch(a: Match, b: Match): boolean {
  const key = (m: Match) => JSON.stringify(m.map((o) => (o.field === 'unknown' ? 'u' : `${o.field}=${String(o.value)}`)).sort());
  return key(a) === key(b);
}

/** One simulated OpenFlow switch implementing the Datapath contract. */
export class SimSwitch implements Datapath {
  readonly idHex: string;
  readonly features: Msg<'features_reply'>;
  readonly ports = new Map<number, PortInfo>();
  connected = true;
  readonly table: Entry[] = [];
  /** Every packet-out: port and frame, in order. */
  readonly packetOuts: { port: number; data: Buffer }[] = [];
  readonly meters = new Map<number, number>();
  barrierHangs = false;
  #xid = 1;
  app: ParkApp | undefined;

  constructor(
    readonly id: bigint,
    private readonly world: World,
  ) {
    this.idHex = id.toString(16).padStart(16, '0');
    this.features = { type: 'features_reply', xid: 0, datapathId: id, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0, reserved: 0 };
  }

  nextXid(): number {
    return this.#xid++;
  }

  addPort(portNo: number, name: string): void {
    this.ports.set(portNo, { portNo, name, hwAddr: '00:00:00:00:00:00', up: true });
    if (this.connected) this.app?.portStatus?.(this, portStatus(OFPPR_ADD, portNo, name));
  }

  removePort(portNo: number): void {
    const p = this.ports.get(portNo);
    if (!p) return;
    this.ports.delete(portNo);
    if (this.connected) this.app?.portStatus?.(this, portStatus(OFPPR_DELETE, portNo, p.name));
  }

  send(...msgs: OfpMessage[]): void {
    if (!this.connected) throw new Error('send on a disconnected switch');
    for (const m of msgs) {
      if (m.type === 'flow_mod') this.flowMod(m);
      else if (m.type === 'packet_out') {
        const out = m.actions.find((a) => a.type === 'output');
        if (out?.type !== 'output') throw new Error('packet-out without output');
        this.packetOuts.push({ port: out.port, data: m.data });
        this.world.deliver(this, out.port, m.data);
      } else if (m.type === 'meter_mod') this.meters.set(m.meterId, m.bands[0]?.type === 'drop' ? m.bands[0].rate : -1);
      else throw new Error(`unexpected message ${m.type}`);
    }
  }

  private flowMod(m: FlowMod): void {
    if (m.tableId !== 0) throw new Error('park flows live in table 0');
    if (m.command === OFPFC_ADD) {
      const i = this.table.findIndex((e) => e.priority === m.priority && sameMatch(e.match, m.match));
      const entry: Entry = { cookie: m.cookie, priority: m.priority, match: m.match, instructions: m.instructions, packets: i >= 0 ? this.table[i]!.packets : 0n };
      if (i >= 0) this.table[i] = entry;
      else this.table.push(entry);
      for (const ins of m.instructions) if (ins.type === 'meter' && !this.meters.has(ins.meterId)) throw new Error(`flow uses unknown meter ${ins.meterId}`);
    } else if (m.command === OFPFC_DELETE) {
      if (m.match.length !== 0) throw new Error('harness supports cookie-only deletes');
      for (let i = this.table.length - 1; i >= 0; i--) if ((this.table[i]!.cookie & m.cookieMask) === (m.cookie & m.cookieMask)) this.table.splice(i, 1);
    } else throw new Error(`unexpected flow_mod command ${m.command}`);
  }

  async request(msg: OfpMessage): Promise<OfpMessage[]> {
    if (!this.connected) throw new Error('not connected');
    if (msg.type !== 'multipart_request') throw new Error(`unexpected request ${msg.type}`);
    const b = msg.body;
    if (b.mpType === 'meter_features') {
      return [{ type: 'multipart_reply', xid: msg.xid, flags: 0, body: { mpType: 'meter_features', maxMeter: 262144, bandTypes: 1, capabilities: 0, maxBands: 1, maxColor: 0 } }];
    }
    if (b.mpType !== 'flow') throw new Error(`unexpected multipart ${b.mpType}`);
    const stats: FlowStats[] = this.table
      .filter((e) => (e.cookie & b.cookieMask) === (b.cookie & b.cookieMask))
      .map((e) => ({ tableId: 0, durationSec: 0, durationNsec: 0, priority: e.priority, idleTimeout: 0, hardTimeout: 0, flags: 0, cookie: e.cookie, packetCount: e.packets, byteCount: 0n, match: e.match, instructions: e.instructions }));
    return [{ type: 'multipart_reply', xid: msg.xid, flags: 0, body: { mpType: 'flow', stats } }];
  }

  barrier(): Promise<void> {
    if (!this.connected) return Promise.reject(new Error('not connected'));
    if (this.barrierHangs) return new Promise(() => {});
    return Promise.resolve();
  }

  /** Where a frame entering on `inPort` goes now (and it really goes there: counters, packet-ins). */
  inject(inPort: number, data: Buffer): Fate {
    const f = parseFrame(data);
    if (!f) throw new Error('bad frame');
    let best: Entry | undefined;
    for (const e of this.table) if (matches(e.match, f, inPort) && (!best || e.priority > best.priority)) best = e;
    if (!best) return { to: 'miss' };
    best.packets++;
    const actions = best.instructions.flatMap((i) => (i.type === 'apply_actions' ? i.actions : []));
    const out = actions.find((a) => a.type === 'output');
    if (out?.type !== 'output') return { to: 'drop', cookie: best.cookie };
    if (out.port === OFPP_CONTROLLER) {
      if (out.maxLen !== OFPCML_NO_BUFFER) throw new Error('packet-ins must be unbuffered');
      const consumed = this.app?.packetIn?.(this, { type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: data.length, reason: 1, tableId: 0, cookie: best.cookie, match: [{ field: 'in_port', value: inPort }], data }) === true;
      return { to: 'controller', cookie: best.cookie, consumed };
    }
    this.world.deliver(this, out.port, data);
    return { to: 'port', port: out.port, cookie: best.cookie };
  }

  disconnect(): void {
    this.connected = false;
    this.app?.switchDown?.(this, 'socket-closed');
  }
}

function portStatus(reason: number, portNo: number, name: string): Msg<'port_status'> {
  return { type: 'port_status', xid: 0, reason, desc: { portNo, hwAddr: '00:00:00:00:00:00', name, config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0 } };
}

/** Wraps FakeHypervisor: operations take virtual time, in-flight operations are counted, taps follow the domain's state. */
class SimHypervisor implements Hypervisor {
  inFlight = 0;
  maxInFlight = 0;
  readonly delays: Record<string, number> = { suspend: 25, resume: 25, managedSave: 1800, start: 460, shutdown: 500, destroy: 10 };

  constructor(
    readonly fake: FakeHypervisor,
    private readonly world: World,
  ) {}

  getState(d: string): Promise<DomainState> {
    return this.fake.getState(d);
  }
  suspend(d: string): Promise<void> {
    return this.op('suspend', d, () => this.fake.suspend(d));
  }
  resume(d: string): Promise<void> {
    return this.op('resume', d, () => this.fake.resume(d));
  }
  managedSave(d: string): Promise<void> {
    return this.op('managedSave', d, () => this.fake.managedSave(d));
  }
  start(d: string): Promise<void> {
    return this.op('start', d, () => this.fake.start(d));
  }
  shutdown(d: string): Promise<void> {
    return this.op('shutdown', d, () => this.fake.shutdown(d));
  }
  destroy(d: string): Promise<void> {
    return this.op('destroy', d, () => this.fake.destroy(d));
  }
  onLifecycle(cb: (domain: string, event: string, detail: string) => void): () => void {
    return this.fake.onLifecycle(cb);
  }
  onConnection(cb: () => void): () => void {
    return this.fake.onConnection(cb);
  }
  async close(): Promise<void> {}

  private async op(name: string, domain: string, body: () => Promise<void>): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise<void>((r) => this.world.clock.setTimer(r, this.delays[name] ?? 0));
      await body();
      this.world.domainChanged(domain);
    } finally {
      this.inFlight--;
    }
  }
}

export const HOST = { mac: '00:00:00:00:00:01', ip: '10.0.0.1', port: 1 };
export const MONITOR = { mac: '00:00:00:00:00:fa', ip: '10.0.0.250', port: 2 };

/** Switch s1 with the engine, a client on port 1, a monitor on 2, a sink on 3, VMs from port 10 up. */
export class World {
  readonly clock = new VirtualClock(1_000_000);
  readonly fake = new FakeHypervisor({ now: () => this.clock.now() });
  readonly hv: SimHypervisor;
  readonly sw: SimSwitch;
  /** The engine's store; a test may replace it before start(). */
  store: StateStore = new MemoryStateStore();
  readonly inv: Inventory;
  app!: ParkApp;
  /** Frames delivered to each port, in order. */
  readonly delivered = new Map<number, Buffer[]>();
  /** Domain -> current tap port number. */
  readonly taps = new Map<string, number>();
  nextPort = 10;
  /** VMs that do not answer ARP although running (network not up yet). */
  readonly deaf = new Set<string>();
  /**
   * TCP ports of a VM that nothing listens on yet (a cold-booted guest whose
   * services have not started): a SYN to them is answered with RST. Every other
   * SYN to a running VM is answered with SYN-ACK, like a Linux guest.
   */
  readonly closedPorts = new Map<string, Set<number>>();
  readonly logs: string[] = [];

  constructor(yaml: string) {
    this.inv = parseInventory(yaml, 'test.yaml');
    this.hv = new SimHypervisor(this.fake, this);
    this.sw = new SimSwitch(1n, this);
    this.sw.ports.set(1, { portNo: 1, name: 's1-eth1', hwAddr: HOST.mac, up: true });
    this.sw.ports.set(2, { portNo: 2, name: 's1-eth2', hwAddr: MONITOR.mac, up: true });
    this.sw.ports.set(3, { portNo: 3, name: 's1-eth3', hwAddr: '00:00:00:00:00:fe', up: true });
    for (const v of this.inv.vms) {
      this.fake.define(v.libvirt.domain);
      const p = this.nextPort++;
      this.taps.set(v.libvirt.domain, p);
      this.sw.ports.set(p, { portNo: p, name: v.port, hwAddr: v.mac, up: true });
    }
  }

  /** Creates the app (on this world's clock/store) and connects the switch. */
  async start(): Promise<void> {
    this.app = createParkApp({
      inventory: this.inv,
      hypervisors: () => this.hv,
      clock: this.clock,
      store: this.store,
      log: createLogger({ level: 'debug', format: 'text', sink: (line) => this.logs.push(line), now: () => this.clock.now() }),
    });
    this.sw.app = this.app;
    await this.app.ready;
    await this.reconnect();
  }

  async reconnect(): Promise<void> {
    this.sw.connected = true;
    await this.app.switchUp!(this.sw);
    await this.clock.advance(0);
  }

  vm(name: string) {
    return this.inv.vms.find((v) => v.name === name)!;
  }

  portOf(name: string): number | undefined {
    return this.taps.get(this.vm(name).libvirt.domain);
  }

  status(name: string) {
    return this.app.status().find((s) => s.name === name)!;
  }

  /** Frames that reached a VM's tap (through flows or packet-outs) while it ran. */
  receivedBy(name: string): Buffer[] {
    const p = this.portOf(name);
    return p === undefined ? [] : (this.delivered.get(p) ?? []);
  }

  deliver(sw: SimSwitch, port: number, data: Buffer): void {
    const list = this.delivered.get(port) ?? [];
    list.push(data);
    this.delivered.set(port, list);
    // A running VM answers ARP requests for its IP, like a Linux guest.
    const v = this.inv.vms.find((x) => this.taps.get(x.libvirt.domain) === port);
    if (!v || this.fake.peek(v.libvirt.domain)?.state !== 'running' || this.deaf.has(v.name)) return;
    const reply = buildArpReplyFor(data, v.mac, v.ip) ?? this.tcpAnswer(v, data);
    if (reply) queueMicrotask(() => sw.connected && sw.inject(port, reply));
  }

  /** A running guest's kernel answer to a TCP SYN for its IP: SYN-ACK when the port listens, else RST. */
  private tcpAnswer(v: Inventory['vms'][number], data: Buffer): Buffer | undefined {
    const f = parseFrame(data);
    if (!f?.tcp || !f.ipv4 || f.ipv4.dst !== v.ip || (f.tcp.flags & 0x12) !== 0x02) return undefined;
    const closed = this.closedPorts.get(v.name)?.has(f.tcp.dst) === true;
    return buildTcpFrame({ ethSrc: v.mac, ethDst: f.src, src: v.ip, dst: f.ipv4.src, srcPort: f.tcp.dst, dstPort: f.tcp.src, flags: closed ? 0x14 : 0x12, seq: 1000 });
  }

  /** Keeps the tap ports in step with the domain: gone while shut off, back under a new number on start. */
  domainChanged(domain: string): void {
    const st = this.fake.peek(domain)!;
    const v = this.inv.vms.find((x) => x.libvirt.domain === domain)!;
    const cur = this.taps.get(domain);
    if (st.state === 'shutoff' && cur !== undefined) {
      this.taps.delete(domain);
      this.sw.removePort(cur);
    } else if ((st.state === 'running' || st.state === 'paused') && cur === undefined) {
      const p = this.nextPort++;
      this.taps.set(domain, p);
      this.sw.addPort(p, v.port);
    }
  }
}
