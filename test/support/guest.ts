// Harness for tests with real tiny VMs (libvirt + QEMU TCG, mininet/guest/build.sh).
// Guests get unique names and MACs, are registered for cleanup with the test that made
// them (destroy + undefine including any managed-save image), and are also removed when
// the test process exits. It drives libvirt through `virsh`, deliberately not through
// controller/libvirt: the harness is an independent oracle for the adapter under test.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { domainXml } from '../../controller/libvirt/domainXml.js';
import { run, CommandError, type Teardown } from './exec.js';

export { CommandError, type Teardown } from './exec.js';

/** Prefix of every domain, netns and veth this harness creates (CI may remove stale ones by it). */
export const GUEST_PREFIX = 'tsg';

// ../.. from test/support; ../../.. when compiled to dist/test/support (bench:wake runs from dist).
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = [path.resolve(HERE, '../..'), path.resolve(HERE, '../../..')].find((d) => existsSync(path.join(d, 'mininet/guest/build.sh'))) ?? path.resolve(HERE, '../..');
/** Where build.sh puts the kernel + initramfs (cached across runs by input hash). */
export const GUEST_IMAGE_DIR = process.env['SEAMLESS_GUEST_DIR'] ?? '/var/tmp/seamless-guest';
const URI = 'qemu:///system';

/** Runs `virsh -c qemu:///system args...`. */
export function virsh(...args: string[]): Promise<string> {
  return run('virsh', ['-c', URI, ...args], { timeoutMs: 60_000 });
}

let libvirtReady: Promise<void> | undefined;

/** Makes sure libvirtd (and virtlogd) answer, starting them when they do not. Checked once per process. */
export function ensureLibvirt(): Promise<void> {
  libvirtReady ??= (async () => {
    try {
      await run('virsh', ['-c', URI, 'version'], { timeoutMs: 10_000 });
      return;
    } catch {
      // Not running: start below.
    }
    try {
      // The one way the project starts libvirtd (huge pages off; see the script).
      await run('bash', [path.join(REPO, 'mininet/start-libvirtd.sh')], { timeoutMs: 30_000 });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new Error(`libvirt is not usable (run mininet/setup.sh as root): ${why}`, { cause: e });
    }
  })();
  libvirtReady.catch(() => {
    libvirtReady = undefined;
  });
  return libvirtReady;
}

export interface GuestImage {
  kernel: string;
  initrd: string;
}

let image: Promise<GuestImage> | undefined;

/** Builds (or reuses the cached) guest kernel + initramfs. */
export function guestImage(): Promise<GuestImage> {
  image ??= run('bash', [path.join(REPO, 'mininet/guest/build.sh'), GUEST_IMAGE_DIR], { timeoutMs: 180_000 }).then(() => ({
    kernel: path.join(GUEST_IMAGE_DIR, 'vmlinuz'),
    initrd: path.join(GUEST_IMAGE_DIR, 'initrd.cpio.gz'),
  }));
  image.catch(() => {
    image = undefined;
  });
  return image;
}

export interface GuestOptions {
  /** OVS bridge to attach the NIC to (must exist). */
  bridge: string;
  /** Guest address with prefix length, e.g. '10.0.0.11/24'. */
  ip: string;
  /** Default gateway inside the guest. */
  gw?: string;
  /** Name shown in the HTTP body ("hello from NAME") and TCP banner; default the domain name. */
  label?: string;
  /** Domain name; default a unique `tsg...` name. */
  name?: string;
  /** Default 128. */
  memoryMiB?: number;
  /** Default a random locally administered unicast MAC. */
  mac?: string;
  /** Default 80. */
  httpPort?: number;
  /** TCP banner+echo service port; default 22. */
  tcpPort?: number;
  /** Data the guest writes into its RAM at boot: 'random:MiB' or 'zero:MiB' (mininet/guest/build.sh seamless.fill; GET /cgi-bin/touch reads it all). */
  fill?: string;
  /** Start the domain (default true). With false it is only defined. */
  start?: boolean;
  /** How long to wait for the ready marker on the console (default 60 s). */
  readyTimeoutMs?: number;
  /**
   * The tap's name (libvirt `<target dev>`); default libvirt's vnetN. A park
   * engine finds the VM's port by this name, which must survive a save/restore.
   */
  targetDev?: string;
}

