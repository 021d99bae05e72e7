// encode(msg) -> Buffer. Sizes the whole message first, then writes it into one
// Buffer of exactly that size (no intermediate buffers). encodeInto() writes into a
// caller's buffer for batching several messages into one socket write.
import * as C from './constants.js';
import { OfpEncodeError } from './errors.js';
import { actionsSize, instructionSize, writeActions, writeInstructions } from './actions.js';
import { matchLength, tooLong, writeMac, writeMatch } from './oxm.js';
import { mpTypeNumber, multipartReplySize, multipartRequestSize, writeMultipartReply, writeMultipartRequest } from './multipart.js';
import {
  bandsSize,
  bucketsSize,
  helloElementsSize,
  queuesSize,
  writeBands,
  writeBuckets,
  writeHelloElements,
  writePort,
  writeQueues,
} from './structs.js';
import type { AsyncConfigFields, OfpMessage } from './types.js';
import { writeU64, zero } from './wire.js';

const TYPE_NUMBERS: Record<Exclude<OfpMessage['type'], 'unknown'>, number> = {
  hello: C.OFPT_HELLO,
  error: C.OFPT_ERROR,
  echo_request: C.OFPT_ECHO_REQUEST,
  echo_reply: C.OFPT_ECHO_REPLY,
  experimenter: C.OFPT_EXPERIMENTER,
  features_request: C.OFPT_FEATURES_REQUEST,
  features_reply: C.OFPT_FEATURES_REPLY,
  get_config_request: C.OFPT_GET_CONFIG_REQUEST,
  get_config_reply: C.OFPT_GET_CONFIG_REPLY,
  set_config: C.OFPT_SET_CONFIG,
  packet_in: C.OFPT_PACKET_IN,
  flow_removed: C.OFPT_FLOW_REMOVED,
  port_status: C.OFPT_PORT_STATUS,
  packet_out: C.OFPT_PACKET_OUT,
  flow_mod: C.OFPT_FLOW_MOD,
  group_mod: C.OFPT_GROUP_MOD,
  port_mod: C.OFPT_PORT_MOD,
  table_mod: C.OFPT_TABLE_MOD,
  multipart_request: C.OFPT_MULTIPART_REQUEST,
  multipart_reply: C.OFPT_MULTIPART_REPLY,
  barrier_request: C.OFPT_BARRIER_REQUEST,
  barrier_reply: C.OFPT_BARRIER_REPLY,
  queue_get_config_request: C.OFPT_QUEUE_GET_CONFIG_REQUEST,
  queue_get_config_reply: C.OFPT_QUEUE_GET_CONFIG_REPLY,
  role_request: C.OFPT_ROLE_REQUEST,
  role_reply: C.OFPT_ROLE_REPLY,
  get_async_request: C.OFPT_GET_ASYNC_REQUEST,
  get_async_reply: C.OFPT_GET_ASYNC_REPLY,
  set_async: C.OFPT_SET_ASYNC,
  meter_mod: C.OFPT_METER_MOD,
};

/** Wire OFPT_* number of a message. */
export function messageTypeNumber(msg: OfpMessage): number {
  if (msg.type === 'unknown') return msg.msgType;
  const n = TYPE_NUMBERS[msg.type];
  if (n === undefined) throw new OfpEncodeError('OFP_ENCODE_UNKNOWN_TYPE', `unknown message type '${String(msg.type)}'`);
  return n;
}

const padded = (n: number): number => (n + 7) & ~7;

/** Exact encoded size of a message, header included. */
export function messageSize(msg: OfpMessage): number {
  switch (msg.type) {
    case 'hello':
      return 8 + helloElementsSize(msg.elements);
    case 'error':
      return ('expType' in msg ? 16 : 12) + msg.data.length;
    case 'echo_request':
    case 'echo_reply':
      return 8 + msg.data.length;
    case 'experimenter':
      return 16 + msg.data.length;
    case 'features_request':
    case 'get_config_request':
    case 'barrier_request':
    case 'barrier_reply':
    case 'get_async_request':
      return 8;
    case 'features_reply':
      return 32;
    case 'get_config_reply':
    case 'set_config':
      return 12;
    case 'packet_in':
      return 24 + padded(matchLength(msg.match)) + 2 + msg.data.length;
    case 'flow_removed':
      return 48 + padded(matchLength(msg.match));
    case 'port_status':
      return 80;
    case 'packet_out':
      return 24 + actionsSize(msg.actions) + msg.data.length;
    case 'flow_mod': {
      let n = 48 + padded(matchLength(msg.match));
      for (let i = 0; i < msg.instructions.length; i++) n += instructionSize(msg.instructions[i]!);
      return n;
    }
    case 'group_mod':
      return 16 + bucketsSize(msg.buckets);
    case 'port_mod':
      return 40;
    case 'table_mod':
      return 16;
    case 'multipart_request':
      return 16 + multipartRequestSize(msg.body);
    case 'multipart_reply':
      return 16 + multipartReplySize(msg.body);
    case 'queue_get_config_request':
      return 16;
    case 'queue_get_config_reply':
      return 16 + queuesSize(msg.queues);
    case 'role_request':
    case 'role_reply':
      return 24;
    case 'get_async_reply':
    case 'set_async':
      return 32;
    case 'meter_mod':
      return 16 + bandsSize(msg.bands);
    case 'unknown':
      return 8 + msg.body.length;
    default:
      throw new OfpEncodeError('OFP_ENCODE_UNKNOWN_TYPE', `unknown message type '${String((msg as { type: unknown }).type)}'`);
  }
}

