// Runs a replay on worker threads: in the fast mode every VM has its own
// machine, so shares of the fleet replay independently (VMs i mod n). The trace
// goes to the workers in SharedArrayBuffers (no copy per worker); each returns
// its VMs' raw tallies and assemble() sums them in VM name order, so the result
// is the same for any number of workers.
import { Worker } from 'node:worker_threads';
import { assemble, type PartResult, type PreparedTrace, type ReplayOptions } from './engine.js';
import type { PolicyResult } from './results.js';
import type { Trace } from './trace.js';

/** What a worker posts: progress (flows of the trace walked so far), then its share's tallies. */
export type WorkerMessage = { kind: 'progress'; done: number } | { kind: 'done'; part: PartResult };

/** What a worker gets (structured clone; typed arrays over shared memory). */
export interface WorkerJob {
  readonly prepared: PreparedTrace;
  readonly opts: Omit<ReplayOptions, 'onTransition' | 'onProgress'>;
  readonly share: [number, number];
}

function shared<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array | Int32Array>(a: T, make: (b: SharedArrayBuffer) => T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const b = make(new SharedArrayBuffer(a.byteLength));
  b.set(a as never);
  return b;
}

/** The same prepared trace over shared memory (done once per run, reused by every policy). */
export function shareTrace(p: PreparedTrace): PreparedTrace {
  const t = p.trace;
  const trace: Trace = {
    file: t.file,
    n: t.n,
    start: shared(t.start, (b) => new Float64Array(b)),
    src: shared(t.src, (b) => new Uint32Array(b)),
    dst: shared(t.dst, (b) => new Uint32Array(b)),
    proto: shared(t.proto, (b) => new Uint8Array(b)),
    dport: shared(t.dport, (b) => new Uint16Array(b)),
    packets: shared(t.packets, (b) => new Uint32Array(b)),
    bytes: shared(t.bytes, (b) => new Float64Array(b)),
    durMs: shared(t.durMs, (b) => new Float64Array(b)),
  };
  return { ...p, trace, vmOf: shared(p.vmOf, (b) => new Int32Array(b)) };
}

/** The worker script next to this module (.ts when run from source under tsx). */
function workerUrl(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
}

/**
 * Replays with `threads` workers (1: in this thread). Progress is reported
 * per finished share. A failing worker fails the run with its error.
 */
export async function replayParallel(p: PreparedTrace, opts: ReplayOptions, threads: number): Promise<PolicyResult> {
  const wall = performance.now();
  const n = Math.max(1, Math.min(threads, p.inventory.vms.length));
  if (n === 1 || opts.fullFidelity === true) {
    const { replay } = await import('./engine.js');
    return replay(p, opts);
  }
  const sp = shareTrace(p);
  const { onProgress, ...rest } = opts;
  const plain = { profile: rest.profile, seed: rest.seed, policy: rest.policy };
  // Each worker walks the whole trace (replaying its own VMs' flows): the run is as far as their average.
  const at = new Array<number>(n).fill(0);
  const progress = (): void => onProgress?.(Math.floor(at.reduce((a, b) => a + b, 0) / n), p.trace.n);
  const parts = await Promise.all(
    Array.from({ length: n }, (_, k) => {
      const job: WorkerJob = { prepared: sp, opts: plain, share: [k, n] };
      return new Promise<PartResult>((resolve, reject) => {
        const url = workerUrl();
        // From source (tests under tsx) the worker registers the TypeScript loader itself:
        // loader hooks of the parent thread do not reach worker threads in Node 20.
        const w = url.pathname.endsWith('.ts')
          ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`, { eval: true, workerData: job })
          : new Worker(url, { workerData: job });
        w.on('message', (m: WorkerMessage) => {
          if (m.kind === 'progress') {
            at[k] = m.done;
            progress();
            return;
          }
          at[k] = p.trace.n;
          progress();
          resolve(m.part);
        });
        w.once('error', reject);
        w.once('exit', (code) => {
          if (code !== 0) reject(new Error(`replay worker ${k + 1}/${n} (policy ${opts.policy}) exited with ${code}`));
        });
      });
    }),
  );
  return assemble(parts, p.summary, (performance.now() - wall) / 1000);
}
