// The frame both report pages share (the run report, html.ts, and the replay
// comparison, replay-html.ts): one self-contained HTML file, inline CSS, no
// scripts, no network, so it opens from disk or a CI artifact as it is.

/** The common stylesheet (text, tables, SVG plots, notes, legends) at a page width; `extra` rules go after it. */
export function pageCss(maxWidthPx: number, extra = ''): string {
  return `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:${maxWidthPx}px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px}
.meta{color:#666;margin:0 0 12px}
table{border-collapse:collapse;margin:8px 0} th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left} th{background:#f3f3f3}
.plot text{font:11px system-ui,sans-serif;fill:#333} .plot .vm{font-size:12px}
.plot .axis,.plot .tick{stroke:#555;stroke-width:1} .plot .zero{stroke:#999;stroke-dasharray:4 3}
.note{background:#fff6d8;border:1px solid #e6cf7a;padding:6px 10px;display:inline-block}
.legend span{display:inline-block;margin-right:14px} .legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
${extra}`;
}

/** The whole page: `parts` (already escaped HTML) one per line in the body. */
export function htmlPage(title: string, css: string, parts: readonly string[]): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>${title}</title><style>${css}</style></head><body>\n${parts.join('\n')}\n</body></html>\n`;
}
