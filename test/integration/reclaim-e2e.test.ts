// Park depth reclaim end to end on the Mininet testbed: `seamless controller
// --config` (a child process, with its start-up swap check) parks an idle
// reclaim VM (paused, its memory pushed into zram through libvirt's memtune),
// its QEMU's memory is released (checked from /proc: VmRSS down, VmSwap up),
// and h1's curl wakes it and gets its page with the first SYN held and
// delivered (the SYN invariant of park-e2e.test.ts). Needs swap on this host
// (mininet/setup.sh enables zram when there is none).
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { parseVmRss, parseVmSwap } from '../../controller/energy/memory.js';
import { loadInventory } from '../../controller/inventory/index.js';
import { startControllerChild } from '../support/controller-child.js';
import { freePort } from '../support/mininet.js';
import { captureSyns, startTestbed, waitFor } from '../support/testbed.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const VM = 'vmr';
const DOMAIN = 'seamless-vmr';
const MIB = 2 ** 20;

const cleanups: Array<() => unknown> = [];
test.after.always(async () => {
  for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
});

/** The testbed's hosts and sink with one VM, at depth reclaim; parks after 4 s idle. */
function inventoryFile(dir: string): string {
  const raw = parse(readFileSync(path.join(REPO, 'topologies/testbed.yaml'), 'utf8')) as Record<string, any>;
  raw['defaults'] = { ...raw['defaults'], idleTimeout: '4s', minActive: '4s', wakeTimeout: '30s' };
  raw['vms'] = [{ name: VM, libvirt: { uri: 'qemu:///system', domain: DOMAIN }, mac: '52:54:00:00:00:31', ip: '10.0.0.31', switch: 's1', port: 'vmr-tap', depth: 'reclaim' }];
  const file = path.join(dir, 'reclaim-e2e.yaml');
  writeFileSync(file, stringify(raw));
  return file;
}

/** VmRSS and VmSwap of the domain's QEMU process, from /proc. */
async function qemuMemory(): Promise<{ rss: number; swap: number }> {
  const pid = (await readFile(`/var/run/libvirt/qemu/${DOMAIN}.pid`, 'utf8')).trim();
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return { rss: parseVmRss(status) ?? 0, swap: parseVmSwap(status) ?? 0 };
}

test('a reclaim VM parks (memory released, from /proc), and h1\'s curl wakes it with its first SYN', async (t) => {
  t.timeout(900_000);
  const swaps = (await readFile('/proc/swaps', 'utf8')).trim().split('\n').slice(1);
  t.true(swaps.length > 0, 'this host has swap (mininet/setup.sh enables zram)');
  const dir = mkdtempSync(path.join(tmpdir(), 'seamless-reclaim-e2e-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = inventoryFile(dir);
  const inv = await loadInventory(config);
  const port = await freePort();
  const tb = await startTestbed({ teardown: (fn) => cleanups.push(fn) }, {
    inventory: inv,
    controllerPort: port,
    waitConnected: false,
    startTimeoutMs: 600_000,
    // Seen here at load average 25+: the guest kernel's IO-APIC timer check fails under TCG and it panics at boot.
    guestArgs: { [VM]: 'no_timer_check' },
  });
  const running = await qemuMemory();
  const { transitions, lines } = await startControllerChild({
    args: ['--api', path.join(dir, 'api.sock'), '--listen', `127.0.0.1:${port}`, '--config', config, '--log-format', 'json', '--log-level', 'debug'],
    cleanups,
  });

  const parked = await waitFor(`${VM} parked`, async () => transitions.find((tr) => tr.vm === VM && tr.to === 'parked'), 120_000, 100);
  t.deepEqual(await tb.domState(VM), { state: 'paused', managedSave: false }, 'reclaim parks by pause: libvirt says paused');
  const out = await qemuMemory();
  t.log(JSON.stringify({ runningRssMiB: running.rss / MIB, parkedRssMiB: out.rss / MIB, parkedSwapMiB: out.swap / MIB, loggedReleasedMiB: (parked.memoryReleasedBytes ?? 0) / MIB }));
  t.true(out.rss < running.rss / 2, `QEMU's RSS ${running.rss / MIB} MiB running -> ${out.rss / MIB} MiB parked`);
  t.true(out.swap > 32 * MIB, `QEMU's pages are in swap: VmSwap ${out.swap / MIB} MiB`);
  t.true((parked.memoryReleasedBytes ?? 0) > 0, 'the parked transition carries the memory the park released');
  t.false(lines.some((l) => l.includes('memory not released')), 'the push succeeded');

  const spec = inv.vms[0]!;
  const syns = await captureSyns(tb.hosts['h1']!.port, spec.ip);
  const before = transitions.length;
  const mark = '\n--T ';
  const res = await tb.exec('h1', 'curl', ['-sS', '--max-time', '20', '-w', `${mark}%{time_connect}`, `http://${spec.ip}/`], 30_000);
  const body = res.slice(0, res.lastIndexOf(mark));
  const connectMs = Number(res.slice(res.lastIndexOf(mark) + mark.length)) * 1000;
  const woken = await waitFor(`${VM} active`, async () => transitions.slice(before).find((tr) => tr.vm === VM && tr.to === 'active'), 10_000, 50);
  const n = await syns.count();
  t.log(`curl connect ${connectMs.toFixed(0)} ms; engine wake ${woken.durationMs?.toFixed(0) ?? '?'} ms (${woken.reason})`);
  t.is(body, `hello from ${VM}\n`, 'the woken guest serves its page');
  // A wake well under the client's 1 s initial RTO: exactly one SYN, the held one, answered.
  t.true((woken.durationMs ?? connectMs) < 850, `a resume-speed wake (${woken.durationMs} ms), so one SYN is expected`);
  t.is(n, 1, 'h1 sent one SYN: the first was held and delivered');
  t.true(connectMs < 1000, 'connected before any retransmission');
  t.is((await tb.domState(VM)).state, 'running');
});
