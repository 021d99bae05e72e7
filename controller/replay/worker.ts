// A replay worker thread: replays one share of the fleet (parallel.ts) and posts its VMs' tallies.
import { parentPort, workerData } from 'node:worker_threads';
import { replayPart } from './engine.js';
import type { WorkerJob } from './parallel.js';

const job = workerData as WorkerJob;
parentPort!.postMessage(replayPart(job.prepared, job.opts, job.share));
