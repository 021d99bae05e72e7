// Actions (OF 1.3.5 §7.2.5) and instructions (§7.2.4): decode from and write into a
// Buffer in place. Unknown types are kept as whole raw TLVs.
import * as C from './constants.js';
import { badActionLen, badInstructionLen, badSetMask, OfpEncodeError } from './errors.js';
import { decodeOxm, OXM_FIELDS, oxmSize, tooLong, writeOxm } from './oxm.js';
import type { Action, Instruction } from './types.js';
import { pad, writeU64, zero } from './wire.js';

// Fixed length of each known action type; set_field and experimenter are variable.
const ACTION_LEN: Record<number, number> = {
  [C.OFPAT_OUTPUT]: 16,
  [C.OFPAT_COPY_TTL_OUT]: 8,
  [C.OFPAT_COPY_TTL_IN]: 8,
  [C.OFPAT_SET_MPLS_TTL]: 8,
  [C.OFPAT_DEC_MPLS_TTL]: 8,
  [C.OFPAT_PUSH_VLAN]: 8,
  [C.OFPAT_POP_VLAN]: 8,
  [C.OFPAT_PUSH_MPLS]: 8,
  [C.OFPAT_POP_MPLS]: 8,
  [C.OFPAT_SET_QUEUE]: 8,
  [C.OFPAT_GROUP]: 8,
  [C.OFPAT_SET_NW_TTL]: 8,
  [C.OFPAT_DEC_NW_TTL]: 8,
  [C.OFPAT_PUSH_PBB]: 8,
  [C.OFPAT_POP_PBB]: 8,
};

/** Decodes the action list in b[o, end). `base` is the message start, for error offsets. */
export function decodeActions(b: Buffer, o: number, end: number, base: number): Action[] {
  const out: Action[] = [];
  while (o < end) {
    if (o + 8 > end) throw badActionLen('action header overruns its list', o - base);
    const type = b.readUInt16BE(o);
    const len = b.readUInt16BE(o + 2);
    // §7.2.5: every action is at least 8 bytes and a multiple of 8 long.
    if (len < 8 || (len & 7) !== 0 || o + len > end) {
      throw badActionLen(`action type ${type} has bad length ${len}`, o - base);
    }
    const fixed = ACTION_LEN[type];
    if (fixed !== undefined && len !== fixed) {
      throw badActionLen(`action type ${type} has length ${len}, expected ${fixed}`, o - base);
    }
    out.push(decodeAction(b, o, type, len, base));
    o += len;
  }
  return out;
}

/** The pad bytes of a fixed action, b[from, o + 8 or 16), must be zero as encode() writes them. */
function actionPad(b: Buffer, o: number, from: number, to: number, what: string, base: number): void {
  pad(b, o + from, o + to, what, base, C.OFPET_BAD_ACTION, C.OFPBAC_BAD_ARGUMENT);
}

