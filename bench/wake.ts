// `npm run bench:wake`: how long a client waits when its first packet hits a
// parked VM. Per depth (pause, save) many cycles of: park the VM (parkNow),
// wait until libvirt says it is parked, open one TCP connection from the client
// and measure first SYN at the switch -> SYN-ACK at the client (tcpdump on the
// client's switch port; the client's own connect() time is the cross-check).
// Beside it, the bare libvirt wake (resume / start from managed save) through
// our adapter on the same VM. The controller runs in this process, with its
// park app, datapath and libvirt adapter wrapped to stamp every wake step.
//
//   npm run bench:wake -- [--pause N] [--reclaim N] [--save N] [--working-set N] [--bare N]
//                         [--memory MiB] [--timeline] [--env testbed|local] [--config topologies/testbed.yaml]
//   env: WAKE_PAUSE, WAKE_RECLAIM, WAKE_SAVE, WAKE_WS, WAKE_BARE, WAKE_ENV (same as the flags)
//
// Depth reclaim (pause + memory pushed into zram) also reports releasedPct: the
// share of the running QEMU's RSS (measured before the first park, a guest
// never reclaimed) the host gets back while parked, its parked footprint being
// RSS + zram's copy of its swapped pages (median over the cycles). `reclaimWorkingSet`: cycles of a reclaim guest
// whose service reads 32 MiB of its RAM per request (GET /cgi-bin/touch), the
// client's HTTP time after the wake vs the same request on the running guest.
//
// --env testbed (default): the Mininet testbed (test/support/testbed.ts) of the
// inventory --config, client h1. --env local: a bridge + netns + 2 guests (no Mininet).
//
// Root; OVS, libvirtd running (mininet/setup.sh). Progress on stdout, the
// LAST line is the JSON result:
// {"pause":{"p50ms":N,"p99ms":N,"lost":N,"bareMs":N},"reclaim":{...,"releasedPct":N},"save":{...},
//  "reclaimWorkingSet":{"cycles":N,"touchMiB":32,"p50ms":N,"p99ms":N,"lost":N,"warmP50ms":N}}
import { parseArgs } from 'node:util';
import { startController, type Controller } from '../controller/daemon.js';
import { createL2App } from '../controller/l2/app.js';
import type { Hypervisor } from '../controller/libvirt/hypervisor.js';
import { connectHypervisor } from '../controller/libvirt/index.js';
import { createLogger } from '../controller/log.js';
import { createParkApp, systemClock, MemoryStateStore, type ParkApp } from '../controller/park/index.js';
import { parkDomain } from '../controller/park/hypervisor.js';
import type { ParkMemory } from '../controller/park/model.js';
import { run } from '../test/support/exec.js';
import { startSynCapture, type SynCapture } from './wake/capture.js';
import type { BenchVm, WakeEnv, WakeEnvPlan } from './wake/env.js';
import { planLocalEnv } from './wake/localEnv.js';
import { planTestbedEnv } from './wake/testbedEnv.js';
import { median, percentile, round1 } from './wake/stats.js';
import { recordApp, recordHypervisor, Recorder, wakeTimeline, type WakeTimeline } from './wake/timeline.js';
import { startTimingClient, type TimingClient } from './wake/timingClient.js';
import { createCleanups } from './support.js';

type Depth = 'pause' | 'reclaim' | 'save';

const { values } = parseArgs({
  options: {
    pause: { type: 'string', default: process.env['WAKE_PAUSE'] ?? '30' },
    save: { type: 'string', default: process.env['WAKE_SAVE'] ?? '15' },
    reclaim: { type: 'string', default: process.env['WAKE_RECLAIM'] ?? '30' },
    'working-set': { type: 'string', default: process.env['WAKE_WS'] ?? '20' },
    bare: { type: 'string', default: process.env['WAKE_BARE'] ?? '5' },
    memory: { type: 'string', default: '128' },
    timeline: { type: 'boolean', default: false },
    env: { type: 'string', default: process.env['WAKE_ENV'] ?? 'testbed' },
    config: { type: 'string', default: 'topologies/testbed.yaml' },
  },
});

