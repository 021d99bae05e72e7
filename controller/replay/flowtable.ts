/**
 * A fake OpenFlow 1.3 switch pipeline (after Faucet's clib/fakeoftable.py):
 * apply the flow_mods and meter_mods an app returns, then ask "where does this
 * packet go now?" instead of comparing message lists.
 *
 * Modelled (OF 1.3.5 section in brackets):
 *  - flow_mod ADD / MODIFY / MODIFY_STRICT / DELETE / DELETE_STRICT with
 *    cookie + cookie_mask, out_port / out_group filters, OFPTT_ALL for deletes,
 *    OFPFF_CHECK_OVERLAP, identical-entry replacement [§6.4, §7.3.4.1];
 *  - OXM matching with masks, duplicate-field, mask/value and prerequisite
 *    checks [§7.2.3.5-§7.2.3.8];
 *  - meter_mod ADD / MODIFY / DELETE, flows naming a missing meter are
 *    refused, deleting a meter deletes its flows [§7.3.4.5];
 *  - the pipeline: highest-priority match per table, instructions in the
 *    spec's order (meter, apply, clear, write, metadata, goto), the action set
 *    at the end, no match = drop [§5.1, §5.4, §5.9, §5.10];
 *  - idle/hard timeouts on a virtual clock [§5.5];
 *  - packet_out through its action list, OFPP_TABLE included [§7.3.7];
 *  - per-entry packet and byte counters, flow stats requests filtered by
 *    table, out_port, out_group, cookie/cookie_mask and match [§7.3.5.2].
 * Not modelled: groups (recorded, not executed), VLAN/MPLS push/pop, meter rates.
 */
import * as C from '../openflow/constants.js';
import { encode, messageTypeNumber } from '../openflow/encode.js';
import { OXM_BY_NAME } from '../openflow/index.js';
import type {
  Action,
  FlowStats,
  FlowStatsRequestFields,
  Instruction,
  Match,
  MessageOf,
  MeterBand,
  OfpMessage,
  OxmFieldName,
  OxmValueTypes,
} from '../openflow/types.js';
import { parseFrame } from '../packet/parse.js';

/** Header fields of a packet entering the pipeline; in_port is required. */
export type PacketFields = { [K in OxmFieldName]?: OxmValueTypes[K] } & { in_port: number };

/** An OFPT_ERROR the real switch would have sent for a message. */
export class FakeOfpError extends Error {
  readonly code = 'FAKE_OFP_ERROR';
  constructor(
    readonly errType: number,
    readonly errCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'FakeOfpError';
  }
}

export interface FakeFlow {
  tableId: number;
  priority: number;
  cookie: bigint;
  match: Match;
  instructions: Instruction[];
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  /** Virtual ms when added and when last matched. */
  installedAt: number;
  lastUsed: number;
  packetCount: number;
  byteCount: number;
}

export interface Output {
  port: number;
  maxLen: number;
  /** The packet's fields as they were when output (after set_field). */
  fields: PacketFields;
}

export interface LookupResult {
  /** Outputs in execution order; ports as written (OFPP_FLOOD etc. unexpanded). */
  outputs: Output[];
  /** Some output went to OFPP_CONTROLLER. */
  controller: boolean;
  /** Meters the packet went through, in order. */
  meters: number[];
  /** Groups referenced (not executed). */
  groups: number[];
  /** The flow matched in each table visited, in order. */
  flows: FakeFlow[];
  /** A table had no matching entry: the packet was dropped there (§5.4). */
  miss: boolean;
}

interface Norm {
  value: bigint;
  mask: bigint;
  full: bigint;
}

/**
 * Field values seen so far, as numbers: the same MACs, addresses and ports come
 * back in every flow_mod and lookup, and encoding each through a Buffer was the
 * replay engine's main cost. Bounded: cleared when it grows past MEMO_MAX.
 */
const memo = new Map<string, bigint>();
const MEMO_MAX = 1 << 18;

