#!/usr/bin/python3
"""os-ken as an OpenFlow 1.3 oracle for seamless' codec tests.

A long-lived process speaking JSON lines on stdin/stdout, so a test pays Python
start-up once. Run it with Debian's /usr/bin/python3 (python3-os-ken lives there).

Requests (one JSON object per line), each answered by one line with the same "id":
  {"id": 1, "op": "kinds"}                      -> {"id": 1, "ok": true, "kinds": [...]}
  {"id": 2, "op": "gen", "seed": 7, "count": 50, "kinds": [...]?}
      -> {"id": 2, "ok": true, "msgs": [{"kind", "seed", "hex", "json"}, ...]}
      Random valid OF1.3 messages built with os-ken's own structures and pack
      formats; "json" is os-ken's decoding of "hex" (msg.to_jsondict() plus "xid").
  {"id": 3, "op": "decode", "hex": "0400..."}   -> {"id": 3, "ok": true, "json": {...}}
  On any failure: {"id": n, "ok": false, "error": "..."}.

os-ken registers parsers only for the messages a switch sends (plus flow_mod and
echo); the controller-to-switch messages (packet_out, group_mod, meter_mod,
multipart requests...) are decoded here with small parsers built from os-ken's pack
strings and its sub-structure parsers (OFPMatch, OFPAction, OFPBucket, bands,
table features), and returned as the os-ken message classes' to_jsondict().
"""
import json
import random
import struct
import sys
import traceback

from os_ken.ofproto import ofproto_parser, ofproto_protocol
from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as p

DP = ofproto_protocol.ProtocolDesc(version=ofp.OFP_VERSION)

# Experimenter ids os-ken decodes specially (Nicira, ONF): random messages avoid them
# so os-ken's generic decoding applies.
SPECIAL_EXPERIMENTERS = {0x00002320, 0x4F4E4600, 0x000026E1}


# ---------------------------------------------------------------------------
# Random values
# ---------------------------------------------------------------------------

