// The real daemon: `seamless controller --config --redis --api` as a child
// process with a private redis-server, driven by `seamless vm` / `switch` CLIs.
// A VM recorded parked in Redis before the start is parked for the new daemon.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { atExit } from '../support/exec.js';
import { startRedis } from '../support/redis.js';

const MAIN = join(import.meta.dirname, '..', '..', 'controller', 'cli', 'main.ts');

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import=tsx', MAIN, ...args], { env: { ...process.env, TZ: 'UTC' }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

test('seamless controller --redis --api: state restored from Redis, served to the CLI, socket removed on SIGTERM', async (t) => {
  const redis = await startRedis(t);
  const dir = await mkdtemp(join(tmpdir(), 'seamless-daemon-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // vm1: libvirt at a socket nobody serves (the daemon logs it and runs; vm1 is known
  // only from Redis). vm2: libvirt's test driver on the machine's libvirtd, whose
  // built-in domain 'test' is running, so libvirt confirms vm2 active.
  const uri = `qemu+unix:///system?socket=${join(dir, 'no-libvirt.sock')}`;
  const inv = join(dir, 'inv.yaml');
  await writeFile(
    inv,
    `switches: [{ name: s1, dpid: 1 }]
vms:
  - { name: vm1, libvirt: { uri: "${uri}", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depth: save }
  - { name: vm2, libvirt: { uri: "test:///default", domain: test }, mac: "52:54:00:00:00:12", ip: 10.0.0.12, switch: s1, port: vm2-tap, depth: pause }
`,
  );
  // A previous daemon parked vm1.
  const r = new Redis({ path: redis.socketPath });
  t.teardown(() => r.disconnect());
  await r.hset('seamless:vm:vm1', { state: 'parked', depth: 'save', since: String(Date.UTC(2025, 0, 2, 3, 4, 5)), domain: 'd1', lastPort: '7' });

  const sock = join(dir, 'run', 'seamless.sock');
  const child = spawn(process.execPath, ['--import=tsx', MAIN, 'controller', '--listen', '127.0.0.1:0', '--config', inv, '--redis', `unix://${redis.socketPath}`, '--api', sock, '--log-format', 'text'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const unregister = atExit(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  t.teardown(() => {
    child.kill('SIGKILL');
    unregister();
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`controller did not start: ${err}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => reject(new Error(`controller exited: ${err}`)));
  });

  // vm2 is 'unknown' until libvirt has confirmed its domain running (bounded wait).
  for (let i = 0; i < 100; i++) {
    const v = await cli('vm', 'info', 'vm2', '--json', '--socket', sock);
    if (v.code === 0 && JSON.parse(v.stdout).state !== 'unknown') break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const list = await cli('vm', 'list', '--socket', sock);
  t.is(list.code, 0, list.stderr);
  // Columns: name, state, depth, host (the VM's libvirt URI), since (date time), port, last wake, memory, energy.
  t.regex(list.stdout, /^ vm1 +parked +save +qemu\+unix:\/\/\/system\S* +\S+ \S+ +- +- +0 +0\.0 J$/m);
  t.regex(list.stdout, /^ vm2 +active +pause +test:\/\/\/default +\S+ \S+ +- +- +0 +0\.0 J$/m);
  const info = await cli('vm', 'info', 'vm2', '--json', '--socket', sock);
  const vm2 = JSON.parse(info.stdout);
  t.like(vm2, { name: 'vm2', state: 'active', domain: 'test', switch: 's1' });
  // Times are epoch ms although the engine runs on a monotonic clock.
  t.true(Math.abs(vm2.since - Date.now()) < 60_000, `since ${vm2.since}`);
  const missing = await cli('vm', 'wake', 'vm9', '--socket', sock);
  t.is(missing.code, 1);
  t.is(missing.stderr, "seamless: no VM named 'vm9' (known: vm1, vm2)\n");
  t.is((await cli('switch', 'list', '--socket', sock)).stdout, 'no switches connected\n');
  // No switch: the park flows cannot be confirmed, the engine aborts the park. The CLI
  // shows the engine's reason and its logged cause (it used to guess "traffic aborted it").
  const park = await cli('vm', 'park', 'vm2', '--wait', '--socket', sock);
  t.is(park.code, 1, park.stdout);
  t.is(park.stderr, 'seamless: vm2: park failed (park-barrier-failed): park aborted, barrier failed: switch not connected\n');

  child.kill('SIGTERM');
  t.is(await exited, 0, err);
  t.false(existsSync(sock), 'API socket removed on exit');
  t.regex(err, /control API listening/);
  t.regex(err, /parked state kept in redis/);
});

test('seamless controller: a bad --redis or a non-loopback --api is a usage error (exit 2)', async (t) => {
  const a = await cli('controller', '--redis', 'localhost:6379');
  t.is(a.code, 2);
  t.regex(a.stderr, /--redis: expected redis:\/\/HOST:PORT/);
  const b = await cli('controller', '--api', '0.0.0.0:7070');
  t.is(b.code, 2);
  t.regex(b.stderr, /--api: API address: 0\.0\.0\.0 is not a loopback address/);
});
