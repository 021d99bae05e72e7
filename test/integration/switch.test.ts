// The controller against the machine's Open vSwitch (userspace datapath): a
// netdev bridge connects to our listener on an ephemeral loopback port.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import type { App, Msg } from '../../controller/app.js';
import { startController, type Controller } from '../../controller/daemon.js';
import { createLogger } from '../../controller/log.js';
import {
  build,
  OFPCML_NO_BUFFER,
  OFPFF_SEND_FLOW_REM,
  OFPG_ANY,
  OFPP_ANY,
  OFPP_CONTROLLER,
  OFPP_LOCAL,
  OFPP_TABLE,
  OFPR_ACTION,
  OFPTT_ALL,
  OFPCR_ROLE_MASTER,
} from '../../controller/openflow/index.js';
import { createBridge, dumpFlows, ofport, setController, vsctl } from '../support/ovs.js';

const log = createLogger({ level: process.env.SEAMLESS_TEST_LOG === '1' ? 'debug' : 'error' });

/** A datapath id nobody else uses. */
function uniqueDpid(): bigint {
  return BigInt(`0x5e${randomBytes(6).toString('hex')}`);
}

interface Recorder {
  app: App;
  packetIns: Msg<'packet_in'>[];
  removed: Msg<'flow_removed'>[];
}

function recorder(): Recorder {
  const r: Recorder = {
    packetIns: [],
    removed: [],
    app: {
      name: 'recorder',
      packetIn: (_dp, msg) => {
        // packet_in data is a view of the received chunk: copy what is kept.
        r.packetIns.push({ ...msg, data: Buffer.from(msg.data) });
        return true;
      },
      flowRemoved: (_dp, msg) => void r.removed.push(msg),
    },
  };
  return r;
}

