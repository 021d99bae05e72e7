// Inventory hardening (issue 8, items 10-13): unreadable kinds of files, wrong
// types named as such, duration ranges, addresses no station can own, and
// settings that contradict each other. Each message names the field.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InventoryError, loadInventory, parseInventory } from '../../../controller/inventory/index.js';
import { MAX_INVENTORY_BYTES } from '../../../controller/inventory/load.js';
import { DURATION_RANGES, MAX_TIMER_MS, parseDuration } from '../../../controller/inventory/duration.js';

const BASE = `
switches: [{ name: s1, dpid: 1 }]
sinks: [{ name: k1, switch: s1, port: 3, mac: "00:00:00:00:00:fe", ip: 10.0.0.254 }]
hosts: [{ name: h1, ip: 10.0.0.1, mac: "00:00:00:00:00:01", switch: s1 }]
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap }
`;

function issuesOf(text: string, file = 'x.yaml'): string[] {
  try {
    parseInventory(text, file);
  } catch (e) {
    if (e instanceof InventoryError) return [...e.issues];
    throw e;
  }
  throw new Error('expected an InventoryError');
}

const vm = (extra: string) => BASE.replace('port: vm1-tap }', `port: vm1-tap, ${extra} }`);
const park = (settings: string) => `park: { ${settings} }\n${BASE}`;

// Item 11: zod 4 does not keep issue.input unless asked, so every type error read "required".
test('wrong types say what was expected and what was found, not "required"', (t) => {
  t.deepEqual(issuesOf(BASE.replace('ip: 10.0.0.11', 'ip: 1234')), ['vms[0].ip: expected a string, got the number 1234']);
  t.deepEqual(issuesOf(vm('gatewayPorts: "80"')), ['vms[0].gatewayPorts: expected a list, got the string "80"']);
  t.deepEqual(issuesOf(vm('maxHeld: "lots"')), ['vms[0].maxHeld: expected a number, got the string "lots"']);
  t.deepEqual(issuesOf(BASE.replace('vms:\n  - ', 'vms:\n    ').replace('{ name: vm1', 'vm1: { name: vm1')), ['vms: expected a list, got a map']);
  t.deepEqual(issuesOf(vm('idleTimeout: [1]')), ['vms[0].idleTimeout: expected a number or a string, got a list']);
  t.deepEqual(issuesOf(BASE.replace('dpid: 1 }', 'dpid: true }')), ['switches[0].dpid: expected a number or a string, got true (a boolean)']);
  t.deepEqual(issuesOf(BASE.replace('ip: 10.0.0.11,', 'ip: ,')), ['vms[0].ip: expected a string, got an empty value']);
  // A branch of a union that took the type reports its own range error.
  t.deepEqual(issuesOf(BASE.replace('port: 3,', 'port: 0,')), ['sinks[0].port: Too small: expected number to be >=1, got the number 0']);
  // A key that really is missing is still "required".
  t.deepEqual(issuesOf(BASE.replace(', port: vm1-tap', '')), ['vms[0].port: required']);
});

test('an empty file, or one that is not a map, says so', (t) => {
  for (const text of ['', '# only a comment\n', '---\n']) t.deepEqual(issuesOf(text), ['the file is empty (expected a map with "switches" and "vms")']);
  t.deepEqual(issuesOf('[1, 2]'), ['(top level): expected a map, got a list']);
  t.deepEqual(issuesOf('null', 'inv.json'), ['the file is empty (expected a map with "switches" and "vms")']);
});

