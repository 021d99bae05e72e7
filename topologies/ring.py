"""Ring topology: N switches in a cycle, hosts on each.

  mn --custom topologies/ring.py --topo ring,switches=4,hosts=1 ...

Switches s1..sN (dpid 1..N). Switch i port 1 goes to switch i+1 port 2
(s_N port 1 closes the ring onto s1 port 2), ports 3.. to its hosts. Hosts
h1..hM (10.0.0.M/8, MAC 00:00:00:00:00:0M). One loop: flooding with
OFPP_FLOOD would storm; the L2 fabric must use a spanning tree.
"""

from mininet.topo import Topo


class Ring(Topo):
    "N switches in a ring, H hosts per switch."

    def build(self, switches=4, hosts=1):  # pylint: disable=arguments-differ
        switches, hosts = int(switches), int(hosts)
        if switches < 3 or hosts < 0:
            raise ValueError('ring needs switches >= 3 (a loop) and hosts >= 0')
        sw = [self.addSwitch('s%d' % (i + 1)) for i in range(switches)]
        # Explicit port numbers: Mininet would otherwise number in addLink order,
        # and s1's link to s_N comes last.
        for i in range(switches):
            self.addLink(sw[i], sw[(i + 1) % switches], port1=1, port2=2)
        n = 0
        for i in range(switches):
            for k in range(hosts):
                n += 1
                self.addLink(sw[i], self.addHost('h%d' % n), port1=3 + k)


topos = {'ring': Ring}
