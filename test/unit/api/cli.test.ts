// The built CLI (dist/, as installed) spawned against an in-process API server
// with a fake source: output formats, exit codes, waiting for a wake.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startApiServer } from '../../../controller/api/server.js';
import { FakeSource, serveOnSocket, tempDir, vmView } from './fakes.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'dist', 'controller', 'cli', 'main.js');

test.before(() => {
  // The test runs the built CLI: make a stale build fail loudly instead of testing old code.
  const pairs = ['controller/cli/vm-cmd', 'controller/api/client', 'controller/api/address'].map((p) => [join(ROOT, `${p}.ts`), join(ROOT, 'dist', `${p}.js`)] as const);
  for (const [src, out] of pairs) {
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) throw new Error(`${out} is missing or older than ${src}: run 'npm run build' first`);
  }
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `seamless ...args` (asynchronously: the server answering it lives in this process). */
function seamless(...args: string[]): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' };
    delete env.SEAMLESS_SOCKET;
    execFile(process.execPath, [BIN, ...args], { env, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

function source() {
  return new FakeSource([
    vmView('vm1'),
    vmView('web-frontend', { state: 'parked', depth: 'pause', port: 12, wakes: 3, lastWakeMs: 512, since: Date.UTC(2025, 0, 2, 3, 5, 0), memoryReleasedBytes: 3 * 1024 * 1024 / 2, energySavedJoules: 123.456, unprofitableParks: 2, lastPark: { residentBytes: 200 * 1024 * 1024, releasedBytes: 3 * 1024 * 1024 / 2, swappedBytes: 150 * 1024 * 1024, compressedBytes: 40 * 1024 * 1024 } }),
    vmView('db', { state: 'waking', step: 'probe', port: null, lastWakeMs: 12_345, memoryReleasedBytes: 2 * 1024 ** 3, energySavedJoules: -27.25 }),
  ]);
}

test('vm list prints a virsh-like table; --json the API view', async (t) => {
  const src = source();
  const { path } = await serveOnSocket(t, src);
  const r = await seamless('vm', 'list', '--socket', path);
  t.is(r.code, 0, r.stderr);
  t.is(
    r.stdout,
    [
      ' Name           State            Depth   Host   Since                 Port   Last wake   Mem released   Energy saved',
      '----------------------------------------------------------------------------------------------------------------------',
      ' vm1            active           save    hv1    2025-01-02 03:04:05   10     -           0              0.0 J',
      ' web-frontend   parked           pause   hv1    2025-01-02 03:05:00   12     512 ms      1.5 MiB        123.5 J',
      ' db             waking (probe)   save    hv1    2025-01-02 03:04:05   -      12.3 s      2.00 GiB       -27.3 J',
      '',
    ].join('\n'),
  );
  const j = await seamless('vm', 'list', '--json', '--socket', path);
  t.deepEqual(JSON.parse(j.stdout), src.vms());
});

test('vm info prints every field; unknown VM exits 1 naming it', async (t) => {
  const { path } = await serveOnSocket(t, source());
  const r = await seamless('vm', 'info', 'web-frontend', '--socket', path);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^Name:\s+web-frontend$/m);
  t.regex(r.stdout, /^State:\s+parked$/m);
  t.regex(r.stdout, /^Domain:\s+dom-web-frontend$/m);
  t.regex(r.stdout, /^Hypervisor:\s+hv1$/m);
  t.regex(r.stdout, /^Last wake:\s+512 ms$/m);
  t.regex(r.stdout, /^Last error:\s+-$/m);
  t.regex(r.stdout, /^Last failure:\s+-$/m);
  t.regex(r.stdout, /^Memory released:\s+1\.5 MiB$/m);
  t.regex(r.stdout, /^Last park memory:\s+released 1\.5 MiB of 200(\.0)? MiB, swapped 150(\.0)? MiB, zram holds 40(\.0)? MiB$/m);
  t.regex(r.stdout, /^Energy saved:\s+123\.5 J$/m);
  t.regex(r.stdout, /^Parks not paid off:\s+2$/m);
  const bad = await seamless('vm', 'info', 'nope', '--socket', path);
  t.is(bad.code, 1);
  t.is(bad.stdout, '');
  t.is(bad.stderr, "seamless: no VM named 'nope' (known: vm1, web-frontend, db)\n");
});

test('vm park starts a park; a busy VM exits 1 with the reason', async (t) => {
  const src = source();
  const { path } = await serveOnSocket(t, src);
  const r = await seamless('vm', 'park', 'vm1', '--socket', path);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'vm1: parking (depth save)\n');
  t.is(src.vmsByName.get('vm1')?.state, 'parking');
  const again = await seamless('vm', 'park', 'vm1', '--socket', path);
  t.is(again.code, 1);
  t.is(again.stderr, 'seamless: vm1 is parking: it can be parked once it is active\n');
  const already = await seamless('vm', 'park', 'web-frontend', '--socket', path);
  t.is(already.stdout, 'web-frontend is already parked\n');
});

test('vm park --wait: a park the engine aborted shows its reason and logged cause (was: "traffic aborted it")', async (t) => {
  const src = source();
  const { path } = await serveOnSocket(t, src);
  src.park = async (name) => {
    const v = vmView(name, { state: 'parking', step: 'flows' });
    src.vmsByName.set(name, v);
    setTimeout(() => {
      src.vmsByName.set(
        name,
        vmView(name, {
          lastTransition: { from: 'parking', to: 'active', reason: 'park-barrier-failed', at: Date.now() },
          lastProblem: { message: 'park aborted, barrier failed: switch not connected', at: Date.now() },
        }),
      );
    }, 50);
    return { result: 'started', vm: v };
  };
  const r = await seamless('vm', 'park', 'vm1', '--wait', '--socket', path);
  t.is(r.code, 1);
  t.is(r.stderr, 'seamless: vm1: park failed (park-barrier-failed): park aborted, barrier failed: switch not connected\n');
  const info = await seamless('vm', 'info', 'vm1', '--socket', path);
  t.regex(info.stdout, /^Last change:\s+parking -> active: park-barrier-failed \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)$/m);
  t.regex(info.stdout, /^Last problem:\s+park aborted, barrier failed: switch not connected \(/m);
});

test('vm list against something that is not the API names the address (was: "Parse Error: Expected HTTP/")', async (t) => {
  const other = createServer((sock) => sock.end(Buffer.from([0x04, 0x00, 0x00, 0x08, 0, 0, 0, 1])));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  t.teardown(() => other.close());
  const port = (other.address() as { port: number }).port;
  const r = await seamless('vm', 'list', '--socket', `127.0.0.1:${port}`);
  t.is(r.code, 1);
  t.regex(r.stderr, new RegExp(`^seamless: 127\\.0\\.0\\.1:${port} does not speak the seamless control API \\(.+\\); is it the controller's --api address\\?\n$`));
});

test('vm wake waits until the VM is active and prints how long it took', async (t) => {
  const src = source();
  src.wakeMs = 300;
  const { path } = await serveOnSocket(t, src);
  const r = await seamless('vm', 'wake', 'web-frontend', '--socket', path);
  t.is(r.code, 0, r.stderr);
  const m = /^web-frontend is active: woke in (\d+) ms \(controller: 300 ms\)\n$/.exec(r.stdout);
  t.truthy(m, r.stdout);
  t.true(Number(m![1]) >= 300, `waited ${m![1]} ms for a 300 ms wake`);
  t.is(src.vmsByName.get('web-frontend')?.state, 'active');
  const already = await seamless('vm', 'wake', 'web-frontend', '--socket', path);
  t.is(already.stdout, 'web-frontend is already active\n');
  const json = await seamless('vm', 'wake', 'vm1', '--json', '--socket', path);
  t.like(JSON.parse(json.stdout), { name: 'vm1', state: 'active', elapsedMs: 0 });
});

test('vm wake: a failed wake and a timeout exit 1', async (t) => {
  const src = source();
  src.wakeMs = 5000;
  const { path } = await serveOnSocket(t, src);
  const slow = await seamless('vm', 'wake', 'web-frontend', '--timeout', '0.3', '--socket', path);
  t.is(slow.code, 1);
  t.is(slow.stderr, 'seamless: web-frontend is still waking (libvirt) after 0.3 s\n');
  // The engine gives up: wake_failed with its error.
  src.vmsByName.set('vm1', vmView('vm1', { state: 'parked' }));
  src.wake = async (name) => {
    const v = vmView(name, { state: 'waking', step: 'libvirt' });
    src.vmsByName.set(name, v);
    setTimeout(() => src.vmsByName.set(name, vmView(name, { state: 'wake_failed', lastError: 'LIBVIRT_ERROR: domain not found' })), 50);
    return { result: 'started', vm: v };
  };
  const failed = await seamless('vm', 'wake', 'vm1', '--socket', path);
  t.is(failed.code, 1);
  t.is(failed.stderr, 'seamless: vm1: wake failed: LIBVIRT_ERROR: domain not found\n');
});

test('switch list summarises datapaths and ports', async (t) => {
  const src = source();
  const { path } = await serveOnSocket(t, src);
  t.is((await seamless('switch', 'list', '--socket', path)).stdout, 'no switches connected\n');
  src.switchList = [
    {
      dpid: '0000000000000001',
      name: 's1',
      remote: '127.0.0.1:50000',
      nTables: 254,
      ports: [
        { portNo: 1, name: 's1-eth1', hwAddr: '00:00:00:00:00:01', up: true },
        { portNo: 10, name: 'vm1-tap', hwAddr: 'fe:54:00:00:00:11', up: false },
        { portNo: 0xfffffffe, name: 's1', hwAddr: '66:a5:18:f2:18:40', up: false },
      ],
    },
  ];
  const r = await seamless('switch', 'list', '--socket', path);
  t.is(
    r.stdout,
    [
      'Switch 0000000000000001 (s1)',
      '    remote: 127.0.0.1:50000',
      '    tables: 254',
      '    Port 1     s1-eth1   up     00:00:00:00:00:01',
      '    Port 10    vm1-tap   down   fe:54:00:00:00:11',
      '    Port LOCAL s1        down   66:a5:18:f2:18:40',
      '',
    ].join('\n'),
  );
  t.deepEqual(JSON.parse((await seamless('switch', 'list', '--json', '--socket', path)).stdout), src.switchList);
});

test('daemon not running: the operator message, exit 1', async (t) => {
  const path = join(await tempDir(t), 'seamless.sock');
  const r = await seamless('vm', 'list', '--socket', path);
  t.is(r.code, 1);
  t.is(r.stderr, `seamless: cannot reach the controller at ${path} (is 'seamless controller' running?)\n`);
  const tcp = await seamless('switch', 'list', '--socket', '127.0.0.1:1');
  t.is(tcp.stderr, "seamless: cannot reach the controller at 127.0.0.1:1 (is 'seamless controller' running?)\n");
});

test('a loopback HOST:PORT works like a socket path', async (t) => {
  const s = await startApiServer({ address: { kind: 'tcp', host: '127.0.0.1', port: 0 }, source: source() });
  t.teardown(() => s.close());
  const port = s.address.kind === 'tcp' ? s.address.port : 0;
  const r = await seamless('vm', 'info', 'vm1', '--json', '--socket', `127.0.0.1:${port}`);
  t.is(r.code, 0, r.stderr);
  t.is(JSON.parse(r.stdout).name, 'vm1');
});

test('usage errors exit 2 with the usage', async (t) => {
  for (const args of [['vm'], ['vm', 'reboot', 'x'], ['vm', 'info'], ['vm', 'park', 'a', 'b'], ['vm', 'list', '--bogus'], ['vm', 'wake', 'x', '--timeout', 'soon'], ['switch', 'show'], ['vm', 'list', '--socket', '0.0.0.0:80']]) {
    const r = await seamless(...args);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, /^seamless (vm|switch): .+\nusage: seamless (vm|switch) /, args.join(' '));
  }
  const help = await seamless('vm', '--help');
  t.is(help.code, 0);
  t.regex(help.stdout, /--socket PATH\|HOST:PORT/);
});

