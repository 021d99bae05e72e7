// SVG plots of the policy-comparison page (strings, no scripts), on the run report's axes and
// frame (svg.ts) so both pages look alike.
import { PHASE_COLOURS, SERIES, W, M, esc, frame, latency, lines, num, scale, ticks, type Axis } from './svg.js';
import { PHASE_ORDER, type PolicyRow, type TradeoffPoint } from './replay-model.js';

const SWEEP_COLOUR = '#888';

/** Pads a [lo, hi] range by 5 % each side (a point on the frame's edge is hard to see). */
function padded(lo: number, hi: number, floorZero: boolean): [number, number] {
  const span = hi - lo || Math.abs(hi) || 1;
  const a = lo - span * 0.05;
  return [floorZero ? Math.max(0, a) : a, hi + span * 0.05];
}

/**
 * Energy saved (%) against wakes per VM-day: the sweep of fixed timeouts as a grey line with a
 * dot per timeout, each policy as a coloured marker with its name. Up and left is better.
 */
export function tradeoffSvg(sweep: readonly TradeoffPoint[], policies: readonly PolicyRow[]): string {
  const h = 320;
  const pts = [...sweep, ...policies.map((p) => ({ label: p.name, wakesPerVmDay: p.result.wakesPerVmDay, savedPct: p.result.savedPct }))];
  const xs = pts.map((p) => p.wakesPerVmDay);
  const ys = pts.map((p) => p.savedPct);
  const [x0, x1] = padded(Math.min(...xs, 0), Math.max(...xs, 0), true);
  const [y0, y1] = padded(Math.min(...ys, 0), Math.max(...ys, 0), false);
  const x: Axis = { min: x0, max: x1, px0: M.l, px1: W - M.r };
  const y: Axis = { min: y0, max: y1, px0: h - M.b, px1: M.t };
  let body = `<line x1="${M.l}" y1="${h - M.b}" x2="${W - M.r}" y2="${h - M.b}" class="axis"/><line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${h - M.b}" class="axis"/>`;
  body += ticks(x, 6, num, true, h - M.b);
  body += ticks(y, 4, (v) => `${num(v)}%`, false, M.l);
  body += `<text x="${(M.l + W - M.r) / 2}" y="${h - 4}" text-anchor="middle">wakes per VM-day</text>`;
  if (sweep.length > 0) {
    const d = sweep.map((p, i) => `${i === 0 ? 'M' : 'L'}${scale(x, p.wakesPerVmDay).toFixed(1)},${scale(y, p.savedPct).toFixed(1)}`).join('');
    body += `<path class="sweep" d="${d}" fill="none" stroke="${SWEEP_COLOUR}" stroke-width="1.5" stroke-dasharray="5 3"/>`;
    for (const p of sweep) {
      body += `<circle class="sweep-pt" cx="${scale(x, p.wakesPerVmDay).toFixed(1)}" cy="${scale(y, p.savedPct).toFixed(1)}" r="3" fill="${SWEEP_COLOUR}"><title>${esc(`${p.label}: ${+p.savedPct.toFixed(2)}% saved, ${+p.wakesPerVmDay.toFixed(2)} wakes/VM-day`)}</title></circle>`;
    }
  }
  policies.forEach((p, i) => {
    const cx = scale(x, p.result.wakesPerVmDay);
    const cy = scale(y, p.result.savedPct);
    const c = SERIES[i % SERIES.length]!;
    body += `<g class="policy-pt"><rect x="${(cx - 5).toFixed(1)}" y="${(cy - 5).toFixed(1)}" width="10" height="10" fill="${c}" transform="rotate(45 ${cx.toFixed(1)} ${cy.toFixed(1)})"/>` +
      `<text x="${(cx + 9).toFixed(1)}" y="${cy.toFixed(1)}" dy="0.32em">${esc(p.name)}</text>` +
      `<title>${esc(`${p.name}: ${+p.result.savedPct.toFixed(2)}% saved, ${+p.result.wakesPerVmDay.toFixed(2)} wakes/VM-day`)}</title></g>`;
  });
  return frame(h, body, 'energy saved vs wakes per VM-day: fixed-timeout sweep (grey) and policies');
}

/** Empirical CDF of added first-packet latency, one step line per policy that delayed any packet. */
export function addedLatencyCdfSvg(policies: readonly PolicyRow[]): string {
  const series = policies
    .filter((p) => p.result.addedLatencyMs.cdf.length > 0)
    .map((p) => {
      const cdf = p.result.addedLatencyMs.cdf;
      return { name: `${p.name} (n=${p.result.addedLatencyMs.count})`, pts: [{ t: cdf[0]![0], v: 0 }, ...cdf.map(([ms, f]) => ({ t: ms, v: f }))] };
    });
  return lines(series, latency, (v) => `${Math.round(v * 100)}%`, 'added first-packet latency CDF per policy (log time axis)', true, 0, true);
}

/** One horizontal bar per policy: the share of VM-time spent in each phase. */
export function stateShareSvg(policies: readonly PolicyRow[]): string {
  const row = 26;
  const h = M.t + policies.length * row + M.b;
  const x: Axis = { min: 0, max: 1, px0: M.l + 60, px1: W - M.r };
  let body = '';
  policies.forEach((p, i) => {
    const yy = M.t + i * row;
    body += `<text x="${x.px0 - 6}" y="${yy + row / 2}" dy="0.32em" text-anchor="end" class="vm">${esc(p.name)}</text>`;
    let acc = 0;
    for (const phase of PHASE_ORDER) {
      const s = p.stateShare[phase];
      if (s <= 0) continue;
      const a = scale(x, acc);
      const w = Math.max(scale(x, acc + s) - a, 0.5);
      body += `<rect class="share" x="${a.toFixed(1)}" y="${yy + 4}" width="${w.toFixed(1)}" height="${row - 8}" fill="${PHASE_COLOURS[phase]}"><title>${esc(`${p.name}: ${phase} ${(s * 100).toFixed(2)}%`)}</title></rect>`;
      acc += s;
    }
  });
  const axisY = M.t + policies.length * row + 4;
  body += `<line x1="${x.px0}" y1="${axisY}" x2="${x.px1}" y2="${axisY}" class="axis"/>`;
  body += ticks(x, 5, (v) => `${Math.round(v * 100)}%`, true, axisY);
  return frame(h, body, 'share of VM-time per state, per policy');
}
