/**
 * The OpenFlow listener: TCP, or TLS with mutual certificates, on host:port.
 * It only accepts sockets and hands them on; the connection state machine
 * (connection.ts) does the protocol.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { OFP_TCP_PORT } from '../openflow/index.js';
import { SwitchConfigError } from './errors.js';

/** PEM files for TLS with mutual authentication: switches must present a cert signed by `caFile`. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

export interface ListenOptions {
  /** Default '0.0.0.0'. */
  readonly host?: string;
  /** Default 6653 (OFP_TCP_PORT); 0 picks a free port (see SwitchListener.address). */
  readonly port?: number;
  readonly tls?: TlsFiles;
  /** Called for every accepted socket (after the TLS handshake when TLS is on). */
  readonly onSocket: (socket: net.Socket) => void;
  readonly log?: Logger;
}

export interface BoundAddress {
  readonly host: string;
  readonly port: number;
}

export interface SwitchListener {
  /** The address actually bound (the real port when 0 was asked for). */
  readonly address: BoundAddress;
  readonly tls: boolean;
  /** Sockets accepted and not yet closed. */
  readonly openSockets: number;
  /**
   * Stops accepting, destroys sockets still open (their owners should have
   * closed them first) and resolves once the server is closed.
   */
  close(): Promise<void>;
}

async function loadTls(files: TlsFiles): Promise<tls.TlsOptions> {
  const read = async (what: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (e) {
      throw new SwitchConfigError('SWITCH_TLS_FILES', `cannot read TLS ${what} file '${path}': ${(e as Error).message}`, { cause: e });
    }
  };
  const [cert, key, ca] = await Promise.all([
    read('certificate', files.certFile),
    read('private key', files.keyFile),
    read('CA certificate', files.caFile),
  ]);
  // Mutual TLS: a switch without a certificate signed by our CA is refused during the handshake.
  return { cert, key, ca, requestCert: true, rejectUnauthorized: true };
}

/** Starts listening; resolves once bound. Rejects on a bad port, unreadable TLS files or a bind error. */
export async function listenForSwitches(opts: ListenOptions): Promise<SwitchListener> {
  const host = opts.host ?? '0.0.0.0';
  const port = opts.port ?? OFP_TCP_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SwitchConfigError('SWITCH_BAD_OPTION', `listen port must be an integer 0..65535, got ${port}`);
  }
  const log = opts.log ?? silentLogger;
  const sockets = new Set<net.Socket>();
  const accept = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    try {
      opts.onSocket(socket);
    } catch (e) {
      log.error('socket handler threw', { err: e });
      socket.destroy();
    }
  };

  let server: net.Server;
  if (opts.tls !== undefined) {
    const tlsServer = tls.createServer(await loadTls(opts.tls));
    tlsServer.on('secureConnection', accept);
    tlsServer.on('tlsClientError', (err, socket) => {
      // A refused certificate lands here; the address may be gone if the peer already hung up.
      const remote = socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`;
      log.warn('TLS handshake with switch failed', { remote, err });
    });
    server = tlsServer;
  } else {
    server = net.createServer({ noDelay: true }, accept);
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error('listener error', { err }));
  const bound = server.address() as net.AddressInfo;
  const address: BoundAddress = { host: bound.address, port: bound.port };
  log.info('listening for switches', { host: address.host, port: address.port, tls: opts.tls !== undefined });

  let closing: Promise<void> | undefined;
  return {
    address,
    tls: opts.tls !== undefined,
    get openSockets() {
      return sockets.size;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
