import test from 'ava';
import fc from 'fast-check';
import { makeCookie } from '../../../controller/cookies.js';
import { L2ConfigError, L2Learning, L2Switch, L2_FLOW_PRIORITY } from '../../../controller/l2/learning.js';
import * as C from '../../../controller/openflow/constants.js';
import type { MessageOf, OfpMessage } from '../../../controller/openflow/types.js';
import { buildIcmpEchoRequest } from '../../../controller/packet/build.js';
import { FakeFlowTable } from '../../support/fakeflowtable.js';
import { FakeNet, tree22 } from './fakenet.js';

const L2_COOKIE = makeCookie('l2', 0);
const HOSTS = ['h1', 'h2', 'h3', 'h4'];

function pingall(net: FakeNet): string[] {
  const failed: string[] = [];
  for (const a of HOSTS) for (const b of HOSTS) if (a !== b && !net.ping(a, b)) failed.push(`${a}->${b}`);
  return failed;
}

function packetIn(inPort: number, frame: Buffer, extra: Partial<MessageOf<'packet_in'>> = {}): MessageOf<'packet_in'> {
  return {
    type: 'packet_in',
    xid: 0,
    bufferId: C.OFP_NO_BUFFER,
    totalLen: frame.length,
    reason: C.OFPR_NO_MATCH,
    tableId: 0,
    cookie: L2_COOKIE,
    match: [{ field: 'in_port', value: inPort }],
    data: frame,
    ...extra,
  };
}

const frame = (src: string, dst: string) =>
  buildIcmpEchoRequest({ ethSrc: src, ethDst: dst, src: '10.0.0.1', dst: '10.0.0.2', id: 1, seq: 1 });

const outputsOf = (msgs: OfpMessage[]) =>
  msgs.flatMap((m) => (m.type === 'packet_out' ? m.actions.flatMap((a) => (a.type === 'output' ? [a.port] : [])) : []));

test('switchUp installs a metered table-miss to the controller, unbuffered', (t) => {
  const table = new FakeFlowTable();
  table.applyOk(new L2Switch({ packetInRate: 500 }).switchUp());
  const flows = table.flows();
  t.is(flows.length, 1);
  t.is(flows[0]!.priority, 0);
  t.is(flows[0]!.cookie, L2_COOKIE);
  t.deepEqual(flows[0]!.match, []);
  t.deepEqual(table.meters.get(1), { flags: C.OFPMF_PKTPS | C.OFPMF_STATS, bands: [{ type: 'drop', rate: 500, burstSize: 0 }] });
  const r = table.lookup({ in_port: 3, eth_dst: '00:00:00:00:00:09' });
  t.true(r.controller);
  t.deepEqual(r.meters, [1]);
  t.deepEqual(r.outputs.map((o) => [o.port, o.maxLen]), [[C.OFPP_CONTROLLER, C.OFPCML_NO_BUFFER]]);
});

test('switchUp again (reconnect) replaces our flows and meter without errors, and keeps other owners\' flows', (t) => {
  const table = new FakeFlowTable();
  const sw = new L2Switch();
  table.applyOk(sw.switchUp());
  const fm = (cookie: bigint, priority: number): MessageOf<'flow_mod'> => ({
    type: 'flow_mod', xid: 0, cookie, cookieMask: 0n, tableId: 0, command: C.OFPFC_ADD, idleTimeout: 0, hardTimeout: 0,
    priority, bufferId: C.OFP_NO_BUFFER, outPort: C.OFPP_ANY, outGroup: C.OFPG_ANY, flags: 0,
    match: [{ field: 'eth_dst', value: '00:00:00:00:00:05' }], instructions: [],
  });
  table.applyOk([fm(makeCookie('park', 7), 1000), fm(0x1234n, 50), fm(makeCookie('l2', 3), L2_FLOW_PRIORITY)]);
  t.deepEqual(table.apply(sw.switchUp()), []);
  t.deepEqual(
    table.flows().map((f) => f.cookie).sort(),
    [0x1234n, L2_COOKIE, makeCookie('park', 7)].sort(),
  );
});

