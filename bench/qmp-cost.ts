// What libvirt's own QMP chatter costs on this machine, without libvirt.
//
// On every start (a cold boot and a start from a managed save alike) libvirt 9.0 reads the
// guest's CPU features by sending QEMU one `qom-get` per boolean property of the vCPU
// object, one after another (qemuProcessUpdateAndVerifyCPU; ~400 round trips with QEMU 7.2),
// and QEMU 7.2's monitor reads each command one byte per main-loop iteration. On the
// project's test machines that is the largest part of a `save`-depth wake, and it varies
// with the machine's speed (docs/benchmarks.md, "Where a save wake's time goes").
// This replays the same exchange against a bare, paused TCG QEMU so the cost can be read
// off any machine (and re-checked after a libvirt/QEMU upgrade: QEMU 10.1's `qom-list-get`
// lets newer libvirt do it in one round trip).
//
//   npx tsx bench/qmp-cost.ts [--runs N]     (qemu-system-x86_64 on PATH; root not needed)
//
// Prints one JSON object: QEMU start-up to the QMP greeting, the qom-get sweep, and a
// cheap command's round trip (query-status) as the floor.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new RangeError('--runs must be an integer in 1..20');

const CPU_PATH = '/machine/unattached/device[0]';

/** A minimal line-based QMP client: one command in flight at a time, as libvirt does. */
class Qmp {
  private buf = '';
  private waiting: ((line: Record<string, unknown>) => void) | undefined;
  private queue: Record<string, unknown>[] = [];

  constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(this.buf.slice(0, nl)) as Record<string, unknown>;
        this.buf = this.buf.slice(nl + 1);
        if ('event' in msg) continue;
        const w = this.waiting;
        if (w) {
          this.waiting = undefined;
          w(msg);
        } else this.queue.push(msg);
      }
    });
  }

  next(): Promise<Record<string, unknown>> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((r) => (this.waiting = r));
  }

  async cmd(execute: string, args?: Record<string, unknown>): Promise<unknown> {
    this.sock.write(JSON.stringify(args ? { execute, arguments: args } : { execute }) + '\n');
    const r = await this.next();
    if ('error' in r) throw new Error(`QMP ${execute}: ${JSON.stringify(r['error'])}`);
    return r['return'];
  }
}

async function connectWithRetry(sockPath: string, deadline: number): Promise<Socket> {
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = createConnection(sockPath, () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (performance.now() > deadline) throw new Error(`QEMU's QMP socket ${sockPath} never accepted a connection`, { cause: e });
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

interface Run {
  startupMs: number;
  properties: number;
  qomGets: number;
  qomGetSweepMs: number;
  qomGetMeanMs: number;
  queryStatusMeanMs: number;
}

async function once(): Promise<Run> {
  const dir = mkdtempSync(path.join(tmpdir(), 'seamless-qmp-'));
  const sockPath = path.join(dir, 'qmp.sock');
  // The same machine, accelerator and CPU model libvirt gives the testbed guests.
  const qemu = spawn('qemu-system-x86_64', [
    '-machine', 'pc,accel=tcg', '-cpu', 'qemu64', '-m', '128', '-nodefaults', '-display', 'none', '-S',
    '-qmp', `unix:${sockPath},server=on,wait=off`,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<never>((_, reject) => qemu.once('exit', (code) => reject(new Error(`qemu exited early (code ${code})`))));
  try {
    const t0 = performance.now();
    const sock = await Promise.race([connectWithRetry(sockPath, t0 + 10_000), exited]);
    const qmp = new Qmp(sock);
    await qmp.next(); // greeting
    const startupMs = performance.now() - t0;
    await qmp.cmd('qmp_capabilities');
    const t1 = performance.now();
    const props = (await qmp.cmd('qom-list', { path: CPU_PATH })) as Array<{ name: string; type: string }>;
    const bools = props.filter((p) => p.type === 'bool').map((p) => p.name);
    for (const name of bools) await qmp.cmd('qom-get', { path: CPU_PATH, property: name });
    const sweep = performance.now() - t1;
    const n = 200;
    const t2 = performance.now();
    for (let i = 0; i < n; i++) await qmp.cmd('query-status');
    const status = (performance.now() - t2) / n;
    sock.destroy();
    const r1 = (x: number) => Math.round(x * 10) / 10;
    return {
      startupMs: r1(startupMs),
      properties: props.length,
      qomGets: bools.length,
      qomGetSweepMs: r1(sweep),
      qomGetMeanMs: Math.round((sweep / bools.length) * 1000) / 1000,
      queryStatusMeanMs: Math.round(status * 1000) / 1000,
    };
  } finally {
    qemu.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Run[] = [];
for (let i = 0; i < runs; i++) {
  const r = await once();
  process.stderr.write(`qmp-cost: run ${i + 1}/${runs}: ${JSON.stringify(r)}\n`);
  results.push(r);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  JSON.stringify({
    startupMs: median(results.map((r) => r.startupMs)),
    qomGets: results[0]!.qomGets,
    qomGetSweepMs: median(results.map((r) => r.qomGetSweepMs)),
    qomGetMeanMs: median(results.map((r) => r.qomGetMeanMs)),
    queryStatusMeanMs: median(results.map((r) => r.queryStatusMeanMs)),
  }),
);
