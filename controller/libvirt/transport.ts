/**
 * Opens the byte stream to libvirtd for one endpoint: unix socket, plain TCP, or
 * TLS with a client certificate, the server verified against the CA and by host name.
 *
 * libvirt's TLS has one step beyond the handshake: once libvirtd has checked our
 * certificate (and its DN against tls_allowed_dn_list) it sends one byte, 1 when
 * it accepts us (libvirt src/rpc/virnetclient.c, virNetClientSetTLSSession). The
 * stream only carries RPC packets after that byte, so we wait for it here.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { Clock } from '../clock.js';
import { LibvirtError } from './errors.js';
import type { LibvirtEndpoint, TlsFiles } from './uri.js';

export interface OpenedTransport {
  readonly socket: net.Socket;
  /** Bytes that arrived with libvirtd's TLS confirmation byte: the start of the RPC stream. */
  readonly rest: Buffer;
}

/** Reads the client's CA, certificate and key; LIBVIRT_TLS naming the file that cannot be read. */
export async function readTlsFiles(files: TlsFiles): Promise<{ ca: Buffer; cert: Buffer; key: Buffer }> {
  const read = async (what: string, file: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
      throw new LibvirtError('LIBVIRT_TLS', `cannot read the TLS ${what} ${file} (${why}); run mininet/libvirt-tls.sh or set hypervisors[].tls in the inventory`, { cause: e });
    }
  };
  const [ca, cert, key] = await Promise.all([read('CA certificate', files.caCert), read('client certificate', files.clientCert), read('client key', files.clientKey)]);
  return { ca, cert, key };
}

/** Node's TLS verification error codes that mean "the server is not who the CA says". */
const VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function describe(endpoint: LibvirtEndpoint, label: string, err: Error): LibvirtError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (endpoint.kind === 'tls' && VERIFY_CODES.has(code)) {
    return new LibvirtError(
      'LIBVIRT_TLS',
      `libvirtd at ${label}: its certificate is not trusted (${code}: ${err.message}); checked against the CA ${endpoint.files.caCert} and the host name '${endpoint.host}'`,
      { cause: err },
    );
  }
  if (endpoint.kind === 'tls' && /alert|certificate|handshake|SSL/i.test(`${code} ${err.message}`)) {
    return new LibvirtError('LIBVIRT_TLS', `TLS with libvirtd at ${label} failed: ${err.message} (does it accept the client certificate ${endpoint.files.clientCert}?)`, { cause: err });
  }
  const hint =
    endpoint.kind === 'unix'
      ? code === 'ENOENT' || code === 'ECONNREFUSED'
        ? ' (is libvirtd running? start it with `libvirtd -d`)'
        : code === 'EACCES'
          ? ' (permission denied: run as root or a member of the libvirt group)'
          : ''
      : code === 'ECONNREFUSED'
        ? ` (is libvirtd listening there? it needs --listen and listen_${endpoint.kind} = 1)`
        : '';
  return new LibvirtError('LIBVIRT_CONNECTION', `cannot connect to libvirtd at ${label}: ${err.message}${hint}`, { cause: err });
}

export async function openTransport(endpoint: LibvirtEndpoint, label: string, timeoutMs: number, clock: Clock): Promise<OpenedTransport> {
  // Key material is read per connection: a renewed certificate is used at the next reconnect.
  const material = endpoint.kind === 'tls' ? await readTlsFiles(endpoint.files) : undefined;
  return new Promise<OpenedTransport>((resolve, reject) => {
    let socket: net.Socket;
    let done = false;
    const finish = (err: LibvirtError | undefined, rest: Buffer = Buffer.alloc(0)): void => {
      if (done) return;
      done = true;
      clock.clearTimer(timer);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      socket.removeListener('data', onData);
      if (err !== undefined) {
        socket.destroy();
        reject(err);
      } else {
        // Held until RpcConnection listens: no RPC byte may be emitted to nobody.
        socket.pause();
        resolve({ socket, rest });
      }
    };
    const onError = (err: Error): void => finish(describe(endpoint, label, err));
    const onClose = (): void =>
      finish(
        endpoint.kind === 'tls'
          ? new LibvirtError('LIBVIRT_TLS', `libvirtd at ${label} closed the TLS connection before accepting us: server verification (of our certificate ${endpoint.files.clientCert} or our IP address) failed`)
          : new LibvirtError('LIBVIRT_CONNECTION', `libvirtd at ${label} closed the connection while connecting`),
      );
    // TLS only: the first byte after the handshake is libvirtd's verdict on our certificate.
    const onData = (chunk: Buffer): void => {
      if (chunk[0] !== 1) {
        finish(new LibvirtError('LIBVIRT_TLS', `libvirtd at ${label} refused us: server verification (of our certificate ${endpoint.kind === 'tls' ? endpoint.files.clientCert : ''} or our IP address) failed`));
        return;
      }
      finish(undefined, chunk.subarray(1));
    };
    const timer = clock.setTimer(() => {
      const stage = endpoint.kind === 'tls' ? 'connecting (TCP, TLS handshake, certificate check)' : 'connecting';
      finish(new LibvirtError('LIBVIRT_CONNECTION', `timed out after ${timeoutMs} ms ${stage} to libvirtd at ${label} (host down, blackholed or hung?)`));
    }, timeoutMs);
    try {
      if (endpoint.kind === 'unix') {
        socket = net.createConnection({ path: endpoint.socketPath }, () => finish(undefined));
      } else if (endpoint.kind === 'tcp') {
        socket = net.createConnection({ host: endpoint.host, port: endpoint.port }, () => finish(undefined));
      } else {
        socket = tls.connect(
          {
            host: endpoint.host,
            port: endpoint.port,
            ...material!,
            // SNI takes names only; an IP address is still checked against the certificate's IP SANs.
            ...(net.isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
            rejectUnauthorized: true,
          },
          () => socket.on('data', onData),
        );
      }
    } catch (e) {
      // Node rejects unusable key material synchronously (not PEM, key and certificate do not match).
      clock.clearTimer(timer);
      done = true;
      const files = endpoint.kind === 'tls' ? ` (${endpoint.files.caCert}, ${endpoint.files.clientCert}, ${endpoint.files.clientKey})` : '';
      reject(new LibvirtError(endpoint.kind === 'tls' ? 'LIBVIRT_TLS' : 'LIBVIRT_CONNECTION', `cannot connect to libvirtd at ${label}: ${e instanceof Error ? e.message : String(e)}${files}`, { cause: e }));
      return;
    }
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}
