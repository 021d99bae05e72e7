// The API's VM view and `vm info` of a VM with a depth ladder: the ladder, and the
// depth it is parked at now as escalation deepens it (null again once active).
import test from 'ava';
import { createControlSource } from '../../../controller/api/source.js';
import { vmInfo } from '../../../controller/cli/vm-cmd.js';
import { createLogger } from '../../../controller/log.js';
import { createParkApp } from '../../../controller/park/app.js';
import { World } from '../../support/park-world.js';

const INVENTORY = `
park: { probeInterval: 15ms, pollInterval: 1s }
defaults: { minActive: 0s, wakeTimeout: 5s }
switches: [{ name: s1, dpid: 1 }]
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depths: [{ depth: pause, after: 10s }, { depth: save, after: 1m }] }
`;

test('the view carries the ladder and the parked depth; vm info prints both', async (t) => {
  const w = new World(INVENTORY);
  w.app = createParkApp({ inventory: w.inv, hypervisors: () => w.hv, clock: w.clock, store: w.store, log: createLogger({ level: 'silent' }) });
  w.sw.app = w.app;
  await w.app.ready;
  await w.reconnect();
  const src = createControlSource({ park: { app: w.app, inventory: w.inv }, switches: { datapaths: new Map([[w.sw.id, w.sw]]) }, now: () => 42 });
  const until = async (cond: () => boolean): Promise<void> => {
    for (let i = 0; i < 2000 && !cond(); i++) await w.clock.advance(100);
    if (!cond()) throw new Error(`not reached: ${JSON.stringify(src.vm('vm1'))}`);
  };
  t.like(src.vm('vm1'), { state: 'active', depth: 'pause', parkedDepth: null });
  t.deepEqual(src.vm('vm1').depths, [
    { depth: 'pause', afterMs: 10_000 },
    { depth: 'save', afterMs: 60_000 },
  ]);
  await until(() => src.vm('vm1').state === 'parked');
  t.is(src.vm('vm1').parkedDepth, 'pause');
  await until(() => src.vm('vm1').parkedDepth === 'save');
  t.like(src.vm('vm1'), { state: 'parked', port: null });
  const info = vmInfo(src.vm('vm1'));
  t.regex(info, /^Depth:\s+pause after 10s, save after 1m$/m);
  t.regex(info, /^Parked at:\s+save$/m);
  await src.wake('vm1');
  await until(() => src.vm('vm1').state === 'active');
  // A wake asked while an escalation saves the VM is accepted: woken right after the save.
  await until(() => src.vm('vm1').state === 'parked');
  await until(() => src.vm('vm1').state === 'parking');
  t.like(src.vm('vm1'), { step: 'libvirt', parkedDepth: 'pause' });
  t.like(await src.wake('vm1'), { result: 'started', vm: { state: 'parking' } });
  await until(() => src.vm('vm1').state === 'active');
  t.is(w.fake.callsOf('managedSave').length, 2, 'the escalation completed, then the wake');
  t.is(src.vm('vm1').parkedDepth, null);
  t.regex(vmInfo(src.vm('vm1')), /^Parked at:\s+-$/m);
});
