// The real replay (docs/operations.md#real-replay): one CSV flow trace, time-compressed, replayed
// with tcpreplay into the Mininet testbed against the live controller (`seamless controller`,
// a child process as an operator runs it), and the same compressed trace replayed by the
// simulator (`seamless replay`) with a latency profile measured on this testbed just before.
// The comparison and its stated error: controller/replay/real-compare.ts.
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../../controller/api/client.js';
import { loadInventory } from '../../controller/inventory/index.js';
import type { Inventory } from '../../controller/inventory/types.js';
import {
  activityGaps, ambiguousBand, ambiguousGaps, calibratedProfile, calibrationFrom, compare, fromEngine, measure, parseTransitions,
  type Calibration, type Comparison, type LoggedTransition,
} from '../../controller/replay/real-compare.js';
import { prepareTrace, replay, type TransitionRecord } from '../../controller/replay/engine.js';
import { profileFrom } from '../../controller/replay/profile.js';
import type { PolicyResult } from '../../controller/replay/results.js';
import { readCsvTrace, u32ToIp, type Trace } from '../../controller/replay/trace.js';
import { startControllerChild } from '../../test/support/controller-child.js';
import { run, type Teardown } from '../../test/support/exec.js';
import { DEBIAN_PYTHON, freePort } from '../../test/support/mininet.js';
import { startTestbed, waitFor } from '../../test/support/testbed.js';

// The repository from source (tsx) or from dist/ (npm run replay:real).
const HERE = fileURLToPath(new URL('.', import.meta.url));
const FROM_DIST = !import.meta.url.endsWith('.ts');
const REPO = path.resolve(HERE, FROM_DIST ? '../../..' : '../..');
const TRACE2PCAP = path.join(REPO, 'mininet/trace2pcap.py');

export interface RealReplayOptions {
  /** CSV flow trace (the engine's format, docs/replay.md#traces). */
  readonly trace: string;
  /** Testbed inventory (one switch, its first host sends the trace), e.g. topologies/testbed-replay.yaml. */
  readonly config: string;
  /** Time compression: trace times are divided by this (the inventory's timeouts are already short). */
  readonly scale: number;
  /** Where the compressed trace, pcap, controller log, profile and simulator results go. */
  readonly out: string;
  readonly seed: number;
  /** Operator park/wake cycles per VM before the replay, for the latency profile (default 3). */
  readonly calibrationCycles?: number;
  readonly log?: (line: string) => void;
  /** Registers cleanup (ava's t); without it, cleanup runs at the end of runRealReplay. */
  readonly teardown?: Teardown;
}

export interface RealReplayReport {
  readonly trace: { readonly file: string; readonly scaled: string; readonly flows: number; readonly seconds: number; readonly scale: number };
  readonly calibration: Calibration;
  readonly comparison: Comparison;
  /** Wall-clock seconds of each stage. */
  readonly seconds: Readonly<Record<string, number>>;
}

