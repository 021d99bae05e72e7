"""os-ken OpenFlow 1.3 L2 learning switch: the peer seamless is benchmarked against.

Same behaviour as seamless' L2 fabric (controller/l2/learning.ts) on the hot
path: on switch up, a table-miss flow (priority 0, empty match) sends packets
to the controller unbuffered; on a packet-in it learns eth_src -> in_port; a
known unicast eth_dst gets a flow (priority 100, idle 60 s, match in_port +
eth_src + eth_dst -> output) and the packet goes there with a packet-out; an
unknown or group destination is flooded with a packet-out; a packet whose
destination sits behind its own ingress port, or with a multicast source, is
dropped. It is os-ken's canonical simple_switch_13 pattern with the Ethernet
header read by os-ken's own ethernet parser (not a full packet.Packet decode
of every layer), so the peer does no more work per packet than ours.
Not copied (not on the measured path): the table-miss meter, cookies, MAC
ageing and LRU bound, flow clean-up on port-down.

  osken-manager bench/osken_l2.py --ofp-tcp-listen-port PORT
"""

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ethernet
from os_ken.ofproto import ofproto_v1_3

L2_FLOW_PRIORITY = 100
IDLE_TIMEOUT = 60


class L2Switch(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # datapath id -> {mac: port}
        self.mac_to_port = {}

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def switch_features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        self.mac_to_port[dp.id] = {}
        actions = [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)]
        self.add_flow(dp, 0, parser.OFPMatch(), actions)

    def add_flow(self, dp, priority, match, actions, idle_timeout=0):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, priority=priority, idle_timeout=idle_timeout,
                                      match=match, instructions=inst))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match['in_port']

        data = msg.data
        if len(data) < 14 or data[6] & 1:
            return  # no Ethernet header, or a multicast source
        eth, _, _ = ethernet.ethernet.parser(data)
        table = self.mac_to_port.setdefault(dp.id, {})
        table[eth.src] = in_port

        out_port = ofp.OFPP_FLOOD if data[0] & 1 else table.get(eth.dst, ofp.OFPP_FLOOD)
        if out_port == in_port:
            return
        actions = [parser.OFPActionOutput(out_port)]
        if out_port != ofp.OFPP_FLOOD:
            match = parser.OFPMatch(in_port=in_port, eth_src=eth.src, eth_dst=eth.dst)
            self.add_flow(dp, L2_FLOW_PRIORITY, match, actions, idle_timeout=IDLE_TIMEOUT)

        # OF 1.3.5 §7.3.7: data only with OFP_NO_BUFFER; otherwise the switch uses its buffered copy.
        out_data = data if msg.buffer_id == ofp.OFP_NO_BUFFER else None
        dp.send_msg(parser.OFPPacketOut(datapath=dp, buffer_id=msg.buffer_id, in_port=in_port,
                                        actions=actions, data=out_data))