test('tree depth 2 fanout 2: pingall succeeds, then known pairs are forwarded by flows without the controller', (t) => {
  const net = tree22(new L2Learning());
  t.deepEqual(pingall(net), []);
  t.deepEqual(net.errors, []);
  // h1 (s2 port 1) -> h2 (s2 port 2): straight across s2.
  const local = net.whereTo('s2', 1, '00:00:00:00:00:01', '00:00:00:00:00:02');
  t.false(local.controller);
  t.deepEqual(local.ports, [2]);
  t.is(local.flows[0]!.cookie, L2_COOKIE);
  t.is(local.flows[0]!.idleTimeout, 60);
  // h1 -> h4 crosses s2 (uplink 3), s1 (port 2 to s3), s3 (port 2).
  t.deepEqual(net.whereTo('s2', 1, '00:00:00:00:00:01', '00:00:00:00:00:04').ports, [3]);
  t.deepEqual(net.whereTo('s1', 1, '00:00:00:00:00:01', '00:00:00:00:00:04').ports, [2]);
  t.deepEqual(net.whereTo('s3', 3, '00:00:00:00:00:01', '00:00:00:00:00:04').ports, [2]);
  const before = net.packetIns;
  t.deepEqual(pingall(net), []);
  t.is(net.packetIns, before, 'a second pingall is switched entirely in the data plane');
});

test('an unknown destination is flooded everywhere but back, once per host', (t) => {
  const net = tree22(new L2Learning());
  net.send('h1', frame('00:00:00:00:00:01', '00:00:00:00:00:99'));
  t.deepEqual(
    HOSTS.map((h) => net.host(h).received.length),
    [0, 1, 1, 1],
  );
  const up = net.sent.get('s2')!.filter((m) => m.type === 'packet_out');
  t.deepEqual(outputsOf(up), [C.OFPP_FLOOD]);
  t.is((up[0] as MessageOf<'packet_out'>).inPort, 1, 'in_port set so FLOOD skips the ingress port');
});

test('a host that moves is relearned and stale flows to its old port are deleted', (t) => {
  const l2 = new L2Learning();
  const net = tree22(l2);
  t.deepEqual(pingall(net), []);
  net.moveHost('h1', 's3', 5);
  t.true(net.ping('h1', 'h2'));
  t.true(net.ping('h4', 'h1'));
  t.deepEqual(net.errors, []);
  t.is(l2.switch(2n)!.portOf('00:00:00:00:00:01'), 3);
  t.is(l2.switch(3n)!.portOf('00:00:00:00:00:01'), 5);
  t.deepEqual(net.whereTo('s2', 2, '00:00:00:00:00:02', '00:00:00:00:00:01').ports, [3]);
  // No flow anywhere still sends h1's traffic to its old port on s2.
  const stale = net.sw('s2').table.flows().filter((f) =>
    f.match.some((m) => m.field === 'eth_dst' && m.value === '00:00:00:00:00:01') &&
    f.instructions.some((i) => i.type === 'apply_actions' && i.actions.some((a) => a.type === 'output' && a.port === 1)));
  t.deepEqual(stale, []);
  t.deepEqual(pingall(net), []);
});

test('port down forgets its MACs and deletes flows into and out of it', (t) => {
  const l2 = new L2Learning();
  const net = tree22(l2);
  t.deepEqual(pingall(net), []);
  net.portDown('s2', 1);
  t.is(l2.switch(2n)!.portOf('00:00:00:00:00:01'), undefined);
  const uses1 = net.sw('s2').table.flows().filter((f) =>
    f.match.some((m) => m.field === 'in_port' && m.value === 1) ||
    f.instructions.some((i) => i.type === 'apply_actions' && i.actions.some((a) => a.type === 'output' && a.port === 1)));
  t.deepEqual(uses1, []);
  const r = net.whereTo('s2', 2, '00:00:00:00:00:02', '00:00:00:00:00:01');
  t.true(r.controller, 'h1 is unknown on s2 again: packets for it go to the controller');
  t.true(net.ping('h2', 'h3'));
});

