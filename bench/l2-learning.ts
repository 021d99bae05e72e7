#!/usr/bin/env node
/**
 * Micro-benchmark of the L2 fabric's hot path, no sockets:
 *   logic        L2Switch.packetIn on an already decoded packet_in
 *   +codec       decode(packet_in bytes) -> packetIn -> encode(replies)
 * for three traffic shapes: unknown destinations (flood), known destinations
 * (flow_mod + packet_out), and new sources on every packet (learning + LRU eviction).
 *
 *   npm run build && node dist/bench/l2-learning.js     (or: node --import=tsx bench/l2-learning.ts)
 * Knobs: BENCH_L2_N (packet-ins per run, default 300000), BENCH_L2_HOSTS (default 1000).
 * Prints one line per case and, last, a JSON summary of packet-ins per second.
 */
import { makeCookie } from '../controller/cookies.js';
import { L2Switch } from '../controller/l2/learning.js';
import * as C from '../controller/openflow/constants.js';
import { decode } from '../controller/openflow/decode.js';
import { encode } from '../controller/openflow/encode.js';
import type { MessageOf } from '../controller/openflow/types.js';
import { buildIcmpEchoRequest } from '../controller/packet/build.js';

const N = Number(process.env.BENCH_L2_N ?? 300_000);
const HOSTS = Number(process.env.BENCH_L2_HOSTS ?? 1000);
if (!Number.isInteger(N) || N < 1000 || !Number.isInteger(HOSTS) || HOSTS < 2 || HOSTS > 0xffff) {
  process.stderr.write('BENCH_L2_N must be an integer >= 1000 and BENCH_L2_HOSTS in 2..65535\n');
  process.exit(2);
}

const mac = (i: number) => `02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
const portOf = (i: number) => 1 + (i % 48);

function packetIn(src: number, dst: number | 'unknown'): MessageOf<'packet_in'> {
  const data = buildIcmpEchoRequest({
    ethSrc: mac(src),
    ethDst: dst === 'unknown' ? '06:00:00:00:00:01' : mac(dst),
    src: '10.0.0.1',
    dst: '10.0.0.2',
    id: 1,
    seq: 1,
  });
  return {
    type: 'packet_in', xid: 0, bufferId: C.OFP_NO_BUFFER, totalLen: data.length, reason: C.OFPR_NO_MATCH,
    tableId: 0, cookie: makeCookie('l2'), match: [{ field: 'in_port', value: portOf(src) }], data,
  };
}

interface Case {
  name: string;
  /** Packet-ins to cycle through. */
  msgs: MessageOf<'packet_in'>[];
  maxMacs?: number;
}

function cases(): Case[] {
  const flood: MessageOf<'packet_in'>[] = [];
  const known: MessageOf<'packet_in'>[] = [];
  const churn: MessageOf<'packet_in'>[] = [];
  for (let i = 0; i < HOSTS; i++) {
    flood.push(packetIn(i, 'unknown'));
    known.push(packetIn(i, (i * 7 + 1) % HOSTS));
    churn.push(packetIn(i, (i + 1) % HOSTS));
  }
  // churn: a MAC table of HOSTS/4 with HOSTS sources: most packet-ins learn a new MAC and evict one.
  return [
    { name: 'flood (unknown dst)', msgs: flood },
    { name: 'known dst (flow_mod + packet_out)', msgs: known },
    { name: 'new src + LRU eviction', msgs: churn, maxMacs: Math.max(1, HOSTS >> 2) },
  ];
}

function run(c: Case, withCodec: boolean): number {
  const sw = new L2Switch(c.maxMacs === undefined ? {} : { maxMacs: c.maxMacs });
  sw.switchUp();
  // Teach every host first so "known" really is known.
  for (const m of c.msgs) sw.packetIn(0, m);
  const wire = c.msgs.map((m) => encode(m));
  let out = 0;
  const start = process.hrtime.bigint();
  const len = c.msgs.length;
  for (let i = 0; i < N; i++) {
    const now = i >> 4; // 16 packet-ins per virtual ms: entries stay fresh
    if (withCodec) {
      const pi = decode(wire[i % len]!) as MessageOf<'packet_in'>;
      for (const m of sw.packetIn(now, pi)) out += encode(m).length;
    } else {
      out += sw.packetIn(now, c.msgs[i % len]!).length;
    }
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (out === 0) throw new Error(`${c.name}: produced nothing`);
  return N / secs;
}

const summary: Record<string, { logic: number; withCodec: number }> = {};
for (const c of cases()) {
  run(c, false); // warm up the JIT
  const logic = run(c, false);
  run(c, true);
  const withCodec = run(c, true);
  summary[c.name] = { logic: Math.round(logic), withCodec: Math.round(withCodec) };
  process.stdout.write(
    `${c.name.padEnd(36)} logic ${(logic / 1000).toFixed(0).padStart(6)}k/s   decode+logic+encode ${(withCodec / 1000).toFixed(0).padStart(6)}k/s\n`,
  );
}
process.stdout.write(`${JSON.stringify({ n: N, hosts: HOSTS, packetInsPerSec: summary })}\n`);
