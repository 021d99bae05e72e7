// Trace readers: CSV (header in any order, epoch seconds or ISO times, gzip),
// errors naming file, line and column, and pcap/pcapng read through tshark
// (captures written here by scapy and converted by editcap, both Debian).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { detectFormat, ipToU32, PROTO_TCP, PROTO_UDP, readTrace, TraceError, u32ToIp } from '../../../controller/replay/trace.js';

const dir = mkdtempSync(join(tmpdir(), 'seamless-trace-'));

const CSV = `# a comment line
start,src,dst,proto,dport,packets,bytes,duration
1767571300.5,10.0.0.1,10.0.0.11,tcp,22,10,4000,1.5
2026-01-05T00:00:00Z,10.0.0.2,10.0.0.12,udp,53,1,80,0
1767571200,10.0.0.3,10.0.0.13,17,123,2,200,0.25
`;

test('CSV: columns, both time forms, protocol names and numbers; sorted by start', async (t) => {
  const f = join(dir, 'a.csv');
  writeFileSync(f, CSV);
  const tr = await readTrace(f);
  t.is(tr.n, 3);
  // 2026-01-05T00:00:00Z = 1767571200 s: the two at that second come first, in file order.
  t.deepEqual([...tr.start], [1767571200000, 1767571200000, 1767571300500]);
  t.is(u32ToIp(tr.src[0]!), '10.0.0.2');
  t.is(tr.proto[0], PROTO_UDP);
  t.is(tr.dport[1], 123);
  t.is(tr.proto[2], PROTO_TCP);
  t.is(tr.packets[2], 10);
  t.is(tr.bytes[2], 4000);
  t.is(tr.durMs[2], 1500);
});

test('CSV: header columns in any order', async (t) => {
  const f = join(dir, 'order.csv');
  writeFileSync(f, 'dst,src,start,packets,bytes,duration,proto,dport\n10.0.0.11,10.0.0.1,100,3,300,2,tcp,443\n');
  const tr = await readTrace(f);
  t.is(u32ToIp(tr.dst[0]!), '10.0.0.11');
  t.is(tr.start[0], 100_000);
  t.is(tr.dport[0], 443);
});

test('CSV gzip is detected by its magic bytes, not its name', async (t) => {
  const f = join(dir, 'gz-without-suffix');
  writeFileSync(f, gzipSync(CSV));
  t.is(detectFormat(f), 'csv.gz');
  t.is((await readTrace(f)).n, 3);
});

test('CSV errors name the file, the line and the column', async (t) => {
  const bad = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const header = 'start,src,dst,proto,dport,packets,bytes,duration\n';
  let e = await t.throwsAsync(readTrace(bad('ip.csv', `${header}1,10.0.0.1,10.0.0.300,tcp,22,1,1,0\n`)), { instanceOf: TraceError });
  t.regex(e!.message, /ip\.csv:2: dst: expected an IPv4 address, got "10\.0\.0\.300"/);
  e = await t.throwsAsync(readTrace(bad('cols.csv', `${header}1,10.0.0.1,10.0.0.3,tcp,22,1\n`)), { instanceOf: TraceError });
  t.regex(e!.message, /cols\.csv:2: expected 8 columns/);
  e = await t.throwsAsync(readTrace(bad('hdr.csv', 'start,src,dst\n')), { instanceOf: TraceError });
  t.regex(e!.message, /hdr\.csv:1: the header must name the columns .*missing: proto, dport, packets, bytes, duration/);
  e = await t.throwsAsync(readTrace(bad('pk.csv', `${header}1,10.0.0.1,10.0.0.3,tcp,22,0,1,0\n`)), { instanceOf: TraceError });
  t.regex(e!.message, /pk\.csv:2: packets: expected a whole number >= 1, got "0"/);
  e = await t.throwsAsync(readTrace(bad('empty.csv', '')), { instanceOf: TraceError });
  t.regex(e!.message, /empty trace/);
  e = await t.throwsAsync(readTrace(join(dir, 'missing.csv')), { instanceOf: TraceError });
  t.regex(e!.message, /missing\.csv: cannot open the trace/);
});

