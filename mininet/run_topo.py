#!/usr/bin/python3
"""Start a Mininet topology from topologies/, ping all host pairs, report, stop.

Run with Debian's /usr/bin/python3 (the python3 first on PATH does not see
Debian's Mininet), as root:

  /usr/bin/python3 mininet/run_topo.py --topology topologies/tree.py \
      --topo tree,depth=2,fanout=2 --controller-port 6653 [--format text|json]

Switches are OVS with the userspace datapath speaking OpenFlow 1.3, pointed at
a remote controller on 127.0.0.1:PORT. Without --controller-port the switches
run fail_mode=standalone with no controller (plain learning switches), which
tests the testbed itself.

Output: with --format json (default) one line `SEAMLESS_RESULT {...}` on
stdout, after whatever Mininet logs; with --format text a human summary.
Only one run at a time per machine: a lock file serialises runs, because
Mininet's fixed names (s1, h1-eth0) would collide.
"""

import argparse
import fcntl
import json
import os
import runpy
import signal
import subprocess
import sys
import time
from functools import partial

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import OVSSwitch, RemoteController
from mininet.util import buildTopo

LOCK_PATH = '/run/lock/seamless-mininet.lock'


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--topology', required=True, help='topology file with a `topos` dict')
    p.add_argument('--topo', required=True, help='NAME[,ARG...][,KEY=VAL...] as for mn --topo')
    p.add_argument('--controller-port', type=int, help='remote controller on 127.0.0.1:PORT')
    p.add_argument('--controller-ip', default='127.0.0.1')
    p.add_argument('--connect-timeout', type=float, default=20.0,
                   help='seconds to wait for every switch to connect (default 20)')
    p.add_argument('--ping-timeout', type=int, default=2, help='seconds per echo request (default 2)')
    p.add_argument('--ping-tries', type=int, default=2,
                   help='echo requests per pair; a pair passes on the first reply (default 2)')
    p.add_argument('--lock-timeout', type=float, default=600.0)
    p.add_argument('--format', choices=['json', 'text'], default='json')
    return p.parse_args()


class QuietRemoteController(RemoteController):
    """RemoteController without Mininet's start-up probe. That probe telnets to
    the controller and decodes the reply as UTF-8: an OpenFlow HELLO (binary,
    random xid) makes it raise UnicodeDecodeError at random, and it shows the
    controller a bogus connection. wait_connected() checks the real thing."""

    def checkListening(self):
        pass


def take_lock(timeout):
    "Blocks until no other run_topo.py runs; bounded by `timeout` seconds."
    os.makedirs(os.path.dirname(LOCK_PATH), exist_ok=True)
    fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                sys.exit('run_topo: another Mininet run held %s for %ds' % (LOCK_PATH, timeout))
            time.sleep(0.2)


def offload_off(net):
    """TX checksum offload off on every host interface: with the userspace
    datapath nobody fills in the checksums, so TCP between hosts fails."""
    for host in net.hosts:
        for intf in host.intfList():
            if intf.name != 'lo':
                host.cmd('ethtool -K %s tx off' % intf.name)


def ping_pairs(net, tries, timeout):
    "Pings every ordered host pair; a pair passes on its first reply."
    results = []
    for src in net.hosts:
        for dst in net.hosts:
            if src is dst:
                continue
            ok = False
            for _ in range(tries):
                out = src.cmd('ping -n -c1 -W%d %s' % (timeout, dst.IP()))
                _sent, received = Mininet._parsePing(out)
                if received > 0:
                    ok = True
                    break
            results.append({'src': src.name, 'dst': dst.name, 'ok': ok})
    return results


def controller_reached(switch):
    """True once the switch is connected to its controller. OVSDB's
    is_connected lags by up to ~5 s (OVS rate-limits status writes), so a
    non-empty flow table also counts: in fail_mode=secure only a controller
    can have put flows there."""
    if 'actions=' in dump_flows(switch):
        return True
    return switch.connected()


def wait_connected(switches, timeout):
    "Polls until every switch reached its controller; bounded by `timeout`."
    deadline = time.monotonic() + timeout
    remaining = list(switches)
    while remaining and time.monotonic() < deadline:
        remaining = [s for s in remaining if not controller_reached(s)]
        if remaining:
            time.sleep(0.1)
    return not remaining


def switch_links(net):
    "The switch-to-switch links with both ends' OpenFlow port numbers and interface names."
    out = []
    for link in net.links:
        i1, i2 = link.intf1, link.intf2
        if isinstance(i1.node, OVSSwitch) and isinstance(i2.node, OVSSwitch):
            out.append({'a': i1.node.name, 'aPort': i1.node.ports[i1], 'aIntf': i1.name,
                        'b': i2.node.name, 'bPort': i2.node.ports[i2], 'bIntf': i2.name})
    return out


def dump_flows(switch):
    proc = subprocess.run(['ovs-ofctl', '-O', 'OpenFlow13', 'dump-flows', switch.name],
                          capture_output=True, text=True, timeout=10, check=False)
    return proc.stdout if proc.returncode == 0 else 'error: ' + proc.stderr.strip()


