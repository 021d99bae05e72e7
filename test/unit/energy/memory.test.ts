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
