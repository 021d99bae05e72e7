// The replay engine: machine.ts itself on virtual time against a simulated
// switch and hypervisor. Pinned here: the fast engine (one machine per VM,
// polls only when nextPollMatters says so) produces exactly the transitions of
// the live controller's shape (one machine, every poll); determinism per seed;
// unknown addresses reported; results that conserve energy and time; latency
// that includes the depth's wake; ignored traffic that never wakes a VM.
import test from 'ava';
import { energySaved } from '../../../controller/energy/model.js';
import { DEFAULT_POWER_PROFILE } from '../../../controller/energy/profile.js';
import { parseInventory } from '../../../controller/inventory/index.js';
import type { Inventory } from '../../../controller/inventory/types.js';
import { prepareTrace, replay, type TransitionRecord } from '../../../controller/replay/engine.js';
import { PolicyError } from '../../../controller/replay/policies.js';
import { DEFAULT_PROFILE, profileFrom, type LatencyProfile } from '../../../controller/replay/profile.js';
import { PHASES, type PolicyResult } from '../../../controller/replay/results.js';
import { SYNTH_DEFAULTS, synthInventory, synthTrace } from '../../../controller/replay/synth.js';
import { ipToU32, PROTO_ICMP, PROTO_TCP, TraceBuilder, type Trace } from '../../../controller/replay/trace.js';

const T0 = Date.UTC(2026, 0, 5);
const MIN = 60_000;

function inventory(depths: string[], extra = ''): Inventory {
  const vms = depths.map(
    (d, i) => `  - { name: vm${i}, libvirt: { uri: "qemu:///system", domain: vm${i} }, mac: "52:54:00:00:00:${(16 + i).toString(16)}", ip: 10.0.0.${11 + i}, switch: s1, port: tap${i}, depth: ${d} }`,
  );
  return parseInventory(
    `park: { maxConcurrentOps: 1000, probeIp: 10.0.0.253, meterRate: 0 }
defaults: { idleTimeout: 10m, minActive: 30s, gatewayPorts: [22, 443], sink: sink1, ignore: [{ src: 10.0.0.250 }] ${extra} }
switches: [{ name: s1, dpid: 1 }]
sinks: [{ name: sink1, switch: s1, port: sink1-eth0, mac: "02:00:00:00:00:fe", ip: 10.0.0.254 }]
vms:
${vms.join('\n')}
`,
    'test.yaml',
  );
}

/** [minute, dst last octet, src last octet, proto, dport, packets, duration s] */
type Row = [number, number, number, number, number, number, number];

function trace(rows: Row[]): Trace {
  const b = new TraceBuilder();
  for (const [m, dst, src, proto, dport, packets, dur] of rows) b.push(T0 + m * MIN, ipToU32(`10.0.0.${src}`)!, ipToU32(`10.0.0.${dst}`)!, proto, dport, packets, packets * 100, dur * 1000);
  return b.finish('test-trace');
}

const strip = (r: PolicyResult) => ({ ...r, replaySeconds: 0 });
const key = (t: TransitionRecord) => `${t.at.toFixed(6)} ${t.vm} ${t.from}->${t.to} ${t.reason}`;

function transitions(tr: Trace, inv: Inventory, fullFidelity: boolean, profile: LatencyProfile = DEFAULT_PROFILE, seed = 7, window?: { startMs: number; endMs: number }): string[] {
  const out: TransitionRecord[] = [];
  replay(prepareTrace(tr, inv, window), { profile, seed, policy: 'fixed', fullFidelity, onTransition: (t) => out.push(t) });
  return out.map(key).sort();
}

test('the fast engine and a full-fidelity run (one machine, every poll) make identical transitions: synthetic week, every depth', (t) => {
  const p = { ...SYNTH_DEFAULTS, vms: 9, days: 3, seed: 11 };
  // Depths mixed so ports come and go (save/shutdown) and cold boots are probed.
  let yaml = synthInventory(p).replace('maxConcurrentOps: 4', 'maxConcurrentOps: 1000');
  yaml = yaml.replace(/(name: vm(\d+),.*depth: )pause/g, (_, head: string, i: string) => `${head}${['pause', 'save', 'shutdown'][Number(i) % 3]}`);
  const inv = parseInventory(yaml, 'synth.yaml');
  const tr = synthTrace(p);
  const window = { startMs: p.startMs, endMs: p.startMs + p.days * 86_400_000 };
  const fast = transitions(tr, inv, false, DEFAULT_PROFILE, 7, window);
  const full = transitions(tr, inv, true, DEFAULT_PROFILE, 7, window);
  t.true(fast.length > 300, `a real workout: ${fast.length} transitions`);
  t.true(fast.some((x) => x.includes('parking->parked')) && fast.some((x) => x.includes('waking->active woken')));
  t.deepEqual(fast, full);
});

