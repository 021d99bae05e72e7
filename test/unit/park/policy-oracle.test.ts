// The oracle is the upper bound: driven through machine.ts on small traces, the
// energy it saves equals the maximum found by enumerating every park decision
// of every idle period (park at each poll inside it and wake just in time, or
// do not park). A policy that is not optimal (fixed timeouts) saves less.
import test from 'ava';
import { energySaved } from '../../../controller/energy/model.js';
import { DEFAULT_POWER_PROFILE, mergeProfile } from '../../../controller/energy/profile.js';
import { drive } from '../../support/policy-driver.js';
import { Rng } from '../../../controller/replay/rng.js';

const POLL_MS = 1000;
/** Pause with 20 J + 20 J transitions: T* = 40 J / 2 W = 20 s (no memory measured). */
const POWER = { pause: { parkMs: 25, parkJoules: 20, wakeMs: 25, wakeJoules: 20 } };
const PROFILE = mergeProfile(DEFAULT_POWER_PROFILE, POWER);

const inventory = (policy: string) => `
switches: [{ name: s1, dpid: 1 }]
power: { pause: { parkMs: 25, parkJoules: 20, wakeMs: 25, wakeJoules: 20 } }
park: { pollInterval: 1s, policy: ${policy} }
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, depth: pause, minActive: 0 }
`;

/** The project's seeded generator (controller/replay/rng.ts, mulberry32) as a function. */
function rng(seed: number): () => number {
  const g = new Rng(seed);
  return () => g.next();
}

/** Packet times: 4-7 idle gaps of 2..60 s between short bursts, off the poll grid. */
function trace(seed: number): number[] {
  const r = rng(seed);
  const ts: number[] = [];
  let t = 5_000 + Math.floor(r() * 1000) + 0.5;
  const gaps = 4 + Math.floor(r() * 4);
  for (let g = 0; g < gaps; g++) {
    const burst = 1 + Math.floor(r() * 3);
    for (let b = 0; b < burst; b++) {
      ts.push(t);
      t += 200 + Math.floor(r() * 500);
    }
    t += 2_000 + Math.floor(r() * 58_000);
  }
  ts.push(t);
  return ts;
}

/**
 * Brute force: per idle period between two packets a < b, every decision the
 * engine can take (park at a poll p, a <= p < b, woken to be up at b; or not
 * park; a park that cannot finish its transitions before b is not possible),
 * each period's best summed. Periods are independent: each park ends at b.
 */
function bruteForce(ts: readonly number[]): number {
  const c = PROFILE.depths.pause;
  let total = 0;
  for (let i = 0; i + 1 < ts.length; i++) {
    const a = ts[i]!;
    const b = ts[i + 1]!;
    let best = 0; // not parking
    for (let p = Math.ceil(a / POLL_MS) * POLL_MS; p < b; p += POLL_MS) {
      if (b - p < c.parkMs + c.wakeMs) continue;
      const s = energySaved(PROFILE, { depth: 'pause', seconds: (b - p) / 1000, residentBytes: 0, releasedBytes: 0 });
      best = Math.max(best, s);
    }
    total += best;
  }
  return total;
}

test('oracle: on 25 small traces its savings equal the brute-force maximum over every park decision', (t) => {
  for (let seed = 1; seed <= 25; seed++) {
    const ts = trace(seed);
    const best = bruteForce(ts);
    const r = drive({ inventory: inventory('oracle'), activity: new Map([['vm1', ts]]), endAt: ts.at(-1)! + 1 });
    const v = r.state.vms.get('vm1')!;
    t.is(v.phase, 'active', `seed ${seed}`);
    t.true(Math.abs(v.energy.savedJoules - best) < 1e-6, `seed ${seed}: oracle ${v.energy.savedJoules} J, brute force ${best} J`);
    // Every park paid off, and every wake came from the oracle ahead of the packet.
    t.is(v.energy.unprofitableParks, 0, `seed ${seed}`);
    t.true(r.transitions.filter((x) => x.to === 'waking').every((x) => x.reason === 'pre-wake'), `seed ${seed}`);
  }
});

test('the brute force is a real bound: fixed timeouts save less than it on the same traces', (t) => {
  let strictlyLess = 0;
  for (let seed = 1; seed <= 10; seed++) {
    const ts = trace(seed);
    const best = bruteForce(ts);
    for (const timeout of ['1s', '10s', '30s']) {
      const yaml = inventory('fixed').replace('minActive: 0', `minActive: 0, idleTimeout: ${timeout}`);
      const v = drive({ inventory: yaml, activity: new Map([['vm1', ts]]), endAt: ts.at(-1)! + 1 }).state.vms.get('vm1')!;
      t.true(v.energy.savedJoules <= best + 1e-6, `seed ${seed} timeout ${timeout}`);
      if (v.energy.savedJoules < best - 1) strictlyLess++;
    }
  }
  t.true(strictlyLess > 10, `fixed timeouts below the oracle in ${strictlyLess} of 30 runs`);
});
