// The policy-comparison page's model: pure functions from a replay's results (the JSON that
// `seamless replay` writes, controller/replay/results.ts) to what the page shows. The input
// type lists only the fields the page reads, so the engine's ReplayResult is assignable to it
// and a results.json from disk is validated against exactly these (replay-results.ts).
import type { Phase } from '../park/model.js';

export interface AddedLatencyView {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
  /** [added ms, fraction of first packets delayed at most that much], ascending. */
  readonly cdf: readonly (readonly [number, number])[];
}

export interface PerVmView {
  readonly vm: string;
  readonly savedJoules: number;
  readonly parks: number;
  readonly wakes: number;
  readonly p99AddedMs: number;
  readonly flowsMetParked: number;
}

export interface PolicyResultView {
  readonly policy: string;
  readonly idleTimeoutMs?: number;
  readonly alwaysOnJoules: number;
  readonly savedJoules: number;
  readonly savedPct: number;
  readonly ofOraclePct: number | null;
  readonly memoryByteHoursSaved: number;
  readonly wakes: number;
  readonly wakesPerVmDay: number;
  readonly addedLatencyMs: AddedLatencyView;
  readonly flowsMetParked: number;
  readonly timeInStateSeconds: Readonly<Record<Phase, number>>;
  readonly perVm: readonly PerVmView[];
}

export interface ReplayResultView {
  readonly trace: {
    readonly file: string;
    readonly flows: number;
    readonly vms: number;
    readonly days: number;
    readonly startMs: number;
    readonly endMs: number;
    readonly unknownAddresses: readonly { readonly ip: string; readonly flows: number }[];
  };
  readonly seed: number;
  /** The latency profile's name or file (shown as given). */
  readonly profile: unknown;
  readonly policies: readonly PolicyResultView[];
  /** Fixed idle timeouts, one result each (the savings vs wakes curve). */
  readonly sweep: readonly PolicyResultView[];
}

/** One point of the savings vs wakes plane. */
export interface TradeoffPoint {
  readonly label: string;
  /** Wakes per VM-day (x). */
  readonly wakesPerVmDay: number;
  /** Energy saved against always-on, % (y). */
  readonly savedPct: number;
}

export interface PolicyRow {
  readonly name: string;
  readonly result: PolicyResultView;
  /**
   * savedPct minus what the sweep of fixed timeouts saves at the same wakes per VM-day
   * (linear between the sweep's neighbouring points); undefined outside the sweep's range.
   */
  readonly vsFixedAtSameWakes: number | undefined;
  /** Share of VM-time per phase (sums to 1 when any time was spent), from timeInStateSeconds. */
  readonly stateShare: Readonly<Record<Phase, number>>;
}

export interface PerVmRow {
  readonly vm: string;
  /** One cell per policy, in the order of ReplayReport.policies; undefined when that policy's result lacks the VM. */
  readonly cells: readonly (PerVmView | undefined)[];
}

export interface ReplayReport {
  readonly trace: ReplayResultView['trace'];
  readonly seed: number;
  readonly profile: string;
  readonly policies: readonly PolicyRow[];
  /** The sweep as a curve, ascending in wakes per VM-day (ties: ascending savings). */
  readonly sweep: readonly TradeoffPoint[];
  /** The sweep's best saver (the timeout an operator would pick without a policy). */
  readonly bestFixed: TradeoffPoint | undefined;
  readonly perVm: readonly PerVmRow[];
}

export const PHASE_ORDER: readonly Phase[] = ['active', 'parking', 'parked', 'waking', 'wake_failed', 'unknown'];

/** A fixed timeout's label: "fixed 30s", "fixed 2m", "fixed 1.5h". */
export function timeoutLabel(ms: number | undefined): string {
  if (ms === undefined) return 'fixed';
  if (ms >= 3_600_000) return `fixed ${+(ms / 3_600_000).toPrecision(3)}h`;
  if (ms >= 60_000) return `fixed ${+(ms / 60_000).toPrecision(3)}m`;
  if (ms >= 1000) return `fixed ${+(ms / 1000).toPrecision(3)}s`;
  return `fixed ${ms}ms`;
}

