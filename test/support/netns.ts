// Namespaced hosts attached to an OVS bridge: one network namespace plus a
// veth pair per host. Names are unique per process so tests can run beside
// other engineers' tests; everything is removed on teardown and, as a last
// resort, when the test process exits.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { atExit, run, CommandError, type Teardown } from './exec.js';
import { ensureOvs, ofport as ofportOf, vsctl } from './ovs.js';

/** Prefix of every namespace and veth this harness creates (.ci/run removes stale ones by it). */
export const NETNS_PREFIX = 'tsl';

/** A host: a network namespace whose `eth0` is veth-paired with a bridge port. */
export interface Host {
  /** The name the test gave (for messages). */
  name: string;
  /** Network namespace name. */
  ns: string;
  /** Interface inside the namespace. */
  iface: 'eth0';
  /** The veth end that is a port of the bridge. */
  bridgePort: string;
  bridge: string;
  /** OpenFlow port number of `bridgePort`. */
  ofport: number;
  mac: string;
  /** Address without prefix length, e.g. 10.0.0.1. */
  ip: string;
  /** Address with prefix length, e.g. 10.0.0.1/24. */
  cidr: string;
  /** Runs a command inside the namespace; resolves with its stdout. */
  exec(command: string, ...args: string[]): Promise<string>;
}

interface Made {
  ns: string;
  bridge: string;
  port: string;
}
const live = new Map<string, Made>();
let counter = 0;

// Last resort for a test that crashed before its teardown ran. Must be sync.
atExit(() => {
  for (const m of live.values()) {
    for (const [cmd, args] of [
      ['ovs-vsctl', ['--timeout=5', '--if-exists', 'del-port', m.bridge, m.port]],
      ['ip', ['netns', 'del', m.ns]],
    ] as const) {
      try {
        execFileSync(cmd, args, { stdio: 'ignore' });
      } catch {
        // Already gone: try the next one.
      }
    }
  }
});

function uniqueSuffix(): string {
  counter += 1;
  // pid (<= 4 base-36 chars) + counter + 4 hex: unique across processes and calls.
  return `${process.pid.toString(36)}${counter.toString(36)}${randomBytes(2).toString('hex')}`;
}

const ip = (...args: string[]) => run('ip', args);

/**
 * Creates a namespaced host on `bridge` with address `cidr` (e.g. `10.0.0.1/24`)
 * and optional MAC. TX checksum offload is turned off on both veth ends (the
 * userspace datapath does not fill in checksums, so TCP fails otherwise) and
 * IPv6 is disabled so router solicitations do not add stray packets to flow
 * counters. With `t`, the host is removed when the test ends.
 */
export async function addHost(
  t: Teardown | undefined,
  bridge: string,
  name: string,
  cidr: string,
  mac?: string,
): Promise<Host> {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
  if (m === null) throw new RangeError(`address '${cidr}' is not IPv4 a.b.c.d/len`);
  const address = m[1] as string;
  await ensureOvs();
  const sfx = uniqueSuffix();
  const ns = `${NETNS_PREFIX}n${sfx}`;
  const port = `${NETNS_PREFIX}v${sfx}`.slice(0, 15);
  const peer = `${NETNS_PREFIX}p${sfx}`.slice(0, 15);
  const made: Made = { ns, bridge, port };
  live.set(ns, made);
  t?.teardown(() => removeHost(ns));

  const nsIp = (...args: string[]) => ip('-n', ns, ...args);
  const inNs = (cmd: string, ...args: string[]) => run('ip', ['netns', 'exec', ns, cmd, ...args]);
  await ip('netns', 'add', ns);
  await inNs('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
  await ip('link', 'add', port, 'type', 'veth', 'peer', 'name', peer);
  await run('sysctl', ['-qw', `net.ipv6.conf.${port}.disable_ipv6=1`]);
  await ip('link', 'set', peer, 'netns', ns);
  await nsIp('link', 'set', peer, 'name', 'eth0');
  if (mac !== undefined) await nsIp('link', 'set', 'eth0', 'address', mac);
  await nsIp('addr', 'add', cidr, 'dev', 'eth0');
  await inNs('ethtool', '-K', 'eth0', 'tx', 'off');
  await run('ethtool', ['-K', port, 'tx', 'off']);
  await nsIp('link', 'set', 'lo', 'up');
  await nsIp('link', 'set', 'eth0', 'up');
  await ip('link', 'set', port, 'up');
  await vsctl('add-port', bridge, port);
  const [num, linkJson] = await Promise.all([ofportOf(port), nsIp('-j', 'link', 'show', 'eth0')]);
  const actualMac = (JSON.parse(linkJson) as Array<{ address: string }>)[0]?.address;
  if (actualMac === undefined) throw new Error(`no MAC address read for eth0 in ${ns}`);
  return {
    name,
    ns,
    iface: 'eth0',
    bridgePort: port,
    bridge,
    ofport: num,
    mac: actualMac,
    ip: address,
    cidr,
    exec: inNs,
  };
}

/** Removes a host's bridge port and namespace (which also deletes its veth pair). */
export async function removeHost(hostOrNs: Host | string): Promise<void> {
  const ns = typeof hostOrNs === 'string' ? hostOrNs : hostOrNs.ns;
  const m = live.get(ns);
  if (m !== undefined) await vsctl('--if-exists', 'del-port', m.bridge, m.port);
  try {
    await ip('netns', 'del', ns);
  } catch (e) {
    // Already deleted is fine; anything else is a real failure.
    if (!(e instanceof CommandError && /No such file/.test(e.stderr))) throw e;
  }
  live.delete(ns);
}

export interface PingOptions {
  /** Echo requests to send (default 1). */
  count?: number;
  /** Seconds to wait for the last reply (default 2). */
  timeoutSec?: number;
}

/** Pings `ip` from inside `from`; true when at least one reply came back. */
export async function ping(from: Host, address: string, opts: PingOptions = {}): Promise<boolean> {
  const count = opts.count ?? 1;
  const wait = opts.timeoutSec ?? 2;
  try {
    await from.exec('ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', String(wait), address);
    return true;
  } catch (e) {
    // ping exits 1 when no reply came: that is an answer, not an error.
    if (e instanceof CommandError && e.exitCode === 1) return false;
    throw e;
  }
}
