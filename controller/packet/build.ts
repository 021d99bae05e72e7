// Builders for the frames the controller originates: ARP requests (readiness
// probes), ARP replies and ICMP echo replies (answers on behalf of a parked VM),
// and plain IPv4/TCP/UDP frames (tests and tools).
import { writeIpv4, writeMac } from './addr.js';
import { internetChecksum } from './checksum.js';
import {
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  ETH_TYPE_ARP,
  ETH_TYPE_IPV4,
  ETH_TYPE_VLAN,
  ICMP_ECHO_REPLY,
  IP_PROTO_TCP,
  IP_PROTO_UDP,
  parseFrame,
} from './parse.js';

/** Ethernet frames shorter than 60 bytes (without FCS) are padded with zeros (IEEE 802.3 minimum). */
const MIN_FRAME = 60;

function ethernet(dst: string, src: string, ethType: number, payloadLen: number): Buffer {
  const buf = Buffer.alloc(Math.max(MIN_FRAME, 14 + payloadLen));
  writeMac(buf, 0, dst);
  writeMac(buf, 6, src);
  buf.writeUInt16BE(ethType, 12);
  return buf;
}

export interface ArpFields {
  op: number;
  /** Ethernet destination; defaults to broadcast for requests, `tha` for replies. */
  ethDst?: string;
  sha: string;
  spa: string;
  tha: string;
  tpa: string;
}

/** An Ethernet/IPv4 ARP frame (RFC 826); the Ethernet source is `sha`. */
export function buildArp(f: ArpFields): Buffer {
  const dst = f.ethDst ?? (f.op === ARP_OP_REQUEST ? 'ff:ff:ff:ff:ff:ff' : f.tha);
  const buf = ethernet(dst, f.sha, ETH_TYPE_ARP, 28);
  buf.writeUInt16BE(1, 14); // htype Ethernet
  buf.writeUInt16BE(ETH_TYPE_IPV4, 16);
  buf[18] = 6;
  buf[19] = 4;
  buf.writeUInt16BE(f.op, 20);
  writeMac(buf, 22, f.sha);
  writeIpv4(buf, 28, f.spa);
  writeMac(buf, 32, f.tha);
  writeIpv4(buf, 38, f.tpa);
  return buf;
}

/** An ARP request for `tpa` from (sha, spa); unicast to `ethDst` when given (a probe of a known host), else broadcast. */
export function buildArpRequest(sha: string, spa: string, tpa: string, ethDst?: string): Buffer {
  return buildArp({ op: ARP_OP_REQUEST, sha, spa, tha: '00:00:00:00:00:00', tpa, ...(ethDst ? { ethDst } : {}) });
}

/**
 * The reply a host with (mac, ip) would send to an ARP request frame, or
 * undefined when the frame is not an ARP request for `ip`.
 */
export function buildArpReplyFor(request: Buffer, mac: string, ip: string): Buffer | undefined {
  const f = parseFrame(request);
  if (!f?.arp || f.arp.op !== ARP_OP_REQUEST || f.arp.tpa !== ip) return undefined;
  return buildArp({ op: ARP_OP_REPLY, sha: mac, spa: ip, tha: f.arp.sha, tpa: f.arp.spa, ethDst: f.arp.sha });
}

/**
 * The ICMP echo reply (RFC 792) to an echo request frame: addresses swapped,
 * same id/seq/payload, fresh TTL and checksums. Undefined when the frame is not
 * an unfragmented IPv4 echo request. A VLAN tag, if any, is dropped: replies go
 * out of an access port.
 */
export function buildIcmpEchoReply(request: Buffer): Buffer | undefined {
  const f = parseFrame(request);
  if (!f?.ipv4 || !f.icmp || f.icmp.type !== 8 || f.icmp.code !== 0) return undefined;
  const ip = f.ipv4;
  if (ip.offset + ip.totalLen > request.length || ip.totalLen < ip.headerLen + 8) return undefined;
  if ((request.readUInt16BE(ip.offset + 6) & 0x3fff) !== 0) return undefined; // MF set or offset: a fragment
  const icmpLen = ip.totalLen - ip.headerLen;
  const buf = ethernet(f.src, f.dst, ETH_TYPE_IPV4, 20 + icmpLen);
  writeIpHeader(buf, 14, 20 + icmpLen, 1, ip.dst, ip.src, request.readUInt16BE(ip.offset + 4));
  request.copy(buf, 34, ip.offset + ip.headerLen, ip.offset + ip.totalLen);
  buf[34] = ICMP_ECHO_REPLY;
  buf[35] = 0;
  buf.writeUInt16BE(0, 36);
  buf.writeUInt16BE(internetChecksum(buf, 34, 34 + icmpLen), 36);
  return buf;
}