/** The policy's name as shown; a fixed policy names its timeout so it can be found on the sweep curve. */
export function policyLabel(p: PolicyResultView): string {
  // The engine names a run with an overridden timeout 'fixed:300s'; the label is the same either way.
  return p.policy === 'fixed' || (p.policy.startsWith('fixed:') && p.idleTimeoutMs !== undefined) ? timeoutLabel(p.idleTimeoutMs) : p.policy;
}

/**
 * The sweep's savings at `wakes` wakes per VM-day, linear between the two sweep points around
 * it; undefined when `wakes` lies outside the sweep (no extrapolation: the curve's ends say
 * nothing about beyond them). Several points at one x: the best savings there.
 */
export function fixedSavingsAt(sweep: readonly TradeoffPoint[], wakes: number): number | undefined {
  if (sweep.length === 0) return undefined;
  const byX = new Map<number, number>();
  for (const p of sweep) byX.set(p.wakesPerVmDay, Math.max(byX.get(p.wakesPerVmDay) ?? Number.NEGATIVE_INFINITY, p.savedPct));
  const pts = [...byX].sort((a, b) => a[0] - b[0]);
  if (wakes < pts[0]![0] || wakes > pts[pts.length - 1]![0]) return undefined;
  for (let i = 0; i < pts.length; i++) {
    const [x1, y1] = pts[i]!;
    if (x1 === wakes) return y1;
    if (x1 > wakes) {
      const [x0, y0] = pts[i - 1]!;
      return y0 + ((wakes - x0) / (x1 - x0)) * (y1 - y0);
    }
  }
  return undefined;
}

function shares(t: Readonly<Record<Phase, number>>): Record<Phase, number> {
  const total = PHASE_ORDER.reduce((a, p) => a + (t[p] ?? 0), 0);
  const out = {} as Record<Phase, number>;
  for (const p of PHASE_ORDER) out[p] = total > 0 ? (t[p] ?? 0) / total : 0;
  return out;
}

/** The profile as the header shows it: its name or file, else the wake medians per depth (the engine writes the whole profile). */
export function profileName(p: unknown): string {
  if (typeof p === 'string') return p;
  if (p !== null && typeof p === 'object') {
    const o = p as Record<string, unknown>;
    for (const k of ['name', 'file', 'source']) if (typeof o[k] === 'string') return o[k];
    const depths = o['depths'];
    if (depths !== null && typeof depths === 'object') {
      const parts = Object.entries(depths as Record<string, { wake?: { p50Ms?: unknown } } | null>).map(([d, v]) => {
        const ms = v?.wake?.p50Ms;
        return typeof ms === 'number' ? `${d} ${+ms.toPrecision(3)} ms` : d;
      });
      return `wake p50: ${parts.join(', ')}`;
    }
  }
  return p === undefined || p === null ? 'default' : JSON.stringify(p).slice(0, 200);
}

/** Builds the comparison page's model from a replay's results. */
export function buildReplayReport(r: ReplayResultView): ReplayReport {
  const sweep = r.sweep
    .map((p) => ({ label: timeoutLabel(p.idleTimeoutMs), wakesPerVmDay: p.wakesPerVmDay, savedPct: p.savedPct }))
    .sort((a, b) => a.wakesPerVmDay - b.wakesPerVmDay || a.savedPct - b.savedPct);
  let bestFixed: TradeoffPoint | undefined;
  for (const p of sweep) if (bestFixed === undefined || p.savedPct > bestFixed.savedPct) bestFixed = p;

  const policies: PolicyRow[] = r.policies.map((p) => {
    const at = fixedSavingsAt(sweep, p.wakesPerVmDay);
    return { name: policyLabel(p), result: p, vsFixedAtSameWakes: at === undefined ? undefined : p.savedPct - at, stateShare: shares(p.timeInStateSeconds) };
  });

  // One map per policy: 10,000 VMs x 4 policies must not be a quadratic search.
  const byVm = r.policies.map((p) => new Map(p.perVm.map((v) => [v.vm, v] as const)));
  const vms = new Set<string>();
  for (const p of r.policies) for (const v of p.perVm) vms.add(v.vm);
  const perVm: PerVmRow[] = [...vms]
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((vm) => ({ vm, cells: byVm.map((m) => m.get(vm)) }));

  return { trace: r.trace, seed: r.seed, profile: profileName(r.profile), policies, sweep, bestFixed, perVm };
}
