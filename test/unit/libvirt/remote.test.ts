// RemoteHypervisor + RpcConnection against FakeDaemon (real wire format, fake daemon).
import test from 'ava';
import { LibvirtError } from '../../../controller/libvirt/errors.js';
import { KEEPALIVE_PROC_PONG, KEEPALIVE_PROGRAM, Proc } from '../../../controller/libvirt/protocol.js';
import { RemoteHypervisor, connectHypervisor, runStateOf, socketPathForUri } from '../../../controller/libvirt/remote.js';
import { FakeDaemon } from './fakeDaemon.js';

async function setup(t: { teardown(fn: () => unknown): void }, opts: ConstructorParameters<typeof RemoteHypervisor>[1] = {}) {
  const d = new FakeDaemon();
  await d.start();
  const h = new RemoteHypervisor('qemu:///system', { socketPath: d.socketPath, ...opts });
  t.teardown(async () => {
    await h.close();
    await d.dispose();
  });
  return { d, h };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(10);
  }
  return cond();
}

test('handshake is AUTH_LIST then CONNECT_OPEN; getState maps virDomainState', async (t) => {
  const { d, h } = await setup(t);
  t.deepEqual(await h.getState('vm1'), { state: 'running', hasManagedSave: false });
  t.deepEqual(d.received.slice(0, 3).map((r) => r.proc), [Proc.AUTH_LIST, Proc.CONNECT_OPEN, Proc.DOMAIN_LOOKUP_BY_NAME]);
  d.domains.set('vm1', 3);
  t.is((await h.getState('vm1')).state, 'paused');
});

test('polkit auth is performed when the daemon lists only polkit', async (t) => {
  const { d, h } = await setup(t);
  d.authTypes = [2];
  await h.connect();
  t.deepEqual(d.received.map((r) => r.proc).slice(0, 3), [Proc.AUTH_LIST, Proc.AUTH_POLKIT, Proc.CONNECT_OPEN]);
});

test('getState pipelines its two calls and matches out-of-order replies by serial', async (t) => {
  const { d, h } = await setup(t);
  await h.getState('vm1'); // connect + cache the handle
  d.received.length = 0;
  d.replyDelay.set(Proc.DOMAIN_GET_STATE, 400);
  const p = h.getState('vm1');
  // The second call is on the wire while the first reply is still held back.
  t.true(await until(() => d.received.some((r) => r.proc === Proc.DOMAIN_HAS_MANAGED_SAVE_IMAGE), 300));
  t.deepEqual(await p, { state: 'running', hasManagedSave: false });
  const serials = d.received.map((r) => r.serial);
  t.is(new Set(serials).size, serials.length, 'every call has its own serial');
});

test('the domain handle is cached: a second operation costs one round trip', async (t) => {
  const { d, h } = await setup(t);
  await h.suspend('vm1');
  d.received.length = 0;
  await h.resume('vm1');
  t.deepEqual(d.received.map((r) => r.proc), [Proc.DOMAIN_RESUME]);
});

test('unknown domain -> LIBVIRT_NO_DOMAIN naming it', async (t) => {
  const { h } = await setup(t);
  const e = await t.throwsAsync(h.getState('ghost'), { instanceOf: LibvirtError });
  t.is(e?.code, 'LIBVIRT_NO_DOMAIN');
  t.is(e?.libvirtCode, 42);
  t.is(e?.domain, 'ghost');
  t.regex(e?.message ?? '', /'ghost'/);
});

test('a domain removed after its handle was cached is looked up again, then reported by name', async (t) => {
  const { d, h } = await setup(t);
  await h.getState('vm1');
  d.domains.delete('vm1');
  const e = await t.throwsAsync(h.suspend('vm1'), { instanceOf: LibvirtError });
  t.is(e?.code, 'LIBVIRT_NO_DOMAIN');
  t.regex(e?.message ?? '', /no domain with matching name 'vm1'/);
});

test('invalid operation -> LIBVIRT_OPERATION_INVALID with the domain name', async (t) => {
  const { d, h } = await setup(t);
  d.domains.set('vm1', 5);
  const e = await t.throwsAsync(h.suspend('vm1'), { instanceOf: LibvirtError });
  t.is(e?.code, 'LIBVIRT_OPERATION_INVALID');
  t.regex(e?.message ?? '', /not running \(domain 'vm1'\)/);
});

