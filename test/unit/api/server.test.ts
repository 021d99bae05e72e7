// The control API server over a real unix socket / loopback port, with a fake
// ControlSource: routes, status codes, error bodies, socket life cycle.
import test from 'ava';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseApiAddress } from '../../../controller/api/address.js';
import { ApiClient } from '../../../controller/api/client.js';
import { ApiRequestError, ApiUnreachableError } from '../../../controller/api/errors.js';
import { startApiServer } from '../../../controller/api/server.js';
import { FakeSource, serveOnSocket, tempDir, vmView } from './fakes.js';

function raw(path: string, method: string, url: string): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: path, method, path: url, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

function source() {
  return new FakeSource([vmView('vm1'), vmView('vm2', { state: 'parked', port: null, wakes: 3, lastWakeMs: 512 }), vmView('web 3')]);
}

test('GET /v1/vms and /v1/vms/:name return the views as JSON', async (t) => {
  const src = source();
  const { path } = await serveOnSocket(t, src);
  const c = new ApiClient({ kind: 'unix', path });
  t.deepEqual(await c.vms(), src.vms());
  t.deepEqual(await c.vm('vm2'), src.vmsByName.get('vm2'));
  t.is((await c.vm('web 3')).name, 'web 3', 'names are URL-encoded and decoded');
  const r = await raw(path, 'GET', '/v1/vms');
  t.is(r.status, 200);
  t.is(r.type, 'application/json; charset=utf-8');
  t.is(JSON.parse(r.body).vms.length, 3);
});

test('an unknown VM is 404 VM_NOT_FOUND naming it, for GET and for commands', async (t) => {
  const { path } = await serveOnSocket(t, source());
  const c = new ApiClient({ kind: 'unix', path });
  for (const call of [() => c.vm('nope'), () => c.park('nope'), () => c.wake('nope')]) {
    const e = await t.throwsAsync(call(), { instanceOf: ApiRequestError });
    t.is(e?.status, 404);
    t.is(e?.code, 'VM_NOT_FOUND');
    t.is(e?.message, "no VM named 'nope' (known: vm1, vm2, web 3)");
  }
  const r = await raw(path, 'GET', '/v1/vms/nope');
  t.deepEqual(JSON.parse(r.body), { error: { code: 'VM_NOT_FOUND', message: "no VM named 'nope' (known: vm1, vm2, web 3)" } });
});

test('POST park/wake: 202 when started, 200 when already there or in progress, 409 VM_BUSY otherwise', async (t) => {
  const src = source();
  src.wakeMs = 60_000; // stays waking for the whole test
  const { path } = await serveOnSocket(t, src);
  const c = new ApiClient({ kind: 'unix', path });
  let r = await raw(path, 'POST', '/v1/vms/vm1/park');
  t.is(r.status, 202);
  t.like(JSON.parse(r.body), { result: 'started', vm: { name: 'vm1', state: 'parking' } });
  // parking -> wake is refused with a reason
  const busy = await t.throwsAsync(c.park('vm1'), { instanceOf: ApiRequestError });
  t.like(busy, { status: 409, code: 'VM_BUSY', message: 'vm1 is parking: it can be parked once it is active' });
  r = await raw(path, 'POST', '/v1/vms/vm2/park');
  t.is(r.status, 200);
  t.is(JSON.parse(r.body).result, 'already');
  t.like(await c.wake('vm2'), { result: 'started', vm: { state: 'waking' } });
  t.like(await c.wake('vm2'), { result: 'in-progress' });
  t.deepEqual(src.calls, ['park vm1', 'park vm1', 'park vm2', 'wake vm2', 'wake vm2']);
});

test('GET /v1/switches and /v1/status', async (t) => {
  const src = source();
  src.switchList = [{ dpid: '0000000000000001', name: 's1', remote: '127.0.0.1:50000', nTables: 254, ports: [{ portNo: 1, name: 's1-eth1', hwAddr: '00:00:00:00:00:01', up: true }] }];
  const { path } = await serveOnSocket(t, src);
  const c = new ApiClient({ kind: 'unix', path });
  t.deepEqual(await c.switches(), src.switchList);
  t.like(await c.status(), { vms: 3, switches: 1, store: { kind: 'redis', healthy: true } });
});

test('wrong method is 405, unknown endpoint 404, both with error bodies', async (t) => {
  const { path } = await serveOnSocket(t, source());
  let r = await raw(path, 'GET', '/v1/vms/vm1/park');
  t.is(r.status, 405);
  t.deepEqual(JSON.parse(r.body), { error: { code: 'METHOD_NOT_ALLOWED', message: 'GET /v1/vms/vm1/park: use POST' } });
  r = await raw(path, 'DELETE', '/v1/vms');
  t.is(r.status, 405);
  r = await raw(path, 'GET', '/v2/vms');
  t.is(r.status, 404);
  t.is(JSON.parse(r.body).error.code, 'NOT_FOUND');
  r = await raw(path, 'GET', '/v1/vms/vm1/reboot');
  t.is(r.status, 404);
  r = await raw(path, 'GET', '/v1/vms/%E0%A4%A');
  t.is(r.status, 400);
});

