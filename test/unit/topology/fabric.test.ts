// Discovery and the L2 fabric together on simulated looped topologies
// (fabricnet.ts): links found by LLDP, pingall with no storm, re-convergence.
import test from 'ava';
import { buildArpRequest } from '../../../controller/packet/build.js';
import { leafSpine, ring4, type FabricNet } from './fabricnet.js';

const fmt = (net: FabricNet) => net.discovery.graph.links().map((l) => `${l.a.dpid}:${l.a.port}-${l.b.dpid}:${l.b.port}`);

/** Connects every switch and lets two probe rounds and the classification time pass. */
function converge(net: FabricNet): void {
  net.start();
  net.tick(3000);
}

test('leaf-spine: LLDP finds exactly the six leaf-spine links, hosts ports are edge ports', (t) => {
  const net = leafSpine();
  converge(net);
  t.deepEqual(fmt(net), ['1:1-3:1', '1:2-4:1', '1:3-5:1', '2:1-3:2', '2:2-4:2', '2:3-5:2']);
  const g = net.discovery.graph;
  for (let leaf = 3n; leaf <= 5n; leaf++) {
    t.true(g.isEdgePort(leaf, 3));
    t.true(g.isEdgePort(leaf, 4));
    t.is(g.portClass(leaf, 1), 'link');
  }
  t.is(net.discovery.counters.foreign, 0);
  t.deepEqual(net.errors, []);
});

test('ring: the spanning tree leaves exactly one ring link out, on both ends', (t) => {
  const net = ring4();
  converge(net);
  t.is(net.discovery.graph.links().length, 4);
  const g = net.discovery.graph;
  const treeEnds = [1n, 2n, 3n, 4n].reduce((n, d) => n + g.treePorts(d).size, 0);
  t.is(treeEnds, 6, '3 tree links, 2 ends each');
  // Root s1 (lowest dpid): s1-s2 via s1:1, s1-s4 via s1:2, then s2-s3 via s2:1; s3-s4 is off the tree.
  t.deepEqual([...g.treePorts(3n)], [2]);
  t.deepEqual([...g.treePorts(4n)], [1]);
});

for (const [name, make] of [['leaf-spine', leafSpine], ['ring', ring4]] as const) {
  test(`${name}: pingall passes with bounded link traffic (no storm)`, (t) => {
    const net = make();
    converge(net);
    const before = net.linkDataFrames;
    t.deepEqual(net.pingall(), []);
    const hosts = net.hosts.size;
    const links = net.discovery.graph.links().length;
    // Each ARP broadcast crosses each tree link once (n_switches - 1 <= links); each
    // other packet (ARP reply, echo, reply) crosses at most the diameter (<= 4 links
    // here). Bound: per ordered pair, one broadcast plus 3 unicasts.
    const bound = hosts * (hosts - 1) * (links + 3 * 4);
    const used = net.linkDataFrames - before;
    t.log(`${name}: ${used} data frames on inter-switch links for ${hosts * (hosts - 1)} pairs (bound ${bound})`);
    t.true(used <= bound, `${used} > ${bound}`);
    t.deepEqual(net.errors, []);
  });
}

test('nothing is flooded before LLDP classified the ports (looped ring, right after connect)', (t) => {
  const net = ring4();
  net.start();
  net.tick(500); // one probe round at most: host ports still pending
  const before = net.linkDataFrames;
  t.false(net.ping('h1', 'h3'));
  t.is(net.linkDataFrames - before, 0, 'the ARP broadcast was blocked on a pending port');
  t.true(net.fabric.counters.blocked > 0);
  net.tick(3000);
  t.true(net.ping('h1', 'h3'));
});

test('known unicast takes a shortest path (two links across the spine, never three)', (t) => {
  const net = leafSpine();
  converge(net);
  t.true(net.ping('h1', 'h6'));
  const before = net.linkDataFrames;
  t.true(net.ping('h1', 'h6', 2));
  t.is(net.linkDataFrames - before, 4, 'echo and reply, two links each, through the installed flows');
  const path = net.discovery.graph.path(3n, 5n);
  t.deepEqual(path, [{ dpid: 3n, outPort: 1 }, { dpid: 1n, outPort: 3 }]);
});

