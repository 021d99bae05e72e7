// RedisStateStore against a real redis-server (a private one per test, on a
// unix socket): round trips, a store restart, a whole park-engine restart,
// Redis going away and coming back while the engine runs, and Redis losing
// the state under the store (restarted empty, FLUSHALL, restored from an older RDB).
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createLogger } from '../../controller/log.js';
import { buildTcpFrame, parseFrame } from '../../controller/packet/index.js';
import { createParkApp } from '../../controller/park/app.js';
import { RedisStateStore, StoreUnavailableError } from '../../controller/park/redis-store.js';
import type { Teardown } from '../support/exec.js';
import { startRedis } from '../support/redis.js';
import { HOST, World } from '../support/park-world.js';

const INVENTORY = `
park: { probeInterval: 15ms, pollInterval: 1s }
defaults: { idleTimeout: 10s, minActive: 5s, wakeTimeout: 5s }
switches: [{ name: s1, dpid: 1 }]
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depth: pause }
  - { name: vm2, libvirt: { uri: "test:///default", domain: d2 }, mac: "52:54:00:00:00:12", ip: 10.0.0.12, switch: s1, port: vm2-tap, depth: save }
`;

function store(t: Teardown, redis: string, opts: Partial<ConstructorParameters<typeof RedisStateStore>[0]> = {}): RedisStateStore {
  const s = new RedisStateStore({ redis, retryMinMs: 50, retryMaxMs: 200, connectTimeoutMs: 1000, commandTimeoutMs: 1000, ...opts });
  t.teardown(() => s.close(0));
  return s;
}

function rawClient(t: Teardown, path: string): Redis {
  const r = new Redis({ path });
  r.on('error', () => {}); // some tests stop the server under it
  t.teardown(() => r.disconnect());
  return r;
}