/** Writes the trace with every time divided by `scale` from its first flow on (the simulator and the pcap read this one file). */
export function writeScaledCsv(t: Trace, scale: number, file: string): void {
  const origin = t.n > 0 ? t.start[0]! : 0;
  const lines = ['start,src,dst,proto,dport,packets,bytes,duration'];
  for (let i = 0; i < t.n; i++) {
    const start = (origin + (t.start[i]! - origin) / scale) / 1000;
    lines.push(`${start.toFixed(6)},${u32ToIp(t.src[i]!)},${u32ToIp(t.dst[i]!)},${t.proto[i]},${t.dport[i] === 0 && t.proto[i] !== 6 && t.proto[i] !== 17 ? '' : t.dport[i]},${t.packets[i]},${t.bytes[i]},${(t.durMs[i]! / scale / 1000).toFixed(6)}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** The poll interval the controller uses for this inventory (docs/parking.md: a quarter of the smallest idle timeout, 250 ms .. 15 s). */
export function pollIntervalOf(inv: Inventory): number {
  if (inv.park.pollIntervalMs !== undefined) return inv.park.pollIntervalMs;
  const min = Math.min(...inv.vms.map((v) => v.idleTimeoutMs));
  return Math.min(15_000, Math.max(250, Math.floor(min / 4)));
}

interface Ctl {
  child: ChildProcess;
  lines: string[];
}

async function startController(config: string, port: number, api: string, logFile: string, cleanups: Array<() => Promise<void>>): Promise<Ctl> {
  const file = createWriteStream(logFile);
  cleanups.push(() => new Promise<void>((r) => file.end(r)));
  const ctl = await startControllerChild({
    args: ['--api', api, '--listen', `127.0.0.1:${port}`, '--config', config, '--log-format', 'json', '--log-level', 'info'],
    cleanups,
    onStderr: (d) => file.write(d),
  });
  return { child: ctl.child, lines: ctl.lines };
}

/**
 * The simulator's run of the same compressed trace and inventory: the replay engine
 * (controller/replay/engine.ts, machine.ts on a virtual clock) with the calibrated profile
 * over the defaults, the inventory's own (fixed) timeouts. Its transitions are measured like
 * the controller's log.
 */
export function simulate(trace: Trace, inv: Inventory, profileDoc: unknown, profileFile: string, seed: number): { result: PolicyResult; transitions: LoggedTransition[] } {
  const profile = profileFrom(profileDoc, profileFile);
  const records: TransitionRecord[] = [];
  const result = replay(prepareTrace(trace, inv), { profile, seed, policy: 'fixed', onTransition: (t) => records.push(t) });
  return { result, transitions: fromEngine(records) };
}

/** Warm-up before the trace, every second: a SYN to each VM's first gateway port (wakes it, keeps it active). */
export const WARMUP_S = 15;
const WARMUP_SRC = '172.31.255.1';

/**
 * The CSV the testbed replays: WARMUP_S seconds of warm-up flows, then the compressed trace.
 * Whatever calibration left behind (a VM parked, waking, idle for a while), every VM is active
 * with a fresh packet when the trace starts, as the simulator starts it.
 */
export function writeReplayedCsv(scaledCsv: string, t: Trace, inv: Inventory, file: string): void {
  const origin = t.n > 0 ? t.start[0]! / 1000 : 0;
  const lines: string[] = ['start,src,dst,proto,dport,packets,bytes,duration'];
  for (let k = WARMUP_S; k >= 1; k--) {
    for (const v of inv.vms) lines.push(`${(origin - k).toFixed(6)},${WARMUP_SRC},${v.ip},6,${v.gatewayPorts[0] ?? 80},1,60,0`);
  }
  const body = readFileSync(scaledCsv, 'utf8').split('\n').slice(1).filter((l) => l !== '');
  writeFileSync(file, `${[...lines, ...body].join('\n')}\n`);
}

/** Runs the whole comparison; see the top of this file. */
export async function runRealReplay(o: RealReplayOptions): Promise<RealReplayReport> {
  const log = o.log ?? (() => undefined);
  const seconds: Record<string, number> = {};
  let t0 = Date.now();
  const lap = (name: string) => {
    seconds[name] = (Date.now() - t0) / 1000;
    t0 = Date.now();
  };
  if (!(o.scale >= 1)) throw new Error(`--scale must be at least 1, got ${o.scale}`);
  mkdirSync(o.out, { recursive: true });
  const inv = await loadInventory(o.config);
  const sender = inv.hosts[0];
  if (sender?.mac === undefined) throw new Error(`${o.config}: the real replay sends from the inventory's first host, and it needs a mac`);

  const original = await readCsvTrace(o.trace);
  const scaled = path.join(o.out, 'trace.csv');
  writeScaledCsv(original, o.scale, scaled);
  const trace = await readCsvTrace(scaled);
  const t0ms = trace.n === 0 ? 0 : trace.start[0]!;
  const span = trace.n === 0 ? 0 : Math.max(...Array.from(trace.start, (s, i) => s + trace.durMs[i]!)) - trace.start[0]!;
  const replayed = path.join(o.out, 'replayed.csv');
  writeReplayedCsv(scaled, trace, inv, replayed);
  const pcap = path.join(o.out, 'trace.pcap');
  const conv = await run(DEBIAN_PYTHON, [TRACE2PCAP, '--csv', replayed, '--out', pcap, '--src-mac', sender.mac, ...inv.vms.flatMap((v) => ['--mac', `${v.ip}=${v.mac}`])], { timeoutMs: 300_000 });
  log(`trace: ${trace.n} flows over ${(span / 1000).toFixed(1)} s after /${o.scale}; pcap ${conv.trim()}`);
  lap('prepare');

  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  };
  o.teardown?.teardown(cleanup);
  let transitions: LoggedTransition[];
  let replayFrom: number;
  let cal: Calibration;
  try {
    const port = await freePort();
    // Testbed first, controller second: the controller must not see (and park) booting guests.
    const tb = await startTestbed({ teardown: (fn) => cleanups.push(fn as () => Promise<void>) }, { inventory: inv, controllerPort: port, waitConnected: false });
    lap('testbed');
    const api = path.join(o.out, 'api.sock');
    const ctl = await startController(o.config, port, api, path.join(o.out, 'controller.jsonl'), cleanups);
    const client = new ApiClient({ kind: 'unix', path: api });
    const state = async (vm: string) => (await client.vm(vm)).state;
    for (const v of inv.vms) await waitFor(`${v.name} active`, async () => ((await state(v.name)) === 'active' ? true : undefined), 120_000, 200);
    log('controller up, VMs active');

    // Calibration: operator park/wake cycles, the same libvirt and guest paths a packet's wake takes.
    // One VM at a time: run side by side, a pause VM's wakes were measured while another VM's
    // managed save or restore held the CPU (27-40 ms, against 20 ms in the replay that followed),
    // a cost the replay's wakes, which rarely coincide, do not pay.
    const calFrom = ctl.lines.length;
    for (const v of inv.vms) {
      for (let c = 0; c < (o.calibrationCycles ?? 3); c++) {
        await client.park(v.name);
        await waitFor(`${v.name} parked`, async () => ((await state(v.name)) === 'parked' ? true : undefined), 60_000, 50);
        await client.wake(v.name);
        await waitFor(`${v.name} active`, async () => ((await state(v.name)) === 'active' ? true : undefined), 60_000, 50);
      }
    }
    cal = calibrationFrom(parseTransitions(ctl.lines.slice(calFrom)), (vm) => inv.vms.find((v) => v.name === vm)?.depth);
    log(`calibration: ${JSON.stringify(cal)}`);
    lap('calibration');

    // The replay: tcpreplay at the pcap's own timing (the compressed trace), preloaded so disk reads do not skew it.
    // The pcap starts WARMUP_S before the trace's first flow.
    const spawned = Date.now();
    replayFrom = spawned + WARMUP_S * 1000;
    await tb.exec(sender.name, 'tcpreplay', ['-q', '--preload-pcap', '-i', tb.hosts[sender.name]!.intf, pcap], WARMUP_S * 1000 + span + 60_000);
    // Whatever the trace's last flows set off (a park after them) has the same chance in both only up to its end.
    const until = replayFrom + span;
    const rest = until + 200 - Date.now();
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    transitions = parseTransitions(ctl.lines).filter((tr) => tr.t >= replayFrom && tr.t < until);
    log(`replayed in ${((Date.now() - replayFrom) / 1000).toFixed(1)} s: ${transitions.length} transitions`);
    lap('replay');
  } finally {
    if (o.teardown === undefined) await cleanup();
  }
  if (o.teardown !== undefined) await cleanup();
  lap('teardown');

  // The profile is kept beside the results: `seamless replay --profile` takes the same file.
  const profileFile = path.join(o.out, 'profile.json');
  const profileDoc = calibratedProfile(cal);
  writeFileSync(profileFile, `${JSON.stringify(profileDoc, null, 2)}\n`);
  const sim = simulate(trace, inv, profileDoc, profileFile, o.seed);
  writeFileSync(path.join(o.out, 'sim.json'), `${JSON.stringify(sim.result, null, 2)}\n`);
  lap('simulate');

  const poll = pollIntervalOf(inv);
  const ambiguous = new Map<string, number[]>();
  for (const v of inv.vms) {
    const parkMax = Math.max(0, ...(cal.parkMs[v.depth] ?? []));
    const wakeMax = Math.max(0, ...(cal.wakeMs[v.depth] ?? []));
    ambiguous.set(v.name, ambiguousGaps(activityGaps(trace, v, t0ms + span), ambiguousBand(v.idleTimeoutMs, poll, parkMax, wakeMax)));
  }
  const names = inv.vms.map((v) => v.name);
  const real = measure(transitions, names, replayFrom, replayFrom + span);
  const simulated = measure(sim.transitions, names, t0ms, t0ms + span);
  const comparison = compare(real, simulated, inv.vms, ambiguous, cal);
  return { trace: { file: o.trace, scaled, flows: trace.n, seconds: span / 1000, scale: o.scale }, calibration: cal, comparison, seconds };
}

/** The repository root this runner belongs to (for defaults such as topologies/testbed-replay.yaml). */
export const REPO_ROOT = REPO;
