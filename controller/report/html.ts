// One self-contained HTML page for a run: inline CSS and SVG, no scripts, no network.
import type { EventLog } from './events.js';
import { quantile, type RunReport } from './model.js';
import { PHASE_COLOURS, bytes, energySvg, esc, memorySvg, timelineSvg, wakeCdfSvg } from './svg.js';
import { htmlPage, pageCss } from './page.js';

export interface PageInfo {
  /** Where the log came from ('stdin' or a path), shown in the header. */
  readonly source: string;
  readonly log: Pick<EventLog, 'nonJsonLines' | 'otherRecords'>;
}

function ms(v: number | undefined): string {
  return v === undefined ? '–' : `${+v.toPrecision(4)} ms`;
}

function joules(v: number | undefined): string {
  if (v === undefined) return '–';
  return Math.abs(v) >= 1000 ? `${+(v / 1000).toPrecision(4)} kJ` : `${+v.toPrecision(4)} J`;
}

/** A run's length: seconds up to 3 minutes, then minutes, then hours. */
function duration(ms: number): string {
  if (ms >= 3 * 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 3 * 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 1000).toFixed(1)} s`;
}

const CSS = pageCss(960);

/** Renders the page. Everything shown is derived from the log; absent data gets a visible note. */
export function renderHtml(r: RunReport, info: PageInfo): string {
  const dur = Math.max(r.end - r.start, 0);
  const parts: string[] = [];
  parts.push(`<h1>seamless run report</h1>`);
  parts.push(
    `<p class="meta">log: ${esc(info.source)} · ${r.vms.length > 0 ? esc(new Date(r.start).toISOString()) : 'no events'} · ${duration(dur)} · ${r.vms.length} VMs · ` +
      `${info.log.nonJsonLines} non-JSON lines skipped, ${info.log.otherRecords} other records</p>`,
  );

  parts.push(`<h2>Summary</h2><table id="summary"><tr><th>measure</th><th>value</th></tr>`);
  parts.push(`<tr><td>parks</td><td>${r.parks}</td></tr><tr><td>wakes</td><td>${r.wakes}</td></tr>`);
  for (const [depth, list] of r.wakesByDepth) {
    parts.push(`<tr><td>wake p50 / p99 (${esc(depth)}, n=${list.length})</td><td>${ms(quantile(list, 0.5))} / ${ms(quantile(list, 0.99))}</td></tr>`);
  }
  if (r.memory !== undefined) parts.push(`<tr><td>memory released (sum over parks)</td><td>${bytes(r.vms.reduce((a, v) => a + v.memoryReleasedBytes, 0))}</td></tr>`);
  if (r.energy !== undefined) parts.push(`<tr><td>energy saved vs always-on</td><td>${joules(r.energy[r.energy.length - 1]!.v)}</td></tr>`);
  parts.push(`</table>`);

  parts.push(`<h2>Per VM</h2><table id="vms"><tr><th>VM</th><th>depth</th><th>parks</th><th>wakes</th><th>failed wakes</th><th>wake p50</th><th>wake p99</th><th>memory released</th><th>energy saved</th></tr>`);
  for (const v of r.vms) {
    parts.push(
      `<tr><td>${esc(v.name)}</td><td>${esc(v.depth ?? '?')}</td><td>${v.parks}</td><td>${v.wakes}</td><td>${v.failedWakes}</td><td>${ms(quantile(v.wakeMs, 0.5))}</td><td>${ms(quantile(v.wakeMs, 0.99))}</td>` +
        `<td>${r.memory === undefined ? '–' : bytes(v.memoryReleasedBytes)}</td><td>${joules(v.energySavedJoules)}</td></tr>`,
    );
  }
  parts.push(`</table>`);

  parts.push(`<h2>State timeline</h2>`);
  if (r.vms.length === 0) parts.push(`<p class="note">no vm transition records in this log</p>`);
  else {
    parts.push(`<p class="legend">${Object.entries(PHASE_COLOURS).map(([p, c]) => `<span><i style="background:${c}"></i>${esc(p)}</span>`).join('')}</p>`);
    parts.push(timelineSvg(r.vms, r.start, r.end));
  }

  parts.push(`<h2>Wake latency CDF per depth</h2>`);
  parts.push(r.wakesByDepth.size === 0 ? `<p class="note">no completed wakes in this log</p>` : wakeCdfSvg(r.wakesByDepth));
  if (r.wakesByDepth.has('unknown')) parts.push(`<p class="meta">depth "unknown": the log does not name it; pass --config INVENTORY to label these wakes.</p>`);

  parts.push(`<h2>Memory released over time</h2>`);
  parts.push(r.memory === undefined ? `<p class="note">no memory data in this log</p>` : memorySvg(r.memory, r.start, r.end));

  parts.push(`<h2>Energy saved vs always-on</h2>`);
  parts.push(r.energy === undefined ? `<p class="note">no energy data in this log</p>` : energySvg(r.energy, r.start, r.end));

  return htmlPage('seamless run report', CSS, parts);
}
