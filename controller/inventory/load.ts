// Loads and validates an inventory file (YAML or JSON). Every error names the
// file and the field: `topologies/x.yaml: vms[1].mac: "52:54:zz" is not a MAC address`.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { inventorySchema, type RawInventory } from './schema.js';
import { DEFAULT_POWER_PROFILE, mergeProfile, type PowerOverride } from '../energy/profile.js';
import type { Depth, HypervisorSpec, IgnoreRule, Inventory, ParkSettings, PolicySpec, Rung, VmSpec } from './types.js';
import { bootsCold, depthRank } from '../park/depth.js';
import { formatDuration } from './duration.js';

/** How an inventory is loaded. */
export interface LoadOptions {
  /**
   * For `seamless replay`: the `oracle` policy is allowed (it needs the trace's
   * future). The live controller leaves this unset, and an oracle is refused.
   */
  readonly replay?: boolean;
  /**
   * For `seamless controller --fabric`: a VM's sink may be on another switch (its
   * ignored traffic is forwarded there along the live topology). Without a fabric
   * the sink must be on the VM's switch.
   */
  readonly fabric?: boolean;
}
import { LibvirtError } from '../libvirt/errors.js';
import { parseLibvirtUri } from '../libvirt/uri.js';

/** Per-host connection bounds when `hypervisors[]` does not set them (docs/decisions.md). */
export const BUILTIN_HYPERVISOR = { connectTimeoutMs: 5_000, callTimeoutMs: 120_000 };

/** A bad inventory file; `issues` lists every problem found, each as "path: message". */
export class InventoryError extends Error {
  readonly code = 'ERR_INVENTORY';
  constructor(
    readonly file: string,
    readonly issues: readonly string[],
  ) {
    super(issues.map((i) => `${file}: ${i}`).join('\n'));
    this.name = 'InventoryError';
  }
}

/** Built-in values for settings neither a VM nor `defaults` gives. */
export const BUILTIN_DEFAULTS = {
  depth: 'pause' as Depth,
  idleTimeoutMs: 300_000,
  minActiveMs: 60_000,
  maxHeld: 64,
  wakeTimeoutMs: 60_000,
};

export const BUILTIN_PARK: ParkSettings = {
  maxConcurrentOps: 4,
  probeIntervalMs: 15,
  wakeRetries: 3,
  retryBackoffMs: 1000,
  retryBackoffMaxMs: 30_000,
  // Locally administered unicast MAC (bit 1 of the first octet set, bit 0 clear).
  probeMac: '02:5e:a1:00:00:01',
  // RFC 5227 ARP probe: sender IP 0.0.0.0 does not pollute the guest's ARP cache.
  probeIp: '0.0.0.0',
  meterRate: 100,
};

/**
 * Largest inventory file read (bytes). A VM entry takes about 250 bytes, so this
 * holds some 16,000 VMs; anything bigger is a wrong path (a disk image, a log),
 * and reading it whole would only waste memory before failing to parse.
 */
export const MAX_INVENTORY_BYTES = 4 * 1024 * 1024;

/**
 * YAML aliases expanded while converting the document (the `yaml` package's
 * maxAliasCount, its default made explicit): a "billion laughs" file expands
 * exponentially, a real inventory needs a handful (one `&defaults` per section).
 */
export const MAX_YAML_ALIASES = 100;

/** Reads and validates an inventory file; `.json` is parsed as JSON, anything else as YAML. */
export async function loadInventory(file: string, opts: LoadOptions = {}): Promise<Inventory> {
  return parseInventory(await readInventoryText(file), file, opts);
}

/**
 * Reads a regular file of at most MAX_INVENTORY_BYTES. O_NONBLOCK makes open()
 * return at once on a FIFO (a blocking open waits for a writer forever); the
 * file type is then checked on the open descriptor, so what is read is what was checked.
 */
async function readInventoryText(file: string): Promise<string> {
  const fail = (why: string): never => {
    throw new InventoryError(file, [`cannot read: ${why}`]);
  };
  let fh;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return fail((e as Error).message);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) fail(`not a regular file (${fileKind(st)}); an inventory is a YAML or JSON file`);
    if (st.size > MAX_INVENTORY_BYTES) fail(`${st.size} bytes is more than the ${MAX_INVENTORY_BYTES}-byte limit for an inventory`);
    // Read one byte past the cap: the file may have grown since fstat.
    const buf = Buffer.alloc(MAX_INVENTORY_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > MAX_INVENTORY_BYTES) fail(`more than the ${MAX_INVENTORY_BYTES}-byte limit for an inventory`);
    }
    return buf.toString('utf8', 0, n);
  } catch (e) {
    if (e instanceof InventoryError) throw e;
    return fail((e as Error).message);
  } finally {
    await fh.close();
  }
}

