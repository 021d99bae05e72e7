// park/depth.ts: what a depth means for a parked VM, and ladder arithmetic.
import test from 'ava';
import { bootsCold, energyDepthOf, keepsPort, ladderOf, nextRung, reachedAfterMs } from '../../../controller/park/depth.js';
import type { Rung } from '../../../controller/inventory/types.js';

const LADDER: readonly Rung[] = [
  { depth: 'pause', afterMs: 120_000 },
  { depth: 'reclaim', afterMs: 600_000 },
  { depth: 'save', afterMs: 21_600_000 },
];

test('pause and reclaim keep the tap and resume; save and shutdown drop it; only shutdown boots cold; each depth has its own energy entry', (t) => {
  t.deepEqual((['pause', 'reclaim', 'save', 'shutdown'] as const).map((d) => [keepsPort(d), bootsCold(d), energyDepthOf(d)]), [
    [true, false, 'pause'],
    [true, false, 'reclaim'],
    [false, false, 'save'],
    [false, true, 'shutdown'],
  ]);
});

test('ladderOf: the inventory ladder, or one rung from depth + idleTimeout for hand-built specs', (t) => {
  t.is(ladderOf({ depth: 'pause', idleTimeoutMs: 1, depths: LADDER }), LADDER);
  t.deepEqual(ladderOf({ depth: 'save', idleTimeoutMs: 5000 }), [{ depth: 'save', afterMs: 5000 }]);
});

test('nextRung: the first deeper rung from an index on; none past the deepest', (t) => {
  t.is(nextRung(LADDER, 'pause'), 1);
  t.is(nextRung(LADDER, 'reclaim'), 2);
  t.is(nextRung(LADDER, 'save'), undefined);
  t.is(nextRung(LADDER, 'pause', 2), 2, 'a skipped rung (failed twice) is passed over');
  t.is(nextRung(LADDER, 'shutdown'), undefined, 'a VM found deeper than its ladder stays there');
});

test('reachedAfterMs: the idle time of the last rung at or above a depth (0 when above the first)', (t) => {
  t.is(reachedAfterMs(LADDER, 'pause'), 120_000);
  t.is(reachedAfterMs(LADDER, 'save'), 21_600_000);
  t.is(reachedAfterMs(LADDER, 'shutdown'), 21_600_000);
  t.is(reachedAfterMs([{ depth: 'save', afterMs: 60_000 }], 'pause'), 0);
});