test('daemon not running -> LIBVIRT_CONNECTION naming the socket path', async (t) => {
  const d = new FakeDaemon(); // never started
  t.teardown(() => d.dispose());
  const e = await t.throwsAsync(connectHypervisor('qemu:///system', { socketPath: d.socketPath }), { instanceOf: LibvirtError });
  t.is(e?.code, 'LIBVIRT_CONNECTION');
  t.true(e?.message.includes(d.socketPath));
  t.regex(e?.message ?? '', /libvirtd -d/);
});

test('daemon restart: the call in flight fails, the next call reconnects', async (t) => {
  const { d, h } = await setup(t);
  await h.getState('vm1');
  d.replyDelay.set(Proc.DOMAIN_SUSPEND, 1000);
  const inflight = h.suspend('vm1');
  await until(() => d.received.some((r) => r.proc === Proc.DOMAIN_SUSPEND));
  await d.stop();
  const e = await t.throwsAsync(inflight, { instanceOf: LibvirtError });
  t.is(e?.code, 'LIBVIRT_CONNECTION');
  // Down: clear error each time, not a hang.
  const e2 = await t.throwsAsync(h.getState('vm1'), { instanceOf: LibvirtError });
  t.is(e2?.code, 'LIBVIRT_CONNECTION');
  d.replyDelay.clear();
  await d.start();
  // The daemon applied the suspend before it died; the caller only saw the connection drop.
  t.deepEqual(await h.getState('vm1'), { state: 'paused', hasManagedSave: false });
});

test('keepalive PING is answered with PONG', async (t) => {
  const { d, h } = await setup(t);
  await h.connect();
  d.ping();
  t.true(await until(() => d.received.some((r) => r.prog === KEEPALIVE_PROGRAM && r.proc === KEEPALIVE_PROC_PONG)));
});

test('lifecycle events reach listeners, and resume after a daemon restart', async (t) => {
  const { d, h } = await setup(t);
  const seen: string[] = [];
  const off = h.onLifecycle((dom, ev, detail) => seen.push(`${dom} ${ev} ${detail}`));
  t.true(await until(() => d.received.some((r) => r.proc === Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY)));
  d.emitLifecycle('vm1', 5, 4);
  t.true(await until(() => seen.length === 1));
  t.deepEqual(seen, ['vm1 stopped saved']);

  await d.stop();
  d.received.length = 0;
  await d.start();
  // No call made: the background reconnect re-registers the callback.
  t.true(await until(() => d.received.some((r) => r.proc === Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY), 5000));
  d.emitLifecycle('vm1', 2, 2);
  t.true(await until(() => seen.length === 2));
  t.is(seen[1], 'vm1 started restored');

  off();
  t.true(await until(() => d.received.some((r) => r.proc === Proc.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY)));
});

test('listeners added before and while connecting share one registration: each event arrives once', async (t) => {
  const { d, h } = await setup(t);
  const a: string[] = [];
  const b: string[] = [];
  h.onLifecycle((dom, ev) => a.push(`${dom} ${ev}`));
  const conn = h.connect();
  h.onLifecycle((dom, ev) => b.push(`${dom} ${ev}`));
  await conn;
  await h.getState('vm1');
  t.true(await until(() => d.received.some((r) => r.proc === Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY)));
  d.emitLifecycle('vm1', 3, 0);
  t.true(await until(() => a.length >= 1 && b.length >= 1));
  await sleep(50);
  t.deepEqual(a, ['vm1 suspended']);
  t.deepEqual(b, ['vm1 suspended']);
  t.is(d.received.filter((r) => r.proc === Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY).length, 1);
});

test('a framing violation fails pending calls with LIBVIRT_PROTOCOL; the next call reconnects', async (t) => {
  const { d, h } = await setup(t);
  await h.getState('vm1');
  d.replyDelay.set(Proc.DOMAIN_SUSPEND, 500);
  const p = h.suspend('vm1');
  await until(() => d.received.some((r) => r.proc === Proc.DOMAIN_SUSPEND));
  d.sendRaw(Buffer.from('7fffffff', 'hex'));
  const e = await t.throwsAsync(p, { instanceOf: LibvirtError });
  t.is(e?.code, 'LIBVIRT_PROTOCOL');
  d.replyDelay.clear();
  await t.notThrowsAsync(h.resume('vm1'));
});

