/**
 * Raw OpenFlow 1.3 bytes for the emulated switches of the load generator.
 *
 * Deliberately independent of controller/openflow: the generator must not
 * share code (or bugs) with the controller it measures, and it must be much
 * faster than it, so it builds every message by hand and reads nothing but
 * the 8-byte header of what it receives (OF 1.3.5 §7.1: version, type,
 * length, xid).
 */

export const OFP_VERSION = 0x04;
export const HEADER_LEN = 8;

/** OF 1.3.5 §7.1 enum ofp_type: only the values the generator looks at. */
export const T = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  FEATURES_REQUEST: 5,
  FEATURES_REPLY: 6,
  GET_CONFIG_REQUEST: 7,
  GET_CONFIG_REPLY: 8,
  SET_CONFIG: 9,
  PACKET_IN: 10,
  PACKET_OUT: 13,
  FLOW_MOD: 14,
  MULTIPART_REQUEST: 18,
  MULTIPART_REPLY: 19,
  BARRIER_REQUEST: 20,
  BARRIER_REPLY: 21,
  QUEUE_GET_CONFIG_REQUEST: 22,
  ROLE_REQUEST: 24,
  ROLE_REPLY: 25,
  GET_ASYNC_REQUEST: 26,
  GET_ASYNC_REPLY: 27,
} as const;

/** OF 1.3.5 §7.3.5 enum ofp_multipart_type values answered with a non-empty body. */
export const MP = {
  DESC: 0,
  AGGREGATE: 2,
  GROUP_FEATURES: 8,
  METER_FEATURES: 11,
  PORT_DESC: 13,
} as const;

/** OFP_NO_BUFFER (OF 1.3.5 §7.4.1 packet-in buffer_id): not buffered on the switch, the frame travels in the message. */
export const NO_BUFFER = 0xffffffff;

/** A message with a header and a zeroed body of `len` bytes in total. */
export function message(type: number, xid: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  b[0] = OFP_VERSION;
  b[1] = type;
  b.writeUInt16BE(len, 2);
  b.writeUInt32BE(xid >>> 0, 4);
  return b;
}

/** OF 1.3.5 §7.5.1: a HELLO without elements (version negotiation uses the header's version). */
export function hello(xid: number): Buffer {
  return message(T.HELLO, xid, HEADER_LEN);
}

/** OF 1.3.5 §7.3.1 ofp_switch_features (32 bytes). n_buffers 0: we never buffer, every packet-in carries the frame. */
export function featuresReply(xid: number, dpid: bigint): Buffer {
  const b = message(T.FEATURES_REPLY, xid, 32);
  b.writeBigUInt64BE(dpid, 8);
  b.writeUInt32BE(0, 16); // n_buffers
  b[20] = 254; // n_tables
  b[21] = 0; // auxiliary_id: main connection
  // capabilities: OFPC_FLOW_STATS | OFPC_TABLE_STATS | OFPC_PORT_STATS
  b.writeUInt32BE(0x7, 24);
  return b;
}

/** Ethernet address for host `host` of switch `sw`: locally administered unicast (02:..). */
export function hostMac(sw: number, host: number): Buffer {
  return Buffer.from([0x02, (sw >>> 8) & 0xff, sw & 0xff, (host >>> 16) & 0xff, (host >>> 8) & 0xff, host & 0xff]);
}

const PORT_LEN = 64;

/** OF 1.3.5 §7.2.1 struct ofp_port (64 bytes), a live 10 Gb/s copper port. */
function writePort(b: Buffer, off: number, sw: number, portNo: number): void {
  b.writeUInt32BE(portNo, off);
  Buffer.from([0x02, 0xfe, (sw >>> 8) & 0xff, sw & 0xff, 0, portNo & 0xff]).copy(b, off + 8);
  b.write(`s${sw}-eth${portNo}`.slice(0, 15), off + 16, 'latin1');
  b.writeUInt32BE(0, off + 32); // config
  b.writeUInt32BE(4, off + 36); // state: OFPPS_LIVE
  b.writeUInt32BE(0x840, off + 40); // curr: OFPPF_10GB_FD | OFPPF_COPPER
  b.writeUInt32BE(0x840, off + 44); // advertised
  b.writeUInt32BE(0x840, off + 48); // supported
  b.writeUInt32BE(0, off + 52); // peer
  b.writeUInt32BE(10_000_000, off + 56); // curr_speed (kb/s)
  b.writeUInt32BE(10_000_000, off + 60); // max_speed
}

/** Multipart reply header (OF 1.3.5 §7.3.5): type, flags 0 (last part), 4 pad bytes. */
function multipartReply(xid: number, mpType: number, bodyLen: number): Buffer {
  const b = message(T.MULTIPART_REPLY, xid, 16 + bodyLen);
  b.writeUInt16BE(mpType, 8);
  return b;
}

/** OFPMP_PORT_DESC reply with ports 1..nPorts. */
export function portDescReply(xid: number, sw: number, nPorts: number): Buffer {
  const b = multipartReply(xid, MP.PORT_DESC, nPorts * PORT_LEN);
  for (let p = 1; p <= nPorts; p++) writePort(b, 16 + (p - 1) * PORT_LEN, sw, p);
  return b;
}

