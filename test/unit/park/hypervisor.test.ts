// parkDomain / wakeDomain against FakeHypervisor, whose state rules mirror
// libvirt 9 + QEMU (shutdown of a paused domain is LIBVIRT_OPERATION_INVALID).
import test from 'ava';
import { FakeHypervisor } from '../../../controller/libvirt/fake.js';
import { parkDomain, wakeDomain } from '../../../controller/park/hypervisor.js';

test('depth shutdown on a paused guest: resumed first, then shut down cleanly (no destroy)', async (t) => {
  const hv = new FakeHypervisor().define('d1', { state: 'paused' });
  await parkDomain(hv, 'd1', 'shutdown');
  t.is(hv.peek('d1')?.state, 'shutoff');
  t.deepEqual(
    hv.calls.filter((c) => c.op !== 'getState').map((c) => `${c.op}:${c.outcome}`),
    ['resume:ok', 'shutdown:ok'],
  );
});

test('depth shutdown on a paused guest that ignores ACPI: resumed, shutdown times out, destroyed', async (t) => {
  const hv = new FakeHypervisor({ shutdownTimeoutMs: 5 }).define('d1', { state: 'paused', ignoresAcpi: true });
  await parkDomain(hv, 'd1', 'shutdown');
  t.is(hv.peek('d1')?.state, 'shutoff');
  t.deepEqual(
    hv.calls.filter((c) => c.op !== 'getState').map((c) => `${c.op}:${c.outcome}`),
    ['resume:ok', 'shutdown:LIBVIRT_TIMEOUT', 'destroy:ok'],
  );
});

test('depth shutdown on a running guest: one ACPI shutdown; already shut off: nothing', async (t) => {
  const hv = new FakeHypervisor().define('d1').define('d2', { state: 'shutoff' });
  await parkDomain(hv, 'd1', 'shutdown');
  await parkDomain(hv, 'd2', 'shutdown');
  t.is(hv.peek('d1')?.state, 'shutoff');
  t.deepEqual(hv.calls.filter((c) => c.op !== 'getState').map((c) => `${c.op}:${c.domain}`), ['shutdown:d1']);
});

test('a shutdown guest wakes with start; a paused one with resume', async (t) => {
  const hv = new FakeHypervisor().define('d1').define('d2', { state: 'paused' });
  await parkDomain(hv, 'd1', 'shutdown');
  await wakeDomain(hv, 'd1');
  await wakeDomain(hv, 'd2');
  t.is(hv.peek('d1')?.state, 'running');
  t.is(hv.peek('d2')?.state, 'running');
});

test('wakeDomain says how the domain came to run: resumed, restored from its image, booted cold, already running', async (t) => {
  const hv = new FakeHypervisor()
    .define('paused', { state: 'paused' })
    .define('saved', { state: 'shutoff', hasManagedSave: true })
    .define('off', { state: 'shutoff' })
    .define('up');
  t.is(await wakeDomain(hv, 'paused'), 'resumed');
  t.is(await wakeDomain(hv, 'saved'), 'restored');
  t.is(await wakeDomain(hv, 'off'), 'booted');
  t.is(await wakeDomain(hv, 'up'), 'running');
  t.is(hv.peek('saved')?.hasManagedSave, false, 'the image is consumed by the start');
  for (const d of ['paused', 'saved', 'off', 'up']) t.is(hv.peek(d)?.state, 'running');
});

test('escalation from pause: save of a paused guest is a managed save; a second save is a no-op; the wake restores it', async (t) => {
  const hv = new FakeHypervisor().define('d1', { state: 'paused' });
  await parkDomain(hv, 'd1', 'save');
  await parkDomain(hv, 'd1', 'save'); // retried after a crash mid-operation: nothing left to do
  t.like(hv.peek('d1'), { state: 'shutoff', hasManagedSave: true });
  t.deepEqual(hv.calls.filter((c) => c.op !== 'getState').map((c) => c.op), ['managedSave']);
  t.is(await wakeDomain(hv, 'd1'), 'restored');
});

test('depth reclaim parks like pause here: a running guest is suspended, a paused one left alone, and it wakes by resume', async (t) => {
  const hv = new FakeHypervisor().define('d1').define('d2', { state: 'paused' });
  await parkDomain(hv, 'd1', 'reclaim');
  await parkDomain(hv, 'd2', 'reclaim');
  t.is(hv.peek('d1')?.state, 'paused');
  t.deepEqual(hv.calls.filter((c) => c.op !== 'getState').map((c) => `${c.op}:${c.domain}`), ['suspend:d1']);
  t.is(await wakeDomain(hv, 'd1'), 'resumed');
});
