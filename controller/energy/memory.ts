// Measures the memory a park releases: the resident set (VmRSS) of the
// domain's QEMU process, read from /proc. I/O, used by the park shell
// (park/app.ts) around the libvirt operation; the numbers reach the machine as
// event data (libvirt_done.memory). docs/energy.md, "Memory released".
import { readFile } from 'node:fs/promises';
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

/** RSS before and after a park (bytes); the machine's libvirt_done.memory. */
export interface RssAround {
  readonly beforeBytes: number;
  readonly afterBytes: number;
}

/**
 * Runs `op` (the park) between two RSS reads of the domain's QEMU. Undefined
 * when either read cannot measure; a failed read never fails the park.
 */
export async function measureAround(read: RssReader, uri: string, domain: string, op: () => Promise<void>): Promise<RssAround | undefined> {
  const before = await read(uri, domain).catch(() => undefined);
  await op();
  if (before === undefined) return undefined;
  const after = await read(uri, domain).catch(() => undefined);
  return after === undefined ? undefined : { beforeBytes: before, afterBytes: after };
}