function count(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`bench:wake: --${name} must be an integer ${min}..${max}, got '${v}'\n`);
    process.exit(2);
  }
  return n;
}
const cycles: Record<Depth, number> = {
  pause: count('pause', values.pause, 1, 1000),
  reclaim: count('reclaim', values.reclaim, 1, 1000),
  save: count('save', values.save, 1, 1000),
};
const wsCycles = count('working-set', values['working-set'], 1, 1000);
const bareRuns = count('bare', values.bare, 1, 50);
const memoryMiB = count('memory', values.memory, 64, 4096);
if (values.env !== 'testbed' && values.env !== 'local') {
  process.stderr.write(`bench:wake: --env must be testbed or local, got '${values.env}'\n`);
  process.exit(2);
}

/** A client's SYN not answered within 1 s was retransmitted (Linux initial RTO, RFC 6298). */
const LOST_AFTER_MS = 1000;
const CONNECT_TIMEOUT_MS = 8000;

const say = (s: string) => process.stdout.write(`wake: ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, fn: () => T | undefined | Promise<T | undefined>, everyMs = 5): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface Cycle {
  /** SYN at the switch -> SYN-ACK towards the client, ms (tcpdump). */
  wireMs: number | undefined;
  /** The client's connect() time, ms. */
  clientMs: number;
  lost: boolean;
  syns: number;
  timeline: WakeTimeline;
  /** What the park measured (the engine's own figures: RSS, swap, zram). */
  lastPark?: ParkMemory;
}

interface DepthResult {
  p50ms: number;
  p99ms: number;
  lost: number;
  bareMs: number;
  releasedPct?: number;
}

/** The domain state a park at `depth` leaves: paused (pause, reclaim) or shut off with a managed save. */
function isParked(depth: Depth, st: { state: string; hasManagedSave: boolean }): boolean {
  return depth === 'save' ? st.state === 'shutoff' && st.hasManagedSave : st.state === 'paused';
}

const undoAll = createCleanups();
const cleanups = undoAll.list;
let stopping = false;
const cleanup = (): Promise<void> => undoAll.run();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    if (stopping) return;
    stopping = true;
    say(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

/** Connects until the VM answers (warm-up after boot or a bare wake); bounded. */
async function reachable(client: TimingClient, vm: BenchVm, timeoutMs: number): Promise<void> {
  await until(`${vm.name} to accept TCP ${vm.ip}:${vm.port}`, timeoutMs, async () => {
    const a = await client.connect(vm.ip, vm.port, 1000);
    return a.ok ? true : undefined;
  }, 100);
}

/** The bare libvirt wake of `vm` at `depth` through our adapter, `runs` times; the VM is left running. */
async function bareWake(hv: Hypervisor, client: TimingClient, vm: BenchVm, depth: Depth, runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    // Reclaim: the same operations as the engine's park (suspend, then the memory push).
    if (depth === 'save') await hv.managedSave(vm.domain);
    else await parkDomain(hv, vm.domain, depth);
    const st = await hv.getState(vm.domain);
    if (!isParked(depth, st)) {
      throw new Error(`bare ${depth}: ${vm.domain} is ${st.state} (managed save: ${st.hasManagedSave})`);
    }
    const t0 = performance.now();
    if (depth === 'save') await hv.start(vm.domain);
    else await hv.resume(vm.domain);
    out.push(performance.now() - t0);
    await reachable(client, vm, 20_000);
  }
  return out;
}

async function oneCycle(
  park: ParkApp, hv: Hypervisor, rec: Recorder, client: TimingClient, capture: SynCapture, vm: BenchVm, depth: Depth,
): Promise<Cycle> {
  const status = () => park.status().find((s) => s.name === vm.name)!;
  await until(`${vm.name} active`, 30_000, () => (status().phase === 'active' && status().step === 'none' ? true : undefined));
  rec.clear();
  park.parkNow(vm.name);
  await until(`${vm.name} parked`, 60_000, () => (status().phase === 'parked' ? true : undefined)).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}; status ${JSON.stringify(status(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}; marks ${JSON.stringify(rec.marks.slice(0, 60))}`);
  });
  await until(`libvirt to report ${vm.domain} parked`, 10_000, async () => {
    const st = await hv.getState(vm.domain);
    return isParked(depth, st) ? true : undefined;
  });
  const lastPark = status().lastPark;
  await sleep(100); // let the park's last flow_mods and stats settle: a quiet switch, like a real idle VM
  rec.clear();
  const a = await client.connect(vm.ip, vm.port, CONNECT_TIMEOUT_MS);
  const h = a.localPort === undefined ? undefined : await until('tcpdump lines', 1000, () => {
    const x = capture.get(a.localPort!);
    return x?.synAck !== undefined ? x : undefined;
  }).catch(() => capture.get(a.localPort!));
  const syn = h?.syns[0];
  const wireMs = syn !== undefined && h?.synAck !== undefined ? h.synAck - syn : undefined;
  const syns = h?.syns.length ?? 0;
  const lost = !a.ok || a.ms > LOST_AFTER_MS || syns > 1;
  // Wait for the wake to finish (flows in, ACTIVE) before the next park.
  await until(`${vm.name} active after the wake`, 30_000, () => (status().phase === 'active' && status().step === 'none' ? true : undefined));
  const timeline = syn === undefined ? {} : wakeTimeline(rec, syn, depth === 'save' ? 'start' : 'resume', h?.synAck);
  if (!a.ok) say(`  ${vm.name}: connect failed: ${a.error ?? '?'}`);
  return { wireMs, clientMs: a.ms, lost, syns, timeline, ...(lastPark === undefined ? {} : { lastPark }) };
}

