#!/usr/bin/python3
"""Start a multi-switch Mininet topology (topologies/leafspine.py, ring.py) on a
remote controller and drive it from stdin: pingall, link cuts, interface
packet counters, a timed ping across a link cut. Driven by test/support/fabric.ts.

  /usr/bin/python3 mininet/fabric.py --topology topologies/leafspine.py \
      --topo leafspine --controller-port 6653

On start it prints one line
  FABRIC_READY {"switches": [...], "hosts": [...], "links": [{"a": "s3", "aPort": 1, "aIntf": "s3-eth1", "b": "s1", ...}]}
then reads one JSON command per line and answers each with one line
  FABRIC_REPLY {...}   (or FABRIC_REPLY {"error": "..."})
Commands:
  {"cmd": "pingall", "timeout": 1, "tries": 3}          every ordered host pair
  {"cmd": "counters"}                                     rx/tx packets on every switch-to-switch interface
  {"cmd": "link", "a": "s1", "b": "s3", "up": false}      both ends of the link down (up)
  {"cmd": "cut", "src": "h1", "dst": "h6", "a": "s1", "b": "s3",
   "interval": 0.01, "count": 300, "cutAfter": 1.0}        ping src->dst every `interval` s, cut a-b after
                                                          `cutAfter` s; replies around the cut, the gap
  {"cmd": "run", "host": "h5", "args": ["arping", "-c", "1", "10.0.0.1"]}   a command in a host, its output
  {"cmd": "stop"}
It stops the network on `stop`, end of stdin, SIGTERM or SIGINT. The
machine-wide Mininet lock (shared with run_topo.py and testbed.py) is held
for the whole run. Never runs `mn -c`.
"""

import argparse
import json
import os
import re
import runpy
import shlex
import signal
import sys
import time
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from mininet.log import setLogLevel  # noqa: E402
from mininet.net import Mininet  # noqa: E402
from mininet.node import OVSSwitch  # noqa: E402
from mininet.util import buildTopo  # noqa: E402
from run_topo import QuietRemoteController, offload_off, ping_pairs, shut_down, switch_links, take_lock, wait_connected  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--topology', required=True)
    p.add_argument('--topo', required=True)
    p.add_argument('--controller-port', type=int, required=True)
    p.add_argument('--connect-timeout', type=float, default=30.0)
    p.add_argument('--lock-timeout', type=float, default=600.0)
    return p.parse_args()


def stat(intf, name):
    with open('/sys/class/net/%s/statistics/%s' % (intf, name)) as f:
        return int(f.read())


def counters(links):
    per = {}
    for l in links:
        for intf in (l['aIntf'], l['bIntf']):
            per[intf] = {'rx': stat(intf, 'rx_packets'), 'tx': stat(intf, 'tx_packets')}
    return {'interfaces': per, 'txTotal': sum(v['tx'] for v in per.values())}


REPLY_RE = re.compile(r'^\[(\d+\.\d+)\] \d+ bytes from [^:]+: icmp_seq=(\d+)')


