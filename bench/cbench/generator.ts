/**
 * cbench-style load generator: throughput and latency runs of N emulated
 * switches against an OpenFlow 1.3 controller listening on TCP.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeSwitch, GeneratorError, type SwitchCounters } from './switch.js';

export { GeneratorError } from './switch.js';

export interface GeneratorOptions {
  readonly host: string;
  readonly port: number;
  /** Emulated switches (throughput mode; latency mode always uses one). Default 16. */
  readonly switches?: number;
  /** Sending hosts per switch (unique source MACs). Default 1000. */
  readonly hostsPerSwitch?: number;
  /** Outstanding packet-ins per switch in throughput mode. Default 64. */
  readonly window?: number;
  /** Milliseconds of traffic before counting. Default 3000. */
  readonly warmupMs?: number;
  /** Milliseconds of counted traffic. Default 10000. */
  readonly measureMs?: number;
  /** Milliseconds allowed for connect + handshake + first answered packet-in. Default 15000. */
  readonly readyTimeoutMs?: number;
  /** Wait for a PORT_DESC request before probing (both our controller and os-ken send one). Default true. */
  readonly expectPortDesc?: boolean;
  /** First datapath id; switch i gets base + i. Default 0x5ea1_0000_0000_0001. */
  readonly dpidBase?: bigint;
  /** Progress lines go here (default: nowhere). */
  readonly log?: (line: string) => void;
}

export interface ThroughputResult {
  /** Responses (FLOW_MOD + PACKET_OUT) per second over the measured interval. */
  readonly pps: number;
  /** Packet-ins answered (PACKET_OUTs) per second. */
  readonly answeredPerSec: number;
  readonly flowModsPerSec: number;
  readonly packetInsPerSec: number;
  readonly seconds: number;
  readonly switches: number;
  readonly window: number;
  /** OFPT_ERRORs the controller sent during the whole run. */
  readonly errors: number;
  /**
   * Messages other than FLOW_MOD, PACKET_OUT and ECHO_REQUEST received during
   * the measured interval (0 for a controller that only answers packet-ins).
   */
  readonly otherMessages: number;
}

export interface LatencyResult {
  readonly p50us: number;
  readonly p99us: number;
  readonly meanUs: number;
  readonly minUs: number;
  readonly maxUs: number;
  readonly samples: number;
  readonly errors: number;
}

const DEFAULTS = {
  switches: 16,
  hostsPerSwitch: 1000,
  window: 64,
  warmupMs: 3000,
  measureMs: 10_000,
  readyTimeoutMs: 15_000,
  expectPortDesc: true,
  dpidBase: 0x5ea1_0000_0000_0001n,
};

/** Longest extra warm-up while waiting for every switch's first pass over its sources. */
const WARMUP_CAP_MS = 30_000;

function sum(sws: FakeSwitch[], key: keyof SwitchCounters): number {
  let n = 0;
  for (const s of sws) n += s.counters[key];
  return n;
}

/** Connects `n` switches, completes their handshakes and waits until each gets a packet-in answered. */
async function connectAll(opts: GeneratorOptions, n: number): Promise<FakeSwitch[]> {
  const o = { ...DEFAULTS, ...opts };
  const hosts = o.hostsPerSwitch;
  const sws: FakeSwitch[] = [];
  try {
    for (let i = 0; i < n; i++) {
      sws.push(
        await FakeSwitch.connect({
          host: o.host,
          port: o.port,
          index: i,
          dpid: o.dpidBase + BigInt(i),
          hosts,
          silentHosts: Math.max(1, Math.floor(hosts / 8)),
          floodEvery: 8,
          ports: 4,
        }),
      );
    }
    await Promise.all(sws.map((s) => s.handshake(o.readyTimeoutMs, o.expectPortDesc)));
    await Promise.all(sws.map((s) => s.probe(o.readyTimeoutMs)));
    // Let answers to probes sent before the controller was ready drain.
    await sleep(200);
    return sws;
  } catch (e) {
    await Promise.all(sws.map((s) => s.close()));
    throw e;
  }
}

function checkAlive(sws: FakeSwitch[]): void {
  for (const s of sws) if (s.failure) throw s.failure;
}