class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def u(self, bits):
        r = self.r
        # Bias towards edge values: they are where codecs break.
        c = r.random()
        if c < 0.1:
            return 0
        if c < 0.2:
            return (1 << bits) - 1
        return r.getrandbits(bits)

    def n(self, lo, hi):
        return self.r.randint(lo, hi)

    def chance(self, pr):
        return self.r.random() < pr

    def data(self, maxlen, mult=1):
        n = self.r.randint(0, maxlen // mult) * mult
        return bytes(self.r.getrandbits(8) for _ in range(n))

    def experimenter(self):
        while True:
            e = self.u(32)
            if e not in SPECIAL_EXPERIMENTERS:
                return e

    def mac_int(self):
        return self.u(48)

    def text(self, maxbytes, ascii_only=False):
        """A random UTF-8 string of at most maxbytes bytes, without NULs."""
        alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_.:/ ' + ('' if ascii_only else 'éß私のポ')
        s = ''
        n = self.r.randint(0, maxbytes)
        while True:
            c = self.r.choice(alphabet)
            if len((s + c).encode('utf-8')) > n:
                return s
            s += c


def mac_text(v):
    return ':'.join('%02x' % b for b in v.to_bytes(6, 'big'))


def ipv4_text(v):
    return '.'.join(str(b) for b in v.to_bytes(4, 'big'))


def ipv6_text(v):
    b = v.to_bytes(16, 'big')
    return ':'.join('%x' % int.from_bytes(b[i:i + 2], 'big') for i in range(0, 16, 2))


# name -> (bits, kind, maskable) for the 40 OF1.3 basic fields (OF 1.3.5 §7.2.3.7, Table 12).
OXM_FIELDS = [
    ('in_port', 32, 'int', False), ('in_phy_port', 32, 'int', False), ('metadata', 64, 'int', True),
    ('eth_dst', 48, 'mac', True), ('eth_src', 48, 'mac', True), ('eth_type', 16, 'int', False),
    ('vlan_vid', 13, 'int', True), ('vlan_pcp', 3, 'int', False), ('ip_dscp', 6, 'int', False),
    ('ip_ecn', 2, 'int', False), ('ip_proto', 8, 'int', False), ('ipv4_src', 32, 'ipv4', True),
    ('ipv4_dst', 32, 'ipv4', True), ('tcp_src', 16, 'int', False), ('tcp_dst', 16, 'int', False),
    ('udp_src', 16, 'int', False), ('udp_dst', 16, 'int', False), ('sctp_src', 16, 'int', False),
    ('sctp_dst', 16, 'int', False), ('icmpv4_type', 8, 'int', False), ('icmpv4_code', 8, 'int', False),
    ('arp_op', 16, 'int', False), ('arp_spa', 32, 'ipv4', True), ('arp_tpa', 32, 'ipv4', True),
    ('arp_sha', 48, 'mac', True), ('arp_tha', 48, 'mac', True), ('ipv6_src', 128, 'ipv6', True),
    ('ipv6_dst', 128, 'ipv6', True), ('ipv6_flabel', 20, 'int', True), ('icmpv6_type', 8, 'int', False),
    ('icmpv6_code', 8, 'int', False), ('ipv6_nd_target', 128, 'ipv6', False),
    ('ipv6_nd_sll', 48, 'mac', False), ('ipv6_nd_tll', 48, 'mac', False),
    ('mpls_label', 20, 'int', False), ('mpls_tc', 3, 'int', False), ('mpls_bos', 1, 'int', False),
    ('pbb_isid', 24, 'int', True), ('tunnel_id', 64, 'int', True), ('ipv6_exthdr', 9, 'int', True),
]
TEXT = {'int': lambda v: v, 'mac': mac_text, 'ipv4': ipv4_text, 'ipv6': ipv6_text}


def oxm_value(g, bits, kind, masked):
    v = g.u(bits)
    if not masked:
        return TEXT[kind](v)
    m = g.u(bits)
    # OF 1.3.5 §7.2.3.5: value bits outside the mask are invalid; keep them clear.
    return (TEXT[kind](v & m), TEXT[kind](m))


def rand_match(g, max_fields=8):
    fields = g.r.sample(OXM_FIELDS, g.n(0, max_fields))
    kw = {}
    for name, bits, kind, maskable in fields:
        kw[name] = oxm_value(g, bits, kind, maskable and g.chance(0.4))
    # OFPMatch(**kw) serializes in os-ken's field-number order; the wire order is
    # what both decoders see, so it does not matter here.
    return p.OFPMatch(**kw)


def rand_action(g, depth_ok=True):
    k = g.n(0, 16)
    if k == 0:
        return p.OFPActionOutput(g.u(32), g.u(16))
    if k == 1:
        return p.OFPActionCopyTtlOut()
    if k == 2:
        return p.OFPActionCopyTtlIn()
    if k == 3:
        return p.OFPActionSetMplsTtl(g.u(8))
    if k == 4:
        return p.OFPActionDecMplsTtl()
    if k == 5:
        return p.OFPActionPushVlan(g.u(16))
    if k == 6:
        return p.OFPActionPopVlan()
    if k == 7:
        return p.OFPActionPushMpls(g.u(16))
    if k == 8:
        return p.OFPActionPopMpls(g.u(16))
    if k == 9:
        return p.OFPActionSetQueue(g.u(32))
    if k == 10:
        return p.OFPActionGroup(g.u(32))
    if k == 11:
        return p.OFPActionSetNwTtl(g.u(8))
    if k == 12:
        return p.OFPActionDecNwTtl()
    if k == 13:
        name, bits, kind, _ = g.r.choice(OXM_FIELDS)
        return p.OFPActionSetField(**{name: oxm_value(g, bits, kind, False)})
    if k == 14:
        return p.OFPActionPushPbb(g.u(16))
    if k == 15:
        return p.OFPActionPopPbb()
    # ofp_action_experimenter_header: length is a multiple of 8 (OF 1.3.5 §7.2.5).
    return p.OFPActionExperimenterUnknown(g.experimenter(), g.data(24, 8))


def rand_actions(g, maxn=6):
    return [rand_action(g) for _ in range(g.n(0, maxn))]


def rand_instruction(g):
    k = g.n(0, 5)
    if k == 0:
        return p.OFPInstructionGotoTable(g.u(8))
    if k == 1:
        return p.OFPInstructionWriteMetadata(g.u(64), g.u(64))
    if k == 2:
        return p.OFPInstructionActions(ofp.OFPIT_WRITE_ACTIONS, rand_actions(g))
    if k == 3:
        return p.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, rand_actions(g))
    if k == 4:
        return p.OFPInstructionActions(ofp.OFPIT_CLEAR_ACTIONS, [])
    return p.OFPInstructionMeter(g.u(32))


def rand_instructions(g, maxn=4):
    return [rand_instruction(g) for _ in range(g.n(0, maxn))]


def rand_bucket(g):
    return p.OFPBucket(g.u(16), g.u(32), g.u(32), rand_actions(g, 4))


def rand_band(g):
    k = g.n(0, 2)
    if k == 0:
        return p.OFPMeterBandDrop(g.u(32), g.u(32))
    if k == 1:
        return p.OFPMeterBandDscpRemark(g.u(32), g.u(32), g.u(8))
    return p.OFPMeterBandExperimenter(g.u(32), g.u(32), g.u(32))


def ser(obj):
    """Serializes a sub-structure with the (buf, offset) serialize() convention."""
    buf = bytearray()
    obj.serialize(buf, 0)
    return bytes(buf)


