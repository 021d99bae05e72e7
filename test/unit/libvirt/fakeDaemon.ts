// A minimal libvirtd stand-in on a unix socket, speaking the real wire format, for unit
// tests of the RPC client: out-of-order replies, errors, keepalive, events, drops and
// restarts. Its domain logic is deliberately tiny; the real daemon is exercised by
// test/integration/libvirt.test.ts.
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import {
  KEEPALIVE_PROC_PING,
  KEEPALIVE_PROGRAM,
  MessageStatus,
  MessageType,
  PacketFramer,
  Proc,
  REMOTE_PROGRAM,
  decodeSetMemoryParametersArgs,
  encodeLifecycleMsg,
  encodePacket,
  readDomain,
  writeDomain,
  writeError,
  type Packet,
  type RemoteDomain,
} from '../../../controller/libvirt/protocol.js';
import { XdrReader, XdrWriter } from '../../../controller/libvirt/xdr.js';

export interface Received {
  prog: number;
  proc: number;
  type: number;
  serial: number;
}

export class FakeDaemon {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'seamless-fakelibvirt-'));
  readonly socketPath = path.join(this.dir, 'libvirt-sock');
  readonly received: Received[] = [];
  /** name -> virDomainState number */
  readonly domains = new Map<string, number>([['vm1', 1]]);
  /** Procedures whose reply is held back this long (ms). */
  readonly replyDelay = new Map<number, number>();
  /** Every DOMAIN_SET_MEMORY_PARAMETERS call received. */
  readonly memoryParams: { domain: string; params: { field: string; value: bigint }[]; flags: number }[] = [];
  /** Auth types AUTH_LIST returns. */
  authTypes: number[] = [0];
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  /** Event callback id registered per socket. */
  private readonly callbacks = new Map<net.Socket, number>();

  async start(): Promise<void> {
    const server = net.createServer((s) => this.onConn(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
  }

  /** Stops listening and drops every client connection (a daemon crash). */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
    rmSync(this.socketPath, { force: true });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Sends raw bytes to every client. */
  sendRaw(bytes: Buffer): void {
    for (const s of this.sockets) s.write(bytes);
  }

  /** Sends a keepalive PING to every client. */
  ping(): void {
    this.sendRaw(encodePacket({ prog: KEEPALIVE_PROGRAM, vers: 1, proc: KEEPALIVE_PROC_PING, type: MessageType.MESSAGE, serial: 0, status: 0 }));
  }

  /** Emits a lifecycle event to every client that registered a callback. */
  emitLifecycle(name: string, event: number, detail: number): void {
    for (const [s, id] of this.callbacks) {
      const msg = encodeLifecycleMsg({ callbackID: id, dom: this.handle(name), event, detail });
      s.write(encodePacket({ prog: REMOTE_PROGRAM, vers: 1, proc: Proc.DOMAIN_EVENT_CALLBACK_LIFECYCLE, type: MessageType.MESSAGE, serial: 0, status: 0 }, msg));
    }
  }

  private handle(name: string): RemoteDomain {
    const uuid = Buffer.alloc(16);
    uuid.write(name.padEnd(16, '-').slice(0, 16));
    return { name, uuid, id: 1 };
  }

  private onConn(s: net.Socket): void {
    this.sockets.add(s);
    const framer = new PacketFramer();
    s.on('data', (chunk: Buffer) => {
      for (const p of framer.push(chunk)) this.onPacket(s, p);
    });
    s.on('close', () => {
      this.sockets.delete(s);
      this.callbacks.delete(s);
    });
    s.on('error', () => undefined);
  }

  private onPacket(s: net.Socket, p: Packet): void {
    const h = p.header;
    this.received.push({ prog: h.prog, proc: h.proc, type: h.type, serial: h.serial });
    if (h.prog !== REMOTE_PROGRAM || h.type !== MessageType.CALL) return;
    const reply = (payload: Buffer, status: number = MessageStatus.OK): void => {
      const send = (): void => {
        if (!s.destroyed) s.write(encodePacket({ prog: REMOTE_PROGRAM, vers: 1, proc: h.proc, type: MessageType.REPLY, serial: h.serial, status }, payload));
      };
      const delay = this.replyDelay.get(h.proc) ?? 0;
      if (delay > 0) setTimeout(send, delay);
      else send();
    };
    const error = (code: number, message: string): void => {
      reply(
        writeError({ code, domain: 10, message, level: 2, dom: null, str1: null, str2: null, str3: null, int1: 0, int2: 0, net: null }),
        MessageStatus.ERROR,
      );
    };
    const r = new XdrReader(p.payload);
    const withDom = (fn: (name: string) => void): void => {
      const d = readDomain(r);
      if (!this.domains.has(d.name)) error(42, `Domain not found: no domain with matching uuid '${d.uuid.toString('hex')}'`);
      else fn(d.name);
    };
    switch (h.proc) {
      case Proc.AUTH_LIST: {
        const w = new XdrWriter().uint(this.authTypes.length);
        for (const a of this.authTypes) w.int(a);
        reply(w.toBuffer());
        return;
      }
      case Proc.AUTH_POLKIT:
        reply(new XdrWriter().int(1).toBuffer());
        return;
      case Proc.CONNECT_OPEN:
      case Proc.CONNECT_CLOSE:
        reply(Buffer.alloc(0));
        return;
      case Proc.DOMAIN_LOOKUP_BY_NAME: {
        const name = r.string();
        if (!this.domains.has(name)) {
          error(42, `Domain not found: no domain with matching name '${name}'`);
          return;
        }
        const w = new XdrWriter();
        writeDomain(w, this.handle(name));
        reply(w.toBuffer());
        return;
      }
      case Proc.DOMAIN_GET_STATE:
        withDom((n) => reply(new XdrWriter().int(this.domains.get(n)!).int(0).toBuffer()));
        return;
      case Proc.DOMAIN_HAS_MANAGED_SAVE_IMAGE:
        withDom(() => reply(new XdrWriter().int(0).toBuffer()));
        return;
      case Proc.DOMAIN_SUSPEND:
        withDom((n) => {
          if (this.domains.get(n) === 5) error(55, 'Requested operation is not valid: domain is not running');
          else {
            this.domains.set(n, 3);
            reply(Buffer.alloc(0));
          }
        });
        return;
      case Proc.DOMAIN_RESUME:
        withDom((n) => {
          this.domains.set(n, 1);
          reply(Buffer.alloc(0));
        });
        return;
      case Proc.DOMAIN_SET_MEMORY_PARAMETERS: {
        // Decoded from the whole payload (domain included) with the client's own inverse.
        const args = decodeSetMemoryParametersArgs(p.payload);
        if (!this.domains.has(args.dom.name)) error(42, `Domain not found: '${args.dom.name}'`);
        else if (this.domains.get(args.dom.name) === 5) error(55, 'Requested operation is not valid: domain is not running');
        else {
          this.memoryParams.push({ domain: args.dom.name, params: args.params, flags: args.flags });
          reply(Buffer.alloc(0));
        }
        return;
      }
      case Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: {
        const id = 100 + this.callbacks.size;
        this.callbacks.set(s, id);
        reply(new XdrWriter().int(id).toBuffer());
        return;
      }
      default:
        error(3, `this function is not supported by the fake daemon: procedure ${h.proc}`);
    }
  }
}
