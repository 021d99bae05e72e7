// Park and wake on the fabric testbed, end to end (issue 12 item 5):
// `seamless controller --fabric --config` (a child process, as an operator runs it)
// drives a leaf-spine Mininet fabric (topologies/fabric-testbed.yaml: spines s1, s2;
// vm1 on leaf s3 behind hypervisor hv1, vm2 on leaf s4 behind hv2, the client h1
// on leaf s5, two hops from each VM's leaf), and reaches the testbed's libvirtd
// over TLS under two host names. Both VMs park by pausing. Every wait is on a real
// condition (a logged transition, libvirt's state, a flow table, the API's links),
// bounded.
import test, { type ExecutionContext } from 'ava';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { LinksView } from '../../controller/api/types.js';
import { loadInventory } from '../../controller/inventory/index.js';
import type { Inventory } from '../../controller/inventory/types.js';
import { KIND, PRIO, cookieOf, type FlowKind } from '../../controller/park/flows.js';
import { fnv1a32 } from '../../controller/park/ids.js';
import { startControllerChild, type LoggedTransition } from '../support/controller-child.js';
import { ensureLibvirt } from '../support/guest.js';
import { freePort } from '../support/mininet.js';
import { captureSyns, leafSpineLinks, run, startTestbed, waitFor, type Testbed, type TestbedLink } from '../support/testbed.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SPINES = ['s1', 's2'];
/** The client's leaf. */
const CLIENT_LEAF = 's5';

type Transition = LoggedTransition;

interface Ctx {
  inv: Inventory;
  tb: Testbed;
  api: string;
  transitions: Transition[];
  logLines: string[];
}

let ctx: Ctx | undefined;
const cleanups: Array<() => Promise<void> | void> = [];

function need(): Ctx {
  if (ctx === undefined) throw new Error('fabric testbed not started');
  return ctx;
}

/** topologies/fabric-testbed.yaml with clocks short enough for a test: parked after 4 s idle, 4 s up. */
function testInventory(dir: string): string {
  const raw = parse(readFileSync(path.join(REPO, 'topologies/fabric-testbed.yaml'), 'utf8')) as Record<string, any>;
  raw['defaults'] = { ...raw['defaults'], idleTimeout: '4s', minActive: '4s', wakeTimeout: '30s' };
  const file = path.join(dir, 'fabric-e2e.yaml');
  writeFileSync(file, stringify(raw));
  return file;
}

function tcpListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** GET a path of the controller's API on its unix socket. */
function apiGet<T>(socketPath: string, p: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: p, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as T) : reject(new Error(`GET ${p}: ${res.statusCode} ${body}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${p}: no answer in 5 s`)));
    req.on('error', reject);
  });
}

