// What a replay produces (written as OUT/results.json and OUT/<policy>.json).
// Shape fixed with the report that compares policies (replay-real builds on
// it): extend, never change. Every figure is computed from the machine's
// `transition` outputs and the simulated switch's deliveries (engine.ts).
import type { Phase } from '../park/model.js';

export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Flows whose first packet waited for a wake (or a park being undone). */
  readonly count: number;
  /** [ms, fraction of those flows that waited at most ms], ascending; at most ~100 points. */
  readonly cdf: [number, number][];
}

export interface PerVmResult {
  readonly vm: string;
  readonly savedJoules: number;
  readonly parks: number;
  readonly wakes: number;
  readonly p99AddedMs: number;
  readonly flowsMetParked: number;
}

export interface PolicyResult {
  /** 'fixed' | 'fixed:300s' | 'adaptive' | ... */
  readonly policy: string;
  /** Set when the run overrode every VM's idle timeout (fixed:DURATION). */
  readonly idleTimeoutMs?: number;
  /** Energy the VMs would have used running for the whole trace (J). */
  readonly alwaysOnJoules: number;
  /** Energy parking saved, transitions included (J; a park that did not pay off subtracts). */
  readonly savedJoules: number;
  readonly savedPct: number;
  /** savedJoules as a share of the oracle's (%); null without an oracle run. */
  ofOraclePct: number | null;
  /** Sum over parked periods of the memory the park released times its length (byte-hours). */
  readonly memoryByteHoursSaved: number;
  readonly wakes: number;
  readonly wakesPerVmDay: number;
  readonly addedLatencyMs: LatencySummary;
  /** Flows whose first packet found the VM not active (parked, parking or waking), ignored traffic excluded. */
  readonly flowsMetParked: number;
  /** Summed over VMs; sums to VMs x trace seconds. */
  readonly timeInStateSeconds: Record<Phase, number>;
  readonly perVm: PerVmResult[];
  /** Extension: first packets never delivered (hold queue full, or the wake gave up). */
  readonly flowsLost: number;
  /** Extension: wall-clock seconds this policy's replay took. */
  readonly replaySeconds: number;
}

export interface TraceSummary {
  readonly file: string;
  readonly flows: number;
  readonly vms: number;
  readonly days: number;
  readonly startMs: number;
  readonly endMs: number;
  /** Destination addresses no VM of the inventory has (and no VM sent from), with their flow counts, most flows first. */
  readonly unknownAddresses: { ip: string; flows: number }[];
  /** Extension: flows sent by a VM to an address outside the inventory (they cannot wake or move a counter). */
  readonly outboundFlows: number;
}

export interface ReplayResult {
  readonly trace: TraceSummary;
  readonly seed: number;
  readonly profile: unknown;
  readonly policies: PolicyResult[];
  /** Fixed timeouts (e.g. 30 s .. 4 h): the savings-vs-wakes curve the policies are compared with. */
  readonly sweep: PolicyResult[];
}

export const PHASES: readonly Phase[] = ['unknown', 'active', 'parking', 'parked', 'waking', 'wake_failed'];

/** Percentile by nearest rank of an ascending array (0 when empty). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function summariseLatency(values: number[]): LatencySummary {
  const a = Float64Array.from(values).sort();
  const cdf: [number, number][] = [];
  const points = Math.min(100, a.length);
  for (let k = 1; k <= points; k++) {
    const i = Math.ceil((k * a.length) / points) - 1;
    cdf.push([round3(a[i]!), round3((i + 1) / a.length)]);
  }
  return { p50: round3(percentile(a, 0.5)), p99: round3(percentile(a, 0.99)), max: round3(a.length ? a[a.length - 1]! : 0), count: a.length, cdf };
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Fills ofOraclePct of every result from the oracle's savings (when an oracle ran). */
export function relateToOracle(results: PolicyResult[]): void {
  const oracle = results.find((r) => r.policy === 'oracle');
  for (const r of results) r.ofOraclePct = oracle === undefined || oracle.savedJoules <= 0 ? null : round3((100 * r.savedJoules) / oracle.savedJoules);
}
