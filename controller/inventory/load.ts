// Loads and validates an inventory file (YAML or JSON). Every error names the
// file and the field: `topologies/x.yaml: vms[1].mac: "52:54:zz" is not a MAC address`.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { inventorySchema, type RawInventory } from './schema.js';
import type { Depth, IgnoreRule, Inventory, ParkSettings, VmSpec } from './types.js';

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

/** Reads and validates an inventory file; `.json` is parsed as JSON, anything else as YAML. */
export async function loadInventory(file: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InventoryError(file, [`cannot read: ${(e as Error).message}`]);
  }
  return parseInventory(text, file);
}

/** Validates inventory text; `file` is used in error messages and to choose JSON (`.json`) or YAML. */
export function parseInventory(text: string, file: string): Inventory {
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
    data = doc.toJS();
  }
  const parsed = inventorySchema.safeParse(data);
  if (!parsed.success) throw new InventoryError(file, parsed.error.issues.map(formatIssue));
  return resolve(parsed.data, file);
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(top level)' : out;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key`).join('; ');
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${formatPath(issue.path)}: required`;
  return `${formatPath(issue.path)}: ${issue.message}`;
}

function resolve(raw: RawInventory, file: string): Inventory {
  const issues: string[] = [];
  const d = raw.defaults ?? {};
  const p = raw.park ?? {};
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
  };
  if (park.probeIntervalMs < 1) issues.push('park.probeInterval: must be at least 1ms');

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
  const domains = new Map<string, string>();
  const vms: VmSpec[] = raw.vms.map((v, i) => {
    const w = `vms[${i}]`;
    dupe('name', names, v.name, `${w}.name`);
    dupe('MAC', macs, v.mac, `${w}.mac`);
    dupe('IP', ips, v.ip, `${w}.ip`);
    checkSwitch(v.switch, w);
    dupe('port', ports, `${v.switch}/${v.port}`, `${w}.port`);
    dupe('libvirt domain', domains, `${v.libvirt.uri} ${v.libvirt.domain}`, `${w}.libvirt.domain`);
    const sink = v.sink ?? d.sink;
    if (sink !== undefined) {
      const field = v.sink !== undefined ? `${w}.sink` : `defaults.sink (for ${w})`;
      const ss = sinkSwitch.get(sink);
      if (ss === undefined) issues.push(`${field}: unknown sink "${sink}"`);
      // Park flows output ignored traffic straight to the sink's port: that port must be on the VM's switch.
      else if (ss !== v.switch) issues.push(`${field}: sink "${sink}" is on switch ${ss}, not on the VM's switch ${v.switch}`);
    }
    const ignore: IgnoreRule[] = (v.ignore ?? d.ignore ?? []).map((r) => ({
      ...(r.src !== undefined ? { src: r.src } : {}),
      ...(r.tcpDst !== undefined ? { tcpDst: r.tcpDst } : {}),
      ...(r.udpDst !== undefined ? { udpDst: r.udpDst } : {}),
    }));
    if (ignore.length > 0 && sink === undefined) issues.push(`${w}.ignore: ignored traffic needs a sink (set ${w}.sink or defaults.sink)`);
    return {
      name: v.name,
      libvirt: { uri: v.libvirt.uri, domain: v.libvirt.domain },
      mac: v.mac,
      ip: v.ip,
      switch: v.switch,
      dpid: switchDpid.get(v.switch) ?? 0n,
      port: v.port,
      depth: v.depth ?? d.depth ?? BUILTIN_DEFAULTS.depth,
      idleTimeoutMs: v.idleTimeout ?? d.idleTimeout ?? BUILTIN_DEFAULTS.idleTimeoutMs,
      minActiveMs: v.minActive ?? d.minActive ?? BUILTIN_DEFAULTS.minActiveMs,
      gatewayPorts: [...new Set(v.gatewayPorts ?? d.gatewayPorts ?? [])].sort((a, b) => a - b),
      ...(sink !== undefined ? { sink } : {}),
      ignore,
      maxHeld: v.maxHeld ?? d.maxHeld ?? BUILTIN_DEFAULTS.maxHeld,
      wakeTimeoutMs: v.wakeTimeout ?? d.wakeTimeout ?? BUILTIN_DEFAULTS.wakeTimeoutMs,
    };
  });
  vms.forEach((v, i) => {
    if (v.idleTimeoutMs < 1000) issues.push(`vms[${i}].idleTimeout: must be at least 1s (got ${v.idleTimeoutMs}ms)`);
    if (v.wakeTimeoutMs < 1) issues.push(`vms[${i}].wakeTimeout: must be positive`);
    // A cold-booted guest answers ARP before its services listen: its wake waits for a TCP
    // answer on a gateway port, sent from the probe address (docs/parking.md, "Readiness").
    if (v.depth === 'shutdown' && v.gatewayPorts.length > 0 && park.probeIp === '0.0.0.0') {
      issues.push(`vms[${i}].depth: shutdown with gatewayPorts needs park.probeIp set to a free address on the VM's subnet (the TCP readiness probe comes from it)`);
    }
  });
  if (issues.length > 0) throw new InventoryError(file, issues);
  return {
    file,
    switches: raw.switches.map((s) => ({ name: s.name, dpid: s.dpid })),
    hosts: hosts.map((h) => ({ name: h.name, ip: h.ip, switch: h.switch, ...(h.mac ? { mac: h.mac } : {}), ...(h.port !== undefined ? { port: h.port } : {}) })),
    sinks: sinks.map((s) => ({ name: s.name, switch: s.switch, dpid: switchDpid.get(s.switch) ?? 0n, port: s.port, mac: s.mac, ip: s.ip })),
    vms,
    park,
  };
}
