// A private redis-server per test: unix socket in a fresh temp dir, no TCP
// port (so parallel tests and other engineers' servers never collide), no
// persistence. Tests talk to a real server, never a mock. A server can be
// killed (SIGKILL, as a crash) and started again on the same socket and dir:
// it comes back empty, or with whatever dump.rdb a test SAVEd in its dir.
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
  /** The running server's pid (changes on restart). */
  pid: number;
  /** SIGKILLs the server (no shutdown save) and waits for it to exit; the dir stays. */
  kill(): Promise<void>;
  /** Starts a new server on the same socket and dir (after kill()); it loads `dir/dump.rdb` if there is one. */
  restart(): Promise<void>;
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

/** A redis-server process on `socketPath`, ready (answers PING) or failed with RedisStartError. */
async function spawnServer(dir: string, socketPath: string): Promise<{ child: ChildProcess; exited: Promise<void>; kill: (signal?: NodeJS.Signals) => Promise<void> }> {
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
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(child);
  };
  // Bounded wait: 100 x 50 ms.
  for (let i = 0; i < 100; i += 1) {
    if (spawnError !== undefined || child.exitCode !== null) {
      await kill();
      throw new RedisStartError(`redis-server exited before it was ready${spawnError ? `: ${spawnError.message}` : ''}`, output);
    }
    if (await pingOnce(socketPath)) return { child, exited, kill };
    await sleep(50);
  }
  await kill();
  throw new RedisStartError('redis-server did not answer PING within 5 s', output);
}

/** Starts redis-server on a unix socket in a temp dir; with `t`, stops it when the test ends. */
export async function startRedis(t?: Teardown): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-redis-'));
  const socketPath = join(dir, 'redis.sock');
  let current: Awaited<ReturnType<typeof spawnServer>> | undefined;
  let stopped = false;
  const server: RedisServer = {
    socketPath,
    dir,
    pid: -1,
    async kill() {
      await current?.kill();
      current = undefined;
    },
    async restart() {
      if (stopped) throw new Error(`redis-server in ${dir} was stopped; restart() needs kill()`);
      if (current !== undefined) throw new Error(`redis-server in ${dir} is running (pid ${server.pid}); kill() it first`);
      current = await spawnServer(dir, socketPath);
      server.pid = current.child.pid ?? -1;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await current?.kill('SIGTERM');
      current = undefined;
      await rm(dir, { recursive: true, force: true });
    },
  };
  t?.teardown(() => server.stop());
  try {
    await server.restart();
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}
