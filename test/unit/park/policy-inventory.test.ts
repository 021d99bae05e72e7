// The parking policy in the inventory: per VM and park-wide, parameters checked
// against the policy they belong to, the oracle refused outside a replay.
import test from 'ava';
import { InventoryError, parseInventory } from '../../../controller/inventory/index.js';

const inv = (vmExtra: string, park = '') => `
switches: [{ name: s1, dpid: 1 }]
${park}
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap ${vmExtra} }
  - { name: vm2, libvirt: { uri: "test:///default", domain: d2 }, mac: "52:54:00:00:00:12", ip: 10.0.0.12, switch: s1, port: vm2-tap }
`;

function issuesOf(text: string, replay = false): string[] {
  const e = (() => {
    try {
      parseInventory(text, 'topologies/x.yaml', { replay });
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  if (!(e instanceof InventoryError)) throw new Error('expected an InventoryError');
  return [...e.issues];
}

test('no policy anywhere: VMs run fixed (no policy field, the idle timeout as before)', (t) => {
  const i = parseInventory(inv(''), 'x.yaml');
  t.is(i.vms[0]!.policy, undefined);
  t.is(i.park.policy, undefined);
});

test('a policy by name or as a map with parameters; park.policy is the default a VM policy overrides', (t) => {
  const i = parseInventory(inv(', policy: adaptive', 'park: { policy: { name: predictive, threshold: 0.1, preWake: false } }'), 'x.yaml');
  t.deepEqual(i.vms[0]!.policy, { name: 'adaptive' });
  t.deepEqual(i.vms[1]!.policy, { name: 'predictive', threshold: 0.1, preWake: false });
  t.deepEqual(i.park.policy, { name: 'predictive', threshold: 0.1, preWake: false });
  const j = parseInventory(inv(', policy: { name: adaptive, window: 32, minSamples: 4 }'), 'x.yaml');
  t.deepEqual(j.vms[0]!.policy, { name: 'adaptive', window: 32, minSamples: 4 });
  const k = parseInventory(inv(', policy: { name: predictive, horizon: 10m, expect: 1h }'), 'x.yaml');
  t.deepEqual(k.vms[0]!.policy, { name: 'predictive', horizonMs: 600_000, expectMs: 3_600_000 });
});

test('the oracle is refused by the live loader, naming the field, and accepted for a replay', (t) => {
  const issues = issuesOf(inv(', policy: oracle'));
  t.is(issues.length, 1);
  t.regex(issues[0]!, /^vms\[0\]\.policy: the oracle policy .* only in `seamless replay`; the live controller cannot use it/);
  t.regex(issuesOf(inv('', 'park: { policy: oracle }'))[0]!, /^park\.policy: the oracle policy/);
  t.deepEqual(parseInventory(inv(', policy: oracle'), 'x.yaml', { replay: true }).vms[0]!.policy, { name: 'oracle' });
});

test('bad policies: unknown name, a parameter of another policy, out-of-range values, all reported at once', (t) => {
  t.regex(issuesOf(inv(', policy: sometimes')).join('\n'), /vms\[0\]\.policy/);
  const issues = issuesOf(inv(', policy: { name: adaptive, threshold: 0.5, window: 4, minSamples: 9 }', 'park: { policy: { name: fixed, preWake: true } }'));
  t.true(issues.includes('vms[0].policy.threshold: policy adaptive takes no threshold (it is a parameter of predictive)'), issues.join('\n'));
  t.true(issues.includes('vms[0].policy.minSamples: 9 is more than the window of 4 idle periods the adaptive policy keeps'), issues.join('\n'));
  t.true(issues.includes('park.policy.preWake: policy fixed takes no preWake (it is a parameter of predictive)'), issues.join('\n'));
  t.regex(issuesOf(inv(', policy: { name: predictive, threshold: 1.5 }')).join('\n'), /vms\[0\]\.policy/);
  t.true(issuesOf(inv(', policy: { name: adaptive, horizon: 10m }')).includes('vms[0].policy.horizon: policy adaptive takes no horizon (it is a parameter of predictive)'));
  t.regex(issuesOf(inv(', policy: { name: predictive, horizon: 2d }')).join('\n'), /vms\[0\]\.policy/);
});
