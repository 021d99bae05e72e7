// A multi-switch Mininet topology kept running while a test drives it:
// mininet/fabric.py under Debian's Python, one JSON command per line on its
// stdin, one reply line per command. It holds the machine-wide Mininet lock
// (shared with run_topo.py and testbed.py) for the whole run, and stops the
// network on stop(), on SIGTERM and when this process exits. Never `mn -c`.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiAddress } from '../../controller/api/address.js';
import { ControlPlane } from '../../controller/api/plane.js';
import { buildApps, parseControllerArgs } from '../../controller/cli/controller-cmd.js';
import { startController, type Controller } from '../../controller/daemon.js';
import type { FabricL2App } from '../../controller/l2/fabric-app.js';
import type { Logger } from '../../controller/log.js';
import type { TopologyApp } from '../../controller/topology/app.js';
import { atExit, type Teardown } from './exec.js';
import { DEBIAN_PYTHON, MininetError } from './mininet.js';
import { ensureOvs } from './ovs.js';

// From test/support/ or, compiled, dist/test/support/ (bench:reconverge runs from dist).
const REPO = [fileURLToPath(new URL('../../', import.meta.url)), fileURLToPath(new URL('../../../', import.meta.url))].find((d) => existsSync(resolve(d, 'mininet/fabric.py'))) ?? fileURLToPath(new URL('../../', import.meta.url));
const FABRIC = resolve(REPO, 'mininet/fabric.py');

export interface FabricLink {
  a: string;
  aPort: number;
  aIntf: string;
  b: string;
  bPort: number;
  bIntf: string;
}

export interface FabricInfo {
  switches: Array<{ name: string; dpid: string }>;
  hosts: Array<{ name: string; ip: string; mac: string }>;
  links: FabricLink[];
}

export interface PingallReply {
  sent: number;
  received: number;
  results: Array<{ src: string; dst: string; ok: boolean }>;
}

export interface CountersReply {
  interfaces: Record<string, { rx: number; tx: number }>;
  /** Packets sent on every switch-to-switch interface, summed. */
  txTotal: number;
}

export interface CutReply {
  sent: number;
  received: number;
  repliesBeforeCut: number;
  repliesAfterCut: number;
  /** The longest time between two consecutive replies over the whole run, ms (null: fewer than 2 replies). */
  gapMs: number | null;
  /** How long Mininet took to put both ends down; repliesAfterCut counts replies after that. */
  cutTookMs: number;
  firstReplyAfterCutMs: number | null;
  lostAroundCut: number;
  /** Longest run of consecutive unanswered echoes: x intervalMs = how long nothing got through. */
  longestLossRun: number;
  intervalMs: number;
}

