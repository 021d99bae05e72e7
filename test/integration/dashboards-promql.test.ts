// Every PromQL expression of every dashboard panel parses and evaluates in a
// real Prometheus (Debian's, its own config and data dir on a free loopback
// port). Nothing is scraped here, so results are empty: this pins the syntax
// and the functions used; test/pending/dashboards-prometheus.test.ts (with the
// metrics) pins that each expression returns data from a live controller.
import test from 'ava';
import { dashboardQueries, expandForPrometheus } from '../../dashboards/src/index.js';
import { startPrometheus } from '../support/prometheus.js';

test('Prometheus accepts every dashboard expression (Grafana variables expanded as Grafana would)', async (t) => {
  const prom = await startPrometheus(t);
  const queries = dashboardQueries();
  t.true(queries.length >= 20, `${queries.length} expressions`);
  const rejected: string[] = [];
  for (const q of queries) {
    const expr = expandForPrometheus(q.expr, { vm: 'vm1' }, '1m');
    const r = await prom.query(expr);
    if (!r.ok) rejected.push(`${q.dashboard} / ${q.panel}: ${expr}\n  ${r.errorType}: ${r.error}`);
  }
  t.deepEqual(rejected, [], rejected.join('\n'));
});

test('the same check rejects an expression Prometheus cannot parse, naming the error', async (t) => {
  // Guards the test above against a harness that reports success for anything.
  const prom = await startPrometheus(t);
  const r = await prom.query('sum by (depth) (rate(seamless_wakes_total[1m])');
  t.false(r.ok);
  if (!r.ok) {
    t.is(r.errorType, 'bad_data');
    t.regex(r.error, /parse error/);
  }
  const ok = await prom.query('sum by (depth) (rate(seamless_wakes_total[1m]))');
  t.true(ok.ok);
});