function fileKind(st: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** Validates inventory text; `file` is used in error messages and to choose JSON (`.json`) or YAML. */
export function parseInventory(text: string, file: string, opts: LoadOptions = {}): Inventory {
  let data: unknown;
  if (file.endsWith('.json')) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new InventoryError(file, [`invalid JSON: ${(e as Error).message}`]);
    }
  } else {
    const doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) throw new InventoryError(file, doc.errors.map((e) => `invalid YAML: ${e.message}`));
    try {
      data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    } catch (e) {
      // The yaml package throws a ReferenceError for too many alias expansions.
      throw new InventoryError(file, [`invalid YAML: ${(e as Error).message} (at most ${MAX_YAML_ALIASES} alias expansions)`]);
    }
  }
  if (data === null || data === undefined) throw new InventoryError(file, ['the file is empty (expected a map with "switches" and "vms")']);
  // reportInput: the issues keep the offending value, so a wrong type is told apart from a missing key.
  const parsed = inventorySchema.safeParse(data, { reportInput: true });
  if (!parsed.success) throw new InventoryError(file, parsed.error.issues.map(formatIssue));
  return resolve(parsed.data, file, opts);
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(top level)' : out;
}

const EXPECTED: Readonly<Record<string, string>> = {
  object: 'a map',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

/** How a found value is named in a message: its type, and the value when it is short. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'bigint') return `the number ${String(v)}`;
  if (typeof v === 'boolean') return `${v} (a boolean)`;
  return typeof v;
}

/** One zod issue as "path: what was expected, what was found" (zod's own texts omit the value). */
function formatIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key`).join('; ');
    case 'invalid_type': {
      if (issue.input === undefined) return `${where}: required`;
      return `${where}: expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}`;
    }
    case 'invalid_union': {
      // A branch that accepted the type but not the value says more than "wrong type".
      const deeper = issue.errors.flat().find((i) => i.code !== 'invalid_type' || i.path.length > 0);
      if (deeper !== undefined) return formatIssue({ ...deeper, path: [...issue.path, ...deeper.path], input: deeper.input ?? issue.input } as z.core.$ZodIssue);
      const types = [...new Set(issue.errors.flat().map((i) => (i.code === 'invalid_type' ? (EXPECTED[i.expected] ?? i.expected) : '')))].filter((x) => x !== '');
      return `${where}: expected ${types.join(' or ')}, got ${describeValue(issue.input)}`;
    }
    case 'custom':
      // Our own messages already quote the value.
      return `${where}: ${issue.message}`;
    default:
      return issue.input === undefined ? `${where}: ${issue.message}` : `${where}: ${issue.message}, got ${describeValue(issue.input)}`;
  }
}

type RawSettings = { depth?: Depth | undefined; idleTimeout?: number | undefined; depths?: readonly { depth: Depth; after: number }[] | undefined };

/**
 * A VM's depth ladder. The VM's own `depths` win; else its own `depth`/`idleTimeout`
 * make a one-rung ladder (what it leaves out comes from the defaults' first rung);
 * else the defaults' ladder; else the built-in one rung.
 */
function resolveLadder(v: RawSettings, d: RawSettings, defaultLadder: readonly Rung[] | undefined): readonly Rung[] {
  if (v.depths !== undefined) return v.depths.map((r) => ({ depth: r.depth, afterMs: r.after }));
  if (v.depth === undefined && v.idleTimeout === undefined && defaultLadder !== undefined) return defaultLadder;
  const first = defaultLadder?.[0];
  return [
    {
      depth: v.depth ?? d.depth ?? first?.depth ?? BUILTIN_DEFAULTS.depth,
      afterMs: v.idleTimeout ?? d.idleTimeout ?? first?.afterMs ?? BUILTIN_DEFAULTS.idleTimeoutMs,
    },
  ];
}

/** A ladder must go strictly deeper, each rung strictly later: a rung that does not would never be reached. */
function ladderIssues(ladder: readonly Rung[], where: string, owner: string): string[] {
  const issues: string[] = [];
  for (let i = 1; i < ladder.length; i++) {
    const prev = ladder[i - 1]!;
    const r = ladder[i]!;
    if (r.afterMs <= prev.afterMs) {
      issues.push(`${where}[${i}].after: ${owner}'s rung ${r.depth} after ${formatDuration(r.afterMs)} is not later than the rung before it (${prev.depth} after ${formatDuration(prev.afterMs)}); after must strictly increase`);
    }
    if (depthRank(r.depth) <= depthRank(prev.depth)) {
      issues.push(`${where}[${i}].depth: ${owner}'s rung ${r.depth} is not deeper than the rung before it (${prev.depth}); depths must go strictly deeper (pause < reclaim < save < shutdown)`);
    }
  }
  return issues;
}

