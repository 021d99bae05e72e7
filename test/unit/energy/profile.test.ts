// The inventory's `power:` section over the defaults (controller/energy/profile.ts).
import test from 'ava';
import { DEFAULT_POWER_PROFILE } from '../../../controller/energy/profile.js';
import { parseInventory } from '../../../controller/inventory/index.js';

const vms = `switches: [{ name: s1, dpid: 1 }]
vms:
  - { name: a, libvirt: { uri: "qemu:///system", domain: a }, mac: "52:54:00:00:00:01", ip: 10.0.0.1, switch: s1, port: ta }
  - { name: b, libvirt: { uri: "qemu+ssh://big/system", domain: b }, mac: "52:54:00:00:00:02", ip: 10.0.0.2, switch: s1, port: tb }
`;

test('no power section: every VM gets the documented defaults', (t) => {
  const inv = parseInventory(vms, 'p.yaml');
  for (const v of inv.vms) t.deepEqual(v.power, DEFAULT_POWER_PROFILE);
  t.deepEqual(DEFAULT_POWER_PROFILE.depths.save, { parkMs: 1800, parkJoules: 27, wakeMs: 700, wakeJoules: 10.5 });
});

test('power overrides the defaults field by field; power.hosts overrides by libvirt URI', (t) => {
  const inv = parseInventory(`power: { idleWatts: 4, save: { parkJoules: 40 }, hosts: [{ uri: "qemu+ssh://big/system", idleWatts: 6, pause: { wakeMs: 3 } }] }\n${vms}`, 'p.yaml');
  const [a, b] = inv.vms;
  t.like(a!.power, { idleWatts: 4, wattsPerGiB: 0.375 });
  t.deepEqual(a!.power!.depths.save, { ...DEFAULT_POWER_PROFILE.depths.save, parkJoules: 40 });
  t.deepEqual(a!.power!.depths.pause, DEFAULT_POWER_PROFILE.depths.pause);
  t.like(b!.power, { idleWatts: 6 });
  t.deepEqual(b!.power!.depths.save, { ...DEFAULT_POWER_PROFILE.depths.save, parkJoules: 40 }, 'the top-level override still applies');
  t.deepEqual(b!.power!.depths.pause, { ...DEFAULT_POWER_PROFILE.depths.pause, wakeMs: 3 });
});

test('bad power values and duplicate hosts are refused, naming the field', (t) => {
  t.throws(() => parseInventory(`power: { idleWatts: -1 }\n${vms}`, 'p.yaml'), { message: /power\.idleWatts/ });
  t.throws(() => parseInventory(`power: { save: { parkMs: "fast" } }\n${vms}`, 'p.yaml'), { message: /power\.save\.parkMs/ });
  t.throws(() => parseInventory(`power: { pause: { parkJoule: 1 } }\n${vms}`, 'p.yaml'), { message: /parkJoule/ });
  t.throws(() => parseInventory(`power: { hosts: [{ uri: "x:///", idleWatts: 1 }, { uri: "x:///" }] }\n${vms}`, 'p.yaml'), { message: /power\.hosts\[1\]\.uri: duplicate host x:\/\/\// });
});
