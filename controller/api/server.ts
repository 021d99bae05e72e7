/**
 * The daemon's control API: HTTP/1.1 + JSON on a unix socket (default
 * /run/seamless/seamless.sock) or a loopback port, node:http only.
 *
 *   GET  /v1/status               the daemon (version, store health)
 *   GET  /v1/vms                  every VM
 *   GET  /v1/vms/:name            one VM (404 VM_NOT_FOUND)
 *   POST /v1/vms/:name/park       park now (202 started, 200 already/in-progress, 409 VM_BUSY)
 *   POST /v1/vms/:name/wake       wake now (same)
 *   GET  /v1/switches             connected datapaths and their ports
 *   GET  /v1/links                switch-to-switch links found by LLDP (with --fabric)
 *
 * Errors are `{"error":{"code","message"}}` with a stable code.
 */
import { chmod, lstat, mkdir, stat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';
import { formatApiAddress, type ApiAddress } from './address.js';
import { ApiConfigError } from './errors.js';
import type { ControlSource, ErrorView } from './types.js';

export interface ApiServerOptions {
  readonly address: ApiAddress;
  readonly source: ControlSource;
  readonly log?: Logger;
  /** File mode of the socket (default 0o660: root and the socket's group). */
  readonly socketMode?: number;
}

export interface ApiServer {
  /** Where it listens (the real port when 0 was asked for). */
  readonly address: ApiAddress;
  /** Stops accepting, ends idle keep-alive connections, removes the socket file. Idempotent. */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body: ErrorView = { error: { code, message } };
  send(res, status, body);
}

/** Route table: [method, pattern] -> handler with the decoded path parameter. */
async function route(source: ControlSource, method: string, path: string): Promise<{ status: number; body: unknown }> {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts[0] !== 'v1') throw new HttpError(404, 'NOT_FOUND', `no such endpoint: ${path} (the API is under /v1)`);
  const allow = (...methods: string[]) => {
    if (!methods.includes(method)) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} ${path}: use ${methods.join(' or ')}`);
  };
  const [, a, b, c, ...rest] = parts;
  if (rest.length === 0) {
    if (a === 'status' && b === undefined) {
      allow('GET');
      return { status: 200, body: source.daemon() };
    }
    if (a === 'switches' && b === undefined) {
      allow('GET');
      return { status: 200, body: { switches: source.switches() } };
    }
    if (a === 'links' && b === undefined) {
      allow('GET');
      return { status: 200, body: source.links() };
    }
    if (a === 'hypervisors' && b === undefined) {
      allow('GET');
      return { status: 200, body: { hypervisors: source.hypervisors?.() ?? [] } };
    }
    if (a === 'vms' && b === undefined) {
      allow('GET');
      return { status: 200, body: { vms: source.vms() } };
    }
    if (a === 'vms' && b !== undefined) {
      let name: string;
      try {
        name = decodeURIComponent(b);
      } catch {
        throw new HttpError(400, 'BAD_REQUEST', `bad VM name in ${path}`);
      }
      if (c === undefined) {
        allow('GET');
        return { status: 200, body: source.vm(name) };
      }
      if (c === 'park' || c === 'wake') {
        allow('POST');
        const r = c === 'park' ? await source.park(name) : await source.wake(name);
        return { status: r.result === 'started' ? 202 : 200, body: r };
      }
    }
  }
  throw new HttpError(404, 'NOT_FOUND', `no such endpoint: ${method} ${path}`);
}

async function handle(source: ControlSource, req: IncomingMessage, res: ServerResponse, log: Logger | undefined): Promise<void> {
  // Commands carry no body; drain anything sent so keep-alive connections stay usable.
  req.resume();
  const method = req.method ?? 'GET';
  let path: string;
  try {
    path = new URL(req.url ?? '/', 'http://seamless').pathname;
  } catch {
    sendError(res, 400, 'BAD_REQUEST', `bad request target ${JSON.stringify(req.url)}`);
    return;
  }
  try {
    const { status, body } = await route(source, method, path);
    send(res, status, body);
  } catch (e) {
    if (e instanceof HttpError) return sendError(res, e.status, e.code, e.message);
    const err = e as { status?: unknown; code?: unknown; message?: unknown };
    if (typeof err.status === 'number' && typeof err.code === 'string') return sendError(res, err.status, err.code, String(err.message));
    log?.error('control API request failed', { method, path, err: e });
    sendError(res, 500, 'INTERNAL', `internal error: ${(e as Error).message}`);
  } finally {
    log?.debug('control API request', { method, path, status: res.statusCode });
  }
}

/** True when something accepts connections on the socket path. */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Creates the socket's missing parent directories one by one (mode 0755). Not
 * mkdir({recursive}): Node's recursive mkdir loops forever where a parent exists
 * but refuses new entries with ENOENT (/proc/nope/x.sock spun a core).
 */
async function ensureSocketDir(socketPath: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dirname(socketPath); ; d = dirname(d)) {
    try {
      if ((await stat(d)).isDirectory()) break;
      throw new ApiConfigError(`${socketPath}: ${d} is not a directory`);
    } catch (e) {
      if (e instanceof ApiConfigError) throw e;
      const err = e as NodeJS.ErrnoException;
      if (err.code !== 'ENOENT') throw new ApiConfigError(`${socketPath}: cannot use the directory ${d}: ${err.message}`);
      missing.push(d);
      if (dirname(d) === d) break;
    }
  }
  for (const d of missing.reverse()) {
    await mkdir(d, { mode: 0o755 }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw new ApiConfigError(`${socketPath}: cannot create the directory ${d}: ${e.message}`);
    });
  }
}

/**
 * Makes room for the socket: nothing there is fine; a socket nobody answers on
 * (left by a crash) is removed; a live socket, or anything that is not a socket
 * (an operator's file given to --api by mistake), is an error and left alone.
 */
async function clearStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return;
    throw new ApiConfigError(`${path}: cannot check the API socket path: ${err.message}`);
  }
  if (!st.isSocket()) throw new ApiConfigError(`${path}: exists and is not a socket; refusing to replace it (remove it or choose another API path)`);
  if (await socketInUse(path)) throw new ApiConfigError(`${path}: another controller is already serving the API there`);
  await unlink(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw new ApiConfigError(`${path}: cannot remove the stale socket: ${e.message}`);
  });
}

function listen(server: Server, address: ApiAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if (address.kind === 'unix') server.listen(address.path, done);
    else server.listen(address.port, address.host, done);
  });
}

/**
 * Starts the API server. A stale socket (left by a crash) is replaced; a socket
 * another live daemon answers on, a path that is not a socket, a directory that
 * cannot be created and a taken port are ApiConfigErrors naming the address.
 */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { source, log } = opts;
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 10_000 }, (req, res) => void handle(source, req, res, log));
  server.keepAliveTimeout = 5000;
  let address = opts.address;
  if (address.kind === 'unix') {
    await ensureSocketDir(address.path);
    await clearStaleSocket(address.path);
  }
  try {
    await listen(server, address);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ApiConfigError(`cannot serve the control API on ${formatApiAddress(address)}: ${err.code ?? ''} ${err.message}`.replace('  ', ' '));
  }
  if (address.kind === 'unix') await chmod(address.path, opts.socketMode ?? 0o660);
  else {
    const a = server.address();
    if (a !== null && typeof a === 'object') address = { kind: 'tcp', host: address.host, port: a.port };
  }
  log?.info('control API listening', { address: formatApiAddress(address) });
  let closing: Promise<void> | undefined;
  return {
    address,
    close() {
      closing ??= new Promise<void>((resolve) => {
        // Node removes the socket file when a unix-socket server closes.
        server.close(() => resolve());
        server.closeIdleConnections();
        // A client that keeps a request open does not hold the daemon's shutdown for long.
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      });
      return closing;
    },
  };
}
