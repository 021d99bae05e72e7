import test from 'ava';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InventoryError, loadInventory, parseDuration, parseInventory, DurationError } from '../../../controller/inventory/index.js';

const BASE = `
switches: [{ name: s1, dpid: 1 }, { name: s2, dpid: "00:00:00:00:00:00:00:02" }]
sinks: [{ name: k1, switch: s1, port: 3, mac: "00:00:00:00:00:fe", ip: 10.0.0.254 }]
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap }
`;

function issuesOf(text: string, file = 'topologies/x.yaml'): string[] {
  try {
    parseInventory(text, file);
  } catch (e) {
    if (e instanceof InventoryError) {
      return [...e.issues];
    }
    throw e;
  }
  throw new Error('expected an InventoryError');
}

test('durations: seconds, ms, s, m, h; bad input is a typed error', (t) => {
  t.is(parseDuration(30), 30_000);
  t.is(parseDuration(0.5), 500);
  t.is(parseDuration('30'), 30_000);
  t.is(parseDuration('500ms'), 500);
  t.is(parseDuration('30s'), 30_000);
  t.is(parseDuration('2m'), 120_000);
  t.is(parseDuration('1h'), 3_600_000);
  for (const bad of ['', '2 minutes', '-1s', 'm', '1d']) {
    const e = t.throws(() => parseDuration(bad), { instanceOf: DurationError });
    t.is(e?.code, 'ERR_BAD_DURATION');
  }
  t.throws(() => parseDuration(-1), { instanceOf: DurationError });
});

test('the testbed inventory loads with defaults applied', async (t) => {
  const inv = await loadInventory('topologies/testbed.yaml');
  t.deepEqual(inv.switches, [{ name: 's1', dpid: 1n }]);
  t.is(inv.vms.length, 2);
  const [vm1, vm2] = inv.vms;
  t.like(vm1, { name: 'vm1', ip: '10.0.0.11', mac: '52:54:00:00:00:11', port: 'vm1-tap', depth: 'pause', dpid: 1n, idleTimeoutMs: 120_000, minActiveMs: 30_000, sink: 'sink1', maxHeld: 64 });
  t.deepEqual(vm1!.gatewayPorts, [22, 80]);
  t.deepEqual(vm1!.ignore, [{ src: '10.0.0.250' }]);
  t.is(vm2!.depth, 'save');
  t.like(inv.park, { probeIntervalMs: 15, probeIp: '10.0.0.253', maxConcurrentOps: 4, wakeRetries: 3, retryBackoffMs: 1000 });
  t.deepEqual(inv.sinks[0], { name: 'sink1', switch: 's1', dpid: 1n, port: 's1-eth3', mac: '00:00:00:00:00:fe', ip: '10.0.0.254' });
  t.is(inv.hosts.find((h) => h.name === 'mon')?.ip, '10.0.0.250');
});

test('JSON inventories are accepted; dpid formats parse', (t) => {
  const inv = parseInventory(
    JSON.stringify({ switches: [{ name: 'a', dpid: '0x1f' }, { name: 'b', dpid: '000000000000002a' }], vms: [] }),
    'inv.json',
  );
  t.deepEqual(inv.switches.map((s) => s.dpid), [0x1fn, 0x2an]);
  t.is(parseInventory(BASE, 'x.yaml').switches[1]!.dpid, 2n);
});

test('a bad MAC names file and field', (t) => {
  const e = t.throws(() => parseInventory(BASE.replace('52:54:00:00:00:11', '52:54:zz'), 'topologies/x.yaml'), { instanceOf: InventoryError });
  t.is(e?.code, 'ERR_INVENTORY');
  t.is(e?.message, 'topologies/x.yaml: vms[0].mac: "52:54:zz" is not a MAC address');
});