function decodeAction(b: Buffer, o: number, type: number, len: number, base: number): Action {
  switch (type) {
    case C.OFPAT_OUTPUT:
      actionPad(b, o, 10, 16, 'output action', base);
      return { type: 'output', port: b.readUInt32BE(o + 4), maxLen: b.readUInt16BE(o + 8) };
    case C.OFPAT_COPY_TTL_OUT:
      actionPad(b, o, 4, 8, 'copy_ttl_out action', base);
      return { type: 'copy_ttl_out' };
    case C.OFPAT_COPY_TTL_IN:
      actionPad(b, o, 4, 8, 'copy_ttl_in action', base);
      return { type: 'copy_ttl_in' };
    case C.OFPAT_SET_MPLS_TTL:
      actionPad(b, o, 5, 8, 'set_mpls_ttl action', base);
      return { type: 'set_mpls_ttl', mplsTtl: b[o + 4]! };
    case C.OFPAT_DEC_MPLS_TTL:
      actionPad(b, o, 4, 8, 'dec_mpls_ttl action', base);
      return { type: 'dec_mpls_ttl' };
    case C.OFPAT_PUSH_VLAN:
      actionPad(b, o, 6, 8, 'push_vlan action', base);
      return { type: 'push_vlan', ethertype: b.readUInt16BE(o + 4) };
    case C.OFPAT_POP_VLAN:
      actionPad(b, o, 4, 8, 'pop_vlan action', base);
      return { type: 'pop_vlan' };
    case C.OFPAT_PUSH_MPLS:
      actionPad(b, o, 6, 8, 'push_mpls action', base);
      return { type: 'push_mpls', ethertype: b.readUInt16BE(o + 4) };
    case C.OFPAT_POP_MPLS:
      actionPad(b, o, 6, 8, 'pop_mpls action', base);
      return { type: 'pop_mpls', ethertype: b.readUInt16BE(o + 4) };
    case C.OFPAT_SET_QUEUE:
      return { type: 'set_queue', queueId: b.readUInt32BE(o + 4) };
    case C.OFPAT_GROUP:
      return { type: 'group', groupId: b.readUInt32BE(o + 4) };
    case C.OFPAT_SET_NW_TTL:
      actionPad(b, o, 5, 8, 'set_nw_ttl action', base);
      return { type: 'set_nw_ttl', nwTtl: b[o + 4]! };
    case C.OFPAT_DEC_NW_TTL:
      actionPad(b, o, 4, 8, 'dec_nw_ttl action', base);
      return { type: 'dec_nw_ttl' };
    case C.OFPAT_SET_FIELD: {
      // §7.2.5: ofp_action_set_field = header + one OXM TLV (unmasked), padded to 8.
      // "The value of oxm_hasmask must be zero and no oxm_mask is included": encode refuses
      // a masked basic field, so decode must too (checked before the OXM's own mask rules,
      // whose OFPET_BAD_MATCH codes would name the wrong structure). Unknown OXM classes and
      // fields stay raw, mask bit and all.
      if (b.readUInt16BE(o + 4) === C.OFPXMC_OPENFLOW_BASIC && (b[o + 6]! & 1) === 1) {
        const d = OXM_FIELDS[b[o + 6]! >> 1];
        if (d !== undefined) throw badSetMask(`set_field OXM ${d.name} has oxm_hasmask set; a set-field value may not be masked`, o - base);
      }
      const [field, oxmEnd] = decodeOxm(b, o + 4, o + len, base);
      if (((oxmEnd - o + 7) & ~7) !== len) {
        throw badActionLen(`set_field length ${len} does not match its OXM`, o - base);
      }
      // OVS answers non-zero set_field padding with OFPBAC_BAD_SET_ARGUMENT; so do we.
      pad(b, oxmEnd, o + len, 'set_field action', base, C.OFPET_BAD_ACTION, C.OFPBAC_BAD_SET_ARGUMENT);
      return { type: 'set_field', field };
    }
    case C.OFPAT_PUSH_PBB:
      actionPad(b, o, 6, 8, 'push_pbb action', base);
      return { type: 'push_pbb', ethertype: b.readUInt16BE(o + 4) };
    case C.OFPAT_POP_PBB:
      actionPad(b, o, 4, 8, 'pop_pbb action', base);
      return { type: 'pop_pbb' };
    case C.OFPAT_EXPERIMENTER:
      return { type: 'experimenter', experimenter: b.readUInt32BE(o + 4), data: b.subarray(o + 8, o + len) };
    default:
      return { type: 'unknown', raw: b.subarray(o, o + len) };
  }
}

/** Encoded size of one action. */
export function actionSize(a: Action): number {
  switch (a.type) {
    case 'output':
      return 16;
    case 'set_field':
      return (4 + oxmSize(a.field) + 7) & ~7;
    case 'experimenter':
      return 8 + a.data.length;
    case 'unknown':
      return a.raw.length;
    default:
      return 8;
  }
}

export function actionsSize(list: readonly Action[]): number {
  let n = 0;
  for (let i = 0; i < list.length; i++) n += actionSize(list[i]!);
  return n;
}

function badArg(what: string, v: unknown): OfpEncodeError {
  return new OfpEncodeError('OFP_ENCODE_BAD_VALUE', `${what}: invalid value ${String(v)}`);
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw badArg(what, v);
  return v;
}
function u16(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw badArg(what, v);
  return v;
}
function u8(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw badArg(what, v);
  return v;
}

