// Park and wake end to end: `seamless controller --config` (a child process, as
// an operator runs it) drives a real Mininet switch (OVS userspace datapath,
// OpenFlow 1.3) with a client h1, a monitor, a sink and three libvirt/QEMU VMs
// (vm1 parks by pause, vm2 by managed save, vm3 by shutdown: a cold boot). vm2's
// and vm3's services listen 2 s after their network is up, so a cold boot's ARP
// answer is not readiness (vm2 boots cold once its image is removed, last test).
// Every wait is on a real condition
// (a logged transition, libvirt's state, the switch's flow table), bounded.
import test, { type ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { loadInventory } from '../../controller/inventory/index.js';
import type { Inventory } from '../../controller/inventory/types.js';
import { KIND, PRIO, cookieOf, type FlowKind } from '../../controller/park/flows.js';
import { fnv1a32 } from '../../controller/park/ids.js';
import { makeCookie } from '../../controller/cookies.js';
import { CommandError, atExit } from '../support/exec.js';
import { virsh } from '../support/guest.js';
import { startControllerChild, type LoggedTransition } from '../support/controller-child.js';
import { freePort } from '../support/mininet.js';
import { captureSyns, run, startTestbed, waitFor, type Testbed } from '../support/testbed.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

// Short timeouts so the suite takes minutes: a VM parks after 4 s without
// traffic, and is not parked again before it has been up 4 s.
const IDLE = '4s';
const MIN_ACTIVE = '4s';
const SERVICE_DELAY_S = 2;

type Transition = LoggedTransition;

interface Ctx {
  inv: Inventory;
  tb: Testbed;
  ctl: ChildProcess;
  transitions: Transition[];
  logLines: string[];
}

let ctx: Ctx | undefined;
const cleanups: Array<() => Promise<void> | void> = [];

function testInventory(dir: string): string {
  const raw = parse(readFileSync(path.join(REPO, 'topologies/testbed.yaml'), 'utf8')) as Record<string, any>;
  raw['defaults'] = { ...raw['defaults'], idleTimeout: IDLE, minActive: MIN_ACTIVE, wakeTimeout: '30s' };
  // A third VM parked by shutdown: its wake is a cold boot (the testbed's inventory has two VMs).
  raw['vms'] = [
    ...(raw['vms'] as unknown[]),
    { name: 'vm3', libvirt: { uri: 'qemu:///system', domain: 'seamless-vm3' }, mac: '52:54:00:00:00:13', ip: '10.0.0.13', switch: 's1', port: 'vm3-tap', depth: 'shutdown' },
  ];
  const file = path.join(dir, 'testbed-e2e.yaml');
  writeFileSync(file, stringify(raw));
  return file;
}

test.before(async (t) => {
  // Lock wait (another Mininet run), guest build on a fresh machine, two TCG boots.
  t.timeout(360_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'seamless-e2e-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = testInventory(dir);
  const inv = await loadInventory(config);
  // Testbed first, controller second: a controller that comes up while guests boot sees
  // them idle and parks them mid-boot (harmless, they resume where they were, but the
  // testbed's readiness check would wait for a paused guest).
  const port = await freePort();
  const tb = await startTestbed(
    { teardown: (fn) => cleanups.push(fn as () => Promise<void>) },
    // Services 2 s after the network (like sshd after networking): ARP alone is not readiness
    // after a cold boot. vm2 restores with its services up; only its last wake is cold.
    {
      inventory: inv,
      controllerPort: port,
      waitConnected: false,
      guestArgs: { vm2: `seamless.service_delay=${SERVICE_DELAY_S}`, vm3: `seamless.service_delay=${SERVICE_DELAY_S}` },
    },
  );
  // Left by an earlier inventory: a park entry of a VM that is gone, and another controller's entry.
  await run('ovs-ofctl', ['-O', 'OpenFlow13', 'add-flow', tb.switchName, `cookie=0x${STALE_COOKIE.toString(16)},priority=${PRIO.PARK_CATCHALL},dl_dst=52:54:00:00:00:99,actions=drop`]);
  await run('ovs-ofctl', ['-O', 'OpenFlow13', 'add-flow', tb.switchName, `cookie=0x${FOREIGN_COOKIE.toString(16)},priority=5,dl_dst=52:54:00:00:00:98,actions=drop`]);
  // Its own control API socket: never touch the machine's default one (another daemon's).
  const ctl = await startControllerChild({
    args: ['--api', path.join(dir, 'api.sock'), '--listen', `127.0.0.1:${port}`, '--config', config, '--log-format', 'json', '--log-level', process.env['SEAMLESS_E2E_LOG'] ?? 'debug'],
    cleanups,
  });
  ctx = { inv, tb, ctl: ctl.child, transitions: ctl.transitions, logLines: ctl.lines };
});

/** A park cookie (kind PARK) of "vm-removed", a VM that is not in the inventory. */
const STALE_COOKIE = cookieOf(fnv1a32('vm-removed'), KIND.PARK);
/** Not a seamless cookie: never ours to delete. */
const FOREIGN_COOKIE = 0x1234n;

test.after.always(async () => {
  // Testbed first (VMs, Mininet), then the controller, then files.
  for (const fn of cleanups.reverse()) await fn();
});

function need(): Ctx {
  if (ctx === undefined) throw new Error('testbed not started');
  return ctx;
}

/** The first transition of `vm` to `to` logged after index `after`. */
function waitTransition(c: Ctx, vm: string, to: string, after: number, timeoutMs: number): Promise<Transition> {
  return waitFor(
    `${vm} -> ${to}`,
    async () => c.transitions.slice(after).find((tr) => tr.vm === vm && tr.to === to),
    timeoutMs,
    50,
  );
}

function vmFlows(c: Ctx, vm: string, kind: FlowKind) {
  const cookie = cookieOf(fnv1a32(vm), kind);
  return c.tb.flows().then((fs) => fs.filter((f) => f.cookie === cookie));
}

function expectedState(depth: string): { state: string; managedSave: boolean } {
  return depth === 'pause' ? { state: 'paused', managedSave: false } : { state: 'shut off', managedSave: depth === 'save' };
}

/** Parked at its depth, as libvirt and the switch show it. Waits for the 'parked' transition first. */
async function waitParked(t: ExecutionContext, c: Ctx, vm: string, after: number): Promise<string[]> {
  const spec = c.inv.vms.find((v) => v.name === vm)!;
  const tr = await waitTransition(c, vm, 'parked', after, 90_000);
  t.log(`${vm} parked (${spec.depth}) reason=${tr.reason}`);
  t.deepEqual(await c.tb.domState(vm), expectedState(spec.depth), `${vm}: libvirt state at depth ${spec.depth}`);
  const park = await vmFlows(c, vm, KIND.PARK);
  t.true(park.some((f) => f.priority === PRIO.PARK_GATEWAY && f.match.includes(`dl_dst=${spec.mac}`) && /tp_dst=80\b/.test(f.match)), `${vm}: park wake entry (TCP 80) in dump-flows`);
  t.true(park.some((f) => f.match.includes('arp') && f.match.includes(`arp_tpa=${spec.ip}`)), `${vm}: ARP answer entry in dump-flows`);
  t.deepEqual(await vmFlows(c, vm, KIND.ACTIVITY), [], `${vm}: no activity entry while parked`);
  return park.map((f) => f.raw);
}

/** Parked (again) before a step: after an earlier wake a VM parks after its idle timeout. */
async function parkedNow(t: ExecutionContext, c: Ctx, vm: string): Promise<void> {
  const last = [...c.transitions].reverse().find((tr) => tr.vm === vm);
  if (last?.to !== 'parked') await waitParked(t, c, vm, c.transitions.length);
}

/** ARP from h1 while parked: the controller answers with the VM's MAC; the VM stays parked. */
async function arpWhileParked(t: ExecutionContext, c: Ctx, vm: string): Promise<void> {
  const spec = c.inv.vms.find((v) => v.name === vm)!;
  const before = c.transitions.length;
  await c.tb.exec('h1', 'ip', ['neigh', 'flush', 'dev', c.tb.hosts['h1']!.intf]);
  const out = await c.tb.exec('h1', 'busybox', ['arping', '-c', '1', '-w', '3', '-I', c.tb.hosts['h1']!.intf, spec.ip], 10_000);
  t.regex(out.toLowerCase(), new RegExp(`\\[${spec.mac}\\]`), `${vm}: ARP reply carries the VM's MAC: ${out}`);
  t.deepEqual(await c.tb.domState(vm), expectedState(spec.depth), `${vm}: ARP did not wake it`);
  t.deepEqual(c.transitions.slice(before).filter((tr) => tr.vm === vm), [], `${vm}: no transition from ARP`);
}

/** The monitor's health check (ignored traffic) goes to the sink and does not wake the VM. */
async function monitorDoesNotWake(t: ExecutionContext, c: Ctx, vm: string): Promise<void> {
  const spec = c.inv.vms.find((v) => v.name === vm)!;
  const before = c.transitions.length;
  const sinkEntry = async () =>
    (await vmFlows(c, vm, KIND.PARK)).filter((f) => f.priority === PRIO.PARK_IGNORE).reduce((n, f) => n + f.nPackets, 0);
  const n0 = await sinkEntry();
  const err = await c.tb.exec('mon', 'curl', ['-sS', '--max-time', '2', `http://${spec.ip}/`], 10_000).then(
    (body) => new Error(`the monitor got an answer from a parked VM: ${body}`),
    (e: unknown) => e,
  );
  t.true(err instanceof CommandError, String(err));
  // The SYNs went to the sink through the ignore entry...
  await waitFor('ignore entry counted the monitor SYN', async () => ((await sinkEntry()) > n0 ? true : undefined), 5_000);
  // ...and did not wake the VM.
  t.deepEqual(await c.tb.domState(vm), expectedState(spec.depth), `${vm}: monitor traffic did not wake it`);
  t.deepEqual(c.transitions.slice(before).filter((tr) => tr.vm === vm), [], `${vm}: no transition from monitor traffic`);
}

/**
 * When Linux retransmits an unanswered SYN (ms after the first): the initial RTO is 1 s;
 * the first `linear` retransmissions keep it (net.ipv4.tcp_syn_linear_timeouts, 4 on this
 * project's 6.x kernels, absent = 0 on older ones), later ones double it.
 */
function synRetransmitTimes(linear: number): number[] {
  const times: number[] = [];
  let t = 0;
  for (let i = 1; i <= 8; i++) {
    t += i <= linear ? 1000 : 1000 * 2 ** (i - linear);
    times.push(t);
  }
  return times;
}

/**
 * How many SYNs a client sends while a wake of `wakeMs` holds its first one: 1 plus the
 * retransmissions due before the wake ends (either count within 150 ms of a retransmission,
 * where the engine's clock and the client's differ by the packet-in's trip).
 */
function synsDuringWake(wakeMs: number, retransmits: readonly number[]): [number, number] {
  return [1 + retransmits.filter((k) => k < wakeMs - 150).length, 1 + retransmits.filter((k) => k < wakeMs + 150).length];
}

/** The client's SYN retransmission schedule, read in h1's network namespace. */
async function clientSynSchedule(c: Ctx): Promise<number[]> {
  const linear = await c.tb.exec('h1', 'cat', ['/proc/sys/net/ipv4/tcp_syn_linear_timeouts'], 10_000).then(
    (out) => Number(out.trim()),
    () => 0,
  );
  return synRetransmitTimes(Number.isInteger(linear) && linear >= 0 ? linear : 0);
}

/** h1 curls the VM: it wakes, answers with its name, and the first SYN was enough (no SYN beyond those the wake's own length explains). */
async function curlWakes(t: ExecutionContext, c: Ctx, vm: string): Promise<void> {
  const spec = c.inv.vms.find((v) => v.name === vm)!;
  const before = c.transitions.length;
  const linesBefore = c.logLines.length;
  const syns = await captureSyns(c.tb.hosts['h1']!.port, spec.ip);
  const cap = process.env['SEAMLESS_E2E_CAPTURE'] === '1'
    ? spawn('tcpdump', ['-n', '-l', '-tt', '-i', spec.port, 'arp or tcp'], { stdio: ['ignore', 'pipe', 'pipe'] })
    : undefined;
  let capOut = '';
  cap?.stdout!.on('data', (d: Buffer) => (capOut += d.toString()));
  if (cap) await new Promise((r) => setTimeout(r, 1000));
  const mark = '\n--SEAMLESS-TIMING ';
  const out = await c.tb.exec(
    'h1',
    'curl',
    ['-sS', '--max-time', '20', '-w', `${mark}%{time_connect} %{time_total}`, `http://${spec.ip}/`],
    30_000,
  );
  const at = out.lastIndexOf(mark);
  const body = out.slice(0, at);
  const [connect, total] = out.slice(at + mark.length).trim().split(' ').map(Number) as [number, number];
  const woken = await waitTransition(c, vm, 'active', before, 10_000);
  t.log(c.logLines.slice(linesBefore).filter((l) => l.includes(`"${vm}"`)).join('\n'));
  if (cap) {
    if (cap.exitCode === null && cap.signalCode === null) {
      const closed = new Promise((r) => cap.once('close', r));
      cap.kill('SIGINT');
      await closed;
    }
    t.log(`capture on ${spec.port}:\n${capOut}`);
  }
  t.log(`${vm} (${spec.depth}): curl connect ${(connect * 1000).toFixed(0)} ms, total ${(total * 1000).toFixed(0)} ms; engine wake ${woken.durationMs?.toFixed(0) ?? '?'} ms (${woken.reason})`);
  t.is(body, `hello from ${vm}\n`, `${vm}: the body names the VM`);
  // The invariant is "the first SYN was held and delivered". h1 retransmits its SYN on
  // Linux's schedule (synRetransmitTimes) while nothing answers, so the SYNs
  // it sent must be exactly those that fell within the engine's wake (a wake under 1 s: one
  // SYN), and the connection must complete when the wake does, not a retransmission later.
  // A lost first SYN breaks one of the two whatever the machine's speed; the wake time
  // itself is logged, not bounded (bench/wake.ts measures it).
  const nSyns = await syns.count();
  const wakeMs = woken.durationMs ?? connect * 1000;
  const retransmits = await clientSynSchedule(c);
  const [minSyns, maxSyns] = synsDuringWake(wakeMs, retransmits);
  t.true(nSyns >= minSyns && nSyns <= maxSyns, `${vm}: h1 sent ${nSyns} SYNs during a ${wakeMs.toFixed(0)} ms wake (expected ${minSyns}..${maxSyns}: a first SYN that was held)`);
  t.true(connect * 1000 - wakeMs < retransmits[0]! - 300, `${vm}: connected ${(connect * 1000).toFixed(0)} ms after the first SYN, ${(connect * 1000 - wakeMs).toFixed(0)} ms after the wake ended (a retransmission, not the first SYN, got through)`);
  t.is((await c.tb.domState(vm)).state, 'running', `${vm}: libvirt reports running after the wake`);
  const activity = await vmFlows(c, vm, KIND.ACTIVITY);
  t.true(
    activity.some((f) => f.priority === PRIO.ACTIVITY && /^output:\d+$/.test(f.actions)),
    `${vm}: activity entry forwards to the VM port again: ${activity.map((f) => f.raw).join('; ')}`,
  );
  t.deepEqual(
    (await vmFlows(c, vm, KIND.PARK)).map((f) => f.raw),
    [],
    `${vm}: park entries removed after the wake`,
  );
}

test.serial('all three VMs go idle and are parked at their depth (libvirt state, park flows)', async (t) => {
  t.timeout(240_000);
  const c = need();
  t.log(`testbed up: ${JSON.stringify(c.tb.seconds)}`);
  for (const vm of ['vm1', 'vm2', 'vm3']) {
    const flows = await waitParked(t, c, vm, 0);
    t.log(`${vm} park entries:\n${flows.join('\n')}`);
    // OVS 3.1's userspace datapath has meters: wake triggers are rate limited (docs/parking.md).
    t.true(flows.some((f) => /actions=meter:\d+,CONTROLLER/.test(f)), `${vm}: wake entries go through the VM's meter`);
  }
});

test.serial('on connect, the park entry of a VM no longer in the inventory is deleted; another controller\'s entry stays', async (t) => {
  const c = need();
  t.true(STALE_COOKIE !== makeCookie('l2', 0));
  await waitFor('stale park entry deleted', async () => ((await c.tb.flows()).some((f) => f.cookie === STALE_COOKIE) ? undefined : true), 15_000, 200);
  t.true((await c.tb.flows()).some((f) => f.cookie === FOREIGN_COOKIE), 'the foreign entry is still there');
  t.true(c.logLines.some((l) => l.includes('deleting park entries of VMs no longer in the inventory')), 'the deletion is logged');
});

for (const vm of ['vm1', 'vm2']) {
  test.serial(`${vm}: ARP resolves while parked, monitor traffic does not wake it, h1's curl wakes it`, async (t) => {
    t.timeout(240_000);
  const c = need();
    await parkedNow(t, c, vm);
    await arpWhileParked(t, c, vm);
    await monitorDoesNotWake(t, c, vm);
    await curlWakes(t, c, vm);
  });
}

test.serial('a woken VM parks again when idle, and wakes again (second cycle)', async (t) => {
  t.timeout(240_000);
  const c = need();
  for (const vm of ['vm1', 'vm2']) {
    let lastWake = -1;
    c.transitions.forEach((tr, i) => {
      if (tr.vm === vm && tr.to === 'active') lastWake = i;
    });
    await waitParked(t, c, vm, lastWake + 1);
    await curlWakes(t, c, vm);
  }
});

/** h1 curls a parked VM; resolves with curl's total time in ms once the VM is active again. */
async function timedWake(t: ExecutionContext, c: Ctx, vm: string): Promise<number> {
  const spec = c.inv.vms.find((v) => v.name === vm)!;
  await parkedNow(t, c, vm);
  const before = c.transitions.length;
  const mark = '\n--SEAMLESS-TIMING ';
  const out = await c.tb.exec('h1', 'curl', ['-sS', '--max-time', '20', '-w', `${mark}%{time_total}`, `http://${spec.ip}/`], 30_000);
  const at = out.lastIndexOf(mark);
  t.is(out.slice(0, at), `hello from ${vm}\n`, `${vm}: served`);
  await waitTransition(c, vm, 'active', before, 10_000);
  return Number(out.slice(at + mark.length).trim()) * 1000;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Floor of the flood test's bound, ms: a pause wake takes tens of ms, so 2x alone would
 * flake on 10-vs-25 ms jitter; 1 s is also Linux's first SYN retransmission, the
 * signature of a wake SYN lost in a full packet-in queue (what the flood caused).
 */
const FLOOD_FLOOR_MS = 1000;
const WAKES_PER_PHASE = 3;

test.serial('an ICMP flood at parked vm2 does not slow vm1\'s wake beyond 2x its unloaded time (median of 3, floor 1 s)', async (t) => {
  t.timeout(300_000);
  const c = need();
  const unloaded: number[] = [];
  for (let i = 0; i < WAKES_PER_PHASE; i++) unloaded.push(await timedWake(t, c, 'vm1'));
  await parkedNow(t, c, 'vm2');
  const vm2 = c.inv.vms.find((v) => v.name === 'vm2')!;
  // From the monitor host, not h1: h1's own link full of flood would delay its SYNs
  // before they reach the switch, which is not what this test is about. Bounded by timeout(1).
  const [cmd, ...prefix] = c.tb.prefix('mon');
  const flood = spawn(cmd!, [...prefix, 'timeout', '120', 'hping3', '--flood', '--icmp', '-q', vm2.ip], { stdio: ['ignore', 'ignore', 'pipe'] });
  const unregister = atExit(() => flood.kill('SIGKILL'));
  let floodErr = '';
  flood.stderr!.on('data', (d: Buffer) => (floodErr += d.toString()));
  const loaded: number[] = [];
  try {
    await new Promise((r) => setTimeout(r, 2000)); // the flood is under way
    t.is(flood.exitCode, null, `hping3 is flooding: ${floodErr}`);
    for (let i = 0; i < WAKES_PER_PHASE; i++) loaded.push(await timedWake(t, c, 'vm1'));
  } finally {
    if (flood.exitCode === null && flood.signalCode === null) {
      const closed = new Promise((r) => flood.once('close', r));
      flood.kill('SIGINT');
      await closed;
    }
    unregister();
  }
  const base = median(unloaded);
  const bound = Math.max(2 * base, FLOOD_FLOOR_MS);
  t.log(`vm1 wake (curl total, ms): unloaded ${unloaded.map((x) => x.toFixed(0)).join(', ')}; during the flood at vm2 ${loaded.map((x) => x.toFixed(0)).join(', ')}; bound ${bound.toFixed(0)}`);
  t.true(median(loaded) <= bound, `vm1's median wake during the flood, ${median(loaded).toFixed(0)} ms, exceeds max(2 x ${base.toFixed(0)} ms, ${FLOOD_FLOOR_MS} ms)`);
  t.deepEqual(await c.tb.domState('vm2'), expectedState(vm2.depth), 'the ICMP flood did not wake vm2');
});

/** The guest's console: how many times its services came up (a cold boot adds one; a restore does not). */
function bootsOf(c: Ctx, vm: string): number {
  return readFileSync(c.tb.vms[vm]!.consoleLog, 'utf8').split('SEAMLESS-READY').length - 1;
}

/**
 * h1 curls a parked VM whose wake is a cold boot: the held SYN is delivered only once
 * the TCP readiness probe's SYN to port 80 is answered, so curl is served, not refused.
 */
async function curlColdBoot(t: ExecutionContext, c: Ctx, vm: string): Promise<string[]> {
  const spec = c.inv.vms.find((v) => v.name === vm)!;
  const boots = bootsOf(c, vm);
  const before = c.transitions.length;
  const linesBefore = c.logLines.length;
  const mark = '\n--SEAMLESS-TIMING ';
  // The guest answers ARP ~2 s before its HTTP server listens: a SYN delivered on the ARP
  // answer alone is refused (curl: Connection refused, exit 7). Held until port 80 answers, it is served.
  const out = await c.tb.exec('h1', 'curl', ['-sS', '--max-time', '60', '-w', `${mark}%{time_connect} %{time_total}`, `http://${spec.ip}/`], 70_000);
  const at = out.lastIndexOf(mark);
  const [connect, total] = out.slice(at + mark.length).trim().split(' ').map(Number) as [number, number];
  const woken = await waitTransition(c, vm, 'active', before, 10_000);
  const lines = c.logLines.slice(linesBefore).filter((l) => l.includes(`"${vm}"`));
  t.log(lines.join('\n'));
  t.log(`${vm} (${spec.depth}, cold boot): curl connect ${(connect * 1000).toFixed(0)} ms, total ${(total * 1000).toFixed(0)} ms; engine wake ${woken.durationMs?.toFixed(0) ?? '?'} ms`);
  t.is(out.slice(0, at), `hello from ${vm}\n`, 'served by the cold-booted VM');
  // /init prints its ready marker 0.2 s after the services start: wait for it, bounded.
  await waitFor(`${vm} ready marker of the new boot`, async () => (bootsOf(c, vm) > boots ? true : undefined), 5_000).catch(() => undefined);
  t.is(bootsOf(c, vm), boots + 1, 'woken by a fresh boot, not a restore');
  t.true(lines.some((l) => l.includes('gateway port 80 answered the TCP readiness probe')), 'readiness came from the TCP probe');
  t.true(connect > SERVICE_DELAY_S, `connect ${connect} s includes the boot and the ${SERVICE_DELAY_S} s service delay`);
  t.is((await c.tb.domState(vm)).state, 'running');
  t.deepEqual((await vmFlows(c, vm, KIND.PARK)).map((f) => f.raw), [], 'park entries removed after the wake');
  t.deepEqual((await vmFlows(c, vm, KIND.PROBE)).map((f) => f.raw), [], 'probe entries removed after the wake');
  return lines;
}

test.serial('vm3 (shutdown): ARP resolves while parked; h1\'s curl cold-boots it and is served, not refused', async (t) => {
  t.timeout(240_000);
  const c = need();
  const vm = 'vm3';
  await parkedNow(t, c, vm);
  await arpWhileParked(t, c, vm);
  await curlColdBoot(t, c, vm);
});

test.serial('vm2 (save) whose managed-save image was removed: the wake boots it cold, and curl is served, not refused', async (t) => {
  t.timeout(240_000);
  const c = need();
  const vm = 'vm2';
  await parkedNow(t, c, vm);
  // An operator (or a disk clean-up) removes the image: libvirt's next start is a boot.
  await virsh('managedsave-remove', c.inv.vms.find((v) => v.name === vm)!.libvirt.domain);
  t.deepEqual(await c.tb.domState(vm), { state: 'shut off', managedSave: false });
  const lines = await curlColdBoot(t, c, vm);
  t.true(lines.some((l) => l.includes('booted cold (it had no managed-save image)')), 'the cold boot is logged and explained');
});
