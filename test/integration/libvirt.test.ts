// RemoteHypervisor against the real libvirtd + QEMU (TCG) with a tiny guest on a
// userspace OVS bridge; a netns host on the same bridge checks the guest's HTTP service.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { connectHypervisor, LibvirtError, type Hypervisor } from '../../controller/libvirt/index.js';
import { createBridge, destroyBridge } from '../support/ovs.js';
import { createGuest, createNetnsHost, httpGet, tcpExchange, waitForHttp, type Guest, type NetnsHost } from '../support/guest.js';

interface Ctx {
  hv: Hypervisor;
  guest: Guest;
  host: NetnsHost;
  bridge: string;
  events: string[];
  off: () => void;
}

let ctx: Ctx | undefined;
const cleanups: Array<() => unknown> = [];
const c = (): Ctx => {
  if (ctx === undefined) throw new Error('before hook did not finish');
  return ctx;
};

test.before(async () => {
  const t = { teardown: (fn: () => unknown) => cleanups.push(fn) };
  const bridge = await createBridge(t, { failMode: 'standalone' });
  const host = await createNetnsHost(t, bridge, '10.91.0.1/24');
  const guest = await createGuest(t, { bridge, ip: '10.91.0.11/24', label: 'vm1' });
  const hv = await connectHypervisor('qemu:///system');
  cleanups.push(() => hv.close());
  const events: string[] = [];
  const off = hv.onLifecycle!((dom, ev, detail) => {
    if (dom === guest.name) events.push(`${ev}/${detail}`);
  });
  ctx = { hv, guest, host, bridge, events, off };
});

test.after.always(async () => {
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch {
      // keep cleaning up
    }
  }
  if (ctx !== undefined) await destroyBridge(ctx.bridge).catch(() => undefined);
});

const url = () => `http://${c().guest.ip}/`;

