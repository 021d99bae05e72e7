// RemoteHypervisor against the real libvirtd reached as a remote host would be
// (issue 12 item 1): qemu+tls://localhost/system with the testbed's CA and client
// certificate (mininet/libvirt-tls.sh), and qemu+tcp://127.0.0.1/system. A tiny
// guest is parked and woken through TLS; a wrong CA, a foreign client certificate
// and no client certificate are refused with clear errors; a hung host beside the
// working one fails only its own operations.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { LibvirtError, RemoteHypervisor } from '../../controller/libvirt/index.js';
import { DEFAULT_TLS_FILES } from '../../controller/libvirt/uri.js';
import { VirtualClock } from '../../controller/clock.js';
import { createBridge, destroyBridge } from '../support/ovs.js';
import { createGuest, createNetnsHost, ensureLibvirt, waitForHttp, type Guest, type NetnsHost } from '../support/guest.js';
import { makeTestPki } from '../support/pki.js';

const TLS_URI = 'qemu+tls://localhost/system';
const TCP_URI = 'qemu+tcp://127.0.0.1/system';

interface Ctx {
  guest: Guest;
  host: NetnsHost;
  bridge: string;
}
let ctx: Ctx | undefined;
const cleanups: Array<() => unknown> = [];
const c = (): Ctx => {
  if (ctx === undefined) throw new Error('before hook did not finish');
  return ctx;
};

/** The testbed must listen on TLS and TCP: say how to get there, instead of a bare ECONNREFUSED. */
async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

test.before(async () => {
  await ensureLibvirt();
  for (const f of Object.values(DEFAULT_TLS_FILES)) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run mininet/setup.sh (it calls mininet/libvirt-tls.sh)`);
  }
  for (const port of [16514, 16509]) {
    if (!(await listening(port))) {
      throw new Error(`libvirtd does not listen on 127.0.0.1:${port}: run mininet/libvirt-tls.sh, then restart libvirtd (pkill -x libvirtd; bash mininet/start-libvirtd.sh)`);
    }
  }
  const t = { teardown: (fn: () => unknown) => cleanups.push(fn) };
  const bridge = await createBridge(t, { failMode: 'standalone' });
  const host = await createNetnsHost(t, bridge, '10.93.0.1/24');
  const guest = await createGuest(t, { bridge, ip: '10.93.0.11/24', label: 'tlsvm' });
  ctx = { guest, host, bridge };
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

function hypervisor(t: { teardown(fn: () => unknown): void }, uri: string, opts: ConstructorParameters<typeof RemoteHypervisor>[1] = {}): RemoteHypervisor {
  const h = new RemoteHypervisor(uri, opts);
  t.teardown(() => h.close());
  return h;
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return cond();
}

test.serial('qemu+tls: park (suspend) and wake (resume) a guest, lifecycle events arrive over TLS, HTTP answers after the wake', async (t) => {
  const { guest, host } = c();
  const hv = hypervisor(t, TLS_URI);
  const events: string[] = [];
  hv.onLifecycle((dom, ev, detail) => {
    if (dom === guest.name) events.push(`${ev}/${detail}`);
  });
  await waitForHttp(host, `http://${guest.ip}/`, 30_000);
  t.deepEqual(await hv.getState(guest.name), { state: 'running', hasManagedSave: false });
  await hv.suspend(guest.name);
  t.is((await hv.getState(guest.name)).state, 'paused');
  await hv.resume(guest.name);
  t.is((await hv.getState(guest.name)).state, 'running');
  t.true(await waitFor(() => events.includes('suspended/paused') && events.includes('resumed/unpaused'), 5000), `events: ${events.join(', ')}`);
  const { body } = await waitForHttp(host, `http://${guest.ip}/`, 10_000);
  t.true(body.length > 0);
});

test.serial('qemu+tls: managed save and restore of the guest (depth save) over TLS', async (t) => {
  const { guest, host } = c();
  const hv = hypervisor(t, TLS_URI);
  await hv.managedSave(guest.name);
  t.deepEqual(await hv.getState(guest.name), { state: 'shutoff', hasManagedSave: true });
  await hv.start(guest.name);
  t.deepEqual(await hv.getState(guest.name), { state: 'running', hasManagedSave: false });
  await waitForHttp(host, `http://${guest.ip}/`, 15_000);
  t.pass();
});

test.serial('qemu+tcp (lab only): the same daemon over plain TCP, park and wake', async (t) => {
  const { guest } = c();
  const hv = hypervisor(t, TCP_URI);
  await hv.suspend(guest.name);
  t.is((await hv.getState(guest.name)).state, 'paused');
  await hv.resume(guest.name);
  t.is((await hv.getState(guest.name)).state, 'running');
});

