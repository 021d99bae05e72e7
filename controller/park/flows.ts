// The park engine's flow entries (all in table 0), their priorities and cookies.
// Priorities sit above the L2 fabric's so that, on a VM's attachment switch,
// our entries decide where traffic to the VM goes. See docs/parking.md.
import type { FlowStats, Instruction, Match, OfpMessage } from '../openflow/types.js';
import { OFPG_ANY, OFPMC_ADD, OFPMC_MODIFY, OFPP_ANY } from '../openflow/constants.js';
import { deleteByCookie, flowMod, meterMod, packetOut as buildPacketOut, toController, toPort } from '../openflow/build.js';
import { appCookieMatch, isAppCookie, makeCookie } from '../cookies.js';
import { VM_ID_BITS } from './ids.js';

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

// The park app's 40-bit cookie id (controller/cookies.ts): VM id << 8 | kind, where
// the VM id is a 32-bit hash of its name (./ids.ts), stable across inventory edits.
const KIND_MASK = 0xffn;
const VM_MASK = ((1n << BigInt(VM_ID_BITS)) - 1n) << 8n;
const APP = appCookieMatch('park');

/** Cookie of the VM with cookie id `vmId` (ids.ts) and flow kind. */
export function cookieOf(vmId: number, kind: FlowKind): bigint {
  return makeCookie('park', (BigInt(vmId) << 8n) | BigInt(kind));
}

/** The VM id and kind in a park cookie, or undefined for another app's cookie. */
export function decodeCookie(cookie: bigint): { vmId: number; kind: number } | undefined {
  if (!isAppCookie(cookie, 'park')) return undefined;
  return { vmId: Number((cookie & VM_MASK) >> 8n), kind: Number(cookie & KIND_MASK) };
}

/** Cookie and mask selecting one kind for every VM (flow stats of all activity entries of a switch). */
export function kindSelector(kind: FlowKind): { cookie: bigint; cookieMask: bigint } {
  return { cookie: cookieOf(0, kind), cookieMask: APP.cookieMask | KIND_MASK };
}

/** What flows.ts needs to know about a VM. */
export interface FlowVm {
  /** Cookie id: a 32-bit hash of the VM's name (ids.ts). */
  readonly id: number;
  /** First of the VM's METERS_PER_VM meter ids (ids.ts): wake, answer, probe. */
  readonly meterBase: number;
  readonly mac: string;
  readonly ip: string;
  readonly gatewayPorts: readonly number[];
  readonly ignore: readonly { readonly src?: string; readonly tcpDst?: number; readonly udpDst?: number }[];
}

function flowAdd(cookie: bigint, priority: number, match: Match, instructions: Instruction[]): OfpMessage {
  return flowMod({ cookie, tableId: PARK_TABLE, priority, match, instructions });
}

/** Deletes every entry of one VM and kind: OFPFC_DELETE restricted by cookie/cookie_mask (OF 1.3.5 §6.4, §7.3.4.1). */
export function deleteKind(vmId: number, kind: FlowKind): OfpMessage {
  return deleteByCookie(cookieOf(vmId, kind), APP.cookieMask | VM_MASK | KIND_MASK, { tableId: PARK_TABLE });
}

/** Deletes every entry of one VM, whatever its kind (a VM no longer in the inventory). */
export function deleteVm(vmId: number): OfpMessage {
  return deleteByCookie(cookieOf(vmId, 0 as FlowKind), APP.cookieMask | VM_MASK, { tableId: PARK_TABLE });
}

const output = toPort;

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
  const out = [flowAdd(cookieOf(vm.id, KIND.ACTIVITY), PRIO.ACTIVITY, [{ field: 'eth_dst', value: vm.mac }], [output(portNo)])];
  for (const r of vm.ignore) out.push(flowAdd(cookieOf(vm.id, KIND.ACTIVITY_IGNORE), PRIO.ACTIVITY_IGNORE, ignoreMatch(vm, r), [output(portNo)]));
  return out;
}

/**
 * A VM's meters (ids from ids.ts; meter ids are per switch, §7.3.4.5). Each
 * controller-bound entry goes through one, so a flood is dropped in the switch
 * instead of queueing packet-ins in front of other VMs' wake SYNs:
 *   wake    TCP/any traffic that wakes the VM (and is held)
 *   answer  ARP requests and ICMP echoes the controller answers for a parked VM:
 *           a ping flood must not use up the wake budget
 *   probe   the VM's answers to the readiness probes while it wakes: a flood at
 *           the VM must not drop the answer that ends its wake
 */
export function meterIds(vm: Pick<FlowVm, 'meterBase'>): { wake: number; answer: number; probe: number } {
  return { wake: vm.meterBase, answer: vm.meterBase + 1, probe: vm.meterBase + 2 };
}

/**
 * Installs (or updates) a VM's meters, `rate` packets/s each with a burst of
 * `rate` (OF 1.3.5 §7.3.4.5). ADD then MODIFY: ADD of an existing meter fails
 * with OFPMMFC_METER_EXISTS (§7.4.4; the shell ignores it) and MODIFY then sets
 * the configured rate; deleting and re-adding would remove the flows using the
 * meter (§7.3.4.5) and leave a gap in which a parked VM's traffic is not caught.
 */
export function meterAdds(vm: Pick<FlowVm, 'meterBase'>, rate: number): OfpMessage[] {
  const ids = meterIds(vm);
  return [ids.wake, ids.answer, ids.probe].flatMap((id) => [
    meterMod(OFPMC_ADD, id, rate, { burst: rate }),
    meterMod(OFPMC_MODIFY, id, rate, { burst: rate }),
  ]);
}