type RawPolicy = NonNullable<RawInventory['vms'][number]['policy']>;

/** Which parameters each policy takes (docs/parking.md "Policies"). */
const POLICY_PARAMS: Readonly<Record<PolicySpec['name'], readonly string[]>> = {
  fixed: [],
  adaptive: ['window', 'minSamples'],
  predictive: ['threshold', 'minSamples', 'preWake', 'horizon', 'expect'],
  oracle: [],
};

/** A policy as the engine takes it; problems (a parameter of another policy, an oracle outside a replay) go to `issues`. */
function resolvePolicySpec(raw: RawPolicy, where: string, opts: LoadOptions, issues: string[]): PolicySpec {
  const spec: PolicySpec =
    typeof raw === 'string'
      ? { name: raw }
      : {
          name: raw.name,
          ...(raw.window !== undefined ? { window: raw.window } : {}),
          ...(raw.minSamples !== undefined ? { minSamples: raw.minSamples } : {}),
          ...(raw.threshold !== undefined ? { threshold: raw.threshold } : {}),
          ...(raw.preWake !== undefined ? { preWake: raw.preWake } : {}),
          ...(raw.horizon !== undefined ? { horizonMs: raw.horizon } : {}),
          ...(raw.expect !== undefined ? { expectMs: raw.expect } : {}),
        };
  for (const k of Object.keys(typeof raw === 'string' ? {} : raw)) {
    if (k !== 'name' && !POLICY_PARAMS[spec.name].includes(k)) {
      const owners = (Object.keys(POLICY_PARAMS) as PolicySpec['name'][]).filter((n) => POLICY_PARAMS[n].includes(k));
      issues.push(`${where}.${k}: policy ${spec.name} takes no ${k} (it is a parameter of ${owners.join(', ')})`);
    }
  }
  if (spec.name === 'adaptive' && spec.minSamples !== undefined && spec.minSamples > (spec.window ?? 64)) {
    issues.push(`${where}.minSamples: ${spec.minSamples} is more than the window of ${spec.window ?? 64} idle periods the adaptive policy keeps`);
  }
  if (spec.name === 'oracle' && opts.replay !== true) {
    issues.push(`${where}: the oracle policy knows the future of a replayed trace and runs only in \`seamless replay\`; the live controller cannot use it (choose fixed, adaptive or predictive)`);
  }
  return spec;
}

