// The simulated hypervisor's latency profile: how long libvirt takes to park and
// to wake a domain at each depth, drawn per operation from a log-normal given
// its median and 99th percentile, plus the switch's barrier round trip, the
// state store's write time and the memory a park releases. Defaults are fitted
// from docs/benchmarks.md (bench:wake, bench:fairness) and NOTES.md; a
// `--profile FILE` (JSON or YAML, docs/replay.md#latency-profile) overrides any field.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Rng } from './rng.js';

/** A duration's distribution: log-normal with this median and 99th percentile (ms). */
export interface Spread {
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface DepthLatency {
  readonly park: Spread;
  /** libvirt's wake plus the guest's readiness (its ARP answer; the service for a cold boot). */
  readonly wake: Spread;
  /** Share of the resident memory the park releases (measured RSS before minus after, over before). */
  readonly releasedFraction: number;
}

export interface LatencyProfile {
  /** Per depth name (pause, reclaim, save, shutdown, or any depth an inventory uses). */
  readonly depths: Readonly<Record<string, DepthLatency>>;
  /** Barrier request to reply (make-before-break, park flows confirmed). */
  readonly switchRoundTrip: Spread;
  /** The state store's write of a park intent. */
  readonly storeWrite: Spread;
  /** The QEMU process's resident memory before a park (bytes), for memory and energy. */
  readonly residentBytes: number;
}

/**
 * Defaults. Wake medians/p99 are bench:wake's client-side first-SYN-to-SYN-ACK
 * figures (docs/benchmarks.md: pause p50 6-15 ms, p99 8-45 ms; save p50 450-690
 * ms, p99 540-1140 ms; shutdown = cold boot 7.5-9 s). Parks: virsh suspend ~25 ms,
 * managedsave 1.8 s, ACPI shutdown ~1 s assumed (docs/energy.md). reclaim: a pause
 * plus the memtune push into zram (NOTES.md: wakes as fast as a pause; the push
 * assumed 300-800 ms, 85 % of RSS released as measured there: 360 -> 55 MB).
 */
export const DEFAULT_PROFILE: LatencyProfile = {
  depths: {
    pause: { park: { p50Ms: 25, p99Ms: 45 }, wake: { p50Ms: 9, p99Ms: 30 }, releasedFraction: 0 },
    reclaim: { park: { p50Ms: 300, p99Ms: 800 }, wake: { p50Ms: 10, p99Ms: 35 }, releasedFraction: 0.85 },
    save: { park: { p50Ms: 1800, p99Ms: 2600 }, wake: { p50Ms: 570, p99Ms: 1100 }, releasedFraction: 1 },
    shutdown: { park: { p50Ms: 1000, p99Ms: 3000 }, wake: { p50Ms: 8000, p99Ms: 9500 }, releasedFraction: 1 },
  },
  switchRoundTrip: { p50Ms: 2, p99Ms: 8 },
  storeWrite: { p50Ms: 0.5, p99Ms: 2 },
  residentBytes: 1024 ** 3,
};

/** A profile file that cannot be used; names the file and the field. */
export class ProfileError extends Error {
  readonly code = 'ERR_REPLAY_PROFILE';
  constructor(message: string) {
    super(message);
    this.name = 'ProfileError';
  }
}

function spread(file: string, field: string, v: unknown, base: Spread | undefined): Spread {
  if (v === undefined && base) return base;
  if (typeof v !== 'object' || v === null) throw new ProfileError(`${file}: ${field}: expected { p50Ms, p99Ms }, got ${JSON.stringify(v)}`);
  const o = v as Record<string, unknown>;
  const p50 = o['p50Ms'] ?? base?.p50Ms;
  const p99 = o['p99Ms'] ?? p50;
  if (typeof p50 !== 'number' || !(p50 >= 0) || typeof p99 !== 'number' || !(p99 >= p50)) {
    throw new ProfileError(`${file}: ${field}: p50Ms must be a number >= 0 and p99Ms >= p50Ms (got ${JSON.stringify(v)})`);
  }
  return { p50Ms: p50, p99Ms: p99 };
}

/** Merges a parsed profile document over the defaults; every error names the file and field. */
export function profileFrom(doc: unknown, file: string, base: LatencyProfile = DEFAULT_PROFILE): LatencyProfile {
  if (typeof doc !== 'object' || doc === null) throw new ProfileError(`${file}: expected a mapping at the top level`);
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) {
    if (!['depths', 'switchRoundTrip', 'storeWrite', 'residentBytes'].includes(k)) throw new ProfileError(`${file}: unknown field ${k}`);
  }
  const depths: Record<string, DepthLatency> = { ...base.depths };
  const dd = d['depths'];
  if (dd !== undefined) {
    if (typeof dd !== 'object' || dd === null) throw new ProfileError(`${file}: depths: expected a mapping of depth names`);
    for (const [name, v] of Object.entries(dd as Record<string, unknown>)) {
      const o = (v ?? {}) as Record<string, unknown>;
      const b = base.depths[name];
      const rf = o['releasedFraction'] ?? b?.releasedFraction;
      if (typeof rf !== 'number' || rf < 0 || rf > 1) throw new ProfileError(`${file}: depths.${name}.releasedFraction: expected a number in [0, 1], got ${JSON.stringify(rf)}`);
      depths[name] = { park: spread(file, `depths.${name}.park`, o['park'], b?.park), wake: spread(file, `depths.${name}.wake`, o['wake'], b?.wake), releasedFraction: rf };
    }
  }
  const rb = d['residentBytes'] ?? base.residentBytes;
  if (typeof rb !== 'number' || !(rb > 0)) throw new ProfileError(`${file}: residentBytes: expected a positive number, got ${JSON.stringify(rb)}`);
  return {
    depths,
    switchRoundTrip: spread(file, 'switchRoundTrip', d['switchRoundTrip'], base.switchRoundTrip),
    storeWrite: spread(file, 'storeWrite', d['storeWrite'], base.storeWrite),
    residentBytes: rb,
  };
}

/** Reads a profile file (JSON or YAML). */
export function loadProfile(file: string): LatencyProfile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ProfileError(`${file}: cannot read the latency profile: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ProfileError(`${file}: not JSON or YAML: ${(e as Error).message}`);
  }
  return profileFrom(doc, file);
}

/** One draw of a duration (ms). */
export function draw(rng: Rng, s: Spread): number {
  return s.p99Ms === s.p50Ms ? s.p50Ms : rng.lognormal(s.p50Ms, s.p99Ms);
}

/** The depth's latencies; an inventory depth the profile does not know is an error naming it. */
export function depthLatency(p: LatencyProfile, depth: string, vm: string): DepthLatency {
  const d = p.depths[depth];
  if (d === undefined) throw new ProfileError(`VM ${vm}: depth ${depth} has no latencies in the profile (known: ${Object.keys(p.depths).join(', ')})`);
  return d;
}