/** Writes `header + 4 zero bytes` actions: type, len 8, pad. */
function hdr8(b: Buffer, o: number, type: number): number {
  b.writeUInt32BE((type << 16) | 8, o);
  b.writeUInt32BE(0, o + 4);
  return o + 8;
}

/** Writes one action at o; returns the end offset. */
export function writeAction(b: Buffer, o: number, a: Action): number {
  if (o + 8 > b.length) throw tooLong();
  switch (a.type) {
    case 'output':
      if (o + 16 > b.length) throw tooLong();
      b.writeUInt32BE((C.OFPAT_OUTPUT << 16) | 16, o);
      b.writeUInt32BE(u32(a.port, 'output.port'), o + 4);
      b.writeUInt16BE(u16(a.maxLen, 'output.maxLen'), o + 8);
      zero(b, o + 10, o + 16);
      return o + 16;
    case 'copy_ttl_out':
      return hdr8(b, o, C.OFPAT_COPY_TTL_OUT);
    case 'copy_ttl_in':
      return hdr8(b, o, C.OFPAT_COPY_TTL_IN);
    case 'set_mpls_ttl':
      hdr8(b, o, C.OFPAT_SET_MPLS_TTL);
      b[o + 4] = u8(a.mplsTtl, 'set_mpls_ttl.mplsTtl');
      return o + 8;
    case 'dec_mpls_ttl':
      return hdr8(b, o, C.OFPAT_DEC_MPLS_TTL);
    case 'push_vlan':
      hdr8(b, o, C.OFPAT_PUSH_VLAN);
      b.writeUInt16BE(u16(a.ethertype, 'push_vlan.ethertype'), o + 4);
      return o + 8;
    case 'pop_vlan':
      return hdr8(b, o, C.OFPAT_POP_VLAN);
    case 'push_mpls':
      hdr8(b, o, C.OFPAT_PUSH_MPLS);
      b.writeUInt16BE(u16(a.ethertype, 'push_mpls.ethertype'), o + 4);
      return o + 8;
    case 'pop_mpls':
      hdr8(b, o, C.OFPAT_POP_MPLS);
      b.writeUInt16BE(u16(a.ethertype, 'pop_mpls.ethertype'), o + 4);
      return o + 8;
    case 'set_queue':
      hdr8(b, o, C.OFPAT_SET_QUEUE);
      b.writeUInt32BE(u32(a.queueId, 'set_queue.queueId'), o + 4);
      return o + 8;
    case 'group':
      hdr8(b, o, C.OFPAT_GROUP);
      b.writeUInt32BE(u32(a.groupId, 'group.groupId'), o + 4);
      return o + 8;
    case 'set_nw_ttl':
      hdr8(b, o, C.OFPAT_SET_NW_TTL);
      b[o + 4] = u8(a.nwTtl, 'set_nw_ttl.nwTtl');
      return o + 8;
    case 'dec_nw_ttl':
      return hdr8(b, o, C.OFPAT_DEC_NW_TTL);
    case 'set_field': {
      if (a.field.field !== 'unknown' && a.field.mask !== undefined) {
        // OF 1.3.5 §7.2.5: "The value of oxm_hasmask must be zero and no oxm_mask is included".
        throw new OfpEncodeError('OFP_ENCODE_BAD_MASK', 'set_field OXM must not carry a mask');
      }
      const p = writeOxm(b, o + 4, a.field);
      const end = o + ((p - o + 7) & ~7);
      if (end > b.length) throw tooLong();
      zero(b, p, end);
      b.writeUInt16BE(C.OFPAT_SET_FIELD, o);
      b.writeUInt16BE(end - o, o + 2);
      return end;
    }
    case 'push_pbb':
      hdr8(b, o, C.OFPAT_PUSH_PBB);
      b.writeUInt16BE(u16(a.ethertype, 'push_pbb.ethertype'), o + 4);
      return o + 8;
    case 'pop_pbb':
      return hdr8(b, o, C.OFPAT_POP_PBB);
    case 'experimenter': {
      const len = 8 + a.data.length;
      if ((len & 7) !== 0) {
        throw new OfpEncodeError('OFP_ENCODE_BAD_RAW', `experimenter action data must make the action a multiple of 8 bytes (got ${len})`);
      }
      if (o + len > b.length) throw tooLong();
      b.writeUInt16BE(C.OFPAT_EXPERIMENTER, o);
      b.writeUInt16BE(len, o + 2);
      b.writeUInt32BE(u32(a.experimenter, 'experimenter'), o + 4);
      a.data.copy(b, o + 8);
      return o + len;
    }
    case 'unknown':
      return writeRawTlv(b, o, a.raw, 'action');
    default:
      throw new OfpEncodeError('OFP_ENCODE_UNKNOWN_TYPE', `unknown action type '${(a as { type: unknown }).type}'`);
  }
}

