"""Leaf-spine topology: every leaf on every spine, hosts on the leaves.

  mn --custom topologies/leafspine.py --topo leafspine,spines=2,leaves=3,hosts=2 ...
  /usr/bin/python3 mininet/fabric.py --topology topologies/leafspine.py --topo leafspine ...

Spines are s1..sS (dpid 1..S), leaves s(S+1)..s(S+L). Links are added leaf by
leaf, spines first, so port numbers are predictable: leaf port i goes to spine
si (i = 1..S), leaf ports S+1.. to its hosts; spine port j goes to leaf j.
Hosts h1..hN (10.0.0.N/8, MAC 00:00:00:00:00:0N with autoSetMacs), `hosts` per
leaf in leaf order. With 2 or more spines every leaf pair has several equal
paths: the L2 fabric must be loop-free (seamless controller --fabric).
"""

from mininet.topo import Topo


class LeafSpine(Topo):
    "S spines, L leaves, each leaf linked to every spine, H hosts per leaf."

    def build(self, spines=2, leaves=3, hosts=2):  # pylint: disable=arguments-differ
        spines, leaves, hosts = int(spines), int(leaves), int(hosts)
        if spines < 1 or leaves < 1 or hosts < 0:
            raise ValueError('leafspine needs spines >= 1, leaves >= 1, hosts >= 0')
        sp = [self.addSwitch('s%d' % (i + 1)) for i in range(spines)]
        n = 0
        for j in range(leaves):
            leaf = self.addSwitch('s%d' % (spines + j + 1))
            for s in sp:
                self.addLink(leaf, s)
            for _ in range(hosts):
                n += 1
                self.addLink(leaf, self.addHost('h%d' % n))


topos = {'leafspine': LeafSpine}
