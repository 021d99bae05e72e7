import test from 'ava';
import type { Datapath } from '../../../controller/app.js';
import { makeCookie } from '../../../controller/cookies.js';
import { createL2App } from '../../../controller/l2/app.js';
import * as C from '../../../controller/openflow/constants.js';
import type { MessageOf, OfpMessage } from '../../../controller/openflow/types.js';
import { buildIcmpEchoRequest } from '../../../controller/packet/build.js';
import { FakeFlowTable } from '../../support/fakeflowtable.js';

/** A Datapath that records sends (in batches) and barriers, and applies flow/meter mods to a fake table. */
function fakeDp(id: bigint) {
  let xid = 100;
  const events: Array<{ kind: 'send'; msgs: OfpMessage[] } | { kind: 'barrier' }> = [];
  const table = new FakeFlowTable();
  const errors: MessageOf<'error'>[] = [];
  const dp = {
    id,
    idHex: id.toString(16).padStart(16, '0'),
    features: {} as MessageOf<'features_reply'>,
    ports: new Map(),
    connected: true,
    nextXid: () => ++xid,
    send: (...msgs: OfpMessage[]) => {
      events.push({ kind: 'send', msgs });
      errors.push(...table.apply(msgs));
    },
    request: async () => [],
    barrier: async () => {
      events.push({ kind: 'barrier' });
    },
  } satisfies Datapath;
  return { dp, events, table, errors };
}

const pi = (inPort: number, src: string, dst: string): MessageOf<'packet_in'> => {
  const data = buildIcmpEchoRequest({ ethSrc: src, ethDst: dst, src: '10.0.0.1', dst: '10.0.0.2', id: 1, seq: 1 });
  return { type: 'packet_in', xid: 0, bufferId: C.OFP_NO_BUFFER, totalLen: data.length, reason: 0, tableId: 0, cookie: makeCookie('l2'), match: [{ field: 'in_port', value: inPort }], data };
};

test('switchUp sends meter setup, waits for a barrier, then the table-miss; xids are fresh', async (t) => {
  const app = createL2App();
  const { dp, events, table, errors } = fakeDp(5n);
  await app.switchUp!(dp);
  t.deepEqual(events.map((e) => (e.kind === 'send' ? e.msgs.map((m) => m.type).join(',') : 'BARRIER')), [
    'flow_mod,meter_mod,meter_mod',
    'BARRIER',
    'flow_mod',
  ]);
  const xids = events.flatMap((e) => (e.kind === 'send' ? e.msgs.map((m) => m.xid) : []));
  t.deepEqual(xids, [101, 102, 103, 104]);
  t.deepEqual(errors, []);
  t.deepEqual(table.lookup({ in_port: 1 }).meters, [1]);
  app.stop!();
});

test('packet-ins are answered on the same datapath; a replaced connection keeps the new state', async (t) => {
  const app = createL2App();
  const a = fakeDp(7n);
  await app.switchUp!(a.dp);
  t.true(app.packetIn!(a.dp, pi(1, '00:00:00:00:00:01', '00:00:00:00:00:02')));
  t.is(app.logic.switch(7n)!.size, 1);
  // The same datapath id reconnects; the old connection's switchDown comes after the new switchUp.
  const b = fakeDp(7n);
  await app.switchUp!(b.dp);
  app.switchDown!(a.dp, 'replaced');
  t.truthy(app.logic.switch(7n), 'state for the new connection survives');
  t.false(app.packetIn!(a.dp, pi(1, '00:00:00:00:00:01', '00:00:00:00:00:02')), 'the old connection is ignored');
  t.true(app.packetIn!(b.dp, pi(1, '00:00:00:00:00:01', '00:00:00:00:00:02')));
  app.switchDown!(b.dp, 'socket-closed');
  t.is(app.logic.switch(7n), undefined);
  app.stop!();
});

test('a meter refusal reported through error() installs the unmetered table-miss', async (t) => {
  const lines: string[] = [];
  const { createLogger } = await import('../../../controller/log.js');
  const app = createL2App({ log: createLogger({ level: 'warn', sink: (l) => lines.push(l) }) });
  const { dp, events } = fakeDp(8n);
  await app.switchUp!(dp);
  const meterAdd = events.flatMap((e) => (e.kind === 'send' ? e.msgs : [])).find((m) => m.type === 'meter_mod' && m.command === C.OFPMC_ADD)!;
  const data = Buffer.alloc(16);
  data[0] = 4;
  data[1] = C.OFPT_METER_MOD;
  data.writeUInt16BE(C.OFPMC_ADD, 8);
  data.writeUInt32BE(1, 12);
  const before = events.length;
  app.error!(dp, { type: 'error', xid: meterAdd.xid, errType: C.OFPET_METER_MOD_FAILED, code: C.OFPMMFC_OUT_OF_METERS, data });
  const sent = events.slice(before).flatMap((e) => (e.kind === 'send' ? e.msgs : []));
  t.is(sent.length, 1);
  t.true(sent[0]!.type === 'flow_mod' && sent[0]!.instructions.every((i) => i.type !== 'meter'));
  t.true(lines.some((l) => l.includes('refused the packet-in meter')));
  // Another app's error (a park flow_mod) is not ours: nothing sent, nothing logged.
  const park = Buffer.alloc(16);
  park[1] = C.OFPT_FLOW_MOD;
  park.writeBigUInt64BE(makeCookie('park', 3), 8);
  const n = lines.length;
  app.error!(dp, { type: 'error', xid: 1, errType: C.OFPET_BAD_MATCH, code: 0, data: park });
  t.is(lines.length, n);
  app.stop!();
});

test('onPacketIn (metrics verdict l2) is called for each packet-in the app handles, not for an unknown datapath', async (t) => {
  let n = 0;
  const app = createL2App({ onPacketIn: () => void (n += 1) });
  const a = fakeDp(7n);
  t.false(app.packetIn!(a.dp, pi(1, '00:00:00:00:00:01', '00:00:00:00:00:02')), 'not up yet');
  t.is(n, 0);
  await app.switchUp!(a.dp);
  app.packetIn!(a.dp, pi(1, '00:00:00:00:00:01', '00:00:00:00:00:02'));
  app.packetIn!(a.dp, pi(2, '00:00:00:00:00:02', '00:00:00:00:00:01'));
  t.is(n, 2);
  app.stop!();
});
