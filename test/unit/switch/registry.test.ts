// The datapath registry and app dispatch, on fake sockets and a fake clock.
import test from 'ava';
import type { App, Datapath, DisconnectReason, Msg } from '../../../controller/app.js';
import { createLogger, silentLogger } from '../../../controller/log.js';
import { build, OFPPR_ADD } from '../../../controller/openflow/index.js';
import { AppDispatcher } from '../../../controller/switch/apps.js';
import { DatapathRegistry, SwitchWaitError } from '../../../controller/switch/registry.js';
import { VirtualClock } from '../../../controller/clock.js';
import { featuresReply, port } from '../../support/switch-fakes.js';
import { FakeSocket, tick } from './fakes.js';

function registry(apps: App[], clock = new VirtualClock(1_000_000), logs?: string[]): DatapathRegistry {
  const log = logs === undefined ? silentLogger : createLogger({ level: 'debug', sink: (l) => logs.push(l) });
  return new DatapathRegistry({ apps: new AppDispatcher(apps, log, () => clock.now()), config: { echoIntervalMs: 1000, echoTimeoutMs: 3000 }, clock, log });
}

/** Plays a switch with datapath id `dpid` through the handshake on a new fake socket. */
async function connect(reg: DatapathRegistry, dpid: bigint): Promise<FakeSocket> {
  const sock = new FakeSocket();
  reg.accept(sock);
  sock.feed({ type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [4] }] });
  await tick();
  const fr = sock.take().find((m) => m.type === 'features_request')!;
  sock.feed(featuresReply(fr.xid, dpid));
  await tick();
  const pd = sock.take().find((m) => m.type === 'multipart_request')!;
  sock.feed({ type: 'multipart_reply', xid: pd.xid, flags: 0, body: { mpType: 'port_desc', ports: [port(1, 'p1')] } });
  await tick();
  return sock;
}

function packetIn(inPort: number): Msg<'packet_in'> {
  return { type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: 4, reason: 0, tableId: 0, cookie: 0n, match: build.match({ in_port: inPort }), data: Buffer.from([1, 2, 3, 4]) };
}

test('packet_in goes to the apps in order until one consumes it; a throwing app does not stop the rest', async (t) => {
  const seen: string[] = [];
  const logs: string[] = [];
  const apps: App[] = [
    { name: 'broken', packetIn: () => { seen.push('broken'); throw new Error('boom'); } },
    { name: 'parking', packetIn: (_dp, msg) => { seen.push('parking'); return msg.match[0]?.field === 'in_port' && msg.match[0].value === 7; } },
    { name: 'fabric', packetIn: () => { seen.push('fabric'); return true; } },
    { name: 'never', packetIn: () => { seen.push('never'); return true; } },
  ];
  const reg = registry(apps, new VirtualClock(1_000_000), logs);
  const sock = await connect(reg, 1n);
  sock.feed(packetIn(7));
  t.deepEqual(seen, ['broken', 'parking']);
  seen.length = 0;
  sock.feed(packetIn(3));
  t.deepEqual(seen, ['broken', 'parking', 'fabric']);
  t.true(logs.some((l) => l.includes('app packetIn threw') && l.includes('boom')));
});

test('an app that throws on every packet-in: 10 error lines per app and switch per minute, then a summary', async (t) => {
  const logs: string[] = [];
  const clock = new VirtualClock(1_000_000);
  const reg = registry([{ name: 'broken', packetIn: () => { throw new Error('boom'); } }], clock, logs);
  const a = await connect(reg, 1n);
  const b = await connect(reg, 2n);
  const threw = (dpid: string): number => logs.filter((l) => l.includes('"msg":"app packetIn threw"') && l.includes(dpid)).length;
  for (let i = 0; i < 500; i += 1) a.feed(packetIn(3));
  b.feed(packetIn(3));
  t.is(threw('0000000000000001'), 10);
  t.is(threw('0000000000000002'), 1, "another switch's errors are counted on their own");
  // A minute of one packet-in per second (also keeps the switch alive), then the next window.
  for (let s = 0; s < 60; s += 1) {
    clock.advanceSync(1000);
    a.feed(packetIn(3));
  }
  const summaries = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.like === 'app packetIn threw');
  t.is(summaries.length, 1);
  t.is(summaries[0]!.msg, 'suppressed 549 similar warnings');
  t.is(summaries[0]!.app, 'broken');
  t.is(summaries[0]!.dpid, '0000000000000001');
  t.is(threw('0000000000000001'), 11);
});

