// Real replay (docs/operations.md#real-replay): what the live controller did with a trace replayed
// into the Mininet testbed, compared with what the simulator predicted for the same trace and
// inventory. Pure functions: the runner (bench/replay-real.ts) does the I/O.
//
// Where the two may honestly differ, and how much (the stated error):
// - Poll phase. Both detect idleness from the activity counter sampled every poll interval P,
//   but the real poll's phase against the trace differs from the simulator's. A VM parks at
//   last packet + idle timeout + [0, 2P] (one P until the change is seen, one P of poll
//   granularity), plus the park itself. A gap between a VM's packets inside that band may be a
//   park on one side and not on the other: each such gap may flip one park and one wake.
// - Wake durations. Each side draws its own: the simulator from the latency profile (measured
//   on this machine just before the run), the testbed from real libvirt + guest under whatever
//   load the shared 2-core machine has then. The median wake of each VM is compared within the
//   widest of: the calibration's range, LOAD_DRIFT of its median (measured: wake medians moved
//   by up to 40 % between calibration and replay minutes apart, save 10.6 s -> 7.8 s, pause
//   161 ms -> 98 ms), LATENCY_FLOOR_MS. Both sides are measured alike: per wake, not per held flow.
// Outside those, machine.ts decides the same way in both (it is the same code), so parks and
// wakes must agree exactly.
import type { IgnoreRule, VmSpec } from '../inventory/types.js';
import { percentile } from './results.js';
import { PROTO_TCP, PROTO_UDP, u32ToIp, type Trace } from './trace.js';

/** Latencies closer than this are the same measurement (timer and log resolution, scheduler noise on 2 cores). */
export const LATENCY_FLOOR_MS = 20;
/** Slack on the band's edges for tcpreplay's send jitter and the log's timestamps. */
export const BAND_SLACK_MS = 100;

export type RealVm = Pick<VmSpec, 'name' | 'ip' | 'idleTimeoutMs' | 'ignore' | 'depth'>;

function ignored(rules: readonly IgnoreRule[], src: string, proto: number, dport: number): boolean {
  return rules.some(
    (r) => (r.src === undefined || r.src === src) && (r.tcpDst === undefined || (proto === PROTO_TCP && r.tcpDst === dport)) && (r.udpDst === undefined || (proto === PROTO_UDP && r.udpDst === dport)),
  );
}

/**
 * Gaps (ms) between a VM's activity: from the end of the traffic so far to the start of the next
 * flow that would move its counter (to its IP, not matched by an ignore rule), and with `endMs`
 * from its last traffic to the end of the compared window.
 */
export function activityGaps(trace: Trace, vm: RealVm, endMs?: number): number[] {
  const gaps: number[] = [];
  let end = Number.NaN;
  for (let i = 0; i < trace.n; i++) {
    if (u32ToIp(trace.dst[i]!) !== vm.ip) continue;
    if (ignored(vm.ignore, u32ToIp(trace.src[i]!), trace.proto[i]!, trace.dport[i]!)) continue;
    const s = trace.start[i]!;
    if (!Number.isNaN(end) && s > end) gaps.push(s - end);
    end = Number.isNaN(end) ? s + trace.durMs[i]! : Math.max(end, s + trace.durMs[i]!);
  }
  // The window's end cuts like a next packet: a park just before it may fall on one side only.
  if (endMs !== undefined && !Number.isNaN(end) && endMs > end) gaps.push(endMs - end);
  return gaps;
}

export interface Band {
  /** Gaps strictly longer than this may park (the idle timeout). */
  readonly lo: number;
  /** Gaps at least this long park on both sides. */
  readonly hi: number;
}

/** The band of gaps whose outcome depends on poll phase and drawn durations (see the top of this file). */
export function ambiguousBand(idleTimeoutMs: number, pollMs: number, parkMaxMs: number, wakeMaxMs: number): Band {
  return { lo: idleTimeoutMs - BAND_SLACK_MS, hi: idleTimeoutMs + 2 * pollMs + parkMaxMs + wakeMaxMs + BAND_SLACK_MS };
}

/** Gaps inside the band: each may flip one park (and the wake after it) between real and simulated. */
export function ambiguousGaps(gaps: readonly number[], band: Band): number[] {
  return gaps.filter((g) => g > band.lo && g < band.hi);
}

/** A `vm transition` log record, as the controller writes it (--log-format json) with its time in ms. */
export interface LoggedTransition {
  readonly t: number;
  readonly vm: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  readonly durationMs?: number;
}

