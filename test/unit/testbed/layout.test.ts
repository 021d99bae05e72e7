// The testbed's layout of an inventory (test/support/testbed.ts): which Mininet
// port each host lands on, single switch and fabric mode, and the fabric
// inventory topologies/fabric-testbed.yaml as the fabric e2e and demo use it.
import test from 'ava';
import { parse, stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { loadInventory, parseInventory } from '../../../controller/inventory/index.js';
import { leafSpineLinks, testbedLayout, TestbedError } from '../../support/testbed.js';

const FABRIC = 'topologies/fabric-testbed.yaml';

test('the single-switch testbed inventory: hosts and the sink on s1-eth1..3, no links', async (t) => {
  const inv = await loadInventory('topologies/testbed.yaml');
  t.deepEqual(testbedLayout(inv, []).map((h) => [h.name, h.switch, h.idx]), [['h1', 's1', 1], ['mon', 's1', 2], ['sink1', 's1', 3]]);
});

test('the fabric inventory: spines s1, s2, leaves s3 (hv1: vm1), s4 (hv2: vm2), s5 (h1, mon, sink1), libvirt over TLS', async (t) => {
  const inv = await loadInventory(FABRIC, { fabric: true });
  t.deepEqual(inv.switches.map((s) => s.name), ['s1', 's2', 's3', 's4', 's5']);
  t.deepEqual(inv.vms.map((v) => [v.name, v.hypervisor, v.libvirt.uri, v.switch, v.depth]), [
    ['vm1', 'hv1', 'qemu+tls://localhost/system', 's3', 'pause'],
    ['vm2', 'hv2', 'qemu+tls://127.0.0.1/system', 's4', 'pause'],
  ]);
  const links = leafSpineLinks(inv, ['s1', 's2']);
  t.deepEqual(links, [['s3', 's1'], ['s3', 's2'], ['s4', 's1'], ['s4', 's2'], ['s5', 's1'], ['s5', 's2']]);
  // Two uplinks first on every leaf: s5's hosts start at port 3.
  t.deepEqual(testbedLayout(inv, links).map((h) => [h.name, h.switch, h.idx]), [['h1', 's5', 3], ['mon', 's5', 4], ['sink1', 's5', 5]]);
});

test('fabric mode refuses what Mininet would lay out differently, naming the host, link or spine', async (t) => {
  const inv = await loadInventory(FABRIC, { fabric: true });
  const links = leafSpineLinks(inv, ['s1', 's2']);
  t.throws(() => testbedLayout(inv, []), { instanceOf: TestbedError, message: /5 switches: fabric mode needs their links/ });
  t.throws(() => testbedLayout(inv, [...links, ['s5', 's9']]), { instanceOf: TestbedError, message: /link s5-s9/ });
  t.throws(() => leafSpineLinks(inv, ['s1', 's7']), { instanceOf: TestbedError, message: /spine s7/ });
  // h1 on s5-eth1: on the testbed that port is the uplink to s1.
  const raw = parse(readFileSync(FABRIC, 'utf8')) as Record<string, any>;
  raw['hosts'][0].port = 's5-eth1';
  const clash = parseInventory(stringify(raw), 'x.yaml', { fabric: true });
  t.throws(() => testbedLayout(clash, links), { instanceOf: TestbedError, message: /host h1: ports on s5 must be s5-eth3\.\.5 without gaps \(2 switch links come first\), got s5-eth1/ });
});
