// Public surface of the cbench-style load generator.
export { runThroughput, runLatency, GeneratorError } from './generator.js';
export type { GeneratorOptions, ThroughputResult, LatencyResult } from './generator.js';