// Item 12: 0 and overflowing durations were accepted; > 2^31-1 ms becomes a 1 ms Node timer.
test('durations: per-field ranges; nothing reaches the timer overflow', (t) => {
  t.deepEqual(issuesOf(park('pollInterval: 0')), ['park.pollInterval: 0ms is out of range (100ms..1h)']);
  t.deepEqual(issuesOf(park('pollInterval: 1000h')), ['park.pollInterval: "1000h" is too long (durations must stay below 2147483647ms, about 596h)']);
  t.deepEqual(issuesOf(park('pollInterval: 2h')), ['park.pollInterval: 2h is out of range (100ms..1h)']);
  t.deepEqual(issuesOf(park('probeInterval: 0')), ['park.probeInterval: 0ms is out of range (1ms..10s)']);
  t.deepEqual(issuesOf(park('retryBackoff: 0')), ['park.retryBackoff: 0ms is out of range (10ms..1h)']);
  t.deepEqual(issuesOf(vm('wakeTimeout: 0.5')), ['vms[0].wakeTimeout: 500ms is out of range (1s..1h)']);
  t.deepEqual(issuesOf(vm('idleTimeout: 169h')), ['vms[0].idleTimeout: 169h is out of range (1s..168h)']);
  t.deepEqual(issuesOf(`defaults: { minActive: 200h }\n${BASE}`), ['defaults.minActive: 200h is out of range (0ms..168h)']);
  t.notThrows(() => parseInventory(park('pollInterval: 100ms, probeInterval: 1ms, retryBackoff: 10ms, retryBackoffMax: 24h') , 'x.yaml'));
  t.notThrows(() => parseInventory(vm('idleTimeout: 168h, minActive: 0, wakeTimeout: 1h'), 'x.yaml'));
  for (const r of Object.values(DURATION_RANGES)) t.true(r.maxMs < MAX_TIMER_MS && r.minMs <= r.maxMs);
  t.throws(() => parseDuration(2 ** 31), { message: /too long/ });
  t.throws(() => parseDuration('596.6h'), { message: /too long/ });
  t.is(parseDuration('596h'), 596 * 3_600_000);
});

// Item 13: addresses no station owns, and settings that contradict each other.
test('VM and sink MACs must be unicast station addresses', (t) => {
  const mac = (m: string) => issuesOf(BASE.replace('52:54:00:00:00:11', m));
  t.deepEqual(mac('ff:ff:ff:ff:ff:ff'), ['vms[0].mac: ff:ff:ff:ff:ff:ff is a broadcast MAC (low bit of the first octet set), not a station address']);
  t.deepEqual(mac('01:00:5E:00:00:01'), ['vms[0].mac: 01:00:5e:00:00:01 is a multicast MAC (low bit of the first octet set), not a station address']);
  t.deepEqual(mac('00:00:00:00:00:00'), ['vms[0].mac: 00:00:00:00:00:00 is the zero MAC, not a station address']);
  t.deepEqual(issuesOf(BASE.replace('00:00:00:00:00:fe', '33:33:00:00:00:01')), ['sinks[0].mac: 33:33:00:00:00:01 is a multicast MAC (low bit of the first octet set), not a station address']);
  t.deepEqual(issuesOf(park('probeMac: "ff:ff:ff:ff:ff:ff"')), ['park.probeMac: ff:ff:ff:ff:ff:ff is a broadcast MAC (low bit of the first octet set), not a station address']);
});

test('VM and sink IPs must be host addresses', (t) => {
  const ip = (a: string) => issuesOf(BASE.replace('ip: 10.0.0.11', `ip: ${a}`));
  t.deepEqual(ip('255.255.255.255'), ['vms[0].ip: 255.255.255.255 is the limited broadcast address, not a host address']);
  t.deepEqual(ip('0.0.0.0'), ['vms[0].ip: 0.0.0.0 is in 0.0.0.0/8 ("this network"), not a host address']);
  t.deepEqual(ip('127.0.0.1'), ['vms[0].ip: 127.0.0.1 is a loopback address (127.0.0.0/8), not a host address']);
  t.deepEqual(ip('224.0.0.251'), ['vms[0].ip: 224.0.0.251 is a multicast address (224.0.0.0/4), not a host address']);
  t.deepEqual(issuesOf(BASE.replace('ip: 10.0.0.254', 'ip: 240.0.0.1')), ['sinks[0].ip: 240.0.0.1 is a reserved address (240.0.0.0/4), not a host address']);
  // The probe's own source may be 0.0.0.0 (RFC 5227 probe, the default) but nothing else special.
  t.notThrows(() => parseInventory(park('probeIp: 0.0.0.0'), 'x.yaml'));
  t.deepEqual(issuesOf(park('probeIp: 127.0.0.1')), ["park.probeIp: 127.0.0.1 is a loopback address (127.0.0.0/8); use 0.0.0.0 or a free host address on the VMs' subnet"]);
});

