import test from 'ava';
import {
  buildArpReplyFor,
  buildArpRequest,
  buildIcmpEchoReply,
  buildIcmpEchoRequest,
  buildTcpFrame,
  buildUdpFrame,
  internetChecksum,
  isIpv4,
  isMac,
  normalizeMac,
  parseFrame,
  AddressError,
} from '../../../controller/packet/index.js';

const H1 = { mac: '00:00:00:00:00:01', ip: '10.0.0.1' };
const VM = { mac: '52:54:00:00:00:11', ip: '10.0.0.11' };

test('addresses: MAC and IPv4 validation', (t) => {
  t.true(isMac('52:54:00:AB:cd:01'));
  t.false(isMac('52:54:zz:00:00:01'));
  t.false(isMac('52:54:00:00:00'));
  t.true(isIpv4('10.0.0.254'));
  t.false(isIpv4('10.0.0.256'));
  t.false(isIpv4('10.0.0'));
  t.false(isIpv4('10.0.0.01'));
  t.is(normalizeMac('52:54:00:AB:CD:01'), '52:54:00:ab:cd:01');
  const err = t.throws(() => normalizeMac('nope'), { instanceOf: AddressError });
  t.is(err?.code, 'ERR_BAD_ADDRESS');
});

test('internet checksum matches the RFC 1071 worked example', (t) => {
  // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2 (one's complement sum), checksum ~0xddf2.
  const buf = Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  t.is(internetChecksum(buf), ~0xddf2 & 0xffff);
});

test('ARP request parses back, padded to the Ethernet minimum', (t) => {
  const req = buildArpRequest(H1.mac, H1.ip, VM.ip);
  t.is(req.length, 60);
  const f = parseFrame(req)!;
  t.is(f.dst, 'ff:ff:ff:ff:ff:ff');
  t.is(f.src, H1.mac);
  t.is(f.ethType, 0x0806);
  t.deepEqual(f.arp, { op: 1, sha: H1.mac, spa: H1.ip, tha: '00:00:00:00:00:00', tpa: VM.ip });
  const unicast = parseFrame(buildArpRequest(H1.mac, '0.0.0.0', VM.ip, VM.mac))!;
  t.is(unicast.dst, VM.mac);
  t.is(unicast.arp?.spa, '0.0.0.0');
});

test('ARP reply on behalf of a VM answers the requester with the VM MAC', (t) => {
  const req = buildArpRequest(H1.mac, H1.ip, VM.ip);
  const reply = buildArpReplyFor(req, VM.mac, VM.ip)!;
  const f = parseFrame(reply)!;
  t.is(f.dst, H1.mac);
  t.is(f.src, VM.mac);
  t.deepEqual(f.arp, { op: 2, sha: VM.mac, spa: VM.ip, tha: H1.mac, tpa: H1.ip });
  // Not a request for this IP, or not a request at all: no answer.
  t.is(buildArpReplyFor(buildArpRequest(H1.mac, H1.ip, '10.0.0.99'), VM.mac, VM.ip), undefined);
  t.is(buildArpReplyFor(reply, VM.mac, VM.ip), undefined);
});

test('ICMP echo reply swaps addresses, keeps id/seq/payload, has valid checksums', (t) => {
  const payload = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789!');
  const req = buildIcmpEchoRequest({ ethSrc: H1.mac, ethDst: VM.mac, src: H1.ip, dst: VM.ip, id: 0x1234, seq: 7, payload });
  const rf = parseFrame(req)!;
  t.is(internetChecksum(req, rf.icmp!.offset, rf.ipv4!.offset + rf.ipv4!.totalLen), 0);
  const reply = buildIcmpEchoReply(req)!;
  const f = parseFrame(reply)!;
  t.is(f.dst, H1.mac);
  t.is(f.src, VM.mac);
  t.is(f.ipv4?.src, VM.ip);
  t.is(f.ipv4?.dst, H1.ip);
  t.is(f.ipv4?.ttl, 64);
  t.like(f.icmp, { type: 0, code: 0, id: 0x1234, seq: 7 });
  const ip = f.ipv4!;
  t.is(internetChecksum(reply, ip.offset, ip.offset + ip.headerLen), 0, 'IPv4 header checksum');
  t.is(internetChecksum(reply, ip.offset + ip.headerLen, ip.offset + ip.totalLen), 0, 'ICMP checksum');
  t.deepEqual(reply.subarray(ip.offset + ip.headerLen + 8, ip.offset + ip.totalLen), payload);
  // Echo replies and TCP are not echo requests.
  t.is(buildIcmpEchoReply(reply), undefined);
  t.is(buildIcmpEchoReply(buildTcpFrame({ ethSrc: H1.mac, ethDst: VM.mac, src: H1.ip, dst: VM.ip, srcPort: 1, dstPort: 2, flags: 2 })), undefined);
});

