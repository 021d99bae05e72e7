/**
 * `seamless controller`: runs the OpenFlow controller in the foreground until
 * SIGINT/SIGTERM. A thin shell over startController() (controller/daemon.ts):
 * it parses flags, builds the apps, and stops cleanly on a signal.
 */
import { parseArgs } from 'node:util';
import type { App } from '../app.js';
import { DEFAULT_API_SOCKET, formatApiAddress, parseApiAddress, type ApiAddress } from '../api/address.js';
import { ControlPlane } from '../api/plane.js';
import { startController, type Controller } from '../daemon.js';
import { InventoryError, loadInventory, type Inventory } from '../inventory/index.js';
import { checkReclaimSwap } from '../park/swap-check.js';
import { createL2App } from '../l2/app.js';
import { LibvirtError } from '../libvirt/errors.js';
import type { Hypervisor } from '../libvirt/hypervisor.js';
import { RemoteHypervisor } from '../libvirt/remote.js';
import { parseLibvirtUri } from '../libvirt/uri.js';
import { hypervisorsOf } from '../inventory/hosts.js';
import { createParkApp, systemClock, type VmStatus } from '../park/index.js';
import { MetricsAddressError, parseMetricsAddress, SeamlessMetrics, serveMetrics, type MetricsAddress, type MetricsServer } from '../metrics/index.js';
import { createLogger, parseLogLevel, type Logger, type LogLevel } from '../log.js';
import type { Command } from './dispatch.js';
import type { TopologyGraph } from '../topology/graph.js';

export const USAGE =
  'usage: seamless controller [--listen HOST:PORT] [--config FILE] [--tls-cert F --tls-key F --tls-ca F]\n' +
  '                           [--log-level debug|info|warn|error|silent] [--log-format json|text]\n' +
  '                           [--idle-timeout S] [--packet-in-rate N] [--redis URL] [--api PATH|HOST:PORT]\n' +
  '                           [--metrics [HOST:]PORT] [--fabric]\n';

const HELP = `${USAGE}
Runs the OpenFlow 1.3 controller until SIGINT or SIGTERM.

  --listen HOST:PORT    where switches connect (default 127.0.0.1:6653; [::1]:6653 for IPv6; port 0 = any free port)
  --config FILE         inventory (YAML or JSON) of VMs to park; without it only the L2 fabric runs
  --tls-cert/--tls-key/--tls-ca FILE
                        mutual TLS instead of plain TCP (all three together)
  --log-level L         default info
  --log-format F        json (default) or text
  --idle-timeout S      idle timeout of learned L2 flows, seconds (default 60; 0 = never)
  --packet-in-rate N    packet-ins per second per switch from the table-miss meter (default 1000; 0 = no meter)
  --redis URL           keep parked state in Redis (redis://HOST:PORT[/DB], rediss://..., unix:///PATH or /PATH);
                        without it a restart forgets which VMs are parked
  --api PATH|HOST:PORT  control API for \`seamless vm\` (default ${DEFAULT_API_SOCKET}; TCP: loopback only)
  --metrics [HOST:]PORT Prometheus metrics at http://HOST:PORT/metrics (PORT alone: 127.0.0.1; off when not given)
  --fabric              many switches with redundant links: LLDP topology discovery, broadcasts along a
                        spanning tree, unicast on shortest paths (\`seamless switch links\` shows the links)
`;

/** A bad flag or flag value: exit status 2 with the usage line. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ControllerArgs {
  listen: { host: string; port: number };
  config?: string;
  tls?: { certFile: string; keyFile: string; caFile: string };
  logLevel: LogLevel | 'silent';
  logFormat: 'json' | 'text';
  idleTimeoutSec?: number;
  packetInRate?: number;
  /** Redis URL/socket for parked state (docs/operations.md). */
  redis?: string;
  /** Control API address; absent = the default socket, skipped with a warning if another daemon holds it. */
  api?: ApiAddress;
  /** Where GET /metrics is served; absent = no metrics endpoint. */
  metrics?: MetricsAddress;
  /** LLDP discovery and the fabric-mode L2 app (docs/operations.md#fabric). */
  fabric: boolean;
  help: boolean;
}

/** Parses HOST:PORT, [V6]:PORT or :PORT (all interfaces). */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(s);
  if (m === null) throw new UsageError(`--listen: expected HOST:PORT, got '${s}'`);
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`--listen: port ${port} is out of range`);
  const host = m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!);
  return { host, port };
}

function intFlag(name: string, v: string | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) > max) throw new UsageError(`--${name}: expected an integer 0..${max}, got '${v}'`);
  return Number(v);
}

