// Per-wake timelines: the benchmark runs the controller in its own process and
// wraps the three places a wake passes through (the park app's switch events,
// the datapath it sends on, the libvirt adapter) so each step is stamped on
// the shared wall clock (clock.ts) next to the tcpdump stamps of SYN/SYN-ACK.
// The wrappers only observe: they pass every call through unchanged.
import type { App, Datapath, Msg } from '../../controller/app.js';
import type { Hypervisor } from '../../controller/libvirt/hypervisor.js';
import { decodeCookie, KIND } from '../../controller/park/flows.js';
import { OFPFC_ADD } from '../../controller/openflow/constants.js';
import type { OfpMessage } from '../../controller/openflow/types.js';
import { parseFrame } from '../../controller/packet/parse.js';
import { wallMs } from './clock.js';

/** One stamped step. */
export interface Mark {
  t: number;
  what: string;
}

/** Collects marks; the benchmark clears it before each cycle. */
export class Recorder {
  readonly marks: Mark[] = [];
  mark(what: string): void {
    if (this.marks.length < 10_000) this.marks.push({ t: wallMs(), what });
  }
  /** The first mark at or after `from` whose name starts with `prefix`. */
  first(prefix: string, from = 0): Mark | undefined {
    return this.marks.find((m) => m.t >= from && m.what.startsWith(prefix));
  }
  clear(): void {
    this.marks.length = 0;
  }
}

const TCP_SYN = 0x02;

function describeFrame(data: Buffer): string {
  const f = parseFrame(data);
  if (!f) return 'short';
  if (f.tcp) return (f.tcp.flags & TCP_SYN) !== 0 ? `tcp-syn:${f.tcp.src}>${f.tcp.dst}` : `tcp:${f.tcp.src}>${f.tcp.dst}`;
  if (f.arp) return `arp-${f.arp.op === 1 ? 'request' : 'reply'}`;
  if (f.icmp) return 'icmp';
  return `eth-${f.ethType.toString(16)}`;
}

function kindName(cookie: bigint): string {
  const c = decodeCookie(cookie);
  if (!c) return 'other';
  const entry = Object.entries(KIND).find(([, v]) => v === c.kind);
  return entry ? entry[0].toLowerCase() : `kind${c.kind}`;
}

function describeSent(m: OfpMessage): string | undefined {
  if (m.type === 'packet_out') return `packet-out ${describeFrame(m.data)}`;
  if (m.type === 'flow_mod') return `flow-mod ${m.command === OFPFC_ADD ? 'add' : `cmd${m.command}`} ${kindName(m.cookie)}`;
  return undefined;
}

/** The hypervisor with every operation stamped `libvirt <op> start|end|failed`. */
export function recordHypervisor(hv: Hypervisor, rec: Recorder): Hypervisor {
  const wrap =
    <A extends unknown[], R>(name: string, fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      rec.mark(`libvirt ${name} start`);
      try {
        const r = await fn(...a);
        rec.mark(`libvirt ${name} end`);
        return r;
      } catch (e) {
        rec.mark(`libvirt ${name} failed`);
        throw e;
      }
    };
  const out: Hypervisor = {
    getState: wrap('getState', (d: string) => hv.getState(d)),
    suspend: wrap('suspend', (d: string) => hv.suspend(d)),
    resume: wrap('resume', (d: string) => hv.resume(d)),
    managedSave: wrap('managedSave', (d: string) => hv.managedSave(d)),
    start: wrap('start', (d: string) => hv.start(d)),
    shutdown: wrap('shutdown', (d: string) => hv.shutdown(d)),
    destroy: wrap('destroy', (d: string) => hv.destroy(d)),
    close: () => hv.close(),
  };
  if (hv.onLifecycle) out.onLifecycle = (cb) => hv.onLifecycle!(cb);
  // Depth reclaim's memory push; without it the engine would keep the memory (and say so).
  if (hv.setMemoryHardLimit) out.setMemoryHardLimit = wrap('setMemoryHardLimit', (d: string, kib: bigint | 'unlimited') => hv.setMemoryHardLimit!(d, kib));
  if (hv.memoryStats) out.memoryStats = (d) => hv.memoryStats!(d);
  return out;
}

