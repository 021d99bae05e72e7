// Fleet overview: what parking is doing and what it is worth, for all VMs.
import type { Panel } from './panels.js';

export const FLEET_UID = 'seamless-fleet';
export const FLEET_TITLE = 'seamless / fleet overview';

export const FLEET_PANELS: readonly Panel[] = [
  {
    kind: 'stat',
    title: 'VMs parked now',
    description: 'VMs in the parked state (seamless_vms).',
    unit: 'short',
    width: 6,
    queries: [{ expr: 'seamless_vms{state="parked"}', legend: 'parked' }],
  },
  {
    kind: 'stat',
    title: 'Memory released now',
    description: 'Memory released by parked VMs, summed: measured per VM (QEMU RSS before the park minus after), see docs/energy.md.',
    unit: 'bytes',
    width: 6,
    queries: [{ expr: 'sum(seamless_memory_released_bytes)', legend: 'released' }],
  },
  {
    kind: 'stat',
    title: 'Energy saved so far',
    description: 'Energy saved by parking, summed over VMs, net of the cost of each park and wake (docs/energy.md).',
    unit: 'joule',
    width: 6,
    queries: [{ expr: 'sum(seamless_energy_saved_joules)', legend: 'saved' }],
  },
  {
    kind: 'stat',
    title: 'Parks that did not pay off',
    description: 'Parks whose idle period was shorter than the break-even time of their depth (they cost more energy than they saved). 0 when none happened.',
    unit: 'short',
    width: 6,
    // Rare-event counter: its series exists only once one happened; show 0, not "No data".
    queries: [{ expr: 'sum(seamless_parks_unprofitable_total) or vector(0)', legend: 'unprofitable' }],
  },
  {
    kind: 'timeseries',
    title: 'VMs per state',
    description: 'How many VMs are in each state of the park machine (unknown, active, parking, parked, waking, wake_failed).',
    unit: 'short',
    width: 12,
    stacked: true,
    queries: [{ expr: 'seamless_vms', legend: '{{state}}' }],
  },
  {
    kind: 'timeseries',
    title: 'Memory released per VM',
    description: 'Memory each parked VM released (0 while it is active).',
    unit: 'bytes',
    width: 12,
    stacked: true,
    queries: [{ expr: 'seamless_memory_released_bytes', legend: '{{vm}}' }],
  },
  {
    kind: 'timeseries',
    title: 'Energy saved per VM',
    description: 'Energy saved so far by parking each VM, net of park and wake costs (can fall when parks do not pay off).',
    unit: 'joule',
    width: 12,
    queries: [{ expr: 'seamless_energy_saved_joules', legend: '{{vm}}' }],
  },
  {
    kind: 'timeseries',
    title: 'Wakes per minute',
    description: 'Wakes completed (waking -> active) per minute, by park depth.',
    unit: 'short',
    width: 12,
    queries: [{ expr: '60 * sum by (depth) (rate(seamless_wakes_total[$__rate_interval]))', legend: '{{depth}}' }],
  },
  {
    kind: 'timeseries',
    title: 'Wake latency p50 / p99 per depth',
    description: 'First packet to VM reachable, from the wake duration histogram (buckets resolve 5 ms pause wakes and 500 ms restores).',
    unit: 's',
    width: 12,
    queries: [
      { expr: 'histogram_quantile(0.5, sum by (le, depth) (rate(seamless_wake_duration_seconds_bucket[$__rate_interval])))', legend: 'p50 {{depth}}' },
      { expr: 'histogram_quantile(0.99, sum by (le, depth) (rate(seamless_wake_duration_seconds_bucket[$__rate_interval])))', legend: 'p99 {{depth}}' },
    ],
  },
  {
    kind: 'timeseries',
    title: 'Parks and unprofitable parks per depth',
    description: 'Parks so far by depth, and those among them that did not pay off (idle shorter than the break-even time).',
    unit: 'short',
    width: 12,
    queries: [
      { expr: 'sum by (depth) (seamless_parks_total)', legend: 'parks {{depth}}' },
      { expr: 'sum by (depth) (seamless_parks_unprofitable_total) or vector(0)', legend: 'did not pay off {{depth}}' },
    ],
  },
  {
    kind: 'timeseries',
    title: 'Park and wake failures',
    description: 'Parks that failed and wakes that gave up (the VM went to wake_failed), per minute. 0 when none happened.',
    unit: 'short',
    width: 24,
    queries: [
      { expr: '60 * sum by (depth) (rate(seamless_park_failures_total[$__rate_interval])) or vector(0)', legend: 'park failed {{depth}}' },
      { expr: '60 * sum by (depth) (rate(seamless_wake_failures_total[$__rate_interval])) or vector(0)', legend: 'wake failed {{depth}}' },
    ],
  },
];
