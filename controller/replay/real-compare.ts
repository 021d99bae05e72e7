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
//   on this machine before the run), the testbed from real libvirt + guest. Latencies are compared
//   within the measured spread (p99 - p50) of the calibration wakes, at least LATENCY_FLOOR_MS.
// Outside those, machine.ts decides the same way in both (it is the same code), so parks and
// wakes must agree exactly.
import type { IgnoreRule, VmSpec } from '../inventory/types.js';
import { percentile } from './results.js';
import type { PolicyResult } from './results.js';
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
 * flow that would move its counter (to its IP, not matched by an ignore rule).
 */
export function activityGaps(trace: Trace, vm: RealVm): number[] {
  const gaps: number[] = [];
  let end = Number.NaN;
  for (let i = 0; i < trace.n; i++) {
    if (u32ToIp(trace.dst[i]!) !== vm.ip) continue;
    if (ignored(vm.ignore, u32ToIp(trace.src[i]!), trace.proto[i]!, trace.dport[i]!)) continue;
    const s = trace.start[i]!;
    if (!Number.isNaN(end) && s > end) gaps.push(s - end);
    end = Number.isNaN(end) ? s + trace.durMs[i]! : Math.max(end, s + trace.durMs[i]!);
  }
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
  readonly sim: { readonly parks: number; readonly wakes: number; readonly p99AddedMs: number };
  /** Gaps of this VM inside the ambiguous band: the parks/wakes difference allowed. */
  readonly allowed: number;
  readonly ambiguousGapsMs: readonly number[];
  /** The allowed latency difference for this VM's depth (ms). */
  readonly latencyToleranceMs: number;
  readonly parksAgree: boolean;
  readonly wakesAgree: boolean;
  /** Real slowest wake vs the simulation's p99 added latency, within the tolerance (true when neither side woke it). */
  readonly latencyAgrees: boolean;
}

export interface Comparison {
  readonly vms: readonly VmComparison[];
  readonly real: { readonly parks: number; readonly wakes: number; readonly wakeP50Ms: number | null };
  readonly sim: { readonly parks: number; readonly wakes: number; readonly addedP50Ms: number };
  /** Sum over VMs of their allowed difference. */
  readonly allowed: number;
  readonly latencyToleranceMs: number;
  readonly agree: boolean;
}

/** The tolerance on latency for a depth: the calibration's p50 -> p99 spread, at least LATENCY_FLOOR_MS. */
export function latencyTolerance(cal: Calibration, depth: string): number {
  const l = cal.wakeMs[depth];
  if (l === undefined || l.length === 0) return LATENCY_FLOOR_MS;
  return Math.max(LATENCY_FLOOR_MS, percentile(l, 0.99) - percentile(l, 0.5));
}

/** Compares measured and simulated parks, wakes and first-packet latencies VM by VM. */
export function compare(
  measured: readonly MeasuredVm[],
  sim: Pick<PolicyResult, 'perVm' | 'addedLatencyMs'>,
  vms: readonly RealVm[],
  ambiguous: ReadonlyMap<string, readonly number[]>,
  cal: Calibration,
): Comparison {
  const simByVm = new Map(sim.perVm.map((v) => [v.vm, v] as const));
  const rows: VmComparison[] = measured.map((m) => {
    const spec = vms.find((v) => v.name === m.vm);
    const depth = spec?.depth ?? 'unknown';
    const s = simByVm.get(m.vm) ?? { parks: 0, wakes: 0, p99AddedMs: 0 };
    const amb = ambiguous.get(m.vm) ?? [];
    const tol = latencyTolerance(cal, depth);
    const realMax = m.wakeMs.length > 0 ? m.wakeMs[m.wakeMs.length - 1]! : null;
    const latencyAgrees = realMax === null || s.wakes === 0 ? realMax === null && s.wakes === 0 : Math.abs(realMax - s.p99AddedMs) <= tol;
    return {
      vm: m.vm,
      depth,
      real: { parks: m.parks, wakes: m.wakes, wakeP50Ms: m.wakeMs.length > 0 ? percentile(m.wakeMs, 0.5) : null, wakeMaxMs: realMax },
      sim: { parks: s.parks, wakes: s.wakes, p99AddedMs: s.p99AddedMs },
      allowed: amb.length,
      ambiguousGapsMs: amb,
      latencyToleranceMs: tol,
      parksAgree: Math.abs(m.parks - s.parks) <= amb.length,
      wakesAgree: Math.abs(m.wakes - s.wakes) <= amb.length,
      latencyAgrees,
    };
  });
  const allReal = measured.flatMap((m) => m.wakeMs).sort((a, b) => a - b);
  const realP50 = allReal.length > 0 ? percentile(allReal, 0.5) : null;
  // The overall median mixes depths: its tolerance is the widest of the depths woken.
  const tol = Math.max(LATENCY_FLOOR_MS, ...rows.filter((r) => r.real.wakes > 0).map((r) => r.latencyToleranceMs));
  const simP50 = sim.addedLatencyMs.p50;
  const p50Agrees = realP50 === null ? sim.addedLatencyMs.count === 0 : sim.addedLatencyMs.count > 0 && Math.abs(realP50 - simP50) <= tol;
  const allowed = rows.reduce((a, r) => a + r.allowed, 0);
  return {
    vms: rows,
    real: { parks: rows.reduce((a, r) => a + r.real.parks, 0), wakes: rows.reduce((a, r) => a + r.real.wakes, 0), wakeP50Ms: realP50 },
    sim: { parks: rows.reduce((a, r) => a + r.sim.parks, 0), wakes: rows.reduce((a, r) => a + r.sim.wakes, 0), addedP50Ms: simP50 },
    allowed,
    latencyToleranceMs: tol,
    agree: rows.every((r) => r.parksAgree && r.wakesAgree && r.latencyAgrees) && p50Agrees,
  };
}
