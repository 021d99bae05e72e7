// Lossless JSON form of OfpMessage for the CLI and logs: bigint fields become decimal
// strings, Buffer fields become lowercase hex strings. fromJSON(toJSON(m)) deep-equals m.
// The mapping is by field name: the model uses each name with one meaning everywhere.
import { OfpEncodeError } from './errors.js';
import type { OfpMessage } from './types.js';

/** Field names whose value is a bigint everywhere in the model. */
const BIGINT_KEYS = new Set([
  'datapathId',
  'cookie',
  'cookieMask',
  'metadata',
  'metadataMask',
  'metadataMatch',
  'metadataWrite',
  'generationId',
  'packetCount',
  'byteCount',
  'lookupCount',
  'matchedCount',
  'rxPackets',
  'txPackets',
  'rxBytes',
  'txBytes',
  'rxDropped',
  'txDropped',
  'rxErrors',
  'txErrors',
  'rxFrameErr',
  'rxOverErr',
  'rxCrcErr',
  'collisions',
  'packetInCount',
  'byteInCount',
  'packetBandCount',
  'byteBandCount',
]);

/** Field names whose value is a Buffer ('body' only when it is not an object: unknown messages). */
const BUFFER_KEYS = new Set(['data', 'raw', 'body']);

/** OXM fields with 64-bit values: their value/mask are bigint. */
const BIGINT_OXM = new Set(['metadata', 'tunnel_id']);

function out(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString(10);
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (Array.isArray(v)) return v.map(out);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = out(x);
    return o;
  }
  return v;
}

/** Converts a message to plain JSON-safe data (bigint -> decimal string, Buffer -> hex). */
export function toJSON(msg: OfpMessage): unknown {
  return out(msg);
}

function bad(path: string, why: string): OfpEncodeError {
  return new OfpEncodeError('OFP_ENCODE_BAD_VALUE', `fromJSON: ${path}: ${why}`);
}

function toBigint(v: unknown, path: string): bigint {
  if (typeof v === 'string' && /^(0|[1-9][0-9]*)$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw bad(path, 'expected a decimal string');
}

function toBuffer(v: unknown, path: string): Buffer {
  if (typeof v === 'string' && /^([0-9a-fA-F]{2})*$/.test(v)) return Buffer.from(v, 'hex');
  throw bad(path, 'expected a hex string');
}

function back(v: unknown, path: string): unknown {
  if (Array.isArray(v)) return v.map((x, i) => back(x, `${path}[${i}]`));
  if (v === null || typeof v !== 'object') return v;
  const src = v as Record<string, unknown>;
  const o: Record<string, unknown> = {};
  // An OXM object: {field, value, mask?}; 64-bit fields carry bigint values.
  const oxm64 = typeof src['field'] === 'string' && BIGINT_OXM.has(src['field']) && 'value' in src;
  for (const [k, x] of Object.entries(src)) {
    const p = `${path}.${k}`;
    if (BIGINT_KEYS.has(k) && (typeof x === 'string' || typeof x === 'number')) o[k] = toBigint(x, p);
    else if (BUFFER_KEYS.has(k) && typeof x === 'string') o[k] = toBuffer(x, p);
    else if (oxm64 && (k === 'value' || k === 'mask')) o[k] = toBigint(x, p);
    else o[k] = back(x, p);
  }
  return o;
}

/**
 * Rebuilds a message from its toJSON() form. Only the JSON encodings are checked here;
 * encode() validates field ranges and shapes.
 */
export function fromJSON(obj: unknown): OfpMessage {
  if (obj === null || typeof obj !== 'object' || typeof (obj as { type?: unknown }).type !== 'string') {
    throw bad('$', 'expected an object with a string "type"');
  }
  if (typeof (obj as { xid?: unknown }).xid !== 'number') throw bad('$.xid', 'expected a number');
  return back(obj, '$') as OfpMessage;
}
