// Small hand-written SVG plots for the run report (docs/decisions.md, "Run report"): strings
// only, no DOM, no scripts, so the page is self-contained and renders the same everywhere.
import type { Phase } from '../park/model.js';
import type { Point, StateInterval, VmReport } from './model.js';

/** Colour per phase; the legend and the CSS of the page use the same table. */
export const PHASE_COLOURS: Readonly<Record<Phase, string>> = {
  active: '#2e9d4f',
  parking: '#e0a526',
  parked: '#3b6fc4',
  waking: '#d9622b',
  wake_failed: '#c0392b',
  unknown: '#9a9a9a',
};

export const SERIES = ['#3b6fc4', '#d9622b', '#2e9d4f', '#8e44ad'];

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Short number for axis labels (3 significant digits). */
export function num(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

/** Bytes in binary units (MiB, GiB), as the tables show them. */
export function bytes(v: number): string {
  if (v === 0) return '0';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let x = Math.abs(v);
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u += 1;
  }
  return `${v < 0 ? '-' : ''}${+x.toPrecision(3)} ${units[u]}`;
}

/** The unit of a time axis spanning `spanMs`: seconds, minutes or hours, so round ticks read 20 min, not 1200 s. */
function timeUnit(spanMs: number): { div: number; unit: string } {
  if (spanMs >= 3 * 3_600_000) return { div: 3_600_000, unit: 'h' };
  if (spanMs >= 3 * 60_000) return { div: 60_000, unit: 'min' };
  return { div: 1000, unit: 's' };
}

/** A latency in ms or s. */
export function latency(v: number): string {
  return v >= 1000 ? `${num(v / 1000)} s` : `${num(v)} ms`;
}

/** Seconds since the run's start, for tooltips. */
function secs(ms: number): string {
  return `${+(ms / 1000).toPrecision(3)} s`;
}

export const W = 720;
export const M = { l: 70, r: 20, t: 16, b: 36 };

export interface Axis {
  readonly min: number;
  readonly max: number;
  readonly px0: number;
  readonly px1: number;
  /** Logarithmic (base 10): wake latencies span 5 ms pauses to 10 s cold boots in one plot. */
  readonly log?: boolean;
}
export function scale(a: Axis, v: number): number {
  if (a.log === true) {
    const lo = Math.log10(a.min);
    const span = Math.log10(a.max) - lo || 1;
    return a.px0 + ((Math.log10(Math.max(v, a.min)) - lo) / span) * (a.px1 - a.px0);
  }
  const span = a.max - a.min || 1;
  return a.px0 + ((v - a.min) / span) * (a.px1 - a.px0);
}

/** Tick values: n+1 even steps, or on a log axis 1-2-5 steps of each decade in range. */
function tickValues(a: Axis, n: number): number[] {
  if (a.log !== true) {
    // Round steps (1, 2 or 5 times a power of ten), about n of them, so labels read 20 s, 40 s, not 20.9 s.
    const raw = (a.max - a.min) / n || 1;
    const p = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * p).reduce((b, v) => (Math.abs(Math.log(v / raw)) < Math.abs(Math.log(b / raw)) ? v : b));
    const out: number[] = [];
    for (let v = Math.ceil(a.min / step) * step; v <= a.max + step * 1e-9; v += step) out.push(v);
    return out;
  }
  const out: number[] = [];
  const d0 = Math.floor(Math.log10(a.min));
  const d1 = Math.ceil(Math.log10(a.max));
  // 1-2-5 steps while they fit (labels about 60 px apart); only the decades on a wide range.
  const steps = d1 - d0 > 3 ? [1] : [1, 2, 5];
  for (let d = d0; d <= d1; d++) {
    for (const m of steps) {
      const v = m * 10 ** d;
      if (v >= a.min && v <= a.max) out.push(v);
    }
  }
  return out;
}

export function ticks(a: Axis, n: number, label: (v: number) => string, horizontal: boolean, other: number): string {
  let s = '';
  for (const v of tickValues(a, n)) {
    const p = scale(a, v).toFixed(1);
    s += horizontal
      ? `<line x1="${p}" y1="${other}" x2="${p}" y2="${other + 4}" class="tick"/><text x="${p}" y="${other + 16}" text-anchor="middle">${esc(label(v))}</text>`
      : `<line x1="${other - 4}" y1="${p}" x2="${other}" y2="${p}" class="tick"/><text x="${other - 6}" y="${p}" dy="0.32em" text-anchor="end">${esc(label(v))}</text>`;
  }
  return s;
}

