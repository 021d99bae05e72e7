// The park engine's flow entries (all in table 0), their priorities and cookies.
// Priorities sit above the L2 fabric's so that, on a VM's attachment switch,
// our entries decide where traffic to the VM goes. See docs/parking.md.
import type { FlowStats, Instruction, Match, OfpMessage } from '../openflow/types.js';
import {
  OFPCML_NO_BUFFER,
  OFPFC_ADD,
  OFPFC_DELETE,
  OFPG_ANY,
  OFPMC_ADD,
  OFPMF_BURST,
  OFPMF_PKTPS,
  OFPP_ANY,
  OFPP_CONTROLLER,
  OFP_NO_BUFFER,
} from '../openflow/constants.js';
import { appCookieMatch, isAppCookie, makeCookie } from '../cookies.js';

export const PARK_TABLE = 0;

/** Table-0 priorities, lowest first. The L2 fabric stays below ACTIVITY. */
export const PRIO = {
  /** eth_dst = VM MAC -> VM port: its packet counter is the activity signal. */
  ACTIVITY: 40000,
  /** Ignored traffic to an active VM -> VM port, under its own cookie so it never counts. */
  ACTIVITY_IGNORE: 40100,
  /** Parked: everything else to the VM MAC -> meter -> controller (wake), or drop when gateway ports are set. */
  PARK_CATCHALL: 41000,
  /** Parked: TCP to a gateway port -> meter -> controller (wake). */
  PARK_GATEWAY: 41010,
  /** Parked: ignored traffic -> sink port. */
  PARK_IGNORE: 41100,
  /** Parked: ARP requests for the VM IP and ICMP echo to it -> controller, which answers. */
  PARK_ANSWER: 41200,
  /** Waking: the VM's answers to the readiness probes (ARP; TCP after a cold boot) -> controller. */
  PROBE: 41300,
} as const;

/** What a flow entry is for; the low byte of its cookie. */
export const KIND = { ACTIVITY: 1, ACTIVITY_IGNORE: 2, PARK: 3, PROBE: 4 } as const;
export type FlowKind = (typeof KIND)[keyof typeof KIND];

// The park app's 40-bit cookie id (controller/cookies.ts): VM index << 8 | kind.
const KIND_MASK = 0xffn;
const VM_MASK = 0xffffffffn << 8n;
const APP = appCookieMatch('park');

/** Cookie of VM number `vmIndex` (its position in the inventory) and flow kind. */
export function cookieOf(vmIndex: number, kind: FlowKind): bigint {
  return makeCookie('park', (BigInt(vmIndex) << 8n) | BigInt(kind));
}

/** The VM index and kind in a park cookie, or undefined for another app's cookie. */
export function decodeCookie(cookie: bigint): { vmIndex: number; kind: number } | undefined {
  if (!isAppCookie(cookie, 'park')) return undefined;
  return { vmIndex: Number((cookie & VM_MASK) >> 8n), kind: Number(cookie & KIND_MASK) };
}

/** Cookie and mask selecting one kind for every VM (flow stats of all activity entries of a switch). */
export function kindSelector(kind: FlowKind): { cookie: bigint; cookieMask: bigint } {
  return { cookie: cookieOf(0, kind), cookieMask: APP.cookieMask | KIND_MASK };
}

/** What flows.ts needs to know about a VM. */
export interface FlowVm {
  readonly index: number;
  readonly mac: string;
  readonly ip: string;
  readonly gatewayPorts: readonly number[];
  readonly ignore: readonly { readonly src?: string; readonly tcpDst?: number; readonly udpDst?: number }[];
}

function flowAdd(cookie: bigint, priority: number, match: Match, instructions: Instruction[]): OfpMessage {
  return {
    type: 'flow_mod',
    xid: 0,
    cookie,
    cookieMask: 0n,
    tableId: PARK_TABLE,
    command: OFPFC_ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP_ANY,
    outGroup: OFPG_ANY,
    flags: 0,
    match,
    instructions,
  };
}

