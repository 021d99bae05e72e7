import { VirErr, type RemoteError } from './protocol.js';

/** Stable codes of LibvirtError. */
export type LibvirtErrorCode =
  /** The named domain does not exist (virErrorNumber VIR_ERR_NO_DOMAIN). */
  | 'LIBVIRT_NO_DOMAIN'
  /** Not applicable in the domain's current state, e.g. resume of a running domain (VIR_ERR_OPERATION_INVALID). */
  | 'LIBVIRT_OPERATION_INVALID'
  /** libvirtd cannot be reached, or the connection dropped during the call. */
  | 'LIBVIRT_CONNECTION'
  /** No reply, or the domain did not reach the wanted state, within the time limit. */
  | 'LIBVIRT_TIMEOUT'
  /** The daemon sent bytes that break the RPC protocol; the connection was dropped. */
  | 'LIBVIRT_PROTOCOL'
  /** The daemon refused our credentials. */
  | 'LIBVIRT_AUTH'
  /**
   * TLS with a remote libvirtd failed: its certificate is not trusted (CA, host name),
   * it refused our client certificate, or our key material cannot be read.
   */
  | 'LIBVIRT_TLS'
  /** The URI names a transport this adapter does not speak. */
  | 'LIBVIRT_BAD_URI'
  /** Any other libvirt error; see libvirtCode and the message. */
  | 'LIBVIRT_ERROR';

/** Every failure of the libvirt adapter (real or fake). */
export class LibvirtError extends Error {
  readonly code: LibvirtErrorCode;
  /** libvirt's virErrorNumber when the daemon reported the error. */
  readonly libvirtCode?: number;
  /** The domain the operation was about, when there is one. */
  readonly domain?: string;

  constructor(code: LibvirtErrorCode, message: string, opts: { libvirtCode?: number; domain?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LibvirtError';
    this.code = code;
    if (opts.libvirtCode !== undefined) this.libvirtCode = opts.libvirtCode;
    if (opts.domain !== undefined) this.domain = opts.domain;
  }
}

/** Maps a remote_error from the daemon to a LibvirtError with a stable code. */
export function fromRemoteError(e: RemoteError, domain?: string): LibvirtError {
  const code: LibvirtErrorCode =
    e.code === VirErr.NO_DOMAIN
      ? 'LIBVIRT_NO_DOMAIN'
      : e.code === VirErr.OPERATION_INVALID
        ? 'LIBVIRT_OPERATION_INVALID'
        : e.code === VirErr.OPERATION_TIMEOUT
          ? 'LIBVIRT_TIMEOUT'
          : e.code === VirErr.AUTH_FAILED || e.code === VirErr.OPERATION_DENIED
            ? 'LIBVIRT_AUTH'
            : 'LIBVIRT_ERROR';
  const dom = domain ?? e.dom?.name;
  let message = e.message ?? `libvirt error ${e.code}`;
  // libvirt names a vanished domain by UUID when it was addressed by handle: name it too.
  if (dom !== undefined && !message.includes(dom)) message = `${message} (domain '${dom}')`;
  return new LibvirtError(code, message, { libvirtCode: e.code, ...(dom === undefined ? {} : { domain: dom }) });
}
