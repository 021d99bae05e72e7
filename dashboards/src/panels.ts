// Small builders over the Grafana foundation SDK: one Prometheus query, and the
// three panel kinds the dashboards use, each bound to the provisioned
// datasource. Every panel is declared with its queries as data first (Panel
// below), so the generator can both build the JSON and list every PromQL
// expression for the tests from the same declaration.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { BigValueGraphMode, ReduceDataOptionsBuilder, StackingConfigBuilder, StackingMode, VisibilityMode } from '@grafana/grafana-foundation-sdk/common';
import { MappingType, type Panel as GrafanaPanel } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanelBuilder } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { DATASOURCE } from './datasource.js';

export interface Query {
  /** PromQL; may use Grafana's `$__rate_interval` and the dashboard's variables (`$vm`). */
  expr: string;
  /** Series name in the legend, e.g. `{{depth}}`. */
  legend: string;
}

export interface Panel {
  kind: 'timeseries' | 'stat' | 'statetimeline';
  title: string;
  description: string;
  /** Grafana unit id (https://grafana.com/docs/grafana/latest/panels-visualizations/configure-standard-options/#unit). */
  unit: string;
  queries: readonly Query[];
  /** Width in grid columns (24 to a row). */
  width: number;
  /** Time series only: stack the series (parts of one whole, e.g. VMs per state). */
  stacked?: boolean;
}

/** Panel height in grid rows: stats are a glance, graphs need room. */
const HEIGHT: Record<Panel['kind'], number> = { stat: 4, timeseries: 8, statetimeline: 8 };

function target(q: Query, i: number): DataqueryBuilder {
  // refIds A, B, ...: Grafana's own convention; a panel has at most a handful.
  return new DataqueryBuilder().datasource(DATASOURCE).expr(q.expr).legendFormat(q.legend).refId(String.fromCharCode(65 + i));
}

/** Lays panels out left to right, wrapping at 24 columns; ids in declaration order (stable output). */
export function buildPanels(panels: readonly Panel[]): cog.Builder<GrafanaPanel>[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return panels.map((p, i) => {
    if (p.width < 1 || p.width > 24) throw new Error(`panel "${p.title}": width ${p.width} is not 1..24 grid columns`);
    if (x + p.width > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const h = HEIGHT[p.kind];
    const gridPos = { x, y, w: p.width, h };
    x += p.width;
    rowHeight = Math.max(rowHeight, h);
    const targets = p.queries.map(target);
    switch (p.kind) {
      case 'timeseries': {
        const b = new TimeseriesPanelBuilder().id(i + 1).title(p.title).description(p.description).datasource(DATASOURCE).unit(p.unit).gridPos(gridPos).targets(targets);
        return p.stacked === true ? b.stacking(new StackingConfigBuilder().mode(StackingMode.Normal)).fillOpacity(30) : b;
      }
      case 'stat':
        return new StatPanelBuilder()
          .id(i + 1)
          .title(p.title)
          .description(p.description)
          .datasource(DATASOURCE)
          .unit(p.unit)
          .gridPos(gridPos)
          .targets(targets)
          .graphMode(BigValueGraphMode.Area)
          .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
      case 'statetimeline':
        // One row per state, value 1 while the VM is in it (seamless_vm_state is 0/1).
        return new StateTimelinePanelBuilder()
          .id(i + 1)
          .title(p.title)
          .description(p.description)
          .datasource(DATASOURCE)
          .unit(p.unit)
          .gridPos(gridPos)
          .targets(targets)
          .showValue(VisibilityMode.Never)
          .mergeValues(true)
          .mappings([
            {
              type: MappingType.ValueToText,
              options: {
                '0': { text: ' ', color: 'transparent', index: 0 },
                '1': { text: 'current', color: 'green', index: 1 },
              },
            },
          ]);
    }
  });
}
