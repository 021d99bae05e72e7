// hypervisors[].switch (issue 12 item 4): the switch a host's VMs attach to, so a
// VM that appears there is woken through that host; and sinks on another switch,
// allowed only for a fabric (its ignored traffic is forwarded there hop by hop).
import test from 'ava';
import { InventoryError, parseInventory } from '../../../controller/inventory/index.js';
import { configFromInventory } from '../../../controller/park/machine.js';

const inv = (hv: string, sinkSwitch = 's3'): string => `
hypervisors:
${hv}
switches: [{ name: s3, dpid: 3 }, { name: s4, dpid: 4 }]
sinks: [{ name: k1, switch: ${sinkSwitch}, port: 11, mac: "00:00:00:00:00:fe", ip: 10.0.0.254 }]
vms:
  - { name: vm1, hypervisor: hv3, libvirt: { domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s3, port: vm1-tap, depth: pause, sink: k1, ignore: [{ udpDst: 161 }] }
`;

function issues(text: string, opts = {}): readonly string[] {
  try {
    parseInventory(text, 'hv.yaml', opts);
  } catch (e) {
    if (e instanceof InventoryError) return e.issues;
    throw e;
  }
  return [];
}

test('hypervisors[].switch names the host of a switch; a host with a switch is kept even without VMs of its own', (t) => {
  const i = parseInventory(inv('  - { name: hv3, uri: "qemu+tcp://hv3/system", switch: s3 }\n  - { name: hv4, uri: "qemu+tcp://hv4/system", switch: s4 }'), 'hv.yaml');
  t.deepEqual(
    i.hypervisors?.map((h) => [h.name, h.switch, h.dpid]),
    [
      ['hv3', 's3', 3n],
      ['hv4', 's4', 4n],
    ],
  );
  t.deepEqual([...configFromInventory(i).hostBySwitch!], [
    [3n, 'qemu+tcp://hv3/system'],
    [4n, 'qemu+tcp://hv4/system'],
  ]);
});

test('without switch: the field is absent and no switch maps to a host (VMs keep their inventory URI)', (t) => {
  const i = parseInventory(inv('  - { name: hv3, uri: "qemu+tcp://hv3/system" }'), 'hv.yaml');
  t.is(i.hypervisors?.[0]?.switch, undefined);
  t.is(configFromInventory(i).hostBySwitch?.size, 0);
});

test('an unknown switch, or a switch named by two hosts, is a clear load error', (t) => {
  t.deepEqual(issues(inv('  - { name: hv3, uri: "qemu+tcp://hv3/system", switch: s9 }')), ['hypervisors[0].switch: unknown switch "s9"']);
  t.deepEqual(issues(inv('  - { name: hv3, uri: "qemu+tcp://hv3/system", switch: s3 }\n  - { name: hv4, uri: "qemu+tcp://hv4/system", switch: s3 }')), [
    "hypervisors[1].switch: switch s3 is also hypervisor hv3's",
  ]);
});

test('a sink on another switch is refused without a fabric and accepted with one', (t) => {
  const text = inv('  - { name: hv3, uri: "qemu+tcp://hv3/system" }', 's4');
  t.deepEqual(issues(text), ['vms[0].sink: sink "k1" is on switch s4, not on the VM\'s switch s3']);
  t.deepEqual(issues(text, { fabric: true }), []);
});
