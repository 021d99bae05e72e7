#!/usr/bin/env node
/**
 * `npm run bench:throughput`: cbench-style throughput and latency of seamless'
 * controller (L2 learning) against an equivalent os-ken app, both on loopback.
 *
 * Each controller runs as a child process, so it and the load generator (this
 * process) each get one of the machine's cores; they run one after the other.
 * Progress goes to stderr and to stdout; the LAST stdout line is the result:
 *   {"ours":{"pps":N,"p50us":N,"p99us":N},"osken":{...},"ratio":N,"codec":{...}}
 *
 * Knobs (environment): BENCH_WARMUP_S (3), BENCH_MEASURE_S (10), BENCH_SWITCHES (16),
 * BENCH_WINDOW (64), BENCH_HOSTS (1000), BENCH_ONLY (ours|osken: run one controller),
 * BENCH_CPU_PROF (a directory: run our controller with `node --cpu-prof` writing there).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { runLatency, runThroughput, type GeneratorOptions } from './cbench/index.js';
import { measureCodec } from './cbench/codec.js';

const OSKEN_MANAGER = '/usr/bin/osken-manager';

/** Thrown when a controller cannot be started or benchmarked. */
export class BenchError extends Error {
  constructor(
    readonly code: 'bad-env' | 'missing-build' | 'missing-osken' | 'controller-exited' | 'controller-not-listening',
    message: string,
  ) {
    super(message);
    this.name = 'BenchError';
  }
}

function log(line: string): void {
  process.stdout.write(`[bench] ${line}\n`);
}

function envNumber(name: string, dflt: number, min: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new BenchError('bad-env', `${name} must be a number >= ${min}, got '${v}'`);
  return n;
}

/** The repository root: the nearest directory above this file with a package.json (works from bench/ and dist/bench/). */
function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !existsSync(join(d, 'package.json')); i++) d = dirname(d);
  return d;
}

/** A free loopback TCP port (the kernel's choice; released just before the controller binds it). */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a !== null && typeof a === 'object' ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const c = net.connect({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      res(true);
    });
    c.once('error', () => res(false));
  });
}

interface Controller {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly logFile: string;
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Controllers started and not yet stopped: killed if this process is interrupted. */
const running = new Set<ChildProcess>();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const c of running) c.kill('SIGKILL');
    process.exit(130);
  });
}

/** Spawns a controller with output to a log file, and waits until its port accepts connections. */
async function startController(name: string, cmd: string, args: string[], port: number, logDir: string): Promise<Controller> {
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], cwd: repoRoot() });
  closeSync(fd);
  running.add(child);
  child.once('exit', () => running.delete(child));
  let exited: string | null = null;
  child.once('exit', (code, sig) => (exited = `exit ${code ?? sig}`));
  child.once('error', (e) => (exited = e.message));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited !== null) {
      throw new BenchError('controller-exited', `${name} controller ended (${exited}) before listening; log ${logFile}:\n${tail(logFile)}`);
    }
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      await stopController({ name, port, child, logFile });
      throw new BenchError('controller-not-listening', `${name} controller not listening on 127.0.0.1:${port} after 20 s; log ${logFile}:\n${tail(logFile)}`);
    }
    await sleep(100);
  }
  log(`${name}: pid ${child.pid} listening on 127.0.0.1:${port} (log ${logFile})`);
  return { name, port, child, logFile };
}

/** SIGTERM, then SIGKILL after 5 s. Our own child only, by pid. */
async function stopController(c: Controller): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  const done = new Promise<void>((res) => c.child.once('exit', () => res()));
  c.child.kill('SIGTERM');
  const timer = setTimeout(() => c.child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(timer);
}

export interface ControllerResult {
  pps: number;
  p50us: number;
  p99us: number;
}

async function benchOne(c: Controller, gen: Omit<GeneratorOptions, 'host' | 'port'>): Promise<ControllerResult> {
  const opts: GeneratorOptions = { ...gen, host: '127.0.0.1', port: c.port, log: (l) => log(`${c.name}: ${l}`) };
  const t = await runThroughput(opts);
  log(`${c.name}: throughput ${JSON.stringify(t)}`);
  const l = await runLatency(opts);
  log(`${c.name}: latency ${JSON.stringify(l)}`);
  if (t.errors + l.errors > 0) log(`${c.name}: WARNING the controller sent ${t.errors + l.errors} OFPT_ERROR messages (see above)`);
  return { pps: t.pps, p50us: l.p50us, p99us: l.p99us };
}

async function withController<T>(c: Controller, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`${c.name}: ${msg}\nlast lines of ${c.logFile}:\n${tail(c.logFile)}`);
  } finally {
    await stopController(c);
    log(`${c.name}: stopped`);
  }
}

async function main(): Promise<void> {
  const root = repoRoot();
  const gen = {
    warmupMs: envNumber('BENCH_WARMUP_S', 3, 0) * 1000,
    measureMs: envNumber('BENCH_MEASURE_S', 10, 0.1) * 1000,
    switches: envNumber('BENCH_SWITCHES', 16, 1),
    window: envNumber('BENCH_WINDOW', 64, 1),
    hostsPerSwitch: envNumber('BENCH_HOSTS', 1000, 2),
  };
  const only = process.env['BENCH_ONLY'];
  if (only !== undefined && only !== '' && only !== 'ours' && only !== 'osken') {
    throw new BenchError('bad-env', `BENCH_ONLY must be 'ours' or 'osken', got '${only}'`);
  }
  // Controller logs; removed after a successful run, kept (and named in the error) after a failure.
  const logDir = mkdtempSync(join(tmpdir(), 'seamless-bench-'));
  log(`generator: ${gen.switches} switches, window ${gen.window}, ${gen.hostsPerSwitch} hosts/switch, warm-up ${gen.warmupMs} ms, measure ${gen.measureMs} ms per mode`);

  const empty: ControllerResult = { pps: 0, p50us: 0, p99us: 0 };
  let ours = empty;
  if (only !== 'osken') {
    const main = resolve(root, 'dist/controller/cli/main.js');
    if (!existsSync(main)) throw new BenchError('missing-build', `${main} not found: run 'npm run build' first`);
    const port = await freePort();
    const prof = process.env['BENCH_CPU_PROF'];
    const nodeArgs = prof ? ['--cpu-prof', `--cpu-prof-dir=${resolve(prof)}`] : [];
    const c = await startController('ours', process.execPath, [...nodeArgs, main, 'controller', '--listen', `127.0.0.1:${port}`], port, logDir);
    ours = await withController(c, () => benchOne(c, gen));
    if (prof) log(`ours: CPU profile written to ${resolve(prof)}`);
  }

  let osken = empty;
  if (only !== 'ours') {
    if (!existsSync(OSKEN_MANAGER)) {
      throw new BenchError('missing-osken', `${OSKEN_MANAGER} not found: apt-get install -y python3-os-ken (mininet/setup.sh does)`);
    }
    const port = await freePort();
    const app = resolve(root, 'bench/osken_l2.py');
    const c = await startController('osken', OSKEN_MANAGER, [app, '--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(port)], port, logDir);
    osken = await withController(c, () => benchOne(c, gen));
  }

  const codec = measureCodec(root, log);
  const ratio = osken.pps > 0 ? Math.round((ours.pps / osken.pps) * 100) / 100 : 0;
  log(`targets: ratio ${ratio} (want >= 12), p50 ours ${ours.p50us} us vs os-ken/3 ${Math.round((osken.p50us / 3) * 10) / 10} us`);
  rmSync(logDir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ ours, osken, ratio, codec })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