test('a call with no reply times out with LIBVIRT_TIMEOUT; the connection stays usable', async (t) => {
  const { d, h } = await setup(t, { callTimeoutMs: 100 });
  await h.getState('vm1');
  d.replyDelay.set(Proc.DOMAIN_SUSPEND, 400);
  const e = await t.throwsAsync(h.suspend('vm1'), { instanceOf: LibvirtError });
  t.is(e?.code, 'LIBVIRT_TIMEOUT');
  t.is(e?.domain, 'vm1');
  await sleep(400); // the late reply arrives and is dropped
  t.deepEqual(await h.getState('vm1'), { state: 'paused', hasManagedSave: false });
});

test('after close() every call fails with LIBVIRT_CONNECTION', async (t) => {
  const { h } = await setup(t);
  await h.getState('vm1');
  await h.close();
  const e = await t.throwsAsync(h.getState('vm1'), { instanceOf: LibvirtError });
  t.is(e?.code, 'LIBVIRT_CONNECTION');
});

test('URIs: local ones map to the daemon socket, remote transports are refused', (t) => {
  t.is(socketPathForUri('qemu:///system'), '/var/run/libvirt/libvirt-sock');
  t.is(socketPathForUri('test:///default'), '/var/run/libvirt/libvirt-sock');
  t.is(socketPathForUri('qemu+unix:///system?socket=/tmp/x.sock'), '/tmp/x.sock');
  for (const bad of ['qemu+ssh://host/system', 'qemu://host/system', 'qemu:///session', 'nonsense']) {
    const e = t.throws(() => socketPathForUri(bad), { instanceOf: LibvirtError });
    t.is(e?.code, 'LIBVIRT_BAD_URI', bad);
  }
});

test('virDomainState -> coarse run state', (t) => {
  t.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map(runStateOf), ['other', 'running', 'running', 'paused', 'other', 'shutoff', 'crashed', 'other']);
});

test('onConnection: told when a daemon that was down at subscription comes up, and on every reconnect, without a call', async (t) => {
  const d = new FakeDaemon(); // not started: libvirtd unreachable
  const h = new RemoteHypervisor('qemu:///system', { socketPath: d.socketPath });
  t.teardown(async () => {
    await h.close();
    await d.dispose();
  });
  let ups = 0;
  h.onConnection(() => ups++);
  await sleep(300);
  t.is(ups, 0);
  await d.start();
  t.true(await until(() => ups === 1, 3000), 'the background reconnect found the daemon');
  await d.stop(); // libvirtd restarts
  await sleep(100);
  await d.start();
  t.true(await until(() => ups === 2, 3000), 'told again after the restart');
  t.deepEqual(await h.getState('vm1'), { state: 'running', hasManagedSave: false });
  t.is(ups, 2, 'a call on the live connection does not count as a new one');
});

test('onConnection: not told for the connection already open when subscribing; a throwing listener is ignored', async (t) => {
  const { d, h } = await setup(t);
  await h.connect();
  const seen: string[] = [];
  h.onConnection(() => {
    throw new Error('listener bug');
  });
  const off = h.onConnection(() => seen.push('up'));
  await sleep(100);
  t.deepEqual(seen, []);
  await d.stop();
  await d.start();
  t.true(await until(() => seen.length === 1, 3000));
  off();
  await d.stop();
  await d.start();
  await sleep(1500);
  t.deepEqual(seen, ['up'], 'unsubscribed');
});

test('setMemoryHardLimit sends DOMAIN_SET_MEMORY_PARAMETERS: hard_limit as a ULLONG typed param, live only; unlimited = 2^53-1 KiB', async (t) => {
  const { d, h } = await setup(t);
  await h.setMemoryHardLimit('vm1', 49152n);
  await h.setMemoryHardLimit('vm1', 'unlimited');
  t.deepEqual(d.memoryParams, [
    { domain: 'vm1', params: [{ field: 'hard_limit', value: 49152n }], flags: 1 },
    { domain: 'vm1', params: [{ field: 'hard_limit', value: 9007199254740991n }], flags: 1 },
  ]);
  d.domains.set('vm1', 5);
  const e = await t.throwsAsync(h.setMemoryHardLimit('vm1', 1024n));
  t.true(e instanceof LibvirtError);
  t.regex(e!.message, /not running/);
});