/** Parses the controller's JSON log lines; keeps `vm transition` records, skips everything else. */
export function parseTransitions(lines: readonly string[]): LoggedTransition[] {
  const out: LoggedTransition[] = [];
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (j['msg'] !== 'vm transition' || typeof j['vm'] !== 'string' || typeof j['time'] !== 'string') continue;
    const rec: LoggedTransition = { t: Date.parse(j['time']), vm: j['vm'], from: String(j['from']), to: String(j['to']), reason: String(j['reason']) };
    out.push(typeof j['durationMs'] === 'number' ? { ...rec, durationMs: j['durationMs'] } : rec);
  }
  return out;
}

export interface MeasuredVm {
  readonly vm: string;
  readonly parks: number;
  readonly wakes: number;
  /** Durations of the wakes a packet started (waking -> active), ascending. */
  readonly wakeMs: readonly number[];
}

/**
 * What the controller did within [from, to): parks = parking -> parked; wakes = waking -> active
 * of a wake that a packet started (the replayed traffic's), as the simulator counts them.
 */
export function measure(transitions: readonly LoggedTransition[], vms: readonly string[], from: number, to: number): MeasuredVm[] {
  return vms.map((vm) => {
    let parks = 0;
    let byPacket = false;
    const wakeMs: number[] = [];
    for (const tr of transitions) {
      if (tr.vm !== vm || tr.t < from || tr.t >= to) continue;
      if (tr.from === 'parking' && tr.to === 'parked') parks++;
      if (tr.to === 'waking') byPacket = tr.reason === 'packet' || tr.reason === 'packet-during-parking' || tr.reason === 'packet-retry';
      if (tr.from === 'waking' && tr.to === 'active' && byPacket) wakeMs.push(tr.durationMs ?? Number.NaN);
    }
    return { vm, parks, wakes: wakeMs.length, wakeMs: wakeMs.sort((a, b) => a - b) };
  });
}

export interface Calibration {
  /** Per depth: measured wake durations (ms), ascending. */
  readonly wakeMs: Readonly<Record<string, readonly number[]>>;
  /** Per depth: measured park durations (active -> parked, ms), ascending. */
  readonly parkMs: Readonly<Record<string, readonly number[]>>;
}

/** Park and wake durations of calibration cycles, per depth of each VM. */
export function calibrationFrom(transitions: readonly LoggedTransition[], depthOf: (vm: string) => string | undefined): Calibration {
  const wakeMs: Record<string, number[]> = {};
  const parkMs: Record<string, number[]> = {};
  const parkStart = new Map<string, number>();
  for (const tr of transitions) {
    const d = depthOf(tr.vm);
    if (d === undefined) continue;
    if (tr.to === 'parking') parkStart.set(tr.vm, tr.t);
    if (tr.from === 'parking' && tr.to === 'parked' && parkStart.has(tr.vm)) (parkMs[d] ??= []).push(tr.t - parkStart.get(tr.vm)!);
    if (tr.from === 'waking' && tr.to === 'active' && tr.durationMs !== undefined) (wakeMs[d] ??= []).push(tr.durationMs);
  }
  for (const l of [...Object.values(wakeMs), ...Object.values(parkMs)]) l.sort((a, b) => a - b);
  return { wakeMs, parkMs };
}

/**
 * The latency profile (controller/replay/profile.ts, --profile FILE) of the calibration: per depth
 * the measured park and wake p50/p99 (p99 at least p50 + 1 ms: a log-normal needs a spread).
 */
export function calibratedProfile(cal: Calibration): { depths: Record<string, { park: { p50Ms: number; p99Ms: number }; wake: { p50Ms: number; p99Ms: number } }> } {
  const spread = (l: readonly number[] | undefined) => {
    if (l === undefined || l.length === 0) return undefined;
    const p50 = percentile(l, 0.5);
    return { p50Ms: Math.max(p50, 0.1), p99Ms: Math.max(percentile(l, 0.99), p50 + 1) };
  };
  const depths: Record<string, { park: { p50Ms: number; p99Ms: number }; wake: { p50Ms: number; p99Ms: number } }> = {};
  for (const d of Object.keys(cal.wakeMs)) {
    const wake = spread(cal.wakeMs[d]);
    const park = spread(cal.parkMs[d]);
    if (wake !== undefined && park !== undefined) depths[d] = { park, wake };
  }
  return { depths };
}

