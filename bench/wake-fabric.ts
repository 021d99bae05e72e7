// `npm run bench:wake-fabric`: does the fabric cost a parked VM's client anything?
// Wake latency of a pause VM over N cycles on two testbeds, side by side in one run,
// measured the same way on both:
//   single: the one-switch testbed (topologies/testbed.yaml), `seamless controller
//           --config`, client h1 on the VM's own switch s1, libvirt over TLS as on
//           the fabric (so the two differ by the network alone);
//   fabric: the leaf-spine testbed (topologies/fabric-testbed.yaml), `seamless
//           controller --fabric --config`, client h1 on leaf s5, the VM on leaf s3
//           (two hops: s5 -> spine -> s3), libvirt over TLS.
// Each cycle parks vm1 through the control API (POST /v1/vms/vm1/park), waits until
// libvirt says paused, opens one TCP connection to port 80 from h1 and measures
// the first SYN at h1's switch port -> the SYN-ACK leaving towards h1 (tcpdump,
// bench/wake/capture.ts); h1's own connect() time is the cross-check, and a
// retransmitted SYN counts the cycle as lost. Then re-convergence after a spine
// link cut: bench/reconverge.ts, run as it is (its own leaf-spine Mininet).
//
//   npm run bench:wake-fabric -- [--cycles N] [--trials N]   (env WAKE_FABRIC_CYCLES, RECONVERGE_TRIALS)
//
// Root; OVS, libvirtd with TLS (mininet/setup.sh). Progress on stdout, the LAST
// line is the JSON result:
// {"bench":"wake-fabric","cycles":N,"single":{"p50ms":..,"p99ms":..,"lost":..},"fabric":{...},
//  "fabricMinusSingleP50ms":..,"reconverge":{"outageMs":{...},"lossRunMs":{...},...}}
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import type { LinksView } from '../controller/api/types.js';
import { loadInventory } from '../controller/inventory/index.js';
import { startControllerChild } from '../test/support/controller-child.js';
import { freePort } from '../test/support/mininet.js';
import { leafSpineLinks, startTestbed, waitFor, type Testbed } from '../test/support/testbed.js';
import { startSynCapture } from './wake/capture.js';
import { median, percentile, round1 } from './wake/stats.js';
import { startTimingClient } from './wake/timingClient.js';
import { createCleanups } from './support.js';

// The repository: ../ from bench/ or ../../ from dist/bench/.
const REPO = [fileURLToPath(new URL('../', import.meta.url)), fileURLToPath(new URL('../../', import.meta.url))].find((d) => existsSync(path.join(d, 'topologies/fabric-testbed.yaml')))!;

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: process.env['WAKE_FABRIC_CYCLES'] ?? '20' },
    trials: { type: 'string', default: process.env['RECONVERGE_TRIALS'] ?? '5' },
  },
});
function count(name: string, v: string, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    process.stderr.write(`bench:wake-fabric: --${name} must be an integer 1..${max}, got '${v}'\n`);
    process.exit(2);
  }
  return n;
}
const cycles = count('cycles', values.cycles, 500);
const trials = count('trials', values.trials, 50);

/** A client's SYN not answered within 1 s was retransmitted (Linux initial RTO). */
const LOST_AFTER_MS = 1000;
const VM = 'vm1';
/** The fabric inventory's hv1. */
const TLS_URI = 'qemu+tls://localhost/system';

