// Harness for tests against the system Open vSwitch (userspace datapath).
// Every bridge made here gets a unique name, is registered for cleanup with
// the test that made it, and is also removed when the test process exits, so
// a crashed test cannot leave bridges behind for the next run.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { atExit, run, type Teardown } from './exec.js';

export { CommandError, type Teardown } from './exec.js';

/** Prefix of every bridge this harness creates (.ci/run removes stale ones by it). */
export const BRIDGE_PREFIX = 'tsl';

const OVS_CTL = '/usr/share/openvswitch/scripts/ovs-ctl';

/** Runs `ovs-vsctl --timeout=10 args...` and returns its stdout. */
export function vsctl(...args: string[]): Promise<string> {
  return run('ovs-vsctl', ['--timeout=10', ...args]);
}

/** Runs `ovs-ofctl -O OpenFlow13 args...` and returns its stdout. */
export function ofctl(...args: string[]): Promise<string> {
  return run('ovs-ofctl', ['-O', 'OpenFlow13', ...args]);
}

let ovsReady: Promise<void> | undefined;

/**
 * Makes sure the system OVS answers, starting it with ovs-ctl when it does not
 * (tests run as root, in CI and on dev machines). Checked once per process.
 */
export function ensureOvs(): Promise<void> {
  ovsReady ??= (async () => {
    try {
      await run('ovs-vsctl', ['--timeout=3', 'show']);
      return;
    } catch {
      // Not running: start it below.
    }
    try {
      await run(OVS_CTL, ['start', '--system-id=random'], { timeoutMs: 60_000 });
      await run('ovs-vsctl', ['--timeout=10', 'show']);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new Error(`Open vSwitch is not usable (run mininet/setup.sh as root): ${why}`, { cause: e });
    }
  })();
  ovsReady.catch(() => {
    ovsReady = undefined; // let a later call try again
  });
  return ovsReady;
}

// Bridges created by this process and not yet destroyed.
const live = new Set<string>();
let counter = 0;

// Last resort for a test that crashed before its teardown ran. Must be sync.
atExit(() => {
  for (const name of live) {
    try {
      execFileSync('ovs-vsctl', ['--timeout=5', '--if-exists', 'del-br', name], { stdio: 'ignore' });
    } catch {
      // Try the next one.
    }
  }
});

/** A unique bridge name of at most 15 characters (Linux ifname limit). */
export function uniqueBridgeName(): string {
  counter += 1;
  const name = `${BRIDGE_PREFIX}${process.pid.toString(36)}${counter.toString(36)}${randomBytes(2).toString('hex')}`;
  return name.slice(0, 15);
}

export interface BridgeOptions {
  /** Bridge name; default a unique `tsl...` name. */
  name?: string;
  /** Controller port on 127.0.0.1; sets controller target `tcp:127.0.0.1:PORT`. */
  controllerPort?: number;
  /** OVS fail mode; default `secure` (no flows until a controller or test adds them). */
  failMode?: 'secure' | 'standalone';
}

/**
 * Creates a userspace (datapath_type=netdev) OpenFlow 1.3 bridge. With `t`,
 * the bridge is destroyed when the test ends. Resolves with the bridge name.
 */
export async function createBridge(t: Teardown | undefined, opts: BridgeOptions = {}): Promise<string> {
  await ensureOvs();
  const name = opts.name ?? uniqueBridgeName();
  if (name.length > 15) throw new RangeError(`bridge name '${name}' is longer than 15 characters`);
  live.add(name);
  t?.teardown(() => destroyBridge(name));
  const args = [
    'add-br', name, '--',
    'set', 'bridge', name, 'datapath_type=netdev', 'protocols=OpenFlow13', `fail_mode=${opts.failMode ?? 'secure'}`,
  ];
  await vsctl(...args);
  if (opts.controllerPort !== undefined) await setController(name, opts.controllerPort);
  return name;
}

/** Points the bridge at `tcp:127.0.0.1:PORT` (or any full target string). */
export async function setController(bridge: string, target: number | string): Promise<void> {
  const t = typeof target === 'number' ? `tcp:127.0.0.1:${target}` : target;
  await vsctl('set-controller', bridge, t);
}

/** Removes every controller target from the bridge. */
export async function delController(bridge: string): Promise<void> {
  await vsctl('del-controller', bridge);
}

/** Deletes the bridge (no error if it is already gone). */
export async function destroyBridge(name: string): Promise<void> {
  await vsctl('--if-exists', 'del-br', name);
  live.delete(name);
}

/** Deletes every bridge this process created and has not yet destroyed. */
export async function destroyAllBridges(): Promise<void> {
  for (const name of [...live]) await destroyBridge(name);
}