def ser_list(items):
    buf = bytearray()
    for it in items:
        it.serialize(buf, len(buf))
    return bytes(buf)


def pad8(b):
    return b + b'\0' * (-len(b) % 8)


def frame(msg_type, xid, body):
    return struct.pack(ofp.OFP_HEADER_PACK_STR, ofp.OFP_VERSION, msg_type, 8 + len(body), xid) + body


def os_ken_msg(msg, xid):
    msg.set_xid(xid)
    msg.serialize()
    return bytes(msg.buf)


def port_bytes(g):
    name = g.text(15).encode('utf-8')
    return struct.pack(ofp.OFP_PORT_PACK_STR, g.u(32), g.mac_int().to_bytes(6, 'big'), name,
                       g.u(32), g.u(32), g.u(32), g.u(32), g.u(32), g.u(32), g.u(32), g.u(32))


def fixed_str(g, size):
    # os-ken decodes ofp_desc strings as ASCII (and leaves undecodable ones as bytes).
    return g.text(size - 1, ascii_only=True).encode('ascii')


# ---------------------------------------------------------------------------
# Message generators: kind -> fn(g, xid) -> bytes
# ---------------------------------------------------------------------------

def gen_hello(g, xid):
    body = b''
    if g.chance(0.7):
        nbm = g.n(1, 3)
        # os-ken's versions list skips bit 31 of every bitmap (range(31)); keep it clear.
        bms = [g.u(32) & 0x7FFFFFFF for _ in range(nbm)]
        # Our model keeps the set versions, not the words: a trailing all-zero word would
        # not survive decode/encode, and OF 1.3.5 §7.5.1 gives it no meaning.
        bms[-1] |= 1 << g.n(0, 30)
        elem = struct.pack('!HH', ofp.OFPHET_VERSIONBITMAP, 4 + 4 * nbm) + b''.join(struct.pack('!I', x) for x in bms)
        body = pad8(elem)
    return frame(ofp.OFPT_HELLO, xid, body)


def gen_error(g, xid):
    if g.chance(0.2):
        return frame(ofp.OFPT_ERROR, xid, struct.pack('!HHI', 0xFFFF, g.u(16), g.u(32)) + g.data(40))
    return frame(ofp.OFPT_ERROR, xid, struct.pack('!HH', g.n(0, 13), g.u(16)) + g.data(64))


def gen_echo_request(g, xid):
    return os_ken_msg(p.OFPEchoRequest(DP, g.data(64)), xid)


def gen_echo_reply(g, xid):
    return os_ken_msg(p.OFPEchoReply(DP, g.data(64)), xid)


def gen_experimenter(g, xid):
    return os_ken_msg(p.OFPExperimenter(DP, g.experimenter(), g.u(32), g.data(48)), xid)


def gen_features_request(g, xid):
    return os_ken_msg(p.OFPFeaturesRequest(DP), xid)


def gen_features_reply(g, xid):
    return frame(ofp.OFPT_FEATURES_REPLY, xid, struct.pack(ofp.OFP_SWITCH_FEATURES_PACK_STR,
                 g.u(64), g.u(32), g.u(8), g.u(8), g.u(32), g.u(32)))


def gen_get_config_request(g, xid):
    return os_ken_msg(p.OFPGetConfigRequest(DP), xid)


def gen_get_config_reply(g, xid):
    return frame(ofp.OFPT_GET_CONFIG_REPLY, xid, struct.pack('!HH', g.u(16), g.u(16)))


def gen_set_config(g, xid):
    return os_ken_msg(p.OFPSetConfig(DP, g.u(16), g.u(16)), xid)


def gen_packet_in(g, xid):
    data = g.data(128)
    # total_len is the frame's full length, so >= len(data) (OF 1.3.5 §7.4.1); os-ken cuts
    # data to total_len when it is smaller, which our model (rightly) does not.
    total_len = g.n(len(data), 0xFFFF)
    body = struct.pack(ofp.OFP_PACKET_IN_PACK_STR, g.u(32), total_len, g.u(8), g.u(8), g.u(64))
    # ofp_packet_in: match (padded to 8), then 2 bytes of pad, then the frame (OF 1.3.5 §7.4.1).
    body += ser(rand_match(g)) + b'\0\0' + data
    return frame(ofp.OFPT_PACKET_IN, xid, body)


def gen_flow_removed(g, xid):
    body = struct.pack(ofp.OFP_FLOW_REMOVED_PACK_STR0, g.u(64), g.u(16), g.u(8), g.u(8), g.u(32), g.u(32),
                       g.u(16), g.u(16), g.u(64), g.u(64))
    return frame(ofp.OFPT_FLOW_REMOVED, xid, body + ser(rand_match(g)))