const MIB = 2 ** 20;

/** Median RSS before/after, swap and zram's copy over the cycles (MiB), from the engine's measurements. */
function memoryFigures(runs: readonly Cycle[]): Record<string, number> | null {
  const ps = runs.flatMap((c) => (c.lastPark === undefined ? [] : [c.lastPark]));
  if (ps.length === 0) return null;
  const med = (f: (p: ParkMemory) => number) => round1(median(ps.map(f)) / MIB);
  return {
    firstResident: round1(ps[0]!.residentBytes / MIB),
    firstReleased: round1(ps[0]!.releasedBytes / MIB),
    resident: med((p) => p.residentBytes),
    released: med((p) => p.releasedBytes),
    swapped: med((p) => p.swappedBytes ?? 0),
    compressed: med((p) => p.compressedBytes ?? 0),
  };
}

/** One HTTP GET from the client: connect and total time (ms), or a failure. */
async function httpTimes(prefix: readonly string[], url: string): Promise<{ ok: boolean; connectMs: number; totalMs: number }> {
  try {
    const out = await run(prefix[0]!, [...prefix.slice(1), 'curl', '-s', '-o', '/dev/null', '-m', String(CONNECT_TIMEOUT_MS / 1000), '-w', '%{http_code} %{time_connect} %{time_total}', url], { timeoutMs: CONNECT_TIMEOUT_MS + 2000 });
    const [code, c, tot] = out.trim().split(' ');
    return { ok: code === '200', connectMs: Number(c) * 1000, totalMs: Number(tot) * 1000 };
  } catch {
    return { ok: false, connectMs: NaN, totalMs: NaN };
  }
}

/**
 * Cycles of a reclaim guest whose service reads `touchMiB` of its RAM per request:
 * park, then GET /cgi-bin/touch (the wake, and every touched page faulting back
 * from zram), against the same request on the running guest (warm).
 */
