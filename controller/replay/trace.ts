// Traces: flow records the replay engine consumes, held in columns (typed
// arrays: ~40 bytes a flow, 5 M flows in ~200 MB) so every policy of a run
// replays the same records without reading the file again, and the oracle can
// look ahead. Readers: CSV flow records (gzip accepted, streamed line by line)
// and pcap/pcapng (tshark's field output, packets grouped into flows). Format
// of each: docs/replay.md#traces.
import { spawn } from 'node:child_process';
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

/** Flow records in start order. Times are ms since the Unix epoch. */
export interface Trace {
  readonly file: string;
  readonly n: number;
  readonly start: Float64Array;
  readonly src: Uint32Array;
  readonly dst: Uint32Array;
  readonly proto: Uint8Array;
  readonly dport: Uint16Array;
  readonly packets: Uint32Array;
  readonly bytes: Float64Array;
  readonly durMs: Float64Array;
}

/** One flow record, as readers produce it. */
export interface FlowRecord {
  startMs: number;
  src: number;
  dst: number;
  proto: number;
  dport: number;
  packets: number;
  bytes: number;
  durMs: number;
}

/** A trace that cannot be read; names the file (and line when there is one). */
export class TraceError extends Error {
  readonly code = 'ERR_REPLAY_TRACE';
  constructor(message: string) {
    super(message);
    this.name = 'TraceError';
  }
}

export function ipToU32(ip: string): number | undefined {
  const p = ip.split('.');
  if (p.length !== 4) return undefined;
  let n = 0;
  for (const x of p) {
    const b = Number(x);
    if (!Number.isInteger(b) || b < 0 || b > 255 || x === '') return undefined;
    n = n * 256 + b;
  }
  return n;
}

export function u32ToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Collects records into growing columns; `finish` sorts them by start time (stable) when they came unsorted. */
export class TraceBuilder {
  #n = 0;
  #cap: number;
  #sorted = true;
  #last = -Infinity;
  start: Float64Array;
  src: Uint32Array;
  dst: Uint32Array;
  proto: Uint8Array;
  dport: Uint16Array;
  packets: Uint32Array;
  bytes: Float64Array;
  durMs: Float64Array;

