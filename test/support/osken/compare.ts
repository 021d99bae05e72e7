// Shared pieces of the os-ken differential tests: map os-ken's JSON into our model (with
// test/support/vectors.ts' strict Ryu mapper) and normalise the few textual forms where
// os-ken and our model legitimately spell the same bytes differently.
import { isDeepStrictEqual, inspect } from 'node:util';
import { formatIpv6, writeIpv6 } from '../../../controller/openflow/oxm.js';
import type { OfpMessage } from '../../../controller/openflow/types.js';
import { mapRyu, type LengthCheck } from '../vectors.js';

const IPV6_FIELDS = new Set(['ipv6_src', 'ipv6_dst', 'ipv6_nd_target']);

/** RFC 5952 text of any IPv6 spelling (os-ken writes v4-mapped addresses as ::ffff:1.2.3.4). */
export function canonicalIpv6(text: string): string {
  const b = Buffer.alloc(16);
  if (!writeIpv6(b, 0, text)) throw new Error(`not an IPv6 address: ${text}`);
  return formatIpv6(b, 0);
}

/** Deep copy of a model value with every IPv6 OXM value/mask in canonical text. */
export function normaliseModel<T>(v: T): T {
  if (Buffer.isBuffer(v) || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => normaliseModel(x)) as T;
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const ipv6 = typeof src['field'] === 'string' && IPV6_FIELDS.has(src['field']);
  for (const [k, x] of Object.entries(src)) {
    if (ipv6 && (k === 'value' || k === 'mask') && typeof x === 'string') out[k] = canonicalIpv6(x);
    else out[k] = normaliseModel(x);
  }
  return out as T;
}

/** os-ken's JSON of `bytes`, mapped into our model and normalised, plus its length fields. */
export function fromOsken(json: unknown, bytes: Buffer, name: string): { expected: OfpMessage; lengths: LengthCheck[] } {
  const { expected, lengths } = mapRyu({ name, bytes, ryu: json });
  return { expected: normaliseModel(expected), lengths };
}

/** A readable description of how `a` and `b` differ (first differing path), or null if equal. */
export function firstDifference(a: unknown, b: unknown, path = '$'): string | null {
  if (isDeepStrictEqual(a, b)) return null;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b) || a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    return `${path}: ${inspect(a, { depth: 3 })} != ${inspect(b, { depth: 3 })}`;
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  for (const k of new Set([...ka, ...kb])) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d !== null) return d;
  }
  return `${path}: differ (${inspect(a, { depth: 2 })} vs ${inspect(b, { depth: 2 })})`;
}

/** The differential tests' seed: OFP_DIFF_SEED from the environment, else a fixed default. */
export function diffSeed(fallback: number): number {
  const env = process.env['OFP_DIFF_SEED'];
  if (env === undefined || env === '') return fallback;
  const n = Number(env);
  if (!Number.isSafeInteger(n)) throw new Error(`OFP_DIFF_SEED must be an integer, got '${env}'`);
  return n;
}
