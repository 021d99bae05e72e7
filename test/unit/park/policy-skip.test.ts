// nextDecisionAt (machine.ts), the poll-skipping helper of the replay engine:
// from any point of an idle stretch, the time it returns is never after the
// park that then happens (a replay polling only then parks at the same time),
// and for the timeout policies it is the park's time to within one poll.
import test from 'ava';
import { nextDecisionAt } from '../../../controller/park/machine.js';
import { drive } from '../../support/policy-driver.js';

const inventory = (policy: string) => `
switches: [{ name: s1, dpid: 1 }]
power: { pause: { parkMs: 25, parkJoules: 20, wakeMs: 25, wakeJoules: 20 } }
park: { pollInterval: 1s, policy: ${policy} }
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depth: pause, minActive: 3s, idleTimeout: 45s }
`;

function trace(): number[] {
  const ts: number[] = [];
  let t = 2_000.5;
  // Alternating short and long gaps, enough for adaptive and predictive to learn.
  for (let i = 0; i < 120; i++) {
    ts.push(t);
    t += i % 5 === 4 ? 100_000 + (i % 7) * 10_000 : 3_000 + (i % 3) * 1_000;
  }
  return ts;
}

for (const policy of ['fixed', 'adaptive', 'predictive', 'oracle']) {
  test(`${policy}: nextDecisionAt is never later than the park it announces`, (t) => {
    const ts = trace();
    const samples: { now: number; at: number | undefined }[] = [];
    const run = drive({
      inventory: inventory(policy),
      activity: new Map([['vm1', ts]]),
      endAt: ts.at(-1)! + 1,
      onStep: (state, now, cfg) => {
        const v = state.vms.get('vm1')!;
        if (v.phase === 'active' && v.step === 'none') samples.push({ now, at: nextDecisionAt(cfg, state, 'vm1', now) });
      },
    });
    const parks = run.transitions.filter((x) => x.to === 'parking').map((x) => x.at);
    t.true(parks.length > 10, `${parks.length} parks`);
    let checked = 0;
    for (const p of parks) {
      const lastPacket = ts.filter((x) => x < p).at(-1) ?? 0;
      for (const s of samples) {
        if (s.now <= lastPacket + 1000 || s.now >= p) continue; // activity not yet seen by a poll, or after the park
        t.true(s.at !== undefined && s.at <= p, `${policy}: at ${s.now} announced ${s.at}, parked at ${p}`);
        if (policy === 'fixed' || policy === 'adaptive') t.true(p - s.at! < 1000, `${policy}: announced ${s.at}, parked ${p}`);
        checked++;
      }
    }
    // The oracle parks at the first poll of a long idle period: no point of it is left before the park.
    if (policy !== 'oracle') t.true(checked > 0);
  });
}
