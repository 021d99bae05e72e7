// The bound on concurrent libvirt operations is per hypervisor host (issue 12):
// a host whose operations hang (dead or slow) or a resume storm on one host
// holds back only that host's VMs; each host has its own limit and FIFO queue.
import test from 'ava';
import { parseInventory } from '../../../controller/inventory/index.js';
import { configFromInventory, initialState, step, type MachineConfig, type MachineState, type Output } from '../../../controller/park/machine.js';

function setup(): { cfg: MachineConfig; s: MachineState } {
  const vm = (i: number, hv: string) =>
    `  - { name: vm${i}, hypervisor: ${hv}, libvirt: { domain: d${i} }, mac: "52:54:00:00:00:${(0x10 + i).toString(16)}", ip: 10.0.0.${10 + i}, switch: s1, port: tap${i}, depth: pause }`;
  const text = `park: { meterRate: 0, maxConcurrentOps: 2 }
hypervisors:
  - { name: dead, uri: "qemu+tls://dead.example/system", maxConcurrentOps: 1 }
  - { name: live, uri: "qemu+tcp://127.0.0.1/system" }
switches: [{ name: s1, dpid: 1 }]
vms:
${[vm(1, 'dead'), vm(2, 'dead'), vm(3, 'live'), vm(4, 'live'), vm(5, 'live')].join('\n')}
`;
  const cfg = configFromInventory(parseInventory(text, 'hosts.yaml'));
  let s = initialState(cfg, 0);
  for (const v of cfg.vms) s = step(cfg, s, { type: 'restore', vm: v.name, record: undefined, libvirt: 'running' }, 0).state;
  s = step(cfg, s, { type: 'switch_up', dpid: 1n, ports: cfg.vms.map((v, i) => ({ portNo: 10 + i, name: v.port })), meters: false }, 0).state;
  return { cfg, s };
}

/** Operator-parks `vm` and confirms its flows and record, so it asks for a libvirt slot. Returns the libvirt outputs. */
function park(cfg: MachineConfig, s: MachineState, vm: string): { s: MachineState; ops: Output[] } {
  const ops: Output[] = [];
  const run = (st: MachineState, e: Parameters<typeof step>[2]): MachineState => {
    const r = step(cfg, st, e, 1000);
    ops.push(...r.out.filter((o) => o.kind === 'libvirt'));
    return r.state;
  };
  s = run(s, { type: 'park_now', vm });
  s = run(s, { type: 'barrier_done', vm, seq: s.vms.get(vm)!.barrierSeq });
  s = run(s, { type: 'persist_done', vm, seq: s.vms.get(vm)!.barrierSeq });
  return { s, ops };
}

test('a host whose operation hangs holds back only its own VMs; the other host uses its own bound', (t) => {
  const { cfg } = setup();
  let { s } = setup();
  let r = park(cfg, s, 'vm1');
  s = r.s;
  t.deepEqual(r.ops.map((o) => (o as { vm: string }).vm), ['vm1'], 'vm1 runs on host dead');
  r = park(cfg, s, 'vm2');
  s = r.s;
  t.deepEqual(r.ops, [], 'host dead allows one operation: vm2 waits');
  t.is(s.vms.get('vm2')!.step, 'queued');
  // Host live is not held by dead's hung operation: two slots (park.maxConcurrentOps), then a queue.
  for (const vm of ['vm3', 'vm4']) {
    r = park(cfg, s, vm);
    s = r.s;
    t.deepEqual(r.ops.map((o) => (o as { vm: string }).vm), [vm], `${vm} runs on host live`);
  }
  r = park(cfg, s, 'vm5');
  s = r.s;
  t.deepEqual(r.ops, [], 'host live is at its bound of 2');
  t.deepEqual([...s.opsInFlight], [['qemu+tls://dead.example/system', 1], ['qemu+tcp://127.0.0.1/system', 2]]);

  // A live host's slot frees: its own waiter (vm5) runs, not dead's older waiter (vm2).
  let out = step(cfg, s, { type: 'libvirt_done', vm: 'vm3', seq: s.vms.get('vm3')!.opSeq }, 1100);
  s = out.state;
  t.deepEqual(out.out.filter((o) => o.kind === 'libvirt').map((o) => (o as { vm: string }).vm), ['vm5']);
  t.is(s.vms.get('vm2')!.step, 'queued', 'dead host waiter still waits');
  // dead's operation finally fails (call timeout): its slot goes to vm2.
  out = step(cfg, s, { type: 'libvirt_failed', vm: 'vm1', seq: s.vms.get('vm1')!.opSeq, error: 'timed out connecting to libvirtd at dead.example:16514 (tls)', code: 'LIBVIRT_CONNECTION' }, 6000);
  s = out.state;
  t.deepEqual(out.out.filter((o) => o.kind === 'libvirt').map((o) => (o as { vm: string }).vm), ['vm2']);
  t.is(s.vms.get('vm5')!.step, 'libvirt');
});