test('unknown keys, bad IPs, bad durations, missing fields', (t) => {
  const text = `
switches: [{ name: s1, dpid: 1, colour: red }]
defaults: { idleTimeout: "2 minutes" }
vms:
  - { name: vm1, libvirt: { uri: u, domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.300, switch: s1 }
extra: 1
`;
  const issues = issuesOf(text);
  t.true(issues.includes('switches[0].colour: unknown key'), issues.join('\n'));
  t.true(issues.includes('extra: unknown key'), issues.join('\n'));
  t.true(issues.includes('vms[0].ip: "10.0.0.300" is not an IPv4 address'), issues.join('\n'));
  t.true(issues.includes('vms[0].port: required'), issues.join('\n'));
  t.true(issues.some((i) => i.startsWith('defaults.idleTimeout: "2 minutes" is not a duration')), issues.join('\n'));
});

test('duplicates and unknown references', (t) => {
  const text = `
switches: [{ name: s1, dpid: 1 }, { name: s2, dpid: 1 }]
sinks: [{ name: k2, switch: s2, port: 3, mac: "00:00:00:00:00:fe", ip: 10.0.0.254 }]
vms:
  - { name: vm1, libvirt: { uri: u, domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: t1, sink: k2 }
  - { name: vm1, libvirt: { uri: u, domain: d2 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s9, port: t2, sink: nope }
  - { name: vm3, libvirt: { uri: u, domain: d3 }, mac: "52:54:00:00:00:13", ip: 10.0.0.13, switch: s1, port: t3, ignore: [{ src: 10.0.0.250 }] }
`;
  const issues = issuesOf(text);
  const want = [
    'switches[1].dpid: duplicate dpid 0x1 (also switches[0].dpid)',
    'vms[1].name: duplicate name vm1 (also vms[0].name)',
    'vms[1].mac: duplicate MAC 52:54:00:00:00:11 (also vms[0].mac)',
    'vms[1].ip: duplicate IP 10.0.0.11 (also vms[0].ip)',
    'vms[1].switch: unknown switch "s9"',
    'vms[1].sink: unknown sink "nope"',
    'vms[0].sink: sink "k2" is on switch s2, not on the VM\'s switch s1',
    'vms[2].ignore: ignored traffic needs a sink (set vms[2].sink or defaults.sink)',
  ];
  for (const w of want) t.true(issues.includes(w), `missing "${w}" in:\n${issues.join('\n')}`);
});

test('ignore rules need a field; depth is an enum', (t) => {
  const issues = issuesOf(BASE.replace('port: vm1-tap }', 'port: vm1-tap, sink: k1, depth: hibernate, ignore: [{}] }'));
  t.true(issues.some((i) => i.startsWith('vms[0].depth: ')), issues.join('\n'));
  t.true(issues.includes('vms[0].ignore[0]: an ignore rule needs src, tcpDst or udpDst'), issues.join('\n'));
});

test('YAML syntax errors and unreadable files are InventoryErrors', async (t) => {
  const issues = issuesOf('vms: [unclosed', 'bad.yaml');
  t.true(issues[0]!.startsWith('invalid YAML'), issues.join('\n'));
  const dir = await mkdtemp(join(tmpdir(), 'inv-'));
  try {
    const f = join(dir, 'inv.json');
    await writeFile(f, '{"switches": [], "vms": []');
    const e = await t.throwsAsync(loadInventory(f), { instanceOf: InventoryError });
    t.true(e!.message.startsWith(`${f}: invalid JSON`));
    await t.throwsAsync(loadInventory(join(dir, 'missing.yaml')), { instanceOf: InventoryError, message: /cannot read/ });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('depth shutdown with gateway ports needs a probe address to send the TCP readiness probe from', (t) => {
  const shut = BASE.replace('port: vm1-tap }', 'port: vm1-tap, depth: shutdown, gatewayPorts: [80] }');
  t.deepEqual(issuesOf(shut), [
    "vms[0].depth: shutdown with gatewayPorts needs park.probeIp set to a free address on the VM's subnet (the TCP readiness probe comes from it)",
  ]);
  t.notThrows(() => parseInventory(`park: { probeIp: 10.0.0.253 }\n${shut}`, 'x.yaml'));
  // Without gateway ports any packet wakes it and ARP is the readiness signal: no probe address needed.
  t.notThrows(() => parseInventory(BASE.replace('port: vm1-tap }', 'port: vm1-tap, depth: shutdown }'), 'x.yaml'));
});
