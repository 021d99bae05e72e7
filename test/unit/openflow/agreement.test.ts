// Decode and encode agree on what is valid: every input decode() accepts, encode() writes
// back byte for byte; every message encode() refuses, decode() refuses as bytes. Each test
// here is a named regression for one disagreement, with the offending bytes as its fixture.
// (The property that finds them is test/unit/openflow-props/agreement.test.ts.)
import test from 'ava';
import {
  build,
  decode,
  encode,
  OfpDecodeError,
  OfpEncodeError,
  OFPET_BAD_ACTION,
  OFPBAC_BAD_SET_MASK,
  type OfpDecodeErrorCode,
} from '../../../controller/openflow/index.js';

function rejects(t: import('ava').ExecutionContext, bytes: Buffer, code: OfpDecodeErrorCode): OfpDecodeError | undefined {
  const e = t.throws(() => decode(bytes), { instanceOf: OfpDecodeError });
  t.is(e?.code, code, e?.message);
  return e;
}

/** ofp_action_set_field carrying eth_dst=02:00:00:00:00:00/ff:ff:ff:00:00:00: OXM 0x8000 07 0c. */
const MASKED_SET_FIELD = Buffer.from(
  '0019' + '0018' + '8000070c' + '020000000000' + 'ffffff000000' + '00000000', // type 25, len 24, OXM, pad 4
  'hex',
);

/** A FLOW_MOD whose apply_actions holds MASKED_SET_FIELD (written through encode's raw-action path). */
function flowModWithMaskedSetField(): Buffer {
  return encode(build.flowMod({ instructions: [build.applyActions({ type: 'unknown', raw: MASKED_SET_FIELD })] }));
}

test('regression: a masked set_field decodes as OFPET_BAD_ACTION/OFPBAC_BAD_SET_MASK (OF 1.3.5 §7.2.5), as encode refuses it', (t) => {
  const bytes = flowModWithMaskedSetField();
  const e = rejects(t, bytes, 'OFP_BAD_SET_MASK');
  t.is(e?.errType, OFPET_BAD_ACTION);
  t.is(e?.errCode, OFPBAC_BAD_SET_MASK);
  t.false(e?.fatal);
  t.regex(e?.message ?? '', /set_field OXM eth_dst has oxm_hasmask set/);
  // The offset names the action: flow_mod header 48 + empty match 8 + apply_actions header 8.
  t.is(e?.offset, 64);
  // The other direction already held: the same action as a model is refused by encode.
  const enc = t.throws(
    () => encode(build.flowMod({ instructions: [build.applyActions({ type: 'set_field', field: { field: 'eth_dst', value: '02:00:00:00:00:00', mask: 'ff:ff:ff:00:00:00' } })] })),
    { instanceOf: OfpEncodeError },
  );
  t.is(enc?.code, 'OFP_ENCODE_BAD_MASK');
});

test('regression: a masked set_field of a non-maskable field is BAD_SET_MASK too, not a match error', (t) => {
  const raw = Buffer.from('0019' + '0010' + '80000104' + '00000001' + '00000000', 'hex'); // in_port with HM=1, payload 4
  const bytes = encode(build.packetOut({ actions: [{ type: 'unknown', raw }] }));
  const e = rejects(t, bytes, 'OFP_BAD_SET_MASK');
  t.is(e?.errType, OFPET_BAD_ACTION);
});

test('an unmasked set_field and a set_field of an unknown OXM class (mask bit and all) still decode', (t) => {
  const ok = encode(build.flowMod({ instructions: [build.applyActions(build.setField('eth_dst', '02:00:00:00:00:01'))] }));
  t.deepEqual(encode(decode(ok)), ok);
  // ONF experimenter class 0xffff with HM=1: kept raw, re-encoded byte for byte.
  const raw = Buffer.from('0019' + '0010' + 'ffff0108' + '4f4e4600' + '00000000', 'hex');
  const exp = encode(build.packetOut({ actions: [{ type: 'unknown', raw }] }));
  t.deepEqual(encode(decode(exp)), exp);
});

// ---------------------------------------------------------------------------
// Disagreements found by the agreement property, one fixture each. Every one of these was
// accepted by decode() and written back differently (or refused) by encode().
// ---------------------------------------------------------------------------