def gen_port_status(g, xid):
    return frame(ofp.OFPT_PORT_STATUS, xid, struct.pack('!B7x', g.u(8)) + port_bytes(g))


def gen_packet_out(g, xid):
    # os-ken (like the spec, OF 1.3.5 §7.3.7) only sends data with OFP_NO_BUFFER.
    if g.chance(0.7):
        return os_ken_msg(p.OFPPacketOut(DP, ofp.OFP_NO_BUFFER, g.u(32), rand_actions(g), g.data(96)), xid)
    return os_ken_msg(p.OFPPacketOut(DP, g.u(32), g.u(32), rand_actions(g), None), xid)


def gen_flow_mod(g, xid):
    m = p.OFPFlowMod(DP, g.u(64), g.u(64), g.u(8), g.n(0, 4), g.u(16), g.u(16), g.u(16), g.u(32),
                     g.u(32), g.u(32), g.u(16), rand_match(g), rand_instructions(g))
    return os_ken_msg(m, xid)


def gen_group_mod(g, xid):
    buckets = [rand_bucket(g) for _ in range(g.n(0, 4))]
    return os_ken_msg(p.OFPGroupMod(DP, g.u(16), g.u(8), g.u(32), buckets), xid)


def gen_port_mod(g, xid):
    return os_ken_msg(p.OFPPortMod(DP, g.u(32), mac_text(g.mac_int()), g.u(32), g.u(32), g.u(32)), xid)


def gen_table_mod(g, xid):
    return os_ken_msg(p.OFPTableMod(DP, g.u(8), g.u(32)), xid)


def gen_meter_mod(g, xid):
    bands = [rand_band(g) for _ in range(g.n(0, 4))]
    return os_ken_msg(p.OFPMeterMod(DP, g.u(16), g.u(16), g.u(32), bands), xid)


def gen_barrier_request(g, xid):
    return os_ken_msg(p.OFPBarrierRequest(DP), xid)


def gen_barrier_reply(g, xid):
    return frame(ofp.OFPT_BARRIER_REPLY, xid, b'')


def gen_queue_get_config_request(g, xid):
    return os_ken_msg(p.OFPQueueGetConfigRequest(DP, g.u(32)), xid)


def queue_bytes(g):
    props = b''
    for _ in range(g.n(0, 3)):
        k = g.n(0, 2)
        if k < 2:
            t = ofp.OFPQT_MIN_RATE if k == 0 else ofp.OFPQT_MAX_RATE
            props += struct.pack('!HH4x', t, 16) + struct.pack('!H6x', g.u(16))
        else:
            d = g.data(16, 8)
            props += struct.pack('!HH4x', ofp.OFPQT_EXPERIMENTER, 16 + len(d)) + struct.pack('!I4x', g.experimenter()) + d
    return struct.pack(ofp.OFP_PACKET_QUEUE_PACK_STR, g.u(32), g.u(32), 16 + len(props)) + props


def gen_queue_get_config_reply(g, xid):
    body = struct.pack('!I4x', g.u(32)) + b''.join(queue_bytes(g) for _ in range(g.n(0, 3)))
    return frame(ofp.OFPT_QUEUE_GET_CONFIG_REPLY, xid, body)


def gen_role_request(g, xid):
    return os_ken_msg(p.OFPRoleRequest(DP, g.n(0, 3), g.u(64)), xid)


def gen_role_reply(g, xid):
    return frame(ofp.OFPT_ROLE_REPLY, xid, struct.pack(ofp.OFP_ROLE_REQUEST_PACK_STR, g.n(0, 3), g.u(64)))


def gen_get_async_request(g, xid):
    return os_ken_msg(p.OFPGetAsyncRequest(DP), xid)


def masks(g):
    return [g.u(32) for _ in range(6)]


def gen_get_async_reply(g, xid):
    return frame(ofp.OFPT_GET_ASYNC_REPLY, xid, struct.pack(ofp.OFP_ASYNC_CONFIG_PACK_STR, *masks(g)))


def gen_set_async(g, xid):
    m = masks(g)
    return os_ken_msg(p.OFPSetAsync(DP, m[0:2], m[2:4], m[4:6]), xid)


# --- multipart requests (OF 1.3.5 §7.3.5) ---