function writeAsync(b: Buffer, o: number, m: AsyncConfigFields): void {
  b.writeUInt32BE(m.packetInMask[0], o + 8);
  b.writeUInt32BE(m.packetInMask[1], o + 12);
  b.writeUInt32BE(m.portStatusMask[0], o + 16);
  b.writeUInt32BE(m.portStatusMask[1], o + 20);
  b.writeUInt32BE(m.flowRemovedMask[0], o + 24);
  b.writeUInt32BE(m.flowRemovedMask[1], o + 28);
}

/** Writes the body (everything after the header) of msg, whose header starts at o. Returns the end offset. */
function writeBody(b: Buffer, o: number, msg: OfpMessage): number {
  const p = o + 8;
  switch (msg.type) {
    case 'hello':
      return writeHelloElements(b, p, msg.elements);
    case 'error':
      b.writeUInt16BE(msg.errType, p);
      if ('expType' in msg) {
        b.writeUInt16BE(msg.expType, p + 2);
        b.writeUInt32BE(msg.experimenter, p + 4);
        return p + 8 + msg.data.copy(b, p + 8);
      }
      b.writeUInt16BE(msg.code, p + 2);
      return p + 4 + msg.data.copy(b, p + 4);
    case 'echo_request':
    case 'echo_reply':
      return p + msg.data.copy(b, p);
    case 'experimenter':
      b.writeUInt32BE(msg.experimenter, p);
      b.writeUInt32BE(msg.expType, p + 4);
      return p + 8 + msg.data.copy(b, p + 8);
    case 'features_request':
    case 'get_config_request':
    case 'barrier_request':
    case 'barrier_reply':
    case 'get_async_request':
      return p;
    case 'features_reply':
      writeU64(b, p, msg.datapathId);
      b.writeUInt32BE(msg.nBuffers, p + 8);
      b[p + 12] = msg.nTables;
      b[p + 13] = msg.auxiliaryId;
      b.writeUInt16BE(0, p + 14);
      b.writeUInt32BE(msg.capabilities, p + 16);
      b.writeUInt32BE(msg.reserved, p + 20);
      return p + 24;
    case 'get_config_reply':
    case 'set_config':
      b.writeUInt16BE(msg.flags, p);
      b.writeUInt16BE(msg.missSendLen, p + 2);
      return p + 4;
    case 'packet_in': {
      b.writeUInt32BE(msg.bufferId, p);
      b.writeUInt16BE(msg.totalLen, p + 4);
      b[p + 6] = msg.reason;
      b[p + 7] = msg.tableId;
      writeU64(b, p + 8, msg.cookie);
      const m = writeMatch(b, p + 16, msg.match);
      b.writeUInt16BE(0, m);
      return m + 2 + msg.data.copy(b, m + 2);
    }
    case 'flow_removed':
      writeU64(b, p, msg.cookie);
      b.writeUInt16BE(msg.priority, p + 8);
      b[p + 10] = msg.reason;
      b[p + 11] = msg.tableId;
      b.writeUInt32BE(msg.durationSec, p + 12);
      b.writeUInt32BE(msg.durationNsec, p + 16);
      b.writeUInt16BE(msg.idleTimeout, p + 20);
      b.writeUInt16BE(msg.hardTimeout, p + 22);
      writeU64(b, p + 24, msg.packetCount);
      writeU64(b, p + 32, msg.byteCount);
      return writeMatch(b, p + 40, msg.match);
    case 'port_status':
      b[p] = msg.reason;
      zero(b, p + 1, p + 8);
      return writePort(b, p + 8, msg.desc);
    case 'packet_out': {
      b.writeUInt32BE(msg.bufferId, p);
      b.writeUInt32BE(msg.inPort, p + 4);
      zero(b, p + 10, p + 16);
      const a = writeActions(b, p + 16, msg.actions);
      b.writeUInt16BE(a - (p + 16), p + 8);
      return a + msg.data.copy(b, a);
    }
    case 'flow_mod': {
      writeU64(b, p, msg.cookie);
      writeU64(b, p + 8, msg.cookieMask);
      b[p + 16] = msg.tableId;
      b[p + 17] = msg.command;
      b.writeUInt16BE(msg.idleTimeout, p + 18);
      b.writeUInt16BE(msg.hardTimeout, p + 20);
      b.writeUInt16BE(msg.priority, p + 22);
      b.writeUInt32BE(msg.bufferId, p + 24);
      b.writeUInt32BE(msg.outPort, p + 28);
      b.writeUInt32BE(msg.outGroup, p + 32);
      b.writeUInt16BE(msg.flags, p + 36);
      b.writeUInt16BE(0, p + 38);
      return writeInstructions(b, writeMatch(b, p + 40, msg.match), msg.instructions);
    }
    case 'group_mod':
      b.writeUInt16BE(msg.command, p);
      b[p + 2] = msg.groupType;
      b[p + 3] = 0;
      b.writeUInt32BE(msg.groupId, p + 4);
      return writeBuckets(b, p + 8, msg.buckets);
    case 'port_mod':
      b.writeUInt32BE(msg.portNo, p);
      b.writeUInt32BE(0, p + 4);
      writeMac(b, p + 8, msg.hwAddr, 'port_mod.hwAddr');
      b.writeUInt16BE(0, p + 14);
      b.writeUInt32BE(msg.config, p + 16);
      b.writeUInt32BE(msg.mask, p + 20);
      b.writeUInt32BE(msg.advertise, p + 24);
      b.writeUInt32BE(0, p + 28);
      return p + 32;
    case 'table_mod':
      b.writeUInt32BE(0, p);
      b[p] = msg.tableId;
      b.writeUInt32BE(msg.config, p + 4);
      return p + 8;
    case 'multipart_request':
    case 'multipart_reply':
      b.writeUInt16BE(mpTypeNumber(msg.body), p);
      b.writeUInt16BE(msg.flags, p + 2);
      b.writeUInt32BE(0, p + 4);
      return msg.type === 'multipart_request' ? writeMultipartRequest(b, p + 8, msg.body) : writeMultipartReply(b, p + 8, msg.body);
    case 'queue_get_config_request':
      b.writeUInt32BE(msg.port, p);
      b.writeUInt32BE(0, p + 4);
      return p + 8;
    case 'queue_get_config_reply':
      b.writeUInt32BE(msg.port, p);
      b.writeUInt32BE(0, p + 4);
      return writeQueues(b, p + 8, msg.queues);
    case 'role_request':
    case 'role_reply':
      b.writeUInt32BE(msg.role, p);
      b.writeUInt32BE(0, p + 4);
      writeU64(b, p + 8, msg.generationId);
      return p + 16;
    case 'get_async_reply':
    case 'set_async':
      writeAsync(b, o, msg);
      return p + 24;
    case 'meter_mod':
      b.writeUInt16BE(msg.command, p);
      b.writeUInt16BE(msg.flags, p + 2);
      b.writeUInt32BE(msg.meterId, p + 4);
      return writeBands(b, p + 8, msg.bands);
    case 'unknown':
      return p + msg.body.copy(b, p);
  }
}

