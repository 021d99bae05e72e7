/**
 * `seamless report`: turns the controller's JSON event log into one self-contained HTML page
 * (controller/report). Reads a file or standard input; writes DIR/index.html.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadInventory } from '../inventory/index.js';
import type { Depth } from '../inventory/types.js';
import { EventLogError, parseEventLog } from '../report/events.js';
import { renderHtml } from '../report/html.js';
import { buildReport } from '../report/model.js';
import { ReplayResultsError, readReplayResults, writeReplayReport } from '../report/replay-results.js';
import type { Command } from './dispatch.js';

export const REPORT_USAGE =
  'usage: seamless report [--from LOG] [--out DIR] [--config INVENTORY]\n' +
  '       seamless report --replay RESULTS.json [--out DIR]\n\n' +
  '  --from LOG          the controller\'s JSON log (seamless controller --log-format json); default standard input\n' +
  '  --out DIR           where index.html is written (created if missing); default ./seamless-report/\n' +
  '  --config INVENTORY  the inventory, to label wakes with each VM\'s park depth when the log does not\n' +
  '  --replay RESULTS    a replay\'s results.json (seamless replay --out): a page comparing its policies instead\n';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const report: Command = async (argv) => {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { from: { type: 'string' }, out: { type: 'string' }, config: { type: 'string' }, replay: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    process.stderr.write(`seamless report: ${(e as Error).message}\n${REPORT_USAGE}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(REPORT_USAGE);
    return 0;
  }
  for (const k of ['from', 'out', 'config', 'replay'] as const) {
    if (values[k] === '') {
      process.stderr.write(`seamless report: --${k} needs a value\n${REPORT_USAGE}`);
      return 2;
    }
  }
  if (values.replay !== undefined) {
    if (values.from !== undefined || values.config !== undefined) {
      process.stderr.write(`seamless report: --replay takes no --from or --config (the results name their trace and inventory)\n${REPORT_USAGE}`);
      return 2;
    }
    return replayReport(values.replay, values.out ?? 'seamless-report');
  }
  const source = values.from ?? 'stdin';
  let text: string;
  try {
    text = values.from === undefined ? await readStdin() : await readFile(values.from, 'utf8');
  } catch (e) {
    process.stderr.write(`seamless report: cannot read ${source}: ${(e as Error).message}\n`);
    return 1;
  }
  let depthOf: ((vm: string) => Depth | undefined) | undefined;
  if (values.config !== undefined) {
    try {
      // Only depths are read: a fabric inventory (a sink on another switch) is as good as any.
      const inv = await loadInventory(values.config, { fabric: true });
      const depths = new Map(inv.vms.map((v) => [v.name, v.depth] as const));
      depthOf = (vm) => depths.get(vm);
    } catch (e) {
      process.stderr.write(`seamless report: cannot read inventory ${values.config}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  let log;
  try {
    log = parseEventLog(text);
  } catch (e) {
    if (e instanceof EventLogError) {
      process.stderr.write(`seamless report: ${source}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (log.events.length === 0) {
    // Still a page (an idle run is a result), but say why it is empty: a text-format log is the usual cause.
    process.stderr.write(`seamless report: warning: no vm transition records in ${source} (${log.nonJsonLines} non-JSON lines); was it written with --log-format json?\n`);
  }
  const model = buildReport(log.events, depthOf === undefined ? {} : { depthOf });
  const html = renderHtml(model, { source, log });
  const dir = resolve(values.out ?? 'seamless-report');
  const file = join(dir, 'index.html');
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(file, html);
  } catch (e) {
    process.stderr.write(`seamless report: cannot write ${file}: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`${file}: ${log.events.length} transitions, ${model.parks} parks, ${model.wakes} wakes, ${model.vms.length} VMs\n`);
  return 0;
};

/** `--replay FILE`: the policy-comparison page of a replay's results. */
async function replayReport(file: string, out: string): Promise<number> {
  let result;
  try {
    result = await readReplayResults(file);
  } catch (e) {
    if (e instanceof ReplayResultsError) {
      process.stderr.write(`seamless report: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  try {
    const { file: page, model } = await writeReplayReport(result, out, file);
    process.stdout.write(`${page}: ${model.policies.length} policies, ${model.sweep.length} fixed timeouts, ${model.perVm.length} VMs\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`seamless report: cannot write ${join(resolve(out), 'index.html')}: ${(e as Error).message}\n`);
    return 1;
  }
}

export default report;
