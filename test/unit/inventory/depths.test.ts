// Depth ladders in the inventory (`depths:`): resolution (VM over defaults, `depth` +
// `idleTimeout` as a one-rung ladder) and validation (later and deeper rungs).
import test from 'ava';
import { InventoryError, parseInventory } from '../../../controller/inventory/index.js';

function inv(vm: string, defaults = '', park = ''): string {
  return `
switches: [{ name: s1, dpid: 1 }]
${defaults === '' ? '' : `defaults: ${defaults}`}
${park === '' ? '' : `park: ${park}`}
vms:
  - { name: web, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: t1 ${vm} }
`;
}

function issuesOf(text: string): string[] {
  const e = (() => {
    try {
      parseInventory(text, 'x.yaml');
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  if (!(e instanceof InventoryError)) throw new Error('expected an InventoryError');
  return [...e.issues];
}

test('a ladder: rungs in ms, the first rung is the depth and the idle timeout', (t) => {
  const v = parseInventory(inv(', depths: [{ depth: pause, after: 2m }, { depth: reclaim, after: 10m }, { depth: save, after: 6h }]'), 'x.yaml').vms[0]!;
  t.deepEqual(v.depths, [
    { depth: 'pause', afterMs: 120_000 },
    { depth: 'reclaim', afterMs: 600_000 },
    { depth: 'save', afterMs: 21_600_000 },
  ]);
  t.is(v.depth, 'pause');
  t.is(v.idleTimeoutMs, 120_000);
});

test('depth + idleTimeout is a one-rung ladder; nothing given is the built-in rung', (t) => {
  t.deepEqual(parseInventory(inv(', depth: save, idleTimeout: 90s'), 'x.yaml').vms[0]!.depths, [{ depth: 'save', afterMs: 90_000 }]);
  t.deepEqual(parseInventory(inv(''), 'x.yaml').vms[0]!.depths, [{ depth: 'pause', afterMs: 300_000 }]);
});

test('defaults may hold a ladder; a VM with its own depth or depths overrides it', (t) => {
  const d = '{ depths: [{ depth: pause, after: 1m }, { depth: save, after: 1h }] }';
  t.deepEqual(parseInventory(inv('', d), 'x.yaml').vms[0]!.depths, [
    { depth: 'pause', afterMs: 60_000 },
    { depth: 'save', afterMs: 3_600_000 },
  ]);
  // Its own depth: one rung, the idle time from the defaults' first rung.
  t.deepEqual(parseInventory(inv(', depth: save', d), 'x.yaml').vms[0]!.depths, [{ depth: 'save', afterMs: 60_000 }]);
  t.deepEqual(parseInventory(inv(', depths: [{ depth: shutdown, after: 5m }]', d), 'x.yaml').vms[0]!.depths, [{ depth: 'shutdown', afterMs: 300_000 }]);
});

test('rungs must be strictly later and strictly deeper; the error names the VM and the rung', (t) => {
  const issues = issuesOf(inv(', depths: [{ depth: save, after: 10m }, { depth: pause, after: 5m }, { depth: pause, after: 1h }]'));
  t.deepEqual(issues, [
    "vms[0].depths[1].after: VM web's rung pause after 5m is not later than the rung before it (save after 10m); after must strictly increase",
    "vms[0].depths[1].depth: VM web's rung pause is not deeper than the rung before it (save); depths must go strictly deeper (pause < reclaim < save < shutdown)",
    "vms[0].depths[2].depth: VM web's rung pause is not deeper than the rung before it (pause); depths must go strictly deeper (pause < reclaim < save < shutdown)",
  ]);
  t.deepEqual(issuesOf(inv('', '{ depths: [{ depth: pause, after: 1m }, { depth: save, after: 1m }] }')), [
    "defaults.depths[1].after: defaults's rung save after 1m is not later than the rung before it (pause after 1m); after must strictly increase",
  ]);
});

test('depths and depth/idleTimeout together, empty ladders, unknown depths, bad durations and too many rungs are refused', (t) => {
  t.deepEqual(issuesOf(inv(', depth: pause, depths: [{ depth: save, after: 1m }]')), [
    'vms[0].depths: VM web gives depths and depth/idleTimeout; give one (depth + idleTimeout is a one-rung ladder)',
  ]);
  t.deepEqual(issuesOf(inv('', '{ idleTimeout: 1m, depths: [{ depth: save, after: 1m }] }')), ['defaults.depths: give either depths or depth/idleTimeout (a one-rung ladder), not both']);
  t.true(issuesOf(inv(', depths: []')).some((i) => i.startsWith('vms[0].depths:')));
  t.true(issuesOf(inv(', depths: [{ depth: hibernate, after: 1m }]')).some((i) => i.startsWith('vms[0].depths[0].depth:')));
  t.deepEqual(issuesOf(inv(', depths: [{ depth: pause, after: 100ms }]')), ['vms[0].depths[0].after: 100ms is out of range (1s..168h)']);
  t.deepEqual(issuesOf(inv(', depths: [{ depth: pause }]')), ['vms[0].depths[0].after: expected a number or a string, got nothing']);
  const five = Array.from({ length: 5 }, (_, i) => `{ depth: pause, after: ${i + 1}m }`).join(', ');
  t.true(issuesOf(inv(`, depths: [${five}]`)).some((i) => i.startsWith('vms[0].depths:')));
});

test('a ladder reaching shutdown with gateway ports needs park.probeIp (the wake from shutdown probes a gateway port)', (t) => {
  t.deepEqual(issuesOf(inv(', gatewayPorts: [80], depths: [{ depth: pause, after: 1m }, { depth: shutdown, after: 1h }]')), [
    "vms[0].depths: shutdown with gatewayPorts needs park.probeIp set to a free address on the VM's subnet (the TCP readiness probe comes from it)",
  ]);
  t.notThrows(() => parseInventory(inv(', gatewayPorts: [80], depths: [{ depth: pause, after: 1m }, { depth: shutdown, after: 1h }]', '', '{ probeIp: 10.0.0.253 }'), 'x.yaml'));
});
