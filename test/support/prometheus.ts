// A real Prometheus for the metrics and dashboard tests: Debian's `prometheus` (mininet/setup.sh
// installs it) with its own config, data dir and a free loopback port, never the
// packaged service. It can scrape targets (scrape_interval 1 s so a test waits
// seconds, not minutes) and answers instant queries through its HTTP API, where
// an expression Prometheus cannot parse is an error, not an empty result.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { atExit, type Teardown } from './exec.js';
import { freePort } from './mininet.js';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** What /api/v1/query answered: the samples, or Prometheus' own error (type and message). */
export type PromQueryResult = { ok: true; resultType: string; samples: PromSample[] } | { ok: false; errorType: string; error: string };

export interface Prometheus {
  url: string;
  dir: string;
  /** An instant query at "now" (GET /api/v1/query). */
  query(expr: string): Promise<PromQueryResult>;
  /** Metric names Prometheus holds series for (GET /api/v1/label/__name__/values). */
  metricNames(): Promise<string[]>;
  /** The scrape targets' health as Prometheus sees it (GET /api/v1/targets). */
  targets(): Promise<Array<{ scrapeUrl: string; health: string; lastError: string }>>;
  /** The samples of an instant query; throws with Prometheus' error when it refuses the expression. */
  samples(expr: string): Promise<PromSample[]>;
  /** Polls `expr` every 250 ms until its result is non-empty (bounded: `timeoutMs`, default 30 s; then throws naming the query). */
  waitFor(expr: string, timeoutMs?: number): Promise<PromSample[]>;
  /** What Prometheus printed so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export class PrometheusStartError extends Error {
  readonly code = 'PROMETHEUS_START_FAILED';
  constructor(message: string, readonly output: string) {
    super(`${message}${output.trim() === '' ? '' : `\n${output.trim().slice(-3000)}`}`);
    this.name = 'PrometheusStartError';
  }
}

export interface PrometheusOptions {
  /** host:port targets to scrape at /metrics (none: a Prometheus that only parses and evaluates). */
  scrape?: readonly string[];
  /** Bound on the start (default 30 s; it is ready in about 1 s here). */
  startTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts Prometheus on 127.0.0.1:<free port>; with `t`, stops it and removes its data when the test ends. */
export async function startPrometheus(t: Teardown | undefined, opts: PrometheusOptions = {}): Promise<Prometheus> {
  const dir = mkdtempSync(path.join(tmpdir(), 'seamless-prometheus-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // JSON is YAML: no YAML writer needed for a config this small.
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: (opts.scrape ?? []).length === 0 ? [] : [{ job_name: 'seamless', static_configs: [{ targets: [...(opts.scrape ?? [])] }] }],
  };
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const child = spawn(PROMETHEUS_BIN, [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const exited = new Promise<void>((res) => child.once('close', () => res()));
  const unregister = atExit(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      unregister();
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  t?.teardown(stop);

  const api = async (p: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${url}${p}`);
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) };
    } catch {
      throw new Error(`Prometheus ${p}: HTTP ${res.status}, not JSON: ${text.slice(0, 300)}`);
    }
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (spawnError !== undefined) {
      await stop();
      throw new PrometheusStartError(`cannot run ${PROMETHEUS_BIN} (${spawnError.message}); install Debian's prometheus (bash mininet/setup.sh)`, output);
    }
    if (child.exitCode !== null) {
      await stop();
      throw new PrometheusStartError(`prometheus exited ${child.exitCode} before it was ready`, output);
    }
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new PrometheusStartError(`prometheus on ${url} not ready within ${opts.startTimeoutMs ?? 30_000} ms`, output);
    }
    await sleep(100);
  }

  const query = async (expr: string): Promise<PromQueryResult> => {
    const { body } = await api(`/api/v1/query?query=${encodeURIComponent(expr)}`);
    if (body.status === 'success') return { ok: true, resultType: body.data.resultType, samples: body.data.resultType === 'vector' ? body.data.result : [{ metric: {}, value: body.data.result }] };
    return { ok: false, errorType: String(body.errorType), error: String(body.error) };
  };
  const samples = async (expr: string): Promise<PromSample[]> => {
    const r = await query(expr);
    if (!r.ok) throw new Error(`Prometheus refused ${expr}: ${r.errorType}: ${r.error}`);
    return r.samples;
  };

  return {
    url,
    dir,
    query,
    samples,
    async waitFor(expr, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const got = await samples(expr);
        if (got.length > 0) return got;
        if (Date.now() > until) throw new Error(`Prometheus: ${expr} still empty after ${timeoutMs} ms\n${output.slice(-2000)}`);
        await sleep(250);
      }
    },
    async metricNames() {
      const { body } = await api('/api/v1/label/__name__/values');
      return body.data as string[];
    },
    async targets() {
      const { body } = await api('/api/v1/targets');
      return (body.data.activeTargets as Array<{ scrapeUrl: string; health: string; lastError: string }>).map((x) => ({ scrapeUrl: x.scrapeUrl, health: x.health, lastError: x.lastError }));
    },
    log: () => output,
    stop,
  };
}
