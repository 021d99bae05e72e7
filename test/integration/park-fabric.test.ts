// Park and wake across a real fabric (issue 12 item 4): Mininet leaf-spine (2
// spines, 3 leaves, 2 hosts each; OVS userspace datapath), seamless's topology,
// park (fabric mode) and fabric L2 apps in this process, and
// controller/libvirt/fake.ts as the hypervisor. Mininet host h1 (on leaf s3)
// plays the VM: it has the VM's MAC and IP and answers ARP like a guest. The
// client is h5 on leaf s5 (two hops away), the sink h4 on leaf s4.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseControllerArgs } from '../../controller/cli/controller-cmd.js';
import { startController } from '../../controller/daemon.js';
import { parseInventory } from '../../controller/inventory/index.js';
import { createFabricL2App } from '../../controller/l2/fabric-app.js';
import { FakeHypervisor } from '../../controller/libvirt/fake.js';
import { createLogger } from '../../controller/log.js';
import { createParkApp } from '../../controller/park/app.js';
import { systemClock } from '../../controller/clock.js';
import { createTopologyApp } from '../../controller/topology/app.js';
import { Fabric, until } from '../support/fabric.js';
import { ofctl } from '../support/ovs.js';

// Leaf-spine port numbers (topologies/leafspine.py): leaf ports 1, 2 to spines s1, s2; hosts on 3, 4.
const INVENTORY = `
park: { probeInterval: 50ms, pollInterval: 1s, meterRate: 0 }
defaults: { idleTimeout: 1h, minActive: 0s, wakeTimeout: 10s }
switches: [{ name: s1, dpid: 1 }, { name: s2, dpid: 2 }, { name: s3, dpid: 3 }, { name: s4, dpid: 4 }, { name: s5, dpid: 5 }]
sinks: [{ name: k1, switch: s4, port: s4-eth4, mac: "00:00:00:00:00:04", ip: 10.0.0.4 }]
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "00:00:00:00:00:01", ip: 10.0.0.1, switch: s3, port: s3-eth3, depth: pause, sink: k1, ignore: [{ udpDst: 9999 }] }
`;

/** Sum of n_packets of the flows of `sw` whose text matches every pattern. */
async function packets(sw: string, ...patterns: RegExp[]): Promise<number> {
  const flows = (await ofctl('dump-flows', sw)).split('\n');
  return flows.filter((l) => patterns.every((p) => p.test(l))).reduce((n, l) => n + Number(/n_packets=(\d+)/.exec(l)?.[1] ?? 0), 0);
}

test.serial('leaf-spine: ARP answered at the client leaf, ignored traffic reaches the sink on another leaf, a wake caught at the client leaf', async (t) => {
  t.timeout(600_000); // the machine-wide Mininet lock may be held by another run for minutes
  const dir = await mkdtemp(join(tmpdir(), 'seamless-park-fabric-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const log = createLogger({ level: 'info', format: 'text', sink: (l) => lines.push(l) });
  const fake = new FakeHypervisor().define('d1');
  const topology = createTopologyApp({ log: log.child({ app: 'topology' }), clock: systemClock });
  const park = createParkApp({ inventory: parseInventory(INVENTORY, 'fabric.yaml', { fabric: true }), hypervisors: () => fake, clock: systemClock, fabric: true, topology: topology.graph, log: log.child({ app: 'park' }) });
  // Where the park engine's packet-ins entered.
  const ins: string[] = [];
  const pin = park.packetIn!.bind(park);
  park.packetIn = (dp, m) => {
    const consumed = pin(dp, m);
    if (consumed) ins.push(dp.idHex.slice(-1));
    return consumed;
  };
  const l2 = createFabricL2App({ log: log.child({ app: 'l2' }), topology: topology.graph, clock: systemClock });
  const ctl = await startController({ listen: parseControllerArgs(['--listen', '127.0.0.1:0']).listen, apps: [topology, park, l2], log });
  t.teardown(() => ctl.stop());
  const net = await Fabric.start(t, { topology: 'topologies/leafspine.py', topo: 'leafspine', controllerPort: ctl.address.port, timeoutMs: 540_000 });
  const g = topology.graph;
  const settled = await until(() => g.links().length === 6 && g.dpids().length === 5 && g.dpids().every((d) => g.ports(d).every((p) => g.portClass(d, p) === 'edge' || g.portClass(d, p) === 'link')), 20_000);
  t.true(settled, `discovery settled: ${g.links().length}/6 links`);
  await park.ready;
  const status = () => park.status().find((s) => s.name === 'vm1')!;
  t.true(await until(() => status().phase === 'active', 10_000), `vm1 is ${status().phase}`);

  park.parkNow('vm1');
  t.true(await until(() => status().phase === 'parked', 10_000), `vm1 is ${status().phase}`);
  t.is(fake.peek('d1')?.state, 'paused');

  // ARP from h5 (leaf s5) for the parked VM: answered by the controller at s5.
  const arping = await net.run('h5', ['arping', '-c', '1', '-w', '3', '-I', 'h5-eth0', '10.0.0.1']);
  t.regex(arping, /00:00:00:00:00:01/i, arping);
  t.true((await packets('s5', /arp_tpa=10\.0\.0\.1/)) >= 1, 'the ARP request was caught at the client leaf');
  t.is(await packets('s3', /arp_tpa=10\.0\.0\.1/), 0, 'not at the VM leaf');
  t.true(ins.includes('5'));
  t.is(status().counters.arpAnswered, 1);

  // Ignored traffic (UDP 9999) from h5: forwarded hop by hop to the sink h4 on leaf s4.
  const sinkRx = async () => Number((await net.run('h4', ['cat', '/sys/class/net/h4-eth0/statistics/rx_packets'])).trim());
  const rx0 = await sinkRx();
  await net.run('h5', ['/usr/bin/python3', '-c', "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); [s.sendto(b'x', ('10.0.0.1', 9999)) for _ in range(5)]"]);
  await new Promise((r) => setTimeout(r, 300));
  t.is(await packets('s5', /udp,.*tp_dst=9999/, /actions=output:"?s5-eth1"?|actions=output:1\b/), 5, 'out of s5 toward s1');
  t.is(await packets('s1', /udp,.*tp_dst=9999/), 5, 'through spine s1');
  t.is(await packets('s4', /udp,.*tp_dst=9999/, /actions=output:"?s4-eth4"?|actions=output:4\b/), 5, 'out of the sink port on s4');
  t.true((await sinkRx()) - rx0 >= 5, 'the sink host received them');
  t.is(status().phase, 'parked', 'ignored traffic does not wake');

  // A TCP SYN from h5 wakes it: caught at s5, resumed, the VM (h1) answers the probe on s3.
  const n = ins.length;
  await net.run('h5', ['/usr/bin/python3', '-c', "import socket\ns=socket.socket()\ns.settimeout(3)\ntry:\n  s.connect(('10.0.0.1', 80))\nexcept OSError:\n  pass"]);
  t.true(await until(() => status().phase === 'active', 10_000), `vm1 is ${status().phase}`);
  t.is(fake.callsOf('resume', 'd1').length, 1);
  t.is(ins[n], '5', 'the wake packet-in came from the client leaf');
  t.like(status(), { dpid: 3n, portNo: 3 });
  t.deepEqual(lines.filter((l) => l.includes('rejected')), [], 'no switch rejected any of our messages');
});