/** A bridge with one internal port `<bridge>p`, a fixed dpid, pointed at the controller. */
async function bridgeFor(t: import('ava').ExecutionContext, ctl: Controller, dpid: bigint): Promise<{ bridge: string; portName: string; portNo: number }> {
  const bridge = await createBridge(t);
  await vsctl('set', 'bridge', bridge, `other-config:datapath-id=${dpid.toString(16).padStart(16, '0')}`);
  const portName = `${bridge.slice(0, 13)}p`;
  await vsctl('add-port', bridge, portName, '--', 'set', 'interface', portName, 'type=internal');
  const portNo = await ofport(portName);
  await setController(bridge, ctl.address.port);
  return { bridge, portName, portNo };
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('handshake with OVS: features and ports; flow_mod, barrier, flow stats, packet-in round trip', async (t) => {
  const rec = recorder();
  const ctl = await startController({ listen: { host: '127.0.0.1', port: 0 }, apps: [rec.app], log });
  t.teardown(() => ctl.stop());
  t.true(ctl.address.port > 0, 'ephemeral port bound');
  const dpid = uniqueDpid();
  const t0 = performance.now();
  const waiting = ctl.waitForSwitch(dpid, { timeoutMs: 20_000 });
  const { bridge, portName, portNo } = await bridgeFor(t, ctl, dpid);
  const dp = await waiting;
  t.log(`handshake complete ${(performance.now() - t0).toFixed(0)} ms after bridge creation began`);

  t.is(dp.id, dpid);
  t.is(dp.features.datapathId, dpid);
  t.is(dp.features.nTables, 254, 'OVS reports 254 tables');
  t.is(dp.features.auxiliaryId, 0);
  t.deepEqual([...dp.ports.values()].map((p) => p.name).sort(), [bridge, portName].sort());
  t.is(dp.ports.get(OFPP_LOCAL)?.name, bridge);
  t.is(dp.ports.get(portNo)?.name, portName);
  const mac = (await vsctl('get', 'interface', portName, 'mac_in_use')).trim().replace(/"/g, '');
  t.is(dp.ports.get(portNo)?.hwAddr, mac);

  // SET_CONFIG took effect: OVS reports our miss_send_len back.
  const [cfg] = await dp.request({ type: 'get_config_request', xid: 0 });
  t.is((cfg as Msg<'get_config_reply'>).missSendLen, OFPCML_NO_BUFFER);

  // A flow_mod plus a barrier: once the barrier returns, ovs-ofctl sees the flow.
  const cookie = 0x5ea1_0000_0000_0001n;
  dp.send(
    build.flowMod({
      cookie,
      priority: 100,
      idleTimeout: 0,
      flags: OFPFF_SEND_FLOW_REM,
      match: build.match({ eth_type: 0x0800, ipv4_dst: '10.1.2.3' }),
      instructions: [build.applyActions(build.output(portNo))],
    }),
    // Table-miss to the controller, for the packet-in round trip below.
    build.flowMod({ cookie: cookie + 1n, priority: 0, instructions: [build.applyActions(build.output(OFPP_CONTROLLER, OFPCML_NO_BUFFER))] }),
  );
  const b0 = performance.now();
  await dp.barrier();
  t.log(`barrier round trip ${(performance.now() - b0).toFixed(2)} ms (with two flow_mods)`);
  const flows = await dumpFlows(bridge);
  const ours = flows.find((f) => f.cookie === cookie);
  t.truthy(ours, `flow visible in dump-flows: ${flows.map((f) => f.raw).join(' | ')}`);
  t.is(ours!.priority, 100);
  t.regex(ours!.match, /nw_dst=10\.1\.2\.3/);
  t.is(ours!.actions, `output:${portNo}`);

  // Barrier latency, many round trips.
  const n = 200;
  const l0 = performance.now();
  for (let i = 0; i < n; i += 1) await dp.barrier();
  t.log(`barrier RTT mean over ${n}: ${((performance.now() - l0) / n).toFixed(3)} ms`);

  // Multipart flow stats return it.
  const stats = await dp.multipart({ mpType: 'flow', tableId: OFPTT_ALL, outPort: OFPP_ANY, outGroup: OFPG_ANY, cookie, cookieMask: 0xffff_ffff_ffff_ffffn, match: [] });
  t.is(stats.stats.length, 1);
  t.is(stats.stats[0]!.priority, 100);
  t.deepEqual(stats.stats[0]!.match, [
    { field: 'eth_type', value: 0x0800 },
    { field: 'ipv4_dst', value: '10.1.2.3' },
  ]);

  // Packet-out through the table: the table-miss flow sends it back as a packet-in.
  const frame = Buffer.alloc(64);
  Buffer.from('ffffffffffff020000000001' + '88b5', 'hex').copy(frame);
  frame.write('seamless', 14);
  dp.send(build.packetOut({ inPort: portNo, actions: [build.output(OFPP_TABLE)], data: frame }));
  await until('packet-in', () => rec.packetIns.length >= 1);
  const pin = rec.packetIns[0]!;
  t.is(pin.reason, OFPR_ACTION);
  t.is(pin.cookie, cookie + 1n);
  t.deepEqual(pin.match.find((m) => m.field === 'in_port'), { field: 'in_port', value: portNo });
  t.deepEqual(pin.data, frame);

  // Throughput of the hot path: packet-out -> OVS -> packet-in, in bounded batches.
  const total = 2000;
  rec.packetIns.length = 0;
  const p0 = performance.now();
  for (let sent = 0; sent < total; sent += 100) {
    for (let i = 0; i < 100; i += 1) {
      frame.writeUInt32BE(sent + i, 30);
      dp.send(build.packetOut({ inPort: portNo, actions: [build.output(OFPP_TABLE)], data: frame }));
    }
    await dp.barrier();
  }
  await until(`${total} packet-ins`, () => rec.packetIns.length >= total, 20_000);
  const ms = performance.now() - p0;
  t.log(`${total} packet-out -> packet-in round trips in ${ms.toFixed(0)} ms (${((total / ms) * 1000).toFixed(0)}/s)`);
  t.is(rec.packetIns.length, total);

  // Deleting the flow with SEND_FLOW_REM set makes OVS send FLOW_REMOVED.
  dp.send(build.flowDelete({ cookie, cookieMask: 0xffff_ffff_ffff_ffffn }));
  await dp.barrier();
  await until('flow_removed', () => rec.removed.length >= 1);
  t.is(rec.removed[0]!.cookie, cookie);

  // Role request: OVS answers with the role we asked for.
  const role = await dp.requestRole(OFPCR_ROLE_MASTER, 1n);
  t.is(role.role, OFPCR_ROLE_MASTER);
});

test('port added on the bridge: PORT_STATUS updates dp.ports before apps see it', async (t) => {
  let seenByApp: string[] = [];
  const app: App = {
    name: 'ports',
    portStatus: (dp) => {
      seenByApp = [...dp.ports.values()].map((p) => p.name);
    },
  };
  const ctl = await startController({ listen: { host: '127.0.0.1', port: 0 }, apps: [app], log });
  t.teardown(() => ctl.stop());
  const dpid = uniqueDpid();
  const waiting = ctl.waitForSwitch(dpid, { timeoutMs: 20_000 });
  const { bridge } = await bridgeFor(t, ctl, dpid);
  const dp = await waiting;
  const extra = `${bridge.slice(0, 13)}q`;
  await vsctl('add-port', bridge, extra, '--', 'set', 'interface', extra, 'type=internal');
  const no = await ofport(extra);
  await until('port_status for the new port', () => seenByApp.includes(extra));
  t.is(dp.ports.get(no)?.name, extra);
});

test('bridges connect side by side; stop() closes them and apps are stopped', async (t) => {
  const downs: string[] = [];
  let stopped = 0;
  const app: App = { name: 'life', switchDown: (dp, reason) => void downs.push(`${dp.idHex} ${reason}`), stop: () => void (stopped += 1) };
  const ctl = await startController({ listen: { host: '127.0.0.1', port: 0 }, apps: [app], log });
  const ids = [uniqueDpid(), uniqueDpid(), uniqueDpid()];
  const waits = ids.map((id) => ctl.waitForSwitch(id, { timeoutMs: 20_000 }));
  for (const id of ids) await bridgeFor(t, ctl, id);
  await Promise.all(waits);
  t.is(ctl.datapaths.size, 3);
  await ctl.stop();
  t.is(stopped, 1);
  t.deepEqual(downs.map((d) => d.split(' ')[1]), ['controller-stopped', 'controller-stopped', 'controller-stopped']);
  t.is(ctl.datapaths.size, 0);
  t.is(ctl.connectionCount, 0);
  await ctl.stop(); // idempotent
  t.is(stopped, 1);
});