test('learned flows idle out after the configured idle timeout; forwarding recovers', (t) => {
  const net = tree22(new L2Learning({ idleTimeoutSec: 5 }));
  t.deepEqual(pingall(net), []);
  t.true(net.sw('s2').table.flows().length > 1);
  net.tick(5_000);
  t.is(net.sw('s2').table.flows().length, 1, 'only the table-miss is left');
  t.deepEqual(pingall(net), []);
});

test('MACs age out after macAgeSec and their flows are deleted even without idle timeouts', (t) => {
  const l2 = new L2Learning({ idleTimeoutSec: 0, macAgeSec: 10 });
  const net = tree22(l2);
  t.deepEqual(pingall(net), []);
  t.is(l2.switch(1n)!.size, 4);
  net.tick(11_000);
  for (const sw of ['s1', 's2', 's3']) t.is(net.sw(sw).table.flows().length, 1, `${sw} keeps only the table-miss`);
  t.is(l2.switch(1n)!.size, 0);
  t.deepEqual(pingall(net), []);
});

test('the MAC table is bounded: the least recently seen MAC is evicted with its flows', (t) => {
  const sw = new L2Switch({ maxMacs: 2 });
  const table = new FakeFlowTable();
  table.applyOk(sw.switchUp());
  const mac = (i: number) => `00:00:00:00:00:0${i}`;
  table.applyOk(sw.packetIn(0, packetIn(1, frame(mac(1), mac(9)))));
  table.applyOk(sw.packetIn(2000, packetIn(2, frame(mac(2), mac(1)))));
  t.is(table.flows().length, 2, 'flow h2 -> h1 installed');
  table.applyOk(sw.packetIn(4000, packetIn(3, frame(mac(3), mac(2)))));
  t.is(sw.size, 2);
  t.is(sw.portOf(mac(1)), undefined, 'h1 was least recently seen');
  t.deepEqual(sw.learned().map((e) => e.mac), [mac(2), mac(3)]);
  const naming1 = table.flows().filter((f) => f.match.some((m) => m.field !== 'unknown' && m.value === mac(1)));
  t.deepEqual(naming1, []);
});

test('a switch without meters gets an unmetered table-miss after its errors', (t) => {
  const sw = new L2Switch();
  const table = new FakeFlowTable({ meters: false });
  const errors = table.apply(sw.switchUp());
  t.true(errors.length >= 2);
  t.deepEqual(table.flows(), []);
  for (const e of errors) table.applyOk(sw.error(e));
  t.false(sw.metered);
  const r = table.lookup({ in_port: 1 });
  t.true(r.controller);
  t.deepEqual(r.meters, []);
  // Unrelated errors change nothing.
  t.deepEqual(sw.error({ type: 'error', xid: 0, errType: C.OFPET_BAD_REQUEST, code: 0, data: Buffer.alloc(64) }), []);
});

test('packetRate 0 installs no meter', (t) => {
  const msgs = new L2Switch({ packetInRate: 0 }).switchUp();
  t.false(msgs.some((m) => m.type === 'meter_mod'));
  const table = new FakeFlowTable();
  table.applyOk(msgs);
  t.deepEqual(table.lookup({ in_port: 1 }).meters, []);
});

