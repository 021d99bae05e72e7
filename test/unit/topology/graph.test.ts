import test from 'ava';
import type { PortInfo } from '../../../controller/app.js';
import { TopologyConfigError, TopologyGraph, type TopologyChange } from '../../../controller/topology/graph.js';

const ports = (...nos: number[]): PortInfo[] => nos.map((n) => ({ portNo: n, name: `p${n}`, hwAddr: '02:00:00:00:00:01', up: true }));

function square(): { g: TopologyGraph; changes: TopologyChange[] } {
  const g = new TopologyGraph({ classifyMs: 100, linkTimeoutMs: 300 });
  const changes: TopologyChange[] = [];
  g.onChange((c) => changes.push(c));
  for (const d of [1n, 2n, 3n, 4n]) g.switchUp(0, d, ports(1, 2, 3, 0xfffffffe));
  // 1:1-2:2, 2:1-3:2, 3:1-4:2, 4:1-1:2 (a ring), and a parallel 1:3-2:3.
  g.probeReceived(0, { dpid: 1n, port: 1 }, 2n, 2);
  g.probeReceived(0, { dpid: 2n, port: 1 }, 3n, 2);
  g.probeReceived(0, { dpid: 3n, port: 1 }, 4n, 2);
  g.probeReceived(0, { dpid: 4n, port: 1 }, 1n, 2);
  g.probeReceived(0, { dpid: 2n, port: 3 }, 1n, 3);
  return { g, changes };
}

test('graph: links are listed once, lower end first, and the LOCAL port is never a port', (t) => {
  const { g } = square();
  t.deepEqual(g.links().map((l) => `${l.a.dpid}:${l.a.port}-${l.b.dpid}:${l.b.port}`), ['1:1-2:2', '1:2-4:1', '1:3-2:3', '2:1-3:2', '3:1-4:2']);
  t.deepEqual(g.ports(1n), [1, 2, 3]);
  t.deepEqual(g.peer(2n, 2), { dpid: 1n, port: 1 });
});

test('graph: shortest paths and a deterministic tree; a parallel link is off the tree', (t) => {
  const { g } = square();
  t.deepEqual(g.path(1n, 3n), [{ dpid: 1n, outPort: 1 }, { dpid: 2n, outPort: 1 }]);
  t.deepEqual(g.path(1n, 1n), []);
  t.is(g.path(1n, 9n), undefined);
  t.deepEqual([...g.treePorts(1n)].sort(), [1, 2]);
  t.false(g.treePorts(2n).has(3), 'the parallel link 1:3-2:3');
  t.deepEqual([...g.treePorts(3n)], [2]);
  t.deepEqual([...g.treePorts(4n)], [1]);
});

test('graph: ports are pending until classifyMs passes without a probe, then edge', (t) => {
  const g = new TopologyGraph({ classifyMs: 100, linkTimeoutMs: 300 });
  g.switchUp(0, 1n, ports(1, 2));
  t.is(g.portClass(1n, 1), 'pending');
  g.tick(99);
  t.is(g.portClass(1n, 1), 'pending');
  g.tick(100);
  t.true(g.isEdgePort(1n, 1));
  g.portStatus(150, 1n, 1, false, false);
  t.is(g.portClass(1n, 1), 'down');
  g.portStatus(160, 1n, 1, true, false);
  t.is(g.portClass(1n, 1), 'pending', 'back up: classified again from scratch');
  g.portStatus(170, 1n, 2, false, true);
  t.deepEqual(g.ports(1n), [1]);
});

test('graph: port down, port delete, switch down and timeouts each take the link, with a reason', (t) => {
  const { g, changes } = square();
  const downs = () => changes.filter((c) => c.kind === 'link-down').map((c) => (c.kind === 'link-down' ? c.reason : ''));
  g.portStatus(10, 2n, 2, false, false);
  g.portStatus(10, 3n, 2, false, true);
  g.switchDown(4n);
  t.deepEqual(downs(), ['port-down', 'port-deleted', 'switch-down', 'switch-down']);
  t.deepEqual(g.links().map((l) => `${l.a.dpid}:${l.a.port}-${l.b.dpid}:${l.b.port}`), ['1:3-2:3']);
  g.tick(250);
  t.is(g.links().length, 1);
  g.tick(301);
  t.is(g.links().length, 0);
  t.is(downs().at(-1), 'lldp-timeout');
  t.is(g.portClass(1n, 3), 'pending', 'a port that had a link never becomes an edge port by waiting');
  g.tick(10_000);
  t.is(g.portClass(1n, 3), 'pending');
});

test('graph: a probe for a port that is down, or from a switch not up, makes no link', (t) => {
  const g = new TopologyGraph();
  g.switchUp(0, 1n, ports(1));
  t.false(g.probeReceived(0, { dpid: 2n, port: 1 }, 1n, 1));
  g.switchUp(0, 2n, ports(1));
  g.portStatus(0, 2n, 1, false, false);
  t.false(g.probeReceived(0, { dpid: 2n, port: 1 }, 1n, 1));
  t.deepEqual(g.links(), []);
});

test('graph: a re-cabled port drops its old link', (t) => {
  const { g, changes } = square();
  g.probeReceived(5, { dpid: 3n, port: 3 }, 1n, 1); // 1:1 now faces 3:3
  t.true(changes.some((c) => c.kind === 'link-down' && c.reason === 'moved'));
  t.deepEqual(g.peer(1n, 1), { dpid: 3n, port: 3 });
  t.is(g.peer(2n, 2), undefined);
});

test('graph: bad options are refused, naming the option', (t) => {
  t.throws(() => new TopologyGraph({ classifyMs: 0 }), { instanceOf: TopologyConfigError, message: /classifyMs/ });
  t.throws(() => new TopologyGraph({ linkTimeoutMs: 1.5 }), { instanceOf: TopologyConfigError, message: /linkTimeoutMs/ });
});

test('graph: a declared host port (a VM tap) is an edge port as soon as it is up; a probe on it still makes a link', (t) => {
  const g = new TopologyGraph({ classifyMs: 100, linkTimeoutMs: 300, hostPorts: (name) => name.endsWith('-tap') });
  const changes: TopologyChange[] = [];
  g.onChange((c) => changes.push(c));
  g.switchUp(0, 1n, [...ports(1, 2), { portNo: 3, name: 'vm1-tap', hwAddr: '02:00:00:00:00:03', up: true }]);
  t.is(g.portClass(1n, 3), 'edge', 'a tap present at connect');
  t.is(g.portClass(1n, 1), 'pending', 'an undeclared port still waits');
  t.deepEqual(changes.at(-1), { kind: 'ports', dpid: 1n, ports: [3] });
  // A VM restored or migrated here: its tap is added by PORT_STATUS.
  g.portStatus(10, 1n, 7, true, false, 'vm2-tap');
  t.is(g.portClass(1n, 7), 'edge', 'a tap added later');
  t.deepEqual(changes.at(-1), { kind: 'ports', dpid: 1n, ports: [7] });
  g.portStatus(10, 1n, 8, true, false, 'p8');
  t.is(g.portClass(1n, 8), 'pending');
  // Misdeclared (a switch is behind it): our probe arriving there makes it a link port.
  g.switchUp(0, 2n, ports(1));
  t.true(g.probeReceived(20, { dpid: 2n, port: 1 }, 1n, 3));
  t.is(g.portClass(1n, 3), 'link');
});
