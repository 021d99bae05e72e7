// A lenient, allocation-light parser for the frames the controller sees in
// packet-ins: Ethernet (with at most one 802.1Q tag), ARP, IPv4, ICMP, TCP, UDP.
// It never throws: a truncated or unknown layer is simply absent, so a hostile
// frame cannot crash the packet-in path.
import { readIpv4, readMac } from './addr.js';

export const ETH_TYPE_IPV4 = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_VLAN = 0x8100;
export const IP_PROTO_ICMP = 1;
export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
export const TCP_FLAG_SYN = 0x02;
export const TCP_FLAG_RST = 0x04;
export const TCP_FLAG_ACK = 0x10;

export interface ArpInfo {
  op: number;
  sha: string;
  spa: string;
  tha: string;
  tpa: string;
}

export interface Ipv4Info {
  src: string;
  dst: string;
  proto: number;
  ttl: number;
  /** Offset of the IPv4 header in the frame. */
  offset: number;
  headerLen: number;
  /** IPv4 total length field (header + payload). */
  totalLen: number;
}

export interface ParsedFrame {
  dst: string;
  src: string;
  /** The ethertype after any VLAN tag. */
  ethType: number;
  /** VLAN id when the frame carries an 802.1Q tag. */
  vlan?: number;
  arp?: ArpInfo;
  ipv4?: Ipv4Info;
  icmp?: { type: number; code: number; id: number; seq: number; offset: number };
  tcp?: { src: number; dst: number; flags: number };
  udp?: { src: number; dst: number };
}

/** Parses what it can of an Ethernet frame; undefined only when the Ethernet header itself is truncated. */
export function parseFrame(buf: Buffer): ParsedFrame | undefined {
  if (buf.length < 14) return undefined;
  let off = 12;
  let ethType = buf.readUInt16BE(off);
  const frame: ParsedFrame = { dst: readMac(buf, 0), src: readMac(buf, 6), ethType };
  off += 2;
  if (ethType === ETH_TYPE_VLAN) {
    if (buf.length < 18) return frame;
    frame.vlan = buf.readUInt16BE(14) & 0x0fff;
    ethType = buf.readUInt16BE(16);
    frame.ethType = ethType;
    off = 18;
  }
  if (ethType === ETH_TYPE_ARP) {
    // Only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4) is meaningful here.
    if (buf.length >= off + 28 && buf.readUInt16BE(off) === 1 && buf.readUInt16BE(off + 2) === ETH_TYPE_IPV4 && buf[off + 4] === 6 && buf[off + 5] === 4) {
      frame.arp = {
        op: buf.readUInt16BE(off + 6),
        sha: readMac(buf, off + 8),
        spa: readIpv4(buf, off + 14),
        tha: readMac(buf, off + 18),
        tpa: readIpv4(buf, off + 24),
      };
    }
    return frame;
  }
  if (ethType !== ETH_TYPE_IPV4 || buf.length < off + 20) return frame;
  const vihl = buf[off]!;
  const headerLen = (vihl & 0x0f) * 4;
  if (vihl >> 4 !== 4 || headerLen < 20 || buf.length < off + headerLen) return frame;
  const proto = buf[off + 9]!;
  frame.ipv4 = {
    src: readIpv4(buf, off + 12),
    dst: readIpv4(buf, off + 16),
    proto,
    ttl: buf[off + 8]!,
    offset: off,
    headerLen,
    totalLen: buf.readUInt16BE(off + 2),
  };
  // Only the first fragment carries the L4 header.
  if ((buf.readUInt16BE(off + 6) & 0x1fff) !== 0) return frame;
  const l4 = off + headerLen;
  if (proto === IP_PROTO_ICMP && buf.length >= l4 + 8) {
    frame.icmp = { type: buf[l4]!, code: buf[l4 + 1]!, id: buf.readUInt16BE(l4 + 4), seq: buf.readUInt16BE(l4 + 6), offset: l4 };
  } else if (proto === IP_PROTO_TCP && buf.length >= l4 + 14) {
    frame.tcp = { src: buf.readUInt16BE(l4), dst: buf.readUInt16BE(l4 + 2), flags: buf[l4 + 13]! };
  } else if (proto === IP_PROTO_UDP && buf.length >= l4 + 8) {
    frame.udp = { src: buf.readUInt16BE(l4), dst: buf.readUInt16BE(l4 + 2) };
  }
  return frame;
}