/** Deletes every entry of one VM and kind: OFPFC_DELETE restricted by cookie/cookie_mask (OF 1.3.5 §6.4, §7.3.4.1). */
export function deleteKind(vmIndex: number, kind: FlowKind): OfpMessage {
  return {
    type: 'flow_mod',
    xid: 0,
    cookie: cookieOf(vmIndex, kind),
    cookieMask: APP.cookieMask | VM_MASK | KIND_MASK,
    tableId: PARK_TABLE,
    command: OFPFC_DELETE,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 0,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP_ANY,
    outGroup: OFPG_ANY,
    flags: 0,
    match: [],
    instructions: [],
  };
}

const output = (port: number): Instruction => ({ type: 'apply_actions', actions: [{ type: 'output', port, maxLen: 0 }] });
/** To the controller, whole packet, unbuffered (OFPCML_NO_BUFFER, §7.2.5): we hold and re-inject the bytes. */
const toController: Instruction = { type: 'apply_actions', actions: [{ type: 'output', port: OFPP_CONTROLLER, maxLen: OFPCML_NO_BUFFER }] };

function ignoreMatch(vm: FlowVm, r: FlowVm['ignore'][number]): Match {
  // OXM prerequisites (§7.2.3.6): ipv4_* needs eth_type 0x0800; tcp_dst needs ip_proto 6, udp_dst ip_proto 17.
  const m: Match = [
    { field: 'eth_dst', value: vm.mac },
    { field: 'eth_type', value: 0x0800 },
  ];
  if (r.tcpDst !== undefined) m.push({ field: 'ip_proto', value: 6 });
  if (r.udpDst !== undefined) m.push({ field: 'ip_proto', value: 17 });
  if (r.src !== undefined) m.push({ field: 'ipv4_src', value: r.src });
  if (r.tcpDst !== undefined) m.push({ field: 'tcp_dst', value: r.tcpDst });
  if (r.udpDst !== undefined) m.push({ field: 'udp_dst', value: r.udpDst });
  return m;
}

/** Entries of an ACTIVE VM: everything to its MAC goes to its current port; ignored traffic under a separate cookie. */
export function activityFlows(vm: FlowVm, portNo: number): OfpMessage[] {
  const out = [flowAdd(cookieOf(vm.index, KIND.ACTIVITY), PRIO.ACTIVITY, [{ field: 'eth_dst', value: vm.mac }], [output(portNo)])];
  for (const r of vm.ignore) out.push(flowAdd(cookieOf(vm.index, KIND.ACTIVITY_IGNORE), PRIO.ACTIVITY_IGNORE, ignoreMatch(vm, r), [output(portNo)]));
  return out;
}

/** Meter id of a VM's wake trigger. */
export function meterIdOf(vmIndex: number): number {
  return 100 + vmIndex;
}

/** The per-VM meter limiting wake-trigger packet-ins to `rate` packets/s (OF 1.3.5 §7.3.4.5). */
export function meterAdd(vmIndex: number, rate: number): OfpMessage {
  return {
    type: 'meter_mod',
    xid: 0,
    command: OFPMC_ADD,
    flags: OFPMF_PKTPS | OFPMF_BURST,
    meterId: meterIdOf(vmIndex),
    bands: [{ type: 'drop', rate, burstSize: rate }],
  };
}

/**
 * Entries of a parked (or parking/waking) VM. `sinkPort` undefined: ignored
 * traffic is dropped. `meter` undefined: wake packet-ins are not rate limited.
 */
export function parkFlows(vm: FlowVm, sinkPort: number | undefined, meter: number | undefined): OfpMessage[] {
  const c = cookieOf(vm.index, KIND.PARK);
  const wake: Instruction[] = meter === undefined ? [toController] : [{ type: 'meter', meterId: meter }, toController];
  const out: OfpMessage[] = [
    flowAdd(c, PRIO.PARK_ANSWER, [
      { field: 'eth_type', value: 0x0806 },
      { field: 'arp_op', value: 1 },
      { field: 'arp_tpa', value: vm.ip },
    ], [toController]),
    flowAdd(c, PRIO.PARK_ANSWER, [
      { field: 'eth_dst', value: vm.mac },
      { field: 'eth_type', value: 0x0800 },
      { field: 'ip_proto', value: 1 },
      { field: 'ipv4_dst', value: vm.ip },
      { field: 'icmpv4_type', value: 8 },
    ], [toController]),
  ];
  for (const r of vm.ignore) out.push(flowAdd(c, PRIO.PARK_IGNORE, ignoreMatch(vm, r), sinkPort === undefined ? [] : [output(sinkPort)]));
  for (const p of vm.gatewayPorts) {
    out.push(flowAdd(c, PRIO.PARK_GATEWAY, [
      { field: 'eth_dst', value: vm.mac },
      { field: 'eth_type', value: 0x0800 },
      { field: 'ip_proto', value: 6 },
      { field: 'tcp_dst', value: p },
    ], wake));
  }
  // With gateway ports, only they wake the VM; the rest is dropped (an empty instruction set drops, §5.10).
  out.push(flowAdd(c, PRIO.PARK_CATCHALL, [{ field: 'eth_dst', value: vm.mac }], vm.gatewayPorts.length > 0 ? [] : wake));
  return out;
}

