// Loads the OF1.3 test vectors (Ryu's test suite, ../shared/vectors/openflow13 beside the
// clone) and maps Ryu's JSON decoding of each into our message model, so a test can
// deepEqual it against decode(). Every Ryu key must be consumed by the mapper (an unused
// key fails the mapping); Ryu's length fields, which our model computes instead of
// storing, are returned as explicit checks against our size functions.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { actionSize, actionsSize, instructionSize } from '../../controller/openflow/actions.js';
import { matchLength, oxmSize, writeOxm } from '../../controller/openflow/oxm.js';
import { propLength, tableFeaturesListSize } from '../../controller/openflow/multipart.js';
import { bandSize, bandsSize, bucketsSize, queuesSize } from '../../controller/openflow/structs.js';
import type {
  Action,
  Bucket,
  FeatureTlvId,
  HelloElement,
  Instruction,
  Match,
  MeterBand,
  OfpMessage,
  OfpPort,
  Oxm,
  OxmId,
  PacketQueue,
  QueueProp,
  TableFeatureProp,
  TableFeatures,
} from '../../controller/openflow/types.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (test/support/../..). */
export const REPO_ROOT = resolve(here, '..', '..');
/** `<repo>/../shared/vectors/openflow13`. */
export const VECTOR_DIR = resolve(REPO_ROOT, '..', 'shared', 'vectors', 'openflow13');

export interface Vector {
  name: string;
  bytes: Buffer;
  /** Ryu's JSON, with integers too large for a double kept as decimal strings. */
  ryu: unknown;
}

/** Parses JSON keeping integers of 16+ digits as strings, so 64-bit values stay exact. */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(text.replace(/([:[,]\s*)(\d{16,})(?=\s*[,\]}])/g, '$1"$2"'));
}

export function loadVectors(): Vector[] {
  return readdirSync(VECTOR_DIR)
    .filter((f) => f.endsWith('.packet'))
    .sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]))
    .map((f) => ({
      name: f,
      bytes: readFileSync(resolve(VECTOR_DIR, f)),
      ryu: parseJsonExact(readFileSync(resolve(VECTOR_DIR, `${f}.json`), 'utf8')),
    }));
}

/** A Ryu length field and the length our size functions compute for the mapped object. */
export interface LengthCheck {
  path: string;
  ryu: number;
  ours: number;
}

export interface Mapped {
  /** Ryu's class name of the message, e.g. OFPFlowMod. */
  cls: string;
  expected: OfpMessage;
  lengths: LengthCheck[];
}

// ---------------------------------------------------------------------------
// Strict accessor over one Ryu object: every key must be read, or done() throws.
// ---------------------------------------------------------------------------

class R {
  private readonly used = new Set<string>();
  constructor(
    readonly cls: string,
    private readonly o: Record<string, unknown>,
    readonly path: string,
  ) {}
  has(k: string): boolean {
    return k in this.o;
  }
  raw(k: string): unknown {
    if (!(k in this.o)) throw new Error(`${this.path}: Ryu ${this.cls} has no key '${k}'`);
    this.used.add(k);
    return this.o[k];
  }
  num(k: string): number {
    const v = this.raw(k);
    if (typeof v !== 'number') throw new Error(`${this.path}.${k}: expected a number, got ${JSON.stringify(v)}`);
    return v;
  }
  big(k: string): bigint {
    const v = this.raw(k);
    if (typeof v === 'number' || typeof v === 'string') return BigInt(v);
    throw new Error(`${this.path}.${k}: expected an integer`);
  }
  str(k: string): string {
    const v = this.raw(k);
    if (typeof v !== 'string') throw new Error(`${this.path}.${k}: expected a string`);
    return v;
  }
  b64(k: string): Buffer {
    return Buffer.from(this.str(k), 'base64');
  }
  list(k: string): unknown[] {
    const v = this.raw(k);
    if (!Array.isArray(v)) throw new Error(`${this.path}.${k}: expected a list`);
    return v;
  }
  /** Marks a key as consumed without reading it (only for keys checked some other way). */
  skip(k: string): void {
    this.raw(k);
  }
  done(): void {
    const left = Object.keys(this.o).filter((k) => !this.used.has(k));
    if (left.length > 0) throw new Error(`${this.path}: unmapped Ryu ${this.cls} keys: ${left.join(', ')}`);
  }
}