export interface Guest {
  /** libvirt domain name. */
  name: string;
  mac: string;
  /** Address without prefix length. */
  ip: string;
  label: string;
  httpPort: number;
  tcpPort: number;
  /** Serial console log file. */
  consoleLog: string;
  /** The exact body the guest's HTTP service returns. */
  expectedBody: string;
  /** Resolves once the console shows this boot's ready marker (call after a cold start). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Current console log text. */
  console(): string;
  /** Destroys and undefines the domain (incl. managed save). Idempotent. */
  remove(): Promise<void>;
}

const live = new Set<string>();
let exitHookInstalled = false;
let counter = 0;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const name of live) removeDomainSync(name);
    for (const ns of liveNetns) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // Exiting: nothing more to do.
      }
    }
  });
}

function removeDomainSync(name: string): void {
  for (const args of [['destroy', name], ['undefine', '--managed-save', name]]) {
    try {
      execFileSync('virsh', ['-c', URI, ...args], { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // Already gone or not running.
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A unique name with the harness prefix (domain names, netns names). */
export function uniqueGuestName(): string {
  counter += 1;
  return `${GUEST_PREFIX}${process.pid.toString(36)}${counter.toString(36)}${randomBytes(2).toString('hex')}`;
}

/** Random locally administered (bit 1 set), unicast (bit 0 clear) MAC. */
export function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Removes a domain: destroy (if running) then undefine with its managed-save image. */
export async function removeDomain(name: string): Promise<void> {
  try {
    await virsh('destroy', name);
  } catch (e) {
    if (!(e instanceof CommandError)) throw e; // not running or not defined: fine
  }
  try {
    await virsh('undefine', '--managed-save', name);
  } catch (e) {
    if (!(e instanceof CommandError) || !/failed to get domain|Domain not found/i.test(e.stderr)) throw e;
  }
  live.delete(name);
}

/**
 * Defines a tiny guest on `opts.bridge` and (by default) starts it and waits until its
 * services listen (console ready marker). With `t`, it is removed when the test ends.
 */
export async function createGuest(t: Teardown | undefined, opts: GuestOptions): Promise<Guest> {
  await ensureLibvirt();
  const img = await guestImage();
  installExitHook();
  const name = opts.name ?? uniqueGuestName();
  const label = opts.label ?? name;
  const mac = opts.mac ?? randomMac();
  const httpPort = opts.httpPort ?? 80;
  const tcpPort = opts.tcpPort ?? 22;
  const slash = opts.ip.indexOf('/');
  if (slash < 0) throw new RangeError(`guest ip must have a prefix length, got ${opts.ip}`);
  const consoleDir = path.join(GUEST_IMAGE_DIR, 'console');
  mkdirSync(consoleDir, { recursive: true });
  const consoleLog = path.join(consoleDir, `${name}.log`);
  writeFileSync(consoleLog, '');
  const cmdline = [
    `seamless.ip=${opts.ip}`,
    `seamless.name=${label}`,
    `seamless.http=${httpPort}`,
    `seamless.tcp=${tcpPort}`,
    ...(opts.gw === undefined ? [] : [`seamless.gw=${opts.gw}`]),
    ...(opts.fill === undefined ? [] : [`seamless.fill=${opts.fill}`]),
    'quiet',
  ].join(' ');
  const xml = domainXml({
    name,
    memoryMiB: opts.memoryMiB ?? 128,
    mac,
    bridge: opts.bridge,
    kernel: img.kernel,
    initrd: img.initrd,
    cmdline,
    consoleLog,
    ...(opts.targetDev === undefined ? {} : { targetDev: opts.targetDev }),
  });
  live.add(name);
  const guest: Guest = {
    name,
    mac,
    ip: opts.ip.slice(0, slash),
    label,
    httpPort,
    tcpPort,
    consoleLog,
    expectedBody: `hello from ${label}\n`,
    console: () => (existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : ''),
    waitReady: (timeoutMs = opts.readyTimeoutMs ?? 60_000) => waitForConsole(guest, readyMarker(label), timeoutMs),
    remove: async () => {
      await removeDomain(name);
      rmSync(consoleLog, { force: true });
    },
  };
  t?.teardown(() => guest.remove());
  const xmlFile = path.join(consoleDir, `${name}.xml`);
  writeFileSync(xmlFile, xml);
  try {
    await virsh('define', xmlFile);
  } finally {
    rmSync(xmlFile, { force: true });
  }
  if (opts.start ?? true) {
    await virsh('start', name);
    await guest.waitReady();
  }
  return guest;
}

/** The line /init prints once httpd and the TCP service listen. */
export function readyMarker(label: string): string {
  return `SEAMLESS-READY ${label} `;
}

/** Polls the console log until it contains `marker` (bounded). */
export async function waitForConsole(guest: Guest, marker: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (guest.console().includes(marker)) return;
    await sleep(100);
  }
  const tail = guest.console().split('\n').slice(-15).join('\n');
  throw new Error(`guest ${guest.name} did not print '${marker}' within ${timeoutMs} ms; console tail:\n${tail}`);
}

// ---- a host in a network namespace on the same bridge, to talk to guests ----

const liveNetns = new Set<string>();

export interface NetnsHost {
  netns: string;
  /** Interface name inside the namespace. */
  iface: string;
  /** OVS port name (host side of the veth). */
  port: string;
  ip: string;
  /** Runs a command inside the namespace, returns stdout. */
  exec(cmd: string, args: string[], timeoutMs?: number): Promise<string>;
  remove(): Promise<void>;
}

/**
 * Creates a netns with a veth whose peer is an OVS port on `bridge`, TX checksum offload
 * off on both ends (the userspace datapath needs it for TCP). `ip` has a prefix length.
 */
export async function createNetnsHost(t: Teardown | undefined, bridge: string, ip: string): Promise<NetnsHost> {
  installExitHook();
  const netns = uniqueGuestName();
  const id = netns.slice(GUEST_PREFIX.length).slice(-11);
  const iface = `${GUEST_PREFIX}i${id}`.slice(0, 15);
  const port = `${GUEST_PREFIX}p${id}`.slice(0, 15);
  liveNetns.add(netns);
  const host: NetnsHost = {
    netns,
    iface,
    port,
    ip: ip.split('/')[0]!,
    exec: (cmd, args, timeoutMs = 30_000) => run('ip', ['netns', 'exec', netns, cmd, ...args], { timeoutMs }),
    remove: async () => {
      await run('ovs-vsctl', ['--timeout=10', '--if-exists', 'del-port', bridge, port]).catch(() => undefined);
      await run('ip', ['link', 'del', port]).catch(() => undefined);
      await run('ip', ['netns', 'del', netns]).catch(() => undefined);
      liveNetns.delete(netns);
    },
  };
  t?.teardown(() => host.remove());
  await run('ip', ['netns', 'add', netns]);
  await run('ip', ['link', 'add', iface, 'type', 'veth', 'peer', 'name', port]);
  await run('ip', ['link', 'set', iface, 'netns', netns]);
  await run('ovs-vsctl', ['--timeout=10', 'add-port', bridge, port]);
  await run('ip', ['link', 'set', port, 'up']);
  await run('ethtool', ['-K', port, 'tx', 'off']);
  await host.exec('ip', ['addr', 'add', ip, 'dev', iface]);
  await host.exec('ip', ['link', 'set', iface, 'up']);
  await host.exec('ip', ['link', 'set', 'lo', 'up']);
  await host.exec('ethtool', ['-K', iface, 'tx', 'off']);
  return host;
}

/** One HTTP GET from inside the namespace: body, or throws CommandError (curl's exit code). */
export function httpGet(host: NetnsHost, url: string, timeoutSec = 3): Promise<string> {
  return host.exec('curl', ['-sS', '--fail', '--max-time', String(timeoutSec), url], (timeoutSec + 5) * 1000);
}

/**
 * One TCP exchange from inside the namespace with busybox nc: sends `input`, returns all
 * the guest wrote until it closed (the guest's TCP service sends a banner, then echoes).
 */
export function tcpExchange(host: NetnsHost, ip: string, port: number, input: string, timeoutSec = 3): Promise<string> {
  return run('ip', ['netns', 'exec', host.netns, 'timeout', String(timeoutSec + 2), 'busybox', 'nc', '-w', String(timeoutSec), ip, String(port)], {
    input,
    timeoutMs: (timeoutSec + 5) * 1000,
  });
}

/** Polls `httpGet` until it answers (bounded by timeoutMs). Resolves with the body and the time it took. */
export async function waitForHttp(host: NetnsHost, url: string, timeoutMs = 30_000): Promise<{ body: string; ms: number }> {
  const t0 = performance.now();
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const body = await httpGet(host, url, 1);
      return { body, ms: performance.now() - t0 };
    } catch (e) {
      last = e;
      await sleep(50);
    }
  }
  throw new Error(`no HTTP answer from ${url} within ${timeoutMs} ms: ${last instanceof Error ? last.message : String(last)}`);
}
