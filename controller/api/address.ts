// Where the control API listens: a unix socket (default) or a loopback TCP port.
import { isIP } from 'node:net';
import { ApiConfigError } from './errors.js';

export const DEFAULT_API_SOCKET = '/run/seamless/seamless.sock';

export type ApiAddress = { readonly kind: 'unix'; readonly path: string } | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

/**
 * Parses `PATH` (anything with a '/') or `HOST:PORT` / `[V6]:PORT`. TCP is
 * loopback only: the API has no authentication, a unix socket's file mode is
 * its access control, and a loopback port is reachable only from this host.
 */
export function parseApiAddress(s: string): ApiAddress {
  if (s === '') throw new ApiConfigError('API address is empty');
  if (s.includes('/')) return { kind: 'unix', path: s };
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(s);
  if (m === null) throw new ApiConfigError(`API address: expected a socket PATH or HOST:PORT, got '${s}'`);
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new ApiConfigError(`API address: port ${m[3]} is out of range`);
  if (!LOOPBACK.has(host) && !(isIP(host) === 4 && host.startsWith('127.'))) {
    throw new ApiConfigError(`API address: ${host} is not a loopback address (the API has no authentication; use a unix socket or 127.0.0.1)`);
  }
  return { kind: 'tcp', host, port };
}

/** How an address is shown to operators. */
export function formatApiAddress(a: ApiAddress): string {
  return a.kind === 'unix' ? a.path : `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
