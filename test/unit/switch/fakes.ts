// Fakes for driving a SwitchConnection without a network or real time: a socket
// that records what is written and lets the test play the switch, and a manual clock.
import { EventEmitter } from 'node:events';
import { decode, encode, Framer } from '../../../controller/openflow/index.js';
import type { OfpMessage } from '../../../controller/openflow/index.js';
import type { SocketLike } from '../../../controller/switch/io.js';
import type { Msg } from '../../../controller/app.js';

/** A socket whose peer is the test. */
export class FakeSocket extends EventEmitter implements SocketLike {
  readonly remoteAddress = '192.0.2.1';
  readonly remotePort: number;
  /** Every write() call, in order. */
  readonly writes: Buffer[] = [];
  ended = false;
  destroyed = false;
  noDelay = false;
  /** Like net.Socket#writableLength: bytes written that the peer has not taken yet (grows only while stalled). */
  writableLength = 0;
  /** While true the peer (the test) reads nothing: writes pile up in writableLength. */
  private stalled = false;
  /** Like net.Socket#pause(): no 'data' events; chunks fed meanwhile wait in `held`. */
  paused = false;
  /** pause() calls so far. */
  pauses = 0;
  private readonly held: Buffer[] = [];
  private readonly framer = new Framer();
  private readonly inbox: OfpMessage[] = [];
  private static nextPort = 40000;

  constructor() {
    super();
    this.remotePort = FakeSocket.nextPort++;
  }

  write(data: Uint8Array): boolean {
    if (this.destroyed) throw new Error('write after destroy');
    const b = Buffer.from(data); // the connection may not reuse the bytes, but copy to be sure the test sees what was sent
    this.writes.push(b);
    if (this.stalled) {
      this.writableLength += b.length;
      return false;
    }
    for (const f of this.framer.push(b)) this.inbox.push(decode(f));
    return true;
  }

  end(cb?: () => void): this {
    this.ended = true;
    queueMicrotask(() => cb?.());
    return this;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    // Like net.Socket: 'close' comes on a later tick.
    queueMicrotask(() => this.emit('close'));
    return this;
  }

  /** Plays a switch that keeps sending but stops reading what we write. */
  stall(): void {
    this.stalled = true;
  }

  pause(): this {
    if (!this.paused) this.pauses += 1;
    this.paused = true;
    return this;
  }

  resume(): this {
    this.paused = false;
    // Like a readable stream: buffered chunks flow again on a later tick.
    queueMicrotask(() => {
      while (!this.paused && !this.destroyed && this.held.length > 0) this.emit('data', this.held.shift()!);
    });
    return this;
  }

  /** Plays the switch: raw bytes as one TCP chunk (held while paused, like a real socket). */
  feedRaw(chunk: Buffer): void {
    if (this.paused) this.held.push(chunk);
    else this.emit('data', chunk);
  }

  setNoDelay(noDelay = true): this {
    this.noDelay = noDelay;
    return this;
  }

  /** Plays the switch: sends one or more messages (as one TCP chunk). */
  feed(...msgs: OfpMessage[]): void {
    this.feedRaw(Buffer.concat(msgs.map((m) => encode(m))));
  }

  /** Messages written by the controller since the last take(). */
  take(): OfpMessage[] {
    return this.inbox.splice(0);
  }

  /** The only message of `type` among the newly written ones; fails otherwise. */
  takeOne<T extends OfpMessage['type']>(type: T): Msg<T> {
    const all = this.take();
    const hits = all.filter((m) => m.type === type);
    if (hits.length !== 1) throw new Error(`expected one ${type}, got: ${all.map((m) => m.type).join(', ') || 'nothing'}`);
    return hits[0] as Msg<T>;
  }

  /** Listeners still registered for the events a connection uses. */
  listenerTotal(): number {
    return this.listenerCount('data') + this.listenerCount('error') + this.listenerCount('close');
  }
}

/** Lets queued microtasks and promise chains run (flushes, request resolutions). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