const toBig = (field: OxmFieldName, v: unknown): bigint => {
  const key = typeof v === 'string' || typeof v === 'number' ? `${field}\u0000${v}` : undefined;
  if (key !== undefined) {
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
  }
  const def = OXM_BY_NAME.get(field);
  if (def === undefined) throw new Error(`unknown OXM field ${field}`);
  const b = Buffer.alloc(def.width);
  def.codec.write(b, 0, v as never, field);
  const n = b.length === 0 ? 0n : BigInt(`0x${b.toString('hex')}`);
  if (key !== undefined) {
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(key, n);
  }
  return n;
};

const fullMask = (field: OxmFieldName): bigint => (1n << BigInt(OXM_BY_NAME.get(field)!.width * 8)) - 1n;

/** Fields whose presence in a match requires others (OF 1.3.5 §7.2.3.6, Table 11). */
function prereqOk(field: OxmFieldName, m: Map<string, Norm>): boolean {
  const is = (f: string, ...vals: number[]) => {
    const n = m.get(f);
    return n !== undefined && n.mask === n.full && vals.some((v) => n.value === BigInt(v));
  };
  const ip = () => is('eth_type', 0x0800, 0x86dd);
  switch (field) {
    case 'ip_dscp':
    case 'ip_ecn':
    case 'ip_proto':
      return ip();
    case 'ipv4_src':
    case 'ipv4_dst':
      return is('eth_type', 0x0800);
    case 'tcp_src':
    case 'tcp_dst':
      return is('ip_proto', 6) && ip();
    case 'udp_src':
    case 'udp_dst':
      return is('ip_proto', 17) && ip();
    case 'sctp_src':
    case 'sctp_dst':
      return is('ip_proto', 132) && ip();
    case 'icmpv4_type':
    case 'icmpv4_code':
      return is('ip_proto', 1) && is('eth_type', 0x0800);
    case 'arp_op':
    case 'arp_spa':
    case 'arp_tpa':
    case 'arp_sha':
    case 'arp_tha':
      return is('eth_type', 0x0806);
    case 'ipv6_src':
    case 'ipv6_dst':
    case 'ipv6_flabel':
    case 'ipv6_exthdr':
      return is('eth_type', 0x86dd);
    case 'icmpv6_type':
    case 'icmpv6_code':
      return is('ip_proto', 58) && is('eth_type', 0x86dd);
    case 'ipv6_nd_target':
      return is('icmpv6_type', 135, 136);
    case 'ipv6_nd_sll':
      return is('icmpv6_type', 135);
    case 'ipv6_nd_tll':
      return is('icmpv6_type', 136);
    case 'mpls_label':
    case 'mpls_tc':
    case 'mpls_bos':
      return is('eth_type', 0x8847, 0x8848);
    case 'pbb_isid':
      return is('eth_type', 0x88e7);
    case 'vlan_pcp': {
      const v = m.get('vlan_vid');
      return v !== undefined && v.value !== BigInt(C.OFPVID_NONE);
    }
    default:
      return true;
  }
}

/** Normalises a match to field -> (value, mask); throws FakeOfpError like a switch would (§7.2.3). */
function normalise(match: Match): Map<string, Norm> {
  const out = new Map<string, Norm>();
  for (const o of match) {
    if (o.field === 'unknown') throw new FakeOfpError(C.OFPET_BAD_MATCH, C.OFPBMC_BAD_FIELD, 'unknown OXM field');
    if (out.has(o.field)) throw new FakeOfpError(C.OFPET_BAD_MATCH, C.OFPBMC_DUP_FIELD, `duplicate field ${o.field}`);
    const def = OXM_BY_NAME.get(o.field)!;
    const full = fullMask(o.field);
    const value = toBig(o.field, o.value);
    let mask = full;
    if (o.mask !== undefined) {
      if (!def.maskable) throw new FakeOfpError(C.OFPET_BAD_MATCH, C.OFPBMC_BAD_MASK, `${o.field} is not maskable`);
      mask = toBig(o.field, o.mask);
      // §7.2.3.5: a value bit set where the mask is 0 is an error.
      if ((value & ~mask) !== 0n) throw new FakeOfpError(C.OFPET_BAD_MATCH, C.OFPBMC_BAD_WILDCARDS, `${o.field} value has bits outside its mask`);
    }
    out.set(o.field, { value, mask, full });
  }
  for (const f of out.keys()) {
    if (!prereqOk(f as OxmFieldName, out)) throw new FakeOfpError(C.OFPET_BAD_MATCH, C.OFPBMC_BAD_PREREQ, `${f} lacks its prerequisite`);
  }
  return out;
}

