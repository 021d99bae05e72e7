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

test('depth reclaim on a running guest: suspended, hard limit set low and lifted at once (in that order)', async (t) => {
  const { RECLAIM_HARD_LIMIT_KIB } = await import('../../../controller/park/reclaim.js');
  const hv = new FakeHypervisor().define('d1');
  t.deepEqual(await parkDomain(hv, 'd1', 'reclaim'), {});
  t.is(hv.peek('d1')?.state, 'paused');
  t.deepEqual(hv.calls.filter((c) => c.op !== 'getState').map((c) => `${c.op}:${c.outcome}`), ['suspend:ok', 'setMemoryHardLimit:ok', 'setMemoryHardLimit:ok']);
  t.deepEqual(hv.hardLimitsOf('d1'), [RECLAIM_HARD_LIMIT_KIB, 'unlimited']);
});

test('depth reclaim is idempotent from a paused (or already reclaimed) guest: no suspend, the push again', async (t) => {
  const hv = new FakeHypervisor().define('d1', { state: 'paused' });
  t.deepEqual(await parkDomain(hv, 'd1', 'reclaim'), {});
  t.deepEqual(await parkDomain(hv, 'd1', 'reclaim'), {});
  t.is(hv.callsOf('suspend').length, 0);
  t.deepEqual(hv.hardLimitsOf('d1').length, 4);
  t.is(hv.hardLimitsOf('d1').at(-1), 'unlimited');
});

test('depth reclaim: a failed push leaves the guest paused (parked, memory kept), says why, and still lifts the limit', async (t) => {
  const hv = new FakeHypervisor().define('d1');
  hv.failNext('setMemoryHardLimit', 'LIBVIRT_ERROR', { domain: 'd1', times: 1 });
  const out = await parkDomain(hv, 'd1', 'reclaim');
  t.regex(out.memoryKept ?? '', /./, 'the push error is reported, not thrown');
  t.is(hv.peek('d1')?.state, 'paused');
  t.deepEqual(hv.hardLimitsOf('d1'), ['unlimited'], 'the low limit failed; the lift went through');
  t.is(await wakeDomain(hv, 'd1'), 'resumed', 'a wake is a plain resume');
});

test('depth reclaim: a lift that fails once is retried; an adapter without memory limits keeps the memory', async (t) => {
  const { pushMemoryOut } = await import('../../../controller/park/reclaim.js');
  const hv = new FakeHypervisor().define('d1', { state: 'paused' });
  const set = hv.setMemoryHardLimit.bind(hv);
  let lifts = 0;
  await pushMemoryOut({
    setMemoryHardLimit: async (d, kib) => {
      if (kib === 'unlimited' && lifts++ === 0) throw new Error('connection reset');
      await set(d, kib);
    },
  }, 'd1');
  t.is(lifts, 2);
  t.is(hv.hardLimitsOf('d1').at(-1), 'unlimited');
  const noLimits = { getState: hv.getState.bind(hv), suspend: hv.suspend.bind(hv) } as unknown as Parameters<typeof parkDomain>[0];
  const out = await parkDomain(noLimits, 'd1', 'reclaim');
  t.regex(out.memoryKept ?? '', /cannot reclaim the memory of d1: this libvirt adapter cannot set memory limits/);
});

test('depth reclaim on a shut-off guest fails the park (nothing to pause)', async (t) => {
  const hv = new FakeHypervisor().define('d1', { state: 'shutoff' });
  await t.throwsAsync(parkDomain(hv, 'd1', 'reclaim'), { code: 'ERR_DOMAIN_STATE' });
});
