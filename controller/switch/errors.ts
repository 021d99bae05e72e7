// Typed errors of the switch-connection layer, one class per failure, each with a
// stable `code` (STYLE.md: undici-style errors).
import type { DisconnectReason, Msg } from '../app.js';

/** A request got no reply within its timeout. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  readonly code = 'OFP_REQUEST_TIMEOUT';
  constructor(
    readonly dpid: string,
    readonly xid: number,
    readonly requestType: string,
    readonly timeoutMs: number,
  ) {
    super(`${requestType} xid=${xid} to datapath ${dpid} got no reply within ${timeoutMs} ms`);
  }
}

/** The switch answered a request with OFPT_ERROR (same xid); only that request fails (OF 1.3.5 §6.4). */
export class OfpErrorReplyError extends Error {
  override readonly name = 'OfpErrorReplyError';
  readonly code = 'OFP_ERROR_REPLY';
  /** OFPET_* of the reply. */
  readonly errType: number;
  /** OFP*C_* code of the reply (the exp_type for OFPET_EXPERIMENTER). */
  readonly errCode: number;
  constructor(
    readonly dpid: string,
    readonly requestType: string,
    readonly reply: Msg<'error'>,
  ) {
    const errCode = 'code' in reply ? reply.code : reply.expType;
    super(`datapath ${dpid} answered ${requestType} xid=${reply.xid} with OFPT_ERROR type=${reply.errType} code=${errCode}`);
    this.errType = reply.errType;
    this.errCode = errCode;
  }
}

/** The connection went down (or was already down) before the request completed. */
export class SwitchDisconnectedError extends Error {
  override readonly name = 'SwitchDisconnectedError';
  readonly code = 'SWITCH_DISCONNECTED';
  constructor(
    readonly dpid: string,
    readonly reason: DisconnectReason,
  ) {
    super(`datapath ${dpid} disconnected (${reason})`);
  }
}

/** request() while the connection already has its limit of requests waiting for replies. */
export class TooManyRequestsError extends Error {
  override readonly name = 'TooManyRequestsError';
  readonly code = 'OFP_TOO_MANY_PENDING';
  constructor(
    readonly dpid: string,
    readonly requestType: string,
    readonly limit: number,
  ) {
    super(`${requestType} to datapath ${dpid} refused: ${limit} requests are already waiting for its replies`);
  }
}

export type SwitchUsageErrorCode =
  /** request() on a message type the switch never answers (use send() and barrier()). */
  | 'OFP_NO_REPLY_EXPECTED'
  /** request() with an explicit xid that another outstanding request already uses. */
  | 'OFP_XID_IN_USE'
  /** features/ids read before the FEATURES_REPLY arrived. */
  | 'SWITCH_NOT_READY';

/** A programming error in how the connection API was called. */
export class SwitchUsageError extends Error {
  override readonly name = 'SwitchUsageError';
  constructor(
    readonly code: SwitchUsageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type SwitchConfigErrorCode = 'SWITCH_BAD_OPTION' | 'SWITCH_TLS_FILES';

/** Bad options for a connection, the listener or the daemon. */
export class SwitchConfigError extends Error {
  override readonly name = 'SwitchConfigError';
  constructor(
    readonly code: SwitchConfigErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