test('a spine link cut: paths are flushed, traffic re-converges over the other spine, no storm', (t) => {
  const net = leafSpine();
  converge(net);
  t.deepEqual(net.pingall(), []);
  net.setLink('s3', 's1', false);
  t.false(fmt(net).includes('1:1-3:1'));
  const before = net.linkDataFrames;
  t.true(net.ping('h1', 'h6', 3), 'h1 (on s3) still reaches h6 (on s5) through s2');
  t.true(net.ping('h5', 'h2', 3));
  t.true(net.linkDataFrames - before < 40);
  t.true(net.fabric.counters.flushes >= 1);
  t.deepEqual(net.discovery.graph.path(3n, 5n), [{ dpid: 3n, outPort: 2 }, { dpid: 2n, outPort: 3 }]);
  // Back up: the link is found again by the next probe and used.
  net.setLink('s3', 's1', true);
  net.tick(1000);
  t.true(fmt(net).includes('1:1-3:1'));
  t.deepEqual(net.pingall(4), []);
});

test('ring: cutting a tree link moves the tree onto the spare link', (t) => {
  const net = ring4();
  converge(net);
  t.deepEqual(net.pingall(), []);
  net.setLink('s1', 's2', false);
  t.deepEqual(net.pingall(2), []);
  t.is(net.discovery.graph.links().length, 3);
  t.true(net.discovery.graph.treePorts(3n).has(2) && net.discovery.graph.treePorts(4n).has(1), 's3-s4 is on the tree now');
});

test('a switch that disconnects: its links go, the rest re-converge (leaf-spine spine loss)', (t) => {
  const net = leafSpine();
  converge(net);
  t.deepEqual(net.pingall(), []);
  net.disconnect('s1');
  // s1 keeps its flows (fail-secure) but gets no packet-ins: the graph routes around it.
  t.is(net.discovery.graph.links().length, 3);
  // A leaf port towards the lost spine stays blocked (pending), never an edge port.
  net.tick(5000);
  t.is(net.discovery.graph.portClass(3n, 1), 'pending');
  t.deepEqual(net.pingall(2), []);
});

test('LLDP timeout: a link whose probes stop goes down after linkTimeoutMs', (t) => {
  const net = ring4();
  converge(net);
  // Probes between s1 and s2 stop, both ways, while the ports stay up (a filtering middlebox).
  const s1 = net.sw('s1');
  const s2 = net.sw('s2');
  const peer1 = s1.links.get(1)!;
  const peer2 = s2.links.get(2)!;
  s1.links.delete(1);
  s2.links.delete(2);
  net.tick(2000);
  t.is(net.discovery.graph.links().length, 4, 'one lost probe round is tolerated');
  net.tick(2500);
  t.is(net.discovery.graph.links().length, 3);
  t.is(net.discovery.graph.portClass(1n, 1), 'pending', 'the port is blocked, not an edge port');
  s1.links.set(1, peer1);
  s2.links.set(2, peer2);
  net.tick(1000);
  t.is(net.discovery.graph.links().length, 4);
});

test('foreign LLDP (another controller id) never becomes a link', (t) => {
  const a = ring4({ controllerId: 'aaa' });
  converge(a);
  // Feed s2 a probe from another controller on port 2: counted as foreign, nothing else.
  const other = leafSpine({ controllerId: 'bbb' });
  const before = a.discovery.graph.links().length;
  const probe = other.discovery.switchUp(0, 1n, other.ports(other.sw('s1'))).find((m) => m.type === 'packet_out');
  t.truthy(probe);
  a.send('h2', probe!.type === 'packet_out' ? probe!.data : Buffer.alloc(0));
  t.is(a.discovery.graph.links().length, before);
  t.is(a.discovery.counters.foreign, 1);
  t.is(a.discovery.graph.portClass(2n, 3), 'edge');
});

for (const [name, make, switches] of [['leaf-spine', leafSpine, 5], ['ring', ring4, 4]] as const) {
  test(`${name}: one broadcast crosses each spanning-tree link exactly once and reaches every host once`, (t) => {
    const net = make();
    converge(net);
    const got = [...net.hosts.values()].map((h) => h.received.length);
    const before = net.linkDataFrames;
    net.send('h1', buildArpRequest(net.host('h1').mac, net.host('h1').ip, '10.0.0.99'));
    t.is(net.linkDataFrames - before, switches - 1);
    const now = [...net.hosts.values()].map((h) => h.received.length);
    t.deepEqual(now.map((n, i) => n - got[i]!), [...net.hosts.keys()].map((h) => (h === 'h1' ? 0 : 1)));
  });
}
