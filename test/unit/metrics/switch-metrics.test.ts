// Switch-side metrics: every OFPT_ERROR (answering a request or unsolicited) and
// the keepalive echo round trip, from the connection's observer; disconnects by reason.
import test from 'ava';
import { SeamlessMetrics } from '../../../controller/metrics/index.js';
import { sampleValue } from '../../support/exposition.js';
import { tick } from '../switch/fakes.js';
import { up } from '../switch/harness.js';

test('echo round trip: the keepalive reply 40 ms after the request is one sample in the 0.05 s bucket', async (t) => {
  const m = new SeamlessMetrics({ vms: [] });
  const h = await up({ echoIntervalMs: 1000, echoTimeoutMs: 3000, observer: m.connection });
  h.sock.take();
  h.clock.advanceSync(1000);
  await tick();
  const echo = h.sock.takeOne('echo_request');
  h.clock.advanceSync(40);
  h.sock.feed({ type: 'echo_reply', xid: echo.xid, data: echo.data });
  await tick();
  // A reply with another xid (not our keepalive) is no sample.
  h.sock.feed({ type: 'echo_reply', xid: echo.xid + 1000, data: Buffer.alloc(0) });
  await tick();
  const text = await m.expose();
  t.is(sampleValue(text, 'seamless_echo_rtt_seconds_count'), 1);
  t.is(sampleValue(text, 'seamless_echo_rtt_seconds_bucket', { le: '0.025' }), 0);
  t.is(sampleValue(text, 'seamless_echo_rtt_seconds_bucket', { le: '0.05' }), 1);
});

test('OFPT_ERROR: unsolicited and request-matched errors both counted by numeric type and code', async (t) => {
  const m = new SeamlessMetrics({ vms: [] });
  const h = await up({ observer: m.connection });
  h.sock.take();
  h.sock.feed({ type: 'error', xid: 999, errType: 5, code: 4, data: Buffer.alloc(0) });
  const req = h.conn.request({ type: 'barrier_request', xid: h.conn.nextXid() }).catch(() => undefined);
  await tick();
  const sent = h.sock.takeOne('barrier_request');
  h.sock.feed({ type: 'error', xid: sent.xid, errType: 1, code: 1, data: Buffer.alloc(0) });
  await req;
  await tick();
  const text = await m.expose();
  t.is(sampleValue(text, 'seamless_openflow_errors_total', { type: '5', code: '4' }), 1);
  t.is(sampleValue(text, 'seamless_openflow_errors_total', { type: '1', code: '1' }), 1);
});

test('disconnects by reason; every reason present from the start', async (t) => {
  const m = new SeamlessMetrics({ vms: [] });
  m.switchDown('echo-timeout');
  const text = await m.expose();
  t.is(sampleValue(text, 'seamless_switch_disconnects_total', { reason: 'echo-timeout' }), 1);
  t.is(sampleValue(text, 'seamless_switch_disconnects_total', { reason: 'replaced' }), 0);
});
