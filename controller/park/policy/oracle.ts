// oracle (replay only): knows the trace's future (MachineConfig.future). At a
// poll of an idle VM it parks exactly when the VM's next activity is more than
// the break-even time away (parking until then saves energy, eq. 3 > 0), and
// it wakes the VM the depth's wake time before that activity, so the idle
// period ends just in time. On the machine's poll grid this is the most any
// policy can save (test/unit/park/policy-oracle.test.ts checks it against
// brute force). The live controller's inventory loader refuses it.
import type { Policy, PolicyInput } from './types.js';

function next(i: PolicyInput): number | undefined {
  if (i.future === undefined) throw new Error(`VM ${i.vm}: the oracle policy needs the trace's future (replay only); the live controller cannot run it`);
  return i.future.nextActivity(i.vm, i.now);
}

export const oraclePolicy: Policy = {
  shouldPark: (i) => {
    const n = next(i);
    return n === undefined || n - i.now > i.breakEvenMs;
  },
  // Without new activity its decision is already made: park now or at the activity (which is new activity).
  earliestPark: (i) => {
    const n = next(i);
    return n === undefined || n - i.now > i.breakEvenMs ? i.now : n;
  },
  preWakeAt: (i) => {
    const n = next(i);
    return n === undefined ? undefined : Math.max(i.now, n - i.wakeMs);
  },
  // The activity comes as the wake ends: the next idle period is the oracle's to judge at once.
  preWakeHoldMs: 0,
};