function sameMatch(a: Map<string, Norm>, b: Map<string, Norm>): boolean {
  if (a.size !== b.size) return false;
  for (const [f, x] of a) {
    const y = b.get(f);
    if (y === undefined || x.value !== y.value || x.mask !== y.mask) return false;
  }
  return true;
}

/** Non-strict selection (§6.4): `flow` is at least as specific as `filter`. */
function covers(filter: Map<string, Norm>, flow: Map<string, Norm>): boolean {
  for (const [f, m] of filter) {
    const x = flow.get(f);
    if (x === undefined) return false;
    if ((m.mask & ~x.mask) !== 0n) return false; // flow wildcards a bit the filter fixes
    if ((x.value & m.mask) !== (m.value & m.mask)) return false;
  }
  return true;
}

/** Some packet could match both (for OFPFF_CHECK_OVERLAP). */
function overlaps(a: Map<string, Norm>, b: Map<string, Norm>): boolean {
  for (const [f, x] of a) {
    const y = b.get(f);
    if (y === undefined) continue;
    const m = x.mask & y.mask;
    if ((x.value & m) !== (y.value & m)) return false;
  }
  return true;
}

function packetMatches(m: Map<string, Norm>, pkt: Map<string, bigint>): boolean {
  for (const [f, x] of m) {
    const v = pkt.get(f);
    if (v === undefined) return false; // the packet lacks the field (e.g. no IPv4 header)
    if ((v & x.mask) !== x.value) return false;
  }
  return true;
}

function actionsOf(instr: Instruction[]): Action[] {
  const out: Action[] = [];
  for (const i of instr) if (i.type === 'apply_actions' || i.type === 'write_actions') out.push(...i.actions);
  return out;
}

interface Entry {
  flow: FakeFlow;
  norm: Map<string, Norm>;
}

export interface FakeFlowTableOptions {
  /** Number of flow tables (default 4). */
  nTables?: number;
  /** Whether meter_mod and meter instructions are supported (default true). */
  meters?: boolean;
}

/** §7.4.4: an error carries at least the first 64 bytes of the failed request. */
function errorData(msg: OfpMessage): Buffer {
  try {
    return encode(msg).subarray(0, 64);
  } catch {
    // The codec refuses some messages a switch must reject (bad masks): send just the header.
    const h = Buffer.alloc(8);
    h[0] = C.OFP_VERSION;
    h[1] = messageTypeNumber(msg);
    h.writeUInt16BE(8, 2);
    h.writeUInt32BE(msg.xid >>> 0, 4);
    return h;
  }
}

/** One switch's flow tables and meters. */
export class FakeFlowTable {
  readonly nTables: number;
  readonly supportsMeters: boolean;
  readonly meters = new Map<number, { flags: number; bands: MeterBand[] }>();
  private entries: Entry[] = [];
  /** Virtual time, ms. */
  now = 0;
  /**
   * Bumped by every change of the entries or meters (not by counters): a
   * caller may memoise lookups of a packet class while it is unchanged (the
   * replay engine classifies millions of flows this way).
   */
  version = 0;

  constructor(opts: FakeFlowTableOptions = {}) {
    this.nTables = opts.nTables ?? 4;
    this.supportsMeters = opts.meters ?? true;
  }

