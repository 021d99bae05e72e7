// RedisStateStore against a real redis-server (a private one per test, on a
// unix socket): round trips, a store restart, a whole park-engine restart, and
// Redis going away and coming back while the engine runs.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createLogger } from '../../controller/log.js';
import { buildTcpFrame, parseFrame } from '../../controller/packet/index.js';
import { createParkApp } from '../../controller/park/app.js';
import { RedisStateStore, StoreUnavailableError } from '../../controller/park/redis-store.js';
import { atExit, type Teardown } from '../support/exec.js';
import { startRedis } from '../support/redis.js';
import { HOST, World } from '../unit/park/harness.js';

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

/** A redis-server we can kill and start again on the same socket path. */
async function restartableRedis(t: Teardown) {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-redis-rs-'));
  const socketPath = join(dir, 'redis.sock');
  let child: ChildProcess | undefined;
  const kill = () => child?.kill('SIGKILL');
  const unregister = atExit(kill);
  const start = async () => {
    child = spawn('redis-server', ['--port', '0', '--unixsocket', socketPath, '--unixsocketperm', '700', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const probe = new Redis({ path: socketPath, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    try {
      await eventually('redis-server up', async () => {
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } catch {
          probe.disconnect();
          return false;
        }
      });
    } finally {
      probe.disconnect();
    }
  };
  const stop = async () => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  t.teardown(async () => {
    await stop();
    unregister();
    await rm(dir, { recursive: true, force: true });
  });
  await start();
  return { socketPath, start, stop };
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
  w.sw.table.length = 0;

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
  const redis = await restartableRedis(t);
  const logs: string[] = [];
  const w = new World(INVENTORY);
  const s = store(t, redis.socketPath, { log: createLogger({ level: 'debug', format: 'text', sink: (l) => logs.push(l) }) });
  await startEngine(w, s, logs);
  await s.put('other', { state: 'active', depth: 'save', since: 1 }); // a VM outside the engine's inventory

  await redis.stop();
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
  await redis.start();
  await eventually('pending writes flushed', () => s.pendingWrites === 0, 10_000);
  const raw = rawClient(t, redis.socketPath);
  t.like(await raw.hgetall('seamless:vm:vm1'), { state: 'parked', depth: 'pause' });
  t.like(await raw.hgetall('seamless:vm:vm2'), { state: 'parked', depth: 'save' });
  t.like(await raw.hgetall('seamless:vm:other'), { state: 'active', since: '2' });
  t.true(logs.some((l) => l.includes('redis back: parked state written')));
  t.true(s.healthy);
  await w.app.stop!();
});

test('Redis unreachable at start-up: get fails with STORE_UNAVAILABLE within the connect timeout and the engine starts with every VM active', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-redis-none-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const s = store(t, join(dir, 'nobody.sock'), { connectTimeoutMs: 300 });
  const t0 = Date.now();
  await t.throwsAsync(s.get('vm1'), { code: 'STORE_UNAVAILABLE', message: /not reachable within 300 ms/ });
  t.true(Date.now() - t0 < 1500);
  // Later reads fail at once (no connect timeout per VM while Redis stays away).
  const t1 = Date.now();
  const w = new World(INVENTORY);
  const logs: string[] = [];
  await startEngine(w, s, logs);
  t.true(Date.now() - t1 < 300, `engine start took ${Date.now() - t1} ms`);
  t.is(w.status('vm1').phase, 'active');
  t.true(logs.some((l) => l.includes('park state not loaded; assuming active')));
  await w.app.stop!();
});

test('bad redis targets are rejected with a clear message', (t) => {
  t.throws(() => new RedisStateStore({ redis: 'localhost:6379' }), { message: /expected redis:\/\/HOST:PORT/ });
});