/**
 * The app with its switch events stamped (`packet-in <kind> <frame>`,
 * `port-status <reason> <name>`), and a datapath that stamps what the app sends
 * (`packet-out ...`, `flow-mod ...`, `barrier sent|reply`).
 */
export function recordApp(app: App, rec: Recorder): App {
  const proxies = new WeakMap<Datapath, Datapath>();
  const proxy = (dp: Datapath): Datapath => {
    let p = proxies.get(dp);
    if (!p) {
      p = new Proxy(dp, {
        get(target, prop) {
          if (prop === 'send') {
            return (...msgs: OfpMessage[]) => {
              for (const m of msgs) {
                const d = describeSent(m);
                if (d) rec.mark(d);
              }
              target.send(...msgs);
            };
          }
          if (prop === 'barrier') {
            return async (opts?: Parameters<Datapath['barrier']>[0]) => {
              rec.mark('barrier sent');
              await target.barrier(opts);
              rec.mark('barrier reply');
            };
          }
          const v: unknown = Reflect.get(target, prop, target);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      proxies.set(dp, p);
    }
    return p;
  };
  const out: App = {
    name: app.name,
    packetIn(dp: Datapath, msg: Msg<'packet_in'>) {
      rec.mark(`packet-in ${kindName(msg.cookie)} ${describeFrame(msg.data)}`);
      return app.packetIn?.(proxy(dp), msg);
    },
    portStatus(dp: Datapath, msg: Msg<'port_status'>) {
      rec.mark(`port-status ${msg.reason} ${msg.desc.name}`);
      app.portStatus?.(proxy(dp), msg);
    },
  };
  if (app.switchUp) out.switchUp = (dp) => app.switchUp!(proxy(dp));
  if (app.switchDown) out.switchDown = (dp, why) => app.switchDown!(proxy(dp), why);
  if (app.flowRemoved) out.flowRemoved = (dp, m) => app.flowRemoved!(proxy(dp), m);
  if (app.error) out.error = (dp, m) => app.error!(proxy(dp), m);
  if (app.stop) out.stop = () => app.stop!();
  return out;
}

/** The steps of one wake, in ms after the SYN entered the switch. */
export interface WakeTimeline {
  packetIn?: number;
  libvirtStart?: number;
  libvirtEnd?: number;
  portUp?: number;
  probeAnswered?: number;
  flowsIn?: number;
  heldOut?: number;
  active?: number;
  synAck?: number;
}

/**
 * Reads one wake's steps from the marks, starting at `syn` (epoch ms of the
 * SYN at the switch). `wakeOp` is the libvirt call that wakes: resume or start.
 */
export function wakeTimeline(rec: Recorder, syn: number, wakeOp: 'resume' | 'start', synAck: number | undefined): WakeTimeline {
  const rel = (m: Mark | undefined) => (m === undefined ? undefined : Math.round((m.t - syn) * 100) / 100);
  const from = syn - 5; // the app may stamp the packet-in a hair before tcpdump's kernel stamp is taken on another CPU
  const tl: WakeTimeline = {};
  const set = (k: keyof WakeTimeline, v: number | undefined) => {
    if (v !== undefined) tl[k] = v;
  };
  const pin = rec.first('packet-in park tcp-syn', from);
  set('packetIn', rel(pin));
  const ls = rec.first(`libvirt ${wakeOp} start`, from);
  set('libvirtStart', rel(ls));
  set('libvirtEnd', rel(rec.first(`libvirt ${wakeOp} end`, from)));
  set('portUp', rel(rec.first('port-status 0 ', from))); // OFPPR_ADD = 0
  const probe = rec.first('packet-in probe', from);
  set('probeAnswered', rel(probe));
  set('flowsIn', rel(rec.first('flow-mod add activity', probe?.t ?? from)));
  set('heldOut', rel(rec.first('packet-out tcp-syn', from)));
  set('active', rel(rec.first('transition waking->active', from)));
  if (synAck !== undefined) tl.synAck = Math.round((synAck - syn) * 100) / 100;
  return tl;
}
