// Controller health: switches, OpenFlow, libvirt and the state store.
import type { Panel } from './panels.js';

export const HEALTH_UID = 'seamless-health';
export const HEALTH_TITLE = 'seamless / controller health';

export const HEALTH_PANELS: readonly Panel[] = [
  {
    kind: 'stat',
    title: 'Switches connected',
    description: 'OpenFlow switches whose connection is UP (handshake done, features known).',
    unit: 'short',
    width: 8,
    queries: [{ expr: 'seamless_switches_connected', legend: 'switches' }],
  },
  {
    kind: 'stat',
    title: 'Store healthy',
    description: '1 when the state store (Redis) is healthy, 0 when it is not.',
    unit: 'bool',
    width: 8,
    queries: [{ expr: 'seamless_store_healthy', legend: 'healthy' }],
  },
  {
    kind: 'stat',
    title: 'Store pending writes',
    description: 'State records written but not yet acknowledged by the store.',
    unit: 'short',
    width: 8,
    queries: [{ expr: 'seamless_store_pending_writes', legend: 'pending' }],
  },
  {
    kind: 'timeseries',
    title: 'Switch disconnects',
    description: 'Switch connections lost per minute, by reason (DisconnectReason). 0 when none happened.',
    unit: 'short',
    width: 12,
    queries: [{ expr: '60 * sum by (reason) (rate(seamless_switch_disconnects_total[$__rate_interval])) or vector(0)', legend: '{{reason}}' }],
  },
  {
    kind: 'timeseries',
    title: 'Echo round trip p50 / p99',
    description: 'OFPT_ECHO_REQUEST to reply, from the echo RTT histogram (OpenFlow 1.3.5 section 7.5.2).',
    unit: 's',
    width: 12,
    queries: [
      { expr: 'histogram_quantile(0.5, sum by (le) (rate(seamless_echo_rtt_seconds_bucket[$__rate_interval])))', legend: 'p50' },
      { expr: 'histogram_quantile(0.99, sum by (le) (rate(seamless_echo_rtt_seconds_bucket[$__rate_interval])))', legend: 'p99' },
    ],
  },
  {
    kind: 'timeseries',
    title: 'OpenFlow errors',
    description: 'OFPT_ERROR messages received from switches per minute, by numeric type/code (OpenFlow 1.3.5 section 7.4.4). 0 when none arrived.',
    unit: 'short',
    width: 12,
    queries: [{ expr: '60 * sum by (type, code) (rate(seamless_openflow_errors_total[$__rate_interval])) or vector(0)', legend: 'type {{type}} code {{code}}' }],
  },
  {
    kind: 'timeseries',
    title: 'Packet-ins by verdict',
    description: 'Packet-ins per second by what the controller did with them (ARP/ICMP answered for a parked VM, held for a wake, ignored, L2 learning).',
    unit: 'pps',
    width: 12,
    queries: [{ expr: 'sum by (verdict) (rate(seamless_packet_ins_total[$__rate_interval]))', legend: '{{verdict}}' }],
  },
  {
    kind: 'timeseries',
    title: 'libvirt latency p50 / p99 by operation',
    description: 'Duration of libvirt operations (park, wake, read_state).',
    unit: 's',
    width: 12,
    queries: [
      { expr: 'histogram_quantile(0.5, sum by (le, op) (rate(seamless_libvirt_operation_duration_seconds_bucket[$__rate_interval])))', legend: 'p50 {{op}}' },
      { expr: 'histogram_quantile(0.99, sum by (le, op) (rate(seamless_libvirt_operation_duration_seconds_bucket[$__rate_interval])))', legend: 'p99 {{op}}' },
    ],
  },
  {
    kind: 'timeseries',
    title: 'libvirt errors',
    description: 'Failed libvirt operations per minute, by operation and LibvirtError code. 0 when none failed.',
    unit: 'short',
    width: 12,
    queries: [{ expr: '60 * sum by (op, code) (rate(seamless_libvirt_operation_errors_total[$__rate_interval])) or vector(0)', legend: '{{op}} {{code}}' }],
  },
];
