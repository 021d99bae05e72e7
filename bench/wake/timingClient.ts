// Drives the client timing program (client.ts) from the benchmark process.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ConnectAnswer } from './client.js';

/** The client program failed to start or died. */
export class TimingClientError extends Error {
  readonly code = 'ERR_TIMING_CLIENT';
  constructor(message: string) {
    super(message);
    this.name = 'TimingClientError';
  }
}

export interface TimingClient {
  /** Opens one TCP connection from the client and reports how long the handshake took. */
  connect(ip: string, port: number, timeoutMs: number): Promise<ConnectAnswer>;
  stop(): Promise<void>;
}

// Compiled (dist/bench/wake/client.js), or the TypeScript source through tsx when
// this module itself runs from source (unit tests).
const CLIENT_JS = fileURLToPath(new URL('./client.js', import.meta.url));
const CLIENT_ARGS = existsSync(CLIENT_JS) ? [CLIENT_JS] : ['--import', 'tsx', fileURLToPath(new URL('./client.ts', import.meta.url))];

/**
 * Starts client.js under `prefix` (the command that enters the client's netns,
 * e.g. ['ip', 'netns', 'exec', 'h1'] or ['nsenter', '-t', PID, '-n']).
 */
export async function startTimingClient(prefix: readonly string[]): Promise<TimingClient> {
  const [cmd, ...args] = [...prefix, process.execPath, ...CLIENT_ARGS];
  const child: ChildProcessWithoutNullStreams = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const waiting = new Map<number, (a: ConnectAnswer) => void>();
  let ready: (() => void) | undefined;
  let dead: Error | undefined;
  const readyP = new Promise<void>((res) => (ready = res));
  createInterface({ input: child.stdout }).on('line', (line) => {
    let msg: ConnectAnswer & { ready?: boolean };
    try {
      msg = JSON.parse(line) as ConnectAnswer & { ready?: boolean };
    } catch {
      return;
    }
    if (msg.ready === true) return ready?.();
    waiting.get(msg.id)?.(msg);
    waiting.delete(msg.id);
  });
  const exited = new Promise<void>((res) =>
    child.once('exit', (code, sig) => {
      dead = new TimingClientError(`client timing program exited (${code ?? sig}): ${stderr.trim()}`);
      for (const w of waiting.values()) w({ id: -1, ok: false, t0: 0, ms: 0, error: dead.message });
      waiting.clear();
      res();
    }),
  );
  const startTimer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await Promise.race([readyP, exited]);
  clearTimeout(startTimer);
  if (dead) throw dead;
  let nextId = 1;
  return {
    connect(ip, port, timeoutMs) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        child.stdin.write(`${JSON.stringify({ id, ip, port, timeoutMs })}\n`);
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin.end();
        const t = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
