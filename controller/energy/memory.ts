// Measures the memory a park releases: the resident set (VmRSS) of the
// domain's QEMU process, read from /proc, and for depth reclaim where its
// pages went: VmSwap, and what zram holds for them (/sys/block/zram*/mm_stat). I/O, used by the park shell
// (park/app.ts) around the libvirt operation; the numbers reach the machine as
// event data (libvirt_done.memory). docs/energy.md, "Memory released".
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Hypervisor } from '../libvirt/hypervisor.js';

/** Where libvirt's QEMU driver writes each running domain's PID (system instance). */
export const LIBVIRT_QEMU_RUN_DIR = '/var/run/libvirt/qemu';

/** Reads a domain's QEMU RSS in bytes; 0 when the process is gone; undefined when it cannot be measured. */
export type RssReader = (uri: string, domain: string) => Promise<number | undefined>;

/** VmRSS of /proc/PID/status in bytes (the kernel prints kB = KiB); undefined when the line is absent. */
export function parseVmRss(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** VmSwap of /proc/PID/status in bytes (kB = KiB); undefined when the line is absent (kernel without swap accounting). */
export function parseVmSwap(status: string): number | undefined {
  const m = /^VmSwap:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** A zram device's own statistics (Documentation/admin-guide/blockdev/zram.rst, mm_stat), bytes. */
export interface ZramStats {
  /** Uncompressed data stored (orig_data_size). */
  readonly origBytes: number;
  /** Compressed data stored (compr_data_size). */
  readonly comprBytes: number;
  /** RAM the device uses, allocator overhead included (mem_used_total): what the host really spends. */
  readonly memUsedBytes: number;
  /** Pages stored as one repeated word (same_pages, zero pages mostly): no memory, and not in origBytes. */
  readonly samePages: number;
}

/** The kernel's page size on x86-64 (zram counts same_pages in pages). */
const PAGE = 4096;

/** Parses mm_stat: `orig_data_size compr_data_size mem_used_total mem_limit mem_used_max same_pages ...`. */
export function parseZramMmStat(text: string): ZramStats | undefined {
  const f = text.trim().split(/\s+/).map(Number);
  if (f.length < 6 || f.slice(0, 6).some((n) => !Number.isSafeInteger(n) || n < 0)) return undefined;
  return { origBytes: f[0]!, comprBytes: f[1]!, memUsedBytes: f[2]!, samePages: f[5]! };
}

/** The sum over every zram device of this host that has a disk size (in use); undefined when there is none. */
export async function readZramStats(sysBlock = '/sys/block'): Promise<ZramStats | undefined> {
  let names: string[];
  try {
    names = (await readdir(sysBlock)).filter((n) => /^zram\d+$/.test(n));
  } catch {
    return undefined;
  }
  let sum: ZramStats | undefined;
  for (const n of names) {
    try {
      if (Number((await readFile(join(sysBlock, n, 'disksize'), 'utf8')).trim()) === 0) continue;
      const s = parseZramMmStat(await readFile(join(sysBlock, n, 'mm_stat'), 'utf8'));
      if (s === undefined) continue;
      sum = {
        origBytes: (sum?.origBytes ?? 0) + s.origBytes,
        comprBytes: (sum?.comprBytes ?? 0) + s.comprBytes,
        memUsedBytes: (sum?.memUsedBytes ?? 0) + s.memUsedBytes,
        samePages: (sum?.samePages ?? 0) + s.samePages,
      };
    } catch {
      // A device removed between readdir and read: skip it.
    }
  }
  return sum;
}

/** Where a parked QEMU's pages went: swapped out (bytes), and the RAM their compressed copy still takes. */
export interface Offload {
  readonly swappedBytes: number;
  /** RAM zram spends on those pages: swappedBytes x the devices' mem_used_total / (orig_data_size + same pages); 0 without zram (swap on disk). */
  readonly compressedBytes: number;
}

/** Reads a domain's QEMU swap and its compressed copy; undefined when it cannot be measured. */
export type OffloadReader = (uri: string, domain: string) => Promise<Offload | undefined>;

/**
 * The compressed copy is attributed by ratio, not by the change of zram's
 * totals around the park: zram's statistics are per device, not per process,
 * so a delta would count every other VM parking or waking at the same time.
 */
export function offloadOf(swappedBytes: number, zram: ZramStats | undefined): Offload {
  const stored = zram === undefined ? 0 : zram.origBytes + zram.samePages * PAGE;
  if (zram === undefined || stored === 0) return { swappedBytes, compressedBytes: 0 };
  return { swappedBytes, compressedBytes: Math.round((swappedBytes * zram.memUsedBytes) / stored) };
}

/** VmSwap of the domain's local QEMU (PID file as for the RSS) and zram's statistics of this host. */
export function qemuOffloadReader(runDir = LIBVIRT_QEMU_RUN_DIR, procDir = '/proc', sysBlock = '/sys/block'): OffloadReader {
  return async (uri, domain) => {
    if (!isLocalQemu(uri)) return undefined;
    try {
      const pid = Number((await readFile(join(runDir, `${domain}.pid`), 'utf8')).trim());
      if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
      const swapped = parseVmSwap(await readFile(join(procDir, String(pid), 'status'), 'utf8'));
      return swapped === undefined ? undefined : offloadOf(swapped, await readZramStats(sysBlock));
    } catch {
      return undefined; // process gone or unreadable: nothing swapped that we can attribute
    }
  };
}

/** Only a local QEMU system instance writes its PID files where we look. */
export function isLocalQemu(uri: string): boolean {
  return /^qemu(\+unix)?:\/\/\/system(\?|$)/.test(uri);
}

function errno(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The RSS reader for libvirt's local QEMU driver: PID from RUN_DIR/DOMAIN.pid,
 * RSS from /proc/PID/status. A missing PID file or process means the process
 * is gone (saved or shut off): 0 bytes resident. Other URIs (remote hosts, the
 * test driver) cannot be measured from here: undefined.
 */
export function qemuRssReader(runDir = LIBVIRT_QEMU_RUN_DIR, procDir = '/proc'): RssReader {
  return async (uri, domain) => {
    if (!isLocalQemu(uri)) return undefined;
    let pid: number;
    try {
      pid = Number((await readFile(join(runDir, `${domain}.pid`), 'utf8')).trim());
    } catch (e) {
      if (errno(e) === 'ENOENT') return 0;
      return undefined;
    }
    if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
    try {
      return parseVmRss(await readFile(join(procDir, String(pid), 'status'), 'utf8')) ?? 0;
    } catch (e) {
      // ESRCH/ENOENT: the process exited between the two reads (stale PID file).
      if (errno(e) === 'ENOENT' || errno(e) === 'ESRCH') return 0;
      return undefined;
    }
  };
}

/**
 * RSS through libvirt's domain memory stats (`rss`, KiB), for hosts whose /proc
 * is not ours (remote URIs): a shut-off domain has no process (0); a driver or
 * domain without the stat gives undefined.
 */
export function libvirtRssReader(hv: Pick<Hypervisor, 'getState' | 'memoryStats'>): RssReader {
  return async (_uri, domain) => {
    if (hv.memoryStats === undefined) return undefined;
    if ((await hv.getState(domain)).state === 'shutoff') return 0;
    const kib = (await hv.memoryStats(domain)).get('rss');
    return kib === undefined ? undefined : Number(kib) * 1024;
  };
}

/**
 * RSS before and after a park (bytes), and the swap and its compressed copy
 * after it and before it (a guest reclaimed before keeps pages it has not
 * touched since in swap while it runs); the machine's libvirt_done.memory.
 */
export interface RssAround {
  readonly beforeBytes: number;
  readonly afterBytes: number;
  readonly swappedBytes?: number;
  readonly compressedBytes?: number;
  readonly compressedBeforeBytes?: number;
}

/**
 * Runs `op` (the park) between two RSS reads of the domain's QEMU. Undefined
 * when either read cannot measure; a failed read never fails the park.
 */
export async function measureAround(read: RssReader, uri: string, domain: string, op: () => Promise<unknown>, offload?: OffloadReader): Promise<RssAround | undefined> {
  const before = await read(uri, domain).catch(() => undefined);
  const offBefore = offload === undefined || before === undefined ? undefined : await offload(uri, domain).catch(() => undefined);
  await op();
  if (before === undefined) return undefined;
  const after = await read(uri, domain).catch(() => undefined);
  if (after === undefined) return undefined;
  const off = offload === undefined ? undefined : await offload(uri, domain).catch(() => undefined);
  if (off === undefined) return { beforeBytes: before, afterBytes: after };
  return { beforeBytes: before, afterBytes: after, ...off, compressedBeforeBytes: offBefore?.compressedBytes ?? 0 };
}