/** Inputs decode() must now refuse: [name, hex, expected code]. */
const REFUSED: [string, string, OfpDecodeErrorCode][] = [
  // Found by the property: ofp_multipart_request pad[4] = 01000000 (port_desc request).
  ['multipart header pad', '0412001000000001000d000001000000', 'OFP_BAD_PADDING'],
  // Found by the property: ofp_port.pad after port_no (port_status byte 20).
  ['ofp_port pad', '040c005000000001000000000000000000000001010000000200000000010000657468310000000000000000000000000000000000000004000000000000000000000000000000000000000000000000', 'OFP_BAD_PADDING'],
  ['group_mod pad', '040f003000000001000000010000000100200000ffffffffffffffff000000000000001000000001ffff000000000000', 'OFP_BAD_PADDING'],
  ['ofp_bucket pad', '040f003000000001000000000000000100200000ffffffffffffffff010000000000001000000001ffff000000000000', 'OFP_BAD_PADDING'],
  ['output action pad', '040f003000000001000000000000000100200000ffffffffffffffff000000000000001000000001ffff010000000000', 'OFP_BAD_PADDING'],
  ['flow_mod pad', '040e006800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000001000001000c80000004000000010000000000040020000000000019001080000606020000000001000000120008000000000001000801000000', 'OFP_BAD_PADDING'],
  ['ofp_match padding', '040e006800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000c80000004000000010100000000040020000000000019001080000606020000000001000000120008000000000001000801000000', 'OFP_BAD_PADDING'],
  ['apply_actions instruction pad', '040e006800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000c80000004000000010000000000040020010000000019001080000606020000000001000000120008000000000001000801000000', 'OFP_BAD_PADDING'],
  ['set_field padding after the OXM', '040e006800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000c80000004000000010000000000040020000000000019001080000606020000000001010000120008000000000001000801000000', 'OFP_BAD_PADDING'],
  ['pop_vlan action pad', '040e006800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000c80000004000000010000000000040020000000000019001080000606020000000001000000120008010000000001000801000000', 'OFP_BAD_PADDING'],
  ['goto_table instruction pad', '040e006800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000c80000004000000010000000000040020000000000019001080000606020000000001000000120008000000000001000801010000', 'OFP_BAD_PADDING'],
  ['packet_in pad after the match', '040a002e00000001ffffffff0004000000000000000000000001000c800000040000000300000000010061626364', 'OFP_BAD_PADDING'],
  ['meter band drop pad', '041d002000000001000000000000000100010010000000010000000001000000', 'OFP_BAD_PADDING'],
  ['ofp_table_features pad', '0413005800000001000c0000000000000048000001000000743000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000a0002000501000000', 'OFP_BAD_PADDING'],
  ['table feature property padding', '0413005800000001000c0000000000000048000000000000743000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000a0002000501010000', 'OFP_BAD_PADDING'],
  // Strings: the old decoder cut or replaced these, so encode() wrote other bytes.
  ['port name with bytes after its NUL', '040c005000000001000000000000000000000001000000000200000000010000657468310000410000000000000000000000000000000004000000000000000000000000000000000000000000000000', 'OFP_BAD_STRING'],
  ['port name without a NUL', '040c0050000000010000000000000000000000010000000002000000000100006162636465666768696a6b6c6d6e6f700000000000000004000000000000000000000000000000000000000000000000', 'OFP_BAD_STRING'],
  // f0 90 80: a cut 4-byte sequence, one U+FFFD (3 bytes, the same length, other bytes).
  ['port name with invalid UTF-8', '040c005000000001000000000000000000000001000000000200000000010000f09080000000000000000000000000000000000000000004000000000000000000000000000000000000000000000000', 'OFP_BAD_STRING'],
  // Hello elements are padded to 8 (OF 1.3.5 §7.5.1); the old decoder tolerated padding cut
  // short by the end of the message and ignored its bytes.
  ['hello element padding cut short', '04000014000000010001000800000010' + '00020004', 'OFP_BAD_TLV_LENGTH'],
  ['hello element padding not zero', '04000018000000010001000800000010' + '0002000401000000', 'OFP_BAD_PADDING'],
];

for (const [name, hex, code] of REFUSED) {
  test(`regression: ${name} is refused (${code}), not decoded into something encode() writes differently`, (t) => {
    rejects(t, Buffer.from(hex, 'hex'), code);
  });
}

test('regression: ofp_desc text with bytes after its NUL is refused (OFP_BAD_STRING)', (t) => {
  const desc = encode({ type: 'multipart_reply', xid: 1, flags: 0, body: { mpType: 'desc', mfrDesc: 'mfr', hwDesc: 'hw', swDesc: 'sw', serialNum: 'sn', dpDesc: 'dp' } });
  t.deepEqual(encode(decode(desc)), desc);
  // The property's input: mfr_desc "mfr\0\0r..." (byte 21 of the message).
  const bad = Buffer.from(desc);
  bad[21] = 0x72;
  const e = rejects(t, bad, 'OFP_BAD_STRING');
  t.is(e?.offset, 21);
  t.regex(e?.message ?? '', /ofp_desc\.mfr_desc/);
});

/** Inputs decode() accepts and must write back byte for byte: [name, hex]. */
const KEPT: [string, string][] = [
  // A version bitmap with a trailing zero word was decoded to [4] and written back one word
  // shorter; it is now kept raw.
  ['version bitmap with a trailing zero word', '04000018000000010001000c0000001000000000' + '00000000'],
  // Nine words: versions above 255 cannot be written (ofp_header.version is one byte), so
  // encode() refused what decode() returned; it is now kept raw.
  ['version bitmap of nine words', '04000030000000010001002800000010' + '00000000'.repeat(7) + '00000001'],
];

for (const [name, hex] of KEPT) {
  test(`regression: ${name} re-encodes byte for byte`, (t) => {
    const x = Buffer.from(hex, 'hex');
    t.deepEqual(encode(decode(x)), x);
  });
}

test('a canonical version bitmap still decodes to its versions', (t) => {
  const hello = Buffer.from('04000010000000010001000800000010', 'hex');
  t.deepEqual(decode(hello), { type: 'hello', xid: 1, version: 4, elements: [{ type: 'versionbitmap', versions: [4] }] });
});
