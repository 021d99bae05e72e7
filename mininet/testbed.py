#!/usr/bin/python3
"""The SEaMLESS testbed: Mininet switches, plain hosts, and libvirt/QEMU VMs on them.

Run with Debian's /usr/bin/python3 as root; driven by test/support/testbed.ts:

  /usr/bin/python3 mininet/testbed.py SPEC.json

SPEC.json (written by testbed.ts from an inventory):
  {"switches": [{"name": "s1", "dpid": "0000000000000001"}, ...],
   "links": [["s3", "s1"], ...],      # switch-to-switch links (fabric mode), added first
   "controllerPort": 6653,            # remote controller on 127.0.0.1 (OpenFlow 1.3)
   "hosts": [{"name": "h1", "ip": "10.0.0.1/24", "mac": "00:00:00:00:00:01", "switch": "s1"}, ...],
                                      # in port order: a switch's links first (in `links`
                                      # order), then its hosts, so with one switch and no
                                      # links hosts[i] is on s1-eth(i+1)
                                      # (older form: "switch": {...} instead of "switches")
   "guestDir": "/var/tmp/seamless-guest",
   "vms": [{"domain": "seamless-vm1", "xml": "/tmp/x/vm1.xml", "port": "vm1-tap",
            "consoleLog": "/var/tmp/.../vm1.log", "readyMarker": "SEAMLESS-READY vm1 "}],
   "bootTimeout": 90, "connectTimeout": 30, "lockTimeout": 600}
                                      # connectTimeout 0: do not wait for the controller

What it does, in order: takes the machine-wide Mininet lock (shared with
run_topo.py: Mininet's names s1, h1-eth0 are fixed), builds the tiny guest
(mininet/guest/build.sh, cached), starts libvirtd/virtlogd if they do not
answer, removes stale domains of the same names, starts the Mininet network
(userspace datapath, OpenFlow 1.3, fail_mode secure, remote controller), turns
TX checksum offload off on every host interface, defines and starts the VMs
(libvirt adds each tap to the bridge its domain XML names, under the given
name), waits for every switch to reach the controller and for each guest's
ready marker on its serial console. Then it prints one line

  TESTBED_READY {"hosts": {"h1": {"pid": 123, "intf": "h1-eth0", "port": "s1-eth1"}, ...},
                 "switches": ["s1", ...], "links": [{"a": "s3", "aPort": 1, "aIntf": "s3-eth1", "b": "s1", ...}],
                 "vms": {...}, "seconds": {...}}

and reads commands on stdin, one per line, until stdin closes, a line `stop`
arrives, or SIGTERM/SIGINT. A JSON line is a command, answered with one line
`TESTBED_REPLY {...}` (or `TESTBED_REPLY {"error": "..."}`):
  {"cmd": "link", "a": "s1", "b": "s5", "up": false}   both ends of that link down (up)
Then it
destroys and undefines the VMs (managed-save images included) and stops the
network, also after any failure on the way up. Commands run in a host with
`mnexec -a PID CMD...` (the caller does that, in parallel, without a shell).
On a failure before READY it prints `TESTBED_FAILED <reason>` and exits 1.
"""

import json
import os
import select
import signal
import subprocess
import sys
import time

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import OVSSwitch
from mininet.topo import Topo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from run_topo import QuietRemoteController, controller_reached, offload_off, shut_down, switch_links, take_lock, wait_connected  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
VIRSH = ['virsh', '-q', '-c', 'qemu:///system']


class Stop(Exception):
    "SIGTERM/SIGINT: tear down."


def log(msg):
    print('testbed: ' + msg, file=sys.stderr, flush=True)


def sh(args, timeout=60, check=True):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError('%s exited %d: %s' % (' '.join(args), proc.returncode, proc.stderr.strip()))
    return proc