/**
 * Throughput run: every switch keeps `window` packet-ins outstanding; counts
 * responses over `measureMs` after `warmupMs`.
 */
export async function runThroughput(opts: GeneratorOptions): Promise<ThroughputResult> {
  const o = { ...DEFAULTS, ...opts };
  const log = opts.log ?? (() => undefined);
  const sws = await connectAll(opts, o.switches);
  try {
    log(`throughput: ${o.switches} switches connected, window ${o.window}, warm-up ${o.warmupMs} ms`);
    for (const s of sws) s.startWindow(o.window);
    await sleep(o.warmupMs);
    // Warm-up also lasts until every switch has cycled through its sources once: before
    // that, most destinations are unknown and get flooded, so a slow controller would
    // otherwise be measured on a cheaper mix (no flow_mods) than a fast one.
    const warmDeadline = performance.now() + WARMUP_CAP_MS;
    while (sws.some((s) => s.counters.packetOuts < o.hostsPerSwitch + o.window) && performance.now() < warmDeadline) {
      checkAlive(sws);
      await sleep(100);
    }
    checkAlive(sws);
    const c0 = { fm: sum(sws, 'flowMods'), po: sum(sws, 'packetOuts'), pi: sum(sws, 'packetIns'), other: sum(sws, 'other') };
    const t0 = performance.now();
    // Report once per second so a stalled controller shows up in the log.
    let left = o.measureMs;
    while (left > 0) {
      const step = Math.min(1000, left);
      const before = sum(sws, 'packetOuts');
      await sleep(step);
      left -= step;
      checkAlive(sws);
      log(`throughput: ${Math.round(((sum(sws, 'packetOuts') - before) * 1000) / step)} packet-ins answered/s`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const fm = sum(sws, 'flowMods') - c0.fm;
    const po = sum(sws, 'packetOuts') - c0.po;
    const pi = sum(sws, 'packetIns') - c0.pi;
    for (const s of sws) s.stop();
    return {
      pps: Math.round((fm + po) / seconds),
      answeredPerSec: Math.round(po / seconds),
      flowModsPerSec: Math.round(fm / seconds),
      packetInsPerSec: Math.round(pi / seconds),
      seconds,
      switches: o.switches,
      window: o.window,
      errors: sum(sws, 'errors'),
      otherMessages: sum(sws, 'other') - c0.other,
    };
  } finally {
    await Promise.all(sws.map((s) => s.close()));
  }
}

/** The q-quantile (0..1) of sorted values, nearest-rank. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * Latency run: one switch, one packet-in outstanding; records the time from
 * writing a packet-in to receiving its PACKET_OUT.
 */
export async function runLatency(opts: GeneratorOptions): Promise<LatencyResult> {
  const o = { ...DEFAULTS, ...opts };
  const log = opts.log ?? (() => undefined);
  const [sw] = await connectAll(opts, 1);
  if (sw === undefined) throw new GeneratorError('not-ready', 'no switch');
  try {
    log(`latency: 1 switch connected, warm-up ${o.warmupMs} ms`);
    // Room for one sample per 5 us of measuring (no loopback round trip through a
    // controller is faster); samples beyond it would be dropped.
    sw.startPingPong(Math.max(1000, Math.ceil(o.measureMs * 200)));
    await sleep(o.warmupMs);
    checkAlive([sw]);
    sw.recording = true;
    await sleep(o.measureMs);
    sw.recording = false;
    sw.stop();
    checkAlive([sw]);
    const rtts = sw.rtts.slice(0, sw.rttCount).sort();
    let total = 0;
    for (const r of rtts) total += r;
    const result: LatencyResult = {
      p50us: Math.round(quantile(rtts, 0.5) * 10) / 10,
      p99us: Math.round(quantile(rtts, 0.99) * 10) / 10,
      meanUs: Math.round((total / Math.max(1, rtts.length)) * 10) / 10,
      minUs: Math.round((rtts[0] ?? NaN) * 10) / 10,
      maxUs: Math.round((rtts[rtts.length - 1] ?? NaN) * 10) / 10,
      samples: rtts.length,
      errors: sw.counters.errors,
    };
    log(`latency: ${result.samples} round trips, p50 ${result.p50us} us, p99 ${result.p99us} us`);
    return result;
  } finally {
    await sw.close();
  }
}