test('identical transitions on a hand-made trace: ICMP, non-gateway ports, a long flow, ignored traffic, a park aborted by traffic', (t) => {
  const inv = inventory(['pause', 'save']);
  const rows: Row[] = [
    [0, 11, 1, PROTO_TCP, 22, 5, 1],
    [0.2, 12, 1, PROTO_TCP, 443, 5, 1],
    [25, 11, 1, PROTO_ICMP, 0, 1, 0], // answered by the controller: no wake
    [30, 11, 1, PROTO_TCP, 8080, 1, 0], // not a gateway port: dropped, no wake
    [31, 11, 250, PROTO_TCP, 9100, 3, 0], // the monitor: ignored
    [40, 11, 1, PROTO_TCP, 22, 400, 3600], // an hour-long session: keeps it up
    [45, 12, 1, PROTO_TCP, 22, 2, 0],
    [130, 12, 1, PROTO_TCP, 22, 2, 0],
    [230, 11, 1, PROTO_TCP, 443, 2, 0],
  ];
  const tr = trace(rows);
  const fast = transitions(tr, inv, false);
  t.deepEqual(fast, transitions(tr, inv, true));
  const vm0 = fast.filter((x) => x.includes(' vm0 '));
  // Parked before the ICMP, woken by the 22 at minute 40 and not before; not parked during the hour-long flow.
  const wakes = vm0.filter((x) => x.includes('parked->waking'));
  t.is(wakes.length, 2);
  t.is(Math.floor((Number(wakes[0]!.split(' ')[0]) - T0) / MIN), 40);
  const parks = vm0.filter((x) => x.includes('active->parking'));
  t.false(parks.some((x) => Number(x.split(' ')[0]) > T0 + 40 * MIN && Number(x.split(' ')[0]) < T0 + 100 * MIN), 'no park during the session');
});

test('the same seed gives the same results; another seed other latencies', (t) => {
  const p = { ...SYNTH_DEFAULTS, vms: 6, days: 1, seed: 3 };
  const prepared = prepareTrace(synthTrace(p), parseInventory(synthInventory(p), 's.yaml'));
  const a = replay(prepared, { profile: DEFAULT_PROFILE, seed: 1, policy: 'fixed' });
  const b = replay(prepared, { profile: DEFAULT_PROFILE, seed: 1, policy: 'fixed' });
  const c = replay(prepared, { profile: DEFAULT_PROFILE, seed: 2, policy: 'fixed' });
  t.deepEqual(strip(a), strip(b));
  t.true(a.addedLatencyMs.count > 10);
  t.notDeepEqual(a.addedLatencyMs.cdf, c.addedLatencyMs.cdf);
});

test('addresses the inventory does not know are reported with their flow counts; flows sent by VMs counted apart', (t) => {
  const inv = inventory(['pause']);
  const tr = trace([
    [0, 11, 1, PROTO_TCP, 22, 1, 0],
    [1, 99, 1, PROTO_TCP, 22, 1, 0],
    [2, 99, 1, PROTO_TCP, 22, 1, 0],
    [3, 98, 1, PROTO_TCP, 22, 1, 0],
    [4, 1, 11, PROTO_TCP, 80, 1, 0], // from vm0 to a client
  ]);
  const p = prepareTrace(tr, inv);
  t.deepEqual(p.summary.unknownAddresses, [
    { ip: '10.0.0.99', flows: 2 },
    { ip: '10.0.0.98', flows: 1 },
  ]);
  t.is(p.summary.outboundFlows, 1);
  t.is(p.summary.flows, 5);
});

test('results conserve energy and time, and per-VM rows add up to the totals', (t) => {
  const p = { ...SYNTH_DEFAULTS, vms: 8, days: 2, seed: 5 };
  const prepared = prepareTrace(synthTrace(p), parseInventory(synthInventory(p), 's.yaml'), { startMs: p.startMs, endMs: p.startMs + 2 * 86_400_000 });
  for (const policy of ['fixed', 'fixed:30s', 'fixed:4h']) {
    const r = replay(prepared, { profile: DEFAULT_PROFILE, seed: 1, policy });
    t.true(r.savedJoules <= r.alwaysOnJoules, policy);
    t.true(r.savedPct <= 100);
    const total = PHASES.reduce((a, ph) => a + r.timeInStateSeconds[ph], 0);
    t.true(Math.abs(total - 8 * 2 * 86_400) < 0.01, `${policy}: ${total}`);
    t.is(r.perVm.reduce((a, v) => a + v.wakes, 0), r.wakes);
    t.is(r.perVm.reduce((a, v) => a + v.flowsMetParked, 0), r.flowsMetParked);
    t.true(Math.abs(r.perVm.reduce((a, v) => a + v.savedJoules, 0) - r.savedJoules) < 0.1);
    t.is(r.addedLatencyMs.count + r.flowsLost, r.flowsMetParked);
    if (policy.startsWith('fixed:')) t.is(r.idleTimeoutMs, policy === 'fixed:30s' ? 30_000 : 4 * 3_600_000);
  }
});

