// The fake flow table is test infrastructure other tests trust, so it gets its
// own tests against the rules of OF 1.3.5 §6.4 / §5 it claims to model.
import test from 'ava';
import * as C from '../../../controller/openflow/constants.js';
import type { Instruction, Match, MessageOf } from '../../../controller/openflow/types.js';
import { FakeFlowTable, FakeOfpError, physicalPorts } from '../../support/fakeflowtable.js';

function fm(init: Partial<MessageOf<'flow_mod'>> & { match: Match }): MessageOf<'flow_mod'> {
  return {
    type: 'flow_mod', xid: 0, cookie: 0n, cookieMask: 0n, tableId: 0, command: C.OFPFC_ADD, idleTimeout: 0, hardTimeout: 0,
    priority: 100, bufferId: C.OFP_NO_BUFFER, outPort: C.OFPP_ANY, outGroup: C.OFPG_ANY, flags: 0, instructions: [], ...init,
  };
}
const out = (port: number): Instruction[] => [{ type: 'apply_actions', actions: [{ type: 'output', port, maxLen: 0 }] }];
const ports = (t: FakeFlowTable, pkt: Parameters<FakeFlowTable['lookup']>[0]) => t.lookup(pkt).outputs.map((o) => o.port);

test('highest priority wins; masked fields match by mask; no match is a drop', (t) => {
  const table = new FakeFlowTable();
  table.applyOk([
    fm({ priority: 10, match: [{ field: 'eth_dst', value: '02:00:00:00:00:00', mask: '02:00:00:00:00:00' }], instructions: out(1) }),
    fm({ priority: 20, match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.0.0.0' }], instructions: out(2) }),
  ]);
  t.deepEqual(ports(table, { in_port: 9, eth_dst: '02:11:22:33:44:55', eth_type: 0x0800, ipv4_dst: '10.1.2.3' }), [2]);
  t.deepEqual(ports(table, { in_port: 9, eth_dst: '02:11:22:33:44:55', eth_type: 0x0800, ipv4_dst: '11.1.2.3' }), [1]);
  const miss = table.lookup({ in_port: 9, eth_dst: '00:11:22:33:44:55' });
  t.true(miss.miss);
  t.deepEqual(miss.outputs, []);
});

test('ADD of an identical match+priority replaces the entry', (t) => {
  const table = new FakeFlowTable();
  const m: Match = [{ field: 'in_port', value: 1 }];
  table.applyOk([fm({ match: m, instructions: out(1), cookie: 1n }), fm({ match: m, instructions: out(2), cookie: 2n })]);
  t.is(table.flows().length, 1);
  t.is(table.flows()[0]!.cookie, 2n);
  t.deepEqual(ports(table, { in_port: 1 }), [2]);
});

test('non-strict DELETE selects flows at least as specific as its match, under the cookie mask', (t) => {
  const table = new FakeFlowTable();
  table.applyOk([
    fm({ cookie: 0x0101n, match: [{ field: 'in_port', value: 1 }, { field: 'eth_dst', value: '00:00:00:00:00:01' }] }),
    fm({ cookie: 0x0102n, match: [{ field: 'eth_dst', value: '00:00:00:00:00:01' }] }),
    fm({ cookie: 0x0201n, match: [{ field: 'eth_dst', value: '00:00:00:00:00:01' }], priority: 5 }),
    fm({ cookie: 0x0103n, match: [{ field: 'in_port', value: 1 }] }),
  ]);
  table.applyOk([fm({ command: C.OFPFC_DELETE, tableId: C.OFPTT_ALL, cookie: 0x0100n, cookieMask: 0xff00n, match: [{ field: 'eth_dst', value: '00:00:00:00:00:01' }] })]);
  t.deepEqual(table.flows().map((f) => f.cookie).sort(), [0x0103n, 0x0201n]);
});

test('a masked delete filter does not select flows that wildcard the bits it fixes', (t) => {
  const table = new FakeFlowTable();
  table.applyOk([
    fm({ match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.0.0.0' }] }),
    fm({ match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.1.0.0', mask: '255.255.0.0' }] }),
  ]);
  table.applyOk([fm({ command: C.OFPFC_DELETE, match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.1.0.0', mask: '255.255.0.0' }] })]);
  t.is(table.flows().length, 1);
  t.deepEqual(table.flows()[0]!.match[1], { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.0.0.0' });
});

test('DELETE_STRICT needs the same match and priority; out_port restricts deletes', (t) => {
  const table = new FakeFlowTable();
  const m: Match = [{ field: 'in_port', value: 1 }];
  table.applyOk([fm({ match: m, priority: 1, instructions: out(5) }), fm({ match: m, priority: 2, instructions: out(6) })]);
  table.applyOk([fm({ command: C.OFPFC_DELETE_STRICT, match: m, priority: 3 })]);
  t.is(table.flows().length, 2);
  table.applyOk([fm({ command: C.OFPFC_DELETE, match: [], outPort: 6 })]);
  t.deepEqual(table.flows().map((f) => f.priority), [1]);
  table.applyOk([fm({ command: C.OFPFC_DELETE_STRICT, match: m, priority: 1 })]);
  t.deepEqual(table.flows(), []);
});

test('MODIFY changes instructions of matching flows and never adds', (t) => {
  const table = new FakeFlowTable();
  table.applyOk([fm({ command: C.OFPFC_MODIFY, match: [], instructions: out(1) })]);
  t.deepEqual(table.flows(), []);
  table.applyOk([fm({ match: [{ field: 'in_port', value: 1 }], instructions: out(1), cookie: 7n })]);
  table.applyOk([fm({ command: C.OFPFC_MODIFY, match: [], instructions: out(3), cookie: 9n })]);
  t.deepEqual(ports(table, { in_port: 1 }), [3]);
  t.is(table.flows()[0]!.cookie, 7n, 'modify keeps the cookie');
});

test('bad matches and instructions come back as the errors a switch sends', (t) => {
  const table = new FakeFlowTable();
  const errs = table.apply([
    fm({ match: [{ field: 'ipv4_dst', value: '10.0.0.1' }] }), // no eth_type
    fm({ match: [{ field: 'in_port', value: 1 }, { field: 'in_port', value: 2 }] }),
    fm({ match: [{ field: 'eth_dst', value: '00:00:00:00:00:03', mask: '00:00:00:00:00:01' }] }),
    fm({ match: [], instructions: [{ type: 'meter', meterId: 4 }] }),
    fm({ match: [], instructions: [{ type: 'goto_table', tableId: 0 }] }),
    fm({ match: [], tableId: C.OFPTT_ALL }),
  ]);
  t.deepEqual(errs.map((e) => [e.errType, 'code' in e ? e.code : -1]), [
    [C.OFPET_BAD_MATCH, C.OFPBMC_BAD_PREREQ],
    [C.OFPET_BAD_MATCH, C.OFPBMC_DUP_FIELD],
    [C.OFPET_BAD_MATCH, C.OFPBMC_BAD_WILDCARDS],
    [C.OFPET_METER_MOD_FAILED, C.OFPMMFC_UNKNOWN_METER],
    [C.OFPET_BAD_INSTRUCTION, C.OFPBIC_BAD_TABLE_ID],
    [C.OFPET_FLOW_MOD_FAILED, C.OFPFMFC_BAD_TABLE_ID],
  ]);
  t.is(errs[0]!.data[1], C.OFPT_FLOW_MOD, 'error data starts with the failed request');
  t.deepEqual(table.flows(), []);
  t.throws(() => table.applyOk([fm({ match: [{ field: 'tcp_dst', value: 80 }] })]), { instanceOf: FakeOfpError });
  const overlap = table.apply([
    fm({ match: [{ field: 'in_port', value: 1 }], flags: C.OFPFF_CHECK_OVERLAP }),
    fm({ match: [{ field: 'eth_type', value: 0x0806 }], flags: C.OFPFF_CHECK_OVERLAP }),
  ]);
  t.deepEqual(overlap.map((e) => ('code' in e ? e.code : -1)), [C.OFPFMFC_OVERLAP]);
});

test('meters: add twice fails, delete removes the flows that use it', (t) => {
  const table = new FakeFlowTable();
  const add: MessageOf<'meter_mod'> = { type: 'meter_mod', xid: 0, command: C.OFPMC_ADD, flags: C.OFPMF_PKTPS, meterId: 3, bands: [{ type: 'drop', rate: 10, burstSize: 0 }] };
  t.deepEqual(table.apply([add]), []);
  t.deepEqual(table.apply([add]).map((e) => ('code' in e ? e.code : -1)), [C.OFPMMFC_METER_EXISTS]);
  table.applyOk([fm({ match: [], instructions: [{ type: 'meter', meterId: 3 }, ...out(1)] }), fm({ match: [{ field: 'in_port', value: 2 }], instructions: out(1) })]);
  t.deepEqual(table.lookup({ in_port: 1 }).meters, [3]);
  table.applyOk([{ ...add, command: C.OFPMC_DELETE, bands: [] }]);
  t.is(table.flows().length, 1);
  t.false(table.meters.has(3));
});

test('pipeline: goto_table, write_actions at the end, set_field before output, metadata', (t) => {
  const table = new FakeFlowTable();
  table.applyOk([
    fm({ tableId: 0, match: [], instructions: [
      { type: 'goto_table', tableId: 1 }, // listed first, runs last (§5.9)
      { type: 'write_actions', actions: [{ type: 'output', port: 4, maxLen: 0 }] },
      { type: 'write_metadata', metadata: 5n, metadataMask: 0xffn },
    ] }),
    fm({ tableId: 1, match: [{ field: 'metadata', value: 5n }], instructions: [
      { type: 'apply_actions', actions: [{ type: 'set_field', field: { field: 'eth_dst', value: '02:00:00:00:00:09' } }, { type: 'output', port: 7, maxLen: 0 }] },
    ] }),
  ]);
  const r = table.lookup({ in_port: 1, eth_dst: '00:00:00:00:00:01' });
  t.deepEqual(r.outputs.map((o) => [o.port, o.fields.eth_dst]), [[7, '02:00:00:00:00:09'], [4, '02:00:00:00:00:09']]);
  t.is(r.flows.length, 2);
});

test('idle and hard timeouts expire on the virtual clock; a lookup keeps an idle flow alive', (t) => {
  const table = new FakeFlowTable();
  table.applyOk([fm({ match: [{ field: 'in_port', value: 1 }], idleTimeout: 10 }), fm({ match: [{ field: 'in_port', value: 2 }], hardTimeout: 15 })]);
  table.advance(8000);
  table.lookup({ in_port: 1 });
  table.lookup({ in_port: 2 });
  t.is(table.advance(6000).length, 0);
  t.deepEqual(table.advance(1000).map((f) => (f.match[0] as { value: unknown }).value), [2], 'hard timeout 15 s, used or not');
  t.is(table.advance(2000).length, 0);
  t.deepEqual(table.advance(1000).map((f) => (f.match[0] as { value: unknown }).value), [1], 'idle 10 s after its last use at 8 s');
});

test('packet_out: FLOOD expands to every port but the ingress; OFPP_TABLE runs the pipeline', (t) => {
  const table = new FakeFlowTable();
  table.applyOk([fm({ match: [{ field: 'in_port', value: 2 }], instructions: out(3) })]);
  const po = (port: number): MessageOf<'packet_out'> => ({ type: 'packet_out', xid: 0, bufferId: C.OFP_NO_BUFFER, inPort: 2, actions: [{ type: 'output', port, maxLen: 0 }], data: Buffer.alloc(0) });
  t.deepEqual(physicalPorts(table.packetOut(po(C.OFPP_FLOOD), {}).outputs, 2, [1, 2, 3]), [1, 3]);
  t.deepEqual(physicalPorts(table.packetOut(po(C.OFPP_TABLE), {}).outputs, 2, [1, 2, 3]), [3]);
  t.deepEqual(physicalPorts(table.packetOut(po(2), {}).outputs, 2, [1, 2, 3]), [], 'output to the ingress port is dropped');
});
