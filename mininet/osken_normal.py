"""A minimal OpenFlow 1.3 peer controller (os-ken) for testbed checks.

On every switch's FEATURES_REPLY it installs one table-miss flow that sends
packets to the OFPP_NORMAL port, with cookie 0x5ea1, so a test can see that
a remote controller really configured the switch. It is not seamless: it is
what proves the Mininet harness and OVS path work independently of it.

  osken-manager mininet/osken_normal.py --ofp-tcp-listen-port PORT
"""

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, set_ev_cls
from os_ken.ofproto import ofproto_v1_3

COOKIE = 0x5EA1


class NormalSwitch(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        actions = [parser.OFPActionOutput(ofp.OFPP_NORMAL)]
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, cookie=COOKIE, priority=0,
                                      match=parser.OFPMatch(), instructions=inst))
