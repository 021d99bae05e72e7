import test from 'ava';
import { readFileSync } from 'node:fs';
import { EventLogError, parseEventLog } from '../../../controller/report/events.js';

const fixture = (name: string) => readFileSync(new URL(`../../support/report/${name}`, import.meta.url), 'utf8');
const line = (f: Record<string, unknown>) => JSON.stringify({ time: '2026-12-01T12:00:00.000Z', level: 'info', msg: 'vm transition', app: 'park', vm: 'vm1', from: 'active', to: 'parking', reason: 'idle', ...f });

test('the fixture log: transitions typed and sorted, text lines and blank lines counted as non-JSON, other records counted', (t) => {
  const log = parseEventLog(fixture('run.jsonl'));
  t.is(log.events.length, 39);
  t.is(log.nonJsonLines, 3, 'the banner, the blank line and the stray line');
  t.is(log.otherRecords, 12);
  t.deepEqual(log.events[0], { kind: 'transition', time: Date.parse('2026-12-01T12:00:00.020Z'), vm: 'vm1', from: 'unknown', to: 'active', reason: 'confirmed-running', line: 4 });
  for (let i = 1; i < log.events.length; i++) t.true(log.events[i]!.time >= log.events[i - 1]!.time);
  const wake = log.events.find((e) => e.to === 'active' && e.from === 'waking');
  t.is(wake?.durationMs, 7.8);
});

test('optional depth, memoryReleasedBytes and energySavedJoules are read when present (energy may be negative)', (t) => {
  const [e] = parseEventLog(line({ from: 'parking', to: 'parked', reason: 'parked', depth: 'save', memoryReleasedBytes: 1024, energySavedJoules: -2.5 })).events;
  t.like(e, { depth: 'save', memoryReleasedBytes: 1024, energySavedJoules: -2.5 });
});

test('a JSON array or number is not a record: counted as non-JSON, not an error', (t) => {
  const log = parseEventLog('[1,2]\n42\n' + line({}) + '\n');
  t.is(log.nonJsonLines, 2);
  t.is(log.events.length, 1);
});

const bad: [string, Record<string, unknown>, RegExp][] = [
  ['an unknown phase', { to: 'sleeping' }, /line 2: .*to must be one of .*"sleeping"/],
  ['a reason outside the closed set', { reason: 'bored' }, /line 2: .*reason must be one of/],
  ['a missing vm', { vm: undefined }, /line 2: .*vm must be a non-empty string/],
  ['a time that is not ISO', { time: 'yesterday' }, /line 2: .*time must be an ISO timestamp/],
  ['a negative duration', { durationMs: -1 }, /line 2: .*durationMs must be a finite number >= 0/],
  ['a string memory figure', { memoryReleasedBytes: '1G' }, /line 2: .*memoryReleasedBytes/],
  ['an unknown depth', { depth: 'deep' }, /line 2: .*depth must be one of pause, reclaim, save, shutdown/],
];
for (const [what, f, re] of bad) {
  test(`a transition record with ${what} is an error naming its line`, (t) => {
    const err = t.throws(() => parseEventLog(`not json\n${line(f)}\n`), { instanceOf: EventLogError });
    t.regex(err!.message, re);
    t.is(err!.line, 2);
  });
}