  constructor(capacity = 1024) {
    this.#cap = Math.max(16, capacity);
    this.start = new Float64Array(this.#cap);
    this.src = new Uint32Array(this.#cap);
    this.dst = new Uint32Array(this.#cap);
    this.proto = new Uint8Array(this.#cap);
    this.dport = new Uint16Array(this.#cap);
    this.packets = new Uint32Array(this.#cap);
    this.bytes = new Float64Array(this.#cap);
    this.durMs = new Float64Array(this.#cap);
  }

  get length(): number {
    return this.#n;
  }

  add(r: FlowRecord): void {
    this.push(r.startMs, r.src, r.dst, r.proto, r.dport, r.packets, r.bytes, r.durMs);
  }

  push(startMs: number, src: number, dst: number, proto: number, dport: number, packets: number, bytes: number, durMs: number): void {
    if (this.#n === this.#cap) this.#grow();
    const i = this.#n++;
    if (startMs < this.#last) this.#sorted = false;
    this.#last = startMs;
    this.start[i] = startMs;
    this.src[i] = src;
    this.dst[i] = dst;
    this.proto[i] = proto;
    this.dport[i] = dport;
    this.packets[i] = packets;
    this.bytes[i] = bytes;
    this.durMs[i] = durMs;
  }

  #grow(): void {
    const cap = this.#cap * 2;
    const g = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.start = g(this.start, (n) => new Float64Array(n));
    this.src = g(this.src, (n) => new Uint32Array(n));
    this.dst = g(this.dst, (n) => new Uint32Array(n));
    this.proto = g(this.proto, (n) => new Uint8Array(n));
    this.dport = g(this.dport, (n) => new Uint16Array(n));
    this.packets = g(this.packets, (n) => new Uint32Array(n));
    this.bytes = g(this.bytes, (n) => new Float64Array(n));
    this.durMs = g(this.durMs, (n) => new Float64Array(n));
    this.#cap = cap;
  }

  finish(file: string): Trace {
    const n = this.#n;
    const cut = { start: this.start.slice(0, n), src: this.src.slice(0, n), dst: this.dst.slice(0, n), proto: this.proto.slice(0, n), dport: this.dport.slice(0, n), packets: this.packets.slice(0, n), bytes: this.bytes.slice(0, n), durMs: this.durMs.slice(0, n) };
    if (this.#sorted) return { file, n, ...cut };
    const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => cut.start[a]! - cut.start[b]! || a - b);
    const perm = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(a: T): T => {
      const b = a.slice() as T;
      for (let i = 0; i < n; i++) b[i] = a[idx[i]!]!;
      return b;
    };
    return { file, n, start: perm(cut.start), src: perm(cut.src), dst: perm(cut.dst), proto: perm(cut.proto), dport: perm(cut.dport), packets: perm(cut.packets), bytes: perm(cut.bytes), durMs: perm(cut.durMs) };
  }
}

/** The CSV header: one flow a line after it (docs/replay.md#traces). */
export const CSV_COLUMNS = ['start', 'src', 'dst', 'proto', 'dport', 'packets', 'bytes', 'duration'] as const;

function protoNumber(s: string): number | undefined {
  const l = s.toLowerCase();
  if (l === 'tcp') return PROTO_TCP;
  if (l === 'udp') return PROTO_UDP;
  if (l === 'icmp') return PROTO_ICMP;
  const n = Number(s);
  return Number.isInteger(n) && n >= 0 && n <= 255 && s !== '' ? n : undefined;
}

/** `start`: seconds since the epoch (decimals allowed) or an ISO 8601 time with a zone. */
function parseStart(s: string): number | undefined {
  const n = Number(s);
  if (s !== '' && Number.isFinite(n)) return n * 1000;
  const t = Date.parse(s);
  return Number.isFinite(t) && /[zZ]|[+-]\d\d:?\d\d$/.test(s) ? t : undefined;
}

/** Parses one CSV data line (columns in the header's order); throws TraceError naming file:line and the column. */
export function parseCsvLine(line: string, order: readonly number[], file: string, lineNo: number): FlowRecord {
  const f = line.split(',');
  if (f.length !== CSV_COLUMNS.length) throw new TraceError(`${file}:${lineNo}: expected ${CSV_COLUMNS.length} columns (${CSV_COLUMNS.join(',')}), got ${f.length}`);
  const col = (c: number): string => f[order[c]!]!.trim();
  const bad = (c: number, what: string): never => {
    throw new TraceError(`${file}:${lineNo}: ${CSV_COLUMNS[c]}: ${what}, got ${JSON.stringify(col(c))}`);
  };
  const startMs = parseStart(col(0)) ?? bad(0, 'expected seconds since the epoch or an ISO 8601 time with a zone');
  const src = ipToU32(col(1)) ?? bad(1, 'expected an IPv4 address');
  const dst = ipToU32(col(2)) ?? bad(2, 'expected an IPv4 address');
  const proto = protoNumber(col(3)) ?? bad(3, 'expected tcp, udp, icmp or a protocol number');
  const dp = col(4) === '' ? 0 : Number(col(4));
  if (!Number.isInteger(dp) || dp < 0 || dp > 65535) bad(4, 'expected a port 0..65535 (empty for none)');
  const packets = Number(col(5));
  if (!Number.isInteger(packets) || packets < 1) bad(5, 'expected a whole number >= 1');
  const bytes = Number(col(6));
  if (!Number.isFinite(bytes) || bytes < 0) bad(6, 'expected a number >= 0');
  const dur = Number(col(7));
  if (!Number.isFinite(dur) || dur < 0 || col(7) === '') bad(7, 'expected seconds >= 0');
  return { startMs, src, dst, proto, dport: dp, packets, bytes, durMs: dur * 1000 };
}

function magic(file: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new TraceError(`${file}: cannot open the trace: ${(e as Error).message}`);
  }
  try {
    const b = Buffer.alloc(4);
    const n = readSync(fd, b, 0, 4, 0);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export type TraceFormat = 'csv' | 'csv.gz' | 'pcap' | 'pcapng';

/** The format, from the file's first bytes (not its name). */
export function detectFormat(file: string): TraceFormat {
  const m = magic(file);
  if (m.length >= 2 && m[0] === 0x1f && m[1] === 0x8b) return 'csv.gz';
  if (m.length === 4) {
    const be = m.readUInt32BE(0);
    if (be === 0x0a0d0d0a) return 'pcapng';
    if ([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(be)) return 'pcap';
  }
  return 'csv';
}

/** Reads a CSV flow trace (gzip detected by its magic bytes), streamed line by line. */
export async function readCsvTrace(file: string): Promise<Trace> {
  const gz = detectFormat(file) === 'csv.gz';
  const input: Readable = gz ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  const rl = createInterface({ input, crlfDelay: Infinity });
  const b = new TraceBuilder(1 << 16);
  let lineNo = 0;
  let order: number[] | undefined;
  const failed = new Promise<never>((_, reject) => input.on('error', (e) => reject(new TraceError(`${file}: ${gz ? 'gzip' : 'read'} error after line ${lineNo}: ${e.message}`))));
  const lines = (async () => {
    for await (const raw of rl) {
      lineNo++;
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      if (order === undefined) {
        const names = line.split(',').map((s) => s.trim().toLowerCase());
        order = CSV_COLUMNS.map((c) => names.indexOf(c));
        const missing = CSV_COLUMNS.filter((_, i) => order![i] === -1);
        if (missing.length > 0 || names.length !== CSV_COLUMNS.length) {
          throw new TraceError(`${file}:${lineNo}: the header must name the columns ${CSV_COLUMNS.join(',')} (in any order)${missing.length > 0 ? `; missing: ${missing.join(', ')}` : ''}`);
        }
        continue;
      }
      b.add(parseCsvLine(line, order, file, lineNo));
    }
  })();
  await Promise.race([lines, failed]);
  if (order === undefined) throw new TraceError(`${file}: empty trace: no header line (${CSV_COLUMNS.join(',')})`);
  return b.finish(file);
}

/** Packets further apart than this end a flow (like a flow exporter's inactive timeout). */
export const PCAP_FLOW_IDLE_MS = 60_000;

/**
 * Reads a pcap or pcapng file through tshark (Debian's `tshark`, maintained
 * dissectors; no hand-written parser): one line of fields per IPv4 packet,
 * grouped into flows by (src, dst, proto, src port, dst port); a gap longer
 * than PCAP_FLOW_IDLE_MS starts a new flow.
 */
export async function readPcapTrace(file: string, tshark = 'tshark'): Promise<Trace> {
  const args = ['-r', file, '-n', '-Y', 'ip', '-T', 'fields', '-E', 'separator=,', '-E', 'occurrence=f', '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ip.proto', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'frame.len'];
  const child = spawn(tshark, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(new TraceError(e.code === 'ENOENT' ? `${file}: reading pcap/pcapng needs tshark (Debian package tshark; mininet/setup.sh installs it)` : `${file}: tshark failed to start: ${e.message}`)),
    );
    child.on('close', (code) => resolve(code ?? 1));
  });
  interface Open {
    first: number;
    last: number;
    src: number;
    dst: number;
    proto: number;
    dport: number;
    packets: number;
    bytes: number;
  }
  const open = new Map<string, Open>();
  const b = new TraceBuilder(1 << 12);
  const close = (o: Open): void => b.push(o.first, o.src, o.dst, o.proto, o.dport, o.packets, o.bytes, o.last - o.first);
  const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
  let lineNo = 0;
  let sweepAt = -Infinity;
  for await (const line of rl) {
    lineNo++;
    const f = line.split(',');
    if (f.length < 9) continue;
    const t = Number(f[0]) * 1000;
    // occurrence=f: a tunnelled packet's outer header only (its inner ip.src would add a column).
    const src = ipToU32(f[1]!);
    const dst = ipToU32(f[2]!);
    const proto = Number(f[3]);
    if (!Number.isFinite(t) || src === undefined || dst === undefined || !Number.isInteger(proto)) continue;
    const sport = Number(f[4] || f[6] || 0);
    const dport = Number(f[5] || f[7] || 0);
    const len = Number(f[8]) || 0;
    const key = `${src},${dst},${proto},${sport},${dport}`;
    const o = open.get(key);
    if (o !== undefined && t - o.last <= PCAP_FLOW_IDLE_MS) {
      o.last = Math.max(o.last, t);
      o.packets++;
      o.bytes += len;
    } else {
      if (o !== undefined) close(o);
      open.set(key, { first: t, last: t, src, dst, proto, dport, packets: 1, bytes: len });
    }
    // Bounded memory on long captures: flows idle for longer than the timeout are closed.
    if (t - sweepAt > PCAP_FLOW_IDLE_MS) {
      sweepAt = t;
      for (const [k, x] of open) {
        if (t - x.last > PCAP_FLOW_IDLE_MS) {
          close(x);
          open.delete(k);
        }
      }
    }
  }
  const code = await exited;
  if (code !== 0) throw new TraceError(`${file}: tshark exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  for (const o of open.values()) close(o);
  return b.finish(file);
}

/** Reads a trace in any supported format. */
export async function readTrace(file: string): Promise<Trace> {
  const fmt = detectFormat(file);
  return fmt === 'pcap' || fmt === 'pcapng' ? readPcapTrace(file) : readCsvTrace(file);
}
