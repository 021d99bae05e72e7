// `seamless controller --config`: the inventory is loaded and checked before
// anything listens (a bad file exits 2 naming file and field), libvirt is
// connected per URI, and the process stops cleanly (no libvirt socket left open).
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLibvirt } from '../support/guest.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(REPO, 'controller/cli/main.ts');

function runController(args: string[], stopAfterListen: boolean): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', MAIN, 'controller', '--listen', '127.0.0.1:0', '--log-format', 'text', ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    // Bounded: a process that does not exit after SIGTERM is a failure (code null).
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (stopAfterListen && out.includes('listening on')) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(kill);
      resolve({ code, out, err });
    });
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'seamless-park-config-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

function variant(name: string, edit: (text: string) => string): string {
  const file = path.join(dir, name);
  writeFileSync(file, edit(readFileSync(path.join(REPO, 'topologies/testbed.yaml'), 'utf8')));
  return file;
}

test('a bad field exits 2, naming the file and the field, without a stack trace', async (t) => {
  const file = variant('bad-mac.yaml', (s) => s.replace('mac: "52:54:00:00:00:12"', 'mac: "52:54:zz"'));
  const r = await runController(['--config', file], false);
  t.is(r.code, 2);
  t.true(r.err.includes(`${file}: vms[1].mac:`), r.err);
  t.notRegex(r.err, /\n\s+at /);
  t.notRegex(r.out, /listening on/);
});

test('a missing file exits 2 naming it', async (t) => {
  const r = await runController(['--config', path.join(dir, 'nope.yaml')], false);
  t.is(r.code, 2);
  t.true(r.err.includes(`${path.join(dir, 'nope.yaml')}: cannot read`), r.err);
});

test('a libvirt URI the adapter cannot use exits 2 naming vms[i].libvirt.uri', async (t) => {
  const file = variant('bad-uri.yaml', (s) => s.replace('uri: "qemu:///system", domain: seamless-vm2', 'uri: "qemu+ssh://elsewhere/system", domain: seamless-vm2'));
  const r = await runController(['--config', file], false);
  t.is(r.code, 2);
  t.true(r.err.includes(`${file}: vms[1].libvirt.uri:`), r.err);
});

test('the testbed inventory: libvirt connected, parking engine loaded, clean stop on SIGTERM', async (t) => {
  await ensureLibvirt();
  const r = await runController(['--api', path.join(dir, 'api.sock'), '--config', path.join(REPO, 'topologies/testbed.yaml')], true);
  t.is(r.code, 0, r.err);
  t.regex(r.err, /libvirt connected uri=qemu:\/\/\/system/);
  t.regex(r.err, /parking engine loaded .*vms=2/);
  t.regex(r.err, /controller stopped/);
});

// Issue 8, items 9, 10 and 12: unsafe --api paths and --config files that are not inventories.
test('--api naming a regular file: exit 1 naming it, the file kept (was: unlinked and replaced)', async (t) => {
  const file = path.join(dir, 'operator-notes.txt');
  writeFileSync(file, 'keep me');
  const r = await runController(['--api', file], false);
  t.is(r.code, 1, r.err);
  t.true(r.err.includes(`${file}: exists and is not a socket; refusing to replace it`), r.err);
  t.is(readFileSync(file, 'utf8'), 'keep me');
});

test('--api under a directory that cannot be created: exit 1 naming it (was: 80 % CPU forever)', async (t) => {
  const r = await runController(['--api', '/proc/nope/x.sock'], false);
  t.is(r.code, 1, `killed after the bound: ${r.err}`);
  t.regex(r.err, /\/proc\/nope\/x\.sock: cannot create the directory \/proc\/nope: ENOENT/);
  t.notRegex(r.err, /\n\s+at /);
});

test('--config naming a FIFO exits 2 naming it (was: hung silently)', async (t) => {
  const fifo = path.join(dir, 'inventory.fifo');
  execFileSync('mkfifo', [fifo]);
  const r = await runController(['--api', path.join(dir, 'fifo-api.sock'), '--config', fifo], false);
  t.is(r.code, 2, `killed after the bound: ${r.err}`);
  t.true(r.err.includes(`${fifo}: cannot read: not a regular file (a FIFO)`), r.err);
});

test('--config with a YAML alias bomb exits 2 naming the file (was: exit 1, no file name)', async (t) => {
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
  const bomb = path.join(dir, 'bomb.yaml');
  writeFileSync(bomb, `${levels.join('\n')}\n`);
  const r = await runController(['--api', path.join(dir, 'bomb-api.sock'), '--config', bomb], false);
  t.is(r.code, 2, r.err);
  t.regex(r.err, new RegExp(`${bomb}: invalid YAML: .*alias`, 'i'));
});

test('--config with pollInterval: 1000h exits 2 naming the field (was: a 1 ms poll timer)', async (t) => {
  const file = variant('poll-1000h.yaml', (s) => s.replace('meterRate: 100 ', 'meterRate: 100\n  pollInterval: 1000h'));
  const r = await runController(['--api', path.join(dir, 'poll-api.sock'), '--config', file], false);
  t.is(r.code, 2, r.err);
  t.true(r.err.includes(`${file}: park.pollInterval: "1000h" is too long`), r.err);
});
