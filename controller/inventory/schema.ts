// The inventory file's schema (zod, see docs/decisions.md): shape, types and
// per-field formats. Cross-references and uniqueness are checked in load.ts.
import { z } from 'zod';
import { isIpv4, isMac } from '../packet/addr.js';
import { durationRangeIssue, parseDuration, type DurationField } from './duration.js';

const mac = z.string().superRefine((v, ctx) => {
  if (!isMac(v)) ctx.addIssue({ code: 'custom', message: `"${v}" is not a MAC address` });
}).transform((v) => v.toLowerCase());

/**
 * A MAC a station can own: not zero and not a group address (I/G bit, the low bit
 * of the first octet, set for multicast and broadcast; IEEE 802-2014 §8.2). The
 * park flows match eth_dst on it and the controller answers ARP with it.
 */
const unicastMac = mac.superRefine((v, ctx) => {
  if (!isMac(v)) return; // already reported
  if (v === '00:00:00:00:00:00') ctx.addIssue({ code: 'custom', message: `${v} is the zero MAC, not a station address` });
  else if ((parseInt(v.slice(0, 2), 16) & 1) === 1) {
    ctx.addIssue({ code: 'custom', message: `${v} is a ${v === 'ff:ff:ff:ff:ff:ff' ? 'broadcast' : 'multicast'} MAC (low bit of the first octet set), not a station address` });
  }
});

const ipv4 = z.string().superRefine((v, ctx) => {
  if (!isIpv4(v)) ctx.addIssue({ code: 'custom', message: `"${v}" is not an IPv4 address` });
});

/** Why an IPv4 address cannot be a station's own address, or undefined when it can (RFC 6890 special ranges). */
export function specialIpv4(ip: string): string | undefined {
  const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
  if (a === 255 && b === 255 && c === 255 && d === 255) return 'the limited broadcast address';
  if (a === 0) return 'in 0.0.0.0/8 ("this network")';
  if (a === 127) return 'a loopback address (127.0.0.0/8)';
  if (a >= 224 && a <= 239) return 'a multicast address (224.0.0.0/4)';
  if (a >= 240) return 'a reserved address (240.0.0.0/4)';
  return undefined;
}

/** The IPv4 address of a VM or sink: something the switch can deliver unicast to. */
const stationIpv4 = ipv4.superRefine((v, ctx) => {
  const why = isIpv4(v) ? specialIpv4(v) : undefined;
  if (why !== undefined) ctx.addIssue({ code: 'custom', message: `${v} is ${why}, not a host address` });
});

/** The probe source: 0.0.0.0 (RFC 5227 ARP probe, the default) or a host address. */
const probeIpv4 = ipv4.superRefine((v, ctx) => {
  const why = isIpv4(v) && v !== '0.0.0.0' ? specialIpv4(v) : undefined;
  if (why !== undefined) ctx.addIssue({ code: 'custom', message: `${v} is ${why}; use 0.0.0.0 or a free host address on the VMs' subnet` });
});

/** A duration field, parsed to ms and held to its range (DURATION_RANGES). */
const duration = (field: DurationField) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    let ms: number;
    try {
      ms = parseDuration(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
    const issue = durationRangeIssue(field, ms);
    if (issue !== undefined) {
      ctx.addIssue({ code: 'custom', message: issue });
      return z.NEVER;
    }
    return ms;
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
  // datapath_id is a uint64_t (OF 1.3.5 §7.3.1, ofp_switch_features): decimal text can exceed it.
  if (out !== undefined && out > 0xffff_ffff_ffff_ffffn) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is out of range: a datapath id is 64 bits (at most 18446744073709551615)` });
    return z.NEVER;
  }
  if (out === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a datapath id (number, 0x-hex, 16 hex digits or aa:bb:..:hh)` });
    return z.NEVER;
  }
  return out;
});

const tcpPort = z.number().int().min(1).max(65535);
/** An OpenFlow port: its number (1..0xffffff00, OF 1.3.5 §7.2.1 OFPP_MAX) or its name as the switch reports it. */
const ofPort = z.union([z.number().int().min(1).max(0xffffff00), z.string().min(1).max(15)]);

export const depthSchema = z.enum(['pause', 'reclaim', 'save', 'shutdown']);

/** One rung of a depth ladder: park at `depth` once idle `after` (order checked in load.ts). */
const rung = z.strictObject({ depth: depthSchema, after: duration('after') });

/** Bound on ladder length: there are four depths and a ladder goes strictly deeper. */
export const MAX_RUNGS = 4;

const ignoreRule = z
  .strictObject({
    src: ipv4.optional(),
    tcpDst: tcpPort.optional(),
    udpDst: tcpPort.optional(),
  })
  .refine((r) => r.src !== undefined || r.tcpDst !== undefined || r.udpDst !== undefined, 'an ignore rule needs src, tcpDst or udpDst')
  .refine((r) => !(r.tcpDst !== undefined && r.udpDst !== undefined), 'an ignore rule takes tcpDst or udpDst, not both');

