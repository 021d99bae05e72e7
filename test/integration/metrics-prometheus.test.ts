// `seamless controller --metrics` scraped by a real Prometheus (Debian's package):
// the endpoint is what Prometheus accepts, and the state gauges are queryable.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atExit } from '../support/exec.js';
import { createBridge, destroyBridge } from '../support/ovs.js';
import { startPrometheus } from '../support/prometheus.js';

const MAIN = join(import.meta.dirname, '..', '..', 'controller', 'cli', 'main.ts');

test('seamless controller --metrics 127.0.0.1:PORT is scraped by Prometheus: seamless_vms and the per-VM state are queryable', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-metrics-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // vm2: libvirt's test driver on the machine's libvirtd, whose built-in domain 'test' runs.
  const inv = join(dir, 'inv.yaml');
  await writeFile(
    inv,
    `switches: [{ name: s1, dpid: 1 }]
vms:
  - { name: vm2, libvirt: { uri: "test:///default", domain: test }, mac: "52:54:00:00:00:12", ip: 10.0.0.12, switch: s1, port: vm2-tap, depth: pause }
`,
  );
  const child = spawn(
    process.execPath,
    ['--import=tsx', MAIN, 'controller', '--listen', '127.0.0.1:0', '--config', inv, '--api', join(dir, 'api.sock'), '--metrics', '127.0.0.1:0', '--log-format', 'text'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const unregister = atExit(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  t.teardown(() => {
    child.kill('SIGKILL');
    unregister();
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [ofPort, target] = await new Promise<[number, string]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`controller did not start: ${err}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const l = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      const m = /metrics at http:\/\/([^/\s]+)\/metrics/.exec(out);
      if (l !== null && m !== null) {
        clearTimeout(timer);
        resolve([Number(l[1]), m[1]!]);
      }
    });
    child.once('exit', () => reject(new Error(`controller exited: ${err}`)));
  });

  const prom = await startPrometheus(t, { scrape: [target] });
  const up = await prom.waitFor('up{job="seamless"} == 1');
  t.is(up.length, 1, 'the target is scraped successfully');
  const vms = await prom.waitFor('seamless_vms');
  t.deepEqual(vms.map((s) => s.metric.state).sort(), ['active', 'parked', 'parking', 'unknown', 'wake_failed', 'waking']);
  // libvirt confirms the test domain running: vm2 becomes active (bounded wait).
  const active = await prom.waitFor('seamless_vm_state{vm="vm2",state="active"} == 1');
  t.is(active.length, 1);
  t.is((await prom.samples('sum(seamless_vms)'))[0]!.value[1], '1');
  t.true((await prom.samples('seamless_wake_duration_seconds_bucket{depth="pause",le="0.005"}')).length === 1, 'the histogram buckets are ingested');

  // A real switch (OVS, userspace datapath) connects: counted UP; its bridge deleted: a disconnect by reason.
  t.is((await prom.samples('seamless_switches_connected'))[0]!.value[1], '0');
  const bridge = await createBridge(t, { controllerPort: ofPort });
  await prom.waitFor('seamless_switches_connected == 1');
  await destroyBridge(bridge);
  await prom.waitFor('seamless_switches_connected == 0');
  const downs = await prom.waitFor('sum(seamless_switch_disconnects_total) == 1');
  t.is(downs.length, 1);

  child.kill('SIGTERM');
  t.is(await exited, 0, err);
});

test('seamless controller: a bad --metrics is a usage error (exit 2) naming the value', async (t) => {
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const c = spawn(process.execPath, ['--import=tsx', MAIN, 'controller', '--metrics', 'nowhere'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.once('exit', (code) => resolve({ code, stderr }));
  });
  t.is(r.code, 2);
  t.regex(r.stderr, /--metrics: metrics address: expected PORT or HOST:PORT, got 'nowhere'/);
});
