// The dashboards generator: builds the three seamless dashboards with the
// Grafana foundation SDK and renders them as stable JSON (keys sorted at every
// level, two-space indent, trailing newline), so regenerating gives the same
// bytes and a diff of dashboards/*.json shows only real changes.
import { DashboardBuilder, DashboardCursorSync, QueryVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { DATASOURCE } from './datasource.js';
import { FLEET_PANELS, FLEET_TITLE, FLEET_UID } from './fleet.js';
import { HEALTH_PANELS, HEALTH_TITLE, HEALTH_UID } from './health.js';
import { buildPanels, type Panel } from './panels.js';
import { VM_PANELS, VM_TITLE, VM_UID, VM_VARIABLE_QUERY } from './vm.js';

export { DATASOURCE, DATASOURCE_UID } from './datasource.js';
export { CATALOGUE, metricsOf, type MetricName } from './catalogue.js';
export { VM_VARIABLE_QUERY } from './vm.js';

interface DashboardSpec {
  /** File name under dashboards/. */
  file: string;
  uid: string;
  title: string;
  description: string;
  panels: readonly Panel[];
  /** Has the `vm` template variable. */
  perVm: boolean;
}

const SPECS: readonly DashboardSpec[] = [
  { file: 'fleet-overview.json', uid: FLEET_UID, title: FLEET_TITLE, description: 'What parking does and what it saves, for all VMs.', panels: FLEET_PANELS, perVm: false },
  { file: 'one-vm.json', uid: VM_UID, title: VM_TITLE, description: 'One VM: its states, parks, wakes and held packets.', panels: VM_PANELS, perVm: true },
  { file: 'controller-health.json', uid: HEALTH_UID, title: HEALTH_TITLE, description: 'Switches, OpenFlow errors, libvirt and the state store.', panels: HEALTH_PANELS, perVm: false },
];

function build(spec: DashboardSpec): unknown {
  const b = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['seamless', 'generated'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('10s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser');
  if (spec.perVm) {
    b.withVariable(
      new QueryVariableBuilder('vm')
        .label('VM')
        .description('A VM of the inventory, as the controller reports it.')
        .datasource(DATASOURCE)
        .query({ query: VM_VARIABLE_QUERY, refId: 'vm' })
        .definition(VM_VARIABLE_QUERY)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc),
    );
  }
  for (const p of buildPanels(spec.panels)) b.withPanel(p);
  return b.build();
}

/** JSON with object keys sorted at every level (arrays keep their order): the on-disk format. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

/** Every dashboard as file name -> file content, in a fixed order. */
export function renderDashboards(): Array<{ file: string; content: string }> {
  return SPECS.map((s) => ({ file: s.file, content: stableJson(build(s)) }));
}

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  /** PromQL as stored in the dashboard (Grafana variables unexpanded). */
  expr: string;
}

/** Every PromQL expression of every panel (and of the `vm` variable's source metric), with where it is shown. */
export function dashboardQueries(): DashboardQuery[] {
  return SPECS.flatMap((s) => s.panels.flatMap((p) => p.queries.map((q) => ({ dashboard: s.title, panel: p.title, expr: q.expr }))));
}

/**
 * An expression as Grafana would send it to Prometheus: `$__rate_interval`
 * becomes `rateInterval` (Grafana computes it from the scrape interval and the
 * panel's resolution), and `$name` the variable's value. Throws on a variable
 * it cannot expand, naming it: such a query would fail in Grafana too.
 */
export function expandForPrometheus(expr: string, vars: Readonly<Record<string, string>>, rateInterval = '1m'): string {
  const out = expr.replaceAll('$__rate_interval', rateInterval).replace(/\$([A-Za-z_]\w*)/g, (_, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`query ${JSON.stringify(expr)}: no value for Grafana variable $${name}`);
    return v;
  });
  return out;
}