test('the hot path: what an app sends from packetIn leaves in one write', async (t) => {
  const apps: App[] = [
    {
      name: 'echoer',
      packetIn: (dp, msg) => {
        dp.send(build.flowMod({ priority: 5, match: msg.match }), build.packetOut({ inPort: 1, data: msg.data }));
        return true;
      },
    },
  ];
  const reg = registry(apps);
  const sock = await connect(reg, 1n);
  sock.take();
  const before = sock.writes.length;
  sock.feed(packetIn(1), packetIn(2), packetIn(3)); // three packet-ins in one TCP chunk
  await tick();
  t.is(sock.writes.length, before + 1);
  t.deepEqual(
    sock.take().map((m) => m.type),
    ['flow_mod', 'packet_out', 'flow_mod', 'packet_out', 'flow_mod', 'packet_out'],
  );
});

test('switchUp/switchDown reach apps and events; port_status and flow_removed reach apps', async (t) => {
  const calls: string[] = [];
  const app: App = {
    name: 'rec',
    switchUp: async (dp) => {
      await tick();
      calls.push(`up ${dp.idHex} ports=${[...dp.ports.keys()].join(',')}`);
    },
    switchDown: (dp, reason) => void calls.push(`down ${dp.idHex} ${reason}`),
    portStatus: (dp, msg) => void calls.push(`port ${msg.desc.portNo} known=${dp.ports.has(msg.desc.portNo)}`),
    flowRemoved: (_dp, msg) => void calls.push(`removed ${msg.cookie}`),
    error: (_dp, msg) => void calls.push(`error ${msg.errType}`),
  };
  const reg = registry([app]);
  const events: string[] = [];
  reg.on('switchUp', (dp) => events.push(`up ${dp.id}`));
  reg.on('switchDown', (dp, reason) => events.push(`down ${dp.id} ${reason}`));
  const waited = reg.waitForSwitch(0x42n);
  const sock = await connect(reg, 0x42n);
  const dp = await waited;
  t.is(dp.id, 0x42n);
  t.is(reg.datapaths.get(0x42n), dp);
  t.is(await reg.waitForSwitch(0x42n), dp, 'already up resolves at once');
  sock.feed({ type: 'port_status', xid: 0, reason: OFPPR_ADD, desc: port(9, 'p9') });
  sock.feed({ type: 'flow_removed', xid: 0, cookie: 3n, priority: 1, reason: 0, tableId: 0, durationSec: 0, durationNsec: 0, idleTimeout: 0, hardTimeout: 0, packetCount: 0n, byteCount: 0n, match: [] });
  sock.feed({ type: 'error', xid: 12345, errType: 5, code: 1, data: Buffer.alloc(0) });
  const down = reg.waitForSwitchDown(0x42n);
  sock.emit('close');
  t.is(await down, 'socket-closed');
  t.deepEqual(calls, ['up 0000000000000042 ports=1', 'port 9 known=true', 'removed 3', 'error 5', 'down 0000000000000042 socket-closed']);
  t.deepEqual(events, ['up 66', 'down 66 socket-closed']);
  t.is(reg.datapaths.size, 0);
  t.is(reg.connectionCount, 0);
});

test('a datapath id that connects again replaces the old connection', async (t) => {
  const calls: string[] = [];
  const app: App = {
    name: 'rec',
    switchUp: (dp) => void calls.push(`up ${(dp as unknown as { remote: string }).remote}`),
    switchDown: (dp, reason) => void calls.push(`down ${(dp as unknown as { remote: string }).remote} ${reason}`),
  };
  const reg = registry([app]);
  const s1 = await connect(reg, 7n);
  const dp1 = reg.datapaths.get(7n)!;
  const s2 = await connect(reg, 7n);
  const dp2 = reg.datapaths.get(7n)!;
  t.not(dp1, dp2);
  t.false(dp1.connected);
  t.true(dp2.connected);
  t.true(s1.destroyed);
  t.false(s2.destroyed);
  const r1 = `192.0.2.1:${s1.remotePort}`;
  const r2 = `192.0.2.1:${s2.remotePort}`;
  t.deepEqual(calls, [`up ${r1}`, `down ${r1} replaced`, `up ${r2}`]);
  // The old socket's close comes later and must not remove the new datapath.
  await tick();
  t.is(reg.datapaths.get(7n), dp2);
  t.is(reg.connectionCount, 1);
});

