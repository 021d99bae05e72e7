// What an escalation costs and what it changes for the wake, on a real TCG guest,
// through the operations the park engine runs (park/hypervisor.ts parkDomain /
// wakeDomain over our remote-protocol adapter) and the RSS reader it measures with:
//   direct:    running --save--> saved --wake--> HTTP answers
//   escalated: running --pause--> paused --save (the escalation)--> saved --wake--> HTTP answers
// Each run does both, in an order that alternates per run, so a busy machine slows both alike.
//
//   npm run bench:escalate -- [--runs N] [--memory MiB]     (root; libvirtd + OVS running)
//
// Progress on stderr; the LAST stdout line is the JSON result. Every guest,
// bridge and netns it makes is removed at exit.
import { parseArgs } from 'node:util';
import { connectHypervisor } from '../controller/libvirt/index.js';
import { measureAround, qemuRssReader } from '../controller/energy/memory.js';
import { parkDomain, wakeDomain } from '../controller/park/hypervisor.js';
import { waitForHttp } from '../test/support/guest.js';
import { createCleanups, startServedBenchGuest, timeMs as time } from './support.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, memory: { type: 'string', default: '128' } } });
const runs = Number(values.runs);
const memoryMiB = Number(values.memory);
if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new RangeError('--runs must be 1..50');
if (!Number.isInteger(memoryMiB) || memoryMiB < 64 || memoryMiB > 4096) throw new RangeError('--memory must be 64..4096 (MiB)');

const URI = 'qemu:///system';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)]! * 10) / 10;
}

const cleanups = createCleanups();

try {
  const { host, guest, url } = await startServedBenchGuest(cleanups, { subnet: '10.95.0', label: 'escbench', memoryMiB, httpTimeoutMs: 30_000 });
  const hv = await connectHypervisor(URI);
  cleanups.teardown(() => hv.close());
  const rss = qemuRssReader();
  const s = { directSaveMs: [] as number[], pauseMs: [] as number[], escalateSaveMs: [] as number[], directWakeToHttpMs: [] as number[], escalatedWakeToHttpMs: [] as number[], escalationReleasedMiB: [] as number[] };

  const wakeToHttp = async (): Promise<number> => {
    const t0 = performance.now();
    await wakeDomain(hv, guest.name);
    await waitForHttp(host, url, 30_000);
    return performance.now() - t0;
  };
  const direct = async (): Promise<void> => {
    s.directSaveMs.push(await time(() => parkDomain(hv, guest.name, 'save')));
    s.directWakeToHttpMs.push(await wakeToHttp());
  };
  const escalated = async (): Promise<void> => {
    s.pauseMs.push(await time(() => parkDomain(hv, guest.name, 'pause')));
    let m: Awaited<ReturnType<typeof measureAround>>;
    s.escalateSaveMs.push(await time(async () => (m = await measureAround(rss, URI, guest.name, () => parkDomain(hv, guest.name, 'save')))));
    if (m !== undefined) s.escalationReleasedMiB.push((m.beforeBytes - m.afterBytes) / 2 ** 20);
    s.escalatedWakeToHttpMs.push(await wakeToHttp());
  };
  for (let i = 0; i < runs; i++) {
    // The order alternates per run: a guest's second cycle in a run must not always be the same path.
    if (i % 2 === 0) {
      await direct();
      await escalated();
    } else {
      await escalated();
      await direct();
    }
    process.stderr.write(`run ${i + 1}/${runs} done\n`);
  }
  const result = {
    bench: 'escalate',
    guest: { memoryMiB, domainType: 'qemu (TCG)' },
    runs,
    unit: 'ms (median)',
    directSave: median(s.directSaveMs),
    pause: median(s.pauseMs),
    escalateSaveFromPaused: median(s.escalateSaveMs),
    wakeToHttpAfterDirectSave: median(s.directWakeToHttpMs),
    wakeToHttpAfterEscalatedSave: median(s.escalatedWakeToHttpMs),
    escalationReleasedMiB: median(s.escalationReleasedMiB),
    loadavg1: Math.round((await import('node:os')).loadavg()[0]! * 10) / 10,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await cleanups.run();
}
