// The SEaMLESS testbed from a TypeScript test: Mininet switches + hosts + libvirt
// VMs, laid out by an inventory (topologies/testbed.yaml, or with several
// switches and their links topologies/fabric-testbed.yaml: fabric mode).
// mininet/testbed.py (Debian's Python) builds and holds it; this module writes
// its spec, waits for its READY line, runs commands inside hosts with
// `mnexec -a PID` (no shell, in parallel), and stops it. Cleanup runs on
// stop(), on the test's teardown, and as a last resort on process exit (the
// Python side then still tears down VMs and Mininet by itself: stdin closes).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Inventory, VmSpec } from '../../controller/inventory/types.js';
import { domainXml } from '../../controller/libvirt/domainXml.js';
import { atExit, run, type Teardown } from './exec.js';
import { GUEST_IMAGE_DIR, readyMarker, virsh } from './guest.js';
import { DEBIAN_PYTHON } from './mininet.js';
import { dumpFlows, ensureOvs, type Flow } from './ovs.js';

// ../.. from test/support; ../../.. when compiled to dist/test/support (npm run bench:wake runs from dist).
const REPO = [fileURLToPath(new URL('../../', import.meta.url)), fileURLToPath(new URL('../../../', import.meta.url))].find((d) => existsSync(path.join(d, 'mininet/testbed.py'))) ?? fileURLToPath(new URL('../../', import.meta.url));
const TESTBED_PY = path.resolve(REPO, 'mininet/testbed.py');

export interface TestbedOptions {
  inventory: Inventory;
  /** Our controller on 127.0.0.1:PORT. */
  controllerPort: number;
  /** Guest RAM (default 128 MiB: 2 cores, keep it small). */
  memoryMiB?: number;
  /** Extra guest kernel arguments per VM name, e.g. { vm3: 'seamless.service_delay=2' } (mininet/guest/build.sh). */
  guestArgs?: Readonly<Record<string, string>>;
  /**
   * Wait (up to 30 s) for the switch to reach the controller before READY (default true).
   * false: the controller may start after the testbed, e.g. so that it never sees (and
   * parks) guests that are still booting.
   */
  waitConnected?: boolean;
  /** Bound on the whole start, lock wait included (default 240 s). */
  startTimeoutMs?: number;
  /**
   * Fabric mode: the switch-to-switch links, [a, b] each (an inventory has no links;
   * leafSpineLinks() makes them). Required when the inventory has several switches.
   * Mininet numbers a switch's ports links first, in this order, then its hosts.
   */
  links?: ReadonlyArray<readonly [string, string]>;
}

/** A switch-to-switch link as Mininet made it (both ends' OpenFlow port and interface). */
export interface TestbedLink {
  a: string;
  aPort: number;
  aIntf: string;
  b: string;
  bPort: number;
  bIntf: string;
}

/** Packets seen by one tcpdump: count() stops it. */
export interface Capture {
  /** Stops the capture; the packet lines it printed. */
  lines(): Promise<string[]>;
  /** Stops the capture; how many packets matched. */
  count(): Promise<number>;
}

export interface TestbedHost {
  name: string;
  pid: number;
  /** Interface inside the host, e.g. h1-eth0. */
  intf: string;
  /** Switch port it is linked to, e.g. s1-eth1. */
  port: string;
  ip: string;
  mac: string;
}

export interface TestbedVm {
  spec: VmSpec;
  domain: string;
  /** The exact body its HTTP service returns (names the VM). */
  expectedBody: string;
  consoleLog: string;
}

