// Typed codec errors (STYLE.md practice 4): each carries a stable `code`, and decode
// errors also carry the OFPT_ERROR type/code to answer with and whether the
// connection must close.
import {
  OFPET_BAD_ACTION,
  OFPET_BAD_INSTRUCTION,
  OFPET_BAD_MATCH,
  OFPET_BAD_REQUEST,
  OFPET_HELLO_FAILED,
  OFPBAC_BAD_LEN,
  OFPBAC_BAD_SET_MASK,
  OFPBIC_BAD_LEN,
  OFPBMC_BAD_LEN,
  OFPBMC_BAD_TYPE,
  OFPBMC_BAD_WILDCARDS,
  OFPBMC_BAD_MASK,
  OFPBRC_BAD_LEN,
  OFPBRC_BAD_VERSION,
  OFPBRC_BAD_MULTIPART,
  OFPHFC_INCOMPATIBLE,
} from './constants.js';

/** Stable decode error codes. */
export type OfpDecodeErrorCode =
  /** ofp_header.length < 8, > the frame limit, or != the frame's size. */
  | 'OFP_BAD_LENGTH'
  /** The frame is larger than Framer's maxFrame. */
  | 'OFP_FRAME_TOO_LARGE'
  /** ofp_header.version is not 4 on a non-hello message. */
  | 'OFP_BAD_VERSION'
  /** A fixed part of the body is shorter than the spec requires. */
  | 'OFP_TRUNCATED'
  /** A TLV (action, instruction, OXM, property, bucket, band...) has a length < its header, not aligned, or overrunning its container. */
  | 'OFP_BAD_TLV_LENGTH'
  | 'OFP_BAD_ACTION_LENGTH'
  | 'OFP_BAD_INSTRUCTION_LENGTH'
  | 'OFP_BAD_MATCH_LENGTH'
  /** ofp_match.type is not OFPMT_OXM. */
  | 'OFP_BAD_MATCH_TYPE'
  /** A basic OXM field has the wrong payload length for its width/mask bit. */
  | 'OFP_BAD_OXM_LENGTH'
  /** A masked OXM field that may not be masked. */
  | 'OFP_BAD_OXM_MASK'
  /** A masked OXM value has a bit set where its mask is 0 (OF 1.3.5 §7.2.3.5). */
  | 'OFP_BAD_WILDCARDS'
  /** A multipart body whose size is not a whole number of entries. */
  | 'OFP_BAD_MULTIPART'
  /** A set_field action whose OXM has oxm_hasmask = 1 (OF 1.3.5 §7.2.5). */
  | 'OFP_BAD_SET_MASK'
  /** A pad field, or the padding after a TLV, holds a non-zero byte (encode() writes zeros there). */
  | 'OFP_BAD_PADDING'
  /** A fixed-size string field (port/table name, ofp_desc) that is not UTF-8 text, a NUL, then only NULs. */
  | 'OFP_BAD_STRING';

/** Thrown by decode() and Framer.push() on malformed input. */
export class OfpDecodeError extends Error {
  override readonly name = 'OfpDecodeError';
  /**
   * @param code stable machine-readable code
   * @param errType OFPT_ERROR type to answer the peer with (OFPET_*)
   * @param errCode OFPT_ERROR code to answer with
   * @param offset byte offset within the message where the problem was found
   * @param fatal true when framing is broken and the connection must close
   */
  constructor(
    readonly code: OfpDecodeErrorCode,
    message: string,
    readonly errType: number,
    readonly errCode: number,
    readonly offset: number,
    readonly fatal: boolean = false,
  ) {
    super(message);
  }
}

/** Stable encode error codes. */
export type OfpEncodeErrorCode =
  /** The encoded message would exceed 65535 bytes. */
  | 'OFP_ENCODE_TOO_LONG'
  /** A field value out of range for its wire width (e.g. port > 0xffffffff, bad MAC text). */
  | 'OFP_ENCODE_BAD_VALUE'
  /** A raw TLV that is not a whole, consistent TLV. */
  | 'OFP_ENCODE_BAD_RAW'
  /** A mask on a field that is not maskable. */
  | 'OFP_ENCODE_BAD_MASK'
  /** An unknown `type`/`field`/`mpType` string. */
  | 'OFP_ENCODE_UNKNOWN_TYPE';

