// A fake ControlSource with a tiny park/wake life cycle, and a server on a
// unix socket in a fresh temp dir, for the API and CLI tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { startApiServer, type ApiServer } from '../../../controller/api/server.js';
import { VmBusyError, VmNotFoundError } from '../../../controller/api/errors.js';
import type { CommandView, ControlSource, DaemonView, HypervisorView, LinksView, SwitchView, VmView } from '../../../controller/api/types.js';

const COUNTERS = { parks: 0, wakes: 0, parkFailures: 0, wakeFailures: 0, heldDropped: 0, arpAnswered: 0, icmpAnswered: 0, ignored: 0 };

export function vmView(name: string, over: Partial<VmView> = {}): VmView {
  return {
    name,
    state: 'active',
    step: 'none',
    since: Date.UTC(2025, 0, 2, 3, 4, 5),
    depth: 'save',
    depths: [{ depth: 'save', afterMs: 300_000 }],
    parkedDepth: null,
    domain: `dom-${name}`,
    hypervisor: 'hv1',
    switch: 's1',
    port: 10,
    held: 0,
    lastError: null,
    lastFailure: null,
    wakes: 0,
    lastWakeMs: null,
    lastTransition: null,
    lastProblem: null,
    counters: COUNTERS,
    memoryReleasedBytes: 0,
    energySavedJoules: 0,
    unprofitableParks: 0,
    lastPark: null,
    ...over,
  };
}

/**
 * VMs in a map. `park` moves an active VM to parking; `wake` moves a parked VM
 * to waking and, after `wakeMs` real milliseconds, to active (like the engine).
 */
export class FakeSource implements ControlSource {
  readonly vmsByName = new Map<string, VmView>();
  readonly calls: string[] = [];
  switchList: SwitchView[] = [];
  hypervisorList: HypervisorView[] = [];
  wakeMs = 30;

  constructor(vms: VmView[]) {
    for (const v of vms) this.vmsByName.set(v.name, v);
  }

  vms(): VmView[] {
    return [...this.vmsByName.values()];
  }

  vm(name: string): VmView {
    const v = this.vmsByName.get(name);
    if (!v) throw new VmNotFoundError(name, [...this.vmsByName.keys()]);
    return v;
  }

  async park(name: string): Promise<CommandView> {
    this.calls.push(`park ${name}`);
    const v = this.vm(name);
    if (v.state === 'parked') return { result: 'already', vm: v };
    if (v.state !== 'active') throw new VmBusyError(`${name} is ${v.state}: it can be parked once it is active`);
    const now = { ...v, state: 'parking' as const, step: 'flows' as const, since: Date.now() };
    this.vmsByName.set(name, now);
    return { result: 'started', vm: now };
  }

  async wake(name: string): Promise<CommandView> {
    this.calls.push(`wake ${name}`);
    const v = this.vm(name);
    if (v.state === 'active') return { result: 'already', vm: v };
    if (v.state === 'waking') return { result: 'in-progress', vm: v };
    const waking = { ...v, state: 'waking' as const, step: 'libvirt' as const, since: Date.now() };
    this.vmsByName.set(name, waking);
    setTimeout(() => {
      this.vmsByName.set(name, { ...waking, state: 'active', step: 'none', since: Date.now(), wakes: v.wakes + 1, lastWakeMs: this.wakeMs, port: 11 });
    }, this.wakeMs).unref();
    return { result: 'started', vm: waking };
  }

  hypervisors(): HypervisorView[] {
    return this.hypervisorList;
  }

  switches(): SwitchView[] {
    return this.switchList;
  }

  linkList: LinksView = { discovery: false, links: [] };
  links(): LinksView {
    return this.linkList;
  }

  daemon(): DaemonView {
    return { version: '0.1.0', startedAt: 1, vms: this.vmsByName.size, switches: this.switchList.length, store: { kind: 'redis', healthy: true, pendingWrites: 0 } };
  }
}

/** A fresh temp dir, removed when the test ends. */
export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'seamless-api-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The API server for `source` on `<tempdir>/api.sock`, closed when the test ends. */
export async function serveOnSocket(t: ExecutionContext, source: ControlSource): Promise<{ server: ApiServer; path: string }> {
  const path = join(await tempDir(t), 'run', 'api.sock');
  const server = await startApiServer({ address: { kind: 'unix', path }, source });
  t.teardown(() => server.close());
  return { server, path };
}