function resolve(raw: RawInventory, file: string, opts: LoadOptions): Inventory {
  const issues: string[] = [];
  const d = raw.defaults ?? {};
  const p = raw.park ?? {};
  const parkPolicy = p.policy === undefined ? undefined : resolvePolicySpec(p.policy, 'park.policy', opts, issues);
  const park: ParkSettings = {
    maxConcurrentOps: p.maxConcurrentOps ?? BUILTIN_PARK.maxConcurrentOps,
    probeIntervalMs: p.probeInterval ?? BUILTIN_PARK.probeIntervalMs,
    wakeRetries: p.wakeRetries ?? BUILTIN_PARK.wakeRetries,
    retryBackoffMs: p.retryBackoff ?? BUILTIN_PARK.retryBackoffMs,
    retryBackoffMaxMs: p.retryBackoffMax ?? BUILTIN_PARK.retryBackoffMaxMs,
    probeMac: p.probeMac ?? BUILTIN_PARK.probeMac,
    probeIp: p.probeIp ?? BUILTIN_PARK.probeIp,
    meterRate: p.meterRate ?? BUILTIN_PARK.meterRate,
    ...(p.pollInterval !== undefined ? { pollIntervalMs: p.pollInterval } : {}),
    ...(parkPolicy !== undefined ? { policy: parkPolicy } : {}),
  };
  // The machine's backoff is min(max, base * 2^n): a max below the base would make every retry wait less than the first.
  if (park.retryBackoffMaxMs < park.retryBackoffMs) {
    issues.push(`park.retryBackoffMax: ${park.retryBackoffMaxMs}ms is less than park.retryBackoff (${park.retryBackoffMs}ms)`);
  }

  const hosts = raw.hosts ?? [];
  const sinks = raw.sinks ?? [];
  const switchDpid = new Map<string, bigint>();
  const dupe = (what: string, seen: Map<string, string>, key: string, where: string): void => {
    const first = seen.get(key);
    if (first !== undefined) issues.push(`${where}: duplicate ${what} ${key} (also ${first})`);
    else seen.set(key, where);
  };
  const names = new Map<string, string>();
  const dpids = new Map<string, string>();
  raw.switches.forEach((s, i) => {
    dupe('name', names, s.name, `switches[${i}].name`);
    dupe('dpid', dpids, `0x${s.dpid.toString(16)}`, `switches[${i}].dpid`);
    switchDpid.set(s.name, s.dpid);
  });
  const macs = new Map<string, string>();
  const ips = new Map<string, string>();
  const ports = new Map<string, string>();
  const checkSwitch = (sw: string, where: string): void => {
    if (!switchDpid.has(sw)) issues.push(`${where}.switch: unknown switch "${sw}"`);
  };
  hosts.forEach((h, i) => {
    const w = `hosts[${i}]`;
    dupe('name', names, h.name, `${w}.name`);
    if (h.mac) dupe('MAC', macs, h.mac, `${w}.mac`);
    dupe('IP', ips, h.ip, `${w}.ip`);
    checkSwitch(h.switch, w);
    if (h.port !== undefined) dupe('port', ports, `${h.switch}/${h.port}`, `${w}.port`);
  });
  const sinkSwitch = new Map<string, string>();
  sinks.forEach((s, i) => {
    const w = `sinks[${i}]`;
    dupe('name', names, s.name, `${w}.name`);
    dupe('MAC', macs, s.mac, `${w}.mac`);
    dupe('IP', ips, s.ip, `${w}.ip`);
    checkSwitch(s.switch, w);
    dupe('port', ports, `${s.switch}/${s.port}`, `${w}.port`);
    sinkSwitch.set(s.name, s.switch);
  });
  const hypervisors = new Map<string, HypervisorSpec>();
  const hvByUri = new Map<string, HypervisorSpec>();
  const checkUri = (uri: string, where: string): void => {
    try {
      parseLibvirtUri(uri);
    } catch (e) {
      if (!(e instanceof LibvirtError)) throw e;
      issues.push(`${where}: ${e.message}`);
    }
  };
  (raw.hypervisors ?? []).forEach((h, i) => {
    const w = `hypervisors[${i}]`;
    if (hypervisors.has(h.name)) issues.push(`${w}.name: duplicate hypervisor ${h.name}`);
    // One connection per host: two names for one URI would split its concurrency bound in two.
    if (hvByUri.has(h.uri)) issues.push(`${w}.uri: ${h.uri} is also hypervisor ${hvByUri.get(h.uri)!.name}`);
    checkUri(h.uri, `${w}.uri`);
    if (h.switch !== undefined) {
      checkSwitch(h.switch, w);
      const other = [...hypervisors.values()].find((o) => o.switch === h.switch);
      // One host per switch: a VM seen on it must name one host to wake it through.
      if (other !== undefined) issues.push(`${w}.switch: switch ${h.switch} is also hypervisor ${other.name}'s`);
    }
    if (h.tls !== undefined && !/^[a-z][a-z0-9]*(\+tls)?:\/\/[^/]/.test(h.uri)) issues.push(`${w}.tls: ${h.uri} is not a TLS URI (qemu+tls://HOST/system); tls paths would be ignored`);
    const spec: HypervisorSpec = {
      name: h.name,
      uri: h.uri,
      tls: {
        ...(h.tls?.caCert !== undefined ? { caCert: h.tls.caCert } : {}),
        ...(h.tls?.clientCert !== undefined ? { clientCert: h.tls.clientCert } : {}),
        ...(h.tls?.clientKey !== undefined ? { clientKey: h.tls.clientKey } : {}),
      },
      maxConcurrentOps: h.maxConcurrentOps ?? park.maxConcurrentOps,
      connectTimeoutMs: h.connectTimeout ?? BUILTIN_HYPERVISOR.connectTimeoutMs,
      callTimeoutMs: h.callTimeout ?? BUILTIN_HYPERVISOR.callTimeoutMs,
      ...(h.switch !== undefined && switchDpid.has(h.switch) ? { switch: h.switch, dpid: switchDpid.get(h.switch)! } : {}),
    };
    hypervisors.set(h.name, spec);
    hvByUri.set(h.uri, spec);
  });
  /** The VM's host: the named hypervisor, the one with its URI, or an implicit one named by the URI. */
  const hostOf = (v: RawInventory['vms'][number], w: string): HypervisorSpec | undefined => {
    if (v.hypervisor !== undefined) {
      if (v.libvirt.uri !== undefined) issues.push(`${w}.libvirt.uri: give either hypervisor or libvirt.uri, not both (the URI is hypervisor ${v.hypervisor}'s)`);
      const h = hypervisors.get(v.hypervisor);
      if (h === undefined) issues.push(`${w}.hypervisor: unknown hypervisor "${v.hypervisor}"`);
      return h;
    }
    const uri = v.libvirt.uri;
    if (uri === undefined) {
      issues.push(`${w}.libvirt.uri: missing (or name the VM's host with hypervisor:)`);
      return undefined;
    }
    const known = hvByUri.get(uri);
    if (known !== undefined) return known;
    // Not checked here: inventories for replay and tests name hosts they never connect to;
    // the controller checks every URI it will use (vms[i].libvirt.uri) before connecting.
    const implicit: HypervisorSpec = { name: uri, uri, tls: {}, maxConcurrentOps: park.maxConcurrentOps, ...BUILTIN_HYPERVISOR };
    hvByUri.set(uri, implicit);
    return implicit;
  };
  const domains = new Map<string, string>();
  const power = raw.power;
  const hostPower = new Map<string, PowerOverride>();
  (power?.hosts ?? []).forEach((h, i) => {
    if (hostPower.has(h.uri)) issues.push(`power.hosts[${i}].uri: duplicate host ${h.uri}`);
    hostPower.set(h.uri, h);
  });
  if (d.depths !== undefined && (d.depth !== undefined || d.idleTimeout !== undefined)) {
    issues.push(`defaults.depths: give either depths or depth/idleTimeout (a one-rung ladder), not both`);
  }
  const defaultLadder = d.depths?.map((r) => ({ depth: r.depth, afterMs: r.after }));
  if (defaultLadder !== undefined) issues.push(...ladderIssues(defaultLadder, 'defaults.depths', 'defaults'));
  const vms: VmSpec[] = raw.vms.map((v, i) => {
    const w = `vms[${i}]`;
    const ladder = resolveLadder(v, d, defaultLadder);
    if (v.depths !== undefined) {
      if (v.depth !== undefined || v.idleTimeout !== undefined) issues.push(`${w}.depths: VM ${v.name} gives depths and depth/idleTimeout; give one (depth + idleTimeout is a one-rung ladder)`);
      issues.push(...ladderIssues(ladder, `${w}.depths`, `VM ${v.name}`));
    }
    dupe('name', names, v.name, `${w}.name`);
    dupe('MAC', macs, v.mac, `${w}.mac`);
    dupe('IP', ips, v.ip, `${w}.ip`);
    checkSwitch(v.switch, w);
    dupe('port', ports, `${v.switch}/${v.port}`, `${w}.port`);
    const host = hostOf(v, w);
    const uri = host?.uri ?? v.libvirt.uri ?? '';
    dupe('libvirt domain', domains, `${uri} ${v.libvirt.domain}`, `${w}.libvirt.domain`);
    const sink = v.sink ?? d.sink;
    if (sink !== undefined) {
      const field = v.sink !== undefined ? `${w}.sink` : `defaults.sink (for ${w})`;
      const ss = sinkSwitch.get(sink);
      if (ss === undefined) issues.push(`${field}: unknown sink "${sink}"`);
      // Park flows output ignored traffic straight to the sink's port: that port must be on the VM's
      // switch, unless a fabric forwards it there hop by hop (docs/parking.md#fabric).
      else if (ss !== v.switch && opts.fabric !== true) issues.push(`${field}: sink "${sink}" is on switch ${ss}, not on the VM's switch ${v.switch}`);
    }
    const ignore: IgnoreRule[] = (v.ignore ?? d.ignore ?? []).map((r) => ({
      ...(r.src !== undefined ? { src: r.src } : {}),
      ...(r.tcpDst !== undefined ? { tcpDst: r.tcpDst } : {}),
      ...(r.udpDst !== undefined ? { udpDst: r.udpDst } : {}),
    }));
    if (ignore.length > 0 && sink === undefined) issues.push(`${w}.ignore: ignored traffic needs a sink (set ${w}.sink or defaults.sink)`);
    const policy = v.policy !== undefined ? resolvePolicySpec(v.policy, `${w}.policy`, opts, issues) : parkPolicy;
    return {
      name: v.name,
      libvirt: { uri, domain: v.libvirt.domain },
      ...(host !== undefined ? { hypervisor: host.name } : {}),
      mac: v.mac,
      ip: v.ip,
      switch: v.switch,
      dpid: switchDpid.get(v.switch) ?? 0n,
      port: v.port,
      // The first rung, for everything that knows one depth and one idle timeout.
      depth: ladder[0]!.depth,
      idleTimeoutMs: ladder[0]!.afterMs,
      depths: ladder,
      ...(policy !== undefined ? { policy } : {}),
      minActiveMs: v.minActive ?? d.minActive ?? BUILTIN_DEFAULTS.minActiveMs,
      gatewayPorts: [...new Set(v.gatewayPorts ?? d.gatewayPorts ?? [])].sort((a, b) => a - b),
      ...(sink !== undefined ? { sink } : {}),
      ignore,
      maxHeld: v.maxHeld ?? d.maxHeld ?? BUILTIN_DEFAULTS.maxHeld,
      wakeTimeoutMs: v.wakeTimeout ?? d.wakeTimeout ?? BUILTIN_DEFAULTS.wakeTimeoutMs,
      ...((v.reclaimFallback ?? d.reclaimFallback ?? p.reclaimFallback) === 'pause' ? { reclaimFallback: 'pause' as const } : {}),
      power: mergeProfile(DEFAULT_POWER_PROFILE, power, hostPower.get(uri)),
    };
  });
  // The probe source is the controller's own identity on the VMs' network: if a
  // VM, sink or host owned it, the answer to a readiness probe would go to them.
  const probeIpOwner = ips.get(park.probeIp);
  if (probeIpOwner !== undefined) issues.push(`park.probeIp: ${park.probeIp} is also ${probeIpOwner}; the probe address must be free`);
  const probeMacOwner = macs.get(park.probeMac);
  if (probeMacOwner !== undefined) issues.push(`park.probeMac: ${park.probeMac} is also ${probeMacOwner}; the probe MAC must be the controller's own`);
  vms.forEach((v, i) => {
    // A cold-booted guest answers ARP before its services listen: its wake waits for a TCP
    // answer on a gateway port, sent from the probe address (docs/parking.md, "Readiness").
    if ((v.depths ?? [v]).some((r) => bootsCold(r.depth)) && v.gatewayPorts.length > 0 && park.probeIp === '0.0.0.0') {
      const field = (v.depths?.length ?? 1) > 1 ? 'depths' : 'depth';
      issues.push(`vms[${i}].${field}: shutdown with gatewayPorts needs park.probeIp set to a free address on the VM's subnet (the TCP readiness probe comes from it)`);
    }
  });
  if (issues.length > 0) throw new InventoryError(file, issues);
  return {
    file,
    switches: raw.switches.map((s) => ({ name: s.name, dpid: s.dpid })),
    hosts: hosts.map((h) => ({ name: h.name, ip: h.ip, switch: h.switch, ...(h.mac ? { mac: h.mac } : {}), ...(h.port !== undefined ? { port: h.port } : {}) })),
    sinks: sinks.map((s) => ({ name: s.name, switch: s.switch, dpid: switchDpid.get(s.switch) ?? 0n, port: s.port, mac: s.mac, ip: s.ip })),
    vms,
    // Only hosts some VM uses (an unused one would be connected to for nothing), or
    // hosts with a switch: a VM that appears on it is run by that host from then on.
    hypervisors: [...hvByUri.values()].filter((h) => h.switch !== undefined || vms.some((v) => v.libvirt.uri === h.uri)),
    park,
  };
}