async function workingSetCycles(
  park: ParkApp, hv: Hypervisor, client: TimingClient, vm: BenchVm, touchMiB: number, prefix: readonly string[],
): Promise<{ result: Record<string, number>; details: Record<string, unknown> }> {
  const status = () => park.status().find((s) => s.name === vm.name)!;
  const url = `http://${vm.ip}/cgi-bin/touch`;
  await reachable(client, vm, 30_000);
  const warm: number[] = [];
  const cold: number[] = [];
  let lost = 0;
  for (let i = 0; i < wsCycles; i += 1) {
    const w = await httpTimes(prefix, url);
    if (w.ok) warm.push(w.totalMs);
    await until(`${vm.name} active`, 30_000, () => (status().phase === 'active' && status().step === 'none' ? true : undefined));
    park.parkNow(vm.name);
    await until(`${vm.name} parked`, 60_000, () => (status().phase === 'parked' ? true : undefined));
    await until(`libvirt to report ${vm.domain} paused`, 10_000, async () => ((await hv.getState(vm.domain)).state === 'paused' ? true : undefined));
    await sleep(100);
    const c = await httpTimes(prefix, url);
    // A connect slower than the initial RTO means the SYN was retransmitted: lost, as for the other depths.
    if (!c.ok || c.connectMs > LOST_AFTER_MS) lost += 1;
    if (c.ok) cold.push(c.totalMs);
    say(`working set ${i + 1}/${wsCycles}: warm ${w.totalMs.toFixed(1)} ms, after reclaim ${c.totalMs.toFixed(1)} ms (connect ${c.connectMs.toFixed(1)})${c.ok ? '' : ' FAILED'}`);
  }
  const result = {
    cycles: wsCycles,
    touchMiB,
    p50ms: round1(median(cold)),
    p99ms: round1(percentile(cold, 99)),
    lost,
    warmP50ms: round1(median(warm)),
  };
  return { result, details: { coldSamplesMs: cold.map(round1), warmSamplesMs: warm.map(round1) } };
}

function fmtTimeline(tl: WakeTimeline): string {
  return Object.entries(tl).map(([k, v]) => `${k}=${(v as number).toFixed(1)}`).join(' ');
}

