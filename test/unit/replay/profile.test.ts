// The latency profile: a file overrides single fields over the defaults; bad
// values are refused naming the file and the field; draws follow the given
// median and p99; a depth the profile lacks is refused naming the VM.
import test from 'ava';
import { DEFAULT_PROFILE, depthLatency, draw, profileFrom, ProfileError } from '../../../controller/replay/profile.js';
import { Rng } from '../../../controller/replay/rng.js';

test('a partial profile overrides only what it names', (t) => {
  const p = profileFrom({ depths: { save: { wake: { p50Ms: 400 } } }, residentBytes: 512 * 2 ** 20 }, 'p.yaml');
  t.deepEqual(p.depths['save']!.wake, { p50Ms: 400, p99Ms: 400 });
  t.deepEqual(p.depths['save']!.park, DEFAULT_PROFILE.depths['save']!.park);
  t.deepEqual(p.depths['pause'], DEFAULT_PROFILE.depths['pause']);
  t.is(p.residentBytes, 512 * 2 ** 20);
  t.deepEqual(p.switchRoundTrip, DEFAULT_PROFILE.switchRoundTrip);
});

test('bad profiles are refused naming file and field', (t) => {
  const bad = (doc: unknown, re: RegExp) => t.throws(() => profileFrom(doc, 'p.yaml'), { instanceOf: ProfileError, message: re });
  bad({ depths: { pause: { wake: { p50Ms: 10, p99Ms: 5 } } } }, /p\.yaml: depths\.pause\.wake: p50Ms must be a number >= 0 and p99Ms >= p50Ms/);
  bad({ depths: { save: { releasedFraction: 2 } } }, /p\.yaml: depths\.save\.releasedFraction: expected a number in \[0, 1\], got 2/);
  bad({ residentBytes: -1 }, /p\.yaml: residentBytes: expected a positive number/);
  bad({ wakeMs: 3 }, /p\.yaml: unknown field wakeMs/);
  bad('fast', /p\.yaml: expected a mapping/);
  t.throws(() => depthLatency(DEFAULT_PROFILE, 'hibernate', 'vm7'), { instanceOf: ProfileError, message: /VM vm7: depth hibernate has no latencies in the profile/ });
});

test('draws follow the median and the 99th percentile', (t) => {
  const rng = new Rng(5);
  const xs = Array.from({ length: 20000 }, () => draw(rng, { p50Ms: 500, p99Ms: 1000 })).sort((a, b) => a - b);
  const q = (f: number) => xs[Math.floor(f * xs.length)]!;
  t.true(Math.abs(q(0.5) - 500) < 15, String(q(0.5)));
  t.true(Math.abs(q(0.99) - 1000) < 60, String(q(0.99)));
  t.is(draw(rng, { p50Ms: 7, p99Ms: 7 }), 7);
});
