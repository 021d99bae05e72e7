// The RSS reader (controller/energy/memory.ts) on a fake run dir and /proc.
import test from 'ava';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLocalQemu, measureAround, parseVmRss, qemuRssReader } from '../../../controller/energy/memory.js';

test('VmRSS is read in KiB and returned in bytes', (t) => {
  t.is(parseVmRss('Name:\tqemu-system-x86\nVmPeak:\t 999 kB\nVmRSS:\t  215040 kB\nRssAnon:\t 1 kB\n'), 215040 * 1024);
  t.is(parseVmRss('Name:\tzombie\n'), undefined);
});

test('only a local qemu system instance is measured', (t) => {
  t.true(isLocalQemu('qemu:///system'));
  t.true(isLocalQemu('qemu+unix:///system?socket=/run/x'));
  t.false(isLocalQemu('qemu+ssh://host/system'));
  t.false(isLocalQemu('test:///default'));
  t.false(isLocalQemu('qemu:///session'));
});

test('reader: PID file -> /proc/PID/status; no PID file or process means gone (0); other URIs unmeasured', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-rss-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const run = join(dir, 'run');
  const proc = join(dir, 'proc');
  await mkdir(join(proc, '4242'), { recursive: true });
  await mkdir(run);
  await writeFile(join(run, 'dom1.pid'), '4242\n');
  await writeFile(join(proc, '4242', 'status'), 'Name:\tqemu\nVmRSS:\t  1000 kB\n');
  await writeFile(join(run, 'stale.pid'), '4343\n');
  await writeFile(join(run, 'junk.pid'), 'not a pid\n');
  const read = qemuRssReader(run, proc);
  t.is(await read('qemu:///system', 'dom1'), 1000 * 1024);
  t.is(await read('qemu:///system', 'saved'), 0, 'no PID file: the process is gone');
  t.is(await read('qemu:///system', 'stale'), 0, 'stale PID file: the process is gone');
  t.is(await read('qemu:///system', 'junk'), undefined);
  t.is(await read('test:///default', 'dom1'), undefined);
});

test('measureAround reads before and after the operation; an unmeasurable read gives undefined, never a failed park', async (t) => {
  const seen: string[] = [];
  let rss = 500;
  const r = await measureAround(async () => (seen.push(`read ${rss}`), rss), 'qemu:///system', 'd', async () => {
    seen.push('park');
    rss = 0;
  });
  t.deepEqual(r, { beforeBytes: 500, afterBytes: 0 });
  t.deepEqual(seen, ['read 500', 'park', 'read 0']);
  t.is(await measureAround(async () => { throw new Error('EACCES'); }, 'qemu:///system', 'd', async () => undefined), undefined);
  await t.throwsAsync(measureAround(async () => 1, 'qemu:///system', 'd', async () => { throw new Error('park failed'); }), { message: 'park failed' });
});

test('VmSwap and zram mm_stat are parsed (bytes; same_pages in pages); malformed stats are unmeasured', async (t) => {
  const { parseVmSwap, parseZramMmStat } = await import('../../../controller/energy/memory.js');
  t.is(parseVmSwap('VmRSS:\t 72000 kB\nVmSwap:\t  168124 kB\n'), 168124 * 1024);
  t.is(parseVmSwap('VmRSS:\t 1 kB\n'), undefined);
  t.deepEqual(parseZramMmStat('96239616 50560199 53772288        0 90775552     1636        0     4820    30216\n'), { origBytes: 96239616, comprBytes: 50560199, memUsedBytes: 53772288, samePages: 1636 });
  t.is(parseZramMmStat('1 2 3'), undefined);
  t.is(parseZramMmStat('a b c d e f'), undefined);
});

test('the compressed copy is attributed by zram ratio: mem_used_total / (orig + same pages); none without zram', async (t) => {
  const { offloadOf } = await import('../../../controller/energy/memory.js');
  const MIB = 2 ** 20;
  // 64 MiB stored as data + 64 MiB zero pages, 32 MiB of RAM used: a swapped MiB costs 0.25 MiB.
  t.deepEqual(offloadOf(100 * MIB, { origBytes: 64 * MIB, comprBytes: 30 * MIB, memUsedBytes: 32 * MIB, samePages: (64 * MIB) / 4096 }), { swappedBytes: 100 * MIB, compressedBytes: 25 * MIB });
  t.deepEqual(offloadOf(100 * MIB, undefined), { swappedBytes: 100 * MIB, compressedBytes: 0 }, 'swap on a disk costs no RAM');
  t.deepEqual(offloadOf(0, { origBytes: 0, comprBytes: 0, memUsedBytes: 0, samePages: 0 }), { swappedBytes: 0, compressedBytes: 0 });
});

