/**
 * The codec numbers for the benchmark's result line. The codec owner's
 * micro-benchmark (bench/codec.ts) is a program that prints one JSON line,
 * so it is run as a child process (same numbers as `npm run bench:codec`);
 * if it is missing or fails, decode(packet_in) and encode(flow_mod) are
 * measured here, in-process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build, decode, encode } from '../../controller/openflow/index.js';
import { rate } from '../rate.js';


/** decode(packet_in) and encode(flow_mod) messages per second, in this process. */
export function measureCodecInProcess(ms = 1000): Record<string, number> {
  const packetIn = encode({
    type: 'packet_in',
    xid: 1,
    bufferId: 0xffffffff,
    totalLen: 60,
    reason: 0,
    tableId: 0,
    cookie: 0n,
    match: [{ field: 'in_port', value: 3 }],
    data: Buffer.alloc(60, 0xab),
  });
  const flowMod = build.flowMod({
    priority: 100,
    idleTimeout: 60,
    match: build.match({ in_port: 1, eth_src: '02:00:00:00:00:01', eth_dst: '02:00:00:00:00:02' }),
    instructions: [build.applyActions(build.output(2))],
  });
  let sink = 0;
  const res = {
    decodePacketIn: rate(() => {
      sink += decode(packetIn).xid;
    }, ms),
    encodeFlowMod: rate(() => {
      sink += encode(flowMod).length;
    }, ms),
  };
  if (sink === -1) process.stderr.write('unreachable\n'); // keeps the work observable to the JIT
  return res;
}

/** Codec throughput: bench/codec.js's JSON line if it runs, else the in-process measurement. */
export function measureCodec(root: string, log: (l: string) => void): Record<string, number> {
  const script = join(root, 'dist/bench/codec.js');
  if (existsSync(script)) {
    const r = spawnSync(process.execPath, [script], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    const last = r.stdout?.trim().split('\n').pop() ?? '';
    try {
      const parsed: unknown = JSON.parse(last);
      if (parsed !== null && typeof parsed === 'object' && Object.values(parsed).every((v) => typeof v === 'number')) {
        log(`codec (bench/codec.js): ${last}`);
        return parsed as Record<string, number>;
      }
    } catch {
      // fall through to the in-process measurement
    }
    log(`codec: bench/codec.js failed (status ${r.status}, ${r.stderr?.trim().split('\n').pop() ?? ''}); measuring in-process`);
  }
  const res = measureCodecInProcess();
  log(`codec (in-process): ${JSON.stringify(res)}`);
  return res;
}