function writeIpHeader(buf: Buffer, off: number, totalLen: number, proto: number, src: string, dst: string, id: number): void {
  buf[off] = 0x45;
  buf[off + 1] = 0;
  buf.writeUInt16BE(totalLen, off + 2);
  buf.writeUInt16BE(id, off + 4);
  buf.writeUInt16BE(0x4000, off + 6); // DF
  buf[off + 8] = 64;
  buf[off + 9] = proto;
  writeIpv4(buf, off + 12, src);
  writeIpv4(buf, off + 16, dst);
  buf.writeUInt16BE(internetChecksum(buf, off, off + 20), off + 10);
}

export interface Ipv4FrameFields {
  ethSrc: string;
  ethDst: string;
  src: string;
  dst: string;
  vlan?: number;
  payload?: Buffer;
}

/** An IPv4 frame carrying a TCP segment (20-byte header, checksum over the pseudo-header). */
export function buildTcpFrame(f: Ipv4FrameFields & { srcPort: number; dstPort: number; flags: number; seq?: number }): Buffer {
  const payload = f.payload ?? Buffer.alloc(0);
  const l4 = Buffer.alloc(20 + payload.length);
  l4.writeUInt16BE(f.srcPort, 0);
  l4.writeUInt16BE(f.dstPort, 2);
  l4.writeUInt32BE(f.seq ?? 0, 4);
  l4[12] = 5 << 4;
  l4[13] = f.flags;
  l4.writeUInt16BE(65535, 14);
  payload.copy(l4, 20);
  return ipv4Frame(f, IP_PROTO_TCP, l4, 16);
}

/** An IPv4 frame carrying a UDP datagram. */
export function buildUdpFrame(f: Ipv4FrameFields & { srcPort: number; dstPort: number }): Buffer {
  const payload = f.payload ?? Buffer.alloc(0);
  const l4 = Buffer.alloc(8 + payload.length);
  l4.writeUInt16BE(f.srcPort, 0);
  l4.writeUInt16BE(f.dstPort, 2);
  l4.writeUInt16BE(l4.length, 4);
  payload.copy(l4, 8);
  return ipv4Frame(f, IP_PROTO_UDP, l4, 6);
}

/** An IPv4 frame carrying an ICMP echo request. */
export function buildIcmpEchoRequest(f: Ipv4FrameFields & { id: number; seq: number }): Buffer {
  const payload = f.payload ?? Buffer.alloc(0);
  const l4 = Buffer.alloc(8 + payload.length);
  l4[0] = 8;
  l4.writeUInt16BE(f.id, 4);
  l4.writeUInt16BE(f.seq, 6);
  payload.copy(l4, 8);
  l4.writeUInt16BE(internetChecksum(l4), 2);
  return ipv4Frame(f, 1, l4, undefined);
}

function ipv4Frame(f: Ipv4FrameFields, proto: number, l4: Buffer, csumOffset: number | undefined): Buffer {
  const tag = f.vlan === undefined ? 0 : 4;
  const buf = ethernet(f.ethDst, f.ethSrc, tag ? ETH_TYPE_VLAN : ETH_TYPE_IPV4, tag + 20 + l4.length);
  let off = 14;
  if (f.vlan !== undefined) {
    buf.writeUInt16BE(f.vlan & 0x0fff, 14);
    buf.writeUInt16BE(ETH_TYPE_IPV4, 16);
    off = 18;
  }
  writeIpHeader(buf, off, 20 + l4.length, proto, f.src, f.dst, 0);
  l4.copy(buf, off + 20);
  if (csumOffset !== undefined) {
    // TCP/UDP checksum covers a pseudo-header: src, dst, zero, proto, L4 length (RFC 793 §3.1, RFC 768).
    const pseudo = Buffer.alloc(12);
    writeIpv4(pseudo, 0, f.src);
    writeIpv4(pseudo, 4, f.dst);
    pseudo[9] = proto;
    pseudo.writeUInt16BE(l4.length, 10);
    const partial = ~internetChecksum(pseudo) & 0xffff;
    const sum = internetChecksum(buf, off + 20, off + 20 + l4.length, partial);
    // A computed UDP checksum of 0 is sent as 0xffff: 0 means "no checksum" (RFC 768).
    buf.writeUInt16BE(sum === 0 && proto === IP_PROTO_UDP ? 0xffff : sum, off + 20 + csumOffset);
  }
  return buf;
}
