// Every PromQL expression of every dashboard panel returns data from a live
// controller: `seamless controller --metrics 127.0.0.1:PORT` drives the testbed
// (real Mininet switch, a libvirt/QEMU VM parked by pause), a real Prometheus
// (Debian's, own config and data dir) scrapes it every second, one park/wake
// cycle runs, then each expression must give a non-empty result within a
// bounded wait. Separately, every metric an expression names must be exported
// by the controller (a `# TYPE` line in /metrics): rare-event panels fall back
// to `or vector(0)` and would otherwise hide a misspelt name.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { dashboardQueries, expandForPrometheus, metricsOf } from '../../dashboards/src/index.js';
import { loadInventory } from '../../controller/inventory/index.js';
import { atExit } from '../support/exec.js';
import { freePort } from '../support/mininet.js';
import { startPrometheus, type PromSample } from '../support/prometheus.js';
import { startTestbed, waitFor } from '../support/testbed.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(REPO, 'controller/cli/main.ts');
/** The VM the cycle parks and wakes (pause: the cheapest wake on TCG). */
const VM = 'vm1';

interface Transition {
  vm: string;
  from: string;
  to: string;
  reason: string;
}

const sum = (s: readonly PromSample[]): number => s.reduce((n, x) => n + Number(x.value[1]), 0);
/** Some sample whose labels include `labels` has a finite value (histogram_quantile gives NaN without observations). */
const finite = (s: readonly PromSample[], labels: Readonly<Record<string, string>>): boolean =>
  s.some((x) => Object.entries(labels).every(([k, v]) => x.metric[k] === v) && Number.isFinite(Number(x.value[1])));

/** The testbed inventory with only vm1, parked after 4 s idle (the cycle takes seconds, not minutes). */
function testInventory(dir: string): string {
  const raw = parse(readFileSync(path.join(REPO, 'topologies/testbed.yaml'), 'utf8')) as Record<string, any>;
  raw['defaults'] = { ...raw['defaults'], idleTimeout: '4s', minActive: '4s', wakeTimeout: '30s' };
  raw['vms'] = (raw['vms'] as Array<{ name: string }>).filter((v) => v.name === VM);
  const file = path.join(dir, 'testbed-dashboards.yaml');
  writeFileSync(file, stringify(raw));
  return file;
}