  /** All flows, or those of one table, highest priority first. */
  flows(tableId?: number): FakeFlow[] {
    return this.sorted()
      .filter((e) => tableId === undefined || e.flow.tableId === tableId)
      .map((e) => e.flow);
  }

  /**
   * Applies messages in order the way a switch would. Messages other than
   * flow_mod and meter_mod (packet_out, barrier...) are ignored here. Returns the
   * OFPT_ERROR messages the switch would send back (data = first 64 bytes of the
   * failed request, §7.4.4); an erroring message changes nothing.
   */
  apply(msgs: readonly OfpMessage[]): MessageOf<'error'>[] {
    const errors: MessageOf<'error'>[] = [];
    for (const msg of msgs) {
      try {
        if (msg.type === 'flow_mod') this.flowMod(msg);
        else if (msg.type === 'meter_mod') this.meterMod(msg);
      } catch (e) {
        if (!(e instanceof FakeOfpError)) throw e;
        errors.push({ type: 'error', xid: msg.xid, errType: e.errType, code: e.errCode, data: errorData(msg) });
      }
    }
    return errors;
  }

  /** Like apply(), but throws the first error: for tests that expect none. */
  applyOk(msgs: readonly OfpMessage[]): void {
    for (const msg of msgs) {
      if (msg.type === 'flow_mod') this.flowMod(msg);
      else if (msg.type === 'meter_mod') this.meterMod(msg);
    }
  }

  flowMod(fm: MessageOf<'flow_mod'>): void {
    this.version++;
    const norm = normalise(fm.match);
    const validTable = fm.tableId < this.nTables;
    switch (fm.command) {
      case C.OFPFC_ADD: {
        if (!validTable) throw new FakeOfpError(C.OFPET_FLOW_MOD_FAILED, C.OFPFMFC_BAD_TABLE_ID, `bad table ${fm.tableId}`);
        this.checkInstructions(fm.instructions, fm.tableId);
        const same = (e: Entry) => e.flow.tableId === fm.tableId && e.flow.priority === fm.priority;
        if ((fm.flags & C.OFPFF_CHECK_OVERLAP) !== 0 && this.entries.some((e) => same(e) && overlaps(e.norm, norm))) {
          throw new FakeOfpError(C.OFPET_FLOW_MOD_FAILED, C.OFPFMFC_OVERLAP, 'overlapping flow');
        }
        const old = this.entries.find((e) => same(e) && sameMatch(e.norm, norm));
        const flow: FakeFlow = {
          tableId: fm.tableId,
          priority: fm.priority,
          cookie: fm.cookie,
          match: fm.match,
          instructions: fm.instructions,
          idleTimeout: fm.idleTimeout,
          hardTimeout: fm.hardTimeout,
          flags: fm.flags,
          installedAt: this.now,
          lastUsed: this.now,
          // §6.4: an identical entry is replaced; its counters are kept unless OFPFF_RESET_COUNTS.
          packetCount: old !== undefined && (fm.flags & C.OFPFF_RESET_COUNTS) === 0 ? old.flow.packetCount : 0,
          byteCount: old !== undefined && (fm.flags & C.OFPFF_RESET_COUNTS) === 0 ? old.flow.byteCount : 0,
        };
        if (old !== undefined) this.entries = this.entries.filter((e) => e !== old);
        this.entries.push({ flow, norm });
        return;
      }
      case C.OFPFC_MODIFY:
      case C.OFPFC_MODIFY_STRICT: {
        if (!validTable) throw new FakeOfpError(C.OFPET_FLOW_MOD_FAILED, C.OFPFMFC_BAD_TABLE_ID, `bad table ${fm.tableId}`);
        this.checkInstructions(fm.instructions, fm.tableId);
        // §6.4 (1.3): modify never adds; it changes instructions, keeps cookie and counters.
        for (const e of this.select(fm, norm, fm.command === C.OFPFC_MODIFY_STRICT)) {
          e.flow.instructions = fm.instructions;
          if ((fm.flags & C.OFPFF_RESET_COUNTS) !== 0) {
            e.flow.packetCount = 0;
            e.flow.byteCount = 0;
          }
        }
        return;
      }
      case C.OFPFC_DELETE:
      case C.OFPFC_DELETE_STRICT: {
        if (!validTable && fm.tableId !== C.OFPTT_ALL) {
          throw new FakeOfpError(C.OFPET_FLOW_MOD_FAILED, C.OFPFMFC_BAD_TABLE_ID, `bad table ${fm.tableId}`);
        }
        const gone = new Set(this.select(fm, norm, fm.command === C.OFPFC_DELETE_STRICT));
        this.entries = this.entries.filter((e) => !gone.has(e));
        return;
      }
      default:
        throw new FakeOfpError(C.OFPET_FLOW_MOD_FAILED, C.OFPFMFC_BAD_COMMAND, `bad command ${fm.command}`);
    }
  }

