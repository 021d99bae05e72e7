// A simulated switch + VMs for the park engine's unit tests, on virtual time.
// The switch's flow table and meters are the project's one fake switch
// (./fakeflowtable.ts, after Faucet's fakeoftable), the same the L2 tests use:
// it validates every flow_mod and meter_mod like a switch would (OXM
// prerequisites, meters that exist, §7.2.3, §7.3.4.5), forwards injected frames
// by highest-priority match, counts packets and bytes per entry and answers flow
// stats with cookie/cookie_mask (§7.3.5.2). A message the switch refuses becomes
// an OFPT_ERROR for the app (§7.4.4), as on a real switch, and is kept in
// SimSwitch.errors. VMs are FakeHypervisor domains: while running they answer ARP
// requests for their IP; save/shutdown removes their tap port and a start brings
// it back under a NEW port number, as OVS does with libvirt taps.
import type { Datapath, Msg, PortInfo } from '../../controller/app.js';
import { parseInventory } from '../../controller/inventory/index.js';
import type { Inventory } from '../../controller/inventory/types.js';
import { FakeHypervisor } from '../../controller/libvirt/fake.js';
import type { DomainState, Hypervisor } from '../../controller/libvirt/hypervisor.js';
import { createLogger } from '../../controller/log.js';
import { OFPCML_NO_BUFFER, OFPET_METER_MOD_FAILED, OFPMMFC_METER_EXISTS, OFPP_CONTROLLER, OFPP_MAX, OFPPR_ADD, OFPPR_DELETE, OFPR_ACTION } from '../../controller/openflow/constants.js';
import type { OfpMessage } from '../../controller/openflow/types.js';
import { buildArpReplyFor, buildTcpFrame } from '../../controller/packet/build.js';
import { parseFrame } from '../../controller/packet/parse.js';
import { createParkApp, type ParkApp } from '../../controller/park/app.js';
import type { ParkObserver } from '../../controller/park/observer.js';
import { VirtualClock } from '../../controller/clock.js';
import { PARK_TABLE } from '../../controller/park/flows.js';
import { MemoryStateStore, type StateStore } from '../../controller/park/store.js';
import { FakeFlowTable, FakeOfpError, fieldsOfFrame, type FakeFlow } from './fakeflowtable.js';

export type Fate =
  | { to: 'port'; port: number; cookie: bigint }
  | { to: 'controller'; cookie: bigint; consumed: boolean; meters: number[] }
  | { to: 'drop'; cookie: bigint }
  | { to: 'miss' };

/** Tables the simulated switch has (as OVS reports); the park engine uses only table 0. */
const N_TABLES = 254;

/** One simulated OpenFlow switch implementing the Datapath contract. */
export class SimSwitch implements Datapath {
  readonly idHex: string;
  readonly features: Msg<'features_reply'>;
  readonly ports = new Map<number, PortInfo>();
  connected = true;
  /** The switch's flow tables and meters: the shared fake switch. */
  readonly ft = new FakeFlowTable({ nTables: N_TABLES });
  /** Every packet-out: port and frame, in order. */
  readonly packetOuts: { port: number; data: Buffer }[] = [];
  /** Every OFPT_ERROR this switch sent back (also delivered to the app). */
  readonly errors: Msg<'error'>[] = [];
  barrierHangs = false;
  #xid = 1;
  app: ParkApp | undefined;

  constructor(
    readonly id: bigint,
    private readonly world: World,
  ) {
    this.idHex = id.toString(16).padStart(16, '0');
    this.features = { type: 'features_reply', xid: 0, datapathId: id, nBuffers: 0, nTables: N_TABLES, auxiliaryId: 0, capabilities: 0, reserved: 0 };
    this.ft.now = world.clock.now();
  }

  /** Table 0's entries, highest priority first (a snapshot: change the switch through ft or clearFlows()). */
  get table(): readonly FakeFlow[] {
    return this.ft.flows(PARK_TABLE);
  }

  /** Empties the switch's flow tables, meters kept: a switch that restarted and lost its flows. */
  clearFlows(): void {
    this.ft.clearFlows();
  }

  /** OFPT_ERRORs other than the METER_EXISTS the engine provokes on purpose (flows.ts meterAdds). */
  unexpectedErrors(): Msg<'error'>[] {
    return this.errors.filter((e) => !(e.errType === OFPET_METER_MOD_FAILED && 'code' in e && e.code === OFPMMFC_METER_EXISTS));
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
    this.sync();
    for (const m of msgs) {
      if (m.type === 'flow_mod' || m.type === 'meter_mod') {
        if (m.type === 'flow_mod' && m.tableId !== PARK_TABLE) throw new Error(`park flows live in table ${PARK_TABLE}, got a flow_mod for table ${m.tableId}`);
        // The switch refuses the message and carries on with the next (§7.4.4); the app hears of it asynchronously.
        for (const err of this.ft.apply([m])) {
          this.errors.push(err);
          queueMicrotask(() => this.connected && this.app?.error?.(this, err));
        }
      } else if (m.type === 'packet_out') this.packetOut(m);
      else throw new Error(`unexpected message ${m.type}`);
    }
  }

