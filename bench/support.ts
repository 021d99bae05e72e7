// What every benchmark that builds real things (bridges, guests, testbeds,
// controllers) needs: a list of clean-ups undone in reverse, each step's failure
// reported and the rest still run; a stopwatch; and the small libvirt guest on
// its own OVS bridge (with a client namespace) that the libvirt benchmarks share.
import type { Teardown } from '../test/support/exec.js';
import { createGuest, createNetnsHost, waitForHttp, type Guest, type NetnsHost } from '../test/support/guest.js';
import { createBridge } from '../test/support/ovs.js';

export interface Cleanups extends Teardown {
  /** The steps, in the order they were set up (callers may push, or hand the array on). */
  readonly list: Array<() => unknown>;
  /**
   * Undoes the steps after the first `from` (default: all), last first. A failing
   * step is reported on stderr and the others still run: a half-built testbed must
   * not be left behind because one teardown threw.
   */
  run(from?: number): Promise<void>;
}

export function createCleanups(): Cleanups {
  const list: Array<() => unknown> = [];
  return {
    list,
    teardown: (fn) => void list.push(fn),
    async run(from = 0): Promise<void> {
      for (const fn of list.splice(from).reverse()) {
        try {
          await fn();
        } catch (e) {
          process.stderr.write(`cleanup: ${e instanceof Error ? e.message : String(e)}\n`);
        }
      }
    },
  };
}

/** How long `fn` took, ms. */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export interface BenchGuest {
  bridge: string;
  guest: Guest;
}

/** The tiny guest on a fresh standalone OVS bridge, at `subnet`.11. */
export async function startBenchGuest(t: Teardown, o: { subnet: string; label: string; memoryMiB?: number }): Promise<BenchGuest> {
  const bridge = await createBridge(t, { failMode: 'standalone' });
  const guest = await createGuest(t, { bridge, ip: `${o.subnet}.11/24`, label: o.label, ...(o.memoryMiB === undefined ? {} : { memoryMiB: o.memoryMiB }) });
  return { bridge, guest };
}

export interface ServedBenchGuest extends BenchGuest {
  /** A client namespace on the bridge, at `subnet`.1. */
  host: NetnsHost;
  /** The guest's HTTP service, answered once before this returns. */
  url: string;
}

/** startBenchGuest, plus a client namespace that has fetched the guest's page once (within `httpTimeoutMs`). */
export async function startServedBenchGuest(t: Teardown, o: { subnet: string; label: string; memoryMiB?: number; httpTimeoutMs: number }): Promise<ServedBenchGuest> {
  const { bridge, guest } = await startBenchGuest(t, o);
  const host = await createNetnsHost(t, bridge, `${o.subnet}.1/24`);
  const url = `http://${guest.ip}/`;
  await waitForHttp(host, url, o.httpTimeoutMs);
  return { bridge, guest, host, url };
}