export function frame(h: number, body: string, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" aria-label="${esc(title)}" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}"><title>${esc(title)}</title>${body}</svg>`;
}

/** One row per VM, a coloured bar per phase interval, time since the run's start on x. */
export function timelineSvg(vms: readonly VmReport[], start: number, end: number): string {
  const row = 22;
  const bar = row - 6;
  const h = M.t + vms.length * row + M.b;
  const x: Axis = { min: 0, max: Math.max(end - start, 1), px0: M.l + 40, px1: W - M.r };
  const cols = Math.ceil(x.px1 - x.px0);
  let body = '';
  vms.forEach((vm, i) => {
    const y = M.t + i * row;
    body += `<text x="${x.px0 - 6}" y="${y + row / 2}" dy="0.32em" text-anchor="end" class="vm">${esc(vm.name)}</text>`;
    if (vm.intervals.length > cols) {
      body += stackedColumns(vm.intervals, x, start, y + 3, bar);
      return;
    }
    for (const iv of vm.intervals) {
      const x0 = scale(x, iv.start - start);
      // At least a pixel wide, so a 5 ms wake in an hour-long run still shows.
      const w = Math.max(scale(x, iv.end - start) - x0, 1);
      body += `<rect class="iv" x="${x0.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${bar}" fill="${PHASE_COLOURS[iv.phase]}"><title>${esc(`${vm.name}: ${iv.phase} ${secs(iv.start - start)} to ${secs(iv.end - start)}`)}</title></rect>`;
    }
  });
  const axisY = M.t + vms.length * row + 4;
  const tu = timeUnit(x.max);
  body += `<line x1="${x.px0}" y1="${axisY}" x2="${x.px1}" y2="${axisY}" class="axis"/>`;
  body += ticks({ ...x, max: x.max / tu.div }, 6, (v) => `${num(v)} ${tu.unit}`, true, axisY);
  return frame(h, body, 'state of each VM over the run');
}

/**
 * A long run's timeline (more intervals than pixel columns): each column is a stacked bar of the
 * share of its time the VM spent in each phase, adjacent columns with the same pixel heights merged.
 * A 200k-park run is then at most a few thousand <rect>s instead of 600k (tens of MB), and a VM
 * parked a quarter of every minute shows a quarter-high parked band, not "active" everywhere.
 */
function stackedColumns(ivs: readonly StateInterval[], x: Axis, start: number, y: number, bar: number): string {
  const cols = Math.ceil(x.px1 - x.px0);
  const span = (x.max - x.min) / cols;
  const phases = Object.keys(PHASE_COLOURS) as Phase[];
  const time = Array.from({ length: cols }, () => new Array<number>(phases.length).fill(0));
  for (const iv of ivs) {
    const k = phases.indexOf(iv.phase);
    let a = iv.start - start;
    const b = iv.end - start;
    while (a < b) {
      const c = Math.min(Math.floor(a / span), cols - 1);
      const e = Math.min(b, (c + 1) * span);
      time[c]![k]! += e - a;
      a = e > a ? e : b;
    }
  }
  // Pixel heights per column (largest-remainder rounding would be exact; plain rounding is within a pixel).
  const heights = time.map((ts) => {
    const total = ts.reduce((p, v) => p + v, 0);
    return total === 0 ? undefined : ts.map((v) => Math.round((v / total) * bar));
  });
  let out = '';
  let c = 0;
  while (c < cols) {
    const hs = heights[c];
    let e = c + 1;
    while (e < cols && hs !== undefined && heights[e] !== undefined && heights[e]!.every((v, k) => v === hs[k])) e++;
    if (hs !== undefined) {
      let yy = y;
      hs.forEach((hh, k) => {
        if (hh === 0) return;
        out += `<rect class="iv" x="${(x.px0 + c).toFixed(1)}" y="${yy}" width="${e - c}" height="${hh}" fill="${PHASE_COLOURS[phases[k]!]}"/>`;
        yy += hh;
      });
    }
    c = e;
  }
  return out;
}

/** [min, max] of a list, in a loop: spreading 100k+ samples into Math.min overflows V8's argument stack. */
function extent(vs: readonly number[]): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of vs) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * At most four points per pixel column (first, lowest, highest, last, in x order), which draws the
 * same line as every point: a step line's extremes inside one pixel are all that can show.
 */
function decimate(pts: readonly Point[], x: Axis): readonly Point[] {
  const cols = x.px1 - x.px0;
  if (pts.length <= 4 * cols) return pts;
  const out: Point[] = [];
  let col = Number.NaN;
  let group: Point[] = [];
  const flush = () => {
    if (group.length === 0) return;
    let lo = group[0]!;
    let hi = group[0]!;
    for (const p of group) {
      if (p.v < lo.v) lo = p;
      if (p.v > hi.v) hi = p;
    }
    const keep = new Set([group[0]!, lo, hi, group[group.length - 1]!]);
    for (const p of group) if (keep.has(p)) out.push(p);
    group = [];
  };
  for (const p of pts) {
    const c = Math.floor(scale(x, p.t));
    if (c !== col) {
      flush();
      col = c;
    }
    group.push(p);
  }
  flush();
  return out;
}

export interface Series {
  readonly name: string;
  readonly pts: readonly Point[];
  /** A reference line (the always-on baseline): grey and dashed, not a colour of its own. */
  readonly reference?: boolean;
}

export function lines(series: readonly Series[], xl: (v: number) => string, yl: (v: number) => string, title: string, step: boolean, yMin?: number, xLog = false): string {
  // The legend gets its own row above the plot area, so it never covers a line.
  const legend = series.length > 1 || series.some((s) => s.name !== '');
  const top = legend ? M.t + 22 : M.t;
  const h = 260 + top - M.t;
  const all = series.flatMap((s) => s.pts);
  const [xMin, xMax] = extent(all.map((p) => p.t));
  const [yLo, yHi] = extent(all.map((p) => p.v));
  let x: Axis = { min: xMin, max: Math.max(xMax, xMin + 1), px0: M.l, px1: W - M.r };
  // A log axis from the decade below the fastest sample to the one above the slowest (1-2-5 ticks then land inside).
  if (xLog) x = { ...x, min: 10 ** Math.floor(Math.log10(Math.max(x.min, 0.1))), max: 10 ** Math.ceil(Math.log10(Math.max(x.max, 1))), log: true };
  const lo = Math.min(yLo, yMin ?? yLo);
  const hi = yHi;
  const y: Axis = { min: lo, max: hi > lo ? hi : lo + 1, px0: h - M.b, px1: top };
  let body = `<line x1="${M.l}" y1="${h - M.b}" x2="${W - M.r}" y2="${h - M.b}" class="axis"/><line x1="${M.l}" y1="${top}" x2="${M.l}" y2="${h - M.b}" class="axis"/>`;
  let lx = M.l;
  body += ticks(x, 6, xl, true, h - M.b);
  body += ticks(y, 4, yl, false, M.l);
  if (y.min < 0 && y.max > 0) {
    const z = scale(y, 0).toFixed(1);
    body += `<line x1="${M.l}" y1="${z}" x2="${W - M.r}" y2="${z}" class="zero"/>`;
  }
  series.forEach((s, i) => {
    let d = '';
    decimate(s.pts, x).forEach((p, k) => {
      const px = scale(x, p.t).toFixed(1);
      const py = scale(y, p.v).toFixed(1);
      if (k === 0) d += `M${px},${py}`;
      else if (step) d += `H${px}V${py}`;
      else d += `L${px},${py}`;
    });
    const c = s.reference === true ? '#888' : SERIES[i % SERIES.length]!;
    const dash = s.reference === true ? ' stroke-dasharray="6 4"' : '';
    body += `<path class="series" d="${d}" fill="none" stroke="${c}" stroke-width="2"${dash}/>`;
    if (legend) {
      body += `<rect x="${lx}" y="${M.t - 6}" width="10" height="10" fill="${c}"/><text x="${lx + 14}" y="${M.t + 3}">${esc(s.name)}</text>`;
      lx += 24 + 6.5 * s.name.length;
    }
  });
  return frame(h, body, title);
}

/** Empirical CDF of wake latency, one step line per depth. */
export function wakeCdfSvg(byDepth: ReadonlyMap<string, readonly number[]>): string {
  const series = [...byDepth].map(([depth, sorted]) => ({
    name: `${depth} (n=${sorted.length})`,
    pts: [{ t: sorted[0]!, v: 0 }, ...sorted.map((ms, i) => ({ t: ms, v: (i + 1) / sorted.length }))],
  }));
  return lines(series, latency, (v) => `${Math.round(v * 100)}%`, 'wake latency CDF per depth (log time axis)', true, 0, true);
}

/** Memory released at each moment of the run (bytes, step function). */
export function memorySvg(pts: readonly Point[], start: number, end: number): string {
  const tu = timeUnit(end - start);
  const rel = pts.map((p) => ({ t: (p.t - start) / tu.div, v: p.v }));
  const last = rel[rel.length - 1]!;
  if ((end - start) / tu.div > last.t) rel.push({ t: (end - start) / tu.div, v: last.v });
  // Plotted in MiB (or GiB) so the round tick steps are round in the unit the tables use.
  const max = extent(rel.map((p) => p.v))[1];
  const [div, unit] = max >= 2 ** 30 ? [2 ** 30, 'GiB'] : max >= 2 ** 20 ? [2 ** 20, 'MiB'] : [1, 'B'];
  const scaled = rel.map((p) => ({ t: p.t, v: p.v / div }));
  return lines([{ name: '', pts: scaled }], (v) => `${num(v)} ${tu.unit}`, (v) => `${num(v)} ${unit}`, 'memory released over the run', true, 0);
}

/** Cumulative energy saved compared with leaving every VM running (J); the always-on baseline is 0. */
export function energySvg(pts: readonly Point[], start: number, end: number): string {
  const tu = timeUnit(end - start);
  const rel = pts.map((p) => ({ t: (p.t - start) / tu.div, v: p.v }));
  const last = rel[rel.length - 1]!;
  if ((end - start) / tu.div > last.t) rel.push({ t: (end - start) / tu.div, v: last.v });
  const base = [
    { t: 0, v: 0 },
    { t: Math.max((end - start) / tu.div, last.t), v: 0 },
  ];
  return lines(
    [
      { name: 'saved by parking', pts: rel },
      { name: 'always-on (0)', pts: base, reference: true },
    ],
    (v) => `${num(v)} ${tu.unit}`,
    (v) => `${num(v)} J`,
    'energy saved vs always-on',
    true,
    0,
  );
}
