// Runs a Mininet topology from topologies/ against a controller on loopback
// and returns what happened: which switches reached the controller, the hosts,
// per-pair ping results, and each switch's flow table.
//
// The work is done by mininet/run_topo.py under Debian's /usr/bin/python3 (the
// python3 first on PATH is a separate 3.11 without Debian's Mininet). That
// script holds a machine-wide lock for the whole run, so Mininet runs never
// overlap, even across test processes and engineers. We never call `mn -c`
// here: it deletes every OVS bridge on the machine, other tests' included.
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { atExit, type Teardown } from './exec.js';
import { ensureOvs, parseDumpFlows, type Flow } from './ovs.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RUN_TOPO = resolve(REPO, 'mininet/run_topo.py');
const PEER_APP = resolve(REPO, 'mininet/osken_normal.py');
/** Debian's Python, the one that has Mininet and os-ken. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export interface MininetOptions {
  /** Topology file, absolute or relative to the repo, e.g. `topologies/tree.py`. */
  topology: string;
  /** As for `mn --topo`: `tree,depth=2,fanout=2`, `linear,3`. */
  topo: string;
  /** Remote controller on 127.0.0.1:PORT; without it switches are standalone learning switches. */
  controllerPort?: number;
  /** Seconds to wait for every switch to reach the controller (default 20). */
  connectTimeoutSec?: number;
  /** Seconds per echo request (default 2). */
  pingTimeoutSec?: number;
  /** Echo requests per host pair; a pair passes on its first reply (default 2). */
  pingTries?: number;
  /** Kill the whole run after this long (default 300 s, lock wait included). */
  timeoutMs?: number;
}

export interface MininetSwitch {
  name: string;
  dpid: string;
  /** Connected to the controller (or already has flows it installed). */
  connected: boolean;
}

export interface MininetResult {
  /** Every switch reached the controller within the connect timeout. */
  allConnected: boolean;
  switches: MininetSwitch[];
  hosts: Array<{ name: string; ip: string; mac: string }>;
  pingall: {
    /** Host pairs tried (ordered pairs). */
    sent: number;
    /** Host pairs that got a reply. */
    received: number;
    lossPercent: number;
    results: Array<{ src: string; dst: string; ok: boolean }>;
  };
  /** Flow table of each switch right after pingall. */
  flows: Record<string, Flow[]>;
  seconds: { start: number; connect: number; pingall: number };
  /** What Mininet logged (warnings and errors). */
  log: string;
}

/** run_topo.py failed before it could report (bad topology, Mininet error, timeout). */
export class MininetError extends Error {
  readonly code = 'MININET_FAILED';
  constructor(message: string, readonly exitCode: number | null, readonly output: string) {
    super(`${message}${output.trim() === '' ? '' : `\n${output.trim().slice(-4000)}`}`);
    this.name = 'MininetError';
  }
}

const RESULT_MARK = 'SEAMLESS_RESULT ';

/**
 * Starts the topology, waits for the switches to reach the controller, pings
 * every host pair, dumps the flows, stops the network, and returns the report.
 * A failed ping or an unconnected switch is reported, not thrown.
 */
export async function runMininet(opts: MininetOptions): Promise<MininetResult> {
  await ensureOvs();
  const topology = isAbsolute(opts.topology) ? opts.topology : resolve(REPO, opts.topology);
  const args = [RUN_TOPO, '--topology', topology, '--topo', opts.topo, '--format', 'json'];
  if (opts.controllerPort !== undefined) args.push('--controller-port', String(opts.controllerPort));
  if (opts.connectTimeoutSec !== undefined) args.push('--connect-timeout', String(opts.connectTimeoutSec));
  if (opts.pingTimeoutSec !== undefined) args.push('--ping-timeout', String(opts.pingTimeoutSec));
  if (opts.pingTries !== undefined) args.push('--ping-tries', String(opts.pingTries));

  const child = spawn(DEBIAN_PYTHON, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timeoutMs = opts.timeoutMs ?? 300_000;
  let timedOut = false;
  // SIGTERM lets run_topo.py stop the network; SIGKILL only if it hangs.
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
  }, timeoutMs);
  const exitCode = await new Promise<number | null>((res, rej) => {
    child.once('error', rej);
    child.once('close', (code) => res(code));
  }).finally(() => clearTimeout(timer));

  const output = `${stdout}${stderr}`;
  if (timedOut) throw new MininetError(`run_topo.py did not finish within ${timeoutMs} ms`, exitCode, output);
  // 0: all pairs answered; 2: it ran and reported, but not everything passed.
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
  if ((exitCode !== 0 && exitCode !== 2) || line === undefined) {
    throw new MininetError(`run_topo.py exited ${exitCode} without a report`, exitCode, output);
  }
  const raw = JSON.parse(line.slice(RESULT_MARK.length)) as Omit<MininetResult, 'flows' | 'log'> & {
    flows: Record<string, string>;
  };
  const flows: Record<string, Flow[]> = {};
  for (const [sw, text] of Object.entries(raw.flows)) flows[sw] = parseDumpFlows(text);
  return {
    allConnected: raw.allConnected,
    switches: raw.switches,
    hosts: raw.hosts,
    pingall: raw.pingall,
    seconds: raw.seconds,
    flows,
    log: stderr,
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

export interface PeerController {
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts the os-ken peer controller (mininet/osken_normal.py): it answers every
 * switch with one table-miss flow to NORMAL, cookie 0x5ea1. For checking the
 * testbed, or as a reference next to seamless.
 */
export async function startPeerController(t?: Teardown, port?: number): Promise<PeerController> {
  const p = port ?? (await freePort());
  const child = spawn('osken-manager', [PEER_APP, '--ofp-tcp-listen-port', String(p), '--ofp-listen-host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const unregister = atExit(() => child.kill('SIGKILL'));
  const stop = async () => {
    unregister();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  t?.teardown(stop);
  // os-ken takes ~1 s to import; bounded wait of 15 s.
  for (let i = 0; i < 150; i += 1) {
    if (child.exitCode !== null) break;
    if (await canConnect(p)) return { port: p, stop };
    await sleep(100);
  }
  await stop();
  throw new MininetError(`osken-manager did not listen on 127.0.0.1:${p}`, child.exitCode, output);
}
