// The topology app shell: probes on the injected clock, LLDP consumed, replaced connections ignored.
import test from 'ava';
import type { Datapath, PortInfo } from '../../../controller/app.js';
import { VirtualClock } from '../../../controller/clock.js';
import type { OfpMessage } from '../../../controller/openflow/types.js';
import { buildLldpProbe } from '../../../controller/packet/lldp.js';
import { createTopologyApp } from '../../../controller/topology/app.js';
import { LLDP_PRIORITY } from '../../../controller/topology/discovery.js';

function fakeDp(id: bigint, nPorts: number): Datapath & { sent: OfpMessage[] } {
  const ports = new Map<number, PortInfo>();
  for (let p = 1; p <= nPorts; p++) ports.set(p, { portNo: p, name: `s${id}-eth${p}`, hwAddr: `02:00:00:00:0${id}:0${p}`, up: true });
  ports.set(0xfffffffe, { portNo: 0xfffffffe, name: `s${id}`, hwAddr: '02:00:00:00:00:00', up: true });
  let xid = 1;
  const sent: OfpMessage[] = [];
  return {
    id,
    idHex: id.toString(16).padStart(16, '0'),
    features: { type: 'features_reply', xid: 0, datapathId: id, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0, reserved: 0 },
    ports,
    connected: true,
    nextXid: () => xid++,
    send: (...m: OfpMessage[]) => void sent.push(...m),
    request: () => Promise.reject(new Error('not used')),
    barrier: () => Promise.resolve(),
    sent,
  };
}

const probes = (msgs: OfpMessage[]) => msgs.filter((m) => m.type === 'packet_out').length;

test('switch-up installs the LLDP flow and probes every physical port (not LOCAL); the Clock drives later rounds', (t) => {
  const clock = new VirtualClock();
  const app = createTopologyApp({ clock, controllerId: 'c1' });
  const dp = fakeDp(1n, 3);
  void app.switchUp!(dp);
  const flow = dp.sent.find((m) => m.type === 'flow_mod' && m.priority === LLDP_PRIORITY);
  t.truthy(flow);
  t.is(probes(dp.sent), 3);
  dp.sent.length = 0;
  clock.advanceSync(999);
  t.is(probes(dp.sent), 0);
  clock.advanceSync(1);
  t.is(probes(dp.sent), 3);
  app.stop!();
  t.is(clock.pending, 0, 'stop clears the probe timer');
});

test('our probe is consumed and becomes a link; other packets are left to later apps', (t) => {
  const clock = new VirtualClock();
  const app = createTopologyApp({ clock, controllerId: 'c1' });
  const a = fakeDp(1n, 2);
  const b = fakeDp(2n, 2);
  void app.switchUp!(a);
  void app.switchUp!(b);
  const lldp = buildLldpProbe({ controllerId: 'c1', dpid: 1n, port: 2 }, '02:00:00:00:01:02', 4);
  const pi = (data: Buffer) => ({ type: 'packet_in' as const, xid: 0, bufferId: 0xffffffff, totalLen: data.length, reason: 0, tableId: 0, cookie: 0n, match: [{ field: 'in_port' as const, value: 1 }], data });
  t.true(app.packetIn!(b, pi(lldp)));
  t.deepEqual(app.graph.links().map((l) => [l.a, l.b]), [[{ dpid: 1n, port: 2 }, { dpid: 2n, port: 1 }]]);
  t.false(app.packetIn!(b, pi(Buffer.alloc(60))) === true, 'a non-LLDP frame is not consumed');
  // A replaced connection (same dpid connected again) is ignored.
  const b2 = fakeDp(2n, 2);
  void app.switchUp!(b2);
  t.false(app.packetIn!(b, pi(lldp)) === true);
  app.switchDown!(b, 'replaced');
  t.true(app.graph.hasSwitch(2n), 'the old connection going down does not remove the new one');
  app.stop!();
});
