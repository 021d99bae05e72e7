// Reading a replay's results.json for the comparison page, and writing the page. The schema
// checks exactly the fields the page reads (replay-model.ts), so a hand-edited or truncated file
// is refused with the file and the field named instead of drawing a wrong plot.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { Phase } from '../park/model.js';
import { buildReplayReport, PHASE_ORDER, type ReplayReport, type ReplayResultView } from './replay-model.js';
import { renderReplayHtml } from './replay-html.js';

/** A results file that cannot be shown; `issues` lists every problem as "path: message". */
export class ReplayResultsError extends Error {
  readonly code = 'REPLAY_RESULTS_INVALID';
  constructor(readonly file: string, readonly issues: readonly string[]) {
    super(issues.map((i) => `${file}: ${i}`).join('\n'));
    this.name = 'ReplayResultsError';
  }
}

const finite = z.number().finite();
const nonNeg = finite.nonnegative();
const phase = z.enum(PHASE_ORDER as [Phase, ...Phase[]]);

const policyResult = z.object({
  policy: z.string().min(1),
  idleTimeoutMs: nonNeg.optional(),
  alwaysOnJoules: finite,
  savedJoules: finite,
  savedPct: finite,
  ofOraclePct: finite.nullable(),
  memoryByteHoursSaved: finite,
  wakes: nonNeg,
  wakesPerVmDay: nonNeg,
  addedLatencyMs: z.object({
    p50: nonNeg,
    p99: nonNeg,
    max: nonNeg,
    count: nonNeg,
    cdf: z.array(z.tuple([nonNeg, finite.min(0).max(1)])),
  }),
  flowsMetParked: nonNeg,
  // Phases absent from the file spent no time there; an unknown phase name is an error.
  timeInStateSeconds: z.partialRecord(phase, nonNeg),
  perVm: z.array(z.object({ vm: z.string(), savedJoules: finite, parks: nonNeg, wakes: nonNeg, p99AddedMs: nonNeg, flowsMetParked: nonNeg })),
});

const replayResult = z.object({
  trace: z.object({
    file: z.string(),
    flows: nonNeg,
    vms: nonNeg,
    days: nonNeg,
    startMs: finite,
    endMs: finite,
    unknownAddresses: z.array(z.object({ ip: z.string(), flows: nonNeg })),
  }),
  seed: finite,
  profile: z.unknown(),
  policies: z.array(policyResult),
  sweep: z.array(policyResult),
});

function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || '(top level)';
}

/** Validates parsed JSON as replay results; throws ReplayResultsError naming `file` and every bad field. */
export function parseReplayResults(json: unknown, file: string): ReplayResultView {
  const r = replayResult.safeParse(json);
  if (!r.success) throw new ReplayResultsError(file, r.error.issues.map((i) => `${issuePath(i.path)}: ${i.message}`));
  const fill = (t: Partial<Record<Phase, number>>): Record<Phase, number> => Object.fromEntries(PHASE_ORDER.map((p) => [p, t[p] ?? 0])) as Record<Phase, number>;
  const norm = <T extends { timeInStateSeconds: Partial<Record<Phase, number>> }>(p: T) => ({ ...p, timeInStateSeconds: fill(p.timeInStateSeconds) });
  return { ...r.data, policies: r.data.policies.map(norm), sweep: r.data.sweep.map(norm) } as ReplayResultView;
}

/** Reads and validates a results.json. */
export async function readReplayResults(file: string): Promise<ReplayResultView> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ReplayResultsError(file, [`cannot read: ${(e as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ReplayResultsError(file, [`not JSON: ${(e as Error).message}`]);
  }
  return parseReplayResults(json, file);
}

/**
 * Writes DIR/index.html comparing the policies of `result` (the page `seamless replay --out DIR`
 * and `seamless report --replay FILE` write). Creates DIR. Resolves with the file's path and the model.
 */
export async function writeReplayReport(result: ReplayResultView, dir: string, source?: string): Promise<{ file: string; model: ReplayReport }> {
  const model = buildReplayReport(result);
  const html = renderReplayHtml(model, { source: source ?? result.trace.file });
  const out = resolve(dir);
  const file = join(out, 'index.html');
  await mkdir(out, { recursive: true });
  await writeFile(file, html);
  return { file, model };
}