  /** Executes a packet-out's actions on its frame (§7.3.7) and delivers it to the physical ports they name. */
  private packetOut(m: Msg<'packet_out'>): void {
    const { in_port: _ignored, ...fields } = fieldsOfFrame(m.inPort, m.data);
    const r = this.ft.packetOut(m, fields);
    if (r.outputs.length === 0) throw new Error('packet-out without output');
    for (const o of r.outputs) {
      if (o.port > OFPP_MAX) throw new Error(`packet-out to reserved port ${o.port.toString(16)} is not modelled`);
      this.packetOuts.push({ port: o.port, data: m.data });
      this.world.deliver(this, o.port, m.data);
    }
  }

  async request(msg: OfpMessage): Promise<OfpMessage[]> {
    if (!this.connected) throw new Error('not connected');
    if (msg.type !== 'multipart_request') throw new Error(`unexpected request ${msg.type}`);
    const b = msg.body;
    if (b.mpType === 'meter_features') {
      return [{ type: 'multipart_reply', xid: msg.xid, flags: 0, body: { mpType: 'meter_features', maxMeter: 262144, bandTypes: 1, capabilities: 0, maxBands: 1, maxColor: 0 } }];
    }
    if (b.mpType !== 'flow') throw new Error(`unexpected multipart ${b.mpType}`);
    this.sync();
    try {
      return [{ type: 'multipart_reply', xid: msg.xid, flags: 0, body: { mpType: 'flow', stats: this.ft.flowStats(b) } }];
    } catch (e) {
      if (e instanceof FakeOfpError) throw new Error(`switch answered flow stats with OFPT_ERROR ${e.errType}/${e.errCode}: ${e.message}`);
      throw e;
    }
  }

  barrier(): Promise<void> {
    if (!this.connected) return Promise.reject(new Error('not connected'));
    if (this.barrierHangs) return new Promise(() => {});
    return Promise.resolve();
  }

  /** Where a frame entering on `inPort` goes now (and it really goes there: counters, packet-ins). */
  inject(inPort: number, data: Buffer): Fate {
    if (!parseFrame(data)) throw new Error('bad frame');
    this.sync();
    const r = this.ft.lookup(fieldsOfFrame(inPort, data), data.length);
    const hit = r.flows[0];
    if (r.miss || hit === undefined) return { to: 'miss' };
    if (r.outputs.length === 0) return { to: 'drop', cookie: hit.cookie };
    if (r.outputs.length > 1) throw new Error(`entry with cookie ${hit.cookie.toString(16)} outputs to ${r.outputs.length} ports; the harness models one`);
    const out = r.outputs[0]!;
    if (out.port === OFPP_CONTROLLER) {
      if (out.maxLen !== OFPCML_NO_BUFFER) throw new Error('packet-ins must be unbuffered');
      const consumed =
        this.app?.packetIn?.(this, { type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: data.length, reason: OFPR_ACTION, tableId: hit.tableId, cookie: hit.cookie, match: [{ field: 'in_port', value: inPort }], data }) === true;
      return { to: 'controller', cookie: hit.cookie, consumed, meters: r.meters };
    }
    if (out.port > OFPP_MAX) throw new Error(`output to reserved port ${out.port.toString(16)} is not modelled`);
    this.world.deliver(this, out.port, data);
    return { to: 'port', port: out.port, cookie: hit.cookie };
  }

  disconnect(): void {
    this.connected = false;
    this.app?.switchDown?.(this, 'socket-closed');
  }

  /** Brings the fake table's clock (timeouts, flow durations) to the world's virtual time. */
  private sync(): void {
    const now = this.world.clock.now();
    if (now > this.ft.now) this.ft.advance(now - this.ft.now);
  }
}

function portStatus(reason: number, portNo: number, name: string): Msg<'port_status'> {
  return { type: 'port_status', xid: 0, reason, desc: { portNo, hwAddr: '00:00:00:00:00:00', name, config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0 } };
}

/** Wraps FakeHypervisor: operations take virtual time, in-flight operations are counted, taps follow the domain's state. */
class SimHypervisor implements Hypervisor {
  inFlight = 0;
  maxInFlight = 0;
  // setMemoryHardLimit: reclaim's push of a 128 MiB TCG guest took 0.3-4.4 s on the testbed (the first push the longest).
  readonly delays: Record<string, number> = { suspend: 25, resume: 25, managedSave: 1800, start: 460, shutdown: 500, destroy: 10, setMemoryHardLimit: 200 };

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
  setMemoryHardLimit(d: string, kib: bigint | 'unlimited'): Promise<void> {
    return this.op('setMemoryHardLimit', d, () => this.fake.setMemoryHardLimit(d, kib));
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
  /** The engine's observer (metrics); a test may set it before start(). */
  observer: ParkObserver | undefined;

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
      ...(this.observer === undefined ? {} : { observer: this.observer }),
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