/** Thrown by encode() and the builders for messages that cannot be put on the wire. */
export class OfpEncodeError extends Error {
  override readonly name = 'OfpEncodeError';
  constructor(
    readonly code: OfpEncodeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// Small constructors so the decoders read as the rule they enforce.

export const badLength = (msg: string, offset: number, fatal = false): OfpDecodeError =>
  new OfpDecodeError('OFP_BAD_LENGTH', msg, OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, offset, fatal);

export const truncated = (what: string, offset: number): OfpDecodeError =>
  new OfpDecodeError('OFP_TRUNCATED', `${what} is truncated`, OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, offset);

export const badTlv = (what: string, offset: number): OfpDecodeError =>
  new OfpDecodeError('OFP_BAD_TLV_LENGTH', `${what} has a bad length`, OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, offset);

export const badActionLen = (msg: string, offset: number): OfpDecodeError =>
  new OfpDecodeError('OFP_BAD_ACTION_LENGTH', msg, OFPET_BAD_ACTION, OFPBAC_BAD_LEN, offset);

export const badInstructionLen = (msg: string, offset: number): OfpDecodeError =>
  new OfpDecodeError('OFP_BAD_INSTRUCTION_LENGTH', msg, OFPET_BAD_INSTRUCTION, OFPBIC_BAD_LEN, offset);

export const badMatchLen = (msg: string, offset: number): OfpDecodeError =>
  new OfpDecodeError('OFP_BAD_MATCH_LENGTH', msg, OFPET_BAD_MATCH, OFPBMC_BAD_LEN, offset);

export const badMatchType = (type: number, offset: number): OfpDecodeError =>
  new OfpDecodeError('OFP_BAD_MATCH_TYPE', `ofp_match.type ${type} is not OFPMT_OXM`, OFPET_BAD_MATCH, OFPBMC_BAD_TYPE, offset);

export const badOxmLen = (msg: string, offset: number): OfpDecodeError =>
  new OfpDecodeError('OFP_BAD_OXM_LENGTH', msg, OFPET_BAD_MATCH, OFPBMC_BAD_LEN, offset);

export const badOxmMask = (msg: string, offset: number): OfpDecodeError =>
  new OfpDecodeError('OFP_BAD_OXM_MASK', msg, OFPET_BAD_MATCH, OFPBMC_BAD_MASK, offset);

export const badWildcards = (msg: string, offset: number): OfpDecodeError =>
  new OfpDecodeError('OFP_BAD_WILDCARDS', msg, OFPET_BAD_MATCH, OFPBMC_BAD_WILDCARDS, offset);

export const badMultipart = (msg: string, offset: number): OfpDecodeError =>
  new OfpDecodeError('OFP_BAD_MULTIPART', msg, OFPET_BAD_REQUEST, OFPBRC_BAD_MULTIPART, offset);

export const badSetMask = (msg: string, offset: number): OfpDecodeError =>
  new OfpDecodeError('OFP_BAD_SET_MASK', msg, OFPET_BAD_ACTION, OFPBAC_BAD_SET_MASK, offset);

/**
 * Non-zero padding. OF 1.3 numbers no must-be-zero error (OVS answers with its Nicira
 * extension NXBRC_MUST_BE_ZERO); the caller passes the nearest standard code for the
 * structure (OFPBRC_BAD_LEN by default, OFPBAC/OFPBIC/OFPBMC_BAD_LEN inside actions,
 * instructions and matches).
 */
export const badPadding = (what: string, offset: number, errType: number = OFPET_BAD_REQUEST, errCode: number = OFPBRC_BAD_LEN): OfpDecodeError =>
  new OfpDecodeError('OFP_BAD_PADDING', `${what} has a non-zero padding byte`, errType, errCode, offset);

export const badString = (msg: string, offset: number): OfpDecodeError =>
  new OfpDecodeError('OFP_BAD_STRING', msg, OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, offset);

export const badVersion = (version: number): OfpDecodeError =>
  new OfpDecodeError(
    'OFP_BAD_VERSION',
    `ofp_header.version ${version} is not 4 (OpenFlow 1.3)`,
    OFPET_BAD_REQUEST,
    OFPBRC_BAD_VERSION,
    0,
  );

/** Hello-failed codes for version negotiation (OF 1.3.5 §6.3.1); the connection layer uses these. */
export const HELLO_INCOMPATIBLE = { errType: OFPET_HELLO_FAILED, errCode: OFPHFC_INCOMPATIBLE } as const;