def stop_network(net):
    """net.stop(), also after an interrupt. A host interrupted mid-command is
    still 'waiting' and Mininet refuses to run the link deletions through it,
    so first interrupt that command and read its output to the end."""
    for node in net.hosts + net.switches:
        if node.shell and node.waiting:
            node.sendInt()
            node.waitOutput()
    try:
        net.stop()
    except Exception as exc:  # pylint: disable=broad-except
        # Last resort: remove exactly what this run created.
        print('run_topo: net.stop failed (%r); removing switches and links directly' % exc,
              file=sys.stderr)
        for sw in net.switches:
            subprocess.run(['ovs-vsctl', '--timeout=5', '--if-exists', 'del-br', sw.name], check=False)
        for link in net.links:
            subprocess.run(['ip', 'link', 'del', link.intf1.name], check=False,
                           stderr=subprocess.DEVNULL)
        raise


def shut_down(net, lock, before=None):
    """The end of every run (run_topo.py, fabric.py, testbed.py): signals
    ignored, so a second Ctrl-C cannot interrupt it; `before()` (the testbed's
    VMs); the network stopped; the machine-wide Mininet lock released whatever
    failed on the way."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if before is not None:
            before()
        if net is not None:
            stop_network(net)
    finally:
        os.close(lock)


def report_text(r):
    lines = []
    conn = [s for s in r['switches'] if s['connected']]
    lines.append('switches: %d, connected to the controller: %d (%s)' % (
        len(r['switches']), len(conn), ' '.join(s['name'] for s in conn) or 'none'))
    lines.append('hosts: %s' % ', '.join('%s %s %s' % (h['name'], h['ip'], h['mac']) for h in r['hosts']))
    p = r['pingall']
    lines.append('pingall: %d/%d pairs answered (%d%% dropped)' % (
        p['received'], p['sent'], p['lossPercent']))
    for res in p['results']:
        if not res['ok']:
            lines.append('  FAILED %s -> %s' % (res['src'], res['dst']))
    for name, text in r['flows'].items():
        flows = [l for l in text.splitlines() if 'actions=' in l]
        lines.append('flows on %s: %d' % (name, len(flows)))
        for l in flows:
            lines.append('  ' + l.strip())
    t = r['seconds']
    lines.append('seconds: start %.1f, all connected %.1f, pingall %.1f' % (
        t['start'], t['connect'], t['pingall']))
    return '\n'.join(lines)


def main():
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit('run_topo: must run as root')
    topos = runpy.run_path(args.topology).get('topos')
    if not isinstance(topos, dict):
        sys.exit('run_topo: %s defines no `topos` dict' % args.topology)
    topo = buildTopo(topos, args.topo)

    # SIGTERM (a test's timeout) and SIGINT (Ctrl-C) must still stop the net,
    # even when our parent started us with SIGINT ignored.
    def on_term(_sig, _frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    setLogLevel('warning')
    lock = take_lock(args.lock_timeout)
    if args.controller_port is None:
        switch = partial(OVSSwitch, datapath='user', protocols='OpenFlow13', failMode='standalone')
        controller = None
    else:
        switch = partial(OVSSwitch, datapath='user', protocols='OpenFlow13', failMode='secure')
        controller = partial(QuietRemoteController, ip=args.controller_ip, port=args.controller_port)
    net = Mininet(topo=topo, switch=switch, controller=controller, autoSetMacs=True,
                  build=False, waitConnected=False)
    status = 1
    t0 = time.monotonic()
    try:
        net.build()
        net.start()
        offload_off(net)
        t1 = time.monotonic()
        all_connected = True
        if controller is not None:
            all_connected = wait_connected(net.switches, args.connect_timeout)
        t2 = time.monotonic()
        results = ping_pairs(net, args.ping_tries, args.ping_timeout)
        t3 = time.monotonic()
        sent = len(results)
        received = sum(1 for r in results if r['ok'])
        report = {
            'topology': os.path.basename(args.topology),
            'topo': args.topo,
            'controller': None if controller is None else '%s:%d' % (args.controller_ip, args.controller_port),
            'allConnected': all_connected,
            'switches': [{'name': s.name, 'dpid': s.dpid,
                          'connected': controller is not None and controller_reached(s)}
                         for s in net.switches],
            'hosts': [{'name': h.name, 'ip': h.IP(), 'mac': h.MAC()} for h in net.hosts],
            'pingall': {'sent': sent, 'received': received,
                        'lossPercent': 0 if sent == 0 else round(100 * (sent - received) / sent),
                        'results': results},
            'flows': {s.name: dump_flows(s) for s in net.switches},
            'seconds': {'start': round(t1 - t0, 3), 'connect': round(t2 - t1, 3),
                        'pingall': round(t3 - t2, 3)},
        }
        if args.format == 'json':
            print('SEAMLESS_RESULT ' + json.dumps(report), flush=True)
        else:
            print(report_text(report), flush=True)
        status = 0 if all_connected and sent > 0 and received == sent else 2
    except KeyboardInterrupt:
        print('run_topo: interrupted, stopping the network', file=sys.stderr)
        status = 130
    finally:
        shut_down(net, lock)
    return status


if __name__ == '__main__':
    sys.exit(main())