  meterMod(mm: MessageOf<'meter_mod'>): void {
    this.version++;
    if (!this.supportsMeters) throw new FakeOfpError(C.OFPET_METER_MOD_FAILED, C.OFPMMFC_INVALID_METER, 'meters not supported');
    if (mm.meterId === C.OFPM_ALL && mm.command === C.OFPMC_DELETE) {
      for (const id of [...this.meters.keys()]) this.deleteMeter(id);
      return;
    }
    if (mm.meterId === 0 || mm.meterId > C.OFPM_MAX) throw new FakeOfpError(C.OFPET_METER_MOD_FAILED, C.OFPMMFC_INVALID_METER, `bad meter ${mm.meterId}`);
    switch (mm.command) {
      case C.OFPMC_ADD:
        if (this.meters.has(mm.meterId)) throw new FakeOfpError(C.OFPET_METER_MOD_FAILED, C.OFPMMFC_METER_EXISTS, 'meter exists');
        this.checkMeter(mm);
        this.meters.set(mm.meterId, { flags: mm.flags, bands: mm.bands });
        return;
      case C.OFPMC_MODIFY:
        if (!this.meters.has(mm.meterId)) throw new FakeOfpError(C.OFPET_METER_MOD_FAILED, C.OFPMMFC_UNKNOWN_METER, 'no such meter');
        this.checkMeter(mm);
        this.meters.set(mm.meterId, { flags: mm.flags, bands: mm.bands });
        return;
      case C.OFPMC_DELETE:
        // Like OVS 3.1: deleting a meter that does not exist is not an error.
        this.deleteMeter(mm.meterId);
        return;
      default:
        throw new FakeOfpError(C.OFPET_METER_MOD_FAILED, C.OFPMMFC_BAD_COMMAND, `bad command ${mm.command}`);
    }
  }

  /**
   * Runs a packet through the pipeline from table 0 (counts and lastUsed update).
   * `bytes` is the frame's length, added to the byte counter of each entry it matches.
   */
  lookup(pkt: PacketFields, bytes = 0): LookupResult {
    return this.pipeline(pkt, 0, bytes);
  }

  /**
   * The switch's answer to an OFPMP_FLOW request (§7.3.5.2): the entries of
   * `req.tableId` (OFPTT_ALL: every table) whose cookie matches under
   * cookie_mask, whose match is at least as specific as `req.match` (the
   * non-strict rule of §6.4), and which output to out_port / out_group when
   * those are not ANY. Highest priority first.
   */
  flowStats(req: FlowStatsRequestFields): FlowStats[] {
    if (req.tableId !== C.OFPTT_ALL && req.tableId >= this.nTables) {
      throw new FakeOfpError(C.OFPET_BAD_REQUEST, C.OFPBRC_BAD_TABLE_ID, `flow stats for bad table ${req.tableId}`);
    }
    const filter = normalise(req.match);
    return this.sorted()
      .filter(({ flow: f, norm }) => {
        if (req.tableId !== C.OFPTT_ALL && f.tableId !== req.tableId) return false;
        if ((f.cookie & req.cookieMask) !== (req.cookie & req.cookieMask)) return false;
        if (!covers(filter, norm)) return false;
        const acts = actionsOf(f.instructions);
        if (req.outPort !== C.OFPP_ANY && !acts.some((a) => a.type === 'output' && a.port === req.outPort)) return false;
        if (req.outGroup !== C.OFPG_ANY && !acts.some((a) => a.type === 'group' && a.groupId === req.outGroup)) return false;
        return true;
      })
      .map(({ flow: f }) => {
        const age = Math.max(0, this.now - f.installedAt);
        return {
          tableId: f.tableId,
          durationSec: Math.floor(age / 1000),
          durationNsec: (age % 1000) * 1_000_000,
          priority: f.priority,
          idleTimeout: f.idleTimeout,
          hardTimeout: f.hardTimeout,
          flags: f.flags,
          cookie: f.cookie,
          packetCount: BigInt(f.packetCount),
          byteCount: BigInt(f.byteCount),
          match: f.match,
          instructions: f.instructions,
        };
      });
  }

