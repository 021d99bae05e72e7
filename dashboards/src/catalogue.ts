// The metric catalogue shared with the metrics and energy work (issue 9): the
// only names a dashboard may query. Kept here as data so a unit test can check
// every panel against it before any Prometheus is involved (a typo in a metric
// name is otherwise an empty panel, not an error).

export type MetricType = 'gauge' | 'counter' | 'histogram';

export const CATALOGUE = {
  seamless_vms: 'gauge',
  seamless_vm_state: 'gauge',
  seamless_transitions_total: 'counter',
  seamless_parks_total: 'counter',
  seamless_wakes_total: 'counter',
  seamless_park_failures_total: 'counter',
  seamless_wake_failures_total: 'counter',
  seamless_wake_duration_seconds: 'histogram',
  seamless_held_packets_total: 'counter',
  seamless_held_dropped_total: 'counter',
  seamless_packet_ins_total: 'counter',
  seamless_libvirt_operation_duration_seconds: 'histogram',
  seamless_libvirt_operation_errors_total: 'counter',
  seamless_openflow_errors_total: 'counter',
  seamless_switches_connected: 'gauge',
  seamless_switch_disconnects_total: 'counter',
  seamless_echo_rtt_seconds: 'histogram',
  seamless_store_healthy: 'gauge',
  seamless_store_pending_writes: 'gauge',
  seamless_memory_released_bytes: 'gauge',
  seamless_energy_saved_joules: 'gauge',
  seamless_parks_unprofitable_total: 'counter',
} as const satisfies Record<string, MetricType>;

export type MetricName = keyof typeof CATALOGUE;

const HISTOGRAM_SERIES = /^(.*)_(bucket|sum|count)$/;

/**
 * The catalogue metrics an expression names, e.g. `seamless_wake_duration_seconds`
 * for `..._bucket` (a histogram's series carry suffixes; the metric is the base name).
 * Names that are not in the catalogue come back as they are, so a caller can report them.
 */
export function metricsOf(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\bseamless_[a-z0-9_]+/g)) {
    const name = m[0];
    const base = HISTOGRAM_SERIES.exec(name)?.[1];
    names.add(base !== undefined && (CATALOGUE as Record<string, MetricType>)[base] === 'histogram' ? base : name);
  }
  return [...names].sort();
}