/** OpenFlow port number OVS gave to an interface on a bridge. */
export async function ofport(iface: string): Promise<number> {
  // ofport is [] until vswitchd has attached the port; poll briefly.
  for (let i = 0; i < 50; i += 1) {
    const out = (await vsctl('get', 'Interface', iface, 'ofport')).trim();
    const n = Number(out);
    if (Number.isInteger(n) && n > 0) return n;
    await sleep(100);
  }
  throw new Error(`interface ${iface} got no OpenFlow port number within 5 s`);
}

/** One row of `ovs-ofctl dump-flows`. */
export interface Flow {
  cookie: bigint;
  table: number;
  /** 32768 (OFP_DEFAULT_PRIORITY) when ovs-ofctl prints none. */
  priority: number;
  /** Match fields as ovs-ofctl prints them, without `priority=`; '' matches all. */
  match: string;
  /** Everything after `actions=`. */
  actions: string;
  nPackets: number;
  nBytes: number;
  durationSec: number;
  idleTimeout: number;
  hardTimeout: number;
  /** Flag words such as `send_flow_rem`, `check_overlap`, `reset_counts`. */
  flags: string[];
  /** The line as printed. */
  raw: string;
}

const FLAG_WORDS = new Set(['send_flow_rem', 'check_overlap', 'reset_counts', 'no_packet_counts', 'no_byte_counts']);
const STAT_KEYS = new Set([
  'cookie', 'duration', 'table', 'n_packets', 'n_bytes', 'idle_timeout', 'hard_timeout', 'importance', 'idle_age', 'hard_age',
]);

/** A dump-flows line that does not have the expected shape. */
export class FlowParseError extends Error {
  readonly code = 'FLOW_PARSE';
  constructor(readonly line: string, why: string) {
    super(`cannot parse dump-flows line (${why}): ${line}`);
    this.name = 'FlowParseError';
  }
}

/**
 * Parses one flow line of `ovs-ofctl -O OpenFlow13 dump-flows` output.
 * Stats are `key=value, ` separated, flag words are space separated, and the
 * match (which never contains spaces) comes last before `actions=`.
 */
export function parseFlowLine(line: string): Flow {
  const raw = line.trim();
  const at = raw.search(/(^|[ ,])actions=/);
  if (at < 0) throw new FlowParseError(raw, 'no actions=');
  const left = raw.slice(0, at);
  const actions = raw.slice(raw.indexOf('actions=', at) + 'actions='.length);
  const stats = new Map<string, string>();
  const flags: string[] = [];
  const rest: string[] = [];
  for (const tok of left.split(/\s+/)) {
    const word = tok.replace(/,$/, '');
    if (word === '') continue;
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    if (FLAG_WORDS.has(word)) flags.push(word);
    else if (eq > 0 && STAT_KEYS.has(key) && !word.includes(',')) stats.set(key, word.slice(eq + 1));
    else rest.push(word);
  }
  if (rest.length > 1) throw new FlowParseError(raw, `more than one match part: ${rest.join(' | ')}`);
  let match = rest[0] ?? '';
  let priority = 32768;
  const pm = /^priority=(\d+)(?:,|$)/.exec(match);
  if (pm !== null) {
    priority = Number(pm[1]);
    match = match.slice(pm[0].length);
  }
  const num = (key: string, dflt: number): number => {
    const v = stats.get(key);
    if (v === undefined) return dflt;
    const n = Number(v.replace(/s$/, ''));
    if (!Number.isFinite(n)) throw new FlowParseError(raw, `${key}=${v} is not a number`);
    return n;
  };
  const cookie = stats.get('cookie');
  return {
    cookie: cookie === undefined ? 0n : BigInt(cookie),
    table: num('table', 0),
    priority,
    match,
    actions,
    nPackets: num('n_packets', 0),
    nBytes: num('n_bytes', 0),
    durationSec: num('duration', 0),
    idleTimeout: num('idle_timeout', 0),
    hardTimeout: num('hard_timeout', 0),
    flags,
    raw,
  };
}

/** Parses the whole output of dump-flows (header lines are skipped). */
export function parseDumpFlows(output: string): Flow[] {
  return output
    .split('\n')
    .filter((l) => /(^|[ ,])actions=/.test(l) && !l.startsWith('OFPST_FLOW') && !l.startsWith('NXST_FLOW'))
    .map(parseFlowLine);
}

/** Dumps and parses the bridge's flow table(s); `filter` is an ovs-ofctl flow spec such as `table=1`. */
export async function dumpFlows(bridge: string, filter?: string): Promise<Flow[]> {
  const args = ['dump-flows', bridge];
  if (filter !== undefined) args.push(filter);
  return parseDumpFlows(await ofctl(...args));
}