/** Parses the command's argv; throws UsageError on anything wrong. */
export function parseControllerArgs(argv: string[]): ControllerArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        listen: { type: 'string' },
        config: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        'idle-timeout': { type: 'string' },
        'packet-in-rate': { type: 'string' },
        redis: { type: 'string' },
        api: { type: 'string' },
        metrics: { type: 'string' },
        fabric: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const tlsParts = [values['tls-cert'], values['tls-key'], values['tls-ca']];
  const nTls = tlsParts.filter((v) => v !== undefined).length;
  if (nTls !== 0 && nTls !== 3) throw new UsageError('--tls-cert, --tls-key and --tls-ca go together');
  let logLevel: LogLevel | 'silent';
  try {
    logLevel = parseLogLevel(values['log-level'] ?? 'info');
  } catch (e) {
    throw new UsageError(`--log-level: ${(e as Error).message}`);
  }
  const logFormat = values['log-format'] ?? 'json';
  if (logFormat !== 'json' && logFormat !== 'text') throw new UsageError(`--log-format: expected json or text, got '${logFormat}'`);
  if (values.config === '') throw new UsageError('--config: empty path');
  const args: ControllerArgs = {
    listen: parseListen(values.listen ?? '127.0.0.1:6653'),
    logLevel,
    logFormat,
    fabric: values.fabric === true,
    help: values.help === true,
  };
  if (values.config !== undefined) args.config = values.config;
  if (nTls === 3) args.tls = { certFile: tlsParts[0]!, keyFile: tlsParts[1]!, caFile: tlsParts[2]! };
  const idle = intFlag('idle-timeout', values['idle-timeout'], 0xffff);
  if (idle !== undefined) args.idleTimeoutSec = idle;
  const rate = intFlag('packet-in-rate', values['packet-in-rate'], 0xffffffff);
  if (rate !== undefined) args.packetInRate = rate;
  if (values.redis !== undefined) {
    if (!/^(redis|rediss|unix):\/\/./.test(values.redis) && !values.redis.startsWith('/')) {
      throw new UsageError(`--redis: expected redis://HOST:PORT, rediss://..., unix:///PATH or /PATH, got '${values.redis}'`);
    }
    args.redis = values.redis;
  }
  if (values.api !== undefined) {
    try {
      args.api = parseApiAddress(values.api);
    } catch (e) {
      throw new UsageError(`--api: ${(e as Error).message}`);
    }
  }
  if (values.metrics !== undefined) {
    try {
      args.metrics = parseMetricsAddress(values.metrics);
    } catch (e) {
      if (!(e instanceof MetricsAddressError)) throw e;
      throw new UsageError(`--metrics: ${e.message}`);
    }
  }
  return args;
}

/**
 * Apps built from --config, which run before the L2 fabric (so packets for
 * parked VMs are never learned or flooded): the parking engine, with one
 * libvirt connection per distinct VM URI.
 */
async function configApps(loaded: Inventory | undefined, log: Logger, plane: ControlPlane, metrics: SeamlessMetrics | undefined, topology: TopologyGraph | undefined): Promise<App[]> {
  if (loaded === undefined) return [];
  // Depth reclaim needs swap on the VM's host: refused here (naming the VM) or fallen back to pause.
  const { inventory, warnings } = await checkReclaimSwap(loaded);
  for (const w of warnings) log.warn(w);
  const hypervisors = await connectHypervisors(inventory, log);
  const park = createParkApp({
    inventory,
    hypervisors: (uri) => hypervisors.get(uri) ?? new RemoteHypervisor(uri),
    clock: systemClock,
    ...(topology === undefined ? {} : { fabric: true, topology }),
    ...plane.parkOptions(), // parked-state store (Redis or memory) + wake times for the API
    log: plane.parkLog(log.child({ app: 'park' })), // its warnings become each VM's lastProblem in the API
    ...(metrics === undefined ? {} : { observer: metrics.park }),
  });
  plane.attachPark(park, inventory, (uri) => hypervisors.get(uri)?.connectionStatus?.());
  if (metrics !== undefined) {
    // Memory and energy per VM from the engine's own accounting (docs/energy.md), read at
    // scrape time. One status snapshot serves every VM of a metric's collect (status() builds
    // all VMs; a lookup per VM would make a scrape quadratic in the inventory), dropped once
    // that synchronous collect is over.
    let snapshot: Map<string, VmStatus> | undefined;
    const byName = (vm: string): VmStatus | undefined => {
      if (snapshot === undefined) {
        snapshot = new Map(park.status().map((s) => [s.name, s]));
        queueMicrotask(() => (snapshot = undefined));
      }
      return snapshot.get(vm);
    };
    const depthOf = new Map(inventory.vms.map((v) => [v.name, v.depth]));
    const hosts = hypervisorsOf(inventory);
    metrics.bind({
      vmPhases: () => park.status(),
      hypervisors: () => hosts.map((h) => ({ name: h.name, up: hypervisors.get(h.uri)?.connectionStatus?.().state === 'up' })),
      economics: {
        memoryReleasedBytes: (vm) => byName(vm)?.energy.memoryReleasedBytes ?? 0,
        energySavedJoules: (vm) => byName(vm)?.energy.energySavedJoules ?? 0,
        // Swap and zram figures count only while parked, like the memory released.
        memorySwappedBytes: (vm) => parkedLastPark(byName(vm))?.swappedBytes ?? 0,
        memoryCompressedBytes: (vm) => parkedLastPark(byName(vm))?.compressedBytes ?? 0,
        unprofitableParks: (vm, depth) => (depthOf.get(vm) === depth ? (byName(vm)?.energy.unprofitableParks ?? 0) : 0),
      },
    });
  }
  log.info('parking engine loaded', { config: inventory.file, vms: inventory.vms.length });
  // The engine closes only the connections it used; this closes every one opened here
  // (an open libvirt socket would keep the process alive after a signal). Apps stop
  // last first, so this runs after the park app stopped.
  const closer: App = {
    name: 'libvirt-connections',
    stop: async () => {
      await Promise.allSettled([...hypervisors.values()].map((h) => h.close()));
    },
  };
  return [closer, park];
}

