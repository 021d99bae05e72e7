// A policy's pre-wake and a depth ladder's escalation on the same parked VM: a
// pre-wake whose time comes while the escalation runs (PARKING) is not lost.
import test from 'ava';
import { drive } from '../../support/policy-driver.js';

const inventory = (depths: string) => `
switches: [{ name: s1, dpid: 1 }]
power: { pause: { parkMs: 25, parkJoules: 20, wakeMs: 25, wakeJoules: 20 } }
park: { pollInterval: 1s, policy: oracle }
vms:
  - { name: vm1, libvirt: { uri: "test:///default", domain: d1 }, mac: "52:54:00:00:00:11", ip: 10.0.0.11, switch: s1, port: vm1-tap, minActive: 0, depths: ${depths} }
`;

test('a pre-wake due while an escalation holds the VM in PARKING runs once it is PARKED again', (t) => {
  const activity = new Map([['vm1', [0, 60_000]]]);
  // Without an escalation: when the oracle pre-wakes, and where the idle period starts.
  let idleSince: number | undefined;
  const a = drive({
    inventory: inventory('[{ depth: pause, after: 1s }]'),
    activity,
    endAt: 61_000,
    onStep: (s) => {
      const v = s.vms.get('vm1')!;
      if (v.phase === 'parked' && idleSince === undefined) idleSince = v.idleSince;
    },
  });
  const pre = a.transitions.find((x) => x.to === 'waking');
  t.is(pre?.reason, 'pre-wake');
  t.not(idleSince, undefined);
  const w = pre!.at;
  // The escalation to reclaim starts 10 ms before that pre-wake and its libvirt call takes 25 ms.
  const after = w - idleSince! - 10;
  const b = drive({ inventory: inventory(`[{ depth: pause, after: 1s }, { depth: reclaim, after: ${after}ms }]`), activity, endAt: 61_000 });
  const escalated = b.transitions.find((x) => x.reason === 'escalated');
  t.truthy(escalated, JSON.stringify(b.transitions.map((x) => [x.at, x.reason])));
  t.true(escalated!.at > w, 'the escalation was still running when the pre-wake was due');
  const wake = b.transitions.find((x) => x.to === 'waking');
  t.is(wake?.reason, 'pre-wake', JSON.stringify(b.transitions.map((x) => [x.at, x.reason])));
  t.is(wake!.at, escalated!.at, 'run as soon as the VM is parked again');
  t.true(wake!.at < 60_000, 'ahead of the packet');
});
