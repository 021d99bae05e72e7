// `seamless ofp decode|encode`, tested by spawning the built CLI (dist/, built with tsc
// before the tests if it is missing or older than the sources): vector files, their
// concatenation, garbage and truncated input, decode|encode byte-exact over all vectors,
// and ovs-ofctl ofp-parse accepting what encode writes.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'ava';
import { decode, toJSON } from '../../controller/openflow/index.js';
import { loadVectors, REPO_ROOT } from '../support/vectors.js';

const MAIN = resolve(REPO_ROOT, 'dist/controller/cli/main.js');
const BUILT = resolve(REPO_ROOT, 'dist/controller/cli/ofp-cmd.js');
const SOURCES = ['controller/cli/ofp-cmd.ts', 'controller/openflow/json.ts', 'controller/openflow/decode.ts', 'controller/openflow/encode.ts'];
const vectors = loadVectors();
const dir = mkdtempSync(join(tmpdir(), 'seamless-cli-ofp-'));

test.before(() => {
  const stale = !existsSync(BUILT) || SOURCES.some((s) => statSync(resolve(REPO_ROOT, s)).mtimeMs > statSync(BUILT).mtimeMs);
  if (stale) {
    // Other modules may be mid-edit and fail type-checking; tsc still emits, and we only
    // need the CLI and codec outputs, which are checked to exist below.
    spawnSync('npx', ['tsc', '-p', '.'], { cwd: REPO_ROOT, stdio: 'ignore', timeout: 300_000 });
  }
  if (!existsSync(BUILT)) throw new Error(`${BUILT} was not built (npx tsc -p .)`);
});
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], input?: Buffer | string): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, 'ofp', ...args], { input, timeout: 60_000, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

function file(name: string, data: Buffer | string): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

const lines = (b: Buffer): string[] => b.toString().split('\n').filter((l) => l !== '');

/** The one-line error format, with no stack trace. */
function assertCleanError(t: import('ava').ExecutionContext, stderr: string, re: RegExp): void {
  t.regex(stderr, re);
  t.is(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
  t.notRegex(stderr, /^\s+at /m);
}

// A sample of single files (each spawn costs ~0.2 s); the concatenation below covers all 64.
const sample = vectors.filter((_, i) => i % 8 === 0);

test('decode: vector files give one JSON line equal to toJSON(decode())', (t) => {
  t.true(sample.length >= 8);
  for (const v of sample) {
    const r = cli(['decode', file(v.name, v.bytes)]);
    t.is(r.status, 0, `${v.name}: ${r.stderr}`);
    const ls = lines(r.stdout);
    t.is(ls.length, 1, v.name);
    t.deepEqual(JSON.parse(ls[0]!), JSON.parse(JSON.stringify(toJSON(decode(v.bytes)))), v.name);
  }
});

test('decode | encode is byte-exact for every vector (concatenated) and for single files', (t) => {
  for (const v of sample) {
    const d = cli(['decode', '-'], v.bytes);
    t.is(d.status, 0, d.stderr);
    const e = cli(['encode', '-'], d.stdout);
    t.is(e.status, 0, e.stderr);
    t.true(e.stdout.equals(v.bytes), v.name);
  }
  const all = Buffer.concat(vectors.map((v) => v.bytes));
  const d = cli(['decode', file('all.bin', all)]);
  t.is(d.status, 0, d.stderr);
  t.is(lines(d.stdout).length, vectors.length);
  t.deepEqual(
    lines(d.stdout).map((l) => JSON.parse(l) as unknown),
    vectors.map((v) => JSON.parse(JSON.stringify(toJSON(decode(v.bytes)))) as unknown),
  );
  const e = cli(['encode', file('all.jsonl', d.stdout)]);
  t.is(e.status, 0, e.stderr);
  t.true(e.stdout.equals(all));
});

test('encode accepts a JSON array as well as JSON lines', (t) => {
  const all = Buffer.concat(vectors.slice(0, 10).map((v) => v.bytes));
  const jsonl = cli(['decode', '-'], all).stdout;
  const array = `[\n${lines(jsonl).join(',\n')}\n]\n`;
  const e = cli(['encode', '-'], array);
  t.is(e.status, 0, e.stderr);
  t.true(e.stdout.equals(all));
});

test('decode: garbage exits 1 with file and offset, no stack trace', (t) => {
  // ofp_header.length 3: framing is broken at offset 2 (the length field).
  const bad = file('garbage.bin', Buffer.from('0400000300000000deadbeef', 'hex'));
  const r = cli(['decode', bad]);
  t.is(r.status, 1);
  assertCleanError(t, r.stderr, new RegExp(`^seamless: ofp decode: ${bad}: offset 2: ofp_header.length 3 < 8\\n$`));
  t.is(r.stdout.length, 0);

  const random = cli(['decode', '-'], Buffer.from('this is not openflow at all, just text\n'));
  t.is(random.status, 1);
  assertCleanError(t, random.stderr, /^seamless: ofp decode: stdin: offset \d+: /);
});

test('decode: a bad message after good ones prints the good ones, then the error at its absolute offset', (t) => {
  const good = vectors.find((v) => v.name.includes('flow_mod'))!.bytes;
  // An echo_request is fine; then a flow_mod whose first instruction length is 3 (not a multiple of 8).
  const bad = Buffer.from(good);
  const matchLen = bad.readUInt16BE(50);
  const instrAt = 48 + ((matchLen + 7) & ~7);
  bad.writeUInt16BE(3, instrAt + 2);
  const stream = Buffer.concat([good, bad]);
  const r = cli(['decode', file('mixed.bin', stream)]);
  t.is(r.status, 1);
  t.is(lines(r.stdout).length, 1);
  assertCleanError(t, r.stderr, new RegExp(`: offset ${good.length + instrAt}: instruction type \\d+ has bad length 3`));

  // Truncated final message.
  const trunc = cli(['decode', '-'], Buffer.concat([good, good.subarray(0, 20)]));
  t.is(trunc.status, 1);
  t.is(lines(trunc.stdout).length, 1);
  assertCleanError(t, trunc.stderr, new RegExp(`^seamless: ofp decode: stdin: offset ${good.length}: truncated message: 20 of ${good.length} bytes\\n$`));
});

test('encode: malformed JSON, unknown types and bad values exit 1 naming the line', (t) => {
  const ok = '{"type":"barrier_request","xid":1}';
  const cases: [string, RegExp][] = [
    [`${ok}\n{"type": "hello",\n`, /^seamless: ofp encode: stdin: line 2: not valid JSON/],
    [`${ok}\n{"type":"no_such_message","xid":2}\n`, /^seamless: ofp encode: stdin: line 2: .*OFP_ENCODE_UNKNOWN_TYPE/],
    [`{"type":"echo_request","xid":1,"data":"xyz"}\n`, /^seamless: ofp encode: stdin: line 1: .*hex/],
    [`{"type":"port_mod","xid":1,"portNo":1,"hwAddr":"not-a-mac","config":0,"mask":0,"advertise":0}\n`, /^seamless: ofp encode: stdin: line 1: /],
    [`[${ok}, {"type":"barrier_request"}]`, /^seamless: ofp encode: stdin: element 1: .*xid/],
    ['{"type":"flow_mod","xid":1}\n', /^seamless: ofp encode: stdin: line 1: /],
  ];
  for (const [input, re] of cases) {
    const r = cli(['encode', '-'], input);
    t.is(r.status, 1, input);
    t.is(r.stdout.length, 0, 'no partial binary output');
    assertCleanError(t, r.stderr, re);
  }
  const missing = cli(['decode', join(dir, 'does-not-exist.bin')]);
  t.is(missing.status, 1);
  assertCleanError(t, missing.stderr, /^seamless: ofp decode: .*does-not-exist\.bin: ENOENT/);
});

test('usage errors exit 2; --help exits 0', (t) => {
  t.is(cli([]).status, 2);
  t.is(cli(['frobnicate']).status, 2);
  t.is(cli(['decode', 'a', 'b']).status, 2);
  const h = cli(['--help']);
  t.is(h.status, 0);
  t.regex(h.stdout.toString(), /seamless ofp decode/);
});

test('ovs-ofctl ofp-parse accepts what encode writes', (t) => {
  const msgs = [
    { type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [4] }] },
    { type: 'echo_request', xid: 2, data: '0102' },
    { type: 'features_request', xid: 3 },
    {
      type: 'flow_mod', xid: 4, cookie: '18446744073709551615', cookieMask: '0', tableId: 0, command: 0, idleTimeout: 60, hardTimeout: 0,
      priority: 100, bufferId: 4294967295, outPort: 4294967295, outGroup: 4294967295, flags: 1,
      match: [
        { field: 'in_port', value: 1 },
        { field: 'eth_type', value: 2048 },
        { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.255.0' },
        { field: 'eth_src', value: '02:00:00:00:00:01' },
      ],
      instructions: [
        { type: 'apply_actions', actions: [{ type: 'set_field', field: { field: 'eth_dst', value: '02:00:00:00:00:02' } }, { type: 'output', port: 2, maxLen: 65535 }] },
        { type: 'goto_table', tableId: 1 },
      ],
    },
    { type: 'packet_out', xid: 5, bufferId: 4294967295, inPort: 4294967293, actions: [{ type: 'output', port: 4294967291, maxLen: 0 }], data: 'ffffffffffff020000000001080600010800060400010200000000010a0000010000000000000a000002' },
    { type: 'multipart_request', xid: 6, flags: 0, body: { mpType: 'port_desc' } },
    { type: 'group_mod', xid: 7, command: 0, groupType: 0, groupId: 1, buckets: [{ weight: 0, watchPort: 4294967295, watchGroup: 4294967295, actions: [{ type: 'output', port: 3, maxLen: 0 }] }] },
    { type: 'barrier_request', xid: 8 },
  ];
  const enc = cli(['encode', '-'], msgs.map((m) => JSON.stringify(m)).join('\n'));
  t.is(enc.status, 0, enc.stderr);
  const bin = file('for-ovs.bin', enc.stdout);
  const r = spawnSync('ovs-ofctl', ['ofp-parse', bin], { encoding: 'utf8', timeout: 30_000 });
  t.is(r.error, undefined, 'ovs-ofctl is installed (openvswitch-switch)');
  t.is(r.status, 0, r.stderr);
  t.notRegex(r.stdout + r.stderr, /decode error|\*\*\*|WARN/);
  for (const name of ['OFPT_HELLO', 'OFPT_ECHO_REQUEST', 'OFPT_FEATURES_REQUEST', 'OFPT_FLOW_MOD', 'OFPT_PACKET_OUT', 'OFPST_PORT_DESC request', 'OFPT_GROUP_MOD', 'OFPT_BARRIER_REQUEST']) {
    t.regex(r.stdout, new RegExp(`${name} \\(OF1\\.3\\)`), name);
  }
  // OVS read back the values we wrote.
  t.regex(r.stdout, /priority=100,ip,in_port=1,dl_src=02:00:00:00:00:01,nw_dst=10\.0\.0\.0\/24/);
  t.regex(r.stdout, /actions=set_field:02:00:00:00:00:02->eth_dst,output:2,goto_table:1/);
  // And our decoder agrees with itself on the same file.
  t.is(lines(cli(['decode', bin]).stdout).length, msgs.length);
  t.true(readFileSync(bin).equals(enc.stdout));
});

/** `n` OFPT_ECHO_REQUEST messages (8 bytes each, xid = index): a long stream of small messages. */
function echoStream(n: number): Buffer {
  const b = Buffer.alloc(8 * n);
  for (let i = 0; i < n; i++) {
    b.writeUInt8(4, i * 8);
    b.writeUInt8(2, i * 8 + 1);
    b.writeUInt16BE(8, i * 8 + 2);
    b.writeUInt32BE(i, i * 8 + 4);
  }
  return b;
}

test('decode | head -1: a reader that closes early ends the command quietly, status 0 (was: EPIPE stack trace)', (t) => {
  const input = file('many-echoes.bin', echoStream(200_000));
  for (const sub of ['decode', 'encode']) {
    const src = sub === 'decode' ? input : file('many-echoes.jsonl', `${cli(['decode', input]).stdout.toString()}`);
    const err = join(dir, `${sub}.err`);
    // pipefail: the pipeline's status is seamless's own, not head's.
    const r = spawnSync('bash', ['-c', 'set -o pipefail; "$0" "$1" ofp "$2" "$3" 2>"$4" | head -c 100 >/dev/null', process.execPath, MAIN, sub, src, err], { timeout: 60_000 });
    t.is(r.status, 0, `${sub}: ${readFileSync(err, 'utf8')}`);
    t.is(readFileSync(err, 'utf8'), '', `${sub}: nothing on stderr`);
  }
});

test('decode streams: the first message is printed before the input ends (was: whole input read first)', async (t) => {
  const child = spawn(process.execPath, [MAIN, 'ofp', 'decode', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    // A liveness bound, not a speed target: the unfixed command never prints before EOF.
    setTimeout(() => reject(new Error('no output while the input was still open')), 20_000).unref();
    child.once('close', () => reject(new Error(`exited early: ${err}`)));
  });
  const stream = echoStream(3);
  child.stdin.write(stream.subarray(0, 11)); // one whole message and 3 bytes of the next
  try {
    const line = await firstLine;
    t.like(JSON.parse(line), { type: 'echo_request', xid: 0 });
  } finally {
    child.stdin.end(stream.subarray(11));
  }
  t.is(await exited, 0, err);
  t.deepEqual(lines(Buffer.from(out)).map((l) => JSON.parse(l).xid), [0, 1, 2]);
});
