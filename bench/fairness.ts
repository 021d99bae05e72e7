#!/usr/bin/env node
/**
 * `npm run bench:fairness`: does one switch's packet-in flood starve another
 * switch? While switch A keeps 100,000 packet-ins outstanding, a fresh switch B
 * connects; we measure B's handshake (TCP connect to the L2 table-miss
 * FLOW_MOD, which the L2 app sends after its first barrier completes) and the
 * round trip of barriers the controller sends to B.
 *
 * The controller (L2 app, as `seamless controller` runs it) lives in this
 * process, so barrier round trips are timed where apps see them; both switches
 * are the raw-bytes generator of bench/cbench in a child process (one core
 * each). Each run is made twice: `before` with messagesPerTurn unbounded (every
 * frame of a TCP chunk handled at once, the behaviour before the per-turn
 * budget) and `after` with the default budget. The LAST stdout line is the result:
 *   {"before":{"handshakeMs":N,"barrierP50Ms":N,"barrierMaxMs":N,...},"after":{...}}
 *
 * Knobs (environment): BENCH_FLOOD_WINDOW (100000 packet-ins outstanding),
 * BENCH_BARRIERS (20), BENCH_ROUNDS (1: before/after pairs, alternating).
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startController } from '../controller/daemon.js';
import { createL2App } from '../controller/l2/app.js';
import { silentLogger } from '../controller/log.js';
import { DEFAULT_MESSAGES_PER_TURN } from '../controller/switch/connection.js';
import { FakeSwitch } from './cbench/switch.js';

const FLOOD_DPID = 0x5ea1_fa00_0000_0001n;
const FRESH_DPID = 0x5ea1_fa00_0000_0002n;

function out(line: string): void {
  process.stdout.write(`[fairness] ${line}\n`);
}

function envInt(name: string, dflt: number, min: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

function switchOpts(port: number, index: number, dpid: bigint): Parameters<typeof FakeSwitch.connect>[0] {
  return { host: '127.0.0.1', port, index, dpid, hosts: 1000, silentHosts: 125, floodEvery: 8, ports: 4 };
}

/** Polls `cond` every millisecond (the measured times are tens of ms to seconds). */
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(1);
  }
}

/**
 * The child: switch A floods, then switch B connects and reports its handshake
 * time; both stay until stdin closes, then A's rate is reported.
 */
async function load(port: number, window: number): Promise<void> {
  const a = await FakeSwitch.connect(switchOpts(port, 0, FLOOD_DPID));
  await a.handshake(15_000, true);
  await a.probe(15_000);
  a.startWindow(window);
  // Let the flood build up in the controller's socket before B arrives.
  await sleep(1000);
  const po0 = a.counters.packetOuts;
  const t0 = performance.now();
  const b = await FakeSwitch.connect(switchOpts(port, 1, FRESH_DPID));
  await until(() => b.counters.flowMods > 0, 60_000, 'the fresh switch\'s table-miss FLOW_MOD');
  const handshakeMs = performance.now() - t0;
  process.stdout.write(`${JSON.stringify({ handshakeMs })}\n`);
  await new Promise<void>((resolve) => {
    process.stdin.on('data', () => {});
    process.stdin.once('end', () => resolve());
  });
  const seconds = (performance.now() - t0) / 1000;
  a.stop();
  const failure = a.failure ?? b.failure;
  process.stdout.write(`${JSON.stringify({ floodAnsweredPerSec: Math.round((a.counters.packetOuts - po0) / seconds), failure: failure?.message ?? null })}\n`);
  await Promise.all([a.close(), b.close()]);
}

export interface FairnessResult {
  readonly messagesPerTurn: number | 'unbounded';
  /** Fresh switch: TCP connect to its table-miss FLOW_MOD (handshake + L2 switchUp with one barrier). */
  readonly handshakeMs: number;
  readonly barrierP50Ms: number;
  readonly barrierMaxMs: number;
  readonly barriers: number;
  /** Packet-ins of the flooding switch answered per second meanwhile (the flood is still served). */
  readonly floodAnsweredPerSec: number;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

async function runOnce(messagesPerTurn: number, window: number, barriers: number): Promise<FairnessResult> {
  const ctl = await startController({
    listen: { host: '127.0.0.1', port: 0 },
    apps: [createL2App({ log: silentLogger })],
    log: silentLogger,
    messagesPerTurn,
  });
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--load', String(ctl.address.port), String(window)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const next = (): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`load generator exited (${code}) early`));
      child.once('exit', onExit);
      lines.once('line', (l) => {
        child.off('exit', onExit);
        resolve(JSON.parse(l) as Record<string, unknown>);
      });
    });
  try {
    const hs = next();
    const dp = await ctl.waitForSwitch(FRESH_DPID, { timeoutMs: 60_000 });
    const { handshakeMs } = (await hs) as { handshakeMs: number };
    const rtts: number[] = [];
    for (let i = 0; i < barriers; i += 1) {
      const t = performance.now();
      await dp.barrier({ timeoutMs: 60_000 });
      rtts.push(performance.now() - t);
    }
    const done = next();
    child.stdin!.end();
    const { floodAnsweredPerSec, failure } = (await done) as { floodAnsweredPerSec: number; failure: string | null };
    if (failure !== null) throw new Error(`a generator switch failed: ${failure}`);
    rtts.sort((x, y) => x - y);
    return {
      messagesPerTurn: messagesPerTurn === Number.MAX_SAFE_INTEGER ? 'unbounded' : messagesPerTurn,
      handshakeMs: round1(handshakeMs),
      barrierP50Ms: round1(rtts[Math.floor((rtts.length - 1) / 2)]!),
      barrierMaxMs: round1(rtts[rtts.length - 1]!),
      barriers: rtts.length,
      floodAnsweredPerSec,
    };
  } finally {
    child.kill('SIGTERM');
    await ctl.stop();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--load') {
    await load(Number(process.argv[3]), Number(process.argv[4]));
    return;
  }
  const window = envInt('BENCH_FLOOD_WINDOW', 100_000, 1);
  const barriers = envInt('BENCH_BARRIERS', 20, 1);
  const rounds = envInt('BENCH_ROUNDS', 1, 1);
  out(`flood: ${window} packet-ins outstanding; ${barriers} barriers to the fresh switch; ${rounds} round(s)`);
  const before: FairnessResult[] = [];
  const after: FairnessResult[] = [];
  for (let r = 0; r < rounds; r += 1) {
    before.push(await runOnce(Number.MAX_SAFE_INTEGER, window, barriers));
    out(`before: ${JSON.stringify(before.at(-1))}`);
    after.push(await runOnce(DEFAULT_MESSAGES_PER_TURN, window, barriers));
    out(`after: ${JSON.stringify(after.at(-1))}`);
  }
  const pick = (xs: FairnessResult[]): FairnessResult | FairnessResult[] => (xs.length === 1 ? xs[0]! : xs);
  process.stdout.write(`${JSON.stringify({ before: pick(before), after: pick(after) })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:fairness: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