/** Maps Node's RangeErrors from Buffer writes to typed encode errors. */
function rethrow(e: unknown, what: string): never {
  if (e instanceof OfpEncodeError) throw e;
  if (e instanceof RangeError || e instanceof TypeError) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_OUT_OF_BOUNDS' || (code === 'ERR_OUT_OF_RANGE' && /"offset"/.test(e.message))) throw tooLong();
    throw new OfpEncodeError('OFP_ENCODE_BAD_VALUE', `${what}: ${e.message}`);
  }
  throw e;
}

/**
 * Writes msg into buf at offset and returns the number of bytes written. Throws
 * OfpEncodeError('OFP_ENCODE_TOO_LONG') if it does not fit in buf or in 65535 bytes.
 */
export function encodeInto(msg: OfpMessage, buf: Buffer, offset = 0): number {
  return writeSized(msg, buf, offset, messageSize(msg));
}

function writeSized(msg: OfpMessage, buf: Buffer, offset: number, size: number): number {
  if (size > C.OFP_MAX_MESSAGE_LEN || offset + size > buf.length) throw tooLong();
  // Write into a view of exactly `size` bytes so that nothing can spill past the message.
  const b = offset === 0 && buf.length === size ? buf : buf.subarray(offset, offset + size);
  try {
    const version = msg.type === 'hello' ? (msg.version ?? C.OFP_VERSION) : msg.type === 'unknown' ? msg.version : C.OFP_VERSION;
    b[0] = version;
    b[1] = messageTypeNumber(msg);
    b.writeUInt16BE(size, 2);
    b.writeUInt32BE(msg.xid, 4);
    const end = writeBody(b, 0, msg);
    if (end !== size) {
      throw new OfpEncodeError('OFP_ENCODE_BAD_VALUE', `${msg.type}: wrote ${end} bytes, sized ${size}`);
    }
  } catch (e) {
    rethrow(e, msg.type);
  }
  return size;
}

/** Encodes one message (version 4) into a new Buffer; all lengths and padding are computed. */
export function encode(msg: OfpMessage): Buffer {
  const size = messageSize(msg);
  if (size > C.OFP_MAX_MESSAGE_LEN) throw tooLong();
  const b = Buffer.allocUnsafe(size);
  writeSized(msg, b, 0, size);
  return b;
}
