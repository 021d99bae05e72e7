/**
 * `seamless vm ...` and `seamless switch ...`: virsh-like commands, thin
 * clients of the daemon's control API (controller/api). All state lives in the
 * daemon; these only format its answers.
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_API_SOCKET, parseApiAddress, type ApiAddress } from '../api/address.js';
import { ApiClient } from '../api/client.js';
import type { HypervisorView, LinkEndView, LinksView, SwitchView, VmView } from '../api/types.js';
import { OFPP_LOCAL } from '../openflow/constants.js';
import { formatDuration } from '../inventory/duration.js';
import type { Command } from './dispatch.js';

export const VM_USAGE =
  'usage: seamless vm list [--json] [--socket PATH|HOST:PORT]\n' +
  '       seamless vm info NAME [--json]\n' +
  '       seamless vm park NAME [--wait] [--timeout S] [--json]\n' +
  '       seamless vm wake NAME [--timeout S] [--json]\n';

export const SWITCH_USAGE =
  'usage: seamless switch list [--json] [--socket PATH|HOST:PORT]\n' +
  '       seamless switch links [--json] [--socket PATH|HOST:PORT]\n';

export const HYPERVISOR_USAGE = 'usage: seamless hypervisor list [--json] [--socket PATH|HOST:PORT]\n';

const OPTIONS_HELP = `
  --socket PATH|HOST:PORT  the controller's API (default $SEAMLESS_SOCKET or ${DEFAULT_API_SOCKET})
  --json                   print the API's JSON instead of a table
  --timeout S              vm wake / vm park --wait: give up after S seconds (default 120)
  --wait                   vm park: wait until the VM is parked
`;

/** A bad command line: exit status 2. */
class UsageError extends Error {
  readonly code = 'ERR_USAGE';
}

interface Args {
  positionals: string[];
  address: ApiAddress;
  json: boolean;
  wait: boolean;
  timeoutMs: number;
  help: boolean;
}