  /** Removes every flow of every table, meters kept: a switch that restarted without its flows (tests of re-installation). */
  clearFlows(): void {
    this.version++;
    this.entries = [];
  }

  /**
   * Executes a packet_out's actions on a packet with the given fields
   * (in_port taken from the message). OFPP_TABLE runs the pipeline (§7.3.7).
   */
  packetOut(po: MessageOf<'packet_out'>, pkt: Omit<PacketFields, 'in_port'>): LookupResult {
    const res: LookupResult = { outputs: [], controller: false, meters: [], groups: [], flows: [], miss: false };
    const fields = { ...pkt, in_port: po.inPort } as PacketFields;
    for (const a of po.actions) {
      if (a.type === 'output' && a.port === C.OFPP_TABLE) {
        const sub = this.pipeline(fields, 0);
        res.outputs.push(...sub.outputs);
        res.controller ||= sub.controller;
        res.meters.push(...sub.meters);
        res.flows.push(...sub.flows);
        res.miss ||= sub.miss;
      } else {
        this.runAction(a, fields, res);
      }
    }
    return res;
  }

  /** Advances the virtual clock and removes flows whose idle or hard timeout passed (§5.5); returns them. */
  advance(ms: number): FakeFlow[] {
    this.now += ms;
    const expired = (f: FakeFlow) =>
      (f.idleTimeout > 0 && this.now - f.lastUsed >= f.idleTimeout * 1000) ||
      (f.hardTimeout > 0 && this.now - f.installedAt >= f.hardTimeout * 1000);
    const gone = this.entries.filter((e) => expired(e.flow)).map((e) => e.flow);
    if (gone.length > 0) this.version++;
    this.entries = this.entries.filter((e) => !expired(e.flow));
    return gone;
  }

  // --- internals ---

  private sorted(): Entry[] {
    return [...this.entries].sort((a, b) => a.flow.tableId - b.flow.tableId || b.flow.priority - a.flow.priority);
  }

  private select(fm: MessageOf<'flow_mod'>, norm: Map<string, Norm>, strict: boolean): Entry[] {
    return this.entries.filter((e) => {
      const f = e.flow;
      if (fm.tableId !== C.OFPTT_ALL && f.tableId !== fm.tableId) return false;
      if ((f.cookie & fm.cookieMask) !== (fm.cookie & fm.cookieMask)) return false;
      if (strict ? f.priority !== fm.priority || !sameMatch(e.norm, norm) : !covers(norm, e.norm)) return false;
      const deleting = fm.command === C.OFPFC_DELETE || fm.command === C.OFPFC_DELETE_STRICT;
      // §7.3.4.1: out_port / out_group restrict deletes to flows that output there; modifies ignore them.
      if (deleting && fm.outPort !== C.OFPP_ANY && !actionsOf(f.instructions).some((a) => a.type === 'output' && a.port === fm.outPort)) return false;
      if (deleting && fm.outGroup !== C.OFPG_ANY && !actionsOf(f.instructions).some((a) => a.type === 'group' && a.groupId === fm.outGroup)) return false;
      return true;
    });
  }

