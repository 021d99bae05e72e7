// A replay worker thread: replays one share of the fleet (parallel.ts) and posts its VMs' tallies.
import { parentPort, workerData } from 'node:worker_threads';
import { replayPart } from './engine.js';
import type { WorkerJob, WorkerMessage } from './parallel.js';

const job = workerData as WorkerJob;
const post = (m: WorkerMessage): void => parentPort!.postMessage(m);
const part = replayPart(job.prepared, { ...job.opts, onProgress: (done) => post({ kind: 'progress', done }) }, job.share);
post({ kind: 'done', part });
