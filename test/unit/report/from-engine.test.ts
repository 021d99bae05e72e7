// The report reads what the controller really writes: the park engine (on the park-world harness,
// virtual time) logs through controller/log.ts in JSON, and those lines, not hand-made ones, go
// through parse and model. A change of the `vm transition` record's shape fails here.
import test from 'ava';
import { createLogger } from '../../../controller/log.js';
import { buildTcpFrame } from '../../../controller/packet/index.js';
import { createParkApp } from '../../../controller/park/app.js';
import { parseEventLog } from '../../../controller/report/events.js';
import { buildReport } from '../../../controller/report/model.js';
import { HOST, World } from '../../support/park-world.js';

const MIB = 1024 * 1024;

const INVENTORY = `
park: { probeInterval: 15ms, probeIp: 10.0.0.253, pollInterval: 1s }
defaults: { idleTimeout: 10s, minActive: 5s, sink: k1, wakeTimeout: 5s }
switches: [{ name: s1, dpid: 1 }]
sinks: [{ name: k1, switch: s1, port: s1-eth3, mac: "00:00:00:00:00:fe", ip: 10.0.0.254 }]
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depth: pause }
  - { name: vm2, libvirt: { uri: "test:///default", domain: d2 }, mac: "52:54:00:00:00:12", ip: 10.0.0.12, switch: s1, port: vm2-tap, depth: save }
`;

async function until(w: World, vm: string, phase: string): Promise<void> {
  for (let t = 0; t < 60_000 && w.status(vm).phase !== phase; t += 5) await w.clock.advance(5);
  if (w.status(vm).phase !== phase) throw new Error(`${vm} is ${w.status(vm).phase}, wanted ${phase}`);
}

test('a park/wake cycle logged by the engine in JSON becomes parks, wakes and per-depth latencies', async (t) => {
  const w = new World(INVENTORY);
  const lines: string[] = ['seamless controller listening on 127.0.0.1:6653 (stdout mixed in)'];
  // World.start(), with the controller's JSON log format instead of the harness's text one.
  w.app = createParkApp({
    inventory: w.inv,
    hypervisors: () => w.hv,
    clock: w.clock,
    store: w.store,
    log: createLogger({ level: 'info', format: 'json', sink: (l) => lines.push(l), now: () => w.clock.now(), fields: { app: 'park' } }),
    // QEMU's RSS as the engine measures it around a park: 200 MiB running; a saved
    // domain has no process (0), a paused one keeps its memory.
    readRss: async (_uri, domain) => ((await w.hv.getState(domain)).state === 'shutoff' ? 0 : 200 * MIB),
  });
  w.sw.app = w.app;
  await w.app.ready;
  await w.reconnect();
  await until(w, 'vm1', 'parked');
  await until(w, 'vm2', 'parked');
  for (const name of ['vm1', 'vm2']) {
    const vm = w.vm(name);
    w.sw.inject(HOST.port, buildTcpFrame({ ethSrc: HOST.mac, ethDst: vm.mac, src: HOST.ip, dst: vm.ip, srcPort: 40000, dstPort: 80, flags: 0x02, seq: 1 }));
    await until(w, name, 'active');
  }

  const log = parseEventLog(lines.join('\n'));
  t.is(log.nonJsonLines, 1);
  t.true(log.events.length >= 8, `${log.events.length} transitions`);
  const depths = new Map(w.inv.vms.map((v) => [v.name, v.depth] as const));
  const r = buildReport(log.events, { depthOf: (vm) => depths.get(vm) });
  t.is(r.parks, 2);
  t.is(r.wakes, 2);
  t.deepEqual([...r.wakesByDepth.keys()].sort(), ['pause', 'save']);
  for (const list of r.wakesByDepth.values()) t.true(list.length === 1 && list[0]! > 0);
  // The last VM's final `active` lasts 0 ms (the log ends at that record): no interval for it.
  for (const v of r.vms) t.deepEqual(v.intervals.map((i) => i.phase).slice(0, 4), ['active', 'parking', 'parked', 'waking'], v.name);
  // The engine's transition records carry what the report needs: the depth, the memory a
  // park released (measured around it) and the energy each idle period saved.
  const parked = log.events.filter((e) => e.from === 'parking' && e.to === 'parked');
  t.deepEqual(parked.map((e) => [e.vm, e.depth, e.memoryReleasedBytes]).sort(), [['vm1', 'pause', 0], ['vm2', 'save', 200 * MIB]]);
  const woken = log.events.filter((e) => e.from === 'waking' && e.to === 'active');
  t.is(woken.length, 2);
  for (const e of woken) t.true(typeof e.energySavedJoules === 'number' && Number.isFinite(e.energySavedJoules), `${e.vm}: energySavedJoules ${e.energySavedJoules}`);
  t.true(r.memory !== undefined && r.memory.some((p) => p.v === 200 * MIB), 'memory released over time comes from the log');
  t.true(r.energy !== undefined && r.energy.length > 0, 'energy saved over time comes from the log');
});