/** The last park's measurement while the VM is not running (parked, waking, wake failed). */
function parkedLastPark(s: VmStatus | undefined): VmStatus['lastPark'] {
  return s === undefined || s.phase === 'active' || s.phase === 'parking' || s.phase === 'unknown' ? undefined : s.lastPark;
}

/**
 * Connects to libvirt once per hypervisor host of the inventory (its URI, TLS
 * files and timeouts), all hosts at once: a dead host costs start-up at most one
 * connect timeout and delays no other host. A URI the adapter cannot use is a
 * configuration error (InventoryError naming the field). A host that does not
 * answer yet is not fatal: the connection is retried in the background and on
 * each libvirt operation, and only that host's VMs' operations fail meanwhile.
 */
async function connectHypervisors(inventory: Inventory, log: Logger): Promise<Map<string, Hypervisor>> {
  const out = new Map<string, Hypervisor>();
  const issues: string[] = [];
  inventory.vms.forEach((vm, i) => {
    try {
      parseLibvirtUri(vm.libvirt.uri);
    } catch (e) {
      if (!(e instanceof LibvirtError)) throw e;
      issues.push(`vms[${i}].libvirt.uri: ${e.message}`);
    }
  });
  if (issues.length > 0) throw new InventoryError(inventory.file, issues);
  await Promise.all(
    hypervisorsOf(inventory).map(async (h) => {
      const hv = new RemoteHypervisor(h.uri, { tls: h.tls, connectTimeoutMs: h.connectTimeoutMs, callTimeoutMs: h.callTimeoutMs });
      out.set(h.uri, hv);
      try {
        await hv.connect();
        log.info('libvirt connected', { uri: h.uri, hypervisor: h.name });
      } catch (e) {
        log.error('libvirt not reachable; will retry in the background and on each operation', { uri: h.uri, hypervisor: h.name, err: e });
      }
    }),
  );
  return out;
}

/** The apps, in order, for parsed arguments. Throws for a bad inventory or bad L2 options. */
export async function buildApps(
  args: ControllerArgs,
  log: Logger,
  plane: ControlPlane = new ControlPlane({ log }),
  metrics?: SeamlessMetrics,
  /** The inventory already read from args.config (read here when absent). */
  loaded?: Inventory,
): Promise<App[]> {
  const inventory = loaded ?? (args.config === undefined ? undefined : await loadInventory(args.config, { fabric: args.fabric }));
  const l2Opts = {
    log: log.child({ app: 'l2' }),
    ...(metrics === undefined ? {} : { onPacketIn: metrics.l2PacketIn }),
    ...(args.idleTimeoutSec === undefined ? {} : { idleTimeoutSec: args.idleTimeoutSec }),
    ...(args.packetInRate === undefined ? {} : { packetInRate: args.packetInRate }),
  };
  if (!args.fabric) return [...(await configApps(inventory, log, plane, metrics, undefined)), createL2App(l2Opts)];
  // Loaded only with --fabric: the CLI's start-up (and its tests, run through tsx) stays as it was without it.
  const { createTopologyApp } = await import('../topology/app.js');
  const { createFabricL2App } = await import('../l2/fabric-app.js');
  // Topology first: LLDP packet-ins are consumed before the park engine or L2 see them.
  // The inventory's VM taps, host and sink ports face hosts: edge ports at once (a VM that
  // shows up on another switch must not wait for LLDP's classification to be reachable).
  const hostPorts = new Set<string>();
  for (const v of inventory?.vms ?? []) hostPorts.add(v.port);
  for (const h of [...(inventory?.hosts ?? []), ...(inventory?.sinks ?? [])]) if (typeof h.port === 'string') hostPorts.add(h.port);
  const topology = createTopologyApp({ log: log.child({ app: 'topology' }), clock: systemClock, hostPorts: (name) => hostPorts.has(name) });
  plane.attachTopology(topology.graph);
  const l2 = createFabricL2App({ ...l2Opts, topology: topology.graph, clock: systemClock });
  // The park engine in fabric mode: park entries on every switch, sinks reached along the graph.
  return [topology, ...(await configApps(inventory, log, plane, metrics, topology.graph)), l2];
}

