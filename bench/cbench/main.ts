#!/usr/bin/env node
/**
 * Runs the load generator against a controller that is already listening:
 *   node dist/bench/cbench/main.js --port 6653 [--host 127.0.0.1] [--mode throughput|latency|both]
 *     [--switches 16] [--window 64] [--hosts 1000] [--warmup 3] [--measure 10]
 * Prints one JSON line per mode.
 */
import { parseArgs } from 'node:util';
import { runLatency, runThroughput, type GeneratorOptions } from './generator.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    mode: { type: 'string', default: 'both' },
    switches: { type: 'string', default: '16' },
    window: { type: 'string', default: '64' },
    hosts: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '3' },
    measure: { type: 'string', default: '10' },
  },
});

function int(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`cbench: --${name} must be an integer >= ${min}, got '${v}'\n`);
    process.exit(2);
  }
  return n;
}

const mode = values.mode;
if (mode !== 'throughput' && mode !== 'latency' && mode !== 'both') {
  process.stderr.write(`cbench: --mode must be throughput, latency or both, got '${mode}'\n`);
  process.exit(2);
}
const opts: GeneratorOptions = {
  host: values.host,
  port: int('port', values.port, 1),
  switches: int('switches', values.switches, 1),
  window: int('window', values.window, 1),
  hostsPerSwitch: int('hosts', values.hosts, 2),
  warmupMs: Number(values.warmup) * 1000,
  measureMs: Number(values.measure) * 1000,
  log: (l) => process.stderr.write(`${l}\n`),
};
if (mode !== 'latency') process.stdout.write(`${JSON.stringify({ throughput: await runThroughput(opts) })}\n`);
if (mode !== 'throughput') process.stdout.write(`${JSON.stringify({ latency: await runLatency(opts) })}\n`);
