// Joins the parts of one multipart reply into one body. Pure (no I/O), so it
// lives with the codec; the switch connection collects the parts.
import type { MultipartType, OfpMessage } from './types.js';

type MultipartReply = Extract<OfpMessage, { type: 'multipart_reply' }>;

/** The list field of each list-shaped multipart reply body. */
const LIST_KEY: Partial<Record<MultipartType, string>> = {
  flow: 'stats',
  table: 'stats',
  port_stats: 'stats',
  queue: 'stats',
  group: 'stats',
  meter: 'stats',
  group_desc: 'groups',
  meter_config: 'configs',
  table_features: 'tables',
  port_desc: 'ports',
};

/**
 * Merges the parts of one multipart reply (OF 1.3.5 §7.3.5): list bodies are
 * concatenated in order; single-struct bodies (desc, aggregate, features) come
 * in one part, and experimenter/unknown bodies keep the data of all parts joined.
 * Throws RangeError when `parts` holds no multipart_reply.
 */
export function mergeMultipart(parts: readonly OfpMessage[]): MultipartReply['body'] {
  const replies = parts.filter((p): p is MultipartReply => p.type === 'multipart_reply');
  const first = replies[0];
  if (first === undefined) throw new RangeError('mergeMultipart: no multipart_reply parts to merge');
  if (replies.length === 1) return first.body;
  const key = LIST_KEY[first.body.mpType];
  if (key !== undefined) {
    const all: unknown[] = [];
    for (const r of replies) all.push(...((r.body as unknown as Record<string, unknown[]>)[key] ?? []));
    return { ...first.body, [key]: all } as MultipartReply['body'];
  }
  if (first.body.mpType === 'experimenter' || first.body.mpType === 'unknown') {
    const data = Buffer.concat(replies.map((r) => ('data' in r.body ? (r.body.data as Buffer) : Buffer.alloc(0))));
    return { ...first.body, data };
  }
  return first.body;
}
