"""Linear topology for seamless demos and tests.

  mn --custom topologies/linear.py --topo linear,switches=3,hosts=1 ...
  /usr/bin/python3 mininet/run_topo.py --topology topologies/linear.py --topo linear,3 ...

`switches` switches s1..sN in a chain, each with `hosts` hosts. Host names
are h1, h2, ... in switch order, so a two-switch line
with one host each is h1 - s1 - s2 - h2.
"""

from mininet.topo import Topo


class SeamlessLinear(Topo):
    "A chain of switches, each with the same number of hosts."

    def build(self, switches=2, hosts=1):
        switches, hosts = int(switches), int(hosts)
        if switches < 1 or hosts < 1:
            raise ValueError('linear needs switches >= 1 and hosts >= 1')
        previous = None
        count = 0
        for i in range(1, switches + 1):
            switch = self.addSwitch('s%d' % i)
            for _ in range(hosts):
                count += 1
                self.addLink(self.addHost('h%d' % count), switch)
            if previous is not None:
                self.addLink(previous, switch)
            previous = switch


topos = {'linear': SeamlessLinear}