def ensure_libvirt():
    "Starts virtlogd and libvirtd unless libvirtd answers: mininet/start-libvirtd.sh, bounded."
    if sh(VIRSH + ['version'], timeout=10, check=False).returncode == 0:
        return
    sh(['bash', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'start-libvirtd.sh')], timeout=30)


def remove_domain(name):
    "Destroys and undefines a domain with its managed-save image; quiet when absent."
    sh(VIRSH + ['destroy', name], timeout=30, check=False)
    sh(VIRSH + ['undefine', '--managed-save', name], timeout=30, check=False)


def remove_stale_port(port):
    """A tap of a crashed earlier run may still be an OVS port (with the same
    name a new one would not be added). Under the lock, it can only be ours."""
    sh(['ovs-vsctl', '--timeout=10', '--if-exists', 'del-port', port], check=False)


def normalize(spec):
    "The older one-switch spec ({'switch': {...}}) in the current form."
    if 'switches' not in spec:
        spec['switches'] = [spec['switch']]
        for h in spec['hosts']:
            h.setdefault('switch', spec['switch']['name'])
    spec.setdefault('links', [])
    return spec


class SpecTopo(Topo):
    """The spec's switches; switch-to-switch links first, then hosts in order, so
    a switch's ports are its links (in `links` order) followed by its hosts."""

    def build(self, spec):  # pylint: disable=arguments-differ
        for sw in spec['switches']:
            self.addSwitch(sw['name'], dpid=sw['dpid'])
        for a, b in spec['links']:
            self.addLink(a, b)
        for h in spec['hosts']:
            self.addHost(h['name'], ip=h['ip'], mac=h['mac'])
            self.addLink(h['name'], h['switch'])


def wait_ready(vms, timeout):
    "Polls every VM's console log for its ready marker; bounded by `timeout`."
    deadline = time.monotonic() + timeout
    waiting = list(vms)
    while waiting and time.monotonic() < deadline:
        still = []
        for vm in waiting:
            try:
                with open(vm['consoleLog'], encoding='utf-8', errors='replace') as f:
                    if vm['readyMarker'] in f.read():
                        continue
            except FileNotFoundError:
                pass
            still.append(vm)
        waiting = still
        if waiting:
            time.sleep(0.1)
    if waiting:
        tails = []
        for vm in waiting:
            try:
                with open(vm['consoleLog'], encoding='utf-8', errors='replace') as f:
                    tails.append('%s console tail:\n%s' % (vm['domain'], ''.join(f.readlines()[-10:])))
            except FileNotFoundError:
                tails.append('%s: no console log' % vm['domain'])
        raise RuntimeError('guests not ready within %ds: %s\n%s' % (
            timeout, ', '.join(v['domain'] for v in waiting), '\n'.join(tails)))


def handle(net, c):
    "One JSON command from stdin; returns the reply object."
    cmd = c.get('cmd')
    if cmd == 'link':
        a, b = str(c['a']), str(c['b'])
        if not net.linksBetween(net.get(a), net.get(b)):
            raise ValueError('no link between %s and %s' % (a, b))
        # Both ends down, as a pulled cable: each switch sees its port go down (PORT_STATUS).
        net.configLinkStatus(a, b, 'up' if c.get('up') else 'down')
        return {'ok': True}
    raise ValueError('unknown command %r' % cmd)


def serve(net):
    """Answers JSON commands until stdin closes or says `stop` (SIGTERM/SIGINT
    raise Stop); returns why it stopped."""
    buf = ''
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], 1.0)
        if not ready:
            continue
        chunk = os.read(sys.stdin.fileno(), 4096).decode(errors='replace')
        if chunk == '':
            return 'stdin closed'
        buf += chunk
        while '\n' in buf:
            line, buf = buf.split('\n', 1)
            line = line.strip()
            if line == 'stop':
                return 'stop requested'
            if not line.startswith('{'):
                continue
            try:
                reply = handle(net, json.loads(line))
            except Stop:
                raise
            except Exception as exc:  # pylint: disable=broad-except
                reply = {'error': str(exc)}
            print('TESTBED_REPLY ' + json.dumps(reply), flush=True)


