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