/** Unwraps Ryu's `{ClassName: {...}}` form. */
function unwrap(v: unknown, path: string): R {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${path}: expected {Class: {...}}`);
  const keys = Object.keys(v);
  if (keys.length !== 1) throw new Error(`${path}: expected one class key, got ${keys.join(',')}`);
  const cls = keys[0]!;
  const inner = (v as Record<string, unknown>)[cls];
  if (inner === null || typeof inner !== 'object') throw new Error(`${path}: ${cls} body is not an object`);
  return new R(cls, inner as Record<string, unknown>, `${path}.${cls}`);
}

/** Runs f on the unwrapped object and checks every key was consumed. */
function each<T>(list: unknown[], path: string, f: (r: R) => T): T[] {
  return list.map((v, i) => {
    const r = unwrap(v, `${path}[${i}]`);
    const out = f(r);
    r.done();
    return out;
  });
}

function one<T>(v: unknown, path: string, f: (r: R) => T): T {
  return each([v], path, f)[0]!;
}

// ---------------------------------------------------------------------------
// The mapper
// ---------------------------------------------------------------------------

// Ryu's names for OXM fields outside OFPXMC_OPENFLOW_BASIC that appear in the vectors; our
// model keeps those as raw TLVs, so the mapper builds the raw bytes.
// tun_ipv4_src/dst are NXM_NX_TUN_IPV4_SRC/DST (class 0x0001, fields 31/32, 4 bytes);
// pbb_uca is ONF's OF1.3 extension (experimenter class, ONF id 0x4f4e4600, exp type 2560, 1 byte).
function extensionOxm(name: string, value: unknown): Buffer | null {
  const ipv4 = (s: unknown): number[] => String(s).split('.').map(Number);
  switch (name) {
    case 'tun_ipv4_src':
      return Buffer.from([0x00, 0x01, 31 << 1, 4, ...ipv4(value)]);
    case 'tun_ipv4_dst':
      return Buffer.from([0x00, 0x01, 32 << 1, 4, ...ipv4(value)]);
    case 'pbb_uca':
      return Buffer.from([0xff, 0xff, 0x00, 7, 0x4f, 0x4e, 0x46, 0x00, 0x0a, 0x00, Number(value)]);
    default:
      return null;
  }
}

const BIG_OXM = new Set(['metadata', 'tunnel_id']);

const MP_TYPES = [
  'desc',
  'flow',
  'aggregate',
  'table',
  'port_stats',
  'queue',
  'group',
  'group_desc',
  'group_features',
  'meter',
  'meter_config',
  'meter_features',
  'table_features',
  'port_desc',
] as const;

const PROP_TYPES: Record<number, string> = {
  0: 'instructions',
  1: 'instructions_miss',
  2: 'next_tables',
  3: 'next_tables_miss',
  4: 'write_actions',
  5: 'write_actions_miss',
  6: 'apply_actions',
  7: 'apply_actions_miss',
  8: 'match',
  10: 'wildcards',
  12: 'write_setfield',
  13: 'write_setfield_miss',
  14: 'apply_setfield',
  15: 'apply_setfield_miss',
  0xfffe: 'experimenter',
  0xffff: 'experimenter_miss',
};

const padded8 = (n: number): number => (n + 7) & ~7;

class Mapper {
  readonly lengths: LengthCheck[] = [];

  len(path: string, ryu: number, ours: number): void {
    this.lengths.push({ path, ryu, ours });
  }

  oxm(r: R): Oxm {
    const field = r.str('field');
    const rv = r.raw('value');
    const rm = r.raw('mask');
    const ext = extensionOxm(field, rv);
    if (ext !== null) {
      if (rm !== null) throw new Error(`${r.path}: masked extension OXM not mapped`);
      return { field: 'unknown', raw: ext };
    }
    const conv = (v: unknown): unknown => (BIG_OXM.has(field) ? BigInt(v as number | string) : v);
    const x: Record<string, unknown> = { field, value: conv(rv) };
    if (rm !== null) x['mask'] = conv(rm);
    return x as unknown as Oxm;
  }

  match(v: unknown, path: string): Match {
    return one(v, path, (r) => {
      if (r.cls !== 'OFPMatch') throw new Error(`${r.path}: expected OFPMatch`);
      if (r.num('type') !== 1) throw new Error(`${r.path}: match type is not OFPMT_OXM`);
      const m = each(r.list('oxm_fields'), `${r.path}.oxm_fields`, (x) => this.oxm(x));
      this.len(`${r.path}.length`, r.num('length'), matchLength(m));
      return m;
    });
  }

  action(r: R): Action {
    const type = r.num('type');
    let a: Action;
    switch (r.cls) {
      case 'OFPActionOutput':
        a = { type: 'output', port: r.num('port'), maxLen: r.num('max_len') };
        break;
      case 'OFPActionCopyTtlOut':
        a = { type: 'copy_ttl_out' };
        break;
      case 'OFPActionCopyTtlIn':
        a = { type: 'copy_ttl_in' };
        break;
      case 'OFPActionSetMplsTtl':
        a = { type: 'set_mpls_ttl', mplsTtl: r.num('mpls_ttl') };
        break;
      case 'OFPActionDecMplsTtl':
        a = { type: 'dec_mpls_ttl' };
        break;
      case 'OFPActionPushVlan':
        a = { type: 'push_vlan', ethertype: r.num('ethertype') };
        break;
      case 'OFPActionPopVlan':
        a = { type: 'pop_vlan' };
        break;
      case 'OFPActionPushMpls':
        a = { type: 'push_mpls', ethertype: r.num('ethertype') };
        break;
      case 'OFPActionPopMpls':
        a = { type: 'pop_mpls', ethertype: r.num('ethertype') };
        break;
      case 'OFPActionSetQueue':
        a = { type: 'set_queue', queueId: r.num('queue_id') };
        break;
      case 'OFPActionGroup':
        a = { type: 'group', groupId: r.num('group_id') };
        break;
      case 'OFPActionSetNwTtl':
        a = { type: 'set_nw_ttl', nwTtl: r.num('nw_ttl') };
        break;
      case 'OFPActionDecNwTtl':
        a = { type: 'dec_nw_ttl' };
        break;
      case 'OFPActionSetField':
        a = { type: 'set_field', field: one(r.raw('field'), `${r.path}.field`, (x) => this.oxm(x)) };
        break;
      case 'OFPActionPushPbb':
        a = { type: 'push_pbb', ethertype: r.num('ethertype') };
        break;
      case 'OFPActionPopPbb':
        a = { type: 'pop_pbb' };
        break;
      case 'OFPActionExperimenterUnknown':
        a = { type: 'experimenter', experimenter: r.num('experimenter'), data: r.b64('data') };
        break;
      case 'NXActionUnknown': {
        // Ryu splits a Nicira action's body into a 16-bit subtype and the rest; we keep it whole.
        const sub = Buffer.alloc(2);
        sub.writeUInt16BE(r.num('subtype'));
        a = { type: 'experimenter', experimenter: r.num('experimenter'), data: Buffer.concat([sub, r.b64('data')]) };
        break;
      }
      default:
        throw new Error(`${r.path}: unmapped Ryu action ${r.cls}`);
    }
    void type; // the type number is implied by the class; checked by the byte-exact re-encode
    this.len(`${r.path}.len`, r.num('len'), actionSize(a));
    return a;
  }

  actions(list: unknown[], path: string): Action[] {
    return each(list, path, (r) => this.action(r));
  }

  instruction(r: R): Instruction {
    const type = r.num('type');
    let i: Instruction;
    switch (r.cls) {
      case 'OFPInstructionGotoTable':
        i = { type: 'goto_table', tableId: r.num('table_id') };
        break;
      case 'OFPInstructionWriteMetadata':
        i = { type: 'write_metadata', metadata: r.big('metadata'), metadataMask: r.big('metadata_mask') };
        break;
      case 'OFPInstructionActions': {
        const actions = this.actions(r.list('actions'), `${r.path}.actions`);
        if (type === 3) i = { type: 'write_actions', actions };
        else if (type === 4) i = { type: 'apply_actions', actions };
        else if (type === 5 && actions.length === 0) i = { type: 'clear_actions' };
        else throw new Error(`${r.path}: OFPInstructionActions type ${type}`);
        break;
      }
      case 'OFPInstructionMeter':
        i = { type: 'meter', meterId: r.num('meter_id') };
        break;
      default:
        throw new Error(`${r.path}: unmapped Ryu instruction ${r.cls}`);
    }
    this.len(`${r.path}.len`, r.num('len'), instructionSize(i));
    return i;
  }

  instructions(list: unknown[], path: string): Instruction[] {
    return each(list, path, (r) => this.instruction(r));
  }

  port(r: R): OfpPort {
    return {
      portNo: r.num('port_no'),
      hwAddr: r.str('hw_addr'),
      name: r.str('name'),
      config: r.num('config'),
      state: r.num('state'),
      curr: r.num('curr'),
      advertised: r.num('advertised'),
      supported: r.num('supported'),
      peer: r.num('peer'),
      currSpeed: r.num('curr_speed'),
      maxSpeed: r.num('max_speed'),
    };
  }

  buckets(list: unknown[], path: string): Bucket[] {
    return each(list, path, (r) => {
      const k: Bucket = {
        weight: r.num('weight'),
        watchPort: r.num('watch_port'),
        watchGroup: r.num('watch_group'),
        actions: this.actions(r.list('actions'), `${r.path}.actions`),
      };
      this.len(`${r.path}.len`, r.num('len'), bucketsSize([k]));
      return k;
    });
  }

  bands(list: unknown[], path: string): MeterBand[] {
    return each(list, path, (r) => {
      let x: MeterBand;
      const rate = r.num('rate');
      const burstSize = r.num('burst_size');
      const type = r.num('type');
      if (r.cls === 'OFPMeterBandDrop' && type === 1) x = { type: 'drop', rate, burstSize };
      else if (r.cls === 'OFPMeterBandDscpRemark' && type === 2) x = { type: 'dscp_remark', rate, burstSize, precLevel: r.num('prec_level') };
      // Ryu's experimenter band has no data field: the band is the 16-byte header only.
      else if (r.cls === 'OFPMeterBandExperimenter' && type === 0xffff) {
        x = { type: 'experimenter', rate, burstSize, experimenter: r.num('experimenter'), data: Buffer.alloc(0) };
      } else throw new Error(`${r.path}: unmapped band ${r.cls}`);
      this.len(`${r.path}.len`, r.num('len'), bandSize(x));
      return x;
    });
  }

  queues(list: unknown[], path: string): PacketQueue[] {
    return each(list, path, (r) => {
      const properties = each(r.list('properties'), `${r.path}.properties`, (p): QueueProp => {
        const prop = p.num('property');
        let x: QueueProp;
        if (p.cls === 'OFPQueuePropMinRate' && prop === 1) x = { type: 'min_rate', rate: p.num('rate') };
        else if (p.cls === 'OFPQueuePropMaxRate' && prop === 2) x = { type: 'max_rate', rate: p.num('rate') };
        else if (p.cls === 'OFPQueuePropExperimenter' && prop === 0xffff) {
          x = { type: 'experimenter', experimenter: p.num('experimenter'), data: Buffer.from(p.list('data') as number[]) };
        } else throw new Error(`${p.path}: unmapped queue property`);
        this.len(`${p.path}.len`, p.num('len'), x.type === 'experimenter' ? 16 + x.data.length : 16);
        return x;
      });
      const q: PacketQueue = { queueId: r.num('queue_id'), port: r.num('port'), properties };
      this.len(`${r.path}.len`, r.num('len'), queuesSize([q]));
      return q;
    });
  }

  tlvIds(list: unknown[], path: string, cls: string): FeatureTlvId[] {
    return each(list, path, (r) => {
      if (r.cls !== cls) throw new Error(`${r.path}: expected ${cls}`);
      const id: FeatureTlvId = { type: r.num('type') };
      this.len(`${r.path}.len`, r.num('len'), 4);
      return id;
    });
  }

  tableFeatures(list: unknown[], path: string): TableFeatures[] {
    return each(list, path, (r) => {
      const properties = each(r.list('properties'), `${r.path}.properties`, (p): TableFeatureProp => {
        const t = p.num('type');
        const name = PROP_TYPES[t];
        let x: TableFeatureProp;
        switch (p.cls) {
          case 'OFPTableFeaturePropInstructions':
            x = { type: name as 'instructions', instructionIds: this.tlvIds(p.list('instruction_ids'), `${p.path}.instruction_ids`, 'OFPInstructionId') };
            break;
          case 'OFPTableFeaturePropNextTables':
            x = { type: name as 'next_tables', tableIds: p.list('table_ids') as number[] };
            break;
          case 'OFPTableFeaturePropActions':
            x = { type: name as 'write_actions', actionIds: this.tlvIds(p.list('action_ids'), `${p.path}.action_ids`, 'OFPActionId') };
            break;
          case 'OFPTableFeaturePropOxm':
            x = {
              type: name as 'match',
              oxmIds: each(p.list('oxm_ids'), `${p.path}.oxm_ids`, (o): OxmId => {
                const field = o.str('type') as OxmId['field'] & string;
                const hasMask = o.num('hasmask') === 1;
                const length = o.num('length');
                // Our model records the length byte only when it is not the field's payload size.
                const std = (hasMask ? 2 : 1) * (oxmSize({ field, value: 0 } as never) - 4);
                return length === std ? ({ field, hasMask } as OxmId) : ({ field, hasMask, length } as OxmId);
              }),
            };
            break;
          case 'OFPTableFeaturePropExperimenter': {
            // Ryu shows experimenter data as a list of uint32 words.
            const words = p.list('data') as number[];
            const data = Buffer.alloc(4 * words.length);
            words.forEach((w, i) => data.writeUInt32BE(w, 4 * i));
            x = { type: name as 'experimenter', experimenter: p.num('experimenter'), expType: p.num('exp_type'), data };
            break;
          }
          default:
            throw new Error(`${p.path}: unmapped table feature property ${p.cls}`);
        }
        if (name === undefined || x.type !== name) throw new Error(`${p.path}: property type ${t}`);
        this.len(`${p.path}.length`, p.num('length'), propLength(x));
        return x;
      });
      const tf: TableFeatures = {
        tableId: r.num('table_id'),
        name: r.str('name'),
        metadataMatch: r.big('metadata_match'),
        metadataWrite: r.big('metadata_write'),
        config: r.num('config'),
        maxEntries: r.num('max_entries'),
        properties,
      };
      this.len(`${r.path}.length`, r.num('length'), tableFeaturesListSize([tf]));
      return tf;
    });
  }

  /** ONF flow monitor requests (ONF extension 1870), which our model keeps as experimenter data. */
  onfFlowMonitor(list: unknown[], path: string): Buffer {
    const parts = each(list, path, (r) => {
      const m = this.match(r.raw('match'), `${r.path}.match`);
      const oxmLen = matchLength(m) - 4;
      this.len(`${r.path}.match_len`, r.num('match_len'), oxmLen);
      const b = Buffer.alloc(16 + padded8(oxmLen));
      b.writeUInt32BE(r.num('id'), 0);
      b.writeUInt16BE(r.num('flags'), 4);
      b.writeUInt16BE(oxmLen, 6);
      b.writeUInt32BE(r.num('out_port'), 8);
      b[12] = r.num('table_id');
      let o = 16;
      for (const x of m) o = writeOxm(b, o, x);
      return b;
    });
    return Buffer.concat(parts);
  }

  multipart(r: R, xid: number): OfpMessage {
    const isReq = r.cls.endsWith('Request');
    const t = r.num('type');
    const flags = r.num('flags');
    const mpType = t === 0xffff ? 'experimenter' : MP_TYPES[t];
    if (mpType === undefined) throw new Error(`${r.path}: multipart type ${t}`);
    if (isReq) {
      let body;
      switch (mpType) {
        case 'flow':
        case 'aggregate':
          body = {
            mpType,
            tableId: r.num('table_id'),
            outPort: r.num('out_port'),
            outGroup: r.num('out_group'),
            cookie: r.big('cookie'),
            cookieMask: r.big('cookie_mask'),
            match: this.match(r.raw('match'), `${r.path}.match`),
          };
          break;
        case 'port_stats':
          body = { mpType, portNo: r.num('port_no') };
          break;
        case 'queue':
          body = { mpType, portNo: r.num('port_no'), queueId: r.num('queue_id') };
          break;
        case 'group':
          body = { mpType, groupId: r.num('group_id') };
          break;
        case 'meter':
        case 'meter_config':
          body = { mpType, meterId: r.num('meter_id') };
          break;
        case 'table_features':
          body = { mpType, tables: this.tableFeatures(r.list('body'), `${r.path}.body`) };
          break;
        case 'experimenter':
          if (r.cls === 'ONFFlowMonitorStatsRequest') {
            body = { mpType, experimenter: r.num('experimenter'), expType: r.num('exp_type'), data: this.onfFlowMonitor(r.list('body'), `${r.path}.body`) };
          } else body = { mpType, experimenter: r.num('experimenter'), expType: r.num('exp_type'), data: r.b64('data') };
          break;
        default:
          body = { mpType };
      }
      return { type: 'multipart_request', xid, flags, body } as OfpMessage;
    }
    const rb = r.raw('body');
    const list = (): unknown[] => rb as unknown[];
    let body;
    switch (mpType) {
      case 'desc':
        body = one(rb, `${r.path}.body`, (d) => ({
          mpType,
          mfrDesc: d.str('mfr_desc'),
          hwDesc: d.str('hw_desc'),
          swDesc: d.str('sw_desc'),
          serialNum: d.str('serial_num'),
          dpDesc: d.str('dp_desc'),
        }));
        break;
      case 'flow':
        body = {
          mpType,
          stats: each(list(), `${r.path}.body`, (s) => {
            const fs = {
              tableId: s.num('table_id'),
              durationSec: s.num('duration_sec'),
              durationNsec: s.num('duration_nsec'),
              priority: s.num('priority'),
              idleTimeout: s.num('idle_timeout'),
              hardTimeout: s.num('hard_timeout'),
              flags: s.num('flags'),
              cookie: s.big('cookie'),
              packetCount: s.big('packet_count'),
              byteCount: s.big('byte_count'),
              match: this.match(s.raw('match'), `${s.path}.match`),
              instructions: this.instructions(s.list('instructions'), `${s.path}.instructions`),
            };
            this.len(`${s.path}.length`, s.num('length'), 48 + padded8(matchLength(fs.match)) + fs.instructions.reduce((n, i) => n + instructionSize(i), 0));
            return fs;
          }),
        };
        break;
      case 'aggregate':
        body = one(rb, `${r.path}.body`, (a) => ({ mpType, packetCount: a.big('packet_count'), byteCount: a.big('byte_count'), flowCount: a.num('flow_count') }));
        break;
      case 'table':
        body = {
          mpType,
          stats: each(list(), `${r.path}.body`, (s) => ({
            tableId: s.num('table_id'),
            activeCount: s.num('active_count'),
            lookupCount: s.big('lookup_count'),
            matchedCount: s.big('matched_count'),
          })),
        };
        break;
      case 'port_stats':
        body = {
          mpType,
          stats: each(list(), `${r.path}.body`, (s) => ({
            portNo: s.num('port_no'),
            rxPackets: s.big('rx_packets'),
            txPackets: s.big('tx_packets'),
            rxBytes: s.big('rx_bytes'),
            txBytes: s.big('tx_bytes'),
            rxDropped: s.big('rx_dropped'),
            txDropped: s.big('tx_dropped'),
            rxErrors: s.big('rx_errors'),
            txErrors: s.big('tx_errors'),
            rxFrameErr: s.big('rx_frame_err'),
            rxOverErr: s.big('rx_over_err'),
            rxCrcErr: s.big('rx_crc_err'),
            collisions: s.big('collisions'),
            durationSec: s.num('duration_sec'),
            durationNsec: s.num('duration_nsec'),
          })),
        };
        break;
      case 'queue':
        body = {
          mpType,
          stats: each(list(), `${r.path}.body`, (s) => ({
            portNo: s.num('port_no'),
            queueId: s.num('queue_id'),
            txBytes: s.big('tx_bytes'),
            txPackets: s.big('tx_packets'),
            txErrors: s.big('tx_errors'),
            durationSec: s.num('duration_sec'),
            durationNsec: s.num('duration_nsec'),
          })),
        };
        break;
      case 'group':
        body = {
          mpType,
          stats: each(list(), `${r.path}.body`, (s) => {
            const g = {
              groupId: s.num('group_id'),
              refCount: s.num('ref_count'),
              packetCount: s.big('packet_count'),
              byteCount: s.big('byte_count'),
              durationSec: s.num('duration_sec'),
              durationNsec: s.num('duration_nsec'),
              bucketStats: each(s.list('bucket_stats'), `${s.path}.bucket_stats`, (c) => ({ packetCount: c.big('packet_count'), byteCount: c.big('byte_count') })),
            };
            this.len(`${s.path}.length`, s.num('length'), 40 + 16 * g.bucketStats.length);
            return g;
          }),
        };
        break;
      case 'group_desc':
        body = {
          mpType,
          groups: each(list(), `${r.path}.body`, (s) => {
            const g = { groupType: s.num('type'), groupId: s.num('group_id'), buckets: this.buckets(s.list('buckets'), `${s.path}.buckets`) };
            this.len(`${s.path}.length`, s.num('length'), 8 + bucketsSize(g.buckets));
            return g;
          }),
        };
        break;
      case 'group_features':
        body = one(rb, `${r.path}.body`, (g) => ({
          mpType,
          types: g.num('types'),
          capabilities: g.num('capabilities'),
          maxGroups: g.list('max_groups') as [number, number, number, number],
          actions: g.list('actions') as [number, number, number, number],
        }));
        break;
      case 'meter':
        body = {
          mpType,
          stats: each(list(), `${r.path}.body`, (s) => {
            const m = {
              meterId: s.num('meter_id'),
              flowCount: s.num('flow_count'),
              packetInCount: s.big('packet_in_count'),
              byteInCount: s.big('byte_in_count'),
              durationSec: s.num('duration_sec'),
              durationNsec: s.num('duration_nsec'),
              bandStats: each(s.list('band_stats'), `${s.path}.band_stats`, (c) => ({
                packetBandCount: c.big('packet_band_count'),
                byteBandCount: c.big('byte_band_count'),
              })),
            };
            this.len(`${s.path}.len`, s.num('len'), 40 + 16 * m.bandStats.length);
            return m;
          }),
        };
        break;
      case 'meter_config':
        body = {
          mpType,
          configs: each(list(), `${r.path}.body`, (s) => {
            const c = { flags: s.num('flags'), meterId: s.num('meter_id'), bands: this.bands(s.list('bands'), `${s.path}.bands`) };
            this.len(`${s.path}.length`, s.num('length'), 8 + bandsSize(c.bands));
            return c;
          }),
        };
        break;
      case 'meter_features':
        body = each(list(), `${r.path}.body`, (f) => ({
          mpType,
          maxMeter: f.num('max_meter'),
          bandTypes: f.num('band_types'),
          capabilities: f.num('capabilities'),
          maxBands: f.num('max_bands'),
          maxColor: f.num('max_color'),
        }))[0];
        break;
      case 'table_features':
        body = { mpType, tables: this.tableFeatures(list(), `${r.path}.body`) };
        break;
      case 'port_desc':
        body = { mpType, ports: each(list(), `${r.path}.body`, (p) => this.port(p)) };
        break;
      case 'experimenter':
        body = one(rb, `${r.path}.body`, (e) => ({ mpType, experimenter: e.num('experimenter'), expType: e.num('exp_type'), data: e.b64('data') }));
        break;
    }
    return { type: 'multipart_reply', xid, flags, body } as OfpMessage;
  }

  message(r: R, bytes: Buffer): OfpMessage {
    // Ryu's JSON has no header: version, xid (and features_reply.reserved) come from the bytes.
    const xid = bytes.readUInt32BE(4);
    switch (r.cls) {
      case 'OFPHello': {
        const elements = each(r.list('elements'), `${r.path}.elements`, (e): HelloElement => {
          if (e.cls !== 'OFPHelloElemVersionBitmap' || e.num('type') !== 1) throw new Error(`${e.path}: unmapped hello element`);
          const versions = e.list('versions') as number[];
          this.len(`${e.path}.length`, e.num('length'), 4 + 4 * (Math.floor(Math.max(0, ...versions) / 32) + 1));
          return { type: 'versionbitmap', versions };
        });
        return { type: 'hello', xid, version: bytes[0]!, elements };
      }
      case 'OFPErrorMsg': {
        const errType = r.num('type');
        if (errType === 0xffff) {
          if (r.raw('code') !== null) throw new Error(`${r.path}: experimenter error with a code`);
          return { type: 'error', xid, errType: 0xffff, expType: r.num('exp_type'), experimenter: r.num('experimenter'), data: r.b64('data') };
        }
        for (const k of ['exp_type', 'experimenter']) if (r.has(k) && r.raw(k) !== null) throw new Error(`${r.path}.${k} set on a standard error`);
        return { type: 'error', xid, errType, code: r.num('code'), data: r.b64('data') };
      }
      case 'OFPEchoRequest':
        return { type: 'echo_request', xid, data: r.b64('data') };
      case 'OFPEchoReply':
        return { type: 'echo_reply', xid, data: r.b64('data') };
      case 'OFPExperimenter':
        return { type: 'experimenter', xid, experimenter: r.num('experimenter'), expType: r.num('exp_type'), data: r.b64('data') };
      case 'OFPFeaturesRequest':
        return { type: 'features_request', xid };
      case 'OFPSwitchFeatures':
        return {
          type: 'features_reply',
          xid,
          datapathId: r.big('datapath_id'),
          nBuffers: r.num('n_buffers'),
          nTables: r.num('n_tables'),
          auxiliaryId: r.num('auxiliary_id'),
          capabilities: r.num('capabilities'),
          reserved: bytes.readUInt32BE(28),
        };
      case 'OFPGetConfigRequest':
        return { type: 'get_config_request', xid };
      case 'OFPGetConfigReply':
        return { type: 'get_config_reply', xid, flags: r.num('flags'), missSendLen: r.num('miss_send_len') };
      case 'OFPSetConfig':
        return { type: 'set_config', xid, flags: r.num('flags'), missSendLen: r.num('miss_send_len') };
      case 'OFPPacketIn':
        return {
          type: 'packet_in',
          xid,
          bufferId: r.num('buffer_id'),
          totalLen: r.num('total_len'),
          reason: r.num('reason'),
          tableId: r.num('table_id'),
          cookie: r.big('cookie'),
          match: this.match(r.raw('match'), `${r.path}.match`),
          data: r.b64('data'),
        };
      case 'OFPFlowRemoved':
        return {
          type: 'flow_removed',
          xid,
          cookie: r.big('cookie'),
          priority: r.num('priority'),
          reason: r.num('reason'),
          tableId: r.num('table_id'),
          durationSec: r.num('duration_sec'),
          durationNsec: r.num('duration_nsec'),
          idleTimeout: r.num('idle_timeout'),
          hardTimeout: r.num('hard_timeout'),
          packetCount: r.big('packet_count'),
          byteCount: r.big('byte_count'),
          match: this.match(r.raw('match'), `${r.path}.match`),
        };
      case 'OFPPortStatus':
        return { type: 'port_status', xid, reason: r.num('reason'), desc: one(r.raw('desc'), `${r.path}.desc`, (p) => this.port(p)) };
      case 'OFPPacketOut': {
        const actions = this.actions(r.list('actions'), `${r.path}.actions`);
        this.len(`${r.path}.actions_len`, r.num('actions_len'), actionsSize(actions));
        return { type: 'packet_out', xid, bufferId: r.num('buffer_id'), inPort: r.num('in_port'), actions, data: r.b64('data') };
      }
      case 'OFPFlowMod':
        return {
          type: 'flow_mod',
          xid,
          cookie: r.big('cookie'),
          cookieMask: r.big('cookie_mask'),
          tableId: r.num('table_id'),
          command: r.num('command'),
          idleTimeout: r.num('idle_timeout'),
          hardTimeout: r.num('hard_timeout'),
          priority: r.num('priority'),
          bufferId: r.num('buffer_id'),
          outPort: r.num('out_port'),
          outGroup: r.num('out_group'),
          flags: r.num('flags'),
          match: this.match(r.raw('match'), `${r.path}.match`),
          instructions: this.instructions(r.list('instructions'), `${r.path}.instructions`),
        };
      case 'OFPGroupMod':
        return {
          type: 'group_mod',
          xid,
          command: r.num('command'),
          groupType: r.num('type'),
          groupId: r.num('group_id'),
          buckets: this.buckets(r.list('buckets'), `${r.path}.buckets`),
        };
      case 'OFPPortMod':
        return {
          type: 'port_mod',
          xid,
          portNo: r.num('port_no'),
          hwAddr: r.str('hw_addr'),
          config: r.num('config'),
          mask: r.num('mask'),
          advertise: r.num('advertise'),
        };
      case 'OFPTableMod':
        return { type: 'table_mod', xid, tableId: r.num('table_id'), config: r.num('config') };
      case 'OFPBarrierRequest':
        return { type: 'barrier_request', xid };
      case 'OFPBarrierReply':
        return { type: 'barrier_reply', xid };
      case 'OFPQueueGetConfigRequest':
        return { type: 'queue_get_config_request', xid, port: r.num('port') };
      case 'OFPQueueGetConfigReply':
        return { type: 'queue_get_config_reply', xid, port: r.num('port'), queues: this.queues(r.list('queues'), `${r.path}.queues`) };
      case 'OFPRoleRequest':
        return { type: 'role_request', xid, role: r.num('role'), generationId: r.big('generation_id') };
      case 'OFPRoleReply':
        return { type: 'role_reply', xid, role: r.num('role'), generationId: r.big('generation_id') };
      case 'OFPGetAsyncRequest':
        return { type: 'get_async_request', xid };
      case 'OFPGetAsyncReply':
      case 'OFPSetAsync': {
        const pair = (k: string): [number, number] => {
          const l = r.list(k) as number[];
          if (l.length !== 2) throw new Error(`${r.path}.${k}: expected two masks`);
          return [l[0]!, l[1]!];
        };
        return {
          type: r.cls === 'OFPSetAsync' ? 'set_async' : 'get_async_reply',
          xid,
          packetInMask: pair('packet_in_mask'),
          portStatusMask: pair('port_status_mask'),
          flowRemovedMask: pair('flow_removed_mask'),
        };
      }
      case 'OFPMeterMod':
        return {
          type: 'meter_mod',
          xid,
          command: r.num('command'),
          flags: r.num('flags'),
          meterId: r.num('meter_id'),
          bands: this.bands(r.list('bands'), `${r.path}.bands`),
        };
      default:
        if (/StatsRe(quest|ply)$/.test(r.cls)) return this.multipart(r, xid);
        throw new Error(`${r.path}: unmapped Ryu message ${r.cls}`);
    }
  }
}

/** Maps one vector's Ryu JSON to our model. Throws if any Ryu key is left unmapped. */
export function mapRyu(v: Vector): Mapped {
  const m = new Mapper();
  const r = unwrap(v.ryu, v.name);
  const expected = m.message(r, v.bytes);
  r.done();
  return { cls: r.cls, expected, lengths: m.lengths };
}