test('offload reader: VmSwap of the QEMU from its PID file, zram summed over devices in use; other URIs unmeasured', async (t) => {
  const { qemuOffloadReader, readZramStats } = await import('../../../controller/energy/memory.js');
  const dir = await mkdtemp(join(tmpdir(), 'seamless-swap-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const run = join(dir, 'run');
  const proc = join(dir, 'proc');
  const sys = join(dir, 'block');
  await mkdir(join(proc, '77'), { recursive: true });
  await mkdir(run);
  for (const [d, size, mm] of [['zram0', '4294967296', '4096 1024 2048 0 0 1 0 0 0'], ['zram1', '0', '9 9 9 0 0 9 0 0 0'], ['zram2', '1024', '4096 1024 2048 0 0 1 0 0 0']] as const) {
    await mkdir(join(sys, d), { recursive: true });
    await writeFile(join(sys, d, 'disksize'), `${size}\n`);
    await writeFile(join(sys, d, 'mm_stat'), mm);
  }
  await mkdir(join(sys, 'sda'));
  await writeFile(join(run, 'vm.pid'), '77\n');
  await writeFile(join(proc, '77', 'status'), 'VmRSS:\t 100 kB\nVmSwap:\t 8 kB\n');
  t.deepEqual(await readZramStats(sys), { origBytes: 8192, comprBytes: 2048, memUsedBytes: 4096, samePages: 2 }, 'zram1 (no disk size) is not counted');
  t.is(await readZramStats(join(dir, 'nothing')), undefined);
  const read = qemuOffloadReader(run, proc, sys);
  // 8 KiB swapped x 4096 / (8192 + 2 x 4096) = 2 KiB.
  t.deepEqual(await read('qemu:///system', 'vm'), { swappedBytes: 8192, compressedBytes: 2048 });
  t.is(await read('qemu:///system', 'gone'), undefined);
  t.is(await read('qemu+ssh://h/system', 'vm'), undefined);
});

test('measureAround with an offload reader: swap and compressed copy after the park, and the copy before it', async (t) => {
  let swapped = 0;
  let rss = 300;
  const r = await measureAround(async () => rss, 'qemu:///system', 'd', async () => {
    rss = 60;
    swapped = 200;
  }, async () => ({ swappedBytes: swapped, compressedBytes: swapped / 4 }));
  t.deepEqual(r, { beforeBytes: 300, afterBytes: 60, swappedBytes: 200, compressedBytes: 50, compressedBeforeBytes: 0 });
});

test('released = (RSS + zram copy) before - (RSS + zram copy) after; a guest reclaimed before counts what was already out', async (t) => {
  const { parkMemoryFrom } = await import('../../../controller/energy/released.js');
  t.deepEqual(parkMemoryFrom({ beforeBytes: 300, afterBytes: 60, swappedBytes: 200, compressedBytes: 50, compressedBeforeBytes: 0 }), { residentBytes: 300, releasedBytes: 190, swappedBytes: 200, compressedBytes: 50 });
  // Second park: 80 resident (20 faulted back), 48 of zram copy already before.
  t.deepEqual(parkMemoryFrom({ beforeBytes: 80, afterBytes: 60, swappedBytes: 200, compressedBytes: 50, compressedBeforeBytes: 48 }), { residentBytes: 128, releasedBytes: 18, swappedBytes: 200, compressedBytes: 50 });
  t.deepEqual(parkMemoryFrom({ beforeBytes: 300, afterBytes: 0 }), { residentBytes: 300, releasedBytes: 300 }, 'save: RSS only');
  t.deepEqual(parkMemoryFrom({ beforeBytes: 100, afterBytes: 120 }), { residentBytes: 100, releasedBytes: 0 }, 'grown: nothing released');
});
