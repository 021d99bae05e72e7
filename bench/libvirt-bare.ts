// Latency of the park/wake primitives on a real 128 MiB TCG guest: through our
// remote-protocol adapter vs the `virsh` client, plus the time from start-from-managed-save
// until the guest's HTTP service answers a host on the same OVS bridge.
//
//   npx tsx bench/libvirt-bare.ts [--runs N] [--memory MiB]    (root; libvirtd + OVS running)
//
// Prints one JSON object on stdout. Every guest/bridge/netns it makes is removed at exit.
import { parseArgs } from 'node:util';
import { connectHypervisor } from '../controller/libvirt/index.js';
import { virsh, waitForHttp } from '../test/support/guest.js';
import { createCleanups, startServedBenchGuest, timeMs as time } from './support.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, memory: { type: 'string', default: '128' } },
});
const runs = Number(values.runs);
const memoryMiB = Number(values.memory);
if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new RangeError('--runs must be 1..50');

type Op = 'suspend' | 'resume' | 'managedSave' | 'startFromSave';

interface Stats {
  samples: number[];
  min: number;
  median: number;
  max: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { samples: samples.map(r), min: r(s[0]!), median: r(s[Math.floor(s.length / 2)]!), max: r(s[s.length - 1]!) };
}

const cleanups = createCleanups();

try {
  const { host, guest, url } = await startServedBenchGuest(cleanups, { subnet: '10.92.0', label: 'bench', memoryMiB, httpTimeoutMs: 20_000 });
  const hv = await connectHypervisor('qemu:///system');
  cleanups.teardown(() => hv.close());

  const drivers: Record<'adapter' | 'virsh', Record<Op, () => Promise<unknown>>> = {
    adapter: {
      suspend: () => hv.suspend(guest.name),
      resume: () => hv.resume(guest.name),
      managedSave: () => hv.managedSave(guest.name),
      startFromSave: () => hv.start(guest.name),
    },
    virsh: {
      suspend: () => virsh('suspend', guest.name),
      resume: () => virsh('resume', guest.name),
      managedSave: () => virsh('managedsave', '--running', guest.name),
      startFromSave: () => virsh('start', guest.name),
    },
  };

  const result: Record<string, Record<string, Stats>> = {};
  for (const [driver, ops] of Object.entries(drivers)) {
    const samples: Record<Op | 'httpAfterStart' | 'wakeToHttp', number[]> = {
      suspend: [], resume: [], managedSave: [], startFromSave: [], httpAfterStart: [], wakeToHttp: [],
    };
    for (let i = 0; i < runs; i += 1) {
      samples.suspend.push(await time(ops.suspend));
      samples.resume.push(await time(ops.resume));
      await waitForHttp(host, url, 10_000);
      samples.managedSave.push(await time(ops.managedSave));
      const t0 = performance.now();
      samples.startFromSave.push(await time(ops.startFromSave));
      const { ms } = await waitForHttp(host, url, 10_000);
      samples.httpAfterStart.push(ms);
      samples.wakeToHttp.push(performance.now() - t0);
    }
    result[driver] = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)]));
  }

  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'libvirt-bare',
        guest: { memoryMiB, domainType: 'qemu (TCG)', nic: 'virtio on OVS netdev bridge' },
        runs,
        unit: 'ms',
        note: 'virsh times include starting the virsh process and its connection; httpAfterStart = start() resolved -> first HTTP 200 (curl polled every ~50 ms from a netns); wakeToHttp = start() called -> first HTTP 200',
        results: result,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await cleanups.run();
}
