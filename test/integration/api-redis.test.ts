// The daemon's operator side end to end: ControlPlane (RedisStateStore on a real
// redis-server + control API on a unix socket) over the park engine (simulated
// switch, FakeHypervisor, virtual time), driven through ApiClient as the CLI does,
// including Redis restarting empty under the daemon.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ApiClient } from '../../controller/api/client.js';
import { ControlPlane } from '../../controller/api/plane.js';
import { createLogger } from '../../controller/log.js';
import { createParkApp } from '../../controller/park/app.js';
import { startRedis } from '../support/redis.js';
import { World } from '../support/park-world.js';

const INVENTORY = `
park: { probeInterval: 15ms, pollInterval: 1s }
defaults: { idleTimeout: 1h, minActive: 0s, wakeTimeout: 5s }
switches: [{ name: s1, dpid: 1 }]
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depth: save }
`;

async function eventually(what: string, cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  for (let i = 0; i < ms / 20; i++) {
    if (await cond()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Advances virtual time in small steps until `cond` holds, yielding to real I/O in between. */
async function advanceUntil(w: World, cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await cond()) return;
    await w.clock.advance(5);
  }
  throw new Error('condition not reached');
}

test('park and wake through the API; Redis holds state, domain and last port; /v1/status reports Redis health', async (t) => {
  const server = await startRedis(t);
  const dir = await mkdtemp(join(tmpdir(), 'seamless-plane-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = createLogger({ level: 'silent' });
  const w = new World(INVENTORY);
  const plane = new ControlPlane({ redis: server.socketPath, log, engineNow: () => w.clock.now() });
  t.teardown(() => plane.stop());

  w.app = createParkApp({ inventory: w.inv, hypervisors: () => w.hv, clock: w.clock, log, ...plane.parkOptions() });
  plane.attachPark(w.app, w.inv);
  w.sw.app = w.app;
  await w.app.ready;
  await w.reconnect();
  const api = await plane.serve({ kind: 'unix', path: join(dir, 'seamless.sock') }, { datapaths: new Map([[w.sw.id, w.sw]]) });
  const c = new ApiClient(api.address);
  const port = w.portOf('vm1');

  t.like(await c.park('vm1'), { result: 'started' });
  await advanceUntil(w, async () => (await c.vm('vm1')).state === 'parked');
  const raw = new Redis({ path: server.socketPath });
  raw.on('error', () => {}); // it sees the server go away below
  t.teardown(() => raw.disconnect());
  await eventually('parked record', async () => (await raw.hget('seamless:vm:vm1', 'state')) === 'parked');
  t.like(await raw.hgetall('seamless:vm:vm1'), { state: 'parked', depth: 'save', domain: 'd1', lastPort: String(port) });
  // `since` is shown and stored as epoch ms, whatever the engine's clock.
  const parkedSince = Number(await raw.hget('seamless:vm:vm1', 'since'));
  // Tolerances are wide (a loaded machine stretches real time against the
  // virtual clock) yet tell epoch ms from the engine's monotonic ms.
  t.true(Math.abs(parkedSince - Date.now()) < 60_000, `stored since ${parkedSince}`);
  t.true(Math.abs((await c.vm('vm1')).since - parkedSince) < 60_000); // parked after managedSave (1.8 s of virtual time)
  t.like(await c.status(), { vms: 1, switches: 1, store: { kind: 'redis', healthy: true, pendingWrites: 0 } });

  t.like(await c.wake('vm1'), { result: 'started' });
  await advanceUntil(w, async () => (await c.vm('vm1')).state === 'active');
  const v = await c.vm('vm1');
  t.is(v.wakes, 1);
  t.true(v.lastWakeMs !== null && v.lastWakeMs > 0);
  await eventually('active record', async () => (await raw.hget('seamless:vm:vm1', 'state')) === 'active');

  // Redis killed -9 and restarted empty on the same socket: the record comes
  // back without any transition, and /v1/status never says healthy while it is missing.
  await server.kill();
  await eventually('outage reported', async () => !(await c.status()).store.healthy);
  await server.restart();
  await eventually('record rewritten after the restart', async () => {
    const healthy = (await c.status()).store.healthy;
    const state = await raw.hget('seamless:vm:vm1', 'state').catch(() => null);
    if (healthy && state !== 'active') throw new Error(`/v1/status said healthy while seamless:vm:vm1 state was ${state}`);
    return state === 'active';
  }, 10_000);
  t.like(await raw.hgetall('seamless:vm:vm1'), { state: 'active', depth: 'save', domain: 'd1', lastPort: String(w.portOf('vm1')) }); // a new tap after the wake
  await eventually('healthy again', async () => (await c.status()).store.healthy);
  t.like(await c.status(), { store: { kind: 'redis', healthy: true, pendingWrites: 0 } });

  // Redis gone: the API keeps answering and says the store is unhealthy.
  await server.stop();
  t.like(await c.park('vm1'), { result: 'started' });
  await advanceUntil(w, async () => (await c.vm('vm1')).state === 'parked');
  await eventually('unhealthy store reported', async () => {
    const s = await c.status();
    return !s.store.healthy && s.store.pendingWrites === 1;
  });
  await w.app.stop!();
});

test('ControlPlane without --redis keeps state in memory; a malformed Redis target is refused before connecting', async (t) => {
  const plane = new ControlPlane({ log: createLogger({ level: 'silent' }) });
  t.deepEqual(plane.health(), { kind: 'memory', healthy: true, pendingWrites: 0 });
  await plane.stop();
  t.throws(() => new ControlPlane({ redis: 'redis-host:6379', log: createLogger({ level: 'silent' }) }), { instanceOf: TypeError, message: /expected redis:\/\/HOST:PORT/ });
});
