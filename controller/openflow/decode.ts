// decode(frame) -> OfpMessage for exactly one whole OpenFlow 1.3 message.
// Reads straight from the Buffer; payloads (packet data, echo data, raw TLVs) are
// subarray views of the frame, not copies.
import * as C from './constants.js';
import { badLength, badVersion, truncated } from './errors.js';
import { decodeActions, decodeInstructions } from './actions.js';
import { decodeMatch, formatMac } from './oxm.js';
import { decodeMultipartReply, decodeMultipartRequest } from './multipart.js';
import { decodeBands, decodeBuckets, decodeHelloElements, decodePort, decodeQueues } from './structs.js';
import type { AsyncConfigFields, OfpMessage } from './types.js';
import { pad } from './wire.js';

/** Fixed message sizes including the 8-byte header (OF 1.3.5 §7, struct sizes). */
export const OFP_SIZES = {
  header: 8,
  errorMsg: 12,
  errorExperimenterMsg: 16,
  experimenterHeader: 16,
  switchFeatures: 32,
  switchConfig: 12,
  packetIn: 24, // without match (struct ofp_packet_in is 32 with the 8-byte match header)
  flowRemoved: 48, // without match (struct is 56)
  portStatus: 80,
  packetOut: 24,
  flowMod: 48, // without match (struct is 56)
  groupMod: 16,
  portMod: 40,
  tableMod: 16,
  multipartHeader: 16,
  queueGetConfigRequest: 16,
  queueGetConfigReply: 16,
  roleRequest: 24,
  asyncConfig: 32,
  meterMod: 16,
} as const;

function exact(len: number, size: number, what: string): void {
  if (len !== size) throw badLength(`${what} must be ${size} bytes, got ${len}`, 2);
}

function atLeast(len: number, size: number, what: string): void {
  if (len < size) throw truncated(`${what} (${len} < ${size} bytes)`, len);
}

function asyncFields(b: Buffer): AsyncConfigFields {
  return {
    packetInMask: [b.readUInt32BE(8), b.readUInt32BE(12)],
    portStatusMask: [b.readUInt32BE(16), b.readUInt32BE(20)],
    flowRemovedMask: [b.readUInt32BE(24), b.readUInt32BE(28)],
  };
}

/**
 * Decodes exactly one OpenFlow 1.3 message. `frame` must hold the whole message and
 * nothing else (use Framer to split a stream). Throws OfpDecodeError on malformed input.
 */
