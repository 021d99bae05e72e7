// The committed dashboards are exactly what the generator writes, and every
// panel is wired to the provisioned datasource with queries that name only
// catalogue metrics. (Whether Prometheus accepts each expression is
// test/integration/dashboards-promql.test.ts.)
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CATALOGUE, DATASOURCE_UID, dashboardQueries, expandForPrometheus, metricsOf, renderDashboards, stableJson } from '../../../dashboards/src/index.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DIR = path.join(REPO, 'dashboards');

interface Target {
  datasource?: { type?: string; uid?: string };
  expr?: string;
}
interface PanelJson {
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
}
interface DashboardJson {
  uid: string;
  title: string;
  panels: PanelJson[];
  templating?: { list: Array<{ name: string; datasource?: { uid?: string }; query?: unknown }> };
}

function committed(): Map<string, string> {
  return new Map(
    readdirSync(DIR)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => [f, readFileSync(path.join(DIR, f), 'utf8')]),
  );
}

const dashboards = (): Array<[string, DashboardJson]> => [...committed()].map(([f, s]) => [f, JSON.parse(s) as DashboardJson]);

test('npm run dashboards into a temp dir writes byte-identical copies of the committed files, and no others', (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'seamless-dashboards-'));
  try {
    // The real entry point, as `npm run dashboards -- DIR` runs it.
    execFileSync(process.execPath, ['--import=tsx', path.join(DIR, 'src/main.ts'), out], { cwd: REPO, stdio: 'pipe' });
    const fresh = new Map(readdirSync(out).sort().map((f) => [f, readFileSync(path.join(out, f), 'utf8')]));
    t.deepEqual([...committed().keys()], [...fresh.keys()], 'the same set of dashboard files');
    for (const [file, content] of fresh) t.is(committed().get(file), content, `${file} differs from the generator's output: run npm run dashboards and commit`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the generator is deterministic and its output is stable JSON with a trailing newline', (t) => {
  const a = renderDashboards();
  const b = renderDashboards();
  t.deepEqual(a, b);
  for (const { file, content } of a) {
    t.true(content.endsWith('}\n'), `${file} ends with one newline`);
    t.is(stableJson(JSON.parse(content)), content, `${file} has sorted keys`);
  }
});

test('stableJson sorts keys at every level and keeps array order', (t) => {
  t.is(stableJson({ b: 1, a: [{ d: 1, c: 2 }, 3] }), '{\n  "a": [\n    {\n      "c": 2,\n      "d": 1\n    },\n    3\n  ],\n  "b": 1\n}\n');
});

test('the provisioned datasource has the uid every dashboard uses, and the provider loads files', (t) => {
  const ds = parse(readFileSync(path.join(DIR, 'provisioning/datasources/prometheus.yaml'), 'utf8')) as { datasources: Array<{ uid: string; type: string }> };
  t.deepEqual(
    ds.datasources.map((d) => [d.uid, d.type]),
    [[DATASOURCE_UID, 'prometheus']],
  );
  const prov = parse(readFileSync(path.join(DIR, 'provisioning/dashboards/seamless.yaml'), 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> };
  t.is(prov.providers.length, 1);
  t.is(prov.providers[0]!.type, 'file');
  t.truthy(prov.providers[0]!.options.path);
});

test('every panel has a title and targets, and every target and variable uses the provisioned datasource', (t) => {
  const ds = parse(readFileSync(path.join(DIR, 'provisioning/datasources/prometheus.yaml'), 'utf8')) as { datasources: Array<{ uid: string }> };
  const uid = ds.datasources[0]!.uid;
  const files = dashboards();
  t.is(files.length, 3, 'fleet overview, one VM, controller health');
  const problems: string[] = [];
  for (const [file, d] of files) {
    if (d.panels.length === 0) problems.push(`${file}: no panels`);
    d.panels.forEach((p, i) => {
      const where = `${file} panel ${i} "${p.title ?? ''}"`;
      if (typeof p.title !== 'string' || p.title.trim() === '') problems.push(`${where}: no title`);
      if (p.datasource?.uid !== uid) problems.push(`${where}: panel datasource uid ${String(p.datasource?.uid)}, provisioned ${uid}`);
      if (p.targets === undefined || p.targets.length === 0) problems.push(`${where}: no targets`);
      for (const tg of p.targets ?? []) {
        if (tg.datasource?.uid !== uid) problems.push(`${where}: target datasource uid ${String(tg.datasource?.uid)}, provisioned ${uid}`);
        if (typeof tg.expr !== 'string' || tg.expr.trim() === '') problems.push(`${where}: target without an expression`);
      }
    });
    for (const v of d.templating?.list ?? []) if (v.datasource?.uid !== uid) problems.push(`${file} variable ${v.name}: datasource uid ${String(v.datasource?.uid)}`);
  }
  t.deepEqual(problems, []);
});

test('the one-VM dashboard has the vm variable from label_values(seamless_vm_state, vm) and every query of it filters on $vm', (t) => {
  const vm = dashboards().find(([f]) => f === 'one-vm.json')![1];
  const v = vm.templating?.list.find((x) => x.name === 'vm');
  t.truthy(v, 'a variable named vm');
  t.deepEqual(v!.query, { query: 'label_values(seamless_vm_state, vm)', refId: 'vm' });
  for (const p of vm.panels) for (const tg of p.targets ?? []) t.true(tg.expr!.includes('vm="$vm"'), `"${p.title}": ${tg.expr}`);
});

test('dashboardQueries lists exactly the expressions in the committed JSON, with their panel titles', (t) => {
  const inJson = dashboards().flatMap(([, d]) => d.panels.flatMap((p) => (p.targets ?? []).map((tg) => ({ dashboard: d.title, panel: p.title!, expr: tg.expr! }))));
  const key = (q: { dashboard: string; panel: string; expr: string }) => JSON.stringify([q.dashboard, q.panel, q.expr]);
  t.deepEqual(dashboardQueries().map(key).sort(), inJson.map(key).sort());
  t.true(inJson.length >= 20);
});

test('every query names only catalogue metrics, and the dashboards cover the catalogue the issue asks them to show', (t) => {
  const unknown = dashboardQueries().flatMap((q) => metricsOf(q.expr).filter((m) => !(m in CATALOGUE)).map((m) => `${q.dashboard} / ${q.panel}: ${m}`));
  t.deepEqual(unknown, []);
  const used = new Set(dashboardQueries().flatMap((q) => metricsOf(q.expr)));
  // Everything but the raw transition counter (its vm x from x to x reason series are for ad-hoc queries).
  const unused = Object.keys(CATALOGUE).filter((m) => !used.has(m));
  t.deepEqual(unused, ['seamless_transitions_total']);
});

test('metricsOf maps histogram series to their metric and keeps unknown names for the report', (t) => {
  t.deepEqual(metricsOf('histogram_quantile(0.5, sum by (le) (rate(seamless_wake_duration_seconds_bucket[1m]))) and seamless_vms'), ['seamless_vms', 'seamless_wake_duration_seconds']);
  t.deepEqual(metricsOf('seamless_vms_bucket + seamless_nope_total'), ['seamless_nope_total', 'seamless_vms_bucket']);
});

test('expandForPrometheus substitutes $__rate_interval and variables, and names a variable it cannot expand', (t) => {
  t.is(expandForPrometheus('rate(seamless_wakes_total{vm="$vm"}[$__rate_interval])', { vm: 'vm1' }, '30s'), 'rate(seamless_wakes_total{vm="vm1"}[30s])');
  t.throws(() => expandForPrometheus('seamless_vm_state{vm="$vm"}', {}), { message: /\$vm/ });
});