export class Fabric {
  private buf = '';
  private waiters: Array<(line: string) => void> = [];
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly info: FabricInfo,
  ) {}

  /** Starts `topo` from `topology` against a controller on 127.0.0.1:`controllerPort`; resolves once every switch connected. */
  static async start(t: Teardown, opts: { topology: string; topo: string; controllerPort: number; timeoutMs?: number }): Promise<Fabric> {
    await ensureOvs();
    const topology = isAbsolute(opts.topology) ? opts.topology : resolve(REPO, opts.topology);
    const child = spawn(DEBIAN_PYTHON, [FABRIC, '--topology', topology, '--topo', opts.topo, '--controller-port', String(opts.controllerPort)], {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const unregister = atExit(() => child.kill('SIGTERM'));
    let output = '';
    let pending = '';
    const lines: string[] = [];
    let wake: (() => void) | undefined;
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      pending += d.toString();
      let i;
      while ((i = pending.indexOf('\n')) >= 0) {
        lines.push(pending.slice(0, i));
        pending = pending.slice(i + 1);
      }
      wake?.();
    });
    const exited = new Promise<number | null>((res) => child.once('close', (code) => res(code)));
    const deadline = Date.now() + (opts.timeoutMs ?? 300_000); // the lock wait included
    let info: FabricInfo | undefined;
    while (info === undefined) {
      const ready = lines.find((l) => l.startsWith('FABRIC_READY '));
      if (ready !== undefined) {
        info = JSON.parse(ready.slice('FABRIC_READY '.length)) as FabricInfo;
        break;
      }
      if (child.exitCode !== null || lines.some((l) => l.startsWith('FABRIC_FAILED')) || Date.now() > deadline) {
        child.kill('SIGTERM');
        await exited;
        unregister();
        throw new MininetError('mininet/fabric.py did not come up', child.exitCode, output);
      }
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 500).unref();
      });
    }
    const f = new Fabric(child, info);
    f.output = output;
    child.stdout!.removeAllListeners('data');
    child.stdout!.on('data', (d: Buffer) => f.onData(d));
    child.stderr!.removeAllListeners('data');
    child.stderr!.on('data', (d: Buffer) => (f.output += d.toString()));
    if (pending !== '') f.onData(Buffer.from(pending));
    t.teardown(async () => {
      await f.stop();
      unregister();
    });
    return f;
  }

  /** Everything the script printed (for failure messages). */
  get log(): string {
    return this.output;
  }

  pingall(tries = 3, timeoutSec = 1): Promise<PingallReply> {
    return this.command({ cmd: 'pingall', tries, timeout: timeoutSec });
  }

  counters(): Promise<CountersReply> {
    return this.command({ cmd: 'counters' });
  }

  setLink(a: string, b: string, up: boolean): Promise<{ ok: true }> {
    return this.command({ cmd: 'link', a, b, up });
  }

  /** Pings src -> dst every intervalMs, cuts a-b after cutAfterMs, reports the replies around the cut. */
  cutWhilePinging(o: { src: string; dst: string; a: string; b: string; intervalMs: number; count: number; cutAfterMs: number }): Promise<CutReply> {
    return this.command({ cmd: 'cut', src: o.src, dst: o.dst, a: o.a, b: o.b, interval: o.intervalMs / 1000, count: o.count, cutAfter: o.cutAfterMs / 1000 });
  }

  /** Runs `args` in host `host`'s namespace (Mininet's host.cmd) and returns its output. */
  async run(host: string, args: readonly string[]): Promise<string> {
    return (await this.command<{ output: string }>({ cmd: 'run', host, args })).output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const closed = new Promise<void>((r) => this.child.once('close', () => r()));
    this.child.stdin!.end('{"cmd": "stop"}\n');
    const kill = setTimeout(() => this.child.kill('SIGTERM'), 60_000);
    await closed;
    clearTimeout(kill);
  }

  private onData(d: Buffer): void {
    this.output += d.toString();
    this.buf += d.toString();
    let i;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      if (line.startsWith('FABRIC_REPLY ')) this.waiters.shift()?.(line.slice('FABRIC_REPLY '.length));
    }
  }

  private command<T>(c: Record<string, unknown>): Promise<T> {
    return new Promise<T>((res, rej) => {
      const timer = setTimeout(() => rej(new MininetError(`fabric.py: no reply to ${JSON.stringify(c)} in 120 s`, null, this.output)), 120_000);
      this.waiters.push((line) => {
        clearTimeout(timer);
        const v = JSON.parse(line) as T & { error?: string };
        if (v.error !== undefined) rej(new MininetError(`fabric.py: ${c['cmd']} failed: ${v.error}`, null, this.output));
        else res(v);
      });
      this.child.stdin!.write(`${JSON.stringify(c)}\n`);
    });
  }
}

/** The controller as `seamless controller --fabric` builds it, on a free port, with its API on `apiSocket`. */
export interface FabricController {
  readonly ctl: Controller;
  readonly topology: TopologyApp;
  readonly l2: FabricL2App;
  readonly api: ApiAddress;
  stop(): Promise<void>;
}

export async function startFabricController(apiSocket: string, log: Logger): Promise<FabricController> {
  const plane = new ControlPlane({ log });
  const args = parseControllerArgs(['--fabric', '--listen', '127.0.0.1:0']);
  const apps = await buildApps(args, log, plane);
  const ctl = await startController({ listen: args.listen, apps, log });
  const api: ApiAddress = { kind: 'unix', path: apiSocket };
  await plane.serve(api, ctl);
  const topology = apps.find((a) => a.name === 'topology') as TopologyApp;
  const l2 = apps.find((a) => a.name === 'l2') as FabricL2App;
  return {
    ctl,
    topology,
    l2,
    api,
    stop: async () => {
      await ctl.stop();
      await plane.stop();
    },
  };
}

/** Polls `cond` every 100 ms until true or `timeoutMs` passes; returns whether it held. */
export async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}