test.before(async (t) => {
  // Lock wait (another Mininet run), the guest build on a fresh machine, two TCG boots.
  t.timeout(360_000);
  await ensureLibvirt();
  if (!(await tcpListening(16514))) {
    throw new Error('libvirtd does not listen on 127.0.0.1:16514 (TLS): run mininet/setup.sh (it calls mininet/libvirt-tls.sh), then restart libvirtd (pkill -x libvirtd; bash mininet/start-libvirtd.sh)');
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'seamless-fabric-e2e-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = testInventory(dir);
  const inv = await loadInventory(config, { fabric: true });
  const port = await freePort();
  // Testbed first, controller second (it would park guests that still boot).
  const tb = await startTestbed({ teardown: (fn) => cleanups.push(fn as () => Promise<void>) }, { inventory: inv, controllerPort: port, waitConnected: false, links: leafSpineLinks(inv, SPINES) });
  const api = path.join(dir, 'api.sock');
  const ctl = await startControllerChild({
    args: ['--fabric', '--api', api, '--listen', `127.0.0.1:${port}`, '--config', config, '--log-format', 'json', '--log-level', process.env['SEAMLESS_E2E_LOG'] ?? 'debug'],
    cleanups,
  });
  ctx = { inv, tb, api, transitions: ctl.transitions, logLines: ctl.lines };
  // LLDP found every link of the fabric before anything else is checked.
  await waitFor(`LLDP: all ${tb.links.length} fabric links`, async () => ((await apiGet<LinksView>(api, '/v1/links')).links.length === tb.links.length ? true : undefined), 30_000, 200);
});

test.after.always(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

function waitTransition(c: Ctx, vm: string, to: string, after: number, timeoutMs: number): Promise<Transition> {
  return waitFor(`${vm} -> ${to}`, async () => c.transitions.slice(after).find((tr) => tr.vm === vm && tr.to === to), timeoutMs, 50);
}

function specOf(c: Ctx, vm: string) {
  return c.inv.vms.find((v) => v.name === vm)!;
}

/** The VM's entries of `kind` on `sw` (default: its inventory leaf). */
async function vmFlows(c: Ctx, vm: string, kind: FlowKind, sw = specOf(c, vm).switch) {
  const cookie = cookieOf(fnv1a32(vm), kind);
  return (await c.tb.flows(sw)).filter((f) => f.cookie === cookie);
}

interface VmInfo {
  switch: string;
  hypervisor: string;
  state: string;
}

/** Parked by pausing: libvirt says paused, the VM's leaf holds its park entries and no activity entry. */
async function checkParked(t: ExecutionContext, c: Ctx, vm: string): Promise<void> {
  const spec = c.inv.vms.find((v) => v.name === vm)!;
  t.deepEqual(await c.tb.domState(vm), { state: 'paused', managedSave: false }, `${vm}: libvirt state`);
  const park = await vmFlows(c, vm, KIND.PARK);
  t.true(park.some((f) => f.priority === PRIO.PARK_GATEWAY && f.match.includes(`dl_dst=${spec.mac}`) && /tp_dst=80\b/.test(f.match)), `${vm}: park wake entry (TCP 80) in ${spec.switch}'s dump-flows`);
  t.true(park.some((f) => f.match.includes('arp') && f.match.includes(`arp_tpa=${spec.ip}`)), `${vm}: ARP answer entry in ${spec.switch}'s dump-flows`);
  t.deepEqual(await vmFlows(c, vm, KIND.ACTIVITY), [], `${vm}: no activity entry on ${spec.switch} while parked`);
}

/** Parked now (waits for the next 'parked' transition unless its last one is). */
async function parkedNow(t: ExecutionContext, c: Ctx, vm: string): Promise<void> {
  const last = [...c.transitions].reverse().find((tr) => tr.vm === vm);
  if (last?.to !== 'parked') await waitTransition(c, vm, 'parked', c.transitions.length, 60_000);
  await checkParked(t, c, vm);
}

/** h1 curls the VM: woken with the first SYN (exactly one sent), its page served. */
async function curlWakesWithOneSyn(t: ExecutionContext, c: Ctx, vm: string, where = specOf(c, vm).switch): Promise<void> {
  const spec = specOf(c, vm);
  const before = c.transitions.length;
  const syns = await captureSyns(c.tb.hosts['h1']!.port, spec.ip);
  const mark = '\n--SEAMLESS-TIMING ';
  const out = await c.tb.exec('h1', 'curl', ['-sS', '--max-time', '20', '-w', `${mark}%{time_connect}`, `http://${spec.ip}/`], 30_000);
  const at = out.lastIndexOf(mark);
  const woken = await waitTransition(c, vm, 'active', before, 10_000);
  const nSyns = await syns.count();
  t.log(`${vm}: curl from h1 (${CLIENT_LEAF}) to ${where}: connect ${(Number(out.slice(at + mark.length)) * 1000).toFixed(0)} ms, engine wake ${woken.durationMs?.toFixed(0) ?? '?'} ms (${woken.reason})`);
  t.is(out.slice(0, at), `hello from ${vm}\n`, `${vm}: the page names the VM`);
  // A pause wake takes tens of ms, far under Linux's 1 s SYN retransmission: a second
  // SYN means the first was lost somewhere on the fabric instead of held and re-injected.
  t.is(nSyns, 1, `${vm}: h1 sent exactly one SYN`);
  t.is((await c.tb.domState(vm)).state, 'running', `${vm}: libvirt reports running after the wake`);
}

/** The link between `leaf` and a spine that broadcasts from `leaf` take now (the controller's spanning tree). */
async function treeUplink(c: Ctx, leaf: string): Promise<TestbedLink> {
  const view = await apiGet<LinksView>(c.api, '/v1/links');
  const names = new Set(view.links.filter((l) => l.tree).flatMap((l) => [l.a.portName, l.b.portName]));
  const up = c.tb.links.find((l) => (l.a === leaf || l.b === leaf) && names.has(l.aIntf) && names.has(l.bIntf));
  if (up === undefined) throw new Error(`no tree link on ${leaf}: ${JSON.stringify(view.links)}`);
  return up;
}

test.serial('both VMs go idle and are parked by pausing (libvirt over TLS, park entries on their own leaf)', async (t) => {
  t.timeout(120_000);
  const c = need();
  for (const vm of ['vm1', 'vm2']) await parkedNow(t, c, vm);
  t.log(`hypervisors: ${JSON.stringify(await apiGet(c.api, '/v1/hypervisors'))}`);
});

test.serial("ARP from h1 for a parked VM two hops away is answered with the VM's MAC and does not wake it", async (t) => {
  t.timeout(60_000);
  const c = need();
  await parkedNow(t, c, 'vm1');
  const spec = specOf(c, 'vm1');
  const before = c.transitions.length;
  const intf = c.tb.hosts['h1']!.intf;
  await c.tb.exec('h1', 'ip', ['neigh', 'flush', 'dev', intf]);
  const out = await c.tb.exec('h1', 'busybox', ['arping', '-c', '1', '-w', '3', '-I', intf, spec.ip], 10_000);
  t.regex(out.toLowerCase(), new RegExp(`\\[${spec.mac}\\]`), `ARP reply carries vm1's MAC: ${out}`);
  t.deepEqual((await c.tb.domState('vm1')).state, 'paused', 'ARP did not wake vm1');
  t.deepEqual(c.transitions.slice(before).filter((tr) => tr.vm === 'vm1'), [], 'no vm1 transition from ARP');
});

test.serial('curl from h1 wakes vm1 (two hops away) with its first SYN and gets its page', async (t) => {
  t.timeout(90_000);
  const c = need();
  await parkedNow(t, c, 'vm1');
  await curlWakesWithOneSyn(t, c, 'vm1');
});

test.serial("a spine link on h1's path is cut while vm2 is parked: curl from h1 still wakes vm2; h1 reaches both VMs", async (t) => {
  t.timeout(120_000);
  const c = need();
  await parkedNow(t, c, 'vm2');
  const cut = await treeUplink(c, CLIENT_LEAF);
  const n = c.tb.links.length;
  t.log(`cutting ${cut.aIntf} <-> ${cut.bIntf} (on the spanning tree)`);
  await c.tb.setLink(cut.a, cut.b, false);
  try {
    // The controller saw it (PORT_STATUS): the link is gone from its graph.
    await waitFor('the cut link gone from GET /v1/links', async () => {
      const v = await apiGet<LinksView>(c.api, '/v1/links');
      return v.links.length === n - 1 && !v.links.some((l) => l.a.portName === cut.aIntf || l.b.portName === cut.aIntf) ? true : undefined;
    }, 10_000);
    t.is((await c.tb.domState('vm2')).state, 'paused', 'vm2 still parked after the cut');
    await curlWakesWithOneSyn(t, c, 'vm2');
    // h1 <-> each VM after the cut (the controller answers no ICMP for an active VM:
    // these replies come from the guests, through the fabric's remaining links).
    for (const vm of ['vm1', 'vm2']) {
      const spec = specOf(c, vm);
      const body = await c.tb.exec('h1', 'curl', ['-sS', '--max-time', '20', `http://${spec.ip}/`], 30_000);
      t.is(body, `hello from ${vm}\n`, `${vm} serves h1 after the cut`);
      const ping = await c.tb.exec('h1', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', spec.ip], 15_000);
      t.regex(ping, /3 received/, `h1 -> ${vm}: ${ping}`);
    }
  } finally {
    await c.tb.setLink(cut.a, cut.b, true);
  }
  await waitFor('LLDP found the restored link', async () => ((await apiGet<LinksView>(c.api, '/v1/links')).links.length === n ? true : undefined), 20_000, 200);
});

test.serial("the monitor's traffic to parked vm1 (on s3) goes to sink1 on s5 and does not wake it", async (t) => {
  t.timeout(90_000);
  const c = need();
  await parkedNow(t, c, 'vm1');
  const spec = specOf(c, 'vm1');
  const sink = c.inv.sinks[0]!;
  const mon = c.tb.hosts['mon']!;
  const before = c.transitions.length;
  const cap = await c.tb.capture(sink.name, `tcp and src host ${mon.ip} and dst host ${spec.ip} and dst port 80`);
  // The sink does not answer for vm1's address: the connect times out, its SYNs are the evidence.
  await c.tb.exec('mon', 'curl', ['-sS', '--max-time', '2', `http://${spec.ip}/`], 10_000).catch(() => '');
  const lines = await cap.lines();
  t.log(`capture in ${sink.name} (${sink.switch}):\n${lines.join('\n')}`);
  t.true(lines.some((l) => l.includes(`${spec.ip}.80`) && l.includes('[S]')), `${sink.name} received the monitor's SYN to vm1`);
  t.is((await c.tb.domState('vm1')).state, 'paused', "the monitor's traffic did not wake vm1");
  t.deepEqual(c.transitions.slice(before).filter((tr) => tr.vm === 'vm1'), [], 'no vm1 transition from ignored traffic');
  // The entry that did it sits on the monitor's leaf, not on vm1's: ignored traffic never crosses the fabric to s3.
  const atClient = await vmFlows(c, 'vm1', KIND.PARK, CLIENT_LEAF);
  const ignore = atClient.filter((f) => f.priority === PRIO.PARK_IGNORE && f.match.includes(`nw_src=${mon.ip}`));
  t.true(ignore.length > 0 && ignore.every((f) => /^output:\d+$/.test(f.actions)), `vm1's ignore entry on ${CLIENT_LEAF} outputs to the sink port: ${atClient.map((f) => `${f.match} -> ${f.actions}`).join('; ')}`);
});

test.serial("vm1's tap moves to s4 (hv2's leaf) while parked: the controller follows it, curl from h1 wakes it there through hv2; moved back while up, make-before-break", async (t) => {
  t.timeout(150_000);
  const c = need();
  await parkedNow(t, c, 'vm1');
  const spec = specOf(c, 'vm1');
  const info = () => apiGet<VmInfo>(c.api, '/v1/vms/vm1');
  await c.tb.moveTap('vm1', 's4');
  let movedBack = false;
  try {
    const at = await waitFor('vm1 located on s4, host hv2', async () => {
      const v = await info();
      return v.switch === 's4' && v.hypervisor === 'hv2' ? v : undefined;
    }, 15_000, 100);
    t.is(at.state, 'parked', 'still parked after the move');
    t.true(c.logLines.some((l) => l.includes('"vm":"vm1"') && /moved from switch 0+3 port (\d+|-) to switch 0+4 port \d+.*libvirt host now qemu\+tls:\/\/127\.0\.0\.1\/system/.test(l)), 'the move is logged with the new libvirt host');
    const wakeOps = c.logLines.length;
    await curlWakesWithOneSyn(t, c, 'vm1', 's4');
    t.true(c.logLines.slice(wakeOps).some((l) => l.includes('"vm":"vm1"') && l.includes('libvirt op done') && l.includes('"op":"wake"')), 'a libvirt wake ran');
    t.is((await info()).hypervisor, 'hv2', 'woken through hv2, the host of the leaf it is on');
    await waitFor('vm1 activity entry on s4', async () => ((await vmFlows(c, 'vm1', KIND.ACTIVITY, 's4')).length > 0 ? true : undefined), 10_000);
    t.deepEqual(await vmFlows(c, 'vm1', KIND.ACTIVITY, 's3'), [], 'no activity entry left on s3');
    // Back to s3 while it runs (a migration back): the new leaf's entries come first, then the old go.
    await c.tb.moveTap('vm1', spec.switch);
    movedBack = true;
    await waitFor('vm1 located on s3, host hv1', async () => {
      const v = await info();
      return v.switch === 's3' && v.hypervisor === 'hv1' ? true : undefined;
    }, 15_000, 100);
    await waitFor('vm1 activity entry on s3 only', async () => ((await vmFlows(c, 'vm1', KIND.ACTIVITY, 's3')).length > 0 && (await vmFlows(c, 'vm1', KIND.ACTIVITY, 's4')).length === 0 ? true : undefined), 10_000);
    const body = await c.tb.exec('h1', 'curl', ['-sS', '--max-time', '20', `http://${spec.ip}/`], 30_000);
    t.is(body, 'hello from vm1\n', 'vm1 serves h1 from s3 again');
  } finally {
    if (!movedBack) await c.tb.moveTap('vm1', spec.switch);
  }
});

// The support the checks of issue 12 item 4 build on (a sink on another leaf, a VM
// whose tap moved): checked here against the real fabric, without asserting what
// the controller makes of them.
test.serial('testbed support: a capture in the sink sees h1 pings across the fabric; moveTap puts a tap on another leaf and back', async (t) => {
  t.timeout(60_000);
  const c = need();
  const sink = c.inv.sinks[0]!;
  const cap = await c.tb.capture(sink.name, `icmp and src host ${c.tb.hosts['h1']!.ip}`);
  const ping = await c.tb.exec('h1', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', sink.ip], 15_000);
  const lines = await cap.lines();
  t.log(`ping: ${ping}\ncapture in ${sink.name}:\n${lines.join('\n')}`);
  t.regex(ping, /3 received/, 'the sink answered h1');
  // All three, the last one too: it came right before the capture was stopped (regression:
  // without --immediate-mode tcpdump lost it in libpcap's buffer).
  t.is(lines.filter((l) => l.includes('echo request')).length, 3, `${sink.name} captured h1's three echo requests`);

  const spec = specOf(c, 'vm1');
  const attachedMac = () => run('ovs-vsctl', ['--timeout=10', 'get', 'Interface', spec.port, 'external_ids:attached-mac']);
  const macBefore = (await attachedMac()).trim();
  t.is(await c.tb.tapSwitch('vm1'), spec.switch, `vm1's tap starts on ${spec.switch}`);
  await c.tb.moveTap('vm1', 's4');
  try {
    t.is(await c.tb.tapSwitch('vm1'), 's4', "vm1's tap is on s4 after moveTap");
    t.is((await attachedMac()).trim(), macBefore, "libvirt's attached-mac went with the tap");
    t.not((await c.tb.domState('vm1')).state, 'shut off', 'the guest kept running (or parked) through the move');
  } finally {
    await c.tb.moveTap('vm1', spec.switch);
  }
  t.is(await c.tb.tapSwitch('vm1'), spec.switch, `vm1's tap is back on ${spec.switch}`);
});