test('different datapaths live side by side', async (t) => {
  const reg = registry([]);
  await connect(reg, 1n);
  await connect(reg, 2n);
  await connect(reg, 3n);
  t.deepEqual([...reg.datapaths.keys()].sort(), [1n, 2n, 3n]);
  reg.closeAll('controller-stopped');
  await tick();
  t.is(reg.datapaths.size, 0);
  t.is(reg.connectionCount, 0);
  const late = new FakeSocket();
  t.is(reg.accept(late), undefined);
  t.true(late.destroyed);
  await t.throwsAsync(reg.waitForSwitch(), { instanceOf: SwitchWaitError, message: /stopped/ });
});

test('waitForSwitch times out with SWITCH_WAIT_TIMEOUT and leaves no listener', async (t) => {
  const clock = new VirtualClock(1_000_000);
  const reg = registry([], clock);
  const p = reg.waitForSwitch(9n, { timeoutMs: 500 });
  clock.advanceSync(500);
  const e = await t.throwsAsync(p, { instanceOf: SwitchWaitError });
  t.is(e?.code, 'SWITCH_WAIT_TIMEOUT');
  t.is(reg.listenerCount('switchUp'), 0);
  t.is(clock.pending, 0);
});

test('an app whose switchUp rejects is logged; later apps still run and the switch is announced', async (t) => {
  const logs: string[] = [];
  const order: string[] = [];
  const reg = registry(
    [
      { name: 'a', switchUp: async () => { order.push('a'); throw new Error('flow install failed'); } },
      { name: 'b', switchUp: () => void order.push('b') },
    ],
    new VirtualClock(1_000_000),
    logs,
  );
  const up = reg.waitForSwitch();
  await connect(reg, 5n);
  await up;
  t.deepEqual(order, ['a', 'b']);
  t.true(logs.some((l) => l.includes('app switchUp failed') && l.includes('flow install failed')));
});

test('1000 connect/disconnect cycles through the registry leave nothing behind', async (t) => {
  const clock = new VirtualClock(1_000_000);
  let ups = 0;
  let downs = 0;
  const reg = registry([{ name: 'count', switchUp: () => void (ups += 1), switchDown: () => void (downs += 1) }], clock);
  const sockets: FakeSocket[] = [];
  const reasons: DisconnectReason[] = [];
  reg.on('switchDown', (_dp: Datapath, r) => reasons.push(r));
  for (let i = 0; i < 1000; i += 1) {
    const sock = await connect(reg, BigInt(i % 10)); // the same 10 dpids reconnect: half the ends are 'replaced'
    sockets.push(sock);
    if (i % 2 === 0) sock.emit('close');
  }
  reg.closeAll('controller-stopped');
  await tick();
  t.is(ups, 1000);
  t.is(downs, 1000);
  t.is(reasons.filter((r) => r === 'socket-closed').length, 500);
  t.is(reasons.filter((r) => r === 'replaced').length + reasons.filter((r) => r === 'controller-stopped').length, 500);
  t.is(clock.pending, 0);
  t.true(sockets.every((s) => s.listenerTotal() === 0 && s.destroyed));
  t.is(reg.connectionCount, 0);
  t.is(reg.datapaths.size, 0);
  t.is(reg.listenerCount('switchDown'), 1);
});

test('the registry totals packet-ins dropped before UP, over open and closed connections', async (t) => {
  const reg = registry([]);
  const early = (sock: FakeSocket, n: number): void => {
    for (let i = 0; i < n; i += 1) sock.feed(packetIn(1));
  };
  const a = new FakeSocket();
  reg.accept(a);
  a.feed({ type: 'hello', xid: 1, elements: [] });
  early(a, 3);
  const b = new FakeSocket();
  reg.accept(b);
  b.feed({ type: 'hello', xid: 1, elements: [] });
  early(b, 2);
  t.is(reg.packetInsDroppedBeforeUp, 5);
  a.emit('close');
  t.is(reg.connectionCount, 1);
  t.is(reg.packetInsDroppedBeforeUp, 5, 'a closed connection still counts');
  const c = await connect(reg, 4n);
  c.feed(packetIn(1)); // after UP: delivered (no app consumes it), not dropped
  t.is(reg.packetInsDroppedBeforeUp, 5);
});

/** Plays an auxiliary connection (features_reply.auxiliary_id = `auxId`) of datapath `dpid`; it needs no SET_CONFIG or port-desc. */
async function connectAux(reg: DatapathRegistry, dpid: bigint, auxId: number): Promise<FakeSocket> {
  const sock = new FakeSocket();
  const conn = reg.accept(sock)!;
  sock.feed({ type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [4] }] });
  await tick();
  const fr = sock.take().find((m) => m.type === 'features_request')!;
  sock.feed({ ...featuresReply(fr.xid, dpid), auxiliaryId: auxId });
  await tick();
  if (conn.state !== 'UP') throw new Error(`auxiliary handshake did not complete: ${conn.state}`);
  return sock;
}

