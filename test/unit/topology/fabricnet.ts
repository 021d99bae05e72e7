// A simulated multi-switch network for the topology and L2-fabric tests
// (test/support/simnet.ts): links that may form loops, and the controller's pure
// logic (Discovery + L2Fabric on one TopologyGraph). Frames really travel, LLDP
// probes included: a probe packet-out crosses its link, hits the LLDP flow of
// the far switch and comes back as a packet-in. Every frame on a
// switch-to-switch link is counted, so a test can bound the traffic a flood
// caused (a loop would exhaust MAX_HOPS).
import type { PortInfo } from '../../../controller/app.js';
import { L2Fabric } from '../../../controller/l2/fabric.js';
import type { MessageOf, OfpMessage } from '../../../controller/openflow/types.js';
import { Discovery, type DiscoveryOptions } from '../../../controller/topology/discovery.js';
import { SimNet, portStatusMsg, type SimHost, type SimSwitch } from '../../support/simnet.js';

export type { SimHost, SimSwitch };

/** Hops processed per send() before the net calls it a storm. */
const MAX_HOPS = 5000;

export class FabricNet extends SimNet {
  readonly discovery: Discovery;
  readonly fabric: L2Fabric;
  /** Frames that crossed a switch-to-switch link (either direction), LLDP included. */
  linkFrames = 0;
  /** The same, LLDP excluded. */
  linkDataFrames = 0;
  private sinceProbe = 0;

  constructor(opts: DiscoveryOptions = {}) {
    super(MAX_HOPS);
    this.discovery = new Discovery({ controllerId: 'test', ...opts });
    this.fabric = new L2Fabric(this.discovery.graph, { idleTimeoutSec: 60 });
    this.discovery.graph.onChange((c) => this.deliverAll(this.fabric.topologyChanged(c)));
  }

  /** A switch, not connected to the controller until connect()/start(). */
  addSwitch(name: string, dpid: bigint): SimSwitch {
    return this.newSwitch(name, dpid, false);
  }

  /** Host `n`: MAC 00:00:00:00:00:<n hex>, IP 10.0.0.<n>, as Mininet's autoSetMacs gives them. */
  addHost(name: string, n: number, swName: string, port: number): SimHost {
    const hex = n.toString(16).padStart(2, '0');
    return this.attachHost(name, `00:00:00:00:00:${hex}`, `10.0.0.${n}`, swName, port);
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
        if (sw.connected) this.deliver(sw, this.discovery.portStatus(this.now, sw.dpid, portStatusMsg(sw.name, port, up)));
      }
    }
    this.run();
  }

  protected override onLinkFrame(frame: Buffer): void {
    this.linkFrames++;
    if (frame.readUInt16BE(12) !== 0x88cc) this.linkDataFrames++;
  }

  protected override packetIn(sw: SimSwitch, pi: MessageOf<'packet_in'>): void {
    if (this.discovery.packetIn(this.now, sw.dpid, pi) === undefined) this.deliverAll(this.fabric.packetIn(this.now, sw.dpid, pi));
  }

  private deliverAll(res: Map<bigint, OfpMessage[]>): void {
    for (const [dpid, msgs] of res) {
      const sw = [...this.switches.values()].find((s) => s.dpid === dpid);
      if (sw !== undefined && sw.connected) this.deliver(sw, msgs);
    }
  }

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
