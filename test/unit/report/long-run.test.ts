// A long run (days of parks) must not hit an engine limit: spreading 100k+ samples into
// Math.min/Math.max overflows V8's argument stack ("Maximum call stack size exceeded").
import test from 'ava';
import type { TransitionEvent } from '../../../controller/report/events.js';
import { renderHtml } from '../../../controller/report/html.js';
import { buildReport } from '../../../controller/report/model.js';

test('a run of 200k park/wake cycles renders (no argument-spread limits in the plots)', (t) => {
  const events: TransitionEvent[] = [];
  let line = 0;
  const cycles = 200_000;
  for (let i = 0; i < cycles; i++) {
    const t0 = i * 1000;
    events.push({ kind: 'transition', time: t0, vm: 'vm1', from: 'parking', to: 'parked', reason: 'parked', depth: 'save', memoryReleasedBytes: 100 << 20, line: ++line });
    events.push({ kind: 'transition', time: t0 + 500, vm: 'vm1', from: 'parked', to: 'waking', reason: 'packet', line: ++line });
    events.push({ kind: 'transition', time: t0 + 501, vm: 'vm1', from: 'waking', to: 'active', reason: 'woken', durationMs: 1 + (i % 997), energySavedJoules: 1, line: ++line });
  }
  const r = buildReport(events);
  t.is(r.wakes, cycles);
  const html = renderHtml(r, { source: 'generated', log: { nonJsonLines: 0, otherRecords: 0 } });
  t.is((html.match(/<svg /g) ?? []).length, 4);
  t.regex(html, /energy saved vs always-on<\/td><td>200 kJ/);
  // Drawn per pixel column, not per event: 600k intervals and 600k points would be tens of MB.
  t.true(html.length < 1_000_000, `page is ${html.length} bytes`);
  t.true((html.match(/<rect class="iv"/g) ?? []).length <= 720 * 6, 'at most a stacked bar per pixel column');
});
