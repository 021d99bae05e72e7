// `seamless controller` flag parsing and its exit statuses (run in-process and as a child).
import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildApps, parseControllerArgs, parseListen, UsageError } from '../../../controller/cli/controller-cmd.js';
import { createLogger } from '../../../controller/log.js';

const MAIN = fileURLToPath(new URL('../../../controller/cli/main.ts', import.meta.url));

test('defaults', (t) => {
  t.deepEqual(parseControllerArgs([]), { listen: { host: '127.0.0.1', port: 6653 }, logLevel: 'info', logFormat: 'json', fabric: false, help: false });
});

test('all flags', (t) => {
  const a = parseControllerArgs([
    '--listen', '[::1]:0', '--config', 'topologies/testbed.yaml', '--tls-cert', 'c', '--tls-key', 'k', '--tls-ca', 'ca',
    '--log-level', 'debug', '--log-format', 'text', '--idle-timeout', '30', '--packet-in-rate', '0', '--fabric',
  ]);
  t.deepEqual(a, {
    listen: { host: '::1', port: 0 },
    config: 'topologies/testbed.yaml',
    tls: { certFile: 'c', keyFile: 'k', caFile: 'ca' },
    logLevel: 'debug',
    logFormat: 'text',
    idleTimeoutSec: 30,
    packetInRate: 0,
    fabric: true,
    help: false,
  });
});

test('listen forms', (t) => {
  t.deepEqual(parseListen(':6653'), { host: '0.0.0.0', port: 6653 });
  t.deepEqual(parseListen('10.1.2.3:1'), { host: '10.1.2.3', port: 1 });
  for (const bad of ['6653', 'host:', 'host:70000', '::1:6653', 'a:b']) t.throws(() => parseListen(bad), { instanceOf: UsageError }, bad);
});

test('bad flags are UsageErrors', (t) => {
  for (const argv of [
    ['--nope'],
    ['positional'],
    ['--tls-cert', 'c'],
    ['--log-level', 'loud'],
    ['--log-format', 'xml'],
    ['--idle-timeout', '-1'],
    ['--idle-timeout', '65536'],
    ['--packet-in-rate', '1.5'],
    ['--config', ''],
    ['--listen'],
  ]) {
    const e = t.throws(() => parseControllerArgs(argv), { instanceOf: UsageError }, argv.join(' '));
    t.is(e?.code, 'ERR_USAGE');
  }
});

function runCmd(args: string[], signalAfterListen?: NodeJS.Signals): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', MAIN, 'controller', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (signalAfterListen !== undefined && out.includes('listening on')) child.kill(signalAfterListen);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(kill);
      resolve({ code, out, err });
    });
  });
}

test('a bad flag exits 2 with the usage line and no stack trace', async (t) => {
  const r = await runCmd(['--packet-in-rate', 'lots']);
  t.is(r.code, 2);
  t.regex(r.err, /--packet-in-rate: expected an integer/);
  t.regex(r.err, /usage: seamless controller/);
  t.notRegex(r.err, /\n\s+at /);
});

test('a missing inventory exits 2 with a message naming the file', async (t) => {
  const r = await runCmd(['--listen', '127.0.0.1:0', '--config', '/nonexistent/inv.yaml']);
  t.is(r.code, 2);
  t.regex(r.err, /nonexistent\/inv\.yaml/);
  t.notRegex(r.err, /\n\s+at /);
});

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test(`${sig} stops it cleanly with status 0`, async (t) => {
    const r = await runCmd(['--listen', '127.0.0.1:0', '--log-format', 'text'], sig);
    t.regex(r.out, /listening on 127\.0\.0\.1:\d+/);
    t.is(r.code, 0, r.err);
    t.regex(r.err, /controller stopped/);
  });
}

test('--fabric: topology discovery runs first, the fabric-mode L2 last; without it the single-switch L2 alone', async (t) => {
  const log = createLogger({ level: 'silent' });
  const fabric = await buildApps(parseControllerArgs(['--fabric']), log);
  t.deepEqual(fabric.map((a) => a.name), ['topology', 'l2']);
  t.true('fabric' in fabric[1]!);
  const single = await buildApps(parseControllerArgs([]), log);
  t.deepEqual(single.map((a) => a.name), ['l2']);
  t.false('fabric' in single[0]!);
  for (const a of [...fabric, ...single]) await a.stop?.();
});