/** Copies a raw type/len TLV after checking that its length field matches its size and is 8-aligned. */
export function writeRawTlv(b: Buffer, o: number, raw: Buffer, what: string): number {
  if (raw.length < 4 || raw.readUInt16BE(2) !== raw.length || (raw.length & 7) !== 0) {
    throw new OfpEncodeError('OFP_ENCODE_BAD_RAW', `raw ${what} of ${raw.length} bytes is not a whole 8-aligned TLV`);
  }
  if (o + raw.length > b.length) throw tooLong();
  raw.copy(b, o);
  return o + raw.length;
}

export function writeActions(b: Buffer, o: number, list: readonly Action[]): number {
  for (let i = 0; i < list.length; i++) o = writeAction(b, o, list[i]!);
  return o;
}

// ---------------------------------------------------------------------------
// Instructions (§7.2.4)
// ---------------------------------------------------------------------------

const INSTRUCTION_LEN: Record<number, number> = {
  [C.OFPIT_GOTO_TABLE]: 8,
  [C.OFPIT_WRITE_METADATA]: 24,
  [C.OFPIT_CLEAR_ACTIONS]: 8,
  [C.OFPIT_METER]: 8,
};

function insPad(b: Buffer, from: number, to: number, base: number): void {
  pad(b, from, to, 'instruction', base, C.OFPET_BAD_INSTRUCTION, C.OFPBIC_BAD_LEN);
}

/** Decodes the instruction list in b[o, end). */
export function decodeInstructions(b: Buffer, o: number, end: number, base: number): Instruction[] {
  const out: Instruction[] = [];
  while (o < end) {
    if (o + 8 > end) throw badInstructionLen('instruction header overruns its list', o - base);
    const type = b.readUInt16BE(o);
    const len = b.readUInt16BE(o + 2);
    // §7.2.4: instructions are 8-byte aligned and at least 8 bytes.
    if (len < 8 || (len & 7) !== 0 || o + len > end) {
      throw badInstructionLen(`instruction type ${type} has bad length ${len}`, o - base);
    }
    const fixed = INSTRUCTION_LEN[type];
    if (fixed !== undefined && len !== fixed) {
      throw badInstructionLen(`instruction type ${type} has length ${len}, expected ${fixed}`, o - base);
    }
    // Pad bytes of the fixed instructions: goto_table's 3, the 4 after every other header.
    if (type === C.OFPIT_GOTO_TABLE) insPad(b, o + 5, o + 8, base);
    else if (type === C.OFPIT_APPLY_ACTIONS || type === C.OFPIT_WRITE_ACTIONS || type === C.OFPIT_WRITE_METADATA || type === C.OFPIT_CLEAR_ACTIONS) {
      insPad(b, o + 4, o + 8, base);
    }
    switch (type) {
      case C.OFPIT_GOTO_TABLE:
        out.push({ type: 'goto_table', tableId: b[o + 4]! });
        break;
      case C.OFPIT_WRITE_METADATA:
        out.push({ type: 'write_metadata', metadata: b.readBigUInt64BE(o + 8), metadataMask: b.readBigUInt64BE(o + 16) });
        break;
      case C.OFPIT_WRITE_ACTIONS:
        out.push({ type: 'write_actions', actions: decodeActions(b, o + 8, o + len, base) });
        break;
      case C.OFPIT_APPLY_ACTIONS:
        out.push({ type: 'apply_actions', actions: decodeActions(b, o + 8, o + len, base) });
        break;
      case C.OFPIT_CLEAR_ACTIONS:
        out.push({ type: 'clear_actions' });
        break;
      case C.OFPIT_METER:
        out.push({ type: 'meter', meterId: b.readUInt32BE(o + 4) });
        break;
      case C.OFPIT_EXPERIMENTER:
        out.push({ type: 'experimenter', experimenter: b.readUInt32BE(o + 4), data: b.subarray(o + 8, o + len) });
        break;
      default:
        out.push({ type: 'unknown', raw: b.subarray(o, o + len) });
    }
    o += len;
  }
  return out;
}

