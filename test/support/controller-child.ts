// `seamless controller ...` as a child process, the way an operator runs it: the
// e2e tests and the testbed benchmarks start it this way. Its JSON log (stderr)
// is split into lines and its `vm transition` lines collected; it resolves once
// the controller says it listens; it is stopped (TERM, then KILL after 10 s) by
// the caller's cleanups, and killed if the test process exits first.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { atExit } from './exec.js';

// ../.. from test/support; ../../.. when compiled to dist/test/support (benchmarks run from dist).
const FROM_DIST = !import.meta.url.endsWith('.ts');
const REPO = [fileURLToPath(new URL('../../', import.meta.url)), fileURLToPath(new URL('../../../', import.meta.url))].find((d) => existsSync(path.join(d, 'controller/cli/main.ts'))) ?? fileURLToPath(new URL('../../', import.meta.url));
/** node's arguments before the CLI's: the compiled CLI from dist/, else the sources through tsx. */
const ENTRY = FROM_DIST ? [path.join(REPO, 'dist/controller/cli/main.js')] : ['--import=tsx', path.join(REPO, 'controller/cli/main.ts')];

/** A `vm transition` log line (controller/park/app.ts), with the wall-clock time it was read. */
export interface LoggedTransition {
  vm: string;
  from: string;
  to: string;
  reason: string;
  durationMs?: number;
  depth?: string;
  memoryReleasedBytes?: number;
  energySavedJoules?: number;
  /** Date.now() when the line arrived. */
  at: number;
}

export interface ControllerChildOptions {
  /** Arguments after `controller` (`--config`, `--listen`, `--api`, `--fabric`, `--log-format json`, ...). */
  args: readonly string[];
  /** The stop is pushed here (a test's or a benchmark's cleanup list). */
  cleanups: Array<() => unknown>;
  /** Every stderr chunk as it arrives (e.g. a log file). */
  onStderr?: (d: Buffer) => void;
  /** Bound on the start (default 30 s). */
  listenTimeoutMs?: number;
}

export interface ControllerChild {
  child: ChildProcess;
  /** The OpenFlow port it listens on. */
  port: number;
  /** Its stderr so far, one entry per line. */
  lines: string[];
  /** Its `vm transition` lines so far, in order. */
  transitions: LoggedTransition[];
}

/** Starts `seamless controller ARGS` from the repository; resolves once it listens. */
export async function startControllerChild(opts: ControllerChildOptions): Promise<ControllerChild> {
  const child = spawn(process.execPath, [...ENTRY, 'controller', ...opts.args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const unregister = atExit(() => child.kill('SIGKILL'));
  opts.cleanups.push(async () => {
    unregister();
    if (child.exitCode === null && child.signalCode === null) {
      const done = new Promise((r) => child.once('close', r));
      child.kill('SIGTERM');
      const k = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(k);
    }
  });
  const lines: string[] = [];
  const transitions: LoggedTransition[] = [];
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => {
    opts.onStderr?.(d);
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      if (!line.startsWith('{')) continue;
      try {
        const j = JSON.parse(line) as Record<string, unknown>;
        if (j['msg'] === 'vm transition') transitions.push({ ...(j as unknown as LoggedTransition), at: Date.now() });
      } catch {
        // not a JSON log line
      }
    }
  });
  const limit = opts.listenTimeoutMs ?? 30_000;
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`controller did not listen within ${limit / 1000} s:\n${lines.slice(-40).join('\n')}`)), limit);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`controller exited ${code}:\n${lines.slice(-40).join('\n')}`));
    });
  });
  return { child, port, lines, transitions };
}