test('a source failure is a 500 INTERNAL answer, and the server keeps serving', async (t) => {
  const src = source();
  src.vms = () => {
    throw new Error('boom');
  };
  const { path } = await serveOnSocket(t, src);
  const r = await raw(path, 'GET', '/v1/vms');
  t.is(r.status, 500);
  t.deepEqual(JSON.parse(r.body), { error: { code: 'INTERNAL', message: 'internal error: boom' } });
  t.is((await raw(path, 'GET', '/v1/vms/vm1')).status, 200);
});

test('socket life cycle: parent dir created, mode 0660, stale socket replaced, live one refused, removed on close', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'a', 'b', 'api.sock');
  const s1 = await startApiServer({ address: { kind: 'unix', path }, source: source() });
  t.is(statSync(path).mode & 0o777, 0o660);
  await t.throwsAsync(startApiServer({ address: { kind: 'unix', path }, source: source() }), { code: 'API_CONFIG', message: /another controller is already serving/ });
  await s1.close();
  t.false(existsSync(path), 'socket removed on close');
  await s1.close(); // idempotent

  // A stale socket file (a crashed daemon): a listener that is gone.
  const stale = createServer();
  await new Promise<void>((r) => stale.listen(path, r));
  // Keep the file, drop the listener (simulates a crash: nothing accepts).
  renameSync(path, `${path}.keep`);
  await new Promise<void>((r) => stale.close(() => r()));
  renameSync(`${path}.keep`, path);
  t.true(existsSync(path));
  const s2 = await startApiServer({ address: { kind: 'unix', path }, source: source() });
  t.like(await new ApiClient(s2.address).vm('vm1'), { name: 'vm1' });
  await s2.close();

});

test('--api naming an existing regular file: refused naming the path, the file kept (was: unlinked)', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'notes.txt');
  writeFileSync(path, 'an operator file');
  await t.throwsAsync(startApiServer({ address: { kind: 'unix', path }, source: source() }), {
    code: 'API_CONFIG',
    message: `${path}: exists and is not a socket; refusing to replace it (remove it or choose another API path)`,
  });
  t.is(readFileSync(path, 'utf8'), 'an operator file');
  // A directory there is refused the same way.
  await t.throwsAsync(startApiServer({ address: { kind: 'unix', path: dir }, source: source() }), { code: 'API_CONFIG', message: /exists and is not a socket/ });
  // A parent that is a file: the error names it.
  await t.throwsAsync(startApiServer({ address: { kind: 'unix', path: join(path, 'x.sock') }, source: source() }), { code: 'API_CONFIG', message: /notes\.txt is not a directory/ });
});

test('loopback TCP: port 0 reports the real port; non-loopback addresses are refused', async (t) => {
  const s = await startApiServer({ address: { kind: 'tcp', host: '127.0.0.1', port: 0 }, source: source() });
  t.teardown(() => s.close());
  t.is(s.address.kind, 'tcp');
  t.true(s.address.kind === 'tcp' && s.address.port > 0);
  t.is((await new ApiClient(s.address).vms()).length, 3);

  t.deepEqual(parseApiAddress('/run/x.sock'), { kind: 'unix', path: '/run/x.sock' });
  t.deepEqual(parseApiAddress('127.0.0.1:7070'), { kind: 'tcp', host: '127.0.0.1', port: 7070 });
  t.deepEqual(parseApiAddress('[::1]:7070'), { kind: 'tcp', host: '::1', port: 7070 });
  t.deepEqual(parseApiAddress('localhost:7070'), { kind: 'tcp', host: 'localhost', port: 7070 });
  t.throws(() => parseApiAddress('0.0.0.0:7070'), { code: 'API_CONFIG', message: /0\.0\.0\.0 is not a loopback address/ });
  t.throws(() => parseApiAddress('10.1.2.3:7070'), { code: 'API_CONFIG' });
  t.throws(() => parseApiAddress('sock'), { code: 'API_CONFIG', message: /expected a socket PATH or HOST:PORT/ });
  t.throws(() => parseApiAddress('127.0.0.1:70000'), { code: 'API_CONFIG', message: /out of range/ });
  t.throws(() => parseApiAddress(''), { code: 'API_CONFIG' });
});

test('client: nothing listening is ApiUnreachableError with the operator message', async (t) => {
  const dir = await tempDir(t);
  const c = new ApiClient({ kind: 'unix', path: join(dir, 'none.sock') });
  const e = await t.throwsAsync(c.vms(), { instanceOf: ApiUnreachableError });
  t.is(e?.code, 'API_UNREACHABLE');
  t.is(e?.message, `cannot reach the controller at ${join(dir, 'none.sock')} (is 'seamless controller' running?)`);
  t.is((e?.cause as NodeJS.ErrnoException).code, 'ENOENT');
});

test('client: something that is not the API (not HTTP) is an error naming the address (was: "Parse Error: Expected HTTP/")', async (t) => {
  // An OpenFlow-ish listener: answers every connection with binary, not HTTP.
  const other = createServer((sock) => sock.end(Buffer.from([0x04, 0x00, 0x00, 0x08, 0, 0, 0, 1])));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  t.teardown(() => other.close());
  const port = (other.address() as { port: number }).port;
  const e = await t.throwsAsync(new ApiClient({ kind: 'tcp', host: '127.0.0.1', port }).vms(), { instanceOf: ApiRequestError });
  t.is(e?.code, 'BAD_RESPONSE');
  t.true(e!.message.startsWith(`127.0.0.1:${port} does not speak the seamless control API (`), e!.message);
});
