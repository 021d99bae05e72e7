// seamless replay synth: deterministic per seed, and the documented shape of
// the traffic (docs/replay.md#synthetic-traces): office hours and weekdays
// dominate, idle gaps are heavy-tailed, the monitor comes every
// monitorInterval, and the generated inventory's ignore rules cover all
// background traffic (so it can neither keep a VM up nor wake it).
import test from 'ava';
import { parseInventory } from '../../../controller/inventory/index.js';
import { BACKUP_IP, MONITOR_IP, SYNTH_DEFAULTS, synthInventory, synthTrace, vmIp, vmKind } from '../../../controller/replay/synth.js';
import { ipToU32 } from '../../../controller/replay/trace.js';

const P = { ...SYNTH_DEFAULTS, vms: 40, days: 7, seed: 21 };
const tr = synthTrace(P);
const background = new Set([ipToU32(MONITOR_IP)!, ipToU32(BACKUP_IP)!]);

test('the same seed gives the same trace, another seed another', (t) => {
  const again = synthTrace(P);
  t.is(again.n, tr.n);
  t.deepEqual(again.start, tr.start);
  t.deepEqual(again.dst, tr.dst);
  const other = synthTrace({ ...P, seed: 22 });
  t.notDeepEqual(other.start.slice(0, 100), tr.start.slice(0, 100));
});

test('flows are in start order, inside the D days, to the inventory\'s VMs', (t) => {
  const ips = new Set(Array.from({ length: P.vms }, (_, i) => ipToU32(vmIp(i))));
  for (let i = 1; i < tr.n; i++) if (tr.start[i]! < tr.start[i - 1]!) return t.fail(`flow ${i} out of order`);
  t.true(tr.start[0]! >= P.startMs);
  t.true(tr.start[tr.n - 1]! < P.startMs + 7 * 86_400_000);
  for (let i = 0; i < tr.n; i++) if (!ips.has(tr.dst[i]!)) return t.fail(`flow ${i} to an unknown address`);
  t.pass();
});

test('diurnal and weekly: interactive flows mostly in office hours on weekdays', (t) => {
  let office = 0;
  let weekday = 0;
  let interactive = 0;
  for (let i = 0; i < tr.n; i++) {
    if (background.has(tr.src[i]!)) continue;
    interactive++;
    const d = new Date(tr.start[i]!);
    if (d.getUTCHours() >= 8 && d.getUTCHours() < 18) office++;
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) weekday++;
  }
  t.true(interactive > 1000);
  t.true(office / interactive > 0.7, `office hours share ${office / interactive}`);
  // 5 of 7 days are weekdays (71 %); with the weekend factor far more of the traffic.
  t.true(weekday / interactive > 0.85, `weekday share ${weekday / interactive}`);
});

test('idle gaps between a desktop\'s interactive flows are heavy-tailed', (t) => {
  const gaps: number[] = [];
  for (let v = 0; v < P.vms; v++) {
    if (vmKind(P, v) !== 'desktop') continue;
    const ip = ipToU32(vmIp(v))!;
    let last: number | undefined;
    for (let i = 0; i < tr.n; i++) {
      if (tr.dst[i] !== ip || background.has(tr.src[i]!)) continue;
      if (last !== undefined) gaps.push(tr.start[i]! - last);
      last = tr.start[i]!;
    }
  }
  gaps.sort((a, b) => a - b);
  const q = (x: number) => gaps[Math.floor(x * (gaps.length - 1))]!;
  t.true(q(0.5) < 30_000, `median gap ${q(0.5)} ms: requests within sessions`);
  t.true(q(0.99) > 100 * q(0.5), `p99 ${q(0.99)} vs median ${q(0.5)}: a heavy tail`);
  t.true(gaps[gaps.length - 1]! > 12 * 3_600_000, 'nights and weekends');
});

test('the monitor probes every VM every monitorInterval; the backup runs nightly', (t) => {
  const mon = ipToU32(MONITOR_IP)!;
  const bak = ipToU32(BACKUP_IP)!;
  const ip0 = ipToU32(vmIp(0))!;
  const times: number[] = [];
  let backups = 0;
  for (let i = 0; i < tr.n; i++) {
    if (tr.dst[i] !== ip0) continue;
    if (tr.src[i] === mon) times.push(tr.start[i]!);
    if (tr.src[i] === bak) backups++;
  }
  for (let k = 1; k < times.length; k++) t.true(Math.abs(times[k]! - times[k - 1]! - P.monitorIntervalS * 1000) < 1e-3);
  t.true(Math.abs(times.length - (7 * 86_400) / P.monitorIntervalS) <= 1);
  t.is(backups, 7);
});

test('the generated inventory loads and its ignore rules name every background source', (t) => {
  const inv = parseInventory(synthInventory(P), 'synth.yaml');
  t.is(inv.vms.length, P.vms);
  t.is(inv.vms[5]!.ip, vmIp(5));
  const rules = inv.vms[0]!.ignore;
  t.deepEqual(rules.map((r) => r.src).sort(), [MONITOR_IP, BACKUP_IP].sort());
  // Every background flow matches a rule (source and port).
  for (let i = 0; i < tr.n; i++) {
    if (!background.has(tr.src[i]!)) continue;
    const ok = rules.some((r) => ipToU32(r.src!) === tr.src[i] && r.tcpDst === tr.dport[i]);
    if (!ok) return t.fail(`background flow ${i} matches no ignore rule`);
  }
  t.pass();
});
