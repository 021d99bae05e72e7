// The policies in the live engine's shell (createParkApp on park-world's
// simulated switch and hypervisor): the same policy code decides there, fed by
// the switch's own counters.
import test from 'ava';
import { buildTcpFrame } from '../../../controller/packet/index.js';
import { HOST, World } from '../../support/park-world.js';

const inventory = (policy: string) => `
park: { probeInterval: 15ms, probeIp: 10.0.0.253, pollInterval: 1s }
defaults: { idleTimeout: 60s, minActive: 0, wakeTimeout: 5s }
switches: [{ name: s1, dpid: 1 }]
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depth: save, policy: ${policy} }
`;

let seq = 0;
const syn = (w: World) => {
  const v = w.vm('vm1');
  return buildTcpFrame({ ethSrc: HOST.mac, ethDst: v.mac, src: HOST.ip, dst: v.ip, srcPort: 40000, dstPort: 80, flags: 0x02, seq: ++seq });
};

/** Bursts 4 s apart (short gaps, below the save depth's ~19 s break-even), then `rest` ms of silence; returns when the VM parked. */
async function session(w: World, packets: number, rest: number): Promise<number | undefined> {
  for (let i = 0; i < packets; i++) {
    w.sw.inject(HOST.port, syn(w));
    await w.clock.advance(4000);
  }
  let parkedAfter: number | undefined;
  for (let t = 0; t < rest; t += 500) {
    await w.clock.advance(500);
    if (parkedAfter === undefined && w.status('vm1').phase !== 'active') parkedAfter = t + 500 + 4000;
  }
  return parkedAfter;
}

test('adaptive in the live shell: parks after the learned timeout (the top of the short gaps), not the 60 s idle timeout', async (t) => {
  const w = new World(inventory('{ name: adaptive, minSamples: 4 }'));
  await w.start();
  // Before it has learned: the idle timeout decides.
  const first = await session(w, 3, 90_000);
  t.true(first !== undefined && first >= 60_000, `first park after ${first} ms idle`);
  // Long idle periods (parked, woken by the next packet) and short gaps teach it.
  for (let i = 0; i < 3; i++) await session(w, 6, 90_000);
  const learned = w.app.machineState().vms.get('vm1')!.learned;
  t.true(learned.recent.length >= 4, `recorded ${learned.recent.length} periods`);
  const late = await session(w, 6, 90_000);
  t.true(late !== undefined && late <= 8_000, `after learning: parked ${late} ms after the last packet (timeout ${learned.timeoutMs} ms)`);
});

test('fixed in the same shell and traffic keeps the 60 s idle timeout', async (t) => {
  const w = new World(inventory('fixed'));
  await w.start();
  for (let i = 0; i < 4; i++) await session(w, 6, 90_000);
  const late = await session(w, 6, 90_000);
  t.true(late !== undefined && late >= 60_000, `parked after ${late} ms`);
});