function parse(argv: string[]): Args {
  let r;
  try {
    r = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        socket: { type: 'string' },
        json: { type: 'boolean' },
        wait: { type: 'boolean' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = r;
  let address: ApiAddress;
  try {
    address = parseApiAddress(values.socket ?? (process.env.SEAMLESS_SOCKET || DEFAULT_API_SOCKET));
  } catch (e) {
    throw new UsageError(`--socket: ${(e as Error).message}`);
  }
  const t = values.timeout ?? '120';
  if (!/^\d+(\.\d+)?$/.test(t) || Number(t) <= 0 || Number(t) > 86_400) throw new UsageError(`--timeout: expected seconds (0 < S <= 86400), got '${t}'`);
  return { positionals, address, json: values.json === true, wait: values.wait === true, timeoutMs: Number(t) * 1000, help: values.help === true };
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local time as `YYYY-MM-DD HH:MM:SS` (virsh prints local times too). */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

export function formatMs(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

const MIB = 1024 * 1024;

/** Bytes as MiB (GiB from 1 GiB on); 0 as `0`. */
export function formatBytes(n: number): string {
  if (n === 0) return '0';
  return n >= 1024 * MIB ? `${(n / (1024 * MIB)).toFixed(2)} GiB` : `${(n / MIB).toFixed(1)} MiB`;
}

/** Joules with one decimal; kJ from 10 kJ on (a negative value: parking cost more than it saved). */
export function formatJoules(j: number): string {
  return Math.abs(j) >= 10_000 ? `${(j / 1000).toFixed(1)} kJ` : `${j.toFixed(1)} J`;
}

function stateText(v: VmView): string {
  return v.step === 'none' ? v.state : `${v.state} (${v.step})`;
}

/** A virsh-style table: a leading space, columns three spaces apart, a dashed rule under the header. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => ` ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('   ')}`.trimEnd();
  const head = line(header);
  const rule = '-'.repeat(Math.max(head.length + 1, widths.reduce((a, b) => a + b + 3, 0)));
  return [head, rule, ...rows.map(line)].join('\n') + '\n';
}

export function vmTable(vms: readonly VmView[]): string {
  return table(
    ['Name', 'State', 'Depth', 'Host', 'Since', 'Port', 'Last wake', 'Mem released', 'Energy saved'],
    vms.map((v) => [v.name, stateText(v), v.depth, v.hypervisor, formatTime(v.since), v.port === null ? '-' : String(v.port), formatMs(v.lastWakeMs), formatBytes(v.memoryReleasedBytes), formatJoules(v.energySavedJoules)]),
  );
}

export function vmInfo(v: VmView): string {
  const rows: [string, string][] = [
    ['Name', v.name],
    ['State', stateText(v)],
    ['Since', formatTime(v.since)],
    ['Depth', v.depths.length <= 1 ? v.depth : v.depths.map((r) => `${r.depth} after ${formatDuration(r.afterMs)}`).join(', ')],
    ['Parked at', v.parkedDepth ?? '-'],
    ['Domain', v.domain],
    ['Hypervisor', v.hypervisor],
    ['Switch', v.switch],
    ['Port', v.port === null ? '-' : String(v.port)],
    ['Held packets', String(v.held)],
    ['Last error', v.lastError ?? '-'],
    ['Last failure', v.lastFailure === null ? '-' : `${v.lastFailure.error} (${formatTime(v.lastFailure.at)})`],
    ['Last change', transitionText(v)],
    ['Last problem', v.lastProblem === null ? '-' : `${v.lastProblem.message} (${formatTime(v.lastProblem.at)})`],
    ['Wakes', String(v.wakes)],
    ['Last wake', formatMs(v.lastWakeMs)],
    ['Parks', String(v.counters.parks)],
    ['Park failures', String(v.counters.parkFailures)],
    ['Wake failures', String(v.counters.wakeFailures)],
    ['Held dropped', String(v.counters.heldDropped)],
    ['ARP answered', String(v.counters.arpAnswered)],
    ['ICMP answered', String(v.counters.icmpAnswered)],
    ['Ignored', String(v.counters.ignored)],
    ['Memory released', formatBytes(v.memoryReleasedBytes)],
    // The last park's measurement (kept after the wake): what the host got back, and for
    // depth reclaim where the pages went (swap) and what zram still holds for them.
    ['Last park memory', lastParkText(v)],
    ['Energy saved', formatJoules(v.energySavedJoules)],
    // docs/energy.md: idle periods shorter than the depth's break-even time.
    ['Parks not paid off', String(v.unprofitableParks)],
  ];
  return rows.map(([k, val]) => `${`${k}:`.padEnd(21)}${val}`).join('\n') + '\n';
}

function lastParkText(v: VmView): string {
  const m = v.lastPark;
  if (m === null || m === undefined) return '-';
  const swap = m.swappedBytes === null ? '' : `, swapped ${formatBytes(m.swappedBytes)}, zram holds ${formatBytes(m.compressedBytes ?? 0)}`;
  return `released ${formatBytes(m.releasedBytes)} of ${formatBytes(m.residentBytes)}${swap}`;
}

export function switchSummary(switches: readonly SwitchView[]): string {
  if (switches.length === 0) return 'no switches connected\n';
  const out: string[] = [];
  for (const s of switches) {
    out.push(`Switch ${s.dpid}${s.name === null ? '' : ` (${s.name})`}`);
    if (s.remote !== null) out.push(`    remote: ${s.remote}`);
    out.push(`    tables: ${s.nTables}`);
    // The switch's local port (OF 1.3.5 §7.2.1) is shown by name, as ovs-ofctl does.
    const no = (n: number) => (n === OFPP_LOCAL ? 'LOCAL' : String(n));
    const nw = Math.max(5, ...s.ports.map((p) => no(p.portNo).length));
    const w = Math.max(0, ...s.ports.map((p) => p.name.length));
    for (const p of s.ports) out.push(`    Port ${no(p.portNo).padEnd(nw)} ${p.name.padEnd(w)}   ${p.up ? 'up  ' : 'down'}   ${p.hwAddr}`);
  }
  return out.join('\n') + '\n';
}

/**
 * The links as lines, one per link, both ends as `port-name (dpid:port)` like
 * ovs-vsctl names a port, the lower end first; `tree` marks the links that
 * broadcasts follow. Discovery off (no --fabric) says so.
 */
export function linksSummary(v: LinksView): string {
  if (!v.discovery) return 'topology discovery is off (start the controller with --fabric)\n';
  if (v.links.length === 0) return 'no links discovered\n';
  const end = (e: LinkEndView) => `${e.portName ?? `port ${e.port}`}${e.name === null ? '' : ` on ${e.name}`} (${e.dpid}:${e.port})`;
  const left = v.links.map((l) => end(l.a));
  const right = v.links.map((l) => end(l.b));
  const wl = Math.max(...left.map((s) => s.length));
  const wr = Math.max(...right.map((s) => s.length));
  const lines = v.links.map((l, i) => `${left[i]!.padEnd(wl)} <-> ${right[i]!.padEnd(wr)}  ${l.tree ? 'tree' : 'spare'}`.trimEnd());
  const tree = v.links.filter((l) => l.tree).length;
  return `${lines.join('\n')}\n${v.links.length} links, ${tree} on the spanning tree\n`;
}

/** `seamless hypervisor list`: each host, its libvirt connection and why it is down. */
export function hypervisorTable(hs: readonly HypervisorView[]): string {
  if (hs.length === 0) return 'no hypervisors (the controller runs without --config)\n';
  const text = table(
    ['Name', 'Endpoint', 'Connection', 'Since', 'VMs', 'Max ops', 'Connects'],
    hs.map((h) => [h.name, h.endpoint, h.connection, h.since === 0 ? '-' : formatTime(h.since), String(h.vms), String(h.maxConcurrentOps), String(h.connects)]),
  );
  const errors = hs.filter((h) => h.connection !== 'up' && h.lastError !== null).map((h) => ` ${h.name}: ${h.lastError}`);
  return errors.length === 0 ? text : `${text}\n${errors.join('\n')}\n`;
}

function print(s: string): void {
  process.stdout.write(s);
}

function json(v: unknown): void {
  print(`${JSON.stringify(v, null, 2)}\n`);
}

/**
 * Why a park this command started ended with the VM active again: the engine's
 * transition reason, and what it logged about the VM since the command began
 * (or its lastError). Never a guess: an unknown cause says where to look.
 */
export function parkFailure(name: string, v: VmView, startedAt: number): string {
  const reason = v.lastTransition?.reason;
  // Same host, same wall clock; a second of slack for a problem logged just as the request arrived.
  const problem = v.lastProblem !== null && v.lastProblem.at >= startedAt - 1000 ? v.lastProblem.message : undefined;
  const detail = problem ?? v.lastError ?? undefined;
  if (reason === 'park-aborted-by-traffic' && detail === undefined) return `${name}: park aborted: traffic for the VM arrived while it was being parked (${reason})`;
  return `${name}: park failed${reason === undefined ? '' : ` (${reason})`}${detail === undefined ? ', see the controller log' : `: ${detail}`}`;
}

function transitionText(v: VmView): string {
  const t = v.lastTransition;
  return t === null ? '-' : `${t.from} -> ${t.to}: ${t.reason} (${formatTime(t.at)})`;
}

/**
 * Polls the VM until `done` says so (every 20 ms, bounded by timeoutMs).
 * Returns the last view; throws on `failed`.
 */
async function waitFor(c: ApiClient, name: string, done: (v: VmView) => boolean, failed: (v: VmView) => string | undefined, timeoutMs: number): Promise<VmView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await c.vm(name);
    if (done(v)) return v;
    const why = failed(v);
    if (why !== undefined) throw new Error(why);
    if (Date.now() >= deadline) throw new Error(`${name} is still ${stateText(v)} after ${timeoutMs / 1000} s`);
    await sleep(20);
  }
}

function oneName(args: Args, sub: string): string {
  if (args.positionals.length !== 2) throw new UsageError(`${sub}: expected exactly one VM name`);
  return args.positionals[1]!;
}

async function runVm(args: Args): Promise<number> {
  const c = new ApiClient(args.address);
  const sub = args.positionals[0];
  switch (sub) {
    case 'list': {
      if (args.positionals.length !== 1) throw new UsageError('list: takes no arguments');
      const vms = await c.vms();
      if (args.json) json(vms);
      else print(vmTable(vms));
      return 0;
    }
    case 'info': {
      const v = await c.vm(oneName(args, sub));
      if (args.json) json(v);
      else print(vmInfo(v));
      return 0;
    }
    case 'park': {
      const name = oneName(args, sub);
      const t0 = Date.now();
      const r = await c.park(name);
      if (!args.wait) {
        if (args.json) json(r);
        else print(r.result === 'already' ? `${name} is already parked\n` : `${name}: parking (depth ${r.vm.depth})\n`);
        return 0;
      }
      const v =
        r.result === 'already'
          ? r.vm
          : await waitFor(
              c,
              name,
              (x) => x.state === 'parked',
              (x) => (x.state === 'active' ? parkFailure(name, x, t0) : undefined),
              args.timeoutMs,
            );
      const ms = Date.now() - t0;
      if (args.json) json({ ...v, elapsedMs: ms });
      else print(r.result === 'already' ? `${name} is already parked\n` : `${name} is parked (depth ${v.depth}) after ${formatMs(ms)}\n`);
      return 0;
    }
    case 'wake': {
      const name = oneName(args, sub);
      const t0 = Date.now();
      const r = await c.wake(name);
      if (r.result === 'already') {
        if (args.json) json({ ...r.vm, elapsedMs: 0 });
        else print(`${name} is already active\n`);
        return 0;
      }
      const v = await waitFor(
        c,
        name,
        (x) => x.state === 'active',
        (x) => (x.state === 'wake_failed' ? `${name}: wake failed${x.lastError === null ? '' : `: ${x.lastError}`}` : undefined),
        args.timeoutMs,
      );
      const ms = Date.now() - t0;
      if (args.json) json({ ...v, elapsedMs: ms });
      else print(`${name} is active: woke in ${formatMs(ms)}${v.lastWakeMs === null ? '' : ` (controller: ${formatMs(v.lastWakeMs)})`}\n`);
      return 0;
    }
    default:
      throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`);
  }
}

async function runSwitch(args: Args): Promise<number> {
  const sub = args.positionals[0];
  if (sub !== 'list' && sub !== 'links') throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`);
  if (args.positionals.length !== 1) throw new UsageError(`${sub}: takes no arguments`);
  if (sub === 'links') {
    const l = await new ApiClient(args.address).links();
    if (args.json) json(l);
    else print(linksSummary(l));
    return 0;
  }
  const s = await new ApiClient(args.address).switches();
  if (args.json) json(s);
  else print(switchSummary(s));
  return 0;
}

async function runHypervisor(args: Args): Promise<number> {
  const sub = args.positionals[0];
  if (sub !== 'list') throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`);
  if (args.positionals.length !== 1) throw new UsageError('list: takes no arguments');
  const hs = await new ApiClient(args.address).hypervisors();
  if (args.json) json(hs);
  else print(hypervisorTable(hs));
  return 0;
}

function wrap(name: string, usage: string, body: (a: Args) => Promise<number>): Command {
  return async (argv) => {
    try {
      const args = parse(argv);
      if (args.help) {
        print(`${usage}${OPTIONS_HELP}`);
        return 0;
      }
      return await body(args);
    } catch (e) {
      if (e instanceof UsageError) {
        process.stderr.write(`seamless ${name}: ${e.message}\n${usage}`);
        return 2;
      }
      // Unreachable daemon, unknown VM, busy VM, failed wake: one line, exit 1.
      process.stderr.write(`seamless: ${(e as Error).message}\n`);
      return 1;
    }
  };
}

/** `seamless vm ...` */
const vmCommand: Command = wrap('vm', VM_USAGE, runVm);
/** `seamless switch ...` */
export const switchCommand: Command = wrap('switch', SWITCH_USAGE, runSwitch);
/** `seamless hypervisor ...` */
export const hypervisorCommand: Command = wrap('hypervisor', HYPERVISOR_USAGE, runHypervisor);
export default vmCommand;
