// MAC and IPv4 address text <-> bytes. Text forms match the codec's OXM values:
// MACs are lowercase 'aa:bb:cc:dd:ee:ff', IPv4 addresses dotted quads.

/** Thrown for an address string that does not parse. */
export class AddressError extends Error {
  readonly code = 'ERR_BAD_ADDRESS';
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC = '00:00:00:00:00:00';

export function isMac(s: string): boolean {
  return MAC_RE.test(s);
}

export function isIpv4(s: string): boolean {
  const m = IPV4_RE.exec(s);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255 && (o.length === 1 || o[0] !== '0'));
}

/** Lowercases a MAC; throws AddressError when it is not six colon-separated hex bytes. */
export function normalizeMac(s: string): string {
  if (!isMac(s)) throw new AddressError(`"${s}" is not a MAC address`);
  return s.toLowerCase();
}

export function writeMac(buf: Buffer, offset: number, mac: string): void {
  if (!isMac(mac)) throw new AddressError(`"${mac}" is not a MAC address`);
  for (let i = 0; i < 6; i++) buf[offset + i] = parseInt(mac.slice(i * 3, i * 3 + 2), 16);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function readMac(buf: Buffer, offset: number): string {
  return `${HEX[buf[offset]!]}:${HEX[buf[offset + 1]!]}:${HEX[buf[offset + 2]!]}:${HEX[buf[offset + 3]!]}:${HEX[buf[offset + 4]!]}:${HEX[buf[offset + 5]!]}`;
}

export function writeIpv4(buf: Buffer, offset: number, ip: string): void {
  if (!isIpv4(ip)) throw new AddressError(`"${ip}" is not an IPv4 address`);
  const parts = ip.split('.');
  for (let i = 0; i < 4; i++) buf[offset + i] = Number(parts[i]);
}

export function readIpv4(buf: Buffer, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}