test('every dashboard expression returns data from a live controller after a park/wake cycle', async (t) => {
  t.timeout(420_000);
  const cleanups: Array<() => Promise<void> | void> = [];
  t.teardown(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'seamless-dash-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = testInventory(dir);
  const inv = await loadInventory(config);
  const ofPort = await freePort();
  const metricsPort = await freePort();

  // Testbed first: a controller that starts while the guest boots would park it mid-boot.
  const tb = await startTestbed({ teardown: (fn) => cleanups.push(fn as () => Promise<void>) }, { inventory: inv, controllerPort: ofPort, waitConnected: false });

  const transitions: Transition[] = [];
  const logLines: string[] = [];
  const ctl: ChildProcess = spawn(
    process.execPath,
    ['--import=tsx', MAIN, 'controller', '--api', path.join(dir, 'api.sock'), '--listen', `127.0.0.1:${ofPort}`, '--metrics', `127.0.0.1:${metricsPort}`, '--config', config, '--log-format', 'json', '--log-level', 'info'],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const unregister = atExit(() => ctl.kill('SIGKILL'));
  cleanups.push(async () => {
    unregister();
    if (ctl.exitCode === null && ctl.signalCode === null) {
      const done = new Promise((r) => ctl.once('close', r));
      ctl.kill('SIGTERM');
      const k = setTimeout(() => ctl.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(k);
    }
  });
  let errBuf = '';
  ctl.stderr!.on('data', (d: Buffer) => {
    errBuf += d.toString();
    let nl;
    while ((nl = errBuf.indexOf('\n')) >= 0) {
      const line = errBuf.slice(0, nl);
      errBuf = errBuf.slice(nl + 1);
      logLines.push(line);
      try {
        const j = JSON.parse(line) as Record<string, unknown>;
        if (j['msg'] === 'vm transition') transitions.push(j as unknown as Transition);
      } catch {
        // not a JSON log line
      }
    }
  });
  const exitedEarly = new Promise<never>((_, reject) => ctl.once('close', (code) => reject(new Error(`controller exited ${code}:\n${logLines.slice(-40).join('\n')}`))));
  exitedEarly.catch(() => undefined);
  const alive = async <T>(p: Promise<T>): Promise<T> => Promise.race([p, exitedEarly]);

  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const exposition = () => alive(waitFor(`${metricsUrl} answers`, async () => {
    const res = await fetch(metricsUrl).catch(() => undefined);
    return res?.status === 200 ? res.text() : undefined;
  }, 30_000, 200));
  await exposition();

  const prom = await startPrometheus(t, { scrape: [`127.0.0.1:${metricsPort}`] });
  await waitFor('Prometheus scrapes the controller', async () => ((await prom.targets()).some((x) => x.health === 'up') ? true : undefined), 30_000, 250);

  // One park/wake cycle: idle -> parked (pause), then h1's HTTP request wakes it.
  const parked = await alive(waitFor(`${VM} -> parked`, async () => transitions.find((x) => x.vm === VM && x.to === 'parked'), 90_000, 100));
  t.log(`${VM} parked (${parked.reason})`);
  const before = transitions.length;
  const body = await tb.exec('h1', 'curl', ['-sS', '--max-time', '20', `http://${inv.vms[0]!.ip}/`], 30_000);
  t.is(body, `hello from ${VM}\n`);
  const woken = await alive(waitFor(`${VM} -> active`, async () => transitions.slice(before).find((x) => x.vm === VM && x.to === 'active'), 10_000, 50));
  t.log(`${VM} woken (${woken.reason})`);

  // Every metric an expression names is exported (HELP/TYPE lines exist even before a first sample).
  const text = await exposition();
  const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
  const queries = dashboardQueries();
  const missing = queries.flatMap((q) => metricsOf(q.expr).filter((m) => !exported.has(m)).map((m) => `${q.dashboard} / ${q.panel}: ${m}`));
  t.deepEqual(missing, [], 'metrics the dashboards query that /metrics does not export');

  // The vm variable lists the VM (label_values(seamless_vm_state, vm) is Grafana's /api/v1/label/vm/values?match[]=...).
  const vmValues = await waitFor('seamless_vm_state has a vm label', async () => {
    const res = await fetch(`${prom.url}/api/v1/label/vm/values?match[]=seamless_vm_state`);
    const j = (await res.json()) as { data: string[] };
    return j.data.includes(VM) ? j.data : undefined;
  }, 30_000, 500);
  t.true(vmValues.includes(VM));

  // Every expression returns data (bounded: a few scrapes after the wake).
  const empty = async () => {
    const out: string[] = [];
    for (const q of queries) {
      const expr = expandForPrometheus(q.expr, { vm: VM }, '1m');
      const r = await prom.query(expr);
      if (!r.ok) out.push(`${q.dashboard} / ${q.panel}: ${expr}: ${r.errorType}: ${r.error}`);
      else if (r.samples.length === 0) out.push(`${q.dashboard} / ${q.panel}: ${expr}: empty`);
    }
    return out;
  };
  let last: string[] = [];
  await waitFor('every dashboard expression returns data', async () => {
    last = await empty();
    return last.length === 0 ? true : undefined;
  }, 60_000, 1_000).catch(() => undefined);
  t.deepEqual(last, [], `expressions without data after the cycle:\n${last.join('\n')}`);
  // Non-empty is not enough where series are created at zero: the panels that show a park
  // and a wake must show this one (counts >= 1, a finite wake and libvirt latency at its depth).
  const expr = (dashboard: string, panel: string, i: number): string => {
    const q = queries.filter((x) => x.dashboard === dashboard && x.panel === panel)[i];
    if (q === undefined) throw new Error(`no query ${i} in ${dashboard} / ${panel}`);
    return expandForPrometheus(q.expr, { vm: VM }, '1m');
  };
  const cycle: Array<{ what: string; expr: string; ok: (s: PromSample[]) => boolean }> = [
    { what: `${VM} parks >= 1`, expr: expr('seamless / one VM', 'Parks and wakes', 0), ok: (s) => sum(s) >= 1 },
    { what: `${VM} wakes >= 1`, expr: expr('seamless / one VM', 'Parks and wakes', 1), ok: (s) => sum(s) >= 1 },
    { what: `${VM} held packets counted`, expr: `sum(seamless_held_packets_total{vm="${VM}"})`, ok: (s) => sum(s) >= 1 },
    { what: 'wake p50 at depth pause is a number', expr: expr('seamless / fleet overview', 'Wake latency p50 / p99 per depth', 0), ok: (s) => finite(s, { depth: 'pause' }) },
    { what: 'libvirt park p50 is a number', expr: expr('seamless / controller health', 'libvirt latency p50 / p99 by operation', 0), ok: (s) => finite(s, { op: 'park' }) },
  ];
  let notShown: string[] = [];
  await waitFor('the cycle shows in the panels', async () => {
    notShown = [];
    for (const c of cycle) {
      const r = await prom.query(c.expr);
      if (!r.ok || !c.ok(r.samples)) notShown.push(`${c.what}: ${c.expr} -> ${r.ok ? JSON.stringify(r.samples.map((x) => [x.metric, x.value[1]])) : r.error}`);
    }
    return notShown.length === 0 ? true : undefined;
  }, 30_000, 1_000).catch(() => undefined);
  t.deepEqual(notShown, [], `the park/wake cycle does not show:\n${notShown.join('\n')}`);

  // What the panels would show right after the cycle (for the person reading the test log).
  for (const q of queries) {
    const r = await prom.query(expandForPrometheus(q.expr, { vm: VM }, '1m'));
    if (r.ok) t.log(`${q.panel}: ${r.samples.map((s) => `${JSON.stringify(s.metric)}=${s.value[1]}`).join(' ')}`);
  }
});
