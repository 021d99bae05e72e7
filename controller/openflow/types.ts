// The OpenFlow 1.3 message model (OF 1.3.5 spec, ch. 7). This is the contract other
// modules code against: a discriminated union on `type`, camelCase fields, bigint for
// every 64-bit field, Buffer for payload bytes. Anything the codec does not understand
// (unknown message types, OXM/action/instruction/property TLVs) is kept as raw bytes and
// re-encoded byte for byte (STYLE.md practice 2).

// ---------------------------------------------------------------------------
// OXM match fields (OF 1.3.5 §7.2.3.7, OFPXMC_OPENFLOW_BASIC)
// ---------------------------------------------------------------------------

/** Value type of each OXM basic field, keyed by the OXM name (spec name without OFPXMT_OFB_, lowercase). */
export interface OxmValueTypes {
  in_port: number;
  in_phy_port: number;
  metadata: bigint;
  eth_dst: string; // 'aa:bb:cc:dd:ee:ff' lowercase
  eth_src: string;
  eth_type: number;
  vlan_vid: number; // raw wire value including OFPVID_PRESENT (0x1000)
  vlan_pcp: number;
  ip_dscp: number;
  ip_ecn: number;
  ip_proto: number;
  ipv4_src: string; // dotted quad
  ipv4_dst: string;
  tcp_src: number;
  tcp_dst: number;
  udp_src: number;
  udp_dst: number;
  sctp_src: number;
  sctp_dst: number;
  icmpv4_type: number;
  icmpv4_code: number;
  arp_op: number;
  arp_spa: string;
  arp_tpa: string;
  arp_sha: string;
  arp_tha: string;
  ipv6_src: string; // canonical RFC 5952 text
  ipv6_dst: string;
  ipv6_flabel: number;
  icmpv6_type: number;
  icmpv6_code: number;
  ipv6_nd_target: string;
  ipv6_nd_sll: string;
  ipv6_nd_tll: string;
  mpls_label: number;
  mpls_tc: number;
  mpls_bos: number;
  pbb_isid: number; // 24 bits on the wire
  tunnel_id: bigint;
  ipv6_exthdr: number;
}

/** Name of one of the 40 OF1.3 basic OXM fields. */
export type OxmFieldName = keyof OxmValueTypes;

/** A known OXM basic field with its typed value and optional mask (same type as value). */
export type OxmKnown = {
  [K in OxmFieldName]: { field: K; value: OxmValueTypes[K]; mask?: OxmValueTypes[K] };
}[OxmFieldName];

/** An OXM TLV of another class (experimenter, NXM...) or unknown field: the whole TLV, header included. */
export interface OxmUnknown {
  field: 'unknown';
  raw: Buffer;
}

export type Oxm = OxmKnown | OxmUnknown;

/** An ofp_match of type OFPMT_OXM: the list of OXM TLVs in wire order. */
export type Match = Oxm[];

// ---------------------------------------------------------------------------
// Actions (OF 1.3.5 §7.2.5)
// ---------------------------------------------------------------------------

export type Action =
  | { type: 'output'; port: number; maxLen: number }
  | { type: 'copy_ttl_out' }
  | { type: 'copy_ttl_in' }
  | { type: 'set_mpls_ttl'; mplsTtl: number }
  | { type: 'dec_mpls_ttl' }
  | { type: 'push_vlan'; ethertype: number }
  | { type: 'pop_vlan' }
  | { type: 'push_mpls'; ethertype: number }
  | { type: 'pop_mpls'; ethertype: number }
  | { type: 'set_queue'; queueId: number }
  | { type: 'group'; groupId: number }
  | { type: 'set_nw_ttl'; nwTtl: number }
  | { type: 'dec_nw_ttl' }
  | { type: 'set_field'; field: Oxm }
  | { type: 'push_pbb'; ethertype: number }
  | { type: 'pop_pbb' }
  /** ofp_action_experimenter_header; `data` is everything after the 8-byte header (padding included). */
  | { type: 'experimenter'; experimenter: number; data: Buffer }
  /** An action type this codec does not know: the whole TLV. */
  | { type: 'unknown'; raw: Buffer };

