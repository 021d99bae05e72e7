// The one Prometheus datasource every panel and variable queries. Its uid is
// the link between the dashboards and provisioning/datasources/prometheus.yaml:
// Grafana resolves a panel's datasource by uid, so a dashboard generated with
// another uid would load with "datasource not found" on every panel.
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

export const DATASOURCE_UID = 'seamless-prometheus';

export const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: DATASOURCE_UID };