export interface VmComparison {
  readonly vm: string;
  readonly depth: string;
  readonly real: { readonly parks: number; readonly wakes: number; readonly wakeP50Ms: number | null; readonly wakeMaxMs: number | null };
  readonly sim: { readonly parks: number; readonly wakes: number; readonly wakeP50Ms: number | null; readonly wakeMaxMs: number | null };
  /** Gaps of this VM inside the ambiguous band: the parks/wakes difference allowed. */
  readonly allowed: number;
  readonly ambiguousGapsMs: readonly number[];
  /** The allowed difference of the median wakes for this VM's depth (ms). */
  readonly latencyToleranceMs: number;
  readonly parksAgree: boolean;
  readonly wakesAgree: boolean;
  /** Median real wake vs median simulated wake within the tolerance (true when neither side woke it). */
  readonly latencyAgrees: boolean;
}

export interface Comparison {
  readonly vms: readonly VmComparison[];
  readonly real: { readonly parks: number; readonly wakes: number };
  readonly sim: { readonly parks: number; readonly wakes: number };
  /** Sum over VMs of their allowed difference. */
  readonly allowed: number;
  readonly agree: boolean;
}

/** Share of the calibrated median wake two medians may differ by: the load drift measured on this machine (see the top of this file). */
export const LOAD_DRIFT = 0.5;

/**
 * The tolerance on a depth's median wake: the widest of the calibration's range (max - min: the
 * draws' own spread), LOAD_DRIFT of its median, and LATENCY_FLOOR_MS.
 */
export function latencyTolerance(cal: Calibration, depth: string): number {
  const l = cal.wakeMs[depth];
  if (l === undefined || l.length === 0) return LATENCY_FLOOR_MS;
  return Math.max(LATENCY_FLOOR_MS, l[l.length - 1]! - l[0]!, LOAD_DRIFT * percentile(l, 0.5));
}

/** The simulator's transition records (engine.ts onTransition) as log records; a wake's duration is waking -> active. */
export function fromEngine(records: readonly { at: number; vm: string; from: string; to: string; reason: string }[]): LoggedTransition[] {
  const wakingAt = new Map<string, number>();
  return records.map((r) => {
    if (r.to === 'waking') wakingAt.set(r.vm, r.at);
    const base: LoggedTransition = { t: r.at, vm: r.vm, from: r.from, to: r.to, reason: r.reason };
    const w = wakingAt.get(r.vm);
    return r.from === 'waking' && r.to === 'active' && w !== undefined ? { ...base, durationMs: r.at - w } : base;
  });
}

function summary(m: MeasuredVm | undefined) {
  const l = m?.wakeMs ?? [];
  return { parks: m?.parks ?? 0, wakes: m?.wakes ?? 0, wakeP50Ms: l.length > 0 ? percentile(l, 0.5) : null, wakeMaxMs: l.length > 0 ? l[l.length - 1]! : null };
}

/**
 * Compares what the controller did with what the simulator did, VM by VM, both measured the same
 * way (measure(): parks, packet-started wakes and their durations, which are the added latency of
 * the first packet each wake held).
 */
export function compare(real: readonly MeasuredVm[], sim: readonly MeasuredVm[], vms: readonly RealVm[], ambiguous: ReadonlyMap<string, readonly number[]>, cal: Calibration): Comparison {
  const rows: VmComparison[] = vms.map((spec) => {
    const r = summary(real.find((m) => m.vm === spec.name));
    const s = summary(sim.find((m) => m.vm === spec.name));
    const amb = ambiguous.get(spec.name) ?? [];
    const tol = latencyTolerance(cal, spec.depth);
    const latencyAgrees = r.wakeP50Ms === null || s.wakeP50Ms === null ? r.wakeP50Ms === s.wakeP50Ms : Math.abs(r.wakeP50Ms - s.wakeP50Ms) <= tol;
    return {
      vm: spec.name,
      depth: spec.depth,
      real: r,
      sim: s,
      allowed: amb.length,
      ambiguousGapsMs: amb,
      latencyToleranceMs: tol,
      parksAgree: Math.abs(r.parks - s.parks) <= amb.length,
      wakesAgree: Math.abs(r.wakes - s.wakes) <= amb.length,
      latencyAgrees,
    };
  });
  return {
    vms: rows,
    real: { parks: rows.reduce((a, r) => a + r.real.parks, 0), wakes: rows.reduce((a, r) => a + r.real.wakes, 0) },
    sim: { parks: rows.reduce((a, r) => a + r.sim.parks, 0), wakes: rows.reduce((a, r) => a + r.sim.wakes, 0) },
    allowed: rows.reduce((a, r) => a + r.allowed, 0),
    agree: rows.every((r) => r.parksAgree && r.wakesAgree && r.latencyAgrees),
  };
}
