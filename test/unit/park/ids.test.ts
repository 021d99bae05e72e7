// Cookie and meter ids come from the VM's name, not its inventory position:
// editing the inventory must not rename the entries of the VMs that stay.
import test from 'ava';
import { parseInventory } from '../../../controller/inventory/index.js';
import { cookieOf, KIND, meterIds } from '../../../controller/park/flows.js';
import { assignVmIds, fnv1a32, METER_SLOTS, METERS_PER_VM, PARK_METER_BASE, VmIdError } from '../../../controller/park/ids.js';
import { configFromInventory } from '../../../controller/park/machine.js';

function inventory(names: readonly string[]): string {
  const vms = names.map((n, i) => `  - { name: ${n}, libvirt: { uri: "test:///default", domain: d-${n} }, mac: "52:54:00:00:01:${(i + 16).toString(16)}", ip: 10.0.1.${i + 10}, switch: s1, port: ${n}-tap, depth: pause }`);
  return `switches: [{ name: s1, dpid: 1 }]\nvms:\n${vms.join('\n')}\n`;
}

function idsOf(names: readonly string[]) {
  const cfg = configFromInventory(parseInventory(inventory(names), 'test.yaml'));
  return new Map(cfg.vms.map((v) => [v.name, { cookie: cookieOf(v.id, KIND.PARK), meters: meterIds(v) }]));
}

test('removing or reordering VMs keeps the cookies and meter ids of the others', (t) => {
  const before = idsOf(['web', 'db', 'cache']);
  const after = idsOf(['cache', 'db']); // web removed, order changed
  t.deepEqual(after.get('db'), before.get('db'));
  t.deepEqual(after.get('cache'), before.get('cache'));
  t.is(new Set([...before.values()].map((v) => v.cookie)).size, 3, 'distinct cookies');
});

test('the cookie id is the FNV-1a hash of the name (documented in docs/decisions.md)', (t) => {
  t.is(fnv1a32(''), 0x811c9dc5);
  t.is(fnv1a32('a'), 0xe40c292c); // the published FNV-1a 32 test vector
  const [vm] = assignVmIds([{ name: 'vm1', dpid: 1n }]);
  t.is(vm!.id, fnv1a32('vm1'));
});

test('two names with the same cookie id are refused at load, naming both', (t) => {
  t.is(fnv1a32('vm625978'), fnv1a32('vm1056122'), 'a known FNV-1a 32 collision');
  const err = t.throws(() => configFromInventory(parseInventory(inventory(['vm625978', 'vm1056122']), 'test.yaml')), { instanceOf: VmIdError });
  t.regex(err!.message, /"vm625978" and "vm1056122"/);
});

test('meter slots that collide on one switch get distinct ids, within [PARK_METER_BASE, base + 3 * slots)', (t) => {
  t.is(fnv1a32('vm257') % METER_SLOTS, fnv1a32('vm910') % METER_SLOTS, 'a known slot collision');
  const ids = assignVmIds([{ name: 'vm910', dpid: 1n }, { name: 'vm257', dpid: 1n }, { name: 'x', dpid: 2n }]);
  const all = ids.flatMap((v) => [v.meterBase, v.meterBase + 1, v.meterBase + 2]);
  t.is(new Set(all.slice(0, 6)).size, 6, 'the colliding VMs share no meter id');
  for (const id of all) t.true(id >= PARK_METER_BASE && id < PARK_METER_BASE + METERS_PER_VM * METER_SLOTS);
  // Name order decides who probes on: the same for any inventory order.
  const again = assignVmIds([{ name: 'vm257', dpid: 1n }, { name: 'vm910', dpid: 1n }]);
  t.deepEqual(again.map((v) => v.meterBase), [ids[1]!.meterBase, ids[0]!.meterBase]);
});
