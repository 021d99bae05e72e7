/**
 * libvirt's RPC wire format (src/rpc/virnetprotocol.x, src/rpc/virkeepaliveprotocol.x)
 * and the few procedures of src/remote/remote_protocol.x that the parking engine needs.
 * No I/O: a chunk-fed framer, packet encode/decode and per-procedure codecs.
 *
 * Packet = 4-byte length (counting itself) + 24-byte header + XDR payload:
 *   header { unsigned prog; unsigned vers; int proc; int type; unsigned serial; int status }
 */
import { XdrError, XdrReader, XdrWriter } from './xdr.js';

export const REMOTE_PROGRAM = 0x20008086;
export const REMOTE_PROTOCOL_VERSION = 1;
/** "keep": virkeepaliveprotocol.x */
export const KEEPALIVE_PROGRAM = 0x6b656570;
export const KEEPALIVE_PROTOCOL_VERSION = 1;
export const KEEPALIVE_PROC_PING = 1;
export const KEEPALIVE_PROC_PONG = 2;

/** VIR_NET_MESSAGE_MAX: header + payload, excluding the length word (libvirt >= 6.x). */
export const MESSAGE_MAX = 33_554_432;
export const LEN_WORD = 4;
export const HEADER_LEN = 24;
/** REMOTE_STRING_MAX: libvirt's bound on a remote_nonnull_string. */
export const REMOTE_STRING_MAX = 4_194_304;
export const VIR_UUID_BUFLEN = 16;

/** enum virNetMessageType */
export const MessageType = {
  CALL: 0,
  REPLY: 1,
  MESSAGE: 2,
  STREAM: 3,
  CALL_WITH_FDS: 4,
  REPLY_WITH_FDS: 5,
  STREAM_HOLE: 6,
} as const;

/** enum virNetMessageStatus */
export const MessageStatus = { OK: 0, ERROR: 1, CONTINUE: 2 } as const;

/** enum remote_procedure: only the numbers we use (libvirt never renumbers them). */
export const Proc = {
  CONNECT_OPEN: 1,
  CONNECT_CLOSE: 2,
  CONNECT_GET_LIB_VERSION: 157,
  DOMAIN_MEMORY_STATS: 159,
  DOMAIN_CREATE: 9,
  DOMAIN_DEFINE_XML: 11,
  DOMAIN_DESTROY: 12,
  DOMAIN_LOOKUP_BY_NAME: 23,
  DOMAIN_RESUME: 28,
  DOMAIN_SHUTDOWN: 33,
  DOMAIN_SUSPEND: 34,
  AUTH_LIST: 66,
  AUTH_POLKIT: 70,
  DOMAIN_MANAGED_SAVE: 182,
  DOMAIN_HAS_MANAGED_SAVE_IMAGE: 183,
  DOMAIN_MANAGED_SAVE_REMOVE: 184,
  DOMAIN_CREATE_WITH_FLAGS: 196,
  DOMAIN_SET_MEMORY_PARAMETERS: 197,
  DOMAIN_GET_STATE: 212,
  DOMAIN_UNDEFINE_FLAGS: 231,
  CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: 316,
  CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY: 317,
  DOMAIN_EVENT_CALLBACK_LIFECYCLE: 318,
} as const;

/** enum remote_auth_type */
export const AuthType = { NONE: 0, SASL: 1, POLKIT: 2 } as const;

export interface PacketHeader {
  prog: number;
  vers: number;
  proc: number;
  type: number;
  serial: number;
  status: number;
}

export interface Packet {
  header: PacketHeader;
  /** XDR payload after the header. */
  payload: Buffer;
}

/** A violation of the framing or header rules: fatal for the connection. */
export class ProtocolError extends Error {
  readonly code = 'LIBVIRT_PROTOCOL';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProtocolError';
  }
}

/** Encodes one packet: length word, header, payload. */
export function encodePacket(header: PacketHeader, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const total = LEN_WORD + HEADER_LEN + payload.length;
  if (total - LEN_WORD > MESSAGE_MAX) throw new ProtocolError(`packet of ${total} bytes exceeds VIR_NET_MESSAGE_MAX`);
  const w = new XdrWriter(total);
  w.uint(total).uint(header.prog).uint(header.vers).int(header.proc).int(header.type).uint(header.serial).int(header.status);
  const out = w.toBuffer();
  return payload.length === 0 ? out : Buffer.concat([out, payload], total);
}