export type ActionType = Action['type'];

// ---------------------------------------------------------------------------
// Instructions (OF 1.3.5 §7.2.4)
// ---------------------------------------------------------------------------

export type Instruction =
  | { type: 'goto_table'; tableId: number }
  | { type: 'write_metadata'; metadata: bigint; metadataMask: bigint }
  | { type: 'write_actions'; actions: Action[] }
  | { type: 'apply_actions'; actions: Action[] }
  | { type: 'clear_actions' }
  | { type: 'meter'; meterId: number }
  /** ofp_instruction_experimenter; `data` follows the 8-byte header. */
  | { type: 'experimenter'; experimenter: number; data: Buffer }
  | { type: 'unknown'; raw: Buffer };

export type InstructionType = Instruction['type'];

// ---------------------------------------------------------------------------
// Shared structures
// ---------------------------------------------------------------------------

/** ofp_port (OF 1.3.5 §7.2.1), 64 bytes. */
export interface OfpPort {
  portNo: number;
  hwAddr: string;
  /** Up to 15 characters; NUL padding stripped on decode, added on encode. */
  name: string;
  config: number;
  state: number;
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  currSpeed: number;
  maxSpeed: number;
}

/** ofp_bucket (OF 1.3.5 §7.3.4.2). */
export interface Bucket {
  weight: number;
  watchPort: number;
  watchGroup: number;
  actions: Action[];
}

/** ofp_meter_band_* (OF 1.3.5 §7.3.4.5). */
export type MeterBand =
  | { type: 'drop'; rate: number; burstSize: number }
  | { type: 'dscp_remark'; rate: number; burstSize: number; precLevel: number }
  /** ofp_meter_band_experimenter; `data` follows the 16-byte band header. */
  | { type: 'experimenter'; rate: number; burstSize: number; experimenter: number; data: Buffer }
  | { type: 'unknown'; raw: Buffer };

/** ofp_queue_prop_* (OF 1.3.5 §7.2.2). */
export type QueueProp =
  | { type: 'min_rate'; rate: number }
  | { type: 'max_rate'; rate: number }
  | { type: 'experimenter'; experimenter: number; data: Buffer }
  | { type: 'unknown'; raw: Buffer };

/** ofp_packet_queue (OF 1.3.5 §7.2.2). */
export interface PacketQueue {
  queueId: number;
  port: number;
  properties: QueueProp[];
}

/** ofp_hello_elem_* (OF 1.3.5 §7.5.1). */
export type HelloElement =
  /** OFPHET_VERSIONBITMAP: the versions (ofp_header.version numbers) whose bit is set. */
  | { type: 'versionbitmap'; versions: number[] }
  | { type: 'unknown'; raw: Buffer };

// ---------------------------------------------------------------------------
// Table features (OF 1.3.5 §7.3.5.5)
// ---------------------------------------------------------------------------

/** An instruction or action id in a table feature property: type plus experimenter id when type is 0xffff. */
export interface FeatureTlvId {
  type: number;
  /** Present for experimenter ids (type 0xffff). */
  experimenter?: number;
  /** Bytes after the experimenter id, if the id TLV is longer than its header. */
  data?: Buffer;
}

/**
 * An OXM id in a table feature property: a known field (hasMask = OXM HM bit) or the raw 4/8-byte header.
 * `length` is the header's length byte, present only when it differs from the field's payload
 * length (some peers, e.g. Ryu, send 0 there).
 */
export type OxmId = { field: OxmFieldName; hasMask: boolean; length?: number } | { field: 'unknown'; raw: Buffer };

