// Node replaces a setTimeout delay above 2^31-1 ms by 1 ms (with a warning), so an
// overflowing duration became a busy loop (pollInterval 1000h: 8,770 flow stats
// requests in 10 s). The inventory refuses such durations; the one real clock also
// clamps, so a delay computed beyond the limit fires late, never at once.
import test from 'ava';
import { MAX_TIMER_MS, systemClock, timerDelay } from '../../../controller/clock.js';

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

test('systemClock: a delay beyond 2^31-1 ms is clamped, not handed to Node to become 1 ms', (t) => {
  const asked = delaysAskedBy(() => {
    systemClock.clearTimer(systemClock.setTimer(() => t.fail('fired'), 1000 * 3_600_000));
    systemClock.clearTimer(systemClock.setTimer(() => t.fail('fired'), 2 ** 40));
    systemClock.clearTimer(systemClock.setTimer(() => undefined, 1500));
  });
  t.deepEqual(asked, [LIMIT, LIMIT, 1500]);
  t.is(MAX_TIMER_MS, LIMIT);
});

test('timerDelay: negative and NaN delays run as soon as possible', (t) => {
  t.is(timerDelay(-5), 0);
  t.is(timerDelay(Number.NaN), 0);
  t.is(timerDelay(250), 250);
});