/** Decodes one whole packet (length word included). */
export function decodePacket(buf: Buffer): Packet {
  if (buf.length < LEN_WORD + HEADER_LEN) throw new ProtocolError(`packet of ${buf.length} bytes is shorter than its header`);
  const r = new XdrReader(buf);
  const len = r.uint();
  if (len !== buf.length) throw new ProtocolError(`length word says ${len} bytes, packet has ${buf.length}`);
  const header: PacketHeader = {
    prog: r.uint(),
    vers: r.uint(),
    proc: r.int(),
    type: r.int(),
    serial: r.uint(),
    status: r.int(),
  };
  return { header, payload: buf.subarray(LEN_WORD + HEADER_LEN) };
}

/**
 * Splits a byte stream into packets. The length word is checked against
 * VIR_NET_MESSAGE_MAX before anything is buffered for it.
 */
export class PacketFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Feeds bytes; returns every packet now complete (possibly none). Throws ProtocolError on a bad length. */
  push(chunk: Buffer): Packet[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Packet[] = [];
    for (;;) {
      if (this.buffered < LEN_WORD) break;
      const head = this.peek(LEN_WORD);
      const len = head.readUInt32BE(0);
      if (len < LEN_WORD + HEADER_LEN) throw new ProtocolError(`packet length ${len} is shorter than the ${LEN_WORD + HEADER_LEN}-byte header`);
      if (len - LEN_WORD > MESSAGE_MAX) throw new ProtocolError(`packet length ${len} exceeds VIR_NET_MESSAGE_MAX (${MESSAGE_MAX})`);
      if (this.buffered < len) break;
      out.push(decodePacket(this.take(len)));
    }
    return out;
  }

  /** Bytes held for an incomplete packet. */
  get pending(): number {
    return this.buffered;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const pkt = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return pkt;
  }
}

// ---- remote_protocol.x types ----

/** struct remote_nonnull_domain { remote_nonnull_string name; remote_uuid uuid; int id; } */
export interface RemoteDomain {
  name: string;
  uuid: Buffer;
  /** -1 when the domain is not running. */
  id: number;
}

export function writeDomain(w: XdrWriter, d: RemoteDomain): void {
  w.string(d.name, REMOTE_STRING_MAX).fixedOpaque(d.uuid, VIR_UUID_BUFLEN).int(d.id);
}

export function readDomain(r: XdrReader): RemoteDomain {
  return { name: r.string(REMOTE_STRING_MAX), uuid: r.fixedOpaque(VIR_UUID_BUFLEN), id: r.int() };
}

/** struct remote_error (virNetMessageError): see virterror.h for the fields. */
export interface RemoteError {
  code: number;
  domain: number;
  message: string | null;
  level: number;
  dom: RemoteDomain | null;
  str1: string | null;
  str2: string | null;
  str3: string | null;
  int1: number;
  int2: number;
  /** remote_network: name + uuid when present. */
  net: { name: string; uuid: Buffer } | null;
}

export function readError(buf: Buffer): RemoteError {
  const r = new XdrReader(buf);
  const str = (): string | null => r.optional((x) => x.string(REMOTE_STRING_MAX));
  return {
    code: r.int(),
    domain: r.int(),
    message: str(),
    level: r.int(),
    dom: r.optional(readDomain),
    str1: str(),
    str2: str(),
    str3: str(),
    int1: r.int(),
    int2: r.int(),
    net: r.optional((x) => ({ name: x.string(REMOTE_STRING_MAX), uuid: x.fixedOpaque(VIR_UUID_BUFLEN) })),
  };
}

export function writeError(e: RemoteError): Buffer {
  const w = new XdrWriter();
  const str = (s: string | null): void => {
    w.optional(s, (x, v) => x.string(v));
  };
  w.int(e.code).int(e.domain);
  str(e.message);
  w.int(e.level);
  w.optional(e.dom, (x, d) => writeDomain(x, d));
  str(e.str1);
  str(e.str2);
  str(e.str3);
  w.int(e.int1).int(e.int2);
  w.optional(e.net, (x, n) => x.string(n.name).fixedOpaque(n.uuid, VIR_UUID_BUFLEN));
  return w.toBuffer();
}

// ---- per-procedure args / ret ----