test('the inventory gives each host its limit; an implicit host (libvirt.uri only) gets park.maxConcurrentOps', (t) => {
  const inv = parseInventory(
    `park: { maxConcurrentOps: 3 }
hypervisors: [{ name: h1, uri: "qemu+tls://h1.example/system", maxConcurrentOps: 7, tls: { caCert: /x/ca.pem } }]
switches: [{ name: s1, dpid: 1 }]
vms:
  - { name: a, hypervisor: h1, libvirt: { domain: a }, mac: "52:54:00:00:00:01", ip: 10.0.0.1, switch: s1, port: ta }
  - { name: b, libvirt: { uri: "qemu:///system", domain: b }, mac: "52:54:00:00:00:02", ip: 10.0.0.2, switch: s1, port: tb }
  - { name: c, libvirt: { uri: "qemu+tls://h1.example/system", domain: c }, mac: "52:54:00:00:00:03", ip: 10.0.0.3, switch: s1, port: tc }
`,
    'h.yaml',
  );
  t.deepEqual(
    inv.hypervisors?.map((h) => [h.name, h.uri, h.maxConcurrentOps, h.connectTimeoutMs]),
    [
      ['h1', 'qemu+tls://h1.example/system', 7, 5000],
      ['qemu:///system', 'qemu:///system', 3, 5000],
    ],
  );
  t.deepEqual(inv.vms.map((v) => [v.name, v.hypervisor, v.libvirt.uri]), [
    ['a', 'h1', 'qemu+tls://h1.example/system'],
    ['b', 'qemu:///system', 'qemu:///system'],
    ['c', 'h1', 'qemu+tls://h1.example/system'],
  ]);
  t.deepEqual(inv.hypervisors?.[0]?.tls, { caCert: '/x/ca.pem' });
  const cfg = configFromInventory(inv);
  t.deepEqual([...cfg.hostOps!], [['qemu+tls://h1.example/system', 7], ['qemu:///system', 3]]);
});

test('hypervisor errors name the field: unknown host, uri and hypervisor both, bad URI, no_verify, duplicate URI, tls on a non-TLS URI', (t) => {
  const e = t.throws(() =>
    parseInventory(
      `hypervisors:
  - { name: h1, uri: "qemu+ssh://h1/system" }
  - { name: h2, uri: "qemu+tcp://h2/system", tls: { caCert: /ca.pem } }
  - { name: h3, uri: "qemu+tcp://h2/system" }
  - { name: h4, uri: "qemu+tls://h/system?no_verify=1" }
switches: [{ name: s1, dpid: 1 }]
vms:
  - { name: a, hypervisor: nope, libvirt: { domain: a }, mac: "52:54:00:00:00:01", ip: 10.0.0.1, switch: s1, port: ta }
  - { name: b, hypervisor: h2, libvirt: { uri: "qemu:///system", domain: b }, mac: "52:54:00:00:00:02", ip: 10.0.0.2, switch: s1, port: tb }
  - { name: c, libvirt: { domain: c }, mac: "52:54:00:00:00:03", ip: 10.0.0.3, switch: s1, port: tc }
`,
      'bad.yaml',
    ),
  );
  const msg = e?.message ?? '';
  t.regex(msg, /hypervisors\[0\]\.uri: unsupported libvirt URI 'qemu\+ssh:\/\/h1\/system': transport 'ssh'/);
  t.regex(msg, /hypervisors\[1\]\.tls: qemu\+tcp:\/\/h2\/system is not a TLS URI/);
  t.regex(msg, /hypervisors\[2\]\.uri: qemu\+tcp:\/\/h2\/system is also hypervisor h2/);
  t.regex(msg, /vms\[0\]\.hypervisor: unknown hypervisor "nope"/);
  t.regex(msg, /vms\[1\]\.libvirt\.uri: give either hypervisor or libvirt\.uri, not both/);
  t.regex(msg, /vms\[2\]\.libvirt\.uri: missing/);
  t.regex(msg, /hypervisors\[3\]\.uri: .*no_verify is refused/);
});