def rand_table_features(g):
    props = []
    for _ in range(g.n(0, 5)):
        k = g.n(0, 3)
        if k == 0:
            t = g.r.choice([ofp.OFPTFPT_INSTRUCTIONS, ofp.OFPTFPT_INSTRUCTIONS_MISS])
            ids = [p.OFPInstructionId(g.n(1, 6)) for _ in range(g.n(0, 6))]
            props.append(p.OFPTableFeaturePropInstructions(type_=t, instruction_ids=ids))
        elif k == 1:
            t = g.r.choice([ofp.OFPTFPT_NEXT_TABLES, ofp.OFPTFPT_NEXT_TABLES_MISS])
            props.append(p.OFPTableFeaturePropNextTables(type_=t, table_ids=[g.u(8) for _ in range(g.n(0, 10))]))
        elif k == 2:
            t = g.r.choice([ofp.OFPTFPT_WRITE_ACTIONS, ofp.OFPTFPT_WRITE_ACTIONS_MISS,
                            ofp.OFPTFPT_APPLY_ACTIONS, ofp.OFPTFPT_APPLY_ACTIONS_MISS])
            ids = [p.OFPActionId(g.r.choice([0, 11, 12, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27]))
                   for _ in range(g.n(0, 6))]
            props.append(p.OFPTableFeaturePropActions(type_=t, action_ids=ids))
        else:
            t = g.r.choice([ofp.OFPTFPT_MATCH, ofp.OFPTFPT_WILDCARDS, ofp.OFPTFPT_WRITE_SETFIELD,
                            ofp.OFPTFPT_WRITE_SETFIELD_MISS, ofp.OFPTFPT_APPLY_SETFIELD,
                            ofp.OFPTFPT_APPLY_SETFIELD_MISS])
            ids = []
            for name, _, _, maskable in g.r.sample(OXM_FIELDS, g.n(0, 6)):
                ids.append(p.OFPOxmId(name, hasmask=maskable and g.chance(0.5)))
            props.append(p.OFPTableFeaturePropOxm(type_=t, oxm_ids=ids))
    return p.OFPTableFeaturesStats(g.u(8), g.text(31).encode('utf-8'), g.u(64), g.u(64), g.u(32), g.u(32), props)


def gen_multipart_request(g, xid):
    fl = g.u(16)
    k = g.n(0, 14)
    if k == 0:
        m = p.OFPDescStatsRequest(DP, fl)
    elif k in (1, 2):
        cls = p.OFPFlowStatsRequest if k == 1 else p.OFPAggregateStatsRequest
        m = cls(DP, fl, g.u(8), g.u(32), g.u(32), g.u(64), g.u(64), rand_match(g))
    elif k == 3:
        m = p.OFPTableStatsRequest(DP, fl)
    elif k == 4:
        m = p.OFPPortStatsRequest(DP, fl, g.u(32))
    elif k == 5:
        m = p.OFPQueueStatsRequest(DP, fl, g.u(32), g.u(32))
    elif k == 6:
        m = p.OFPGroupStatsRequest(DP, fl, g.u(32))
    elif k == 7:
        m = p.OFPGroupDescStatsRequest(DP, fl)
    elif k == 8:
        m = p.OFPGroupFeaturesStatsRequest(DP, fl)
    elif k == 9:
        m = p.OFPMeterStatsRequest(DP, fl, g.u(32))
    elif k == 10:
        m = p.OFPMeterConfigStatsRequest(DP, fl, g.u(32))
    elif k == 11:
        m = p.OFPMeterFeaturesStatsRequest(DP, fl)
    elif k == 12:
        m = p.OFPTableFeaturesStatsRequest(DP, fl, [rand_table_features(g) for _ in range(g.n(0, 2))])
    elif k == 13:
        m = p.OFPPortDescStatsRequest(DP, fl)
    else:
        m = p.OFPExperimenterStatsRequest(DP, fl, g.experimenter(), g.u(32), g.data(32))
    return os_ken_msg(m, xid)


# --- multipart replies: packed by hand with os-ken's pack strings ---

def mp_reply(xid, mp_type, flags, body):
    return frame(ofp.OFPT_MULTIPART_REPLY, xid, struct.pack('!HH4x', mp_type, flags) + body)


