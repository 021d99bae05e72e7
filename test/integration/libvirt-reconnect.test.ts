// The park engine against the real libvirtd when libvirt is unreachable and comes
// back (issue 8, items 2 and 4). libvirtd itself is never restarted (other tests
// share it): the engine reaches it through a unix-socket proxy this test owns,
// which it cuts (listener closed, connections dropped: what a libvirtd restart
// looks like to a client) and restores.
import test from 'ava';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { parseInventory } from '../../controller/inventory/index.js';
import { DEFAULT_SOCKET_PATH, RemoteHypervisor } from '../../controller/libvirt/remote.js';
import { createLogger } from '../../controller/log.js';
import { createParkApp, type ParkApp } from '../../controller/park/app.js';
import { systemClock } from '../../controller/clock.js';
import type { Output } from '../../controller/park/machine.js';
import { MemoryStateStore } from '../../controller/park/store.js';
import { createBridge, destroyBridge } from '../support/ovs.js';
import { createGuest, virsh, type Guest } from '../support/guest.js';

/** A unix socket that forwards every connection to libvirtd's, and can be cut and restored. */
class LibvirtProxy {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'seamless-libvirt-proxy-'));
  readonly socketPath = path.join(this.dir, 'libvirt-sock');
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  async up(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.createConnection({ path: DEFAULT_SOCKET_PATH });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
  }

  /** Stops listening and drops every connection (ECONNREFUSED/ENOENT for new ones). */
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
    rmSync(this.socketPath, { force: true });
  }

  async dispose(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface Ctx {
  guest: Guest;
  bridge: string;
}

let ctx: Ctx | undefined;
const cleanups: Array<() => unknown> = [];

test.before(async () => {
  const t = { teardown: (fn: () => unknown) => cleanups.push(fn) };
  const bridge = await createBridge(t, { failMode: 'standalone' });
  const guest = await createGuest(t, { bridge, ip: '10.92.0.11/24', label: 'vm1' });
  ctx = { guest, bridge };
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

function engine(t: { teardown(fn: () => unknown): void }, proxy: LibvirtProxy, guest: Guest, park: string, defaults: string): { app: ParkApp; transitions: Extract<Output, { kind: 'transition' }>[]; logs: string[] } {
  const uri = `qemu+unix:///system?socket=${proxy.socketPath}`;
  const inventory = parseInventory(
    `park: { ${park} }
defaults: { ${defaults} }
switches: [{ name: s1, dpid: 1 }]
vms:
  - { name: vm1, libvirt: { uri: "${uri}", domain: ${guest.name} }, mac: "${guest.mac}", ip: ${guest.ip}, switch: s1, port: vm1-tap, depth: pause }
`,
    'reconnect.yaml',
  );
  const transitions: Extract<Output, { kind: 'transition' }>[] = [];
  const logs: string[] = [];
  const hvs: RemoteHypervisor[] = [];
  const app = createParkApp({
    inventory,
    hypervisors: (u) => {
      const h = new RemoteHypervisor(u);
      hvs.push(h);
      return h;
    },
    clock: systemClock,
    store: new MemoryStateStore(),
    log: createLogger({ level: 'debug', format: 'text', sink: (l) => logs.push(l) }),
    onTransition: (tr) => transitions.push(tr),
  });
  t.teardown(async () => {
    await app.stop!();
    await Promise.allSettled(hvs.map((h) => h.close()));
  });
  return { app, transitions, logs };
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}

test.serial('started while libvirt is unreachable: the paused guest is UNKNOWN, then reconciled PARKED when libvirt answers', async (t) => {
  const { guest } = ctx!;
  await virsh('suspend', guest.name);
  t.teardown(() => virsh('resume', guest.name).catch(() => undefined));
  const proxy = new LibvirtProxy(); // not listening: libvirt unreachable
  t.teardown(() => proxy.dispose());
  const { app, transitions } = engine(t, proxy, guest, 'retryBackoff: 1s', 'wakeTimeout: 60s');
  await app.ready;
  const vm = () => app.status().find((s) => s.name === 'vm1')!;
  t.is(vm().phase, 'unknown', 'not routed as active while libvirt has not answered');
  await new Promise((r) => setTimeout(r, 1500));
  t.is(vm().phase, 'unknown');
  const upAt = Date.now();
  await proxy.up();
  t.true(await waitFor(() => vm().phase === 'parked', 10_000), `vm1 is ${vm().phase}`);
  t.log(`reconciled ${Date.now() - upAt} ms after libvirt became reachable`);
  t.like(transitions.at(-1), { from: 'unknown', to: 'parked', reason: 'reconciled' });
});

test.serial('a wake that lost the connection to libvirt is retried when libvirt is back, not after its backoff', async (t) => {
  const { guest } = ctx!;
  const proxy = new LibvirtProxy();
  t.teardown(() => proxy.dispose());
  await proxy.up();
  // A 60 s backoff: only the reconnect can explain a retry within the test.
  const { app, logs } = engine(t, proxy, guest, 'retryBackoff: 60s, retryBackoffMax: 60s', 'wakeTimeout: 120s');
  await app.ready;
  const vm = () => app.status().find((s) => s.name === 'vm1')!;
  t.is(vm().phase, 'active');
  await virsh('suspend', guest.name);
  t.teardown(() => virsh('resume', guest.name).catch(() => undefined));
  t.true(await waitFor(() => vm().phase === 'parked', 10_000), `lifecycle event reconciled it: ${vm().phase}`);
  await proxy.down(); // libvirtd "restarts"
  app.wakeNow('vm1');
  t.true(await waitFor(() => vm().step === 'backoff', 10_000), `vm1 is ${vm().phase}/${vm().step}`);
  t.regex(vm().lastError ?? '', /LIBVIRT_CONNECTION/);
  await new Promise((r) => setTimeout(r, 1000));
  const upAt = Date.now();
  await proxy.up();
  t.true(await waitFor(() => logs.some((l) => l.includes('woke=resumed')), 20_000), 'resumed after the reconnect');
  t.log(`resumed ${Date.now() - upAt} ms after libvirt became reachable (backoff was 60 s)`);
  t.regex((await virsh('domstate', guest.name)).trim(), /running/);
});
