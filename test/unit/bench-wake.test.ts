// The wake benchmark's measuring parts (bench/wake): percentiles, the tcpdump
// line parser, the per-wake timeline, the recording wrappers (they must pass
// every call through unchanged) and the client timing program on loopback.
import test from 'ava';
import net from 'node:net';
import type { Datapath, Msg } from '../../controller/app.js';
import { FakeHypervisor } from '../../controller/libvirt/fake.js';
import { cookieOf, KIND } from '../../controller/park/flows.js';
import type { OfpMessage } from '../../controller/openflow/types.js';
import { parseSynLine } from '../../bench/wake/capture.js';
import { median, percentile } from '../../bench/wake/stats.js';
import { recordApp, recordHypervisor, Recorder, wakeTimeline } from '../../bench/wake/timeline.js';
import { startTimingClient } from '../../bench/wake/timingClient.js';

test('percentile is nearest-rank: p99 of 30 samples is the maximum, p50 the 15th', (t) => {
  const xs = Array.from({ length: 30 }, (_, i) => 30 - i); // unsorted on purpose
  t.is(percentile(xs, 99), 30);
  t.is(percentile(xs, 50), 15);
  t.is(median([5]), 5);
  t.is(percentile([1, 2, 3, 4], 100), 4);
  t.true(Number.isNaN(percentile([], 50)));
  t.throws(() => percentile(xs, 0), { instanceOf: RangeError });
});

test('parseSynLine reads SYN and SYN-ACK lines of tcpdump -tt -nn, nothing else', (t) => {
  t.deepEqual(parseSynLine('1795315137.522061 IP 10.0.0.1.40846 > 10.0.0.11.22: Flags [S], seq 1, win 64240, length 0'), {
    t: 1795315137522.061, src: '10.0.0.1', sport: 40846, dst: '10.0.0.11', dport: 22, synAck: false,
  });
  const sa = parseSynLine('1795315137.600000 IP 10.0.0.11.22 > 10.0.0.1.40846: Flags [S.], seq 9, ack 2, win 1, length 0');
  t.is(sa?.synAck, true);
  t.is(sa?.sport, 22);
  t.is(parseSynLine('1795315137.6 IP 10.0.0.1.40846 > 10.0.0.11.22: Flags [.], ack 1, win 502, length 0'), undefined);
  t.is(parseSynLine('listening on tsl1, link-type EN10MB'), undefined);
});

test('wakeTimeline places each step relative to the SYN at the switch', (t) => {
  const rec = new Recorder();
  const at = (dt: number, what: string) => rec.marks.push({ t: 1000 + dt, what });
  at(-50, 'packet-in park tcp:1>22'); // an older packet of another connection: before the SYN, ignored
  at(0.5, 'packet-in park tcp-syn:40000>22');
  at(2, 'libvirt getState start');
  at(3, 'libvirt start start');
  at(30, 'port-status 0 vm2-tap');
  at(700, 'libvirt start end');
  at(701, 'packet-out arp-request');
  at(715, 'packet-in probe arp-reply');
  at(716, 'flow-mod add activity');
  at(716.5, 'packet-out tcp-syn:40000>22');
  at(718, 'transition waking->active woken');
  t.deepEqual(wakeTimeline(rec, 1000, 'start', 1730), {
    packetIn: 0.5, libvirtStart: 3, libvirtEnd: 700, portUp: 30, probeAnswered: 715, flowsIn: 716, heldOut: 716.5, active: 718, synAck: 730,
  });
  t.deepEqual(wakeTimeline(rec, 1000, 'resume', undefined).libvirtStart, undefined);
});

function fakeDatapath(sent: OfpMessage[]): Datapath {
  let xid = 0;
  return {
    id: 1n,
    idHex: '0000000000000001',
    features: {} as Msg<'features_reply'>,
    ports: new Map(),
    connected: true,
    nextXid: () => ++xid,
    send: (...m: OfpMessage[]) => void sent.push(...m),
    request: () => Promise.resolve([]),
    barrier: () => Promise.resolve(),
  };
}