test('an auxiliary connection never replaces the main one; its packet-ins reach apps through the main Datapath (OF 1.3.5 §6.3.6)', async (t) => {
  const calls: string[] = [];
  const seen: Datapath[] = [];
  const app: App = {
    name: 'rec',
    switchUp: (dp) => void calls.push(`up ${dp.idHex}`),
    switchDown: (dp, reason) => void calls.push(`down ${dp.idHex} ${reason}`),
    packetIn: (dp, msg) => {
      seen.push(dp);
      dp.send(build.packetOut({ inPort: 1, data: msg.data }));
      return true;
    },
  };
  const reg = registry([app]);
  const events: string[] = [];
  reg.on('switchUp', (dp) => events.push(`up ${dp.id}`));
  const mainSock = await connect(reg, 7n);
  const main = reg.datapaths.get(7n)!;
  const auxSock = await connectAux(reg, 7n, 1);
  t.deepEqual(auxSock.take(), [], 'no SET_CONFIG or port-desc on the auxiliary connection');
  t.is(reg.datapaths.get(7n), main, 'main connection kept');
  t.true(main.connected);
  t.false(mainSock.destroyed);
  t.is(reg.auxiliaryConnectionCount, 1);
  t.is(reg.connectionCount, 2);
  t.deepEqual(calls, ['up 0000000000000007'], 'apps saw one switchUp');
  t.deepEqual(events, ['up 7']);

  mainSock.take();
  auxSock.feed(packetIn(3));
  await tick();
  t.deepEqual(seen, [main], 'the app got the main Datapath');
  t.deepEqual(mainSock.take().map((m) => m.type), ['packet_out'], 'the reply went on the main connection');
  t.deepEqual(auxSock.take(), []);

  // The auxiliary connection going away is invisible to apps.
  auxSock.emit('close');
  await tick();
  t.is(reg.auxiliaryConnectionCount, 0);
  t.is(reg.datapaths.get(7n), main);
  t.deepEqual(calls, ['up 0000000000000007']);
  mainSock.emit('close');
  await tick();
  t.deepEqual(calls, ['up 0000000000000007', 'down 0000000000000007 socket-closed']);
});

test('packet-ins on an auxiliary connection whose datapath has no main connection are dropped and counted', async (t) => {
  const seen: bigint[] = [];
  const logs: string[] = [];
  const reg = registry([{ name: 'rec', packetIn: (dp) => void seen.push(dp.id) }], new VirtualClock(1_000_000), logs);
  const auxSock = await connectAux(reg, 9n, 2);
  t.is(reg.datapaths.size, 0, 'an auxiliary connection is not a datapath');
  auxSock.feed(packetIn(1), packetIn(2));
  t.deepEqual(seen, []);
  t.is(reg.auxPacketInsDropped, 2);
  t.is(logs.filter((l) => l.includes('auxiliary connection without a main one')).length, 1, 'logged once');
  // Once the main connection is up, they flow.
  await connect(reg, 9n);
  auxSock.feed(packetIn(3));
  t.deepEqual(seen, [9n]);
  t.is(reg.auxPacketInsDropped, 2);
  reg.closeAll('controller-stopped');
  await tick();
  t.is(reg.connectionCount, 0);
  t.is(reg.auxiliaryConnectionCount, 0);
});

test('flow_removed on an auxiliary connection reaches apps through the main Datapath; port_status there is ignored', async (t) => {
  const calls: string[] = [];
  const reg = registry([
    {
      name: 'rec',
      flowRemoved: (dp, msg) => void calls.push(`removed ${dp.idHex} ${msg.cookie}`),
      portStatus: (_dp, msg) => void calls.push(`port ${msg.desc.portNo}`),
    },
  ]);
  await connect(reg, 3n);
  const main = reg.datapaths.get(3n)!;
  const auxSock = await connectAux(reg, 3n, 1);
  auxSock.feed({ type: 'flow_removed', xid: 0, cookie: 8n, priority: 1, reason: 0, tableId: 0, durationSec: 0, durationNsec: 0, idleTimeout: 0, hardTimeout: 0, packetCount: 0n, byteCount: 0n, match: [] });
  auxSock.feed({ type: 'port_status', xid: 0, reason: OFPPR_ADD, desc: port(9, 'p9') });
  t.deepEqual(calls, ['removed 0000000000000003 8']);
  t.false(main.ports.has(9));
});
