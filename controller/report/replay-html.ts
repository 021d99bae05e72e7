// The policy-comparison page of a replay: one self-contained HTML file (inline CSS and SVG, no
// scripts, no network), styled like the run report (html.ts).
import { PHASE_COLOURS, esc } from './svg.js';
import { PHASE_ORDER, type ReplayReport } from './replay-model.js';
import { addedLatencyCdfSvg, stateShareSvg, tradeoffSvg } from './replay-svg.js';
import { htmlPage, pageCss } from './page.js';

export interface ReplayPageInfo {
  /** Where the results came from (a results.json path or the trace), shown in the header. */
  readonly source: string;
}

/** Rows of the per-VM table at most: 10,000 VMs x 4 policies would be a page nobody can open. */
export const PER_VM_ROWS = 500;

const CSS = pageCss(1100, '.better{color:#1d7a3a} .worse{color:#b03a2e}\n');

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${+v.toFixed(2)}%`);
const ms = (v: number, n: number) => (n === 0 ? '–' : `${+v.toPrecision(4)} ms`);
const fix = (v: number) => `${+v.toFixed(2)}`;

function joules(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(4)} GJ`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(4)} MJ`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(4)} kJ`;
  return `${+v.toPrecision(4)} J`;
}

function gibHours(byteHours: number): string {
  return `${+(byteHours / 2 ** 30).toPrecision(4)} GiB·h`;
}

function signed(v: number | undefined): string {
  if (v === undefined) return '<span title="outside the sweep\'s range of wakes">–</span>';
  const cls = v > 0 ? 'better' : v < 0 ? 'worse' : '';
  return `<span class="${cls}">${v > 0 ? '+' : ''}${+v.toFixed(2)} pts</span>`;
}

/** Renders the comparison page. Everything shown is derived from the results; absent data gets a visible note. */
export function renderReplayHtml(r: ReplayReport, info: ReplayPageInfo): string {
  const parts: string[] = [];
  const t = r.trace;
  parts.push(`<h1>seamless replay: policies compared</h1>`);
  parts.push(
    `<p class="meta">trace: ${esc(t.file)} · ${t.flows} flows · ${t.vms} VMs · ${+t.days.toFixed(2)} days · seed ${r.seed} · latency profile: ${esc(r.profile)} · results: ${esc(info.source)}</p>`,
  );
  if (t.unknownAddresses.length > 0) {
    const flows = t.unknownAddresses.reduce((a, u) => a + u.flows, 0);
    const shown = t.unknownAddresses.slice(0, 20).map((u) => `${esc(u.ip)} (${u.flows})`).join(', ');
    parts.push(`<p class="note" id="unknown">${t.unknownAddresses.length} addresses in the trace match no VM of the inventory (${flows} flows, not replayed): ${shown}${t.unknownAddresses.length > 20 ? ', …' : ''}</p>`);
  }

  parts.push(`<h2>Policies</h2>`);
  if (r.policies.length === 0) parts.push(`<p class="note">no policy results in this file</p>`);
  else {
    parts.push(
      `<table id="policies"><tr><th>policy</th><th>energy saved</th><th>saved %</th><th>% of oracle</th><th>vs fixed at same wakes</th><th>memory saved</th><th>wakes</th><th>wakes / VM-day</th>` +
        `<th>added p50</th><th>added p99</th><th>added max</th><th>flows met parked</th></tr>`,
    );
    for (const p of r.policies) {
      const x = p.result;
      const l = x.addedLatencyMs;
      parts.push(
        `<tr><td>${esc(p.name)}</td><td>${joules(x.savedJoules)}</td><td>${pct(x.savedPct)}</td><td>${pct(x.ofOraclePct)}</td><td>${signed(p.vsFixedAtSameWakes)}</td><td>${gibHours(x.memoryByteHoursSaved)}</td>` +
          `<td>${x.wakes}</td><td>${fix(x.wakesPerVmDay)}</td><td>${ms(l.p50, l.count)}</td><td>${ms(l.p99, l.count)}</td><td>${ms(l.max, l.count)}</td><td>${x.flowsMetParked}</td></tr>`,
      );
    }
    parts.push(`</table>`);
    parts.push(
      `<p class="meta">"vs fixed at same wakes": the policy's savings minus what the sweep of fixed timeouts saves at the same wakes per VM-day (linear between sweep points), in percentage points.` +
        (r.bestFixed === undefined ? '' : ` Best fixed timeout of the sweep: ${esc(r.bestFixed.label)}, ${pct(r.bestFixed.savedPct)} saved at ${fix(r.bestFixed.wakesPerVmDay)} wakes/VM-day.`) +
        `</p>`,
    );
  }

  parts.push(`<h2>Energy saved vs wakes</h2>`);
  parts.push(r.sweep.length === 0 && r.policies.length === 0 ? `<p class="note">no results to plot</p>` : tradeoffSvg(r.sweep, r.policies));
  if (r.sweep.length === 0) parts.push(`<p class="note">no sweep of fixed timeouts in this file: policies only</p>`);

  parts.push(`<h2>Added first-packet latency CDF</h2>`);
  parts.push(r.policies.some((p) => p.result.addedLatencyMs.cdf.length > 0) ? addedLatencyCdfSvg(r.policies) : `<p class="note">no first packet met a parked VM under any policy</p>`);

  parts.push(`<h2>Time per state</h2>`);
  if (r.policies.length === 0) parts.push(`<p class="note">no policy results in this file</p>`);
  else {
    parts.push(`<p class="legend">${PHASE_ORDER.map((p) => `<span><i style="background:${PHASE_COLOURS[p]}"></i>${esc(p)}</span>`).join('')}</p>`);
    parts.push(stateShareSvg(r.policies));
    parts.push(`<table id="states"><tr><th>policy</th>${PHASE_ORDER.map((p) => `<th>${esc(p)}</th>`).join('')}</tr>`);
    for (const p of r.policies) parts.push(`<tr><td>${esc(p.name)}</td>${PHASE_ORDER.map((ph) => `<td>${pct(p.stateShare[ph] * 100)}</td>`).join('')}</tr>`);
    parts.push(`</table>`);
  }

  parts.push(`<h2>Per VM</h2>`);
  if (r.perVm.length === 0) parts.push(`<p class="note">no per-VM results in this file</p>`);
  else {
    const head = r.policies.map((p) => `<th colspan="4">${esc(p.name)}</th>`).join('');
    const sub = r.policies.map(() => `<th>saved</th><th>parks</th><th>wakes</th><th>p99 added</th>`).join('');
    parts.push(`<table id="per-vm"><tr><th rowspan="2">VM</th>${head}</tr><tr>${sub}</tr>`);
    for (const row of r.perVm.slice(0, PER_VM_ROWS)) {
      const cells = row.cells.map((c) => (c === undefined ? `<td>–</td><td>–</td><td>–</td><td>–</td>` : `<td>${joules(c.savedJoules)}</td><td>${c.parks}</td><td>${c.wakes}</td><td>${ms(c.p99AddedMs, c.wakes)}</td>`));
      parts.push(`<tr><td>${esc(row.vm)}</td>${cells.join('')}</tr>`);
    }
    parts.push(`</table>`);
    if (r.perVm.length > PER_VM_ROWS) parts.push(`<p class="note">first ${PER_VM_ROWS} of ${r.perVm.length} VMs (by name); the results JSON has them all</p>`);
  }

  return htmlPage('seamless replay: policies compared', CSS, parts);
}
