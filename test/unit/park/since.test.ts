// The StateStore contract: a record's `since` is epoch ms, whatever clock the engine runs on.
import test from 'ava';
import { createParkApp } from '../../../controller/park/app.js';
import { VirtualClock } from '../../../controller/clock.js';
import { MemoryStateStore } from '../../../controller/park/store.js';
import { parseInventory } from '../../../controller/inventory/index.js';
import { FakeHypervisor } from '../../../controller/libvirt/fake.js';
import { createLogger } from '../../../controller/log.js';

const INV = `
switches: [{ name: s1, dpid: 1 }]
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depth: pause }
`;

test('stored since is epoch ms (the engine clock is converted), and a custom toEpoch is applied', async (t) => {
  for (const toEpoch of [undefined, (ms: number) => 5_000_000_000_000 + ms]) {
    const clock = new VirtualClock(42_000); // a monotonic clock far from the epoch
    const store = new MemoryStateStore();
    const hv = new FakeHypervisor().define('d1', { state: 'paused' }); // reconciled: written as parked at start
    const app = createParkApp({
      inventory: parseInventory(INV, 'since.yaml'),
      hypervisors: () => hv,
      clock,
      store,
      log: createLogger({ level: 'error', format: 'text', sink: () => {} }),
      ...(toEpoch === undefined ? {} : { toEpoch }),
    });
    const before = Date.now();
    await app.ready;
    await clock.advance(0);
    const rec = await store.get('vm1');
    t.is(rec?.state, 'parked');
    if (toEpoch === undefined) t.true(rec!.since >= before - 1 && rec!.since <= Date.now() + 1, `since ${rec?.since} is not now`);
    else t.is(rec!.since, 5_000_000_000_000 + 42_000);
    await app.stop!();
  }
});