function qemuPid(name: string): number | undefined {
  const f = `/var/run/libvirt/qemu/${name}.pid`;
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function rssKiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined; // process gone
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

test.serial('a freshly started guest is running and serves HTTP', async (t) => {
  const { hv, guest, host } = c();
  t.deepEqual(await hv.getState(guest.name), { state: 'running', hasManagedSave: false });
  const { body } = await waitForHttp(host, url(), 15_000);
  t.is(body, guest.expectedBody);
  // The second service speaks first (like sshd), then echoes.
  t.is(await tcpExchange(host, guest.ip, guest.tcpPort, 'ping\n'), `SSH-2.0-seamless-${guest.label}\nping\n`);
});

test.serial('QEMU runs with transparent huge pages off (inherited from libvirtd, mininet/start-libvirtd.sh)', (t) => {
  // Why it matters: with THP a restored guest's RAM is faulted in 2 MiB at a time,
  // ~60 ms slower per save-depth wake and ~2x the RSS (docs/decisions.md).
  const { guest } = c();
  const pid = qemuPid(guest.name);
  t.not(pid, undefined, 'qemu pid file exists while running');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  t.regex(status, /^THP_enabled:\s+0$/m, 'restart libvirtd with: pkill -x libvirtd; bash mininet/start-libvirtd.sh');
  const huge = /AnonHugePages:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  t.is(huge?.[1], '0', 'no anonymous huge pages in qemu');
});

test.serial('suspend -> paused and silent; resume -> running and answering', async (t) => {
  const { hv, guest, host } = c();
  await hv.suspend(guest.name);
  t.deepEqual(await hv.getState(guest.name), { state: 'paused', hasManagedSave: false });
  await t.throwsAsync(httpGet(host, url(), 1), undefined, 'a paused guest must not answer');
  await hv.resume(guest.name);
  t.is((await hv.getState(guest.name)).state, 'running');
  const { body } = await waitForHttp(host, url(), 10_000);
  t.is(body, guest.expectedBody);
});

test.serial('operations invalid in the current state -> LIBVIRT_OPERATION_INVALID (what FakeHypervisor mirrors)', async (t) => {
  const { hv, guest } = c();
  for (const op of ['start', 'resume'] as const) {
    const e = await t.throwsAsync(hv[op](guest.name), { instanceOf: LibvirtError });
    t.is(e?.code, 'LIBVIRT_OPERATION_INVALID', op);
    t.is(e?.libvirtCode, 55);
  }
});

test.serial('managedSave -> shutoff with a save image, qemu and its memory gone; start restores the same guest', async (t) => {
  const { hv, guest, host } = c();
  const pid = qemuPid(guest.name);
  t.not(pid, undefined, 'qemu pid file exists while running');
  const rssBefore = rssKiB(pid!);
  t.true((rssBefore ?? 0) > 32 * 1024, `qemu holds the guest memory while running (${rssBefore} KiB)`);

  await hv.managedSave(guest.name);
  t.deepEqual(await hv.getState(guest.name), { state: 'shutoff', hasManagedSave: true });
  t.true(await waitFor(() => rssKiB(pid!) === undefined, 5000), 'the qemu process has exited');
  await t.throwsAsync(httpGet(host, url(), 1));

  const t0 = performance.now();
  await hv.start(guest.name);
  const startMs = performance.now() - t0;
  t.deepEqual(await hv.getState(guest.name), { state: 'running', hasManagedSave: false });
  const { body, ms } = await waitForHttp(host, url(), 10_000);
  t.is(body, guest.expectedBody, 'same guest, same answer');
  // Restored, not rebooted: the console shows a single boot (one ready marker).
  t.is(guest.console().split('SEAMLESS-READY').length - 1, 1);
  const after = qemuPid(guest.name);
  t.log(`start from managed save ${startMs.toFixed(0)} ms, HTTP answered ${ms.toFixed(0)} ms later; qemu RSS ${rssBefore} KiB before, ${after === undefined ? '?' : rssKiB(after)} KiB after`);
});

test.serial('a guest saved while paused comes back running (VIR_DOMAIN_SAVE_RUNNING)', async (t) => {
  const { hv, guest, host } = c();
  await hv.suspend(guest.name);
  await hv.managedSave(guest.name);
  t.deepEqual(await hv.getState(guest.name), { state: 'shutoff', hasManagedSave: true });
  await hv.start(guest.name);
  t.is((await hv.getState(guest.name)).state, 'running');
  t.is((await waitForHttp(host, url(), 10_000)).body, guest.expectedBody);
});

test.serial('lifecycle events were delivered for each transition', async (t) => {
  const { events } = c();
  const want = ['suspended/paused', 'resumed/unpaused', 'stopped/saved', 'started/restored'];
  t.true(await waitFor(() => want.every((w) => events.includes(w)), 5000), `events seen: ${events.join(', ')}`);
  // Order of the first cycle: suspend, resume, save, restore.
  const idx = want.map((w) => events.indexOf(w));
  t.deepEqual([...idx].sort((a, b) => a - b), idx, `events seen: ${events.join(', ')}`);
});

test.serial('shutdown (ACPI) resolves once the guest is off; destroy of an off guest is invalid', async (t) => {
  const { hv, guest } = c();
  await hv.shutdown(guest.name);
  t.deepEqual(await hv.getState(guest.name), { state: 'shutoff', hasManagedSave: false });
  const e = await t.throwsAsync(hv.destroy(guest.name), { instanceOf: LibvirtError });
  t.is(e?.code, 'LIBVIRT_OPERATION_INVALID');
  t.true(await waitFor(() => c().events.includes('stopped/shutdown'), 5000));
});

test.serial('unknown domain -> LIBVIRT_NO_DOMAIN naming it', async (t) => {
  const { hv } = c();
  const name = `no-such-domain-${process.pid}`;
  const e = await t.throwsAsync(hv.getState(name), { instanceOf: LibvirtError });
  t.is(e?.code, 'LIBVIRT_NO_DOMAIN');
  t.true(e?.message.includes(name));
  const e2 = await t.throwsAsync(hv.start(name), { instanceOf: LibvirtError });
  t.is(e2?.code, 'LIBVIRT_NO_DOMAIN');
});

test.serial('unsubscribed listeners get no more events', async (t) => {
  const { hv, guest, events, off } = c();
  off();
  const n = events.length;
  await hv.start(guest.name);
  await hv.destroy(guest.name);
  await new Promise((r) => setTimeout(r, 300));
  t.is(events.length, n);
});