/** Resolves on the first SIGINT or SIGTERM (then removes its handlers). */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

const command: Command = async (argv) => {
  let args: ControllerArgs;
  try {
    args = parseControllerArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`seamless controller: ${e.message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const log = createLogger({ level: args.logLevel, format: args.logFormat });
  let ctl: Controller | undefined;
  let plane: ControlPlane | undefined;
  let metricsServer: MetricsServer | undefined;
  try {
    plane = new ControlPlane({ ...(args.redis === undefined ? {} : { redis: args.redis }), log });
    // Read once: the metrics' label values (VM names, depths) are the engine's inventory.
    const inventory = args.config === undefined ? undefined : await loadInventory(args.config, { fabric: args.fabric });
    const metrics = args.metrics === undefined ? undefined : new SeamlessMetrics({ vms: inventory?.vms ?? [] });
    const apps = await buildApps(args, log, plane, metrics, inventory);
    ctl = await startController({
      listen: args.listen,
      ...(args.tls === undefined ? {} : { tls: args.tls }),
      apps,
      log,
      ...(metrics === undefined ? {} : { observer: metrics.connection }),
    });
    if (metrics !== undefined && args.metrics !== undefined) {
      const c = ctl;
      const p = plane;
      metrics.bind({ switchesConnected: () => c.datapaths.size, store: () => p.health() });
      c.on('switchDown', (_dp, reason) => metrics.switchDown(reason));
      metricsServer = await serveMetrics(metrics, args.metrics);
      const { host, port } = metricsServer.address;
      log.info('metrics served', { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics` });
    }
    await serveApi(plane, args, ctl, log);
  } catch (e) {
    await metricsServer?.close();
    await ctl?.stop();
    await plane?.stop();
    if (e instanceof InventoryError) {
      // A bad --config is a usage problem: every issue names the file and the field.
      process.stderr.write(`seamless controller: bad inventory (${e.code}):\n${e.message}\n`);
      return 2;
    }
    // Bad inventory, TLS files, or the address is taken: a message, not a stack.
    const code = (e as { code?: unknown }).code;
    process.stderr.write(`seamless controller: ${(e as Error).message}${typeof code === 'string' ? ` (${code})` : ''}\n`);
    return 1;
  }
  const stopped = untilSignal();
  const { host, port } = ctl.address;
  process.stdout.write(`seamless controller listening on ${host.includes(':') ? `[${host}]` : host}:${port}\n`);
  if (metricsServer !== undefined) {
    const m = metricsServer.address;
    process.stdout.write(`seamless controller metrics at http://${m.host.includes(':') ? `[${m.host}]` : m.host}:${m.port}/metrics\n`);
  }
  const sig = await stopped;
  log.info('signal received, stopping', { signal: sig });
  await metricsServer?.close();
  await ctl.stop();
  await plane.stop();
  return 0;
};

/**
 * Starts the control API. An explicit --api that cannot be served is fatal;
 * the default socket taken by another daemon (or not writable) only costs
 * this one its API, with a warning, so side-by-side controllers still run.
 */
async function serveApi(plane: ControlPlane, args: ControllerArgs, ctl: Controller, log: Logger): Promise<void> {
  const address = args.api ?? parseApiAddress(DEFAULT_API_SOCKET);
  try {
    await plane.serve(address, ctl);
  } catch (e) {
    if (args.api !== undefined) throw e;
    log.warn('control API not started: `seamless vm` cannot reach this controller', { address: formatApiAddress(address), err: e });
  }
}

export default command;