test('packet-in edge cases: other apps, multicast source, runts, hairpin, buffered packets', (t) => {
  const sw = new L2Switch();
  sw.switchUp();
  const a = '00:00:00:00:00:0a';
  const b = '00:00:00:00:00:0b';
  t.deepEqual(sw.packetIn(0, packetIn(1, frame(a, b), { cookie: makeCookie('park', 1) })), [], 'a parking flow sent it');
  t.is(sw.size, 0);
  t.deepEqual(sw.packetIn(0, packetIn(1, frame('01:00:5e:00:00:01', b))), [], 'multicast source is dropped');
  t.deepEqual(sw.packetIn(0, packetIn(1, Buffer.alloc(13))), [], 'runt');
  t.deepEqual(sw.packetIn(0, packetIn(1, frame(a, b), { match: [] })), [], 'no in_port');
  // A packet-in with a foreign (non-seamless) cookie, e.g. 0xffff.. for "no flow", is ours to handle.
  t.deepEqual(outputsOf(sw.packetIn(0, packetIn(1, frame(a, b), { cookie: 0xffff_ffff_ffff_ffffn }))), [C.OFPP_FLOOD]);
  sw.packetIn(0, packetIn(2, frame(b, a)));
  // Hairpin: b is behind port 2 and this packet for b came in on port 2.
  t.deepEqual(sw.packetIn(0, packetIn(2, frame(a, b))).filter((m) => m.type !== 'flow_mod'), []);
  // Buffered: packet_out names the buffer and carries no data.
  const out = sw.packetIn(0, packetIn(1, frame(a, b), { bufferId: 42 }));
  const po = out.find((m): m is MessageOf<'packet_out'> => m.type === 'packet_out')!;
  t.is(po.bufferId, 42);
  t.is(po.data.length, 0);
  t.deepEqual(outputsOf(out), [2]);
  const unbuffered = sw.packetIn(0, packetIn(1, frame(a, b))).find((m): m is MessageOf<'packet_out'> => m.type === 'packet_out')!;
  t.is(unbuffered.bufferId, C.OFP_NO_BUFFER);
  t.true(unbuffered.data.length > 14);
});

test('events for a datapath that is not up are ignored', (t) => {
  const l2 = new L2Learning();
  t.deepEqual(l2.packetIn(0, 9n, packetIn(1, frame('00:00:00:00:00:01', '00:00:00:00:00:02'))), []);
  l2.switchUp(9n);
  l2.switchDown(9n);
  t.is(l2.switch(9n), undefined);
});

test('bad options throw L2ConfigError with a stable code', (t) => {
  for (const o of [{ idleTimeoutSec: 70000 }, { packetInRate: -1 }, { meterId: 0 }, { maxMacs: 0 }, { macAgeSec: 1.5 }]) {
    const e = t.throws(() => new L2Learning(o), { instanceOf: L2ConfigError });
    t.is(e?.code, 'ERR_L2_CONFIG');
  }
});

test('property: random pings, host moves and time keep every pair reachable and every flow consistent', (t) => {
  const hostArb = fc.constantFrom(...HOSTS);
  const step = fc.oneof(
    fc.record({ kind: fc.constant('ping' as const), a: hostArb, b: hostArb }),
    fc.record({ kind: fc.constant('move' as const), h: hostArb, sw: fc.constantFrom('s2', 's3'), port: fc.integer({ min: 10, max: 14 }) }),
    fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 90_000 }) }),
  );
  // Moves announce themselves with a gratuitous ARP: a silent host that moved is
  // unreachable behind any learning switch until it sends something.
  fc.assert(
    fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
      const l2 = new L2Learning({ idleTimeoutSec: 60, macAgeSec: 120 });
      const net = tree22(l2);
      const used = new Set<string>();
      for (const s of steps) {
        if (s.kind === 'ping' && s.a !== s.b) {
          if (!net.ping(s.a, s.b)) return false;
        } else if (s.kind === 'move') {
          const key = `${s.sw}:${s.port}`;
          if (used.has(key)) continue;
          used.add(key);
          net.moveHost(s.h, s.sw, s.port, true);
        } else if (s.kind === 'tick') net.tick(s.ms);
      }
      if (net.errors.length > 0) return false;
      // Every learned flow outputs to where its destination is learned on that switch.
      for (const sw of net.switches.values()) {
        const st = l2.switch(sw.dpid)!;
        for (const f of sw.table.flows()) {
          if (f.priority !== L2_FLOW_PRIORITY) continue;
          const dst = f.match.find((m) => m.field === 'eth_dst')!.value as string;
          const src = f.match.find((m) => m.field === 'eth_src')!.value as string;
          const inPort = f.match.find((m) => m.field === 'in_port')!.value as number;
          const out = f.instructions.flatMap((i) => (i.type === 'apply_actions' ? i.actions : [])).find((a) => a.type === 'output');
          if (out?.type !== 'output' || st.portOf(dst) !== out.port || st.portOf(src) !== inPort) return false;
        }
      }
      return true;
    }),
    { numRuns: 150 },
  );
  t.pass();
});
