// Depth reclaim's start-up check (controller/park/swap-check.ts): the host must
// have swap; otherwise the config is refused naming the VM, or with
// reclaimFallback: pause the VM parks at depth pause with a warning.
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InventoryError, parseInventory } from '../../../controller/inventory/index.js';
import { applySwapCheck, checkReclaimSwap, isLocalUri, parseProcSwaps, readHostSwap, type HostSwap } from '../../../controller/park/swap-check.js';

const inv = (extra: string, park = '') => parseInventory(`
switches: [{ name: s1, dpid: 1 }]
${park}
vms:
  - { name: vm1, libvirt: { uri: "qemu:///system", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: t1, depth: reclaim ${extra} }
  - { name: vm2, libvirt: { uri: "qemu:///system", domain: d2 }, mac: "52:54:00:00:00:12", ip: 10.0.0.12, switch: s1, port: t2, depth: pause }
  - { name: vm3, libvirt: { uri: "qemu+tls://far/system", domain: d3 }, mac: "52:54:00:00:00:13", ip: 10.0.0.13, switch: s1, port: t3, depth: reclaim }
`, 'topologies/r.yaml');

const NONE: HostSwap = { kind: 'checked', devices: [], totalBytes: 0 };
const ZRAM: HostSwap = { kind: 'checked', devices: ['/dev/zram0'], totalBytes: 4 * 2 ** 30 };
const FAR: HostSwap = { kind: 'unchecked', why: 'another host' };

test('/proc/swaps: devices and total size (KiB column); header only = no swap', (t) => {
  t.deepEqual(parseProcSwaps('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/zram0                              partition\t4194300\t\t0\t\t100\n'), { devices: ['/dev/zram0'], totalBytes: 4194300 * 1024 });
  t.deepEqual(parseProcSwaps('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n'), { devices: [], totalBytes: 0 });
  t.true(isLocalUri('qemu:///system'));
  t.true(isLocalUri('qemu+unix:///system?socket=/x'));
  t.false(isLocalUri('qemu+tls://far/system'));
});

test('a reclaim VM on a host without swap is refused, naming the VM, its URI and both ways out', (t) => {
  const e = t.throws(() => applySwapCheck(inv(''), new Map<string, HostSwap>([['qemu:///system', NONE], ['qemu+tls://far/system', FAR]])), { instanceOf: InventoryError });
  t.deepEqual(e!.issues.length, 1);
  t.regex(e!.message, /topologies\/r\.yaml: vms\[0\] \(vm1\): depth reclaim needs swap on its host and qemu:\/\/\/system has none/);
  t.regex(e!.message, /reclaimFallback: pause/);
});

test('with swap the inventory is unchanged; a remote host passes with a warning saying it was not checked', (t) => {
  const i = inv('');
  const r = applySwapCheck(i, new Map<string, HostSwap>([['qemu:///system', ZRAM], ['qemu+tls://far/system', FAR]]));
  t.deepEqual(r.inventory.vms.map((v) => v.depth), ['reclaim', 'pause', 'reclaim']);
  t.is(r.warnings.length, 1);
  t.regex(r.warnings[0]!, /vm vm3: depth reclaim on qemu\+tls:\/\/far\/system: swap not checked \(another host\)/);
});

test('reclaimFallback: pause (per VM, defaults or park:) turns the refusal into depth pause and a warning', (t) => {
  for (const i of [inv(', reclaimFallback: pause'), inv('', 'park: { reclaimFallback: pause }'), inv('', 'defaults: { reclaimFallback: pause }')]) {
    t.is(i.vms[0]!.reclaimFallback, 'pause');
    const r = applySwapCheck(i, new Map<string, HostSwap>([['qemu:///system', NONE], ['qemu+tls://far/system', FAR]]));
    t.deepEqual(r.inventory.vms.map((v) => v.depth), ['pause', 'pause', 'reclaim']);
    t.regex(r.warnings.join('\n'), /vm vm1: depth reclaim needs swap and qemu:\/\/\/system has none .*parking it at depth pause/);
  }
  // A VM can opt out of a park-wide fallback.
  const optOut = inv(', reclaimFallback: none', 'park: { reclaimFallback: pause }');
  t.is(optOut.vms[0]!.reclaimFallback, undefined);
  t.throws(() => applySwapCheck(optOut, new Map<string, HostSwap>([['qemu:///system', NONE]])), { instanceOf: InventoryError });
});

test('checkReclaimSwap reads each reclaim host once; readHostSwap reads /proc/swaps for local URIs only', async (t) => {
  const asked: string[] = [];
  await checkReclaimSwap(inv(''), async (uri) => (asked.push(uri), uri.startsWith('qemu:') ? ZRAM : FAR));
  t.deepEqual(asked.sort(), ['qemu+tls://far/system', 'qemu:///system']);
  const dir = await mkdtemp(join(tmpdir(), 'seamless-swaps-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'swaps'), 'Filename Type Size Used Priority\n/dev/zram0 partition 1024 0 100\n');
  t.deepEqual(await readHostSwap('qemu:///system', join(dir, 'swaps')), { kind: 'checked', devices: ['/dev/zram0'], totalBytes: 1024 * 1024 });
  t.is((await readHostSwap('qemu+ssh://h/system', join(dir, 'swaps'))).kind, 'unchecked');
});
