/**
 * Peak memory of `seamless ofp decode` on a long stream of small messages
 * (`npm run bench:ofp-memory`): 10 MB of 8-byte OFPT_ECHO_REQUESTs (1.31 M
 * messages, ~90 MB of JSON out) decoded by the built CLI into /dev/null. The
 * child reports its own peak RSS (process.resourceUsage().maxRSS) from a
 * preloaded module; `seamless version` gives the baseline of a bare start.
 * Prints one JSON object. Before streaming (whole input read, every line kept)
 * this held ~400 MB; streaming keeps it near the baseline, whatever the input size.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'dist', 'controller', 'cli', 'main.js');
const INPUT_BYTES = Number(process.env.OFP_BENCH_BYTES ?? 10 * 1024 * 1024);

const dir = mkdtempSync(join(tmpdir(), 'seamless-ofp-mem-'));
try {
  const n = Math.floor(INPUT_BYTES / 8);
  const input = Buffer.alloc(n * 8);
  for (let i = 0; i < n; i++) {
    input.writeUInt8(4, i * 8); // OFP_VERSION 1.3
    input.writeUInt8(2, i * 8 + 1); // OFPT_ECHO_REQUEST
    input.writeUInt16BE(8, i * 8 + 2);
    input.writeUInt32BE(i, i * 8 + 4);
  }
  const file = join(dir, 'echoes.bin');
  writeFileSync(file, input);
  const preload = join(dir, 'maxrss.mjs');
  writeFileSync(preload, "process.on('exit', () => process.stderr.write(`maxRSS_KB=${process.resourceUsage().maxRSS}\\n`));\n");

  const run = (args: string[]) => {
    const devnull = openSync('/dev/null', 'w');
    try {
      const r = spawnSync(process.execPath, ['--import', preload, MAIN, ...args], { stdio: ['ignore', devnull, 'pipe'], timeout: 600_000 });
      const m = /maxRSS_KB=(\d+)/.exec(r.stderr.toString());
      if (r.status !== 0 || m === null) throw new Error(`seamless ${args.join(' ')}: status ${r.status}: ${r.stderr.toString()}`);
      return Math.round(Number(m[1]) / 1024);
    } finally {
      closeSync(devnull);
    }
  };
  const baselineMB = run(['version']);
  const t0 = process.hrtime.bigint();
  const decodeMB = run(['ofp', 'decode', file]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ bench: 'ofp-decode-memory', inputBytes: input.length, messages: n, baselineMaxRssMB: baselineMB, decodeMaxRssMB: decodeMB, seconds: Math.round(seconds * 10) / 10 }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
