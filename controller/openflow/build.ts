// Small builders with the spec's defaults, so apps write intent rather than every field.
import * as C from './constants.js';
import type { Action, Instruction, Match, MessageOf, OxmValueTypes, Oxm } from './types.js';

/** Builds a match from `{ field: value }` pairs (wire order = key order); `[value, mask]` for a masked field. */
export function match(fields: { [K in keyof OxmValueTypes]?: OxmValueTypes[K] | [OxmValueTypes[K], OxmValueTypes[K]] }): Match {
  const out: Match = [];
  for (const [field, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out.push((Array.isArray(v) ? { field, value: v[0], mask: v[1] } : { field, value: v }) as Oxm);
  }
  return out;
}

/** OFPAT_OUTPUT; maxLen defaults to OFPCML_NO_BUFFER (send whole packets to the controller). */
export function output(port: number, maxLen: number = C.OFPCML_NO_BUFFER): Action {
  return { type: 'output', port, maxLen };
}

/** OFPAT_SET_FIELD for one field. */
export function setField<K extends keyof OxmValueTypes>(field: K, value: OxmValueTypes[K]): Action {
  return { type: 'set_field', field: { field, value } as Oxm };
}

export function applyActions(...actions: Action[]): Instruction {
  return { type: 'apply_actions', actions };
}

export function writeActions(...actions: Action[]): Instruction {
  return { type: 'write_actions', actions };
}

export function gotoTable(tableId: number): Instruction {
  return { type: 'goto_table', tableId };
}

/** OFPIT_METER: the packet goes through meter `meterId` first (OF 1.3.5 §5.7, §7.2.5). */
export function meter(meterId: number): Instruction {
  return { type: 'meter', meterId };
}

/**
 * The instructions that send a whole packet, unbuffered (OFPCML_NO_BUFFER, §7.2.5),
 * to the controller, through `meterId` when given: every controller-bound entry
 * should name a meter, or one flood at one address starves the rest (§5.7).
 */
export function toController(meterId?: number): Instruction[] {
  const send = applyActions(output(C.OFPP_CONTROLLER, C.OFPCML_NO_BUFFER));
  return meterId === undefined ? [send] : [meter(meterId), send];
}

/** Output to a switch port: max_len is only meaningful for OFPP_CONTROLLER, so it is 0 here. */
export function toPort(port: number): Instruction {
  return applyActions(output(port, 0));
}

export type FlowModInit = Partial<Omit<MessageOf<'flow_mod'>, 'type'>>;

/**
 * OFPT_FLOW_MOD with the spec's defaults (OF 1.3.5 §7.3.4.1): add, table 0, priority
 * OFP_DEFAULT_PRIORITY, permanent, no buffer, out_port/out_group ANY, match-all, no instructions.
 */
export function flowMod(init: FlowModInit = {}): MessageOf<'flow_mod'> {
  return {
    type: 'flow_mod',
    xid: init.xid ?? 0,
    cookie: init.cookie ?? 0n,
    cookieMask: init.cookieMask ?? 0n,
    tableId: init.tableId ?? 0,
    command: init.command ?? C.OFPFC_ADD,
    idleTimeout: init.idleTimeout ?? 0,
    hardTimeout: init.hardTimeout ?? 0,
    priority: init.priority ?? C.OFP_DEFAULT_PRIORITY,
    bufferId: init.bufferId ?? C.OFP_NO_BUFFER,
    outPort: init.outPort ?? C.OFPP_ANY,
    outGroup: init.outGroup ?? C.OFPG_ANY,
    flags: init.flags ?? 0,
    match: init.match ?? [],
    instructions: init.instructions ?? [],
  };
}

/** A flow_mod deleting every flow matching `m` (non-strict) in table `tableId` (default: all tables). */
export function flowDelete(init: FlowModInit = {}): MessageOf<'flow_mod'> {
  return flowMod({ tableId: C.OFPTT_ALL, ...init, command: init.command ?? C.OFPFC_DELETE });
}

/**
 * A non-strict OFPFC_DELETE of every entry whose cookie matches `cookie` under
 * `cookieMask` (§6.4, §7.3.4.1), in `tableId` (default: all tables), optionally
 * narrowed by a match or an out_port.
 */
export function deleteByCookie(cookie: bigint, cookieMask: bigint, init: FlowModInit = {}): MessageOf<'flow_mod'> {
  // Fields set on the built message rather than through an object spread: the L2
  // fabric calls this on every MAC eviction (bench/l2-learning.ts, "new src + LRU").
  const m = flowMod(init);
  m.cookie = cookie;
  m.cookieMask = cookieMask;
  m.command = C.OFPFC_DELETE;
  m.priority = 0;
  if (init.tableId === undefined) m.tableId = C.OFPTT_ALL;
  return m;
}

/**
 * OFPT_METER_MOD with one drop band of `rate` packets/s (OFPMF_PKTPS, §7.3.4.5);
 * `burst` sets OFPMF_BURST, `stats` OFPMF_STATS.
 */
export function meterMod(command: number, meterId: number, rate: number, opts: { burst?: number; stats?: boolean } = {}): MessageOf<'meter_mod'> {
  if (command === C.OFPMC_DELETE) return { type: 'meter_mod', xid: 0, command, flags: 0, meterId, bands: [] };
  const flags = C.OFPMF_PKTPS | (opts.burst === undefined ? 0 : C.OFPMF_BURST) | (opts.stats === true ? C.OFPMF_STATS : 0);
  return { type: 'meter_mod', xid: 0, command, flags, meterId, bands: [{ type: 'drop', rate, burstSize: opts.burst ?? 0 }] };
}

export type PacketOutInit = Partial<Omit<MessageOf<'packet_out'>, 'type'>>;

/** OFPT_PACKET_OUT; defaults: no buffer, in_port OFPP_CONTROLLER, no actions (drop), no data. */
export function packetOut(init: PacketOutInit = {}): MessageOf<'packet_out'> {
  return {
    type: 'packet_out',
    xid: init.xid ?? 0,
    bufferId: init.bufferId ?? C.OFP_NO_BUFFER,
    inPort: init.inPort ?? C.OFPP_CONTROLLER,
    actions: init.actions ?? [],
    data: init.data ?? Buffer.alloc(0),
  };
}

/** OFPT_HELLO advertising OpenFlow 1.3 only (version bitmap element, OF 1.3.5 §7.5.1). */
export function hello(xid = 0): MessageOf<'hello'> {
  return { type: 'hello', xid, elements: [{ type: 'versionbitmap', versions: [C.OFP_VERSION] }] };
}

/** Multipart port_desc request (what a controller sends after features_reply). */
export function portDescRequest(xid = 0): MessageOf<'multipart_request'> {
  return { type: 'multipart_request', xid, flags: 0, body: { mpType: 'port_desc' } };
}
