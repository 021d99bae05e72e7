// A real Prometheus (Debian's `prometheus` package) for tests: its own config
// file and data dir in a temp dir, a loopback port, scrape interval 1 s. The
// metrics test scrapes a live controller with it; the dashboards test runs
// every panel's PromQL against it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atExit } from './exec.js';

export interface PrometheusServer {
  /** e.g. http://127.0.0.1:PORT */
  readonly url: string;
  /** Instant query (/api/v1/query); the result vector (empty when nothing matches). Throws on a PromQL error. */
  query(expr: string): Promise<PromSample[]>;
  /** Polls `expr` every 250 ms until its result is non-empty or `timeoutMs` passes (then throws, naming the query). */
  waitFor(expr: string, timeoutMs?: number): Promise<PromSample[]>;
  stop(): Promise<void>;
}

export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** A free loopback TCP port (bound and released; the caller binds it next). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((res, rej) => srv.once('error', rej).listen(0, '127.0.0.1', () => res()));
  const addr = srv.address();
  await new Promise<void>((res) => srv.close(() => res()));
  if (typeof addr !== 'object' || addr === null) throw new Error('no port bound');
  return addr.port;
}

/** Starts Prometheus scraping `targets` (HOST:PORT, path /metrics) every second; resolves once it answers queries. */
export async function startPrometheus(targets: readonly string[], opts: { binary?: string; startTimeoutMs?: number } = {}): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: seamless
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs: [{ targets: ${JSON.stringify(targets)} }]
`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let stderr = '';
  const child: ChildProcess = spawn(
    opts.binary ?? 'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const unregister = atExit(() => child.kill('SIGKILL'));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    unregister();
    await rm(dir, { recursive: true, force: true });
  };

  async function query(expr: string): Promise<PromSample[]> {
    const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await r.json()) as { status: string; error?: string; data?: { resultType: string; result: PromSample[] } };
    if (body.status !== 'success') throw new Error(`PromQL '${expr}' failed: ${body.error ?? r.status}`);
    return body.data!.result;
  }

  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(`prometheus did not start (${spawnError.message}); install Debian's 'prometheus' package (mininet/setup.sh does)`);
    }
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${child.exitCode}: ${stderr}`);
    }
    try {
      const r = await fetch(`${url}/-/ready`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready at ${url} after ${opts.startTimeoutMs ?? 30_000} ms: ${stderr}`);
    }
    await new Promise((res) => setTimeout(res, 200));
  }

  return {
    url,
    query,
    async waitFor(expr, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const r = await query(expr);
        if (r.length > 0) return r;
        if (Date.now() > end) throw new Error(`PromQL '${expr}' still empty after ${timeoutMs} ms (prometheus ${url})`);
        await new Promise((res) => setTimeout(res, 250));
      }
    },
    stop,
  };
}