export interface Testbed {
  /** The first switch of the inventory (the only one outside fabric mode). */
  switchName: string;
  /** Every switch, in inventory order. */
  switches: string[];
  /** Switch-to-switch links (empty outside fabric mode). */
  links: TestbedLink[];
  hosts: Record<string, TestbedHost>;
  vms: Record<string, TestbedVm>;
  /** OVS ports of the switch when it came up. */
  ports: string[];
  seconds: Record<string, number>;
  /** Runs `cmd args...` inside a host (no shell) and returns stdout; CommandError on failure. */
  exec(host: string, cmd: string, args: readonly string[], timeoutMs?: number): Promise<string>;
  /** The argv prefix that runs a program inside a host (for spawn). */
  prefix(host: string): string[];
  /** libvirt's view of a VM: `virsh domstate` and whether a managed-save image exists. */
  domState(vm: string): Promise<{ state: string; managedSave: boolean }>;
  /** A switch's flow table (ovs-ofctl -O OpenFlow13 dump-flows); default: the first switch. */
  flows(sw?: string): Promise<Flow[]>;
  /** Both ends of the link between switches a and b down (up: false) or up again, as a pulled cable. */
  setLink(a: string, b: string, up: boolean): Promise<void>;
  /**
   * Moves a VM's tap to another switch: `ovs-vsctl del-port`, then `add-port` with the
   * same name (and libvirt's external_ids kept), as a migration or a restore on
   * another host looks to the network. The guest keeps running.
   */
  moveTap(vm: string, toSwitch: string): Promise<void>;
  /** The switch a VM's tap is on now (ovs-vsctl port-to-br). */
  tapSwitch(vm: string): Promise<string>;
  /** tcpdump inside a host (default on its own interface) with a pcap filter; resolves once it listens. */
  capture(host: string, filter: string, intf?: string): Promise<Capture>;
  /** What testbed.py logged so far. */
  log(): string;
  /** Tears everything down (VMs, Mininet). Idempotent. */
  stop(): Promise<void>;
}

/** testbed.py failed or timed out before it was ready. */
export class TestbedError extends Error {
  readonly code = 'TESTBED_FAILED';
  constructor(message: string, readonly output: string) {
    super(`${message}${output.trim() === '' ? '' : `\n${output.trim().slice(-4000)}`}`);
    this.name = 'TestbedError';
  }
}

/** Links of a leaf-spine fabric: every switch of `inv` that is not a spine on every spine, leaf by leaf (inventory order). */
export function leafSpineLinks(inv: Inventory, spines: readonly string[]): Array<[string, string]> {
  for (const s of spines) if (!inv.switches.some((w) => w.name === s)) throw new TestbedError(`spine ${s} is not a switch of the inventory ${inv.file}`, '');
  return inv.switches.filter((w) => !spines.includes(w.name)).flatMap((leaf) => spines.map((s): [string, string] => [leaf.name, s]));
}

/** `port: s1-eth3` -> 3: Mininet numbers a switch's links in the order they are added. */
function ethIndex(port: string | number | undefined, sw: string, what: string): number {
  const m = typeof port === 'string' ? new RegExp(`^${sw}-eth(\\d+)$`).exec(port) : null;
  if (m === null) throw new TestbedError(`${what}: port must be named ${sw}-ethN for the Mininet testbed, got ${String(port)}`, '');
  return Number(m[1]);
}

/** A host or sink of the inventory as the testbed lays it out. */
export interface PlainHost {
  name: string;
  ip: string;
  mac: string | undefined;
  port: string | number | undefined;
  switch: string;
  what: string;
  /** N of its port <switch>-ethN. */
  idx: number;
}

/**
 * The inventory's hosts and sinks in the order the testbed adds them, checked against
 * Mininet's port numbering: per switch, its `links` take ports 1..k (added first),
 * its hosts k+1.. without gaps. Throws TestbedError naming the host, link or VM
 * that does not fit.
 */
