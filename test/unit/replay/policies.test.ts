// controller/replay/policies.ts: which inventory a replay's policy runs with.
import test from 'ava';
import { parseInventory } from '../../../controller/inventory/index.js';
import { applyPolicy, PolicyError } from '../../../controller/replay/policies.js';

const INV = parseInventory(
  `switches: [{ name: s1, dpid: 1 }]
vms:
  - { name: a, libvirt: { uri: "qemu:///system", domain: a }, mac: "52:54:00:00:00:01", ip: 10.0.0.1, switch: s1, port: t1, depth: pause, idleTimeout: 2m, policy: { name: predictive, threshold: 0.3 } }
  - name: b
    libvirt: { uri: "qemu:///system", domain: b }
    mac: "52:54:00:00:00:02"
    ip: 10.0.0.2
    switch: s1
    port: t2
    depths: [{ depth: pause, after: 1m }, { depth: save, after: 10m }, { depth: shutdown, after: 6h }]
`,
  'inv.yaml',
  { replay: true },
);

test('inventory keeps every VM as configured; fixed makes every VM fixed, whatever its own policy', (t) => {
  t.is(applyPolicy(INV, 'inventory').inventory, INV);
  const fixed = applyPolicy(INV, 'fixed').inventory;
  t.deepEqual(fixed.vms.map((v) => v.policy), [{ name: 'fixed' }, { name: 'fixed' }]);
  t.is(fixed.vms[0]!.idleTimeoutMs, 120_000, 'plain fixed keeps the idle timeouts');
});

test('a named policy keeps the parameters of a VM that already names it, others get the defaults', (t) => {
  const p = applyPolicy(INV, 'predictive').inventory;
  t.deepEqual(p.vms.map((v) => v.policy), [{ name: 'predictive', threshold: 0.3 }, { name: 'predictive' }]);
});

test('fixed:D sets the idle timeout and moves a ladder\'s first rung, dropping rungs it passes', (t) => {
  const { inventory, idleTimeoutMs } = applyPolicy(INV, 'fixed:20m');
  t.is(idleTimeoutMs, 1_200_000);
  t.deepEqual(inventory.vms[1]!.depths, [
    { depth: 'pause', afterMs: 1_200_000 },
    { depth: 'shutdown', afterMs: 21_600_000 },
  ]);
  t.is(inventory.vms[0]!.depths?.length ?? 1, 1);
});

test('unknown policies are refused, naming what runs', (t) => {
  const e = t.throws(() => applyPolicy(INV, 'psychic'), { instanceOf: PolicyError });
  t.regex(e!.message, /fixed:DURATION and inventory/);
});