/** remote_connect_open_args { remote_string name; unsigned int flags; } */
export function encodeOpenArgs(uri: string | null, flags = 0): Buffer {
  return new XdrWriter().optional(uri, (w, s) => w.string(s, REMOTE_STRING_MAX)).uint(flags).toBuffer();
}

/** remote_auth_list_ret { remote_auth_type types<REMOTE_AUTH_TYPE_LIST_MAX>; } */
export function decodeAuthListRet(buf: Buffer): number[] {
  const r = new XdrReader(buf);
  const n = r.uint();
  if (n > 20) throw new XdrError(`auth list of ${n} entries exceeds REMOTE_AUTH_TYPE_LIST_MAX`);
  const out: number[] = [];
  for (let i = 0; i < n; i += 1) out.push(r.int());
  r.end('auth_list_ret');
  return out;
}

/** remote_auth_polkit_ret { int complete; } */
export function decodeAuthPolkitRet(buf: Buffer): boolean {
  const r = new XdrReader(buf);
  const complete = r.int();
  r.end('auth_polkit_ret');
  return complete !== 0;
}

/** remote_domain_lookup_by_name_args { remote_nonnull_string name; } */
export function encodeLookupByNameArgs(name: string): Buffer {
  return new XdrWriter().string(name, REMOTE_STRING_MAX).toBuffer();
}

/** *_ret { remote_nonnull_domain dom; } (lookup_by_name, define_xml, create_with_flags) */
export function decodeDomainRet(buf: Buffer, what: string): RemoteDomain {
  const r = new XdrReader(buf);
  const d = readDomain(r);
  r.end(what);
  return d;
}

/** args { remote_nonnull_domain dom; } (suspend, resume, create, shutdown, destroy) */
export function encodeDomainArgs(d: RemoteDomain): Buffer {
  const w = new XdrWriter();
  writeDomain(w, d);
  return w.toBuffer();
}

/** args { remote_nonnull_domain dom; unsigned int flags; } (get_state, managed_save, has_managed_save_image, create_with_flags, undefine_flags) */
export function encodeDomainFlagsArgs(d: RemoteDomain, flags: number): Buffer {
  const w = new XdrWriter();
  writeDomain(w, d);
  w.uint(flags);
  return w.toBuffer();
}

/** REMOTE_DOMAIN_MEMORY_STATS_MAX: the most stats one reply may carry. */
export const REMOTE_DOMAIN_MEMORY_STATS_MAX = 1024;

/** enum virDomainMemoryStatTags, by tag number (values in KiB, except the counters and last_update). */
export const MEMORY_STAT_TAGS = [
  'swap_in',
  'swap_out',
  'major_fault',
  'minor_fault',
  'unused',
  'available',
  'actual_balloon',
  'rss',
  'usable',
  'last_update',
  'disk_caches',
  'hugetlb_pgalloc',
  'hugetlb_pgfail',
] as const;

/** remote_domain_memory_stats_args { remote_nonnull_domain dom; unsigned int maxStats; unsigned int flags; } */
export function encodeMemoryStatsArgs(d: RemoteDomain, maxStats: number, flags = 0): Buffer {
  const w = new XdrWriter();
  writeDomain(w, d);
  w.uint(maxStats);
  w.uint(flags);
  return w.toBuffer();
}

/**
 * remote_domain_memory_stats_ret { remote_domain_memory_stat stats<REMOTE_DOMAIN_MEMORY_STATS_MAX>; },
 * each { int tag; unsigned hyper val; }. Tags newer than MEMORY_STAT_TAGS are named `tag_N`.
 */
export function decodeMemoryStatsRet(buf: Buffer): Map<string, bigint> {
  const r = new XdrReader(buf);
  const n = r.uint();
  if (n > REMOTE_DOMAIN_MEMORY_STATS_MAX) throw new ProtocolError(`domain_memory_stats_ret: ${n} stats, more than ${REMOTE_DOMAIN_MEMORY_STATS_MAX}`);
  const out = new Map<string, bigint>();
  for (let i = 0; i < n; i++) {
    const tag = r.int();
    out.set(MEMORY_STAT_TAGS[tag] ?? `tag_${tag}`, r.uhyper());
  }
  r.end('domain_memory_stats_ret');
  return out;
}

