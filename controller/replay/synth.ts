// `seamless replay synth`: office-like traffic for N VMs over D days, from a
// seed, with the inventory that goes with it. Every parameter is in
// SynthParams and documented in docs/replay.md#synthetic-traces:
//  - diurnal and weekly activity: interactive sessions start by an hour-of-day
//    profile (office hours, a lunch dip), weekends at a fraction of weekdays;
//  - interactive sessions: Pareto-long (heavy-tailed) sessions of requests to
//    the gateway ports with log-normal think times between them, so idle
//    periods range from seconds to days;
//  - three kinds of VM: desktops (sessions only), servers (requests all day,
//    fewer at night) and idle VMs (background only);
//  - periodic background traffic every VM receives all the time: a monitor
//    (TCP 9100 every monitorInterval) and a nightly backup (TCP 873), both from
//    addresses the generated inventory's `ignore` rules name, so neither keeps
//    a VM awake nor wakes it.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { Rng, subSeed } from './rng.js';
import { CSV_COLUMNS, ipToU32, PROTO_TCP, TraceBuilder, u32ToIp, type Trace } from './trace.js';

export interface SynthParams {
  readonly vms: number;
  readonly days: number;
  readonly seed: number;
  /** First midnight (UTC) of the trace; default Monday 2026-01-05. */
  readonly startMs: number;
  /** Share of desktops and servers (the rest are idle VMs). */
  readonly desktopShare: number;
  readonly serverShare: number;
  /** Mean interactive sessions per desktop per weekday (Poisson). */
  readonly sessionsPerWorkday: number;
  /** Weekend activity as a fraction of a weekday's. */
  readonly weekendFactor: number;
  /** Session length: Pareto, minimum and shape, capped (minutes). */
  readonly sessionMinMinutes: number;
  readonly sessionAlpha: number;
  readonly sessionMaxMinutes: number;
  /** Think time between a session's requests: log-normal median and p99 (seconds). */
  readonly thinkP50s: number;
  readonly thinkP99s: number;
  /** Server requests per hour in office hours, and at night. */
  readonly serverDayPerHour: number;
  readonly serverNightPerHour: number;
  /** Background: monitor period (s) and the nightly backup's hour (UTC). */
  readonly monitorIntervalS: number;
  readonly backupHour: number;
  /** Idle timeout and depth written into the inventory. */
  readonly idleTimeout: string;
  readonly depth: 'pause' | 'save' | 'shutdown';
}

export const SYNTH_DEFAULTS: Omit<SynthParams, 'vms' | 'days' | 'seed'> = {
  startMs: Date.UTC(2026, 0, 5),
  desktopShare: 0.7,
  serverShare: 0.2,
  sessionsPerWorkday: 6,
  weekendFactor: 0.1,
  sessionMinMinutes: 5,
  sessionAlpha: 1.3,
  sessionMaxMinutes: 480,
  thinkP50s: 8,
  thinkP99s: 900,
  serverDayPerHour: 12,
  serverNightPerHour: 2,
  monitorIntervalS: 120,
  backupHour: 2,
  idleTimeout: '10m',
  depth: 'pause',
};

/** Relative weight of a session starting in each UTC hour of a weekday (office hours, lunch dip, a little evening). */
export const HOUR_WEIGHTS = [0, 0, 0, 0, 0, 0, 0.2, 0.5, 2, 3, 3, 2.5, 1, 1.5, 3, 3, 2.5, 1.5, 0.7, 0.5, 0.4, 0.3, 0.1, 0];

export const CLIENT_NET = '10.200.0.0';
export const MONITOR_IP = '10.254.0.1';
export const BACKUP_IP = '10.254.0.2';
export const MONITOR_PORT = 9100;
export const BACKUP_PORT = 873;
export const GATEWAY_PORTS = [22, 443] as const;