def main():
    if os.geteuid() != 0:
        sys.exit('testbed: must run as root')
    if len(sys.argv) != 2:
        sys.exit('usage: testbed.py SPEC.json')
    with open(sys.argv[1], encoding='utf-8') as f:
        spec = normalize(json.load(f))

    def on_signal(_sig, _frame):
        raise Stop()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # A dead parent closes our stdout: later prints must not kill the teardown.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    setLogLevel('warning')
    t0 = time.monotonic()
    lock = take_lock(spec.get('lockTimeout', 600))
    t_lock = time.monotonic()
    net = None
    defined = []
    status = 1
    try:
        sh(['bash', os.path.join(HERE, 'guest', 'build.sh'), spec['guestDir']], timeout=300)
        ensure_libvirt()
        for vm in spec['vms']:
            remove_domain(vm['domain'])
            remove_stale_port(vm['port'])
        t_prep = time.monotonic()

        switch = lambda name, **kw: OVSSwitch(  # noqa: E731
            name, datapath='user', protocols='OpenFlow13', failMode='secure', **kw)
        controller = lambda name: QuietRemoteController(  # noqa: E731
            name, ip='127.0.0.1', port=spec['controllerPort'])
        net = Mininet(topo=SpecTopo(spec=spec), switch=switch, controller=controller,
                      build=False, waitConnected=False, autoSetMacs=False)
        net.build()
        net.start()
        offload_off(net)
        t_net = time.monotonic()

        for vm in spec['vms']:
            open(vm['consoleLog'], 'w').close()  # this boot's marker only
            defined.append(vm['domain'])
            sh(VIRSH + ['define', vm['xml']])
            sh(VIRSH + ['start', vm['domain']])
        # connectTimeout 0: the controller starts after the testbed (so it does not
        # see, and park, guests that are still booting).
        if spec.get('connectTimeout', 30) > 0 and not wait_connected(net.switches, spec['connectTimeout']):
            raise RuntimeError('%s did not reach the controller on 127.0.0.1:%d' % (
                ', '.join(s.name for s in net.switches if not controller_reached(s)), spec['controllerPort']))
        wait_ready(spec['vms'], spec.get('bootTimeout', 90))
        t_vms = time.monotonic()

        hosts = {}
        for h in net.hosts:
            intf = h.defaultIntf()
            link = intf.link
            peer = link.intf2 if link.intf1 is intf else link.intf1
            hosts[h.name] = {'pid': h.pid, 'intf': intf.name, 'port': peer.name,
                             'ip': h.IP(), 'mac': h.MAC()}
        ports = {s.name: sh(['ovs-vsctl', '--timeout=10', 'list-ports', s.name]).stdout.split()
                 for s in net.switches}
        report = {
            'switch': net.switches[0].name,
            'switches': [s.name for s in net.switches],
            'links': switch_links(net),
            'hosts': hosts,
            'ports': ports[net.switches[0].name],
            'switchPorts': ports,
            'vms': [vm['domain'] for vm in spec['vms']],
            'seconds': {'lock': round(t_lock - t0, 3), 'prepare': round(t_prep - t_lock, 3),
                        'network': round(t_net - t_prep, 3), 'vms': round(t_vms - t_net, 3)},
        }
        print('TESTBED_READY ' + json.dumps(report), flush=True)
        log('ready; ' + serve(net))
        status = 0
    except Stop:
        log('signal received, tearing down')
        status = 0 if net is not None else 130
    except Exception as exc:  # pylint: disable=broad-except
        print('TESTBED_FAILED %s' % str(exc).replace('\n', ' | '), flush=True)
        log('failed: %s' % exc)
    finally:
        def remove_domains():
            for name in defined:
                remove_domain(name)
        shut_down(net, lock, before=remove_domains)
        log('stopped')
    return status


if __name__ == '__main__':
    sys.exit(main())