export type TableFeatureProp =
  | { type: 'instructions' | 'instructions_miss'; instructionIds: FeatureTlvId[] }
  | { type: 'next_tables' | 'next_tables_miss'; tableIds: number[] }
  | {
      type: 'write_actions' | 'write_actions_miss' | 'apply_actions' | 'apply_actions_miss';
      actionIds: FeatureTlvId[];
    }
  | {
      type:
        | 'match'
        | 'wildcards'
        | 'write_setfield'
        | 'write_setfield_miss'
        | 'apply_setfield'
        | 'apply_setfield_miss';
      oxmIds: OxmId[];
    }
  | { type: 'experimenter' | 'experimenter_miss'; experimenter: number; expType: number; data: Buffer }
  | { type: 'unknown'; raw: Buffer };

/** ofp_table_features (OF 1.3.5 §7.3.5.5.1). */
export interface TableFeatures {
  tableId: number;
  /** Up to 31 bytes of UTF-8; NUL padding stripped. */
  name: string;
  metadataMatch: bigint;
  metadataWrite: bigint;
  config: number;
  maxEntries: number;
  properties: TableFeatureProp[];
}

// ---------------------------------------------------------------------------
// Multipart bodies (OF 1.3.5 §7.3.5)
// ---------------------------------------------------------------------------

/** Body of ofp_flow_stats_request / ofp_aggregate_stats_request. */
export interface FlowStatsRequestFields {
  tableId: number;
  outPort: number;
  outGroup: number;
  cookie: bigint;
  cookieMask: bigint;
  match: Match;
}

export type MultipartRequestBody =
  | { mpType: 'desc' }
  | ({ mpType: 'flow' } & FlowStatsRequestFields)
  | ({ mpType: 'aggregate' } & FlowStatsRequestFields)
  | { mpType: 'table' }
  | { mpType: 'port_stats'; portNo: number }
  | { mpType: 'queue'; portNo: number; queueId: number }
  | { mpType: 'group'; groupId: number }
  | { mpType: 'group_desc' }
  | { mpType: 'group_features' }
  | { mpType: 'meter'; meterId: number }
  | { mpType: 'meter_config'; meterId: number }
  | { mpType: 'meter_features' }
  /** An empty `tables` list asks for the current features without changing them. */
  | { mpType: 'table_features'; tables: TableFeatures[] }
  | { mpType: 'port_desc' }
  | { mpType: 'experimenter'; experimenter: number; expType: number; data: Buffer }
  | { mpType: 'unknown'; mpTypeNum: number; data: Buffer };

/** ofp_flow_stats (OF 1.3.5 §7.3.5.2). */
export interface FlowStats {
  tableId: number;
  durationSec: number;
  durationNsec: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  cookie: bigint;
  packetCount: bigint;
  byteCount: bigint;
  match: Match;
  instructions: Instruction[];
}

/** ofp_table_stats (OF 1.3.5 §7.3.5.4). */
export interface TableStats {
  tableId: number;
  activeCount: number;
  lookupCount: bigint;
  matchedCount: bigint;
}

/** ofp_port_stats (OF 1.3.5 §7.3.5.6). */
export interface PortStats {
  portNo: number;
  rxPackets: bigint;
  txPackets: bigint;
  rxBytes: bigint;
  txBytes: bigint;
  rxDropped: bigint;
  txDropped: bigint;
  rxErrors: bigint;
  txErrors: bigint;
  rxFrameErr: bigint;
  rxOverErr: bigint;
  rxCrcErr: bigint;
  collisions: bigint;
  durationSec: number;
  durationNsec: number;
}

/** ofp_queue_stats (OF 1.3.5 §7.3.5.8). */
export interface QueueStats {
  portNo: number;
  queueId: number;
  txBytes: bigint;
  txPackets: bigint;
  txErrors: bigint;
  durationSec: number;
  durationNsec: number;
}