test.serial('a wrong CA: the server is not trusted, LIBVIRT_TLS naming the CA file and the host', async (t) => {
  const foreign = makeTestPki(t);
  const hv = hypervisor(t, TLS_URI, { tls: { caCert: foreign.caCert }, connectTimeoutMs: 5000 });
  const e = await t.throwsAsync(hv.getState(c().guest.name), { instanceOf: LibvirtError });
  t.is(e?.code, 'LIBVIRT_TLS');
  t.true(e?.message.includes('localhost:16514 (tls)'), e?.message);
  t.true(e?.message.includes(foreign.caCert), e?.message);
  t.regex(e?.message ?? '', /not trusted/);
  t.log(e?.message);
});

test.serial('the server certificate names localhost and 127.0.0.1 only: dialled as another name it does not verify', async (t) => {
  const ca = readFileSync(DEFAULT_TLS_FILES.caCert);
  const verify = (servername: string | undefined) =>
    new Promise<string>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port: 16514, ca, rejectUnauthorized: true, ...(servername === undefined ? {} : { servername }) }, () => {
        s.destroy();
        resolve('verified');
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
  t.is(await verify(undefined), 'verified', '127.0.0.1 is named');
  t.is(await verify('localhost'), 'verified', 'localhost is named');
  t.is(await verify('hv.example'), 'ERR_TLS_CERT_ALTNAME_INVALID');
});

test.serial('a client certificate from a CA libvirtd does not trust is refused with LIBVIRT_TLS', async (t) => {
  const foreign = makeTestPki(t);
  const hv = hypervisor(t, TLS_URI, { tls: { clientCert: foreign.clientCert, clientKey: foreign.clientKey }, connectTimeoutMs: 5000 });
  const e = await t.throwsAsync(hv.connect(), { instanceOf: LibvirtError });
  t.is(e?.code, 'LIBVIRT_TLS');
  t.true(e?.message.includes('localhost:16514 (tls)'), e?.message);
  t.true(e?.message.includes(foreign.clientCert), e?.message);
  t.log(e?.message);
});

test.serial('a client without a certificate gets no RPC stream: libvirtd never sends its acceptance byte', async (t) => {
  const ca = readFileSync(DEFAULT_TLS_FILES.caCert);
  const outcome = await new Promise<string>((resolve) => {
    const s = tls.connect({ host: 'localhost', port: 16514, servername: 'localhost', ca, rejectUnauthorized: true });
    const timer = setTimeout(() => {
      s.destroy();
      resolve('no answer');
    }, 5000);
    s.once('data', (b: Buffer) => {
      clearTimeout(timer);
      s.destroy();
      resolve(b[0] === 1 ? 'accepted' : `refused byte ${b[0]}`);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      resolve(`error: ${err.message}`);
    });
    s.once('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
  t.not(outcome, 'accepted');
  t.not(outcome, 'no answer', 'libvirtd ends the session instead of leaving it hanging');
  t.log(outcome);
});

test.serial('a hung host beside the working one: its operation fails within its connect timeout naming it; the TLS host parks and wakes meanwhile', async (t) => {
  const { guest } = c();
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => sockets.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const port = (silent.address() as net.AddressInfo).port;
  // The dead host's timers on virtual time: it stays pending, however slow the machine, until moved on.
  const clock = new VirtualClock(0);
  const dead = new RemoteHypervisor(`qemu+tls://127.0.0.1:${port}/system`, { connectTimeoutMs: 3000, clock });
  t.teardown(async () => {
    const closing = dead.close();
    for (let i = 0; i < 50; i++) await clock.advance(100);
    await closing;
  });
  const live = hypervisor(t, TLS_URI);
  let deadDone = false;
  const deadWake = dead.resume('some-guest').finally(() => (deadDone = true));
  deadWake.catch(() => undefined);
  await live.suspend(guest.name);
  await live.resume(guest.name);
  t.is((await live.getState(guest.name)).state, 'running');
  t.false(deadDone, 'the live host finished while the dead one was still pending');
  for (let i = 0; i < 100 && !deadDone; i++) {
    await clock.advance(100);
    await new Promise((r) => setTimeout(r, 20));
  }
  const e = await t.throwsAsync(deadWake, { instanceOf: LibvirtError });
  t.is(e?.code, 'LIBVIRT_CONNECTION');
  t.true(e?.message.includes(`127.0.0.1:${port} (tls)`), e?.message);
  t.log(e?.message);
});