  private checkInstructions(instr: Instruction[], tableId: number): void {
    const seen = new Set<string>();
    for (const i of instr) {
      if (seen.has(i.type)) throw new FakeOfpError(C.OFPET_BAD_INSTRUCTION, C.OFPBIC_UNSUP_INST, `duplicate ${i.type} instruction`);
      seen.add(i.type);
      if (i.type === 'meter') {
        if (!this.supportsMeters) throw new FakeOfpError(C.OFPET_BAD_INSTRUCTION, C.OFPBIC_UNSUP_INST, 'meters not supported');
        // OVS answers a flow naming a missing meter with OFPMMFC_UNKNOWN_METER.
        if (!this.meters.has(i.meterId)) throw new FakeOfpError(C.OFPET_METER_MOD_FAILED, C.OFPMMFC_UNKNOWN_METER, `no meter ${i.meterId}`);
      }
      // §7.2.4: goto_table must go forward.
      if (i.type === 'goto_table' && (i.tableId <= tableId || i.tableId >= this.nTables)) {
        throw new FakeOfpError(C.OFPET_BAD_INSTRUCTION, C.OFPBIC_BAD_TABLE_ID, `goto_table ${i.tableId} from ${tableId}`);
      }
    }
  }

  private checkMeter(mm: MessageOf<'meter_mod'>): void {
    if (mm.bands.length === 0) throw new FakeOfpError(C.OFPET_METER_MOD_FAILED, C.OFPMMFC_BAD_BAND, 'no bands');
    const units = mm.flags & (C.OFPMF_KBPS | C.OFPMF_PKTPS);
    if (units === 0 || units === (C.OFPMF_KBPS | C.OFPMF_PKTPS)) throw new FakeOfpError(C.OFPET_METER_MOD_FAILED, C.OFPMMFC_BAD_FLAGS, 'need exactly one of KBPS/PKTPS');
    for (const b of mm.bands) {
      if (b.type !== 'unknown' && b.rate === 0) throw new FakeOfpError(C.OFPET_METER_MOD_FAILED, C.OFPMMFC_BAD_RATE, 'rate 0');
    }
  }

  private deleteMeter(id: number): void {
    this.meters.delete(id);
    // §7.3.4.5: flows using a deleted meter are removed.
    this.entries = this.entries.filter((e) => !e.flow.instructions.some((i) => i.type === 'meter' && i.meterId === id));
  }

