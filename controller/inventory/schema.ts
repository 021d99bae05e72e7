// The inventory file's schema (zod, see docs/decisions.md): shape, types and
// per-field formats. Cross-references and uniqueness are checked in load.ts.
import { z } from 'zod';
import { isIpv4, isMac } from '../packet/addr.js';
import { parseDuration } from './duration.js';

const mac = z.string().superRefine((v, ctx) => {
  if (!isMac(v)) ctx.addIssue({ code: 'custom', message: `"${v}" is not a MAC address` });
}).transform((v) => v.toLowerCase());

const ipv4 = z.string().superRefine((v, ctx) => {
  if (!isIpv4(v)) ctx.addIssue({ code: 'custom', message: `"${v}" is not an IPv4 address` });
});

const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be letters, digits, "_", "." or "-"');

/** A datapath id: a number, a hex string ("0x1a"), 16 hex digits, or 8 colon-separated hex bytes. */
const dpid = z.union([z.number(), z.string()]).transform((v, ctx) => {
  let out: bigint | undefined;
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) out = BigInt(v);
  } else if (/^0x[0-9a-f]{1,16}$/i.test(v)) out = BigInt(v);
  else if (/^[0-9a-f]{16}$/i.test(v)) out = BigInt(`0x${v}`);
  else if (/^[0-9a-f]{2}(:[0-9a-f]{2}){7}$/i.test(v)) out = BigInt(`0x${v.replaceAll(':', '')}`);
  else if (/^\d+$/.test(v)) out = BigInt(v);
  if (out === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a datapath id (number, 0x-hex, 16 hex digits or aa:bb:..:hh)` });
    return z.NEVER;
  }
  return out;
});

const tcpPort = z.number().int().min(1).max(65535);
/** An OpenFlow port: its number (1..0xffffff00, OF 1.3.5 §7.2.1 OFPP_MAX) or its name as the switch reports it. */
const ofPort = z.union([z.number().int().min(1).max(0xffffff00), z.string().min(1).max(15)]);

export const depthSchema = z.enum(['pause', 'save', 'shutdown']);

const ignoreRule = z
  .strictObject({
    src: ipv4.optional(),
    tcpDst: tcpPort.optional(),
    udpDst: tcpPort.optional(),
  })
  .refine((r) => r.src !== undefined || r.tcpDst !== undefined || r.udpDst !== undefined, 'an ignore rule needs src, tcpDst or udpDst')
  .refine((r) => !(r.tcpDst !== undefined && r.udpDst !== undefined), 'an ignore rule takes tcpDst or udpDst, not both');

/** Per-VM settings that may also appear under `defaults`. */
const vmSettings = {
  depth: depthSchema.optional(),
  idleTimeout: duration.optional(),
  minActive: duration.optional(),
  gatewayPorts: z.array(tcpPort).optional(),
  sink: name.optional(),
  ignore: z.array(ignoreRule).optional(),
  maxHeld: z.number().int().min(0).max(100_000).optional(),
  wakeTimeout: duration.optional(),
};

export const inventorySchema = z.strictObject({
  defaults: z.strictObject(vmSettings).optional(),
  park: z
    .strictObject({
      maxConcurrentOps: z.number().int().min(1).max(1000).optional(),
      probeInterval: duration.optional(),
      wakeRetries: z.number().int().min(0).max(100).optional(),
      retryBackoff: duration.optional(),
      retryBackoffMax: duration.optional(),
      probeMac: mac.optional(),
      probeIp: ipv4.optional(),
      meterRate: z.number().int().min(0).optional(),
      pollInterval: duration.optional(),
    })
    .optional(),
  switches: z.array(z.strictObject({ name, dpid })),
  hosts: z.array(z.strictObject({ name, mac: mac.optional(), ip: ipv4, switch: name, port: ofPort.optional() })).optional(),
  sinks: z.array(z.strictObject({ name, switch: name, port: ofPort, mac, ip: ipv4 })).optional(),
  vms: z.array(
    z.strictObject({
      name,
      libvirt: z.strictObject({ uri: z.string().min(1), domain: z.string().min(1) }),
      mac,
      ip: ipv4,
      switch: name,
      port: z.string().min(1).max(15),
      ...vmSettings,
    }),
  ),
});

export type RawInventory = z.output<typeof inventorySchema>;
