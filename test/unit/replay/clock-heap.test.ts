// VirtualClock keeps its timers in a heap (a replay has thousands pending): due
// order must still be (time, creation), cleared timers must never fire.
import test from 'ava';
import { VirtualClock } from '../../../controller/clock.js';

test('timers fire in (time, creation) order, cleared ones never', (t) => {
  const c = new VirtualClock(100);
  const fired: string[] = [];
  const ids = new Map<string, ReturnType<VirtualClock['setTimer']>>();
  // A shuffled set of due times, several equal.
  const plan: [string, number][] = [['a', 50], ['b', 10], ['c', 50], ['d', 0], ['e', 30], ['f', 10], ['g', 70], ['h', 30]];
  for (const [name, ms] of plan) ids.set(name, c.setTimer(() => fired.push(`${name}@${c.now()}`), ms));
  c.clearTimer(ids.get('e')!);
  c.clearTimer(ids.get('g')!);
  t.is(c.pending, 6);
  t.is(c.nextDue(), 100);
  c.runUntil(160);
  t.deepEqual(fired, ['d@100', 'b@110', 'f@110', 'h@130', 'a@150', 'c@150']);
  t.is(c.now(), 160);
  t.is(c.pending, 0);
  t.is(c.nextDue(), undefined);
});

test('a timer set by a firing timer for the same instant fires in the same run', (t) => {
  const c = new VirtualClock(0);
  const fired: number[] = [];
  c.setTimer(() => {
    fired.push(1);
    c.setTimer(() => fired.push(2), 0);
  }, 5);
  c.setTimer(() => fired.push(3), 6);
  c.runUntil(5);
  t.deepEqual(fired, [1, 2]);
  c.advanceSync(1);
  t.deepEqual(fired, [1, 2, 3]);
});
