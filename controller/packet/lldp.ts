// LLDP (IEEE 802.1AB) frames the controller sends out of every switch port to
// discover switch-to-switch links, and the parser that reads them back from
// packet-ins. Only what discovery needs: Chassis ID, Port ID, TTL, End.
//
// The Chassis ID (subtype 7, locally assigned) is `seamless:<controllerId>:<dpid>`:
// the controller id tells our own probes from LLDP sent by real devices or by
// another controller on the same wires, which must never become links here.
// The Port ID (subtype 7) is the OpenFlow port number in decimal.
import { readMac, writeMac } from './addr.js';

export const ETH_TYPE_LLDP = 0x88cc;
/** Nearest-bridge group address: 802.1D bridges never forward it. */
export const LLDP_MULTICAST = '01:80:c2:00:00:0e';

const TLV_END = 0;
const TLV_CHASSIS_ID = 1;
const TLV_PORT_ID = 2;
const TLV_TTL = 3;
const SUBTYPE_LOCAL = 7;
const CHASSIS_PREFIX = 'seamless:';
/** A chassis id's value is 1..255 bytes (802.1AB §8.5.2). */
const MAX_ID = 255;

/** What one of our probes says: sent by `controllerId` out of port `port` of datapath `dpid`. */
export interface LldpProbe {
  readonly controllerId: string;
  readonly dpid: bigint;
  readonly port: number;
}

/** A parsed LLDP frame: ours (a probe) or foreign (any other sender). */
export type LldpFrame =
  | { readonly kind: 'probe'; readonly src: string; readonly probe: LldpProbe; readonly ttlSec: number }
  | { readonly kind: 'foreign'; readonly src: string; readonly chassis: Buffer };

/** Thrown for a controller id that cannot go into a chassis id. */
export class LldpError extends Error {
  readonly code = 'ERR_LLDP';
  constructor(message: string) {
    super(message);
    this.name = 'LldpError';
  }
}

function tlv(type: number, value: Buffer): Buffer {
  const h = Buffer.alloc(2);
  h.writeUInt16BE((type << 9) | value.length, 0);
  return Buffer.concat([h, value]);
}

/** Throws LldpError unless `id` is 1..32 characters of [A-Za-z0-9_-] (no ':' so the chassis id splits unambiguously). */
export function checkControllerId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new LldpError(`controller id "${id}" must be 1-32 characters of A-Z a-z 0-9 _ -`);
  return id;
}

/**
 * The LLDP frame for `probe`, Ethernet source `srcMac` (the port's own address,
 * so switches that learn never see one MAC on many ports), TTL `ttlSec`.
 */
export function buildLldpProbe(probe: LldpProbe, srcMac: string, ttlSec: number): Buffer {
  checkControllerId(probe.controllerId);
  const chassis = Buffer.from(`${CHASSIS_PREFIX}${probe.controllerId}:${probe.dpid.toString(16).padStart(16, '0')}`, 'ascii');
  const port = Buffer.from(String(probe.port), 'ascii');
  const ttl = Buffer.alloc(2);
  ttl.writeUInt16BE(Math.max(0, Math.min(0xffff, Math.ceil(ttlSec))), 0);
  const body = Buffer.concat([
    tlv(TLV_CHASSIS_ID, Buffer.concat([Buffer.of(SUBTYPE_LOCAL), chassis])),
    tlv(TLV_PORT_ID, Buffer.concat([Buffer.of(SUBTYPE_LOCAL), port])),
    tlv(TLV_TTL, ttl),
    tlv(TLV_END, Buffer.alloc(0)),
  ]);
  const frame = Buffer.alloc(Math.max(60, 14 + body.length));
  writeMac(frame, 0, LLDP_MULTICAST);
  writeMac(frame, 6, srcMac);
  frame.writeUInt16BE(ETH_TYPE_LLDP, 12);
  body.copy(frame, 14);
  return frame;
}

/**
 * Parses an LLDP frame (untagged). Never throws: undefined for anything that is
 * not well-formed LLDP with the three mandatory TLVs first (802.1AB §8.2).
 * A frame whose chassis id is not `seamless:ID:DPID` with a port id we wrote is
 * 'foreign', whoever sent it.
 */
export function parseLldp(buf: Buffer): LldpFrame | undefined {
  if (buf.length < 14 || buf.readUInt16BE(12) !== ETH_TYPE_LLDP) return undefined;
  const src = readMac(buf, 6);
  const tlvs: Array<{ type: number; value: Buffer }> = [];
  let off = 14;
  while (off + 2 <= buf.length) {
    const h = buf.readUInt16BE(off);
    const type = h >> 9;
    const len = h & 0x1ff;
    if (off + 2 + len > buf.length) return undefined;
    if (type === TLV_END) break;
    tlvs.push({ type, value: buf.subarray(off + 2, off + 2 + len) });
    off += 2 + len;
    if (tlvs.length > 64) return undefined; // bounded work for a hostile frame
  }
  const [c, p, t] = tlvs;
  if (c?.type !== TLV_CHASSIS_ID || p?.type !== TLV_PORT_ID || t?.type !== TLV_TTL) return undefined;
  if (c.value.length < 2 || c.value.length > MAX_ID + 1 || p.value.length < 2 || t.value.length !== 2) return undefined;
  const foreign = { kind: 'foreign' as const, src, chassis: Buffer.from(c.value) };
  if (c.value[0] !== SUBTYPE_LOCAL || p.value[0] !== SUBTYPE_LOCAL) return foreign;
  const m = /^seamless:([A-Za-z0-9_-]{1,32}):([0-9a-f]{16})$/.exec(c.value.subarray(1).toString('latin1'));
  const portText = p.value.subarray(1).toString('latin1');
  if (m === null || !/^(0|[1-9]\d{0,9})$/.test(portText)) return foreign;
  const port = Number(portText);
  if (port > 0xffffffff) return foreign;
  return { kind: 'probe', src, probe: { controllerId: m[1]!, dpid: BigInt(`0x${m[2]!}`), port }, ttlSec: t.value.readUInt16BE(0) };
}