  private pipeline(pkt: PacketFields, startTable: number, bytes = 0): LookupResult {
    const res: LookupResult = { outputs: [], controller: false, meters: [], groups: [], flows: [], miss: false };
    const fields: PacketFields = { ...pkt };
    const actionSet = new Map<string, Action>();
    let table: number | undefined = startTable;
    const sorted = this.sorted();
    for (let hops = 0; table !== undefined && hops < this.nTables; hops++) {
      const pv = new Map<string, bigint>();
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) pv.set(k, toBig(k as OxmFieldName, v));
      if (!pv.has('vlan_vid')) pv.set('vlan_vid', BigInt(C.OFPVID_NONE)); // §7.2.3.8: untagged matches OFPVID_NONE
      const t: number = table;
      const hit = sorted.find((e) => e.flow.tableId === t && packetMatches(e.norm, pv));
      if (hit === undefined) {
        res.miss = true;
        return res;
      }
      hit.flow.packetCount += 1;
      hit.flow.byteCount += bytes;
      hit.flow.lastUsed = this.now;
      res.flows.push(hit.flow);
      table = undefined;
      const by = <T extends Instruction['type']>(type: T) =>
        hit.flow.instructions.find((i): i is Extract<Instruction, { type: T }> => i.type === type);
      // §5.9: instructions run in this order whatever their order in the list.
      const meter = by('meter');
      if (meter !== undefined) res.meters.push(meter.meterId);
      const apply = by('apply_actions');
      if (apply !== undefined) for (const a of apply.actions) this.runAction(a, fields, res);
      if (by('clear_actions') !== undefined) actionSet.clear();
      const write = by('write_actions');
      if (write !== undefined) for (const a of write.actions) actionSet.set(a.type === 'set_field' ? `set_field:${a.field.field}` : a.type, a);
      const md = by('write_metadata');
      if (md !== undefined) fields.metadata = ((fields.metadata ?? 0n) & ~md.metadataMask) | (md.metadata & md.metadataMask);
      const go = by('goto_table');
      if (go !== undefined) table = go.tableId;
    }
    // §5.10: the action set runs at the end; set-field before group before output, and a group wins over output.
    for (const [k, a] of actionSet) if (k.startsWith('set_field:')) this.runAction(a, fields, res);
    const group = actionSet.get('group');
    if (group !== undefined) this.runAction(group, fields, res);
    else {
      const out = actionSet.get('output');
      if (out !== undefined) this.runAction(out, fields, res);
    }
    return res;
  }

  private runAction(a: Action, fields: PacketFields, res: LookupResult): void {
    switch (a.type) {
      case 'output':
        res.outputs.push({ port: a.port, maxLen: a.maxLen, fields: { ...fields } });
        if (a.port === C.OFPP_CONTROLLER) res.controller = true;
        return;
      case 'set_field':
        if (a.field.field !== 'unknown') (fields as Record<string, unknown>)[a.field.field] = a.field.value;
        return;
      case 'group':
        res.groups.push(a.groupId);
        return;
      default:
        return;
    }
  }
}

/**
 * The physical ports a list of outputs reaches, given the switch's ports:
 * OFPP_FLOOD / OFPP_ALL mean every port but the ingress (§7.2.1; no port here
 * has OFPPC_NO_FLOOD), OFPP_IN_PORT the ingress. Reserved ports such as
 * CONTROLLER are left out.
 */
export function physicalPorts(outputs: readonly Output[], inPort: number, ports: readonly number[]): number[] {
  const out: number[] = [];
  for (const o of outputs) {
    if (o.port === C.OFPP_FLOOD || o.port === C.OFPP_ALL) out.push(...ports.filter((p) => p !== inPort));
    else if (o.port === C.OFPP_IN_PORT) out.push(inPort);
    else if (o.port <= C.OFPP_MAX) {
      // §7.2.5: output to the ingress port is dropped unless it is OFPP_IN_PORT.
      if (o.port !== inPort) out.push(o.port);
    }
  }
  return out;
}

/** OXM fields of an Ethernet frame (Ethernet, ARP, IPv4, TCP/UDP/ICMP) as a switch would extract them. */
export function fieldsOfFrame(inPort: number, frame: Buffer): PacketFields {
  const f: PacketFields = { in_port: inPort };
  const p = parseFrame(frame);
  if (p === undefined) return f;
  f.eth_dst = p.dst;
  f.eth_src = p.src;
  f.eth_type = p.ethType;
  if (p.vlan !== undefined) f.vlan_vid = p.vlan | C.OFPVID_PRESENT;
  if (p.arp !== undefined) {
    f.arp_op = p.arp.op;
    f.arp_spa = p.arp.spa;
    f.arp_tpa = p.arp.tpa;
    f.arp_sha = p.arp.sha;
    f.arp_tha = p.arp.tha;
  }
  if (p.ipv4 !== undefined) {
    f.ipv4_src = p.ipv4.src;
    f.ipv4_dst = p.ipv4.dst;
    f.ip_proto = p.ipv4.proto;
  }
  if (p.tcp !== undefined) {
    f.tcp_src = p.tcp.src;
    f.tcp_dst = p.tcp.dst;
  }
  if (p.udp !== undefined) {
    f.udp_src = p.udp.src;
    f.udp_dst = p.udp.dst;
  }
  if (p.icmp !== undefined) {
    f.icmpv4_type = p.icmp.type;
    f.icmpv4_code = p.icmp.code;
  }
  return f;
}