export function instructionSize(i: Instruction): number {
  switch (i.type) {
    case 'write_metadata':
      return 24;
    case 'write_actions':
    case 'apply_actions':
      return 8 + actionsSize(i.actions);
    case 'experimenter':
      return 8 + i.data.length;
    case 'unknown':
      return i.raw.length;
    default:
      return 8;
  }
}

const U64_MAX = (1n << 64n) - 1n;

function u64(v: bigint, what: string): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw badArg(what, v);
  return v;
}

/** Writes one instruction at o; returns the end offset. */
export function writeInstruction(b: Buffer, o: number, ins: Instruction): number {
  if (o + 8 > b.length) throw tooLong();
  switch (ins.type) {
    case 'goto_table':
      b.writeUInt32BE((C.OFPIT_GOTO_TABLE << 16) | 8, o);
      b.writeUInt32BE(0, o + 4);
      b[o + 4] = u8(ins.tableId, 'goto_table.tableId');
      return o + 8;
    case 'write_metadata':
      if (o + 24 > b.length) throw tooLong();
      b.writeUInt32BE((C.OFPIT_WRITE_METADATA << 16) | 24, o);
      b.writeUInt32BE(0, o + 4);
      writeU64(b, o + 8, u64(ins.metadata, 'write_metadata.metadata'));
      writeU64(b, o + 16, u64(ins.metadataMask, 'write_metadata.metadataMask'));
      return o + 24;
    case 'write_actions':
    case 'apply_actions': {
      const end = writeActions(b, o + 8, ins.actions);
      if (end - o > 0xffff) throw tooLong();
      b.writeUInt16BE(ins.type === 'write_actions' ? C.OFPIT_WRITE_ACTIONS : C.OFPIT_APPLY_ACTIONS, o);
      b.writeUInt16BE(end - o, o + 2);
      b.writeUInt32BE(0, o + 4);
      return end;
    }
    case 'clear_actions':
      b.writeUInt32BE((C.OFPIT_CLEAR_ACTIONS << 16) | 8, o);
      b.writeUInt32BE(0, o + 4);
      return o + 8;
    case 'meter':
      b.writeUInt32BE((C.OFPIT_METER << 16) | 8, o);
      b.writeUInt32BE(u32(ins.meterId, 'meter.meterId'), o + 4);
      return o + 8;
    case 'experimenter': {
      const len = 8 + ins.data.length;
      if ((len & 7) !== 0) {
        throw new OfpEncodeError('OFP_ENCODE_BAD_RAW', `experimenter instruction must be a multiple of 8 bytes (got ${len})`);
      }
      if (o + len > b.length) throw tooLong();
      b.writeUInt16BE(C.OFPIT_EXPERIMENTER, o);
      b.writeUInt16BE(len, o + 2);
      b.writeUInt32BE(u32(ins.experimenter, 'experimenter'), o + 4);
      ins.data.copy(b, o + 8);
      return o + len;
    }
    case 'unknown':
      return writeRawTlv(b, o, ins.raw, 'instruction');
    default:
      throw new OfpEncodeError('OFP_ENCODE_UNKNOWN_TYPE', `unknown instruction type '${(ins as { type: unknown }).type}'`);
  }
}

export function writeInstructions(b: Buffer, o: number, list: readonly Instruction[]): number {
  for (let i = 0; i < list.length; i++) o = writeInstruction(b, o, list[i]!);
  return o;
}