async function main(): Promise<void> {
  say(`cycles: pause ${cycles.pause}, reclaim ${cycles.reclaim} (+ ${wsCycles} working-set), save ${cycles.save}; bare runs ${bareRuns}; guest ${memoryMiB} MiB`);
  const plan: WakeEnvPlan = values.env === 'local' ? planLocalEnv(memoryMiB) : await planTestbedEnv(values.config, memoryMiB);
  const rec = new Recorder();
  const log = createLogger({ level: 'warn' });
  const plainHv = await connectHypervisor(plan.uri);
  cleanups.push(() => plainHv.close());
  const parkHv = recordHypervisor(await connectHypervisor(plan.uri), rec);
  const park = createParkApp({
    inventory: plan.inventory,
    hypervisors: () => parkHv,
    clock: systemClock,
    store: new MemoryStateStore(),
    log: log.child({ app: 'park' }),
    onTransition: (t) => rec.mark(`transition ${t.from}->${t.to} ${t.reason}`),
  });
  const ctl: Controller = await startController({
    listen: { host: '127.0.0.1', port: 0 },
    apps: [recordApp(park, rec), createL2App({ log: log.child({ app: 'l2' }) })],
    log,
  });
  cleanups.push(() => ctl.stop());
  await park.ready;
  say(`controller on 127.0.0.1:${ctl.address.port}; starting the ${values.env} environment`);
  const env: WakeEnv = await plan.start(ctl.address.port);
  cleanups.push(() => env.stop());
  say(`environment: ${env.label}`);
  await until('the switch to connect and both VM ports to be known', 30_000, () =>
    park.status().every((s) => s.portNo !== undefined) ? true : undefined, 50);
  say('switch connected, VM ports known');

  const client = await startTimingClient(env.clientPrefix);
  cleanups.push(() => client.stop());
  const result = {} as Record<Depth, DepthResult>;
  const details: Record<string, unknown> = {};
  for (const depth of ['pause', 'reclaim', 'save'] as const) {
    const vm = plan.vms[depth];
    await reachable(client, vm, 30_000);
    // Bare runs are spread among the cycles (one after every `every` cycles) so both
    // see the same machine load: restore time varies 2x with what else runs here.
    const bare: number[] = [];
    const every = Math.max(1, Math.floor(cycles[depth] / bareRuns));
    const bareOnce = async () => {
      const [ms] = await bareWake(plainHv, client, vm, depth, 1);
      bare.push(ms!);
      say(`${depth}: bare ${depth === 'save' ? 'start from managed save' : 'resume'} ${bare.length}/${bareRuns}: ${ms!.toFixed(1)} ms`);
    };

    const capture = await startSynCapture(env.clientSwitchPort, env.clientIp, vm.ip, vm.port);
    cleanups.push(() => capture.stop());
    const runs: Cycle[] = [];
    for (let i = 0; i < cycles[depth]; i += 1) {
      const c = await oneCycle(park, plainHv, rec, client, capture, vm, depth);
      runs.push(c);
      say(
        `${depth} ${i + 1}/${cycles[depth]}: wire ${c.wireMs === undefined ? '?' : c.wireMs.toFixed(1)} ms, client ${c.clientMs.toFixed(1)} ms` +
          `${c.lost ? ` LOST (syns ${c.syns})` : ''}${values.timeline ? ` | ${fmtTimeline(c.timeline)}` : ''}`,
      );
      if (bare.length < bareRuns && (i + 1) % every === 0) await bareOnce();
    }
    while (bare.length < bareRuns) await bareOnce();
    await capture.stop();
    // The wire time when tcpdump saw the handshake, else the client's (an upper bound).
    const lat = runs.map((c) => c.wireMs ?? c.clientMs);
    result[depth] = {
      p50ms: round1(median(lat)),
      p99ms: round1(percentile(lat, 99)),
      lost: runs.filter((c) => c.lost).length,
      bareMs: round1(median(bare)),
    };
    // The running QEMU's RSS is the first park's (a guest never reclaimed: after that most of its
    // memory stays in swap while it runs). Each cycle: the share of it the host does not spend
    // while parked, RSS + zram's copy counted as spent.
    const parks = runs.flatMap((c) => (c.lastPark === undefined ? [] : [c.lastPark]));
    const runningRss = parks[0]?.residentBytes ?? 0;
    const shares = runningRss === 0 ? [] : parks.map((p) => 100 * (1 - (p.residentBytes - p.releasedBytes) / runningRss));
    if (depth === 'reclaim' && shares.length > 0) result[depth].releasedPct = round1(median(shares));
    const med = (k: keyof WakeTimeline) => {
      const xs = runs.map((c) => c.timeline[k]).filter((x): x is number => x !== undefined);
      return xs.length === 0 ? undefined : round1(median(xs));
    };
    const tl: Record<string, number> = {};
    for (const k of ['packetIn', 'libvirtStart', 'libvirtEnd', 'portUp', 'probeAnswered', 'flowsIn', 'heldOut', 'active', 'synAck'] as const) {
      const m = med(k);
      if (m !== undefined) tl[k] = m;
    }
    details[depth] = {
      clientP50ms: round1(median(runs.map((c) => c.clientMs))),
      clientP99ms: round1(percentile(runs.map((c) => c.clientMs), 99)),
      wireSeen: runs.filter((c) => c.wireMs !== undefined).length,
      medianTimelineMs: tl,
      bareSamplesMs: bare.map(round1),
      ...(depth === 'pause' ? {} : { firstReleasedPct: shares[0] === undefined ? null : round1(shares[0]), memoryMiB: memoryFigures(runs) }),
    };
    say(`${depth}: ${JSON.stringify(result[depth])} ${JSON.stringify(details[depth])}`);
  }
  const ws = await workingSetCycles(park, plainHv, client, plan.vms.workingSet, plan.touchMiB, env.clientPrefix);
  details['reclaimWorkingSet'] = ws.details;
  say(`details: ${JSON.stringify(details)}`);
  await cleanup();
  process.stdout.write(`${JSON.stringify({ pause: result.pause, reclaim: result.reclaim, save: result.save, reclaimWorkingSet: ws.result })}\n`);
}

main().then(
  () => process.exit(0),
  async (e: unknown) => {
    process.stderr.write(`bench:wake failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    await cleanup();
    process.exit(1);
  },
);