def gen_multipart_reply(g, xid):
    fl = g.u(16)
    k = g.n(0, 14)
    many = lambda f, hi=3: b''.join(f() for _ in range(g.n(0, hi)))
    if k == 0:
        body = struct.pack(ofp.OFP_DESC_PACK_STR, fixed_str(g, 256), fixed_str(g, 256), fixed_str(g, 256),
                           fixed_str(g, 32), fixed_str(g, 256))
        return mp_reply(xid, ofp.OFPMP_DESC, fl, body)
    if k == 1:
        def flow():
            tail = ser(rand_match(g)) + ser_list(rand_instructions(g))
            return struct.pack(ofp.OFP_FLOW_STATS_0_PACK_STR, 48 + len(tail), g.u(8), g.u(32), g.u(32), g.u(16),
                               g.u(16), g.u(16), g.u(16), g.u(64), g.u(64), g.u(64)) + tail
        return mp_reply(xid, ofp.OFPMP_FLOW, fl, many(flow))
    if k == 2:
        return mp_reply(xid, ofp.OFPMP_AGGREGATE, fl, struct.pack('!QQI4x', g.u(64), g.u(64), g.u(32)))
    if k == 3:
        return mp_reply(xid, ofp.OFPMP_TABLE, fl, many(lambda: struct.pack('!B3xIQQ', g.u(8), g.u(32), g.u(64), g.u(64))))
    if k == 4:
        return mp_reply(xid, ofp.OFPMP_PORT_STATS, fl, many(lambda: struct.pack(
            ofp.OFP_PORT_STATS_PACK_STR, g.u(32), *[g.u(64) for _ in range(12)], g.u(32), g.u(32))))
    if k == 5:
        return mp_reply(xid, ofp.OFPMP_QUEUE, fl, many(lambda: struct.pack(
            '!IIQQQII', g.u(32), g.u(32), g.u(64), g.u(64), g.u(64), g.u(32), g.u(32))))
    if k == 6:
        def group():
            counters = many(lambda: struct.pack('!QQ', g.u(64), g.u(64)))
            return struct.pack(ofp.OFP_GROUP_STATS_PACK_STR, 40 + len(counters), g.u(32), g.u(32), g.u(64),
                               g.u(64), g.u(32), g.u(32)) + counters
        return mp_reply(xid, ofp.OFPMP_GROUP, fl, many(group))
    if k == 7:
        def gdesc():
            buckets = ser_list([rand_bucket(g) for _ in range(g.n(0, 3))])
            return struct.pack('!HBxI', 8 + len(buckets), g.u(8), g.u(32)) + buckets
        return mp_reply(xid, ofp.OFPMP_GROUP_DESC, fl, many(gdesc))
    if k == 8:
        return mp_reply(xid, ofp.OFPMP_GROUP_FEATURES, fl, struct.pack(
            ofp.OFP_GROUP_FEATURES_PACK_STR, *[g.u(32) for _ in range(10)]))
    if k == 9:
        def meter():
            bands = many(lambda: struct.pack('!QQ', g.u(64), g.u(64)))
            return struct.pack(ofp.OFP_METER_STATS_PACK_STR, g.u(32), 40 + len(bands), g.u(32), g.u(64), g.u(64),
                               g.u(32), g.u(32)) + bands
        return mp_reply(xid, ofp.OFPMP_METER, fl, many(meter))
    if k == 10:
        def mconf():
            bands = ser_list([rand_band(g) for _ in range(g.n(0, 3))])
            return struct.pack('!HHI', 8 + len(bands), g.u(16), g.u(32)) + bands
        return mp_reply(xid, ofp.OFPMP_METER_CONFIG, fl, many(mconf))
    if k == 11:
        return mp_reply(xid, ofp.OFPMP_METER_FEATURES, fl, struct.pack(
            '!IIIBB2x', g.u(32), g.u(32), g.u(32), g.u(8), g.u(8)))
    if k == 12:
        return mp_reply(xid, ofp.OFPMP_TABLE_FEATURES, fl,
                        b''.join(bytes(rand_table_features(g).serialize()) for _ in range(g.n(0, 2))))
    if k == 13:
        return mp_reply(xid, ofp.OFPMP_PORT_DESC, fl, many(lambda: port_bytes(g)))
    # os-ken's OFPExperimenterMultipart.parser sets length to 16 whatever the data size,
    # so its reply loop re-parses longer data as more bodies: keep data to 0 or 8 bytes.
    return mp_reply(xid, ofp.OFPMP_EXPERIMENTER, fl, struct.pack('!II', g.experimenter(), g.u(32)) + g.data(8, 8))


GENERATORS = {
    name[len('gen_'):]: fn for name, fn in sorted(globals().items()) if name.startswith('gen_') and callable(fn)
}


def generate(seed, kind):
    g = Gen(seed)
    return GENERATORS[kind](g, g.u(32))


# ---------------------------------------------------------------------------
# Decoding: os-ken's registered parsers, plus request parsers built from its parts
# ---------------------------------------------------------------------------

def parse_actions(buf, off, end):
    out = []
    while off < end:
        a = p.OFPAction.parser(buf, off)
        assert a.len >= 8, 'action length < 8'
        out.append(a)
        off += a.len
    assert off == end, 'actions overrun'
    return out


def req_packet_out(buf):
    buffer_id, in_port, actions_len = struct.unpack_from(ofp.OFP_PACKET_OUT_PACK_STR, buf, 8)
    end = ofp.OFP_PACKET_OUT_SIZE + actions_len
    actions = parse_actions(buf, ofp.OFP_PACKET_OUT_SIZE, end)
    msg = p.OFPPacketOut(DP, buffer_id, in_port, actions, bytes(buf[end:]))
    msg.actions_len = actions_len  # the constructor ignores its actions_len argument
    return msg