export function vmIp(i: number): string {
  return `10.${1 + Math.floor(i / 62500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
}

export function vmMac(i: number): string {
  const h = (n: number) => n.toString(16).padStart(2, '0');
  return `52:54:00:${h((i >> 16) & 255)}:${h((i >> 8) & 255)}:${h(i & 255)}`;
}

export type VmKind = 'desktop' | 'server' | 'idle';

export function vmKind(p: SynthParams, i: number): VmKind {
  const u = new Rng(subSeed(p.seed, `kind:${i}`)).next();
  return u < p.desktopShare ? 'desktop' : u < p.desktopShare + p.serverShare ? 'server' : 'idle';
}

function poisson(rng: Rng, mean: number): number {
  // Knuth's method: means here are small (sessions per day).
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rng.next();
  } while (p > l);
  return k - 1;
}

const HOUR_CDF = (() => {
  const total = HOUR_WEIGHTS.reduce((a, b) => a + b, 0);
  let acc = 0;
  return HOUR_WEIGHTS.map((w) => (acc += w / total));
})();

/** Calls `emit` for every flow of VM `i` (in no particular order). */
function vmFlows(p: SynthParams, i: number, emit: (startMs: number, src: number, dport: number, packets: number, bytes: number, durMs: number) => void): void {
  const rng = new Rng(subSeed(p.seed, `vm:${i}`));
  const kind = vmKind(p, i);
  const end = p.startMs + p.days * 86_400_000;
  const client = (ipToU32(CLIENT_NET)! + 1 + rng.int(0, 4000)) >>> 0;
  const request = (t: number) => {
    const packets = Math.max(1, Math.round(rng.lognormal(12, 400)));
    const port = rng.next() < 0.3 ? GATEWAY_PORTS[0] : GATEWAY_PORTS[1];
    emit(t, client, port, packets, packets * 700, Math.min(30_000, packets * rng.lognormal(20, 200)));
  };
  for (let d = 0; d < p.days; d++) {
    const day0 = p.startMs + d * 86_400_000;
    const weekday = new Date(day0).getUTCDay();
    const factor = weekday === 0 || weekday === 6 ? p.weekendFactor : 1;
    if (kind === 'desktop') {
      const n = poisson(rng, p.sessionsPerWorkday * factor);
      for (let k = 0; k < n; k++) {
        const u = rng.next();
        const hour = HOUR_CDF.findIndex((c) => u <= c);
        let t = day0 + hour * 3_600_000 + rng.next() * 3_600_000;
        const sessionEnd = Math.min(end, t + rng.pareto(p.sessionMinMinutes, p.sessionAlpha, p.sessionMaxMinutes) * 60_000);
        while (t < sessionEnd) {
          request(t);
          t += rng.lognormal(p.thinkP50s, p.thinkP99s) * 1000;
        }
      }
    } else if (kind === 'server') {
      for (let h = 0; h < 24; h++) {
        const office = h >= 8 && h < 18 ? p.serverDayPerHour : p.serverNightPerHour;
        const n = poisson(rng, office * (factor === 1 ? 1 : Math.max(factor, 0.3)));
        for (let k = 0; k < n; k++) request(day0 + h * 3_600_000 + rng.next() * 3_600_000);
      }
    }
    // The nightly backup: one long transfer from the backup host.
    const bStart = day0 + p.backupHour * 3_600_000 + rng.next() * 1_800_000;
    const bDur = rng.lognormal(600, 3000) * 1000;
    emit(bStart, ipToU32(BACKUP_IP)!, BACKUP_PORT, Math.max(2, Math.round(bDur / 10)), bDur * 100, bDur);
  }
  // The monitor: every monitorInterval, from a phase of its own, all the time.
  const period = p.monitorIntervalS * 1000;
  const mon = ipToU32(MONITOR_IP)!;
  for (let t = p.startMs + rng.next() * period; t < end; t += period) emit(t, mon, MONITOR_PORT, 6, 900, 5);
}

/** Generates the trace (in memory, start-sorted; flows past the last day are cut). */
export function synthTrace(p: SynthParams, file = 'synthetic'): Trace {
  const b = new TraceBuilder(Math.max(1024, p.vms * p.days * 800));
  const end = p.startMs + p.days * 86_400_000;
  for (let i = 0; i < p.vms; i++) {
    const dst = ipToU32(vmIp(i))!;
    vmFlows(p, i, (t, src, dport, packets, bytes, durMs) => {
      if (t < end) b.push(t, src, dst, PROTO_TCP, dport, packets, bytes, Math.min(durMs, end - t));
    });
  }
  return b.finish(file);
}

/** Writes a trace as CSV (gzip when `file` ends in .gz), streamed. */
export async function writeCsvTrace(t: Trace, file: string): Promise<void> {
  const out = createWriteStream(file);
  const sink: Writable = file.endsWith('.gz') ? createGzip() : out;
  if (sink !== out) sink.pipe(out);
  const done = once(out, 'finish');
  sink.write(`${CSV_COLUMNS.join(',')}\n`);
  let buf = '';
  for (let i = 0; i < t.n; i++) {
    buf += `${(t.start[i]! / 1000).toFixed(3)},${u32ToIp(t.src[i]!)},${u32ToIp(t.dst[i]!)},${t.proto[i] === PROTO_TCP ? 'tcp' : t.proto[i]},${t.dport[i]},${t.packets[i]},${Math.round(t.bytes[i]!)},${(t.durMs[i]! / 1000).toFixed(3)}\n`;
    if (buf.length > 1 << 16) {
      if (!sink.write(buf)) await once(sink, 'drain');
      buf = '';
    }
  }
  sink.end(buf);
  await done;
}

/** The inventory that goes with a synthetic trace (YAML). */
export function synthInventory(p: SynthParams): string {
  const lines = [
    `# Generated by seamless replay synth --vms ${p.vms} --days ${p.days} --seed ${p.seed}`,
    'park:',
    '  maxConcurrentOps: 4',
    '  probeIp: 10.254.0.253',
    '  meterRate: 0',
    'defaults:',
    `  idleTimeout: ${p.idleTimeout}`,
    '  minActive: 30s',
    `  gatewayPorts: [${GATEWAY_PORTS.join(', ')}]`,
    '  sink: sink1',
    '  ignore:',
    `    - { src: ${MONITOR_IP}, tcpDst: ${MONITOR_PORT} }   # the monitor`,
    `    - { src: ${BACKUP_IP}, tcpDst: ${BACKUP_PORT} }    # the nightly backup`,
    'switches:',
    '  - { name: s1, dpid: 1 }',
    'sinks:',
    '  - { name: sink1, switch: s1, port: sink1-eth0, mac: "02:00:00:00:00:fe", ip: 10.254.0.254 }',
    'vms:',
  ];
  for (let i = 0; i < p.vms; i++) {
    lines.push(`  - { name: vm${i}, libvirt: { uri: "qemu:///system", domain: vm${i} }, mac: "${vmMac(i)}", ip: ${vmIp(i)}, switch: s1, port: tap${i}, depth: ${p.depth} }`);
  }
  return `${lines.join('\n')}\n`;
}