export function testbedLayout(inv: Inventory, links: ReadonlyArray<readonly [string, string]>): PlainHost[] {
  const names = new Set(inv.switches.map((w) => w.name));
  if (inv.switches.length > 1 && links.length === 0) {
    throw new TestbedError(`the inventory ${inv.file} has ${inv.switches.length} switches: fabric mode needs their links (TestbedOptions.links, e.g. leafSpineLinks())`, '');
  }
  for (const [a, b] of links) {
    if (!names.has(a) || !names.has(b) || a === b) throw new TestbedError(`link ${a}-${b}: both ends must be different switches of the inventory ${inv.file}`, '');
  }
  for (const v of inv.vms) if (!names.has(v.switch)) throw new TestbedError(`vm ${v.name}: switch ${v.switch} is not in the inventory ${inv.file}`, '');
  const plain = [
    ...inv.hosts.map((h) => ({ name: h.name, ip: h.ip, mac: h.mac, port: h.port, switch: h.switch, what: `host ${h.name}` })),
    ...inv.sinks.map((s) => ({ name: s.name, ip: s.ip, mac: s.mac, port: s.port, switch: s.switch, what: `sink ${s.name}` })),
  ];
  // Per switch: its links take ports 1..k (Mininet adds them first), its hosts k+1.. in port order.
  return inv.switches.flatMap((sw) => {
    const k = links.filter(([a, b]) => a === sw.name || b === sw.name).length;
    const on = plain
      .filter((h) => h.switch === sw.name)
      .map((h) => ({ ...h, idx: ethIndex(h.port, sw.name, h.what) }))
      .sort((a, b) => a.idx - b.idx);
    on.forEach((h, i) => {
      if (h.idx !== k + i + 1) {
        throw new TestbedError(`${h.what}: ports on ${sw.name} must be ${sw.name}-eth${k + 1}..${k + on.length} without gaps (${k} switch links come first), got ${String(h.port)}`, '');
      }
      if (h.mac === undefined) throw new TestbedError(`${h.what}: needs a mac`, '');
    });
    return on;
  });
}

/**
 * Starts the testbed for `inventory` (one switch; hosts and sinks become
 * Mininet hosts on the ports the inventory names; VMs become libvirt domains
 * whose taps carry the inventory's port names) against our controller.
 */