def cut_while_pinging(net, c):
    src, dst = net.get(c['src']), net.get(c['dst'])
    interval, count = float(c.get('interval', 0.01)), int(c.get('count', 300))
    # -D: a wall-clock timestamp on every reply line, to place them against the cut.
    proc = src.popen(['ping', '-D', '-n', '-i', str(interval), '-c', str(count), '-W', '1', dst.IP()])
    time.sleep(float(c.get('cutAfter', 1.0)))
    cut_start = time.time()
    net.configLinkStatus(c['a'], c['b'], 'down')
    # Both ends are down once this returns (Mininet runs ifconfig in each switch's
    # shell, tens of ms): replies stamped later crossed the new path.
    cut_at = time.time()
    out, _ = proc.communicate(timeout=count * interval + 30)
    replies = []
    for line in out.decode(errors='replace').splitlines():
        m = REPLY_RE.match(line)
        if m:
            replies.append((float(m.group(1)), int(m.group(2))))
    before = [r for r in replies if r[0] <= cut_at]
    after = [r for r in replies if r[0] > cut_at]
    # The longest silence between consecutive replies over the whole run: the
    # cut is the only disturbance, so this is how long traffic stopped.
    stamps = sorted(ts for ts, _ in replies)
    gap = max((b - a for a, b in zip(stamps, stamps[1:])), default=None)
    seqs = {s for _, s in replies}
    lost_after_cut = [s for s in range(before[-1][1] + 1 if before else 1, (after[-1][1] if after else count) + 1) if s not in seqs]
    # The longest run of consecutive unanswered echoes (up to the last answered one):
    # with one echo per interval, run x interval is how long the path carried nothing,
    # whatever order the replies came back in.
    longest, run = 0, 0
    for s in range(1, max(seqs) + 1 if seqs else 1):
        run = 0 if s in seqs else run + 1
        longest = max(longest, run)
    return {'sent': count, 'received': len(replies), 'repliesBeforeCut': len(before), 'repliesAfterCut': len(after),
            'gapMs': None if gap is None else round(gap * 1000, 1),
            'firstReplyAfterCutMs': round((after[0][0] - cut_at) * 1000, 1) if after else None,
            'cutTookMs': round((cut_at - cut_start) * 1000, 1),
            'lostAroundCut': len(lost_after_cut), 'longestLossRun': longest, 'intervalMs': interval * 1000}


def handle(net, links, c):
    cmd = c.get('cmd')
    if cmd == 'pingall':
        res = ping_pairs(net, int(c.get('tries', 3)), int(c.get('timeout', 1)))
        return {'sent': len(res), 'received': sum(1 for r in res if r['ok']), 'results': res}
    if cmd == 'counters':
        return counters(links)
    if cmd == 'link':
        net.configLinkStatus(c['a'], c['b'], 'up' if c.get('up') else 'down')
        return {'ok': True}
    if cmd == 'cut':
        return cut_while_pinging(net, c)
    if cmd == 'run':
        # One command in a host's namespace (argv, quoted here): the park tests send
        # frames from a client and read a sink's counters.
        return {'output': net.get(c['host']).cmd(' '.join(shlex.quote(a) for a in c['args']))}
    raise ValueError('unknown command %r' % cmd)


class Stop(Exception):
    "SIGTERM/SIGINT."


def main():
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit('fabric: must run as root')
    topo = buildTopo(runpy.run_path(args.topology)['topos'], args.topo)

    def on_signal(_sig, _frame):
        raise Stop()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    setLogLevel('warning')
    lock = take_lock(args.lock_timeout)
    switch = partial(OVSSwitch, datapath='user', protocols='OpenFlow13', failMode='secure')
    controller = partial(QuietRemoteController, ip='127.0.0.1', port=args.controller_port)
    net = Mininet(topo=topo, switch=switch, controller=controller, autoSetMacs=True, build=False, waitConnected=False)
    status = 0
    try:
        net.build()
        net.start()
        offload_off(net)
        if not wait_connected(net.switches, args.connect_timeout):
            print('FABRIC_FAILED not every switch reached the controller', flush=True)
            return 1
        links = switch_links(net)
        print('FABRIC_READY ' + json.dumps({
            'switches': [{'name': s.name, 'dpid': s.dpid} for s in net.switches],
            'hosts': [{'name': h.name, 'ip': h.IP(), 'mac': h.MAC()} for h in net.hosts],
            'links': links}), flush=True)
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                c = json.loads(line)
                if c.get('cmd') == 'stop':
                    break
                reply = handle(net, links, c)
            except Stop:
                raise
            except Exception as exc:  # pylint: disable=broad-except
                reply = {'error': repr(exc)}
            print('FABRIC_REPLY ' + json.dumps(reply), flush=True)
    except Stop:
        status = 130
    finally:
        shut_down(net, lock)
    return status


if __name__ == '__main__':
    sys.exit(main())