/** While waking: the VM's ARP replies to our probe come to the controller. */
export function probeFlow(vm: FlowVm, probeMac: string): OfpMessage {
  return flowAdd(cookieOf(vm.index, KIND.PROBE), PRIO.PROBE, [
    { field: 'eth_dst', value: probeMac },
    { field: 'eth_src', value: vm.mac },
    { field: 'eth_type', value: 0x0806 },
    { field: 'arp_op', value: 2 },
    { field: 'arp_spa', value: vm.ip },
  ], [toController]);
}

/**
 * TCP readiness probe (cold-booted guests): the controller's SYNs come from
 * (probeMac, probeIp, PROBE_TCP_PORT) with sequence number PROBE_TCP_ISN; the
 * guest's SYN-ACK or RST on the gateway port comes back to the controller.
 */
export const PROBE_TCP_PORT = 0x5ea1;
export const PROBE_TCP_ISN = 0x5ea15ea1;

/**
 * While a cold-booted VM wakes: its TCP answers to our SYNs on `port`, and its
 * ARP requests for the probe address, come to the controller.
 */
export function serviceProbeFlows(vm: FlowVm, probeIp: string, port: number): OfpMessage[] {
  const c = cookieOf(vm.index, KIND.PROBE);
  return [
    flowAdd(c, PRIO.PROBE, [
      { field: 'eth_src', value: vm.mac },
      { field: 'eth_type', value: 0x0800 },
      { field: 'ip_proto', value: 6 },
      { field: 'ipv4_dst', value: probeIp },
      { field: 'tcp_src', value: port },
      { field: 'tcp_dst', value: PROBE_TCP_PORT },
    ], [toController]),
    flowAdd(c, PRIO.PROBE, [
      { field: 'eth_src', value: vm.mac },
      { field: 'eth_type', value: 0x0806 },
      { field: 'arp_op', value: 1 },
      { field: 'arp_tpa', value: probeIp },
    ], [toController]),
  ];
}

/** A packet-out of `data` through `port`; in_port is OFPP_CONTROLLER (§7.3.7) since the frame is ours to send. */
export function packetOut(port: number, data: Buffer): OfpMessage {
  return { type: 'packet_out', xid: 0, bufferId: OFP_NO_BUFFER, inPort: OFPP_CONTROLLER, actions: [{ type: 'output', port, maxLen: 0 }], data };
}

/** The flow stats request that reads every activity counter of a switch in one round trip (§7.3.5.2, cookie_mask filter). */
export function activityStatsRequest(): OfpMessage {
  const sel = kindSelector(KIND.ACTIVITY);
  return {
    type: 'multipart_request',
    xid: 0,
    flags: 0,
    body: { mpType: 'flow', tableId: PARK_TABLE, outPort: OFPP_ANY, outGroup: OFPG_ANY, cookie: sel.cookie, cookieMask: sel.cookieMask, match: [] },
  };
}

/** Sums activity packet counters per VM index from flow stats (other cookies are ignored). */
export function activityCounts(stats: readonly FlowStats[]): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (const s of stats) {
    const d = decodeCookie(s.cookie);
    if (d?.kind !== KIND.ACTIVITY) continue;
    out.set(d.vmIndex, (out.get(d.vmIndex) ?? 0n) + s.packetCount);
  }
  return out;
}
