import test from 'ava';
import { FakeHypervisor } from '../../../controller/libvirt/fake.js';
import { LibvirtError } from '../../../controller/libvirt/errors.js';
import type { Hypervisor } from '../../../controller/libvirt/hypervisor.js';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof LibvirtError ? e.code : `not a LibvirtError: ${String(e)}`;
  }
}

test('is a Hypervisor', (t) => {
  const h: Hypervisor = new FakeHypervisor();
  t.is(typeof h.onLifecycle, 'function');
});

test('park/wake cycles follow libvirt state rules', async (t) => {
  const h = new FakeHypervisor().define('vm1');
  await h.suspend('vm1');
  t.deepEqual(await h.getState('vm1'), { state: 'paused', hasManagedSave: false });
  await h.suspend('vm1'); // libvirt: suspending a paused domain succeeds
  await h.resume('vm1');
  t.deepEqual(await h.getState('vm1'), { state: 'running', hasManagedSave: false });
  await h.managedSave('vm1');
  t.deepEqual(await h.getState('vm1'), { state: 'shutoff', hasManagedSave: true });
  await h.start('vm1');
  t.deepEqual(await h.getState('vm1'), { state: 'running', hasManagedSave: false });
  await h.shutdown('vm1');
  t.deepEqual(await h.getState('vm1'), { state: 'shutoff', hasManagedSave: false });
  await h.start('vm1');
  await h.destroy('vm1');
  t.is(h.peek('vm1')?.state, 'shutoff');
});

test('managedSave of a paused domain is allowed', async (t) => {
  const h = new FakeHypervisor().define('vm1', { state: 'paused' });
  await h.managedSave('vm1');
  t.deepEqual(h.peek('vm1'), { state: 'shutoff', hasManagedSave: true });
});

test('operations not valid in the current state -> LIBVIRT_OPERATION_INVALID', async (t) => {
  const h = new FakeHypervisor().define('on').define('off', { state: 'shutoff' }).define('p', { state: 'paused' });
  t.is(await code(h.resume('on')), 'LIBVIRT_OPERATION_INVALID');
  t.is(await code(h.start('on')), 'LIBVIRT_OPERATION_INVALID');
  t.is(await code(h.start('p')), 'LIBVIRT_OPERATION_INVALID');
  t.is(await code(h.shutdown('p')), 'LIBVIRT_OPERATION_INVALID');
  for (const op of ['suspend', 'resume', 'managedSave', 'shutdown', 'destroy'] as const) {
    t.is(await code(h[op]('off')), 'LIBVIRT_OPERATION_INVALID', op);
  }
  t.is(h.peek('off')?.state, 'shutoff');
});

test('unknown domain -> LIBVIRT_NO_DOMAIN naming it', async (t) => {
  const h = new FakeHypervisor();
  const e = await t.throwsAsync(h.getState('ghost'), { instanceOf: LibvirtError });
  t.is(e?.code, 'LIBVIRT_NO_DOMAIN');
  t.regex(e?.message ?? '', /'ghost'/);
});

test('a guest that ignores ACPI makes shutdown time out and stay running', async (t) => {
  const h = new FakeHypervisor({ shutdownTimeoutMs: 10 }).define('vm1', { ignoresAcpi: true });
  t.is(await code(h.shutdown('vm1')), 'LIBVIRT_TIMEOUT');
  t.is(h.peek('vm1')?.state, 'running');
});

test('injected failures: next N calls of one op, optionally for one domain', async (t) => {
  const h = new FakeHypervisor().define('a').define('b');
  h.failNext('suspend', 'LIBVIRT_CONNECTION', { domain: 'a', times: 2 });
  t.is(await code(h.suspend('b')), 'ok');
  t.is(await code(h.suspend('a')), 'LIBVIRT_CONNECTION');
  t.is(await code(h.suspend('a')), 'LIBVIRT_CONNECTION');
  t.is(await code(h.suspend('a')), 'ok');
  t.is(h.peek('a')?.state, 'paused');
  const custom = new LibvirtError('LIBVIRT_ERROR', 'disk full');
  h.failNext('managedSave', custom);
  const e = await t.throwsAsync(h.managedSave('a'));
  t.is(e, custom);
  t.is(h.peek('a')?.state, 'paused', 'a failed operation changes nothing');
});

test('disconnected -> LIBVIRT_CONNECTION until reconnected; closed -> always', async (t) => {
  const h = new FakeHypervisor().define('vm1');
  h.setConnected(false);
  t.is(await code(h.getState('vm1')), 'LIBVIRT_CONNECTION');
  h.setConnected(true);
  t.is(await code(h.getState('vm1')), 'ok');
  await h.close();
  t.is(await code(h.getState('vm1')), 'LIBVIRT_CONNECTION');
});

test('delays: the state changes when the operation completes', async (t) => {
  const h = new FakeHypervisor({ delays: { managedSave: 40 } }).define('vm1');
  const p = h.managedSave('vm1');
  await new Promise((r) => setTimeout(r, 5));
  t.is(h.peek('vm1')?.state, 'running');
  await p;
  t.is(h.peek('vm1')?.state, 'shutoff');
  const [c] = h.callsOf('managedSave', 'vm1');
  t.is(c?.outcome, 'ok');
  t.true((c?.endedAt ?? 0) - (c?.startedAt ?? 0) >= 35);
});

test('operations on one domain are serialised (libvirt job lock), other domains are not', async (t) => {
  const h = new FakeHypervisor().define('a').define('b');
  h.setDelay('suspend', 30, 'a');
  const order: string[] = [];
  const p1 = h.suspend('a').then(() => order.push('suspend a'));
  const p2 = h.resume('a').then(() => order.push('resume a'));
  const p3 = h.suspend('b').then(() => order.push('suspend b'));
  await Promise.all([p1, p2, p3]);
  t.deepEqual(order, ['suspend b', 'suspend a', 'resume a']);
  t.is(h.peek('a')?.state, 'running');
});

test('calls are recorded in order with outcomes', async (t) => {
  const h = new FakeHypervisor().define('vm1');
  await h.suspend('vm1');
  await code(h.start('vm1'));
  await code(h.getState('nope'));
  t.deepEqual(
    h.calls.map((c) => [c.op, c.domain, c.outcome]),
    [
      ['suspend', 'vm1', 'ok'],
      ['start', 'vm1', 'LIBVIRT_OPERATION_INVALID'],
      ['getState', 'nope', 'LIBVIRT_NO_DOMAIN'],
    ],
  );
});

test('lifecycle events use the real adapter names', async (t) => {
  const h = new FakeHypervisor().define('vm1');
  const seen: string[] = [];
  const off = h.onLifecycle((d, e, x) => seen.push(`${d} ${e} ${x}`));
  await h.suspend('vm1');
  await h.resume('vm1');
  await h.managedSave('vm1');
  await h.start('vm1');
  await h.shutdown('vm1');
  await h.start('vm1');
  await h.destroy('vm1');
  off();
  await h.start('vm1');
  t.deepEqual(seen, [
    'vm1 suspended paused',
    'vm1 resumed unpaused',
    'vm1 stopped saved',
    'vm1 started restored',
    'vm1 shutdown finished',
    'vm1 stopped shutdown',
    'vm1 started booted',
    'vm1 stopped destroyed',
  ]);
});