export async function startTestbed(t: Teardown | undefined, opts: TestbedOptions): Promise<Testbed> {
  const inv = opts.inventory;
  const links = opts.links ?? [];
  const ordered = testbedLayout(inv, links);
  await ensureOvs();

  const dir = mkdtempSync(path.join(tmpdir(), 'seamless-testbed-'));
  const consoleDir = path.join(GUEST_IMAGE_DIR, 'console');
  mkdirSync(consoleDir, { recursive: true });
  const vms: Record<string, TestbedVm> = {};
  const specVms = inv.vms.map((v) => {
    const consoleLog = path.join(consoleDir, `${v.libvirt.domain}.log`);
    const xml = domainXml({
      name: v.libvirt.domain,
      memoryMiB: opts.memoryMiB ?? 128,
      mac: v.mac,
      bridge: v.switch,
      targetDev: v.port,
      kernel: path.join(GUEST_IMAGE_DIR, 'vmlinuz'),
      initrd: path.join(GUEST_IMAGE_DIR, 'initrd.cpio.gz'),
      cmdline: `seamless.ip=${v.ip}/24 seamless.name=${v.name} seamless.http=80 seamless.tcp=22 ${opts.guestArgs?.[v.name] ?? ''} quiet`.replace(/\s+/g, ' '),
      consoleLog,
    });
    const xmlFile = path.join(dir, `${v.name}.xml`);
    writeFileSync(xmlFile, xml);
    vms[v.name] = { spec: v, domain: v.libvirt.domain, expectedBody: `hello from ${v.name}\n`, consoleLog };
    return { domain: v.libvirt.domain, xml: xmlFile, port: v.port, consoleLog, readyMarker: readyMarker(v.name) };
  });
  const spec = {
    switches: inv.switches.map((w) => ({ name: w.name, dpid: w.dpid.toString(16).padStart(16, '0') })),
    links,
    controllerPort: opts.controllerPort,
    connectTimeout: opts.waitConnected === false ? 0 : 30,
    hosts: ordered.map((h) => ({ name: h.name, ip: `${h.ip}/24`, mac: h.mac, switch: h.switch })),
    guestDir: GUEST_IMAGE_DIR,
    vms: specVms,
  };
  const specFile = path.join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec, null, 2));

  const child: ChildProcess = spawn(DEBIAN_PYTHON, [TESTBED_PY, specFile], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  // Replies to JSON commands (setLink), one line each, in order.
  const waiters: Array<(line: string) => void> = [];
  let replyBuf = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    replyBuf += d.toString();
    let i;
    while ((i = replyBuf.indexOf('\n')) >= 0) {
      const line = replyBuf.slice(0, i);
      replyBuf = replyBuf.slice(i + 1);
      if (line.startsWith('TESTBED_REPLY ')) waiters.shift()?.(line.slice('TESTBED_REPLY '.length));
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.on('error', () => undefined); // testbed.py gone: nothing to tell it
  const exited = new Promise<number | null>((res) => child.once('close', (code) => res(code)));
  // Last resort (a crashed test): closing stdin is enough, testbed.py tears down by itself.
  const unregister = atExit(() => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end('stop\n');
        // Teardown: destroy + undefine VMs, stop Mininet; bounded, then SIGTERM, then SIGKILL.
        const killer = setTimeout(() => child.kill('SIGTERM'), 60_000);
        const killer2 = setTimeout(() => child.kill('SIGKILL'), 90_000);
        await exited;
        clearTimeout(killer);
        clearTimeout(killer2);
      }
      unregister();
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  t?.teardown(stop);

  const startTimeoutMs = opts.startTimeoutMs ?? 240_000;
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TestbedError(`testbed.py not ready within ${startTimeoutMs} ms`, stdout + stderr)), startTimeoutMs);
    const check = () => {
      const line = stdout.split('\n').find((l) => l.startsWith('TESTBED_READY ') || l.startsWith('TESTBED_FAILED '));
      if (line !== undefined && stdout.includes(`${line}\n`)) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        if (line.startsWith('TESTBED_READY ')) resolve(line.slice('TESTBED_READY '.length));
        else reject(new TestbedError(line.slice('TESTBED_FAILED '.length), stderr));
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new TestbedError(`testbed.py exited ${code} before it was ready`, stdout + stderr));
    });
  }).catch(async (e: unknown) => {
    await stop();
    throw e;
  });

  const report = JSON.parse(ready) as {
    switch: string;
    switches: string[];
    links: TestbedLink[];
    hosts: Record<string, Omit<TestbedHost, 'name'>>;
    ports: string[];
    seconds: Record<string, number>;
  };
  const hosts: Record<string, TestbedHost> = {};
  for (const [name, h] of Object.entries(report.hosts)) hosts[name] = { name, ...h };
  for (const h of ordered) {
    if (hosts[h.name]?.port !== h.port) {
      await stop();
      throw new TestbedError(`${h.what}: expected on ${String(h.port)}, Mininet put it on ${hosts[h.name]?.port}`, stderr);
    }
  }
  const prefix = (host: string): string[] => {
    const h = hosts[host];
    if (h === undefined) throw new TestbedError(`no host ${host} in the testbed`, '');
    return ['mnexec', '-a', String(h.pid)];
  };
  const command = (c: Record<string, unknown>): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new TestbedError(`testbed.py is not running: cannot ${JSON.stringify(c)}`, stderr));
        return;
      }
      const timer = setTimeout(() => reject(new TestbedError(`testbed.py: no reply to ${JSON.stringify(c)} within 30 s`, stderr)), 30_000);
      waiters.push((line) => {
        clearTimeout(timer);
        const v = JSON.parse(line) as Record<string, unknown>;
        if (typeof v['error'] === 'string') reject(new TestbedError(`testbed.py: ${JSON.stringify(c)} failed: ${v['error']}`, ''));
        else resolve(v);
      });
      child.stdin!.write(`${JSON.stringify(c)}\n`);
    });
  const vmOf = (vm: string): TestbedVm => {
    const v = vms[vm];
    if (v === undefined) throw new TestbedError(`no VM ${vm} in the testbed`, '');
    return v;
  };
  return {
    switchName: report.switch,
    switches: report.switches,
    links: report.links,
    hosts,
    vms,
    ports: report.ports,
    seconds: report.seconds,
    prefix,
    exec: (host, cmd, args, timeoutMs = 30_000) => {
      const [bin, ...pre] = prefix(host);
      return run(bin!, [...pre, cmd, ...args], { timeoutMs });
    },
    domState: async (vm) => {
      const domain = vms[vm]?.domain;
      if (domain === undefined) throw new TestbedError(`no VM ${vm} in the testbed`, '');
      const state = (await virsh('domstate', domain)).trim();
      const info = await virsh('dominfo', domain);
      const managedSave = /^Managed save:\s+yes/m.test(info);
      return { state, managedSave };
    },
    flows: (sw) => dumpFlows(sw ?? report.switch),
    setLink: async (a, b, up) => {
      await command({ cmd: 'link', a, b, up });
    },
    moveTap: async (vm, toSwitch) => {
      const tap = vmOf(vm).spec.port;
      if (!report.switches.includes(toSwitch)) throw new TestbedError(`moveTap ${vm}: no switch ${toSwitch} in the testbed`, '');
      // libvirt's external_ids (attached-mac, iface-id, vm-id) go with the port, as they would on a new host.
      const ids = (await run('ovs-vsctl', ['--timeout=10', 'get', 'Interface', tap, 'external_ids'])).trim();
      await run('ovs-vsctl', ['--timeout=10', 'del-port', tap]);
      await run('ovs-vsctl', ['--timeout=10', 'add-port', toSwitch, tap, '--', 'set', 'Interface', tap, `external_ids=${ids}`]);
    },
    tapSwitch: async (vm) => (await run('ovs-vsctl', ['--timeout=10', 'port-to-br', vmOf(vm).spec.port])).trim(),
    capture: (host, filter, intf) => startCapture([...prefix(host), 'tcpdump'], intf ?? hosts[host]!.intf, filter),
    log: () => stderr,
    stop,
  };
}

