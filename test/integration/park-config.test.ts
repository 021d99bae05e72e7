// `seamless controller --config`: the inventory is loaded and checked before
// anything listens (a bad file exits 2 naming file and field), libvirt is
// connected per URI, and the process stops cleanly (no libvirt socket left open).
import test from 'ava';
import { spawn } from 'node:child_process';
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
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
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
