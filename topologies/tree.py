"""Tree topology for seamless demos and tests.

Usable both ways:
  mn --custom topologies/tree.py --topo tree,depth=2,fanout=2 ...
  /usr/bin/python3 mininet/run_topo.py --topology topologies/tree.py --topo tree,2,2 ...

depth levels of switches, each with `fanout` children; hosts hang off the
bottom switches. Switches are s1..sN (dpid = N), hosts h1..hM with
10.0.0.M/8 and MAC 00:00:00:00:00:0M (Mininet autoSetMacs), so addresses
are predictable in tests and demo output.
"""

from mininet.topo import Topo


class SeamlessTree(Topo):
    "Switches in a tree of the given depth and fanout; hosts at the leaves."

    def build(self, depth=2, fanout=2):
        depth, fanout = int(depth), int(fanout)
        if depth < 1 or fanout < 1:
            raise ValueError('tree needs depth >= 1 and fanout >= 1')
        self._hosts = 0
        self._switches = 0
        self._add_tree(depth, fanout)

    def _add_tree(self, depth, fanout):
        "Adds a subtree and returns its root node."
        if depth == 0:
            self._hosts += 1
            return self.addHost('h%d' % self._hosts)
        self._switches += 1
        switch = self.addSwitch('s%d' % self._switches)
        for _ in range(fanout):
            self.addLink(switch, self._add_tree(depth - 1, fanout))
        return switch


topos = {'tree': SeamlessTree}