/**
 * Entries of a parked (or parking/waking) VM. `sinkPort` undefined: ignored
 * traffic is dropped. `metered` false (the switch has no meters, or meterRate
 * is 0): packet-ins are not rate limited.
 */
export function parkFlows(vm: FlowVm, sinkPort: number | undefined, metered: boolean): OfpMessage[] {
  const c = cookieOf(vm.id, KIND.PARK);
  const m = metered ? meterIds(vm) : undefined;
  const wake = toController(m?.wake);
  const answer = toController(m?.answer);
  const out: OfpMessage[] = [
    flowAdd(c, PRIO.PARK_ANSWER, [
      { field: 'eth_type', value: 0x0806 },
      { field: 'arp_op', value: 1 },
      { field: 'arp_tpa', value: vm.ip },
    ], answer),
    flowAdd(c, PRIO.PARK_ANSWER, [
      { field: 'eth_dst', value: vm.mac },
      { field: 'eth_type', value: 0x0800 },
      { field: 'ip_proto', value: 1 },
      { field: 'ipv4_dst', value: vm.ip },
      { field: 'icmpv4_type', value: 8 },
    ], answer),
  ];
  out.push(...parkIgnoreFlows(vm, sinkPort));
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

/**
 * A parked VM's ignored traffic out of `sinkPort` (the sink's port, or on a fabric the
 * next hop toward the sink's switch); undefined: dropped (an empty instruction set, §5.10).
 */
export function parkIgnoreFlows(vm: FlowVm, sinkPort: number | undefined): OfpMessage[] {
  const c = cookieOf(vm.id, KIND.PARK);
  return vm.ignore.map((r) => flowAdd(c, PRIO.PARK_IGNORE, ignoreMatch(vm, r), sinkPort === undefined ? [] : [output(sinkPort)]));
}

/** While waking: the VM's ARP replies to our probe come to the controller. */
export function probeFlow(vm: FlowVm, probeMac: string, metered: boolean): OfpMessage {
  return flowAdd(cookieOf(vm.id, KIND.PROBE), PRIO.PROBE, [
    { field: 'eth_dst', value: probeMac },
    { field: 'eth_src', value: vm.mac },
    { field: 'eth_type', value: 0x0806 },
    { field: 'arp_op', value: 2 },
    { field: 'arp_spa', value: vm.ip },
  ], toController(metered ? meterIds(vm).probe : undefined));
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
export function serviceProbeFlows(vm: FlowVm, probeIp: string, port: number, metered: boolean): OfpMessage[] {
  const c = cookieOf(vm.id, KIND.PROBE);
  const up = toController(metered ? meterIds(vm).probe : undefined);
  return [
    flowAdd(c, PRIO.PROBE, [
      { field: 'eth_src', value: vm.mac },
      { field: 'eth_type', value: 0x0800 },
      { field: 'ip_proto', value: 6 },
      { field: 'ipv4_dst', value: probeIp },
      { field: 'tcp_src', value: port },
      { field: 'tcp_dst', value: PROBE_TCP_PORT },
    ], up),
    flowAdd(c, PRIO.PROBE, [
      { field: 'eth_src', value: vm.mac },
      { field: 'eth_type', value: 0x0806 },
      { field: 'arp_op', value: 1 },
      { field: 'arp_tpa', value: probeIp },
    ], up),
  ];
}

/** A packet-out of `data` through `port`; in_port is OFPP_CONTROLLER (§7.3.7) since the frame is ours to send. */
export function packetOut(port: number, data: Buffer): OfpMessage {
  return buildPacketOut({ actions: [{ type: 'output', port, maxLen: 0 }], data });
}

/** A flow stats request (§7.3.5.2) for the park entries selected by cookie/cookie_mask. */
function statsRequest(sel: { cookie: bigint; cookieMask: bigint }): OfpMessage {
  return {
    type: 'multipart_request',
    xid: 0,
    flags: 0,
    body: { mpType: 'flow', tableId: PARK_TABLE, outPort: OFPP_ANY, outGroup: OFPG_ANY, cookie: sel.cookie, cookieMask: sel.cookieMask, match: [] },
  };
}

/** The flow stats request that reads every activity counter of a switch in one round trip (§7.3.5.2, cookie_mask filter). */
export function activityStatsRequest(): OfpMessage {
  return statsRequest(kindSelector(KIND.ACTIVITY));
}

/** The flow stats request for every park entry of a switch, whatever VM and kind (the app's cookie mask). */
export function parkStatsRequest(): OfpMessage {
  return statsRequest(APP);
}

/**
 * Deletes for the park entries of VMs that are no longer in the inventory: OpenFlow
 * cannot delete "cookie not in a set", so the shell reads the switch's park entries
 * (parkStatsRequest) and deletes each unknown VM id by cookie. Entries of known VMs
 * are never touched.
 */
export function staleVmDeletes(stats: readonly FlowStats[], knownIds: ReadonlySet<number>): OfpMessage[] {
  const stale = new Set<number>();
  for (const s of stats) {
    const d = decodeCookie(s.cookie);
    if (d !== undefined && !knownIds.has(d.vmId)) stale.add(d.vmId);
  }
  return [...stale].sort((a, b) => a - b).map(deleteVm);
}

/** Sums activity packet counters per VM id from flow stats (other cookies are ignored). */
export function activityCounts(stats: readonly FlowStats[]): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (const s of stats) {
    const d = decodeCookie(s.cookie);
    if (d?.kind !== KIND.ACTIVITY) continue;
    out.set(d.vmId, (out.get(d.vmId) ?? 0n) + s.packetCount);
  }
  return out;
}