test('ICMP echo reply of a VLAN-tagged request is untagged', (t) => {
  const req = buildIcmpEchoRequest({ ethSrc: H1.mac, ethDst: VM.mac, src: H1.ip, dst: VM.ip, id: 1, seq: 1, vlan: 10 });
  t.is(parseFrame(req)?.vlan, 10);
  const f = parseFrame(buildIcmpEchoReply(req)!)!;
  t.is(f.vlan, undefined);
  t.is(f.ipv4?.dst, H1.ip);
});

function pseudoSum(buf: Buffer, ipOff: number, l4Len: number, proto: number): number {
  const pseudo = Buffer.alloc(12 + l4Len);
  buf.copy(pseudo, 0, ipOff + 12, ipOff + 20);
  pseudo[9] = proto;
  pseudo.writeUInt16BE(l4Len, 10);
  buf.copy(pseudo, 12, ipOff + 20, ipOff + 20 + l4Len);
  return internetChecksum(pseudo);
}

test('TCP and UDP frames parse back with valid checksums', (t) => {
  const syn = buildTcpFrame({ ethSrc: H1.mac, ethDst: VM.mac, src: H1.ip, dst: VM.ip, srcPort: 40000, dstPort: 80, flags: 0x02, seq: 99, payload: Buffer.from('x') });
  const f = parseFrame(syn)!;
  t.deepEqual(f.tcp, { src: 40000, dst: 80, flags: 0x02 });
  t.is(pseudoSum(syn, f.ipv4!.offset, f.ipv4!.totalLen - 20, 6), 0);
  const udp = buildUdpFrame({ ethSrc: H1.mac, ethDst: VM.mac, src: H1.ip, dst: VM.ip, srcPort: 5353, dstPort: 53, payload: Buffer.from('hello') });
  const u = parseFrame(udp)!;
  t.deepEqual(u.udp, { src: 5353, dst: 53 });
  t.is(pseudoSum(udp, u.ipv4!.offset, u.ipv4!.totalLen - 20, 17), 0);
});

test('parser never throws on truncated frames', (t) => {
  const frames = [
    buildArpRequest(H1.mac, H1.ip, VM.ip),
    buildIcmpEchoRequest({ ethSrc: H1.mac, ethDst: VM.mac, src: H1.ip, dst: VM.ip, id: 1, seq: 1, vlan: 3 }),
    buildTcpFrame({ ethSrc: H1.mac, ethDst: VM.mac, src: H1.ip, dst: VM.ip, srcPort: 1, dstPort: 2, flags: 2 }),
  ];
  for (const full of frames) {
    for (let n = 0; n <= full.length; n++) {
      const f = parseFrame(full.subarray(0, n));
      if (n < 14) t.is(f, undefined);
      else t.truthy(f);
      t.is(buildIcmpEchoReply(full.subarray(0, n)) === undefined || n >= 42, true);
    }
  }
  // An IPv4 header claiming a length longer than the frame yields no ICMP reply.
  const req = buildIcmpEchoRequest({ ethSrc: H1.mac, ethDst: VM.mac, src: H1.ip, dst: VM.ip, id: 1, seq: 1 });
  req.writeUInt16BE(1000, 16);
  t.is(buildIcmpEchoReply(req), undefined);
});