test('a truncated gzip trace is an error, not a shorter trace', async (t) => {
  const f = join(dir, 'cut.csv.gz');
  const z = gzipSync(CSV.repeat(200));
  writeFileSync(f, z.subarray(0, Math.floor(z.length / 2)));
  const e = await t.throwsAsync(readTrace(f), { instanceOf: TraceError });
  t.regex(e!.message, /cut\.csv\.gz: gzip error/);
});

test('ipToU32 refuses what is not a dotted quad', (t) => {
  t.is(ipToU32('10.0.0.1'), 0x0a000001);
  t.is(ipToU32('255.255.255.255'), 0xffffffff);
  for (const s of ['10.0.0', '10.0.0.256', '10..0.1', 'a.b.c.d']) t.is(ipToU32(s), undefined, s);
});

// Two TCP connections (h1 -> vm 22 three packets, then again 70 s later: a new flow
// after the 60 s idle gap), one UDP packet, and an ARP frame (not IPv4: not a flow).
const SCAPY = `
import sys
from scapy.all import Ether, IP, TCP, UDP, ARP, wrpcap
t0 = 1767571200.0
p = []
def add(pkt, t):
    pkt.time = t
    p.append(pkt)
e = Ether(src='00:00:00:00:00:01', dst='52:54:00:00:00:11')
add(e/IP(src='10.0.0.1', dst='10.0.0.11')/TCP(sport=40000, dport=22, flags='S'), t0)
add(e/IP(src='10.0.0.1', dst='10.0.0.11')/TCP(sport=40000, dport=22, flags='A'), t0 + 0.5)
add(e/IP(src='10.0.0.1', dst='10.0.0.11')/TCP(sport=40000, dport=22, flags='A')/('x' * 100), t0 + 1.0)
add(Ether()/ARP(pdst='10.0.0.11'), t0 + 1.5)
add(e/IP(src='10.0.0.2', dst='10.0.0.12')/UDP(sport=5000, dport=53), t0 + 2.0)
add(e/IP(src='10.0.0.1', dst='10.0.0.11')/TCP(sport=40000, dport=22, flags='A'), t0 + 71.0)
wrpcap(sys.argv[1], p)
`;

test('pcap and pcapng: packets grouped into flows by tshark', async (t) => {
  const pcap = join(dir, 'c.pcap');
  const pcapng = join(dir, 'c.pcapng');
  const script = join(dir, 'mk.py');
  writeFileSync(script, SCAPY);
  execFileSync('/usr/bin/python3', [script, pcap]);
  execFileSync('editcap', ['-F', 'pcapng', pcap, pcapng]);
  t.is(detectFormat(pcap), 'pcap');
  t.is(detectFormat(pcapng), 'pcapng');
  for (const f of [pcap, pcapng]) {
    const tr = await readTrace(f);
    t.is(tr.n, 3, f);
    const rows = Array.from({ length: tr.n }, (_, i) => [tr.start[i]! - 1767571200000, u32ToIp(tr.dst[i]!), tr.proto[i], tr.dport[i], tr.packets[i], Math.round(tr.durMs[i]!)]);
    t.deepEqual(rows, [
      [0, '10.0.0.11', PROTO_TCP, 22, 3, 1000],
      [2000, '10.0.0.12', PROTO_UDP, 53, 1, 0],
      [71000, '10.0.0.11', PROTO_TCP, 22, 1, 0],
    ]);
    t.true(tr.bytes[0]! > 3 * 54, 'frame lengths summed');
  }
});

test('a file tshark cannot read is an error naming it', async (t) => {
  const f = join(dir, 'broken.pcap');
  // A pcap magic and nothing else: tshark reports a cut-short file.
  writeFileSync(f, Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]));
  const e = await t.throwsAsync(readTrace(f), { instanceOf: TraceError });
  t.regex(e!.message, /broken\.pcap: tshark exited with/);
});
