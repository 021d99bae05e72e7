/**
 * The socket a switch connection needs from the outside world, as a small
 * interface so unit tests can drive a connection with a fake socket (and the
 * one controller Clock, ../clock.ts, virtual in tests: STYLE.md practice 5).
 * net.Socket and tls.TLSSocket satisfy SocketLike as they are.
 */

/** The subset of net.Socket a connection uses. */
export interface SocketLike {
  write(data: Uint8Array): boolean;
  /** Half-closes after queued data is written; `cb` runs once it is flushed. */
  end(cb?: () => void): unknown;
  destroy(): unknown;
  /** Bytes written but not yet handed to the kernel (net.Socket#writableLength); grows when the peer stops reading. */
  readonly writableLength: number;
  setNoDelay?(noDelay?: boolean): unknown;
  /** Stops 'data' events (net.Socket then stops reading, so TCP pushes back on the peer). */
  pause?(): unknown;
  /** Restarts 'data' events after pause(). */
  resume?(): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'error', listener: (err: Error) => void): unknown;
  off(event: 'close', listener: () => void): unknown;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}
