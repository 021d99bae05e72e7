/**
 * libvirt connection URIs (https://libvirt.org/uri.html) as this adapter speaks them:
 *
 *   driver[+unix]:///system[?socket=PATH]      libvirtd's local unix socket
 *   driver+tls://HOST[:PORT]/system[?pkipath=DIR]  TLS, port 16514, client certificate, server verified
 *   driver://HOST[:PORT]/system                 the same (libvirt's default transport for a host is TLS)
 *   driver+tcp://HOST[:PORT]/system             plain TCP, port 16509: no encryption, no authentication
 *
 * ssh/libssh/ext transports are refused (they need an external program), and so is
 * `no_verify=1`: a TLS connection that does not verify the server is not offered.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { LibvirtError } from './errors.js';

/** libvirtd's read-write socket (the same for qemu:///system and every other driver URI). */
export const DEFAULT_SOCKET_PATH = '/var/run/libvirt/libvirt-sock';
/** libvirtd's default listen ports (libvirtd.conf tls_port / tcp_port). */
export const DEFAULT_TLS_PORT = 16514;
export const DEFAULT_TCP_PORT = 16509;

/** libvirt's default client PKI files (the same paths virsh uses as root). */
export const DEFAULT_TLS_FILES: TlsFiles = {
  caCert: '/etc/pki/CA/cacert.pem',
  clientCert: '/etc/pki/libvirt/clientcert.pem',
  clientKey: '/etc/pki/libvirt/private/clientkey.pem',
};

/** Where the client's TLS material is read from (PEM files). */
export interface TlsFiles {
  /** CA certificate(s) the server's certificate must chain to. */
  readonly caCert: string;
  /** This client's certificate, presented to libvirtd. */
  readonly clientCert: string;
  /** Its private key. */
  readonly clientKey: string;
}

export type LibvirtEndpoint =
  | { readonly kind: 'unix'; readonly socketPath: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'tls'; readonly host: string; readonly port: number; readonly files: TlsFiles };

export interface ParsedLibvirtUri {
  readonly endpoint: LibvirtEndpoint;
  /** The URI sent in CONNECT_OPEN: transport, host, port and client-only parameters removed (as libvirt's remote driver does). */
  readonly openUri: string;
}

const URI_RE = /^([a-z][a-z0-9]*)(?:\+([a-z][a-z0-9]*))?:\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/;

function bad(uri: string, why: string): LibvirtError {
  return new LibvirtError('LIBVIRT_BAD_URI', `unsupported libvirt URI '${uri}': ${why}`);
}

/** Splits "host", "host:port", "[v6]" or "[v6]:port"; port undefined when absent. */
function splitAuthority(uri: string, authority: string): { host: string; port: number | undefined } {
  if (authority.includes('@')) throw bad(uri, 'a user name is only used by ssh transports, which are not supported');
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(authority);
  if (m === null) throw bad(uri, `'${authority}' is not HOST[:PORT]`);
  const host = m[1] ?? m[2]!;
  if (m[1] !== undefined && isIP(host) !== 6) throw bad(uri, `'${host}' is not an IPv6 address`);
  if (m[3] === undefined) return { host, port: undefined };
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw bad(uri, `port ${port} is out of range 1..65535`);
  return { host, port };
}

/**
 * Parses a libvirt URI into where to connect and what to open there.
 * `tls` overrides libvirt's default PKI paths (inventory `hypervisors[].tls`);
 * a `?pkipath=DIR` in the URI wins over both, like in libvirt.
 */
export function parseLibvirtUri(uri: string, tls: Partial<TlsFiles> = {}): ParsedLibvirtUri {
  const m = URI_RE.exec(uri);
  if (m === null) throw bad(uri, 'expected driver[+transport]://[host[:port]]/system, e.g. qemu:///system or qemu+tls://host/system');
  const driver = m[1]!;
  const authority = m[3]!;
  const pathPart = m[4] ?? '/';
  const params = new URLSearchParams(m[5] ?? '');
  const transport = m[2] ?? (authority === '' ? 'unix' : 'tls');
  if (pathPart === '/session') throw bad(uri, 'session daemons are not supported; use /system');
  const openUri = `${driver}://${pathPart}`;
  const allowed = transport === 'unix' ? ['socket'] : transport === 'tls' ? ['pkipath'] : [];
  for (const key of params.keys()) {
    if (key === 'no_verify') throw bad(uri, 'no_verify is refused: the server certificate is always verified');
    if (!allowed.includes(key)) throw bad(uri, `parameter '${key}' is not supported with the ${transport} transport`);
  }
  switch (transport) {
    case 'unix': {
      if (authority !== '') throw bad(uri, 'the unix transport takes no host');
      return { endpoint: { kind: 'unix', socketPath: params.get('socket') ?? DEFAULT_SOCKET_PATH }, openUri };
    }
    case 'tcp': {
      if (authority === '') throw bad(uri, 'the tcp transport needs a host: qemu+tcp://HOST[:PORT]/system');
      const { host, port } = splitAuthority(uri, authority);
      return { endpoint: { kind: 'tcp', host, port: port ?? DEFAULT_TCP_PORT }, openUri };
    }
    case 'tls': {
      if (authority === '') throw bad(uri, 'the tls transport needs a host: qemu+tls://HOST[:PORT]/system');
      const { host, port } = splitAuthority(uri, authority);
      const pki = params.get('pkipath');
      const files: TlsFiles =
        pki !== null
          ? { caCert: path.join(pki, 'cacert.pem'), clientCert: path.join(pki, 'clientcert.pem'), clientKey: path.join(pki, 'clientkey.pem') }
          : { ...DEFAULT_TLS_FILES, ...definedOnly(tls) };
      return { endpoint: { kind: 'tls', host, port: port ?? DEFAULT_TLS_PORT, files }, openUri };
    }
    default:
      throw bad(uri, `transport '${transport}' is not supported (use unix, tls or tcp)`);
  }
}

function definedOnly(t: Partial<TlsFiles>): Partial<TlsFiles> {
  return Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as Partial<TlsFiles>;
}

/** How an endpoint is named in errors and `seamless hypervisor list`: "tls 127.0.0.1:16514", "unix /var/run/...". */
export function endpointLabel(e: LibvirtEndpoint): string {
  if (e.kind === 'unix') return e.socketPath;
  const host = isIP(e.host) === 6 ? `[${e.host}]` : e.host;
  return `${host}:${e.port} (${e.kind})`;
}