test('the probe address and MAC must not belong to a VM, sink or host', (t) => {
  t.deepEqual(issuesOf(park('probeIp: 10.0.0.11')), ['park.probeIp: 10.0.0.11 is also vms[0].ip; the probe address must be free']);
  t.deepEqual(issuesOf(park('probeIp: 10.0.0.254')), ['park.probeIp: 10.0.0.254 is also sinks[0].ip; the probe address must be free']);
  t.deepEqual(issuesOf(park('probeIp: 10.0.0.1')), ['park.probeIp: 10.0.0.1 is also hosts[0].ip; the probe address must be free']);
  t.deepEqual(issuesOf(park('probeMac: "52:54:00:00:00:11"')), ["park.probeMac: 52:54:00:00:00:11 is also vms[0].mac; the probe MAC must be the controller's own"]);
  t.deepEqual(issuesOf(park('probeMac: "00:00:00:00:00:FE"')), ["park.probeMac: 00:00:00:00:00:fe is also sinks[0].mac; the probe MAC must be the controller's own"]);
});

test('retryBackoffMax below retryBackoff is refused', (t) => {
  t.deepEqual(issuesOf(park('retryBackoff: 10s, retryBackoffMax: 5s')), ['park.retryBackoffMax: 5000ms is less than park.retryBackoff (10000ms)']);
  // The built-in max (30s) below a configured base is the same contradiction.
  t.deepEqual(issuesOf(park('retryBackoff: 1m')), ['park.retryBackoffMax: 30000ms is less than park.retryBackoff (60000ms)']);
  t.notThrows(() => parseInventory(park('retryBackoff: 5s, retryBackoffMax: 5s'), 'x.yaml'));
});

test('a dpid beyond 64 bits is refused (OF 1.3.5 §7.3.1: datapath_id is a uint64_t)', (t) => {
  t.deepEqual(issuesOf(BASE.replace('dpid: 1 }', 'dpid: "18446744073709551616" }')), [
    'switches[0].dpid: "18446744073709551616" is out of range: a datapath id is 64 bits (at most 18446744073709551615)',
  ]);
  t.is(parseInventory(BASE.replace('dpid: 1 }', 'dpid: "18446744073709551615" }'), 'x.yaml').switches[0]!.dpid, 2n ** 64n - 1n);
});

// Item 10: a FIFO hung the controller; an alias bomb exited 1 without naming the file.
test('files: a FIFO, a directory and an oversized file are refused naming the file; an alias bomb names it too', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'inv-hard-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'inv.fifo');
  execFileSync('mkfifo', [fifo]);
  // Without O_NONBLOCK this open would wait for a writer forever (ava's timeout would fail it).
  const e1 = await t.throwsAsync(loadInventory(fifo), { instanceOf: InventoryError });
  t.is(e1?.message, `${fifo}: cannot read: not a regular file (a FIFO); an inventory is a YAML or JSON file`);
  const e2 = await t.throwsAsync(loadInventory(dir), { instanceOf: InventoryError });
  t.is(e2?.message, `${dir}: cannot read: not a regular file (a directory); an inventory is a YAML or JSON file`);
  const big = join(dir, 'big.yaml');
  await writeFile(big, `# ${'x'.repeat(MAX_INVENTORY_BYTES)}\n${BASE}`);
  const e3 = await t.throwsAsync(loadInventory(big), { instanceOf: InventoryError });
  t.regex(e3!.message, new RegExp(`^${big}: cannot read: \\d+ bytes is more than the ${MAX_INVENTORY_BYTES}-byte limit`));
  // "Billion laughs": 9 levels of 9 aliases each.
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  const bomb = join(dir, 'bomb.yaml');
  await writeFile(bomb, `${levels.join('\n')}\n`);
  const e4 = await t.throwsAsync(loadInventory(bomb), { instanceOf: InventoryError });
  t.regex(e4!.message, new RegExp(`^${bomb}: invalid YAML: .*alias.* \\(at most 100 alias expansions\\)$`, 'i'));
  // A real file still loads.
  t.is((await loadInventory('topologies/testbed.yaml')).vms.length, 2);
});