test('added latency is the depth\'s wake drawn from the profile (plus the machine\'s steps)', (t) => {
  const profile = profileFrom({ depths: { save: { wake: { p50Ms: 500, p99Ms: 500 } } }, switchRoundTrip: { p50Ms: 2, p99Ms: 2 } }, 'inline');
  const inv = inventory(['save']);
  const tr = trace([
    [0, 11, 1, PROTO_TCP, 22, 1, 0],
    [60, 11, 1, PROTO_TCP, 22, 3, 0],
    [120, 11, 1, PROTO_TCP, 443, 3, 0],
  ]);
  const r = replay(prepareTrace(tr, inv), { profile, seed: 1, policy: 'fixed' });
  t.is(r.addedLatencyMs.count, 2);
  // libvirt's 500 ms, then the ARP probe and its answer; the held SYN goes out with the
  // make-before-break flows (its barrier orders it, nothing waits for the reply).
  t.true(r.addedLatencyMs.p50 >= 500 && r.addedLatencyMs.p50 < 510, String(r.addedLatencyMs.p50));
  t.is(r.flowsMetParked, 2);
  t.is(r.flowsLost, 0);
});

test('savings include the transition costs: each idle period is worth energySaved of its real length', (t) => {
  const inv = inventory(['save']);
  const tr = trace([
    [0, 11, 1, PROTO_TCP, 22, 1, 0],
    [45, 11, 1, PROTO_TCP, 22, 1, 0],
  ]);
  const seen: TransitionRecord[] = [];
  // The window ends before vm0 could be idle again: one idle period only.
  const r = replay(prepareTrace(tr, inv, { startMs: T0, endMs: T0 + 50 * MIN }), { profile: DEFAULT_PROFILE, seed: 1, policy: 'fixed', onTransition: (x) => seen.push(x) });
  const park = seen.find((x) => x.to === 'parking')!;
  const woken = seen.find((x) => x.reason === 'woken')!;
  const expected = energySaved(DEFAULT_POWER_PROFILE, { depth: 'save', seconds: (woken.at - park.at) / 1000, residentBytes: DEFAULT_PROFILE.residentBytes, releasedBytes: DEFAULT_PROFILE.residentBytes });
  // Less than the plain "always-on power x idle time": the park and the wake cost energy.
  t.true(expected < 2.375 * ((woken.at - park.at) / 1000));
  t.true(Math.abs(r.savedJoules - expected) < 0.01, `${r.savedJoules} vs ${expected}`);
  t.is(r.wakes, 1);
  t.true(r.memoryByteHoursSaved > 0);
});

test('ignored background traffic neither keeps a VM up nor wakes it', (t) => {
  const inv = inventory(['pause']);
  const rows: Row[] = [[0, 11, 1, PROTO_TCP, 22, 1, 0]];
  for (let m = 1; m < 24 * 60; m += 1) rows.push([m, 11, 250, PROTO_TCP, 9100, 4, 0]);
  const r = replay(prepareTrace(trace(rows), inv), { profile: DEFAULT_PROFILE, seed: 1, policy: 'fixed' });
  t.is(r.perVm[0]!.parks, 1);
  t.is(r.wakes, 0);
  t.is(r.flowsMetParked, 0);
  t.true(r.timeInStateSeconds.parked > 23 * 3600);
});

test('a policy this build does not run is refused by name', (t) => {
  const prepared = prepareTrace(trace([[0, 11, 1, PROTO_TCP, 22, 1, 0]]), inventory(['pause']));
  const e = t.throws(() => replay(prepared, { profile: DEFAULT_PROFILE, seed: 1, policy: 'clairvoyant' }), { instanceOf: PolicyError });
  t.regex(e!.message, /unknown policy "clairvoyant": this build runs fixed/);
  t.throws(() => replay(prepared, { profile: DEFAULT_PROFILE, seed: 1, policy: 'fixed:soon' }), { instanceOf: PolicyError, message: /fixed:soon/ });
});