export function decode(frame: Buffer): OfpMessage {
  const b = frame;
  if (b.length < 8) throw badLength(`frame of ${b.length} bytes is shorter than ofp_header`, 0, true);
  const version = b[0]!;
  const type = b[1]!;
  const len = b.readUInt16BE(2);
  const xid = b.readUInt32BE(4);
  if (len !== b.length) throw badLength(`ofp_header.length ${len} != frame size ${b.length}`, 2, true);
  // OF 1.3.5 §6.3.1: the hello is the one message a peer of another version may send us.
  if (type === C.OFPT_HELLO) {
    return { type: 'hello', xid, version, elements: decodeHelloElements(b, 8, len, 0) };
  }
  if (version !== C.OFP_VERSION) throw badVersion(version);
  switch (type) {
    case C.OFPT_ERROR: {
      atLeast(len, OFP_SIZES.errorMsg, 'ofp_error_msg');
      const errType = b.readUInt16BE(8);
      if (errType === C.OFPET_EXPERIMENTER) {
        atLeast(len, OFP_SIZES.errorExperimenterMsg, 'ofp_error_experimenter_msg');
        return { type: 'error', xid, errType: 0xffff, expType: b.readUInt16BE(10), experimenter: b.readUInt32BE(12), data: b.subarray(16) };
      }
      return { type: 'error', xid, errType, code: b.readUInt16BE(10), data: b.subarray(12) };
    }
    case C.OFPT_ECHO_REQUEST:
      return { type: 'echo_request', xid, data: b.subarray(8) };
    case C.OFPT_ECHO_REPLY:
      return { type: 'echo_reply', xid, data: b.subarray(8) };
    case C.OFPT_EXPERIMENTER:
      atLeast(len, OFP_SIZES.experimenterHeader, 'ofp_experimenter_header');
      return { type: 'experimenter', xid, experimenter: b.readUInt32BE(8), expType: b.readUInt32BE(12), data: b.subarray(16) };
    case C.OFPT_FEATURES_REQUEST:
      exact(len, 8, 'features_request');
      return { type: 'features_request', xid };
    case C.OFPT_FEATURES_REPLY:
      exact(len, OFP_SIZES.switchFeatures, 'ofp_switch_features');
      pad(b, 22, 24, 'ofp_switch_features', 0);
      return {
        type: 'features_reply',
        xid,
        datapathId: b.readBigUInt64BE(8),
        nBuffers: b.readUInt32BE(16),
        nTables: b[20]!,
        auxiliaryId: b[21]!,
        capabilities: b.readUInt32BE(24),
        reserved: b.readUInt32BE(28),
      };
    case C.OFPT_GET_CONFIG_REQUEST:
      exact(len, 8, 'get_config_request');
      return { type: 'get_config_request', xid };
    case C.OFPT_GET_CONFIG_REPLY:
    case C.OFPT_SET_CONFIG:
      exact(len, OFP_SIZES.switchConfig, 'ofp_switch_config');
      return {
        type: type === C.OFPT_SET_CONFIG ? 'set_config' : 'get_config_reply',
        xid,
        flags: b.readUInt16BE(8),
        missSendLen: b.readUInt16BE(10),
      };
    case C.OFPT_PACKET_IN: {
      atLeast(len, OFP_SIZES.packetIn + 8 + 2, 'ofp_packet_in');
      const [match, mend] = decodeMatch(b, 24, len, 0);
      // §7.4.1: two bytes of padding follow the match so the IP header is 32-bit aligned.
      if (mend + 2 > len) throw truncated('ofp_packet_in padding after match', mend);
      if ((b[mend]! | b[mend + 1]!) !== 0) pad(b, mend, mend + 2, 'ofp_packet_in (after the match)', 0);
      return {
        type: 'packet_in',
        xid,
        bufferId: b.readUInt32BE(8),
        totalLen: b.readUInt16BE(12),
        reason: b[14]!,
        tableId: b[15]!,
        cookie: b.readBigUInt64BE(16),
        match,
        data: b.subarray(mend + 2),
      };
    }
    case C.OFPT_FLOW_REMOVED: {
      atLeast(len, OFP_SIZES.flowRemoved + 8, 'ofp_flow_removed');
      const [match, mend] = decodeMatch(b, 48, len, 0);
      if (mend !== len) throw badLength('trailing bytes after ofp_flow_removed match', mend);
      return {
        type: 'flow_removed',
        xid,
        cookie: b.readBigUInt64BE(8),
        priority: b.readUInt16BE(16),
        reason: b[18]!,
        tableId: b[19]!,
        durationSec: b.readUInt32BE(20),
        durationNsec: b.readUInt32BE(24),
        idleTimeout: b.readUInt16BE(28),
        hardTimeout: b.readUInt16BE(30),
        packetCount: b.readBigUInt64BE(32),
        byteCount: b.readBigUInt64BE(40),
        match,
      };
    }
    case C.OFPT_PORT_STATUS:
      exact(len, OFP_SIZES.portStatus, 'ofp_port_status');
      pad(b, 9, 16, 'ofp_port_status', 0);
      return { type: 'port_status', xid, reason: b[8]!, desc: decodePort(b, 16, 0) };
    case C.OFPT_PACKET_OUT: {
      atLeast(len, OFP_SIZES.packetOut, 'ofp_packet_out');
      const actionsLen = b.readUInt16BE(16);
      if (24 + actionsLen > len) throw badLength(`ofp_packet_out.actions_len ${actionsLen} overruns the message`, 16);
      pad(b, 18, 24, 'ofp_packet_out', 0);
      return {
        type: 'packet_out',
        xid,
        bufferId: b.readUInt32BE(8),
        inPort: b.readUInt32BE(12),
        actions: decodeActions(b, 24, 24 + actionsLen, 0),
        data: b.subarray(24 + actionsLen),
      };
    }
    case C.OFPT_FLOW_MOD: {
      atLeast(len, OFP_SIZES.flowMod + 8, 'ofp_flow_mod');
      pad(b, 46, 48, 'ofp_flow_mod', 0);
      const [match, mend] = decodeMatch(b, 48, len, 0);
      return {
        type: 'flow_mod',
        xid,
        cookie: b.readBigUInt64BE(8),
        cookieMask: b.readBigUInt64BE(16),
        tableId: b[24]!,
        command: b[25]!,
        idleTimeout: b.readUInt16BE(26),
        hardTimeout: b.readUInt16BE(28),
        priority: b.readUInt16BE(30),
        bufferId: b.readUInt32BE(32),
        outPort: b.readUInt32BE(36),
        outGroup: b.readUInt32BE(40),
        flags: b.readUInt16BE(44),
        match,
        instructions: decodeInstructions(b, mend, len, 0),
      };
    }
    case C.OFPT_GROUP_MOD:
      atLeast(len, OFP_SIZES.groupMod, 'ofp_group_mod');
      pad(b, 11, 12, 'ofp_group_mod', 0);
      return {
        type: 'group_mod',
        xid,
        command: b.readUInt16BE(8),
        groupType: b[10]!,
        groupId: b.readUInt32BE(12),
        buckets: decodeBuckets(b, 16, len, 0),
      };
    case C.OFPT_PORT_MOD:
      exact(len, OFP_SIZES.portMod, 'ofp_port_mod');
      pad(b, 12, 16, 'ofp_port_mod', 0);
      pad(b, 22, 24, 'ofp_port_mod', 0);
      pad(b, 36, 40, 'ofp_port_mod', 0);
      return {
        type: 'port_mod',
        xid,
        portNo: b.readUInt32BE(8),
        hwAddr: formatMac(b, 16),
        config: b.readUInt32BE(24),
        mask: b.readUInt32BE(28),
        advertise: b.readUInt32BE(32),
      };
    case C.OFPT_TABLE_MOD:
      exact(len, OFP_SIZES.tableMod, 'ofp_table_mod');
      pad(b, 9, 12, 'ofp_table_mod', 0);
      return { type: 'table_mod', xid, tableId: b[8]!, config: b.readUInt32BE(12) };
    case C.OFPT_MULTIPART_REQUEST:
    case C.OFPT_MULTIPART_REPLY: {
      atLeast(len, OFP_SIZES.multipartHeader, 'ofp_multipart header');
      pad(b, 12, 16, 'ofp_multipart header', 0);
      const mpType = b.readUInt16BE(8);
      const flags = b.readUInt16BE(10);
      if (type === C.OFPT_MULTIPART_REQUEST) {
        return { type: 'multipart_request', xid, flags, body: decodeMultipartRequest(b, mpType, 16, len, 0) };
      }
      return { type: 'multipart_reply', xid, flags, body: decodeMultipartReply(b, mpType, 16, len, 0) };
    }
    case C.OFPT_BARRIER_REQUEST:
      exact(len, 8, 'barrier_request');
      return { type: 'barrier_request', xid };
    case C.OFPT_BARRIER_REPLY:
      exact(len, 8, 'barrier_reply');
      return { type: 'barrier_reply', xid };
    case C.OFPT_QUEUE_GET_CONFIG_REQUEST:
      exact(len, OFP_SIZES.queueGetConfigRequest, 'ofp_queue_get_config_request');
      pad(b, 12, 16, 'ofp_queue_get_config_request', 0);
      return { type: 'queue_get_config_request', xid, port: b.readUInt32BE(8) };
    case C.OFPT_QUEUE_GET_CONFIG_REPLY:
      atLeast(len, OFP_SIZES.queueGetConfigReply, 'ofp_queue_get_config_reply');
      pad(b, 12, 16, 'ofp_queue_get_config_reply', 0);
      return { type: 'queue_get_config_reply', xid, port: b.readUInt32BE(8), queues: decodeQueues(b, 16, len, 0) };
    case C.OFPT_ROLE_REQUEST:
    case C.OFPT_ROLE_REPLY:
      exact(len, OFP_SIZES.roleRequest, 'ofp_role_request');
      pad(b, 12, 16, 'ofp_role_request', 0);
      return {
        type: type === C.OFPT_ROLE_REQUEST ? 'role_request' : 'role_reply',
        xid,
        role: b.readUInt32BE(8),
        generationId: b.readBigUInt64BE(16),
      };
    case C.OFPT_GET_ASYNC_REQUEST:
      exact(len, 8, 'get_async_request');
      return { type: 'get_async_request', xid };
    case C.OFPT_GET_ASYNC_REPLY:
      exact(len, OFP_SIZES.asyncConfig, 'ofp_async_config');
      return { type: 'get_async_reply', xid, ...asyncFields(b) };
    case C.OFPT_SET_ASYNC:
      exact(len, OFP_SIZES.asyncConfig, 'ofp_async_config');
      return { type: 'set_async', xid, ...asyncFields(b) };
    case C.OFPT_METER_MOD:
      atLeast(len, OFP_SIZES.meterMod, 'ofp_meter_mod');
      return {
        type: 'meter_mod',
        xid,
        command: b.readUInt16BE(8),
        flags: b.readUInt16BE(10),
        meterId: b.readUInt32BE(12),
        bands: decodeBands(b, 16, len, 0),
      };
    default:
      return { type: 'unknown', version, msgType: type, xid, body: b.subarray(8) };
  }
}

