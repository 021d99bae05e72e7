// Prometheus metrics of the controller (docs/operations.md, "Metrics").
export { SeamlessMetrics, type MetricsOptions, type MetricsSources } from './metrics.js';
export { zeroEconomics, type VmEconomics } from './economics.js';
export { parseMetricsAddress, serveMetrics, MetricsAddressError, type MetricsAddress, type MetricsServer } from './server.js';
export { PHASES, DEPTHS, VERDICTS, LIBVIRT_OPS, DISCONNECT_REASONS, WAKE_BUCKETS, type PacketVerdict } from './catalogue.js';
