// Gauges read at scrape time from their sources: switches, store, memory/energy provider.
import test from 'ava';
import { SeamlessMetrics, type VmEconomics } from '../../../controller/metrics/index.js';
import { sampleValue } from '../../support/exposition.js';

test('switches, store health and pending writes are read from their sources when scraped', async (t) => {
  const m = new SeamlessMetrics({ vms: [] });
  let text = await m.expose();
  t.is(sampleValue(text, 'seamless_switches_connected'), 0);
  t.is(sampleValue(text, 'seamless_store_healthy'), 1, 'no store bound: nothing unhealthy');
  let store = { healthy: false, pendingWrites: 3 };
  let switches = 2;
  m.bind({ switchesConnected: () => switches, store: () => store });
  text = await m.expose();
  t.is(sampleValue(text, 'seamless_switches_connected'), 2);
  t.is(sampleValue(text, 'seamless_store_healthy'), 0);
  t.is(sampleValue(text, 'seamless_store_pending_writes'), 3);
  store = { healthy: true, pendingWrites: 0 };
  switches = 1;
  text = await m.expose();
  t.is(sampleValue(text, 'seamless_switches_connected'), 1);
  t.is(sampleValue(text, 'seamless_store_healthy'), 1);
  t.is(sampleValue(text, 'seamless_store_pending_writes'), 0);
});

test('memory, energy and unprofitable parks come from the economics provider (0 by default); the counter only grows', async (t) => {
  const m = new SeamlessMetrics({ vms: [{ name: 'vm1', depth: 'save' }] });
  let text = await m.expose();
  t.is(sampleValue(text, 'seamless_memory_released_bytes', { vm: 'vm1' }), 0);
  t.is(sampleValue(text, 'seamless_energy_saved_joules', { vm: 'vm1' }), 0);
  t.is(sampleValue(text, 'seamless_parks_unprofitable_total', { vm: 'vm1', depth: 'save' }), 0);
  let unprofitable = 2;
  const economics: VmEconomics = {
    memoryReleasedBytes: (vm) => (vm === 'vm1' ? 123_456_789 : 0),
    energySavedJoules: () => 4200.5,
    unprofitableParks: (_vm, depth) => (depth === 'save' ? unprofitable : 0),
    memorySwappedBytes: (vm) => (vm === 'vm1' ? 200_000_000 : 0),
    memoryCompressedBytes: (vm) => (vm === 'vm1' ? 50_000_000 : 0),
  };
  t.is(sampleValue(text, 'seamless_memory_swapped_bytes', { vm: 'vm1' }), 0);
  t.is(sampleValue(text, 'seamless_memory_compressed_bytes', { vm: 'vm1' }), 0);
  m.bind({ economics });
  text = await m.expose();
  t.is(sampleValue(text, 'seamless_memory_released_bytes', { vm: 'vm1' }), 123_456_789);
  t.is(sampleValue(text, 'seamless_energy_saved_joules', { vm: 'vm1' }), 4200.5);
  t.is(sampleValue(text, 'seamless_memory_swapped_bytes', { vm: 'vm1' }), 200_000_000);
  t.is(sampleValue(text, 'seamless_memory_compressed_bytes', { vm: 'vm1' }), 50_000_000);
  t.is(sampleValue(text, 'seamless_parks_unprofitable_total', { vm: 'vm1', depth: 'save' }), 2);
  unprofitable = 3;
  t.is(sampleValue(await m.expose(), 'seamless_parks_unprofitable_total', { vm: 'vm1', depth: 'save' }), 3);
  t.is(sampleValue(await m.expose(), 'seamless_parks_unprofitable_total', { vm: 'vm1', depth: 'save' }), 3, 'a scrape without growth adds nothing');
});

test('seamless_hypervisor_connected: 1 per host whose libvirt connection is up, read at scrape time', async (t) => {
  const m = new SeamlessMetrics({ vms: [] });
  const hosts = [{ name: 'hv1', up: true }, { name: 'hv2', up: false }];
  m.bind({ hypervisors: () => hosts });
  let text = await m.expose();
  t.is(sampleValue(text, 'seamless_hypervisor_connected', { hypervisor: 'hv1' }), 1);
  t.is(sampleValue(text, 'seamless_hypervisor_connected', { hypervisor: 'hv2' }), 0);
  hosts[1] = { name: 'hv2', up: true };
  text = await m.expose();
  t.is(sampleValue(text, 'seamless_hypervisor_connected', { hypervisor: 'hv2' }), 1);
});