/** ofp_group_stats (OF 1.3.5 §7.3.5.9). */
export interface GroupStats {
  groupId: number;
  refCount: number;
  packetCount: bigint;
  byteCount: bigint;
  durationSec: number;
  durationNsec: number;
  bucketStats: { packetCount: bigint; byteCount: bigint }[];
}

/** ofp_group_desc (OF 1.3.5 §7.3.5.10). */
export interface GroupDesc {
  groupType: number;
  groupId: number;
  buckets: Bucket[];
}

/** ofp_meter_stats (OF 1.3.5 §7.3.5.12). */
export interface MeterStats {
  meterId: number;
  flowCount: number;
  packetInCount: bigint;
  byteInCount: bigint;
  durationSec: number;
  durationNsec: number;
  bandStats: { packetBandCount: bigint; byteBandCount: bigint }[];
}

/** ofp_meter_config (OF 1.3.5 §7.3.5.13). */
export interface MeterConfig {
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

export type MultipartReplyBody =
  | { mpType: 'desc'; mfrDesc: string; hwDesc: string; swDesc: string; serialNum: string; dpDesc: string }
  | { mpType: 'flow'; stats: FlowStats[] }
  | { mpType: 'aggregate'; packetCount: bigint; byteCount: bigint; flowCount: number }
  | { mpType: 'table'; stats: TableStats[] }
  | { mpType: 'port_stats'; stats: PortStats[] }
  | { mpType: 'queue'; stats: QueueStats[] }
  | { mpType: 'group'; stats: GroupStats[] }
  | { mpType: 'group_desc'; groups: GroupDesc[] }
  | {
      mpType: 'group_features';
      types: number;
      capabilities: number;
      /** Indexed by group type (all, select, indirect, ff). */
      maxGroups: [number, number, number, number];
      /** Bitmaps of OFPAT_* supported, indexed by group type. */
      actions: [number, number, number, number];
    }
  | { mpType: 'meter'; stats: MeterStats[] }
  | { mpType: 'meter_config'; configs: MeterConfig[] }
  | {
      mpType: 'meter_features';
      maxMeter: number;
      bandTypes: number;
      capabilities: number;
      maxBands: number;
      maxColor: number;
    }
  | { mpType: 'table_features'; tables: TableFeatures[] }
  | { mpType: 'port_desc'; ports: OfpPort[] }
  | { mpType: 'experimenter'; experimenter: number; expType: number; data: Buffer }
  | { mpType: 'unknown'; mpTypeNum: number; data: Buffer };

export type MultipartType = MultipartRequestBody['mpType'];

// ---------------------------------------------------------------------------
// Messages (OF 1.3.5 §7.1 ofp_header; every message carries xid)
// ---------------------------------------------------------------------------

/** Async-config masks: index 0 = master/equal role, index 1 = slave role (OF 1.3.5 §7.3.10). */
export type AsyncMaskPair = [number, number];

export interface AsyncConfigFields {
  packetInMask: AsyncMaskPair;
  portStatusMask: AsyncMaskPair;
  flowRemovedMask: AsyncMaskPair;
}

export type HelloMsg = {
  type: 'hello';
  xid: number;
  /** ofp_header.version of the hello; decode keeps the peer's, encode defaults to 4 (OF 1.3.5 §6.3.1). */
  version?: number;
  elements: HelloElement[];
};

/** OFPT_ERROR with a standard type (OF 1.3.5 §7.4.4). `data` is usually the start of the offending message. */
export interface ErrorMsg {
  type: 'error';
  xid: number;
  errType: number;
  code: number;
  data: Buffer;
}

/** OFPT_ERROR with type OFPET_EXPERIMENTER (0xffff): ofp_error_experimenter_msg. */
export interface ErrorExperimenterMsg {
  type: 'error';
  xid: number;
  errType: 0xffff;
  expType: number;
  experimenter: number;
  data: Buffer;
}

export type OfpMessage =
  | HelloMsg
  | ErrorMsg
  | ErrorExperimenterMsg
  | { type: 'echo_request'; xid: number; data: Buffer }
  | { type: 'echo_reply'; xid: number; data: Buffer }
  | { type: 'experimenter'; xid: number; experimenter: number; expType: number; data: Buffer }
  | { type: 'features_request'; xid: number }
  | {
      type: 'features_reply';
      xid: number;
      datapathId: bigint;
      nBuffers: number;
      nTables: number;
      auxiliaryId: number;
      capabilities: number;
      reserved: number;
    }
  | { type: 'get_config_request'; xid: number }
  | { type: 'get_config_reply'; xid: number; flags: number; missSendLen: number }
  | { type: 'set_config'; xid: number; flags: number; missSendLen: number }
  | {
      type: 'packet_in';
      xid: number;
      bufferId: number;
      totalLen: number;
      reason: number;
      tableId: number;
      cookie: bigint;
      match: Match;
      /** A view into the received frame (no copy): copy it if you keep it past the frame's lifetime. */
      data: Buffer;
    }
  | {
      type: 'flow_removed';
      xid: number;
      cookie: bigint;
      priority: number;
      reason: number;
      tableId: number;
      durationSec: number;
      durationNsec: number;
      idleTimeout: number;
      hardTimeout: number;
      packetCount: bigint;
      byteCount: bigint;
      match: Match;
    }
  | { type: 'port_status'; xid: number; reason: number; desc: OfpPort }
  | { type: 'packet_out'; xid: number; bufferId: number; inPort: number; actions: Action[]; data: Buffer }
  | {
      type: 'flow_mod';
      xid: number;
      cookie: bigint;
      cookieMask: bigint;
      tableId: number;
      command: number;
      idleTimeout: number;
      hardTimeout: number;
      priority: number;
      bufferId: number;
      outPort: number;
      outGroup: number;
      flags: number;
      match: Match;
      instructions: Instruction[];
    }
  | { type: 'group_mod'; xid: number; command: number; groupType: number; groupId: number; buckets: Bucket[] }
  | { type: 'port_mod'; xid: number; portNo: number; hwAddr: string; config: number; mask: number; advertise: number }
  | { type: 'table_mod'; xid: number; tableId: number; config: number }
  | { type: 'multipart_request'; xid: number; flags: number; body: MultipartRequestBody }
  | { type: 'multipart_reply'; xid: number; flags: number; body: MultipartReplyBody }
  | { type: 'barrier_request'; xid: number }
  | { type: 'barrier_reply'; xid: number }
  | { type: 'queue_get_config_request'; xid: number; port: number }
  | { type: 'queue_get_config_reply'; xid: number; port: number; queues: PacketQueue[] }
  | { type: 'role_request'; xid: number; role: number; generationId: bigint }
  | { type: 'role_reply'; xid: number; role: number; generationId: bigint }
  | { type: 'get_async_request'; xid: number }
  | ({ type: 'get_async_reply'; xid: number } & AsyncConfigFields)
  | ({ type: 'set_async'; xid: number } & AsyncConfigFields)
  | { type: 'meter_mod'; xid: number; command: number; flags: number; meterId: number; bands: MeterBand[] }
  /** A message type this codec does not know: header fields plus the body after the 8-byte header. */
  | { type: 'unknown'; version: number; msgType: number; xid: number; body: Buffer };

export type OfpMessageType = OfpMessage['type'];

/** The message variant with the given `type`. */
export type MessageOf<T extends OfpMessageType> = Extract<OfpMessage, { type: T }>;

/** Multipart request/reply bodies narrowed by mpType. */
export type MultipartRequestOf<T extends MultipartType> = Extract<MultipartRequestBody, { mpType: T }>;
export type MultipartReplyOf<T extends MultipartType> = Extract<MultipartReplyBody, { mpType: T }>;