const say = (s: string) => process.stdout.write(`wake-fabric: ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const undoAll = createCleanups();
const cleanups = undoAll.list;
const cleanup = (): Promise<void> => undoAll.run();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143)));
}

function api<T>(socketPath: string, method: 'GET' | 'POST', p: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: p, method, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve(JSON.parse(body) as T) : reject(new Error(`${method} ${p}: ${res.statusCode} ${body}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer in 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

interface VmView {
  state: string;
  port: number | null;
}

/**
 * The testbed inventory `file` with vm1 (depth pause) alone, parked only when asked
 * (no idle parking, no anti-flap). The single-switch one reaches libvirt over TLS too
 * (the fabric's hv1 URI): the two runs then differ by the network alone.
 */
function benchInventory(file: string, dir: string): string {
  const raw = parse(readFileSync(path.join(REPO, file), 'utf8')) as Record<string, any>;
  raw['defaults'] = { ...raw['defaults'], idleTimeout: '1h', minActive: 0 };
  raw['vms'] = (raw['vms'] as Array<Record<string, unknown>>).filter((v) => v['name'] === VM);
  const vm = (raw['vms'] as Array<Record<string, unknown>>)[0];
  if (vm === undefined || vm['depth'] !== 'pause') throw new Error(`${file}: ${VM} with depth pause expected`);
  if (vm['hypervisor'] === undefined) vm['libvirt'] = { ...(vm['libvirt'] as object), uri: TLS_URI };
  const out = path.join(dir, path.basename(file));
  writeFileSync(out, stringify(raw));
  return out;
}

/** `seamless controller [--fabric] --config FILE` from dist/, on `port`; resolves once it listens. */
async function startController(config: string, port: number, apiSock: string, fabric: boolean): Promise<ChildProcess> {
  const args = [...(fabric ? ['--fabric'] : []), '--listen', `127.0.0.1:${port}`, '--config', config, '--api', apiSock, '--log-level', 'warn'];
  return (await startControllerChild({ args, cleanups })).child;
}

interface Result {
  p50ms: number;
  p99ms: number;
  lost: number;
  clientP50ms: number;
  wireSeen: number;
  samplesMs: number[];
}

/** N park/wake cycles of vm1 on one testbed. */
async function measure(name: 'single' | 'fabric', dir: string): Promise<{ result: Result; label: string }> {
  const fabric = name === 'fabric';
  const config = benchInventory(fabric ? 'topologies/fabric-testbed.yaml' : 'topologies/testbed.yaml', dir);
  const inventory = await loadInventory(config, { fabric });
  const port = await freePort();
  const apiSock = path.join(dir, `${name}.sock`);
  const steps = cleanups.length;
  // Testbed first (the controller must not park a booting guest), then the controller.
  const tb: Testbed = await startTestbed({ teardown: (fn) => void cleanups.push(fn) }, {
    inventory,
    controllerPort: port,
    waitConnected: false,
    ...(fabric ? { links: leafSpineLinks(inventory, ['s1', 's2']) } : {}),
  });
  const ctl = await startController(config, port, apiSock, fabric);
  ctl.once('close', (code) => code !== 0 && code !== null && say(`${name}: the controller exited ${code}`));
  await waitFor(`${VM}'s port known`, async () => ((await api<VmView>(apiSock, 'GET', `/v1/vms/${VM}`)).port !== null ? true : undefined), 30_000, 100);
  if (fabric) await waitFor(`LLDP: ${tb.links.length} links`, async () => ((await api<LinksView>(apiSock, 'GET', '/v1/links')).links.length === tb.links.length ? true : undefined), 30_000, 200);
  const spec = inventory.vms.find((v) => v.name === VM)!;
  const h1 = tb.hosts['h1']!;
  const label = `${name}: client h1 on ${h1.port}, ${VM} on ${spec.switch}${fabric ? ` (${tb.links.length} links, libvirt ${spec.libvirt.uri})` : ` (libvirt ${spec.libvirt.uri})`}`;
  say(label);
  const client = await startTimingClient(tb.prefix('h1'));
  cleanups.push(() => client.stop());
  const capture = await startSynCapture(h1.port, h1.ip, spec.ip, 80);
  cleanups.push(() => capture.stop());
  await waitFor(`${VM} answering on port 80`, async () => ((await client.connect(spec.ip, 80, 1000)).ok ? true : undefined), 30_000, 200);

  const wire: Array<number | undefined> = [];
  const clientMs: number[] = [];
  let lost = 0;
  const state = async () => (await api<VmView>(apiSock, 'GET', `/v1/vms/${VM}`)).state;
  for (let i = 0; i < cycles; i++) {
    await waitFor(`${VM} active`, async () => ((await state()) === 'active' ? true : undefined), 30_000, 20);
    await api(apiSock, 'POST', `/v1/vms/${VM}/park`);
    await waitFor(`${VM} parked`, async () => ((await state()) === 'parked' ? true : undefined), 30_000, 20);
    await waitFor(`libvirt: ${spec.libvirt.domain} paused`, async () => ((await tb.domState(VM)).state === 'paused' ? true : undefined), 10_000, 20);
    await sleep(100); // the park's last flow_mods settle: a quiet switch, like a real idle VM
    const a = await client.connect(spec.ip, 80, 8_000);
    const h = a.localPort === undefined ? undefined : await waitFor('tcpdump lines', async () => {
      const x = capture.get(a.localPort!);
      return x?.synAck !== undefined ? x : undefined;
    }, 1_000, 10).catch(() => capture.get(a.localPort!));
    const w = h?.syns[0] !== undefined && h.synAck !== undefined ? h.synAck - h.syns[0] : undefined;
    const isLost = !a.ok || a.ms > LOST_AFTER_MS || (h?.syns.length ?? 0) > 1;
    if (isLost) lost++;
    wire.push(w);
    clientMs.push(a.ms);
    say(`${name} ${i + 1}/${cycles}: wire ${w === undefined ? '?' : w.toFixed(1)} ms, client ${a.ms.toFixed(1)} ms${isLost ? ' LOST' : ''}`);
  }
  // Everything this testbed started, in reverse (capture, client, controller, testbed).
  for (const fn of cleanups.splice(steps).reverse()) await fn();
  const lat = wire.map((w, i) => w ?? clientMs[i]!);
  return {
    label,
    result: {
      p50ms: round1(median(lat)),
      p99ms: round1(percentile(lat, 99)),
      lost,
      clientP50ms: round1(median(clientMs)),
      wireSeen: wire.filter((w) => w !== undefined).length,
      samplesMs: lat.map(round1),
    },
  };
}

/** bench/reconverge.ts as it is, from dist/; its last line is its JSON. */
async function reconverge(): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [path.join(REPO, 'dist/bench/reconverge.js'), '--trials', String(trials)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => child.kill('SIGTERM'));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => process.stdout.write(`wake-fabric: reconverge: ${d.toString()}`));
  const code = await new Promise<number | null>((r) => child.once('close', r));
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0) throw new Error(`bench/reconverge.js exited ${code}: ${out.slice(-2000)}`);
  return JSON.parse(last) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'seamless-wake-fabric-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  say(`${cycles} cycles per testbed; then ${trials} re-convergence trials`);
  const single = await measure('single', dir);
  const fabric = await measure('fabric', dir);
  const rc = await reconverge();
  await cleanup();
  say(`samples single: ${JSON.stringify(single.result.samplesMs)}`);
  say(`samples fabric: ${JSON.stringify(fabric.result.samplesMs)}`);
  const strip = ({ samplesMs: _s, ...r }: Result) => r;
  process.stdout.write(
    `${JSON.stringify({
      bench: 'wake-fabric',
      depth: 'pause',
      cycles,
      single: { ...strip(single.result), where: single.label },
      fabric: { ...strip(fabric.result), where: fabric.label },
      fabricMinusSingleP50ms: round1(fabric.result.p50ms - single.result.p50ms),
      reconverge: { cut: rc['cut'], trials: rc['trials'], resumed: rc['resumed'], outageMs: rc['outageMs'], lossRunMs: rc['lossRunMs'], targetMs: rc['targetMs'] },
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  async (e: unknown) => {
    process.stderr.write(`bench:wake-fabric failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    await cleanup();
    process.exit(1);
  },
);