export const policyNameSchema = z.enum(['fixed', 'adaptive', 'predictive', 'oracle']);

/**
 * A parking policy: its name, or a map with the name and parameters
 * (docs/parking.md "Policies"; which parameter belongs to which policy is checked in load.ts).
 */
const policySchema = z.union([
  policyNameSchema,
  z.strictObject({
    name: policyNameSchema,
    window: z.number().int().min(2).max(1024).optional(),
    minSamples: z.number().int().min(1).max(1024).optional(),
    threshold: z.number().min(0).max(1).optional(),
    preWake: z.boolean().optional(),
    horizon: duration('horizon').optional(),
    expect: duration('expect').optional(),
  }),
]);

/** Per-VM settings that may also appear under `defaults`. */
const vmSettings = {
  depth: depthSchema.optional(),
  idleTimeout: duration('idleTimeout').optional(),
  /** The depth ladder; replaces `depth` + `idleTimeout` (a one-rung ladder). */
  depths: z.array(rung).min(1).max(MAX_RUNGS).optional(),
  minActive: duration('minActive').optional(),
  gatewayPorts: z.array(tcpPort).optional(),
  sink: name.optional(),
  ignore: z.array(ignoreRule).optional(),
  maxHeld: z.number().int().min(0).max(100_000).optional(),
  wakeTimeout: duration('wakeTimeout').optional(),
  reclaimFallback: z.enum(['none', 'pause']).optional(),
};

/** Energy (J, >= 0) and duration (ms, >= 0) of one depth's park and wake (docs/energy.md). */
const transitionCost = z.strictObject({
  parkJoules: z.number().min(0).optional(),
  parkMs: z.number().min(0).max(3_600_000).optional(),
  wakeJoules: z.number().min(0).optional(),
  wakeMs: z.number().min(0).max(3_600_000).optional(),
});

/** A host's power profile, every field optional over the defaults (controller/energy/profile.ts). */
const powerFields = {
  idleWatts: z.number().min(0).max(10_000).optional(),
  wattsPerGiB: z.number().min(0).max(1000).optional(),
  pause: transitionCost.optional(),
  reclaim: transitionCost.optional(),
  save: transitionCost.optional(),
  shutdown: transitionCost.optional(),
};

export const inventorySchema = z.strictObject({
  /** Power profile of the VMs' host; `hosts` overrides it per libvirt URI. */
  power: z
    .strictObject({
      ...powerFields,
      hosts: z.array(z.strictObject({ uri: z.string().min(1), ...powerFields })).optional(),
    })
    .optional(),
  defaults: z.strictObject(vmSettings).optional(),
  park: z
    .strictObject({
      maxConcurrentOps: z.number().int().min(1).max(1000).optional(),
      probeInterval: duration('probeInterval').optional(),
      wakeRetries: z.number().int().min(0).max(100).optional(),
      retryBackoff: duration('retryBackoff').optional(),
      retryBackoffMax: duration('retryBackoffMax').optional(),
      probeMac: unicastMac.optional(),
      probeIp: probeIpv4.optional(),
      meterRate: z.number().int().min(0).optional(),
      pollInterval: duration('pollInterval').optional(),
      reclaimFallback: z.enum(['none', 'pause']).optional(),
      /** The park-wide default policy; a VM's own `policy` wins. */
      policy: policySchema.optional(),
    })
    .optional(),
  /** Hypervisor hosts (one libvirt connection each); VMs name theirs with `hypervisor:`. */
  hypervisors: z
    .array(
      z.strictObject({
        name,
        uri: z.string().min(1),
        tls: z.strictObject({ caCert: z.string().min(1).optional(), clientCert: z.string().min(1).optional(), clientKey: z.string().min(1).optional() }).optional(),
        maxConcurrentOps: z.number().int().min(1).max(1000).optional(),
        connectTimeout: duration('connectTimeout').optional(),
        callTimeout: duration('callTimeout').optional(),
        /** The switch (OVS bridge) this host's VMs attach to: a VM seen there runs on this host. */
        switch: name.optional(),
      }),
    )
    .optional(),
  switches: z.array(z.strictObject({ name, dpid })),
  hosts: z.array(z.strictObject({ name, mac: mac.optional(), ip: ipv4, switch: name, port: ofPort.optional() })).optional(),
  sinks: z.array(z.strictObject({ name, switch: name, port: ofPort, mac: unicastMac, ip: stationIpv4 })).optional(),
  vms: z.array(
    z.strictObject({
      name,
      /** The VM's host, from `hypervisors:`; then `libvirt` gives only the domain. */
      hypervisor: name.optional(),
      libvirt: z.strictObject({ uri: z.string().min(1).optional(), domain: z.string().min(1) }),
      mac: unicastMac,
      ip: stationIpv4,
      switch: name,
      port: z.string().min(1).max(15),
      policy: policySchema.optional(),
      ...vmSettings,
    }),
  ),
});

export type RawInventory = z.output<typeof inventorySchema>;