/** Polls `fn` until it returns a value that is not undefined; bounded. Throws with `what` on timeout. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Runs a command without a host prefix (e.g. ovs-ofctl), re-exported for tests. */
export { run };

/**
 * Counts the SYNs (without ACK) to ip:80 seen on a switch port (root netns side of
 * the client's link). Resolves once tcpdump listens; count() stops it and counts.
 */
export function captureSyns(port: string, ip: string): Promise<Capture> {
  return startCapture(['tcpdump'], port, `tcp dst port 80 and dst host ${ip} and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn`);
}

/** tcpdump (argv: the command, possibly behind `mnexec -a PID`) on `intf` with `filter`; resolves once it listens. */
async function startCapture(argv: readonly string[], intf: string, filter: string): Promise<Capture> {
  const [bin, ...pre] = argv;
  // --immediate-mode: libpcap hands over each packet at once; without it a packet can
  // sit in the capture block until its timeout and be lost when count() stops tcpdump
  // right after the traffic (the last of three pings was missed that way).
  const cap = spawn(bin!, [...pre, '-n', '-l', '--immediate-mode', '-i', intf, filter], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  cap.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  cap.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise((r) => cap.once('close', r));
  const unregister = atExit(() => cap.kill('SIGKILL'));
  await waitFor(`tcpdump listening on ${intf}`, async () => {
    if (cap.exitCode !== null) throw new Error(`tcpdump exited: ${err}`);
    return err.includes('listening on') ? true : undefined;
  }, 10_000, 20);
  let stopped: Promise<string[]> | undefined;
  const lines = (): Promise<string[]> =>
    (stopped ??= (async () => {
      // tcpdump prints a packet when its buffer flushes (-l: per line); give the last line a moment.
      await waitFor('tcpdump output', async () => (out.includes('\n') ? true : undefined), 2_000, 20).catch(() => undefined);
      cap.kill('SIGINT');
      await closed;
      unregister();
      return out.split('\n').filter((l) => l.includes(' > '));
    })());
  return { lines, count: async () => (await lines()).length };
}
