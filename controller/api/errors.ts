// Typed errors of the control API, each with a stable `code`. The server maps
// them to HTTP statuses; the client turns error bodies back into ApiRequestError.

/** No VM of that name in the inventory (HTTP 404). */
export class VmNotFoundError extends Error {
  override readonly name = 'VmNotFoundError';
  readonly code = 'VM_NOT_FOUND';
  readonly status = 404;
  constructor(
    readonly vm: string,
    known: readonly string[],
  ) {
    super(known.length === 0 ? `no VM named '${vm}' (the controller runs without an inventory)` : `no VM named '${vm}' (known: ${known.join(', ')})`);
  }
}

/** The VM is in a state that cannot take the command now (HTTP 409). */
export class VmBusyError extends Error {
  override readonly name = 'VmBusyError';
  readonly code = 'VM_BUSY';
  readonly status = 409;
}

/** A bad API address (not a socket path, not a loopback HOST:PORT). */
export class ApiConfigError extends Error {
  override readonly name = 'ApiConfigError';
  readonly code = 'API_CONFIG';
}

/** Nothing answers at the API address (daemon not running, wrong path, no permission). */
export class ApiUnreachableError extends Error {
  override readonly name = 'ApiUnreachableError';
  readonly code = 'API_UNREACHABLE';
  constructor(
    readonly address: string,
    override readonly cause: Error,
  ) {
    super(`cannot reach the controller at ${address} (is 'seamless controller' running?)`);
  }
}

/** The server answered with an error body (or something that is not our API). */
export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