/** REMOTE_DOMAIN_MEMORY_PARAMETERS_MAX: the most typed params one set_memory_parameters call may carry. */
export const REMOTE_DOMAIN_MEMORY_PARAMETERS_MAX = 16;
/** VIR_TYPED_PARAM_FIELD_LENGTH: a typed param's name, NUL included. */
export const VIR_TYPED_PARAM_FIELD_LENGTH = 80;

/** virTypedParameterType: the arms of remote_typed_param_value this client writes. */
export const TypedParamType = { INT: 1, UINT: 2, LLONG: 3, ULLONG: 4, DOUBLE: 5, BOOLEAN: 6, STRING: 7 } as const;

/** A typed parameter (virTypedParameter) with a 64-bit unsigned value: all memtune fields are ULLONG (KiB). */
export interface ULLongParam {
  readonly field: string;
  readonly value: bigint;
}

/** VIR_DOMAIN_MEMORY_PARAM_UNLIMITED: VIR_DOMAIN_MEMORY_PARAM_UNLIMITED = 2^53 - 1 KiB, "no limit". */
export const VIR_DOMAIN_MEMORY_PARAM_UNLIMITED = 9_007_199_254_740_991n;
/** VIR_DOMAIN_AFFECT_LIVE: change the running domain only, never its persistent definition. */
export const VIR_DOMAIN_AFFECT_LIVE = 1;

/**
 * remote_domain_set_memory_parameters_args { remote_nonnull_domain dom;
 * remote_typed_param params<REMOTE_DOMAIN_MEMORY_PARAMETERS_MAX>; unsigned int flags; },
 * remote_typed_param { remote_nonnull_string field; remote_typed_param_value value; },
 * the value a union switch (int type) whose ULLONG arm is an unsigned hyper.
 */
export function encodeSetMemoryParametersArgs(d: RemoteDomain, params: readonly ULLongParam[], flags: number): Buffer {
  if (params.length > REMOTE_DOMAIN_MEMORY_PARAMETERS_MAX) {
    throw new ProtocolError(`set_memory_parameters: ${params.length} params, more than ${REMOTE_DOMAIN_MEMORY_PARAMETERS_MAX}`);
  }
  const w = new XdrWriter();
  writeDomain(w, d);
  w.uint(params.length);
  for (const p of params) {
    if (Buffer.byteLength(p.field) >= VIR_TYPED_PARAM_FIELD_LENGTH) throw new ProtocolError(`typed param name "${p.field}" is longer than ${VIR_TYPED_PARAM_FIELD_LENGTH - 1} bytes`);
    w.string(p.field, REMOTE_STRING_MAX);
    w.int(TypedParamType.ULLONG);
    w.uhyper(p.value);
  }
  w.uint(flags);
  return w.toBuffer();
}

/** The inverse of encodeSetMemoryParametersArgs (the fake daemon of the unit tests decodes what we send). */
export function decodeSetMemoryParametersArgs(buf: Buffer): { dom: RemoteDomain; params: ULLongParam[]; flags: number } {
  const r = new XdrReader(buf);
  const dom = readDomain(r);
  const n = r.uint();
  if (n > REMOTE_DOMAIN_MEMORY_PARAMETERS_MAX) throw new ProtocolError(`set_memory_parameters: ${n} params, more than ${REMOTE_DOMAIN_MEMORY_PARAMETERS_MAX}`);
  const params: ULLongParam[] = [];
  for (let i = 0; i < n; i++) {
    const field = r.string(REMOTE_STRING_MAX);
    const type = r.int();
    if (type !== TypedParamType.ULLONG) throw new ProtocolError(`set_memory_parameters: param ${field} has type ${type}, expected ULLONG (${TypedParamType.ULLONG})`);
    params.push({ field, value: r.uhyper() });
  }
  const flags = r.uint();
  r.end('domain_set_memory_parameters_args');
  return { dom, params, flags };
}

/** remote_domain_get_state_ret { int state; int reason; } */
export function decodeGetStateRet(buf: Buffer): { state: number; reason: number } {
  const r = new XdrReader(buf);
  const out = { state: r.int(), reason: r.int() };
  r.end('domain_get_state_ret');
  return out;
}

/** remote_domain_has_managed_save_image_ret { int result; } */
export function decodeIntRet(buf: Buffer, what: string): number {
  const r = new XdrReader(buf);
  const v = r.int();
  r.end(what);
  return v;
}