test('recordApp stamps what the app receives and sends, passes everything through, keeps one proxy per datapath', async (t) => {
  const rec = new Recorder();
  const sent: OfpMessage[] = [];
  const dp = fakeDatapath(sent);
  const seen: Datapath[] = [];
  const frame = Buffer.alloc(60);
  frame.writeUInt16BE(0x0806, 12); // ARP
  frame.writeUInt16BE(1, 14); // htype Ethernet
  frame.writeUInt16BE(0x0800, 16); // ptype IPv4
  frame.writeUInt8(6, 18);
  frame.writeUInt8(4, 19);
  frame.writeUInt16BE(2, 20); // reply
  const app = recordApp(
    {
      name: 'park',
      switchUp: (d) => void seen.push(d),
      packetIn: (d, m) => {
        seen.push(d);
        d.send({ type: 'packet_out', xid: 0, bufferId: 0xffffffff, inPort: 0xfffffffd, actions: [], data: m.data });
        return true;
      },
    },
    rec,
  );
  await app.switchUp!(dp);
  const pi = { type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: 60, reason: 1, tableId: 0, cookie: cookieOf(0, KIND.PROBE), match: [], data: frame } as unknown as Msg<'packet_in'>;
  t.true(app.packetIn!(dp, pi));
  t.is(seen[0], seen[1], 'the same proxy for the same datapath');
  t.not(seen[0], dp);
  t.is(seen[0]!.idHex, dp.idHex);
  t.true(seen[0]!.connected);
  await seen[0]!.barrier();
  t.is(sent.length, 1);
  t.is(sent[0]!.type, 'packet_out');
  t.deepEqual(rec.marks.map((m) => m.what), ['packet-in probe arp-reply', 'packet-out arp-reply', 'barrier sent', 'barrier reply']);
});

test('recordHypervisor stamps start/end and failures, results unchanged', async (t) => {
  const rec = new Recorder();
  const fake = new FakeHypervisor();
  fake.define('d1', { state: 'running' });
  const hv = recordHypervisor(fake, rec);
  await hv.suspend('d1');
  t.is((await hv.getState('d1')).state, 'paused');
  await t.throwsAsync(() => hv.suspend('nosuch'));
  t.deepEqual(rec.marks.map((m) => m.what), [
    'libvirt suspend start', 'libvirt suspend end', 'libvirt getState start', 'libvirt getState end', 'libvirt suspend start', 'libvirt suspend failed',
  ]);
});

test('the client timing program times a loopback handshake and reports a refused one', async (t) => {
  const srv = net.createServer((s) => s.end('banner\n'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  const client = await startTimingClient([]);
  t.teardown(async () => {
    await client.stop();
    srv.close();
  });
  const ok = await client.connect('127.0.0.1', port, 2000);
  t.true(ok.ok);
  t.true(ok.ms > 0 && ok.ms < 2000);
  t.true(typeof ok.localPort === 'number' && ok.localPort > 0);
  t.true(Math.abs(ok.t0 - Date.now()) < 5000, 't0 is epoch ms');
  srv.close();
  await new Promise((r) => setTimeout(r, 50));
  const refused = await client.connect('127.0.0.1', port, 2000);
  t.false(refused.ok);
  t.is(refused.error, 'ECONNREFUSED');
});

test('recordHypervisor passes the memory push (depth reclaim) through, stamped', async (t) => {
  const fake = new FakeHypervisor().define('d', { state: 'paused' });
  const rec = new Recorder();
  const hv = recordHypervisor(fake, rec);
  await hv.setMemoryHardLimit!('d', 1024n);
  t.deepEqual(fake.hardLimitsOf('d'), [1024n]);
  t.deepEqual(rec.marks.map((m) => m.what), ['libvirt setMemoryHardLimit start', 'libvirt setMemoryHardLimit end']);
});
