// `seamless controller --fabric --config`: the park engine runs in fabric mode on
// the topology app's graph, and the inventory may put a VM's sink on another
// switch; without --fabric the same inventory is refused, as before.
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApps, parseControllerArgs } from '../../../controller/cli/controller-cmd.js';
import { createLogger } from '../../../controller/log.js';
import type { ParkApp } from '../../../controller/park/app.js';

// A host that refuses at once (port 1): start-up reads no domain state, nothing waits.
const INVENTORY = `
switches: [{ name: s1, dpid: 1 }, { name: s3, dpid: 3 }, { name: s4, dpid: 4 }]
sinks: [{ name: k1, switch: s4, port: s4-eth4, mac: "00:00:00:00:00:04", ip: 10.0.0.4 }]
vms:
  - { name: vm1, libvirt: { uri: "qemu+tcp://127.0.0.1:1/system", domain: d1 }, mac: "00:00:00:00:00:01", ip: 10.0.0.1, switch: s3, port: s3-eth3, depth: pause, sink: k1, ignore: [{ udpDst: 9999 }] }
`;

test('--fabric --config: the park engine gets the live graph (fabric mode); a sink on another switch needs --fabric', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-fabric-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'inv.yaml');
  await writeFile(file, INVENTORY);
  const log = createLogger({ level: 'silent' });
  const apps = await buildApps(parseControllerArgs(['--fabric', '--config', file]), log);
  t.teardown(async () => {
    for (const a of apps) await a.stop?.();
  });
  t.deepEqual(apps.map((a) => a.name), ['topology', 'libvirt-connections', 'park', 'l2']);
  const park = apps.find((a) => a.name === 'park') as ParkApp;
  await park.ready;
  // Fabric mode: the engine received the graph's next hops toward the sink's switch (none known yet).
  t.deepEqual([...(park.machineState().paths?.toward.keys() ?? [])], [4n]);
  await t.throwsAsync(buildApps(parseControllerArgs(['--config', file]), log), { code: 'ERR_INVENTORY', message: /sink "k1" is on switch s4, not on the VM's switch s3/ });
});
