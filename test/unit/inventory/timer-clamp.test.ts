// Node replaces a setTimeout delay above 2^31-1 ms by 1 ms (with a warning), so an
// overflowing duration became a busy loop (pollInterval 1000h: 8,770 flow stats
// requests in 10 s). The inventory refuses such durations; both real clocks also
// clamp, so a delay computed beyond the limit fires late, never at once.
import test from 'ava';
import { systemClock as parkClock } from '../../../controller/park/clock.js';
import { systemClock as switchClock } from '../../../controller/switch/io.js';

/** Runs `fn` with setTimeout replaced by a recorder of the delays asked for (nothing is scheduled). */
function delaysAskedBy(fn: () => void): number[] {
  const real = globalThis.setTimeout;
  const asked: number[] = [];
  globalThis.setTimeout = ((_cb: () => void, ms?: number) => {
    asked.push(ms ?? 0);
    return real(() => undefined, 0);
  }) as typeof setTimeout;
  try {
    fn();
  } finally {
    globalThis.setTimeout = real;
  }
  return asked;
}

const LIMIT = 2 ** 31 - 1;

test('park systemClock: a delay beyond 2^31-1 ms is clamped, not handed to Node to become 1 ms', (t) => {
  const clock = parkClock();
  const asked = delaysAskedBy(() => {
    clock.setTimer(() => t.fail('fired'), 1000 * 3_600_000);
    clock.setTimer(() => undefined, 1500);
  });
  t.deepEqual(asked, [LIMIT, 1500]);
});

test('switch systemClock: the same clamp', (t) => {
  const asked = delaysAskedBy(() => {
    switchClock.clearTimeout(switchClock.setTimeout(() => t.fail('fired'), 2 ** 40));
    switchClock.clearTimeout(switchClock.setTimeout(() => undefined, 250));
  });
  t.deepEqual(asked, [LIMIT, 250]);
});