def req_group_mod(buf):
    command, type_, group_id = struct.unpack_from(ofp.OFP_GROUP_MOD_PACK_STR, buf, 8)
    off, buckets = ofp.OFP_GROUP_MOD_SIZE, []
    while off < len(buf):
        b = p.OFPBucket.parser(buf, off)
        assert b.len >= 16, 'bucket length < 16'
        buckets.append(b)
        off += b.len
    return p.OFPGroupMod(DP, command, type_, group_id, buckets)


def req_meter_mod(buf):
    command, flags, meter_id = struct.unpack_from(ofp.OFP_METER_MOD_PACK_STR, buf, 8)
    off, bands = ofp.OFP_METER_MOD_SIZE, []
    while off < len(buf):
        _, blen = struct.unpack_from('!HH', buf, off)
        assert blen >= 16, 'meter band length < 16'
        bands.append(p.OFPMeterBandHeader.parser(buf, off))
        off += blen
    return p.OFPMeterMod(DP, command, flags, meter_id, bands)


def req_port_mod(buf):
    port_no, hw, config, mask, advertise = struct.unpack_from(ofp.OFP_PORT_MOD_PACK_STR, buf, 8)
    return p.OFPPortMod(DP, port_no, mac_text(int.from_bytes(hw, 'big')), config, mask, advertise)


def req_table_mod(buf):
    table_id, config = struct.unpack_from(ofp.OFP_TABLE_MOD_PACK_STR, buf, 8)
    return p.OFPTableMod(DP, table_id, config)


def req_set_config(buf):
    return p.OFPSetConfig(DP, *struct.unpack_from('!HH', buf, 8))


def req_role_request(buf):
    return p.OFPRoleRequest(DP, *struct.unpack_from(ofp.OFP_ROLE_REQUEST_PACK_STR, buf, 8))


def req_set_async(buf):
    m = struct.unpack_from(ofp.OFP_ASYNC_CONFIG_PACK_STR, buf, 8)
    return p.OFPSetAsync(DP, list(m[0:2]), list(m[2:4]), list(m[4:6]))


def req_queue_get_config_request(buf):
    (port,) = struct.unpack_from('!I4x', buf, 8)
    return p.OFPQueueGetConfigRequest(DP, port)


def req_multipart_request(buf):
    mp_type, flags = struct.unpack_from('!HH4x', buf, 8)
    o = 16
    simple = {
        ofp.OFPMP_DESC: p.OFPDescStatsRequest, ofp.OFPMP_TABLE: p.OFPTableStatsRequest,
        ofp.OFPMP_GROUP_DESC: p.OFPGroupDescStatsRequest, ofp.OFPMP_GROUP_FEATURES: p.OFPGroupFeaturesStatsRequest,
        ofp.OFPMP_METER_FEATURES: p.OFPMeterFeaturesStatsRequest, ofp.OFPMP_PORT_DESC: p.OFPPortDescStatsRequest,
    }
    if mp_type in simple:
        return simple[mp_type](DP, flags)
    if mp_type in (ofp.OFPMP_FLOW, ofp.OFPMP_AGGREGATE):
        table_id, out_port, out_group, cookie, cookie_mask = struct.unpack_from('!B3xII4xQQ', buf, o)
        match = p.OFPMatch.parser(buf, o + 32)
        cls = p.OFPFlowStatsRequest if mp_type == ofp.OFPMP_FLOW else p.OFPAggregateStatsRequest
        return cls(DP, flags, table_id, out_port, out_group, cookie, cookie_mask, match)
    if mp_type == ofp.OFPMP_PORT_STATS:
        return p.OFPPortStatsRequest(DP, flags, *struct.unpack_from('!I4x', buf, o))
    if mp_type == ofp.OFPMP_QUEUE:
        return p.OFPQueueStatsRequest(DP, flags, *struct.unpack_from('!II', buf, o))
    if mp_type == ofp.OFPMP_GROUP:
        return p.OFPGroupStatsRequest(DP, flags, *struct.unpack_from('!I4x', buf, o))
    if mp_type == ofp.OFPMP_METER:
        return p.OFPMeterStatsRequest(DP, flags, *struct.unpack_from('!I4x', buf, o))
    if mp_type == ofp.OFPMP_METER_CONFIG:
        return p.OFPMeterConfigStatsRequest(DP, flags, *struct.unpack_from('!I4x', buf, o))
    if mp_type == ofp.OFPMP_TABLE_FEATURES:
        body = []
        while o < len(buf):
            tf = p.OFPTableFeaturesStats.parser(buf, o)
            assert tf.length >= 64, 'table features length < 64'
            body.append(tf)
            o += tf.length
        return p.OFPTableFeaturesStatsRequest(DP, flags, body)
    if mp_type == ofp.OFPMP_EXPERIMENTER:
        experimenter, exp_type = struct.unpack_from('!II', buf, o)
        return p.OFPExperimenterStatsRequest(DP, flags, experimenter, exp_type, bytes(buf[o + 8:]))
    raise ValueError('unknown multipart request type %d' % mp_type)