/** remote_domain_define_xml_args { remote_nonnull_string xml; } */
export function encodeDefineXmlArgs(xml: string): Buffer {
  return new XdrWriter().string(xml, REMOTE_STRING_MAX).toBuffer();
}

/** remote_connect_domain_event_callback_register_any_args { int eventID; remote_domain dom; } */
export function encodeEventRegisterArgs(eventID: number, dom: RemoteDomain | null): Buffer {
  return new XdrWriter()
    .int(eventID)
    .optional(dom, (w, d) => writeDomain(w, d))
    .toBuffer();
}

/** remote_connect_domain_event_callback_deregister_any_args { int callbackID; } */
export function encodeIntArgs(v: number): Buffer {
  return new XdrWriter().int(v).toBuffer();
}

/** remote_domain_event_callback_lifecycle_msg { int callbackID; remote_domain_event_lifecycle_msg msg { dom; int event; int detail; } } */
export interface LifecycleMsg {
  callbackID: number;
  dom: RemoteDomain;
  event: number;
  detail: number;
}

export function decodeLifecycleMsg(buf: Buffer): LifecycleMsg {
  const r = new XdrReader(buf);
  const out = { callbackID: r.int(), dom: readDomain(r), event: r.int(), detail: r.int() };
  r.end('domain_event_callback_lifecycle_msg');
  return out;
}

export function encodeLifecycleMsg(m: LifecycleMsg): Buffer {
  const w = new XdrWriter();
  w.int(m.callbackID);
  writeDomain(w, m.dom);
  w.int(m.event).int(m.detail);
  return w.toBuffer();
}

// ---- enums from libvirt-domain.h / virterror.h ----

/** virErrorNumber values we map to stable codes. */
export const VirErr = {
  INTERNAL_ERROR: 1,
  NO_CONNECT: 5,
  OPERATION_FAILED: 9,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  OPERATION_INVALID: 55,
  OPERATION_TIMEOUT: 68,
  AUTH_FAILED: 45,
  OPERATION_DENIED: 29,
} as const;

/** virDomainState */
export const VirDomainState = {
  NOSTATE: 0,
  RUNNING: 1,
  BLOCKED: 2,
  PAUSED: 3,
  SHUTDOWN: 4,
  SHUTOFF: 5,
  CRASHED: 6,
  PMSUSPENDED: 7,
} as const;

/** VIR_DOMAIN_SAVE_RUNNING: restore into running state whatever the state at save time. */
export const VIR_DOMAIN_SAVE_RUNNING = 2;
/** VIR_DOMAIN_UNDEFINE_MANAGED_SAVE: also remove the managed save image. */
export const VIR_DOMAIN_UNDEFINE_MANAGED_SAVE = 1;
/** VIR_DOMAIN_EVENT_ID_LIFECYCLE */
export const VIR_DOMAIN_EVENT_ID_LIFECYCLE = 0;

/** virDomainEventType names, indexed by value. */
export const LIFECYCLE_EVENTS = [
  'defined', 'undefined', 'started', 'suspended', 'resumed', 'stopped', 'shutdown', 'pmsuspended', 'crashed',
] as const;

/** Detail names per event type (virDomainEvent*DetailType), indexed by value. */
export const LIFECYCLE_DETAILS: readonly (readonly string[])[] = [
  ['added', 'updated', 'renamed', 'from_snapshot'],
  ['removed', 'renamed'],
  ['booted', 'migrated', 'restored', 'from_snapshot', 'wakeup'],
  ['paused', 'migrated', 'ioerror', 'watchdog', 'restored', 'from_snapshot', 'api_error', 'postcopy', 'postcopy_failed'],
  ['unpaused', 'migrated', 'from_snapshot', 'postcopy', 'postcopy_failed'],
  ['shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'from_snapshot'],
  ['finished', 'guest', 'host'],
  ['memory', 'disk'],
  ['panicked', 'crashloaded'],
];

/** Names a lifecycle event and its detail; unknown numbers become 'event-N' / 'detail-N' rather than failing. */
export function lifecycleNames(event: number, detail: number): { event: string; detail: string } {
  return {
    event: LIFECYCLE_EVENTS[event] ?? `event-${event}`,
    detail: LIFECYCLE_DETAILS[event]?.[detail] ?? `detail-${detail}`,
  };
}
