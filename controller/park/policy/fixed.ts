// fixed: park after the VM's idleTimeout without activity (the engine's original rule).
import type { Policy, PolicyInput } from './types.js';

export const fixedPolicy: Policy = {
  shouldPark: (i: PolicyInput) => i.now - i.idleFrom >= i.idleTimeoutMs,
  earliestPark: (i: PolicyInput) => Math.max(i.now, i.idleFrom + i.idleTimeoutMs),
  preWakeAt: () => undefined,
  preWakeHoldMs: 0,
};
