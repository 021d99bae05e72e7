// GET /metrics over HTTP for Prometheus. Off unless --metrics is given; loopback
// unless the operator names another host (the exposition has VM names and no
// authentication, so exposing it is a choice made explicitly).
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import type { SeamlessMetrics } from './metrics.js';

export interface MetricsAddress {
  readonly host: string;
  readonly port: number;
}

/** A bad --metrics value. */
export class MetricsAddressError extends Error {
  override readonly name = 'MetricsAddressError';
  readonly code = 'ERR_METRICS_ADDRESS';
}

/**
 * Parses `PORT` (127.0.0.1), `HOST:PORT` or `[V6]:PORT`. Any host given
 * explicitly is accepted (the operator asked for it); only the bare port
 * defaults to loopback. Port 0 picks a free port (tests).
 */
export function parseMetricsAddress(s: string): MetricsAddress {
  if (/^\d+$/.test(s)) return { host: '127.0.0.1', port: port(s, s) };
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(s);
  if (m === null) throw new MetricsAddressError(`metrics address: expected PORT or HOST:PORT, got '${s}'`);
  const host = m[1] ?? m[2]!;
  if (m[1] !== undefined && isIP(host) !== 6) throw new MetricsAddressError(`metrics address: '${host}' in brackets is not an IPv6 address`);
  return { host, port: port(m[3]!, s) };
}

function port(p: string, s: string): number {
  const n = Number(p);
  if (n > 65535) throw new MetricsAddressError(`metrics address: port ${p} is out of range in '${s}'`);
  return n;
}

export interface MetricsServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: MetricsAddress;
  close(): Promise<void>;
}

/** Serves GET (and HEAD) /metrics; 404 for any other path, 405 for other methods. */
export async function serveMetrics(metrics: SeamlessMetrics, at: MetricsAddress): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end(`method ${req.method} not allowed\n`);
      return;
    }
    metrics.expose().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${e instanceof Error ? e.message : String(e)}\n`);
      },
    );
  });
  // A scraper that keeps a connection open must not hold the daemon's shutdown.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const address = typeof bound === 'object' && bound !== null ? { host: at.host, port: bound.port } : at;
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
