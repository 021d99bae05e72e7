// `npm run bench:wake`: how long a client waits when its first packet hits a
// parked VM. Per depth (pause, save) many cycles of: park the VM (parkNow),
// wait until libvirt says it is parked, open one TCP connection from the client
// and measure first SYN at the switch -> SYN-ACK at the client (tcpdump on the
// client's switch port; the client's own connect() time is the cross-check).
// Beside it, the bare libvirt wake (resume / start from managed save) through
// our adapter on the same VM. The controller runs in this process, with its
// park app, datapath and libvirt adapter wrapped to stamp every wake step.
//
//   npm run bench:wake -- [--pause N] [--save N] [--bare N] [--memory MiB] [--timeline]
//                         [--env testbed|local] [--config topologies/testbed.yaml]
//   env: WAKE_PAUSE, WAKE_SAVE, WAKE_BARE, WAKE_ENV (same as the flags)
//
// --env testbed (default): the Mininet testbed (test/support/testbed.ts) of the
// inventory --config, client h1. --env local: a bridge + netns + 2 guests (no Mininet).
//
// Root; OVS, libvirtd running (mininet/setup.sh). Progress on stdout, the
// LAST line is the JSON result:
// {"pause":{"p50ms":N,"p99ms":N,"lost":N,"bareMs":N},"save":{...}}
import { parseArgs } from 'node:util';
import { startController, type Controller } from '../controller/daemon.js';
import { createL2App } from '../controller/l2/app.js';
import type { Hypervisor } from '../controller/libvirt/hypervisor.js';
import { connectHypervisor } from '../controller/libvirt/index.js';
import { createLogger } from '../controller/log.js';
import { createParkApp, systemClock, MemoryStateStore, type ParkApp } from '../controller/park/index.js';
import { startSynCapture, type SynCapture } from './wake/capture.js';
import type { BenchVm, WakeEnv, WakeEnvPlan } from './wake/env.js';
import { planLocalEnv } from './wake/localEnv.js';
import { planTestbedEnv } from './wake/testbedEnv.js';
import { median, percentile, round1 } from './wake/stats.js';
import { recordApp, recordHypervisor, Recorder, wakeTimeline, type WakeTimeline } from './wake/timeline.js';
import { startTimingClient, type TimingClient } from './wake/timingClient.js';

type Depth = 'pause' | 'save';

const { values } = parseArgs({
  options: {
    pause: { type: 'string', default: process.env['WAKE_PAUSE'] ?? '30' },
    save: { type: 'string', default: process.env['WAKE_SAVE'] ?? '15' },
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
const cycles: Record<Depth, number> = { pause: count('pause', values.pause, 1, 1000), save: count('save', values.save, 1, 1000) };
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
}

interface DepthResult {
  p50ms: number;
  p99ms: number;
  lost: number;
  bareMs: number;
}

const cleanups: Array<() => unknown> = [];
let stopping = false;
async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch (e) {
      process.stderr.write(`cleanup: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
}
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
    if (depth === 'pause') await hv.suspend(vm.domain);
    else await hv.managedSave(vm.domain);
    const st = await hv.getState(vm.domain);
    if (depth === 'pause' ? st.state !== 'paused' : st.state !== 'shutoff' || !st.hasManagedSave) {
      throw new Error(`bare ${depth}: ${vm.domain} is ${st.state} (managed save: ${st.hasManagedSave})`);
    }
    const t0 = performance.now();
    if (depth === 'pause') await hv.resume(vm.domain);
    else await hv.start(vm.domain);
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
    return (depth === 'pause' ? st.state === 'paused' : st.state === 'shutoff' && st.hasManagedSave) ? true : undefined;
  });
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
  const timeline = syn === undefined ? {} : wakeTimeline(rec, syn, depth === 'pause' ? 'resume' : 'start', h?.synAck);
  if (!a.ok) say(`  ${vm.name}: connect failed: ${a.error ?? '?'}`);
  return { wireMs, clientMs: a.ms, lost, syns, timeline };
}

function fmtTimeline(tl: WakeTimeline): string {
  return Object.entries(tl).map(([k, v]) => `${k}=${(v as number).toFixed(1)}`).join(' ');
}

async function main(): Promise<void> {
  say(`cycles: pause ${cycles.pause}, save ${cycles.save}; bare runs ${bareRuns}; guest ${memoryMiB} MiB`);
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
  for (const depth of ['pause', 'save'] as const) {
    const vm = plan.vms[depth];
    await reachable(client, vm, 30_000);
    // Bare runs are spread among the cycles (one after every `every` cycles) so both
    // see the same machine load: restore time varies 2x with what else runs here.
    const bare: number[] = [];
    const every = Math.max(1, Math.floor(cycles[depth] / bareRuns));
    const bareOnce = async () => {
      const [ms] = await bareWake(plainHv, client, vm, depth, 1);
      bare.push(ms!);
      say(`${depth}: bare ${depth === 'pause' ? 'resume' : 'start from managed save'} ${bare.length}/${bareRuns}: ${ms!.toFixed(1)} ms`);
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
    };
    say(`${depth}: ${JSON.stringify(result[depth])} ${JSON.stringify(details[depth])}`);
  }
  say(`details: ${JSON.stringify(details)}`);
  await cleanup();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  async (e: unknown) => {
    process.stderr.write(`bench:wake failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    await cleanup();
    process.exit(1);
  },
);
