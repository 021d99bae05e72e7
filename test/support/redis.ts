// A private redis-server per test: unix socket in a fresh temp dir, no TCP
// port (so parallel tests and other engineers' servers never collide), no
// persistence. Tests talk to a real server, never a mock.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { atExit, type Teardown } from './exec.js';

export interface RedisServer {
  /** Unix socket path: `new Redis({ path: server.socketPath })`. */
  socketPath: string;
  /** Temp dir holding the socket and the server log. */
  dir: string;
  pid: number;
  /** Stops the server and removes its dir; safe to call twice. */
  stop(): Promise<void>;
}

/** redis-server did not become ready. */
export class RedisStartError extends Error {
  readonly code = 'REDIS_START';
  constructor(message: string, readonly output: string) {
    super(`${message}${output.trim() === '' ? '' : `\n${output.trim()}`}`);
    this.name = 'RedisStartError';
  }
}

// Running servers and their temp dirs.
const live = new Map<ChildProcess, string>();
atExit(() => {
  for (const [child, dir] of live) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

function pingOnce(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    let buf = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

/** Starts redis-server on a unix socket in a temp dir; with `t`, stops it when the test ends. */
export async function startRedis(t?: Teardown): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-redis-'));
  const socketPath = join(dir, 'redis.sock');
  const child = spawn(
    'redis-server',
    ['--port', '0', '--unixsocket', socketPath, '--unixsocketperm', '700', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.set(child, dir);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(child);
    await rm(dir, { recursive: true, force: true });
  };
  t?.teardown(stop);

  // Bounded wait: 100 x 50 ms.
  for (let i = 0; i < 100; i += 1) {
    if (spawnError !== undefined || child.exitCode !== null) {
      await stop();
      throw new RedisStartError(`redis-server exited before it was ready${spawnError ? `: ${spawnError.message}` : ''}`, output);
    }
    if (await pingOnce(socketPath)) {
      return { socketPath, dir, pid: child.pid ?? -1, stop };
    }
    await sleep(50);
  }
  await stop();
  throw new RedisStartError('redis-server did not answer PING within 5 s', output);
}
