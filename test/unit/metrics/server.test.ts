// --metrics addresses and the /metrics endpoint.
import test from 'ava';
import { parseControllerArgs, UsageError } from '../../../controller/cli/controller-cmd.js';
import { parseMetricsAddress, SeamlessMetrics, serveMetrics } from '../../../controller/metrics/index.js';

test('a bare port is loopback; an explicit host is taken as given; junk names the value', (t) => {
  t.deepEqual(parseMetricsAddress('9464'), { host: '127.0.0.1', port: 9464 });
  t.deepEqual(parseMetricsAddress('0.0.0.0:9464'), { host: '0.0.0.0', port: 9464 });
  t.deepEqual(parseMetricsAddress('[::1]:9464'), { host: '::1', port: 9464 });
  t.throws(() => parseMetricsAddress('localhost'), { message: /expected PORT or HOST:PORT, got 'localhost'/ });
  t.throws(() => parseMetricsAddress('127.0.0.1:70000'), { message: /port 70000 is out of range/ });
});

test('seamless controller: --metrics is off unless given; a bad value is a usage error', (t) => {
  t.is(parseControllerArgs([]).metrics, undefined);
  t.deepEqual(parseControllerArgs(['--metrics', '9464']).metrics, { host: '127.0.0.1', port: 9464 });
  t.throws(() => parseControllerArgs(['--metrics', 'x:y']), { instanceOf: UsageError, message: /--metrics: .*'x:y'/ });
});

test('GET /metrics serves the exposition with its content type; other paths are 404', async (t) => {
  const m = new SeamlessMetrics({ vms: [{ name: 'vm1', depth: 'pause' }] });
  const s = await serveMetrics(m, { host: '127.0.0.1', port: 0 });
  t.teardown(() => s.close());
  const base = `http://127.0.0.1:${s.address.port}`;
  const r = await fetch(`${base}/metrics`);
  t.is(r.status, 200);
  t.regex(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const body = await r.text();
  t.regex(body, /^# HELP seamless_vms /m);
  t.regex(body, /^seamless_parks_total\{vm="vm1",depth="pause"\} 0$/m);
  t.is((await fetch(`${base}/`)).status, 404);
  t.is((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
});