/** Bounded wait (real time) for a condition. */
async function eventually(what: string, cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  for (let i = 0; i < ms / 20; i++) {
    if (await cond()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The park engine of `w` on `s` (replacing any engine before it), switch connected. */
async function startEngine(w: World, s: RedisStateStore, logs: string[] = []): Promise<void> {
  w.app = createParkApp({
    inventory: w.inv,
    hypervisors: () => w.hv,
    clock: w.clock,
    store: s,
    log: createLogger({ level: 'debug', format: 'text', sink: (l) => logs.push(l), now: () => w.clock.now() }),
  });
  w.sw.app = w.app;
  await w.app.ready;
  await w.reconnect();
}

async function parkIdle(w: World, vm: string): Promise<void> {
  for (let i = 0; i < 60 && w.status(vm).phase !== 'parked'; i++) await w.clock.advance(1000);
  if (w.status(vm).phase !== 'parked') throw new Error(`${vm} did not park: ${JSON.stringify(w.status(vm))}`);
}

async function until(w: World, vm: string, phase: string): Promise<void> {
  for (let i = 0; i < 4000 && w.status(vm).phase !== phase; i++) await w.clock.advance(5);
  if (w.status(vm).phase !== phase) throw new Error(`${vm} is ${w.status(vm).phase}, wanted ${phase}`);
}

let seq = 0;
function syn(w: World, vm: string): Buffer {
  const v = w.vm(vm);
  return buildTcpFrame({ ethSrc: HOST.mac, ethDst: v.mac, src: HOST.ip, dst: v.ip, srcPort: 40000, dstPort: 80, flags: 0x02, seq: ++seq });
}

function receivedSeqs(w: World, vm: string): number[] {
  return w.receivedBy(vm).filter((f) => parseFrame(f)?.tcp).map((f) => f.readUInt32BE(38));
}

test('put/get round trip: the record and its details land in one hash under the prefix', async (t) => {
  const server = await startRedis(t);
  const s = store(t, server.socketPath, { keyPrefix: 'test:vm:', details: (vm) => ({ domain: `dom-${vm}`, lastPort: 7, lastError: undefined }) });
  t.is(await s.get('vm1'), undefined);
  await s.put('vm1', { state: 'parked', depth: 'save', since: 1234 });
  t.deepEqual(await s.get('vm1'), { state: 'parked', depth: 'save', since: 1234 });
  const raw = await rawClient(t, server.socketPath).hgetall('test:vm:vm1');
  t.like(raw, { state: 'parked', depth: 'save', since: '1234', domain: 'dom-vm1', lastPort: '7' });
  t.false('lastError' in raw);
  t.true(Number(raw.updatedAt) > 0);
  t.like(await s.read('vm1'), { state: 'parked', depth: 'save', since: 1234, domain: 'dom-vm1', lastPort: 7 });
  // The latest record wins, written in order.
  await Promise.all([s.put('vm1', { state: 'active', depth: 'save', since: 1 }), s.put('vm1', { state: 'parked', depth: 'save', since: 2 })]);
  t.like(await rawClient(t, server.socketPath).hgetall('test:vm:vm1'), { state: 'parked', since: '2' });
  t.is(s.pendingWrites, 0);
  t.true(s.healthy);
});

test('a new store object on the same Redis reads the parked state back; a corrupt hash is a typed error', async (t) => {
  const server = await startRedis(t);
  const a = store(t, server.socketPath);
  await a.put('vm1', { state: 'parked', depth: 'pause', since: 42 });
  await a.put('vm2', { state: 'active', depth: 'save', since: 43 });
  await a.close();
  const b = store(t, `unix://${server.socketPath}`);
  t.deepEqual(await b.get('vm1'), { state: 'parked', depth: 'pause', since: 42 });
  t.deepEqual(await b.get('vm2'), { state: 'active', depth: 'save', since: 43 });
  t.is(await b.get('vm3'), undefined);
  await rawClient(t, server.socketPath).hset('seamless:vm:bad', { state: 'sleeping', depth: 'pause', since: '1' });
  await t.throwsAsync(b.get('bad'), { code: 'STORE_CORRUPT', message: /seamless:vm:bad: field 'state' is "sleeping"/ });
});

test('a moved VM: its host and switch survive a new store object; a VM back home clears them (HSET keeps absent fields); old records load', async (t) => {
  const server = await startRedis(t);
  const a = store(t, server.socketPath);
  await a.put('vm1', { state: 'parked', depth: 'pause', since: 42, uri: 'qemu+tls://hv4.example/system', dpid: 0x4n });
  await a.close();
  const raw = rawClient(t, server.socketPath);
  t.like(await raw.hgetall('seamless:vm:vm1'), { uri: 'qemu+tls://hv4.example/system', dpid: '4' });
  const b = store(t, server.socketPath);
  t.deepEqual(await b.get('vm1'), { state: 'parked', depth: 'pause', since: 42, uri: 'qemu+tls://hv4.example/system', dpid: 4n });
  // Back on its inventory host: the record has neither field, and Redis must not keep the old ones.
  await b.put('vm1', { state: 'active', depth: 'pause', since: 43 });
  await b.close();
  const c = store(t, server.socketPath);
  t.deepEqual(await c.get('vm1'), { state: 'active', depth: 'pause', since: 43 });
  // A record written before these fields existed.
  await raw.hset('seamless:vm:old', { state: 'parked', depth: 'save', since: '7' });
  t.deepEqual(await c.get('old'), { state: 'parked', depth: 'save', since: 7 });
  await raw.hset('seamless:vm:badsw', { state: 'parked', depth: 'save', since: '7', dpid: 'zz' });
  await t.throwsAsync(c.get('badsw'), { code: 'STORE_CORRUPT', message: /seamless:vm:badsw: field 'dpid' is "zz"/ });
});

test('controller restart: a VM parked by one engine is still parked for a new engine on the same Redis, and a packet wakes it', async (t) => {
  const server = await startRedis(t);
  const w = new World(INVENTORY);
  const first = store(t, server.socketPath, { details: (vm) => ({ domain: w.vm(vm).libvirt.domain, lastPort: w.app.status().find((s) => s.name === vm)?.portNo }) });
  await startEngine(w, first);
  const port2 = w.portOf('vm2');
  await parkIdle(w, 'vm1');
  await parkIdle(w, 'vm2');
  t.is(w.fake.peek('d2')?.hasManagedSave, true);
  await eventually('records written', () => first.pendingWrites === 0);
  t.like(await rawClient(t, server.socketPath).hgetall('seamless:vm:vm2'), { state: 'parked', depth: 'save', domain: 'd2', lastPort: String(port2) });

  // Drop the engine and its store; the switch loses its flows (as after an OVS restart).
  await w.app.stop!();
  await first.close();
  w.sw.clearFlows();

  const second = store(t, server.socketPath);
  await startEngine(w, second);
  t.is(w.status('vm1').phase, 'parked');
  t.is(w.status('vm2').phase, 'parked');
  // The park entries were reinstalled: a packet reaches the controller and wakes the saved VM.
  const p = syn(w, 'vm2');
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  await until(w, 'vm2', 'active');
  t.is(w.fake.peek('d2')?.state, 'running');
  t.true(receivedSeqs(w, 'vm2').includes(p.readUInt32BE(38)));
  await eventually('active written', async () => (await rawClient(t, server.socketPath).hget('seamless:vm:vm2', 'state')) === 'active');
  await w.app.stop!();
});

test('Redis killed mid-run: errors are surfaced, the engine keeps parking and waking from memory, and the state is written once Redis is back', async (t) => {
  const redis = await startRedis(t);
  const logs: string[] = [];
  const w = new World(INVENTORY);
  const s = store(t, redis.socketPath, { log: createLogger({ level: 'debug', format: 'text', sink: (l) => logs.push(l) }) });
  await startEngine(w, s, logs);
  await s.put('other', { state: 'active', depth: 'save', since: 1 }); // a VM outside the engine's inventory

  await redis.kill();
  await eventually('client sees the outage', () => s.client.status !== 'ready');
  // A direct put fails fast with a clear, typed error...
  const t0 = Date.now();
  const err = await t.throwsAsync(s.put('other', { state: 'active', depth: 'save', since: 2 }), { instanceOf: StoreUnavailableError });
  t.is(err?.code, 'STORE_UNAVAILABLE');
  t.true(Date.now() - t0 < 1000, 'the put did not wait for Redis');
  t.is(s.pendingWrites, 1);
  t.false(s.healthy);

  // ...and the engine parks and wakes as if nothing happened (the wake path never waits on Redis).
  await parkIdle(w, 'vm1');
  t.is((await s.get('vm1'))?.state, 'parked', 'known parked to this process from memory');
  await eventually('engine logged the failed write', () => logs.some((l) => l.includes('park state not persisted')));
  t.true(logs.some((l) => l.includes('redis unavailable: parked state kept in memory')));
  const p = syn(w, 'vm1');
  t.like(w.sw.inject(HOST.port, p), { to: 'controller', consumed: true });
  await until(w, 'vm1', 'active');
  t.true(receivedSeqs(w, 'vm1').includes(p.readUInt32BE(38)));
  await parkIdle(w, 'vm1');

  // Redis back (empty: it had no persistence): the latest records are written without any new put.
  await redis.restart();
  await eventually('pending writes flushed', () => s.pendingWrites === 0, 10_000);
  const raw = rawClient(t, redis.socketPath);
  t.like(await raw.hgetall('seamless:vm:vm1'), { state: 'parked', depth: 'pause' });
  t.like(await raw.hgetall('seamless:vm:vm2'), { state: 'parked', depth: 'save' });
  t.like(await raw.hgetall('seamless:vm:other'), { state: 'active', since: '2' });
  t.true(logs.some((l) => l.includes('redis back: parked state written')));
  t.true(s.healthy);
  await w.app.stop!();
});

/**
 * Polls until `key` has `field` = `want`. With `healthyMeansWritten`, a store
 * that said healthy before a read that did not find the wanted value claimed
 * health while Redis lacked (or had an older) record it knows: that fails the
 * test at once (the value only ever changes towards `want`, so the order
 * healthy-then-read proves the claim was false).
 */
async function rewritten(s: RedisStateStore, raw: Redis, key: string, field: string, want: string, healthyMeansWritten: boolean): Promise<void> {
  await eventually(`${key} ${field}=${want} rewritten`, async () => {
    const healthy = s.healthy;
    const h = await raw.hgetall(key).catch(() => ({}) as Record<string, string>);
    if (healthyMeansWritten && healthy && h[field] !== want) throw new Error(`store reported healthy while ${key} had ${field}=${h[field]}`);
    return h[field] === want;
  }, 10_000);
}

test('Redis restarted empty (kill -9, same socket) while VMs are parked: the store rewrites every record it knows, and is not healthy until it has', async (t) => {
  const server = await startRedis(t);
  const logs: string[] = [];
  const w = new World(INVENTORY);
  const s = store(t, server.socketPath, {
    details: (vm) => ({ domain: w.vm(vm).libvirt.domain, lastPort: w.app.status().find((x) => x.name === vm)?.portNo }),
    log: createLogger({ level: 'debug', format: 'text', sink: (l) => logs.push(l) }),
  });
  await startEngine(w, s, logs);
  const port2 = w.portOf('vm2');
  await parkIdle(w, 'vm1');
  await parkIdle(w, 'vm2');
  await eventually('records written', () => s.healthy);
  const raw = rawClient(t, server.socketPath);
  t.like(await raw.hgetall('seamless:vm:vm2'), { state: 'parked', depth: 'save', lastPort: String(port2) });

  // No persistence (as docs/operations.md runs it): the new server is empty.
  await server.kill();
  await eventually('client sees the outage', () => s.client.status !== 'ready');
  await server.restart();
  await rewritten(s, raw, 'seamless:vm:vm2', 'state', 'parked', true);
  t.like(await raw.hgetall('seamless:vm:vm2'), { state: 'parked', depth: 'save', domain: 'd2', lastPort: String(port2) });
  t.like(await raw.hgetall('seamless:vm:vm1'), { state: 'parked', depth: 'pause', domain: 'd1' });
  await eventually('healthy again', () => s.healthy);
  t.is(s.pendingWrites, 0);
  t.true(logs.some((l) => l.includes('redis lost the parked state') && l.includes('restarted')), logs.join('\n'));
  await w.app.stop!();
});

test('FLUSHALL while connected: the store rewrites its records, including one it only read back from an earlier controller', async (t) => {
  const server = await startRedis(t);
  const earlier = store(t, server.socketPath, { details: () => ({ domain: 'd2', lastPort: 7 }) });
  await earlier.put('vm2', { state: 'parked', depth: 'save', since: 42 });
  await earlier.close();

  const s = store(t, server.socketPath, { checkIntervalMs: 100 });
  // Read back at start-up and never written by this store (vm2 stays parked).
  t.deepEqual(await s.get('vm2'), { state: 'parked', depth: 'save', since: 42 });
  await s.put('vm1', { state: 'parked', depth: 'pause', since: 43 });
  await eventually('healthy', () => s.healthy);

  const raw = rawClient(t, server.socketPath);
  await raw.flushall();
  // No health invariant here: a FLUSHALL on a live connection is only seen at
  // the store's next check (checkIntervalMs), so health lags by that much.
  await rewritten(s, raw, 'seamless:vm:vm1', 'state', 'parked', false);
  await rewritten(s, raw, 'seamless:vm:vm2', 'state', 'parked', false);
  t.like(await raw.hgetall('seamless:vm:vm2'), { state: 'parked', depth: 'save', since: '42', domain: 'd2', lastPort: '7' });
  t.like(await raw.hgetall('seamless:vm:vm1'), { state: 'parked', depth: 'pause', since: '43' });
  await eventually('healthy again', () => s.healthy);
});

test('Redis restarted with OLDER data (an old dump.rdb): the newer records the store holds overwrite it', async (t) => {
  const server = await startRedis(t);
  const s = store(t, server.socketPath);
  await s.put('vm1', { state: 'active', depth: 'save', since: 1 });
  const raw = rawClient(t, server.socketPath);
  await raw.set('witness', 'from the old dump');
  await raw.save(); // dump.rdb in the server's dir: vm1 active (and the store's own marker)
  await s.put('vm1', { state: 'parked', depth: 'save', since: 2 });
  t.is(await raw.hget('seamless:vm:vm1', 'since'), '2');

  await server.kill();
  await eventually('client sees the outage', () => s.client.status !== 'ready');
  await server.restart(); // loads the old dump.rdb
  await rewritten(s, raw, 'seamless:vm:vm1', 'since', '2', true);
  t.is(await raw.get('witness'), 'from the old dump', 'the server did come back with the older data');
  t.like(await raw.hgetall('seamless:vm:vm1'), { state: 'parked', since: '2' });
  await eventually('healthy again', () => s.healthy);
});

test('Redis unreachable at start-up: get fails with STORE_UNAVAILABLE within the connect timeout and the engine starts with every VM active', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-redis-none-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const s = store(t, join(dir, 'nobody.sock'), { connectTimeoutMs: 300 });
  const t0 = Date.now();
  await t.throwsAsync(s.get('vm1'), { code: 'STORE_UNAVAILABLE', message: /not reachable within 300 ms/ });
  t.true(Date.now() - t0 < 1500);
  // Later reads fail at once (no connect timeout per VM while Redis stays away):
  // they answer with the "gave up" error, not another "within 300 ms" wait.
  await t.throwsAsync(s.get('vm2'), { code: 'STORE_UNAVAILABLE', message: /^redis not reachable \(/ });
  const w = new World(INVENTORY);
  const logs: string[] = [];
  await startEngine(w, s, logs);
  t.is(w.status('vm1').phase, 'active');
  const notLoaded = logs.filter((l) => l.includes('park state not loaded; assuming active'));
  t.is(notLoaded.length, 2, logs.join('\n'));
  t.true(notLoaded.every((l) => l.includes('redis not reachable (') && !l.includes('within 300 ms')), `no engine read waited for the connect timeout:\n${notLoaded.join('\n')}`);
  await w.app.stop!();
});

test('bad redis targets are rejected with a clear message', (t) => {
  t.throws(() => new RedisStateStore({ redis: 'localhost:6379' }), { message: /expected redis:\/\/HOST:PORT/ });
});