def hello(buf):
    # os-ken's OFPHello.parser steps by the element length without the padding to 8
    # that OF 1.3.5 §7.5.1 requires, so it loops forever on a padded element (two
    # bitmaps); walk the elements correctly and let os-ken parse each one.
    off, elems = ofp.OFP_HELLO_HEADER_SIZE, []
    while off + 4 <= len(buf):
        type_, length = struct.unpack_from('!HH', buf, off)
        assert length >= 4, 'hello element length < 4'
        if type_ == ofp.OFPHET_VERSIONBITMAP:
            elems.append(p.OFPHelloElemVersionBitmap.parser(buf, off))
        off += (length + 7) // 8 * 8
    return p.OFPHello(DP, elems)


def header_only(cls):
    return lambda buf: cls(DP)


REQUEST_PARSERS = {
    ofp.OFPT_HELLO: hello,
    ofp.OFPT_FEATURES_REQUEST: header_only(p.OFPFeaturesRequest),
    ofp.OFPT_GET_CONFIG_REQUEST: header_only(p.OFPGetConfigRequest),
    ofp.OFPT_BARRIER_REQUEST: header_only(p.OFPBarrierRequest),
    ofp.OFPT_GET_ASYNC_REQUEST: header_only(p.OFPGetAsyncRequest),
    ofp.OFPT_SET_CONFIG: req_set_config,
    ofp.OFPT_PACKET_OUT: req_packet_out,
    ofp.OFPT_GROUP_MOD: req_group_mod,
    ofp.OFPT_PORT_MOD: req_port_mod,
    ofp.OFPT_TABLE_MOD: req_table_mod,
    ofp.OFPT_METER_MOD: req_meter_mod,
    ofp.OFPT_MULTIPART_REQUEST: req_multipart_request,
    ofp.OFPT_QUEUE_GET_CONFIG_REQUEST: req_queue_get_config_request,
    ofp.OFPT_ROLE_REQUEST: req_role_request,
    ofp.OFPT_SET_ASYNC: req_set_async,
}


def decode(buf):
    """os-ken's decoding of one whole message, as to_jsondict() plus the header's xid."""
    buf = bytes(buf)  # os-ken base64-encodes bytes fields in to_jsondict(), not bytearray ones
    version, msg_type, msg_len, xid = ofproto_parser.header(buf)
    if msg_len != len(buf):
        raise ValueError('ofp_header.length %d != %d bytes given' % (msg_len, len(buf)))
    if version != ofp.OFP_VERSION and msg_type != ofp.OFPT_HELLO:
        raise ValueError('version %d is not OF1.3' % version)
    parser = p._MSG_PARSERS.get(msg_type)
    if msg_type in REQUEST_PARSERS:
        msg = REQUEST_PARSERS[msg_type](buf)
    elif parser is not None:
        msg = parser(DP, version, msg_type, msg_len, xid, buf)
    else:
        raise ValueError('os-ken has no parser for message type %d' % msg_type)
    d = msg.to_jsondict()
    d['xid'] = xid
    return d


# ---------------------------------------------------------------------------
# JSON-lines loop
# ---------------------------------------------------------------------------

def handle(req):
    op = req.get('op')
    if op == 'kinds':
        return {'kinds': sorted(GENERATORS)}
    if op == 'decode':
        return {'json': decode(bytes.fromhex(req['hex']))}
    if op == 'gen':
        seed = int(req['seed'])
        kinds = req.get('kinds') or sorted(GENERATORS)
        msgs = []
        for i in range(int(req.get('count', 1))):
            s = seed * 100003 + i
            kind = kinds[random.Random(s).randrange(len(kinds))]
            b = generate(s, kind)
            msgs.append({'kind': kind, 'seed': s, 'hex': b.hex(), 'json': decode(b)})
        return {'msgs': msgs}
    raise ValueError('unknown op %r' % op)


def exact_ints(v):
    """Integers beyond 2**53 become decimal strings so JavaScript's JSON.parse keeps them exact."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return str(v) if abs(v) > 2 ** 53 else v
    if isinstance(v, list):
        return [exact_ints(x) for x in v]
    if isinstance(v, dict):
        return {k: exact_ints(x) for k, x in v.items()}
    return v


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req.get('id')
            out = {'id': rid, 'ok': True}
            out.update(handle(req))
            text = json.dumps(exact_ints(out))
        except Exception as e:  # every failure is an answer, never a dead oracle
            text = json.dumps({'id': rid, 'ok': False, 'error': '%s: %s' % (type(e).__name__, e),
                               'trace': traceback.format_exc(limit=6)})
        sys.stdout.write(text + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