/** OFPMP_DESC reply: struct ofp_desc (OF 1.3.5 §7.3.5.1), 1056 bytes of fixed-size strings. */
export function descReply(xid: number, sw: number): Buffer {
  const b = multipartReply(xid, MP.DESC, 1056);
  b.write('seamless bench', 16, 'latin1'); // mfr_desc[256]
  b.write('cbench-style emulated switch', 16 + 256, 'latin1'); // hw_desc[256]
  b.write('bench/cbench', 16 + 512, 'latin1'); // sw_desc[256]
  b.write(String(sw), 16 + 768, 'latin1'); // serial_num[32]
  b.write(`emulated switch ${sw}`, 16 + 800, 'latin1'); // dp_desc[256]
  return b;
}

/**
 * Reply to any other multipart request: bodies of the right fixed size filled
 * with zeros for the single-struct types, an empty array for the others
 * (no flows, no tables, no groups, no meters: the emulated switch keeps no state).
 */
export function emptyMultipartReply(xid: number, mpType: number): Buffer {
  const bodyLen =
    mpType === MP.AGGREGATE ? 24 : mpType === MP.GROUP_FEATURES ? 40 : mpType === MP.METER_FEATURES ? 16 : 0;
  return multipartReply(xid, mpType, bodyLen);
}

/** Same type-specific body as the request, with the reply type (echo, role). */
export function mirror(req: Buffer, type: number): Buffer {
  const b = Buffer.from(req);
  b[1] = type;
  return b;
}

/** OF 1.3.5 §7.3.2 GET_CONFIG_REPLY: flags OFPC_FRAG_NORMAL, miss_send_len OFPCML_NO_BUFFER. */
export function getConfigReply(xid: number): Buffer {
  const b = message(T.GET_CONFIG_REPLY, xid, 12);
  b.writeUInt16BE(0xffff, 10);
  return b;
}

/** OF 1.3.5 §7.3.10 GET_ASYNC_REPLY: the spec's default masks (packet-in no-match+action, all port-status, flow-removed except delete). */
export function getAsyncReply(xid: number): Buffer {
  const b = message(T.GET_ASYNC_REPLY, xid, 32);
  b.writeUInt32BE(0x3, 8); // packet_in_mask[0] (master/equal)
  b.writeUInt32BE(0x7, 16); // port_status_mask[0]
  b.writeUInt32BE(0x7, 20); // port_status_mask[1]
  b.writeUInt32BE(0xf, 24); // flow_removed_mask[0]
  return b;
}

/** OF 1.3.5 §7.4.4 OFPT_ERROR with type/code and the first 64 bytes of the offending request. */
export function errorReply(req: Buffer, type: number, code: number): Buffer {
  const data = req.subarray(0, Math.min(64, req.length));
  const b = message(T.ERROR, req.readUInt32BE(4), 12 + data.length);
  b.writeUInt16BE(type, 8);
  b.writeUInt16BE(code, 10);
  data.copy(b, 12);
  return b;
}

/** Layout of the packet-in template (offsets into one message). */
export const PI = {
  /** 24-byte fixed part + 16-byte match (one IN_PORT OXM, padded to 8) + 2 pad + 60-byte frame. */
  LEN: 102,
  IN_PORT: 32,
  DATA: 42,
  ETH_DST: 42,
  ETH_SRC: 48,
  FRAME_LEN: 60,
} as const;

/** The one's-complement sum of 16-bit words (RFC 1071), for the IPv4 header checksum. */
function ipChecksum(b: Buffer, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += b.readUInt16BE(off + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * OF 1.3.5 §7.4.1 OFPT_PACKET_IN template: buffer_id OFP_NO_BUFFER with the
 * whole 60-byte frame in data (an IPv4/UDP datagram, like cbench's), reason
 * OFPR_NO_MATCH from table 0, match = OXM IN_PORT only. Only xid, in_port and
 * the two MAC addresses are patched per packet.
 */
export function packetInTemplate(): Buffer {
  const b = message(T.PACKET_IN, 0, PI.LEN);
  b.writeUInt32BE(NO_BUFFER, 8);
  b.writeUInt16BE(PI.FRAME_LEN, 12); // total_len
  b[14] = 0; // reason: OFPR_NO_MATCH
  b[15] = 0; // table_id
  // cookie (16..23) 0
  b.writeUInt16BE(1, 24); // match type OFPMT_OXM
  b.writeUInt16BE(12, 26); // match length without padding: 4 + one 8-byte OXM
  b.writeUInt32BE(0x80000004, 28); // OXM_OF_IN_PORT: class 0x8000, field 0, no mask, 4 bytes
  b.writeUInt32BE(1, PI.IN_PORT);
  // 36..39 match padding, 40..41 pad[2]
  const f = PI.DATA;
  b.writeUInt16BE(0x0800, f + 12); // EtherType IPv4
  const ip = f + 14;
  b[ip] = 0x45;
  b.writeUInt16BE(46, ip + 2); // total length: 20 IP + 8 UDP + 18 payload
  b[ip + 8] = 64; // TTL
  b[ip + 9] = 17; // UDP
  Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]).copy(b, ip + 12);
  b.writeUInt16BE(ipChecksum(b, ip, 20), ip + 10);
  const udp = ip + 20;
  b.writeUInt16BE(5000, udp);
  b.writeUInt16BE(5001, udp + 2);
  b.writeUInt16BE(26, udp + 4); // UDP length; checksum 0 = none (RFC 768)
  b.write('cbench-seamless-01', udp + 8, 'latin1');
  return b;
}
