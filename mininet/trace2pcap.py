#!/usr/bin/python3
"""CSV flow trace -> pcap, for the real replay (docs/operations.md#real-replay).

Debian's Python with python3-scapy (mininet/setup.sh installs it). Each flow
record (columns start,src,dst,proto,dport,packets,bytes,duration; seconds since
the epoch; any column order, '#' comments, gzip accepted) becomes packets from
the sending host's MAC to the destination VM's MAC, spread evenly over the
flow's duration: TCP opens with a SYN (the packet that wakes a parked VM), then
PSH/ACK segments; UDP datagrams; ICMP echo requests. At most --max-packets per
flow: past the first, packets only keep the VM's activity counter moving, and
a handful spread over the flow does that as well as thousands.

  trace2pcap.py --csv trace.csv --out trace.pcap --src-mac 00:00:00:00:00:01 \
      --mac 10.0.0.11=52:54:00:00:00:11 [--mac IP=MAC ...] [--max-packets 8]

Flows to an address with no --mac are left out and counted. Prints one JSON
line: {"flows": N, "packets": N, "skipped": N, "first": T, "last": T}.
"""
import argparse
import csv
import gzip
import io
import json
import sys

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import PcapWriter

COLUMNS = ['start', 'src', 'dst', 'proto', 'dport', 'packets', 'bytes', 'duration']
PROTOS = {'tcp': 6, 'udp': 17, 'icmp': 1}


def open_text(path):
    with open(path, 'rb') as f:
        magic = f.read(2)
    if magic == b'\x1f\x8b':
        return io.TextIOWrapper(gzip.open(path, 'rb'), encoding='utf-8')
    return open(path, encoding='utf-8')


def records(path):
    with open_text(path) as f:
        rows = csv.reader(line for line in f if line.strip() and not line.lstrip().startswith('#'))
        header = [c.strip().lower() for c in next(rows)]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            sys.exit(f'{path}: header lacks {", ".join(missing)} (needs {",".join(COLUMNS)})')
        idx = {c: header.index(c) for c in COLUMNS}
        for n, row in enumerate(rows, start=2):
            try:
                p = row[idx['proto']].strip().lower()
                yield {
                    'start': float(row[idx['start']]),
                    'src': row[idx['src']].strip(),
                    'dst': row[idx['dst']].strip(),
                    'proto': PROTOS[p] if p in PROTOS else int(p),
                    'dport': int(row[idx['dport']] or 0),
                    'packets': max(1, int(row[idx['packets']])),
                    'bytes': float(row[idx['bytes']]),
                    'duration': float(row[idx['duration']]),
                }
            except (ValueError, IndexError, KeyError) as e:
                sys.exit(f'{path}:{n}: bad flow record {row!r}: {e}')


def packets(i, r, src_mac, dst_mac, max_packets):
    n = min(r['packets'], max_packets)
    size = int(max(0, min(1400, r['bytes'] / r['packets'] - 40)))
    # A source port per flow (deterministic), so the VM's TCP stack sees distinct connections.
    sport = 20000 + i % 40000
    for k in range(n):
        t = r['start'] + (r['duration'] * k / (n - 1) if n > 1 else 0)
        l3 = IP(src=r['src'], dst=r['dst'])
        if r['proto'] == 6:
            l4 = TCP(sport=sport, dport=r['dport'], flags='S', seq=1000) if k == 0 else TCP(sport=sport, dport=r['dport'], flags='PA', seq=1001 + (k - 1) * size, ack=1) / Raw(b'x' * size)
        elif r['proto'] == 17:
            l4 = UDP(sport=sport, dport=r['dport']) / Raw(b'x' * size)
        elif r['proto'] == 1:
            l4 = ICMP(type=8, id=i % 65536, seq=k) / Raw(b'x' * size)
        else:
            l3.proto = r['proto']
            l4 = Raw(b'x' * size)
        p = Ether(src=src_mac, dst=dst_mac) / l3 / l4
        p.time = t
        yield p


def main():
    ap = argparse.ArgumentParser(description='CSV flow trace -> pcap for tcpreplay')
    ap.add_argument('--csv', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--src-mac', required=True, help='the sending host\'s MAC (tcpreplay sends from its interface)')
    ap.add_argument('--mac', action='append', default=[], help='IP=MAC of a destination (a VM)')
    ap.add_argument('--max-packets', type=int, default=8)
    a = ap.parse_args()
    macs = {}
    for m in a.mac:
        ip, _, mac = m.partition('=')
        if not mac:
            sys.exit(f'--mac {m}: expected IP=MAC')
        macs[ip] = mac
    out = []
    skipped = 0
    flows = 0
    for i, r in enumerate(records(a.csv)):
        mac = macs.get(r['dst'])
        if mac is None:
            skipped += 1
            continue
        flows += 1
        out.extend(packets(i, r, a.src_mac, mac, a.max_packets))
    out.sort(key=lambda p: float(p.time))
    w = PcapWriter(a.out, linktype=1, sync=False)
    for p in out:
        w.write(p)
    w.close()
    print(json.dumps({'flows': flows, 'packets': len(out), 'skipped': skipped,
                      'first': float(out[0].time) if out else None, 'last': float(out[-1].time) if out else None}))


if __name__ == '__main__':
    main()