test('hypervisor list: each host, its endpoint and connection state; why a down host is down; --json the API view', async (t) => {
  const src = source();
  src.hypervisorList = [
    { name: 'hv1', uri: 'qemu+tls://hv1.example/system', endpoint: 'hv1.example:16514 (tls)', connection: 'up', since: Date.UTC(2025, 0, 2, 3, 4, 5), lastError: null, connects: 1, maxConcurrentOps: 4, vms: 2 },
    { name: 'hv2', uri: 'qemu+tls://hv2.example/system', endpoint: 'hv2.example:16514 (tls)', connection: 'down', since: Date.UTC(2025, 0, 2, 3, 5, 0), lastError: 'timed out after 5000 ms connecting', connects: 0, maxConcurrentOps: 2, vms: 1 },
  ];
  const { path } = await serveOnSocket(t, src);
  const r = await seamless('hypervisor', 'list', '--socket', path);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^ Name\s+Endpoint\s+Connection\s+Since\s+VMs\s+Max ops\s+Connects$/m);
  t.regex(r.stdout, /^ hv1\s+hv1\.example:16514 \(tls\)\s+up\s+2025-01-02 03:04:05\s+2\s+4\s+1$/m);
  t.regex(r.stdout, /^ hv2\s+hv2\.example:16514 \(tls\)\s+down\s+2025-01-02 03:05:00\s+1\s+2\s+0$/m);
  t.regex(r.stdout, /^ hv2: timed out after 5000 ms connecting$/m);
  t.notRegex(r.stdout, /^ hv1: /m);
  const j = await seamless('hypervisor', 'list', '--json', '--socket', path);
  t.deepEqual(JSON.parse(j.stdout), src.hypervisorList);
});
