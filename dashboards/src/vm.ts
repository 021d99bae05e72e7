// One VM: pick it with the `vm` variable (every VM the controller reports).
import type { Panel } from './panels.js';

export const VM_UID = 'seamless-vm';
export const VM_TITLE = 'seamless / one VM';

/** The variable's query: VM names come from the per-VM state gauge (bounded by the inventory). */
export const VM_VARIABLE_QUERY = 'label_values(seamless_vm_state, vm)';

export const VM_PANELS: readonly Panel[] = [
  {
    kind: 'statetimeline',
    title: 'State timeline',
    description: 'Which state of the park machine the VM is in, over time.',
    unit: 'short',
    width: 24,
    queries: [{ expr: 'seamless_vm_state{vm="$vm"}', legend: '{{state}}' }],
  },
  {
    kind: 'stat',
    title: 'Memory released now',
    description: 'Memory this VM released while parked (0 when active), measured.',
    unit: 'bytes',
    width: 8,
    queries: [{ expr: 'seamless_memory_released_bytes{vm="$vm"}', legend: '{{vm}}' }],
  },
  {
    kind: 'stat',
    title: 'Energy saved so far',
    description: 'Energy saved by parking this VM, net of its park and wake costs.',
    unit: 'joule',
    width: 8,
    queries: [{ expr: 'seamless_energy_saved_joules{vm="$vm"}', legend: '{{vm}}' }],
  },
  {
    kind: 'stat',
    title: 'Parks that did not pay off',
    description: 'Parks of this VM whose idle period was shorter than the break-even time. 0 when none happened.',
    unit: 'short',
    width: 8,
    queries: [{ expr: 'sum(seamless_parks_unprofitable_total{vm="$vm"}) or vector(0)', legend: 'unprofitable' }],
  },
  {
    kind: 'timeseries',
    title: 'Parks and wakes',
    description: 'Parks and completed wakes of this VM so far, by depth (and wake reason: woken, or woken-unconfirmed when the VM was not seen to answer).',
    unit: 'short',
    width: 12,
    queries: [
      { expr: 'sum by (depth) (seamless_parks_total{vm="$vm"})', legend: 'parks {{depth}}' },
      { expr: 'sum by (depth, reason) (seamless_wakes_total{vm="$vm"})', legend: 'wakes {{depth}} {{reason}}' },
    ],
  },
  {
    kind: 'timeseries',
    title: 'Wake latency at this VM\'s depths (fleet histogram)',
    description:
      'p50 / p99 wake duration for the depths this VM has woken from. The histogram is labelled by depth only (the catalogue keeps its label set small), so this is the fleet\'s latency at those depths, not this VM alone.',
    unit: 's',
    width: 12,
    queries: [
      {
        expr: 'histogram_quantile(0.5, sum by (le, depth) (rate(seamless_wake_duration_seconds_bucket[$__rate_interval]))) and on (depth) group by (depth) (seamless_wakes_total{vm="$vm"})',
        legend: 'p50 {{depth}}',
      },
      {
        expr: 'histogram_quantile(0.99, sum by (le, depth) (rate(seamless_wake_duration_seconds_bucket[$__rate_interval]))) and on (depth) group by (depth) (seamless_wakes_total{vm="$vm"})',
        legend: 'p99 {{depth}}',
      },
    ],
  },
  {
    kind: 'timeseries',
    title: 'Held packets',
    description: 'Packets held while this VM woke, and held packets dropped (buffer full or the wake gave up), per minute. Dropped is 0 when none were.',
    unit: 'short',
    width: 24,
    queries: [
      { expr: '60 * sum(rate(seamless_held_packets_total{vm="$vm"}[$__rate_interval]))', legend: 'held' },
      { expr: '60 * sum(rate(seamless_held_dropped_total{vm="$vm"}[$__rate_interval])) or vector(0)', legend: 'dropped' },
    ],
  },
];
