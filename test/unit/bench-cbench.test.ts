// The cbench-style load generator (bench/cbench): its hand-made bytes decode
// with our codec, it completes a handshake with our controller and counts
// responses, and it fails clearly on a broken or silent controller.
import test from 'ava';
import net from 'node:net';
import { FakeSwitch, GeneratorError } from '../../bench/cbench/switch.js';
import { runLatency, runThroughput } from '../../bench/cbench/index.js';
import * as W from '../../bench/cbench/wire.js';
import { startController } from '../../controller/daemon.js';
import { createL2App } from '../../controller/l2/app.js';
import { silentLogger } from '../../controller/log.js';
import { decode } from '../../controller/openflow/index.js';

test('packet-in template decodes as an unbuffered table-miss packet-in with the frame', (t) => {
  const pi = W.packetInTemplate();
  pi.writeUInt32BE(7, W.PI.IN_PORT);
  W.hostMac(1, 2).copy(pi, W.PI.ETH_SRC);
  W.hostMac(1, 3).copy(pi, W.PI.ETH_DST);
  const m = decode(pi);
  if (m.type !== 'packet_in') return t.fail(`decoded as ${m.type}`);
  t.is(m.bufferId, 0xffffffff);
  t.is(m.totalLen, 60);
  t.is(m.reason, 0);
  t.deepEqual(m.match, [{ field: 'in_port', value: 7 }]);
  t.is(m.data.length, 60);
  t.is(m.data.subarray(0, 6).toString('hex'), '020001000003');
  t.is(m.data.subarray(6, 12).toString('hex'), '020001000002');
  t.is(m.data.readUInt16BE(12), 0x0800);
});

test('features and port-desc replies decode with the datapath id and ports', (t) => {
  const f = decode(W.featuresReply(9, 0x5ea1_0000_0000_0003n));
  if (f.type !== 'features_reply') return t.fail(`decoded as ${f.type}`);
  t.is(f.xid, 9);
  t.is(f.datapathId, 0x5ea1_0000_0000_0003n);
  const p = decode(W.portDescReply(10, 3, 4));
  if (p.type !== 'multipart_reply') return t.fail(`decoded as ${p.type}`);
  t.is(p.xid, 10);
  if (p.body.mpType !== 'port_desc') return t.fail(`body decoded as ${p.body.mpType}`);
  t.deepEqual(
    p.body.ports.map((x) => [x.portNo, x.name]),
    [1, 2, 3, 4].map((n) => [n, `s3-eth${n}`]),
  );
  t.is(decode(W.descReply(11, 3)).type, 'multipart_reply');
});

/** A TCP server on a free loopback port that runs `onSocket` for each connection. */
async function fakeController(onSocket: (s: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const socks = new Set<net.Socket>();
  const server = net.createServer((s) => {
    socks.add(s);
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const a = server.address();
  if (a === null || typeof a !== 'object') throw new Error('no address');
  return {
    port: a.port,
    close: () => {
      for (const s of socks) s.destroy();
      return new Promise((res) => server.close(() => res()));
    },
  };
}

const switchOpts = (port: number) => ({
  host: '127.0.0.1',
  port,
  index: 0,
  dpid: 1n,
  hosts: 10,
  silentHosts: 2,
  floodEvery: 8,
  ports: 4,
});

test('a controller that sends a frame shorter than its header fails the switch with bad-frame', async (t) => {
  const ctl = await fakeController((s) => s.write(Buffer.from([4, 0, 0, 4, 0, 0, 0, 1])));
  t.teardown(ctl.close);
  const sw = await FakeSwitch.connect(switchOpts(ctl.port));
  t.teardown(() => sw.close());
  const e = await t.throwsAsync(sw.handshake(2000, false), { instanceOf: GeneratorError });
  t.is(e?.code, 'bad-frame');
});

test('a controller that never asks for features times out the handshake', async (t) => {
  const ctl = await fakeController((s) => s.write(W.hello(1)));
  t.teardown(ctl.close);
  const e = await t.throwsAsync(runThroughput({ host: '127.0.0.1', port: ctl.port, switches: 2, readyTimeoutMs: 300 }), {
    instanceOf: GeneratorError,
  });
  t.is(e?.code, 'handshake-timeout');
});

test('the switch answers echo, barrier, features and port-desc requests with matching xids', async (t) => {
  const got: Buffer[] = [];
  const ctl = await fakeController((s) => {
    s.write(Buffer.concat([
      W.hello(1),
      W.message(W.T.ECHO_REQUEST, 2, 8),
      W.message(W.T.FEATURES_REQUEST, 3, 8),
      (() => {
        const m = W.message(W.T.MULTIPART_REQUEST, 4, 16);
        m.writeUInt16BE(W.MP.PORT_DESC, 8);
        return m;
      })(),
      W.message(W.T.BARRIER_REQUEST, 5, 8),
    ]));
    let buf = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 8 && buf.length >= buf.readUInt16BE(2)) {
        got.push(buf.subarray(0, buf.readUInt16BE(2)));
        buf = buf.subarray(buf.readUInt16BE(2));
      }
    });
  });
  t.teardown(ctl.close);
  const sw = await FakeSwitch.connect(switchOpts(ctl.port));
  t.teardown(() => sw.close());
  await sw.handshake(2000, true);
  for (let i = 0; i < 50 && got.length < 5; i++) await new Promise((r) => setTimeout(r, 20));
  t.deepEqual(
    got.map((m) => [m[1], m.readUInt32BE(4)]),
    [
      [W.T.HELLO, 1],
      [W.T.ECHO_REPLY, 2],
      [W.T.FEATURES_REPLY, 3],
      [W.T.MULTIPART_REPLY, 4],
      [W.T.BARRIER_REPLY, 5],
    ],
  );
  for (const m of got) t.is(decode(m).xid, m.readUInt32BE(4));
});

test('against our controller in-process: handshake, then only flow_mods and packet-outs answer packet-ins', async (t) => {
  const ctl = await startController({ listen: { host: '127.0.0.1', port: 0 }, apps: [createL2App()], log: silentLogger });
  t.teardown(() => ctl.stop());
  const base = { host: '127.0.0.1', port: ctl.address.port, hostsPerSwitch: 50, readyTimeoutMs: 5000 };
  const tp = await runThroughput({ ...base, switches: 3, window: 8, warmupMs: 100, measureMs: 400 });
  t.true(tp.answeredPerSec > 0, 'packet-ins answered');
  t.true(tp.flowModsPerSec > 0, 'learned destinations get flows');
  // Every 8th packet goes to a silent host and is flooded without a flow; the rest get a flow.
  t.true(tp.flowModsPerSec < tp.answeredPerSec, 'flooded packets get no flow');
  t.true(tp.pps > tp.answeredPerSec, 'pps counts flow_mods and packet-outs');
  t.is(tp.otherMessages, 0, 'no message other than flow_mod/packet_out/echo during the run');
  t.is(tp.errors, 0, 'the controller accepted every packet-in');
  const lat = await runLatency({ ...base, warmupMs: 100, measureMs: 300 });
  t.true(lat.samples > 0);
  t.true(lat.p50us > 0 && lat.p50us <= lat.p99us);
  t.is(lat.errors, 0);
});
