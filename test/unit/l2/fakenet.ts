// A tiny simulated network for L2 tests (test/support/simnet.ts) with the L2
// learning logic as the controller: its flow_mods are applied to the switch's
// fake table and its packet_outs executed; every message it sent is kept.
import { L2Learning } from '../../../controller/l2/learning.js';
import type { MessageOf, OfpMessage } from '../../../controller/openflow/types.js';
import { buildArpRequest } from '../../../controller/packet/build.js';
import { physicalPorts, type FakeFlowTableOptions } from '../../support/fakeflowtable.js';
import { SimNet, portStatusMsg, type SimHost, type SimSwitch } from '../../support/simnet.js';

export type { SimHost, SimSwitch };

export class FakeNet extends SimNet {
  /** Messages the logic sent, per switch name, in order. */
  readonly sent = new Map<string, OfpMessage[]>();

  constructor(
    readonly l2: L2Learning,
    tableOpts: FakeFlowTableOptions = {},
  ) {
    super(10_000, tableOpts);
  }

  addSwitch(name: string, dpid: bigint): SimSwitch {
    this.sent.set(name, []);
    return this.newSwitch(name, dpid, true);
  }

  addHost(name: string, mac: string, ip: string, swName: string, port: number): SimHost {
    return this.attachHost(name, mac, ip, swName, port);
  }

  /** Connects every switch to the controller (switchUp), applying what it returns. */
  start(): void {
    for (const sw of this.switches.values()) this.deliver(sw, this.l2.switchUp(sw.dpid));
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
    this.deliver(sw, this.l2.portStatus(sw.dpid, portStatusMsg(swName, port, false)));
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

  protected override packetIn(sw: SimSwitch, pi: MessageOf<'packet_in'>): void {
    this.deliver(sw, this.l2.packetIn(this.now, sw.dpid, pi));
  }

  protected override deliver(sw: SimSwitch, msgs: OfpMessage[]): void {
    this.sent.get(sw.name)!.push(...msgs);
    super.deliver(sw, msgs);
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
