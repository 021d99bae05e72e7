// The controller against a private Open vSwitch instance: its own ovsdb-server
// and ovs-vswitchd (files in a temp dir), with ovs-vswitchd in its own network
// namespace (the userspace datapath's 'ovs-netdev' tap device would clash with the
// system OVS's otherwise), reaching our listener over a veth pair. Private because
// these tests freeze the switch (SIGSTOP) and set its global SSL config; the
// system OVS is shared with other engineers' tests.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { startController, type Controller } from '../../controller/daemon.js';
import { createLogger } from '../../controller/log.js';
import { build, OFPCML_NO_BUFFER, OFPP_CONTROLLER } from '../../controller/openflow/index.js';
import { atExit, run } from '../support/exec.js';
import { parseDumpFlows } from '../support/ovs.js';

const log = createLogger({ level: process.env.SEAMLESS_TEST_LOG === '1' ? 'debug' : 'error' });

/** A private OVS: ovsdb-server + ovs-vswitchd (in namespace `ns`), controller reachable at `hostIp`. */
class IsolatedOvs {
  private removeExitHook: () => void = () => {};
  private constructor(
    readonly dir: string,
    readonly ns: string,
    /** Our side of the veth: the controller listens here. */
    readonly hostIp: string,
  ) {}

  static async start(t: ExecutionContext): Promise<IsolatedOvs> {
    const dir = await mkdtemp(join(tmpdir(), 'tslovs-'));
    const ns = `tslo${process.pid.toString(36)}${randomBytes(2).toString('hex')}`.slice(0, 12);
    // A random /30 in 10.213.0.0/16 so parallel runs do not collide.
    const base = randomInt(0, 16384) * 4;
    const hostIp = `10.213.${base >> 8}.${(base & 0xff) + 1}`;
    const swIp = `10.213.${base >> 8}.${(base & 0xff) + 2}`;
    const ovs = new IsolatedOvs(dir, ns, hostIp);
    ovs.removeExitHook = atExit(() => ovs.killSync());
    t.teardown(() => ovs.stop());
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['link', 'add', `${ns}a`, 'type', 'veth', 'peer', 'name', `${ns}b`]);
    await run('ip', ['link', 'set', `${ns}b`, 'netns', ns]);
    await run('ip', ['addr', 'add', `${hostIp}/30`, 'dev', `${ns}a`]);
    await run('ip', ['link', 'set', `${ns}a`, 'up']);
    await run('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${swIp}/30`, 'dev', `${ns}b`]);
    await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', `${ns}b`, 'up']);
    await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const env = { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir };
    await run('ovsdb-tool', ['create', join(dir, 'conf.db'), '/usr/share/openvswitch/vswitch.ovsschema']);
    await run('ovsdb-server', [
      join(dir, 'conf.db'), `--remote=punix:${join(dir, 'db.sock')}`, `--pidfile=${join(dir, 'ovsdb-server.pid')}`,
      `--unixctl=${join(dir, 'ovsdb-server.ctl')}`, '--detach', '--no-chdir', `--log-file=${join(dir, 'ovsdb-server.log')}`,
    ], { env });
    await ovs.vsctl('--no-wait', 'init');
    await run('ip', [
      'netns', 'exec', ns, 'ovs-vswitchd', `unix:${join(dir, 'db.sock')}`, `--pidfile=${join(dir, 'ovs-vswitchd.pid')}`,
      `--unixctl=${join(dir, 'ovs-vswitchd.ctl')}`, '--detach', '--no-chdir', `--log-file=${join(dir, 'ovs-vswitchd.log')}`,
    ], { env });
    return ovs;
  }

  vsctl(...args: string[]): Promise<string> {
    return run('ovs-vsctl', [`--db=unix:${join(this.dir, 'db.sock')}`, '--timeout=10', ...args]);
  }

  async dumpFlows(bridge: string): Promise<ReturnType<typeof parseDumpFlows>> {
    return parseDumpFlows(await run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', `unix:${join(this.dir, `${bridge}.mgmt`)}`]));
  }

  /** A netdev OpenFlow 1.3 bridge with a fixed datapath id. */
  async addBridge(dpid: bigint): Promise<string> {
    const name = `tslb${randomBytes(3).toString('hex')}`;
    await this.vsctl(
      'add-br', name, '--', 'set', 'bridge', name, 'datapath_type=netdev', 'protocols=OpenFlow13', 'fail_mode=secure',
      `other-config:datapath-id=${dpid.toString(16).padStart(16, '0')}`,
    );
    return name;
  }

  /** Points the bridge at `target` and makes OVS retry quickly after a disconnect. */
  async setController(bridge: string, target: string): Promise<void> {
    await this.vsctl('set-controller', bridge, target);
    await this.vsctl('set', 'controller', bridge, 'max_backoff=1000');
  }

  async vswitchdPid(): Promise<number> {
    return Number((await readFile(join(this.dir, 'ovs-vswitchd.pid'), 'utf8')).trim());
  }

  private pidSync(name: string): number | undefined {
    try {
      const n = Number(readFileSync(join(this.dir, `${name}.pid`), 'utf8').trim());
      return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  /** Last-resort cleanup at process exit: only our own daemons, by pid. */
  private killSync(): void {
    for (const name of ['ovs-vswitchd', 'ovsdb-server']) {
      const pid = this.pidSync(name);
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    try {
      execFileSync('ip', ['netns', 'del', this.ns], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  }

  async stop(): Promise<void> {
    const vswitchd = this.pidSync('ovs-vswitchd');
    if (vswitchd !== undefined) {
      try {
        process.kill(vswitchd, 'SIGCONT'); // in case a test froze it
      } catch {
        // Not running.
      }
    }
    await run('ovs-appctl', ['-t', join(this.dir, 'ovs-vswitchd.ctl'), 'exit', '--cleanup'], { timeoutMs: 10_000 }).catch(() => {});
    await run('ovs-appctl', ['-t', join(this.dir, 'ovsdb-server.ctl'), 'exit'], { timeoutMs: 10_000 }).catch(() => {});
    this.killSync(); // kills what did not exit, deletes the namespace (and with it the veth pair)
    this.removeExitHook();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function uniqueDpid(): bigint {
  return BigInt(`0x5f${randomBytes(6).toString('hex')}`);
}

test('echo timeout when the switch freezes (SIGSTOP), then the switch reconnects', async (t) => {
  const ovs = await IsolatedOvs.start(t);
  const ctl = await startController({ listen: { host: ovs.hostIp, port: 0 }, apps: [], log, echoIntervalMs: 300, echoTimeoutMs: 1000 });
  t.teardown(() => ctl.stop());
  const dpid = uniqueDpid();
  const bridge = await ovs.addBridge(dpid);
  const up = ctl.waitForSwitch(dpid, { timeoutMs: 20_000 });
  await ovs.setController(bridge, `tcp:${ovs.hostIp}:${ctl.address.port}`);
  const first = await up;

  // Idle but alive: our ECHO_REQUESTs are answered, so the connection survives several timeouts' worth of time.
  await new Promise((r) => setTimeout(r, 2500));
  t.true(first.connected, 'an idle switch that answers echoes stays up');

  const pid = await ovs.vswitchdPid();
  const down = ctl.waitForSwitchDown(dpid, { timeoutMs: 10_000 });
  const t0 = performance.now();
  process.kill(pid, 'SIGSTOP');
  try {
    t.is(await down, 'echo-timeout');
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const ms = performance.now() - t0;
  t.log(`frozen switch detected after ${ms.toFixed(0)} ms (echo interval 300 ms, timeout 1000 ms)`);
  t.true(ms >= 700 && ms < 2500, `detected in ${ms} ms`);
  t.false(first.connected);
  t.false(ctl.datapaths.has(dpid) && ctl.datapaths.get(dpid) === first);

  // After SIGCONT OVS notices the closed connection and reconnects: a new connection for the same dpid.
  const again = await ctl.waitForSwitch(dpid, { timeoutMs: 20_000 });
  t.not(again, first);
  t.true(again.connected);
  await again.barrier();
});

/** A CA, a controller cert, a switch cert, and a rogue CA with a client cert it signed. */
async function makeCerts(t: ExecutionContext): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'tslpki-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const p = (n: string): string => join(dir, n);
  const ossl = (...args: string[]): Promise<string> => run('openssl', args);
  const ca = async (name: string): Promise<void> => {
    await ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.crt`), '-days', '2', '-subj', `/CN=${name}`);
  };
  const leaf = async (name: string, caName: string): Promise<void> => {
    await ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${name}`);
    await ossl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${caName}.crt`), '-CAkey', p(`${caName}.key`), '-CAcreateserial', '-out', p(`${name}.crt`), '-days', '2');
  };
  await ca('ca');
  await ca('rogue-ca');
  await leaf('controller', 'ca');
  await leaf('switch', 'ca');
  await leaf('rogue', 'rogue-ca');
  const out: Record<string, string> = {};
  for (const n of ['ca', 'controller', 'switch', 'rogue', 'rogue-ca']) {
    out[`${n}.crt`] = p(`${n}.crt`);
    out[`${n}.key`] = p(`${n}.key`);
  }
  return out;
}

/** Connects a TLS client; resolves with whether any application data (a HELLO) arrived before the socket closed. */
function tryClient(host: string, port: number, opts: tls.ConnectionOptions): Promise<{ gotData: boolean; error: string | undefined }> {
  return new Promise((resolve) => {
    let gotData = false;
    let error: string | undefined;
    const s = tls.connect({ host, port, rejectUnauthorized: false, ...opts });
    const timer = setTimeout(() => s.destroy(), 5000);
    s.on('data', () => {
      gotData = true;
      s.destroy();
    });
    s.on('error', (e) => {
      error = e.message;
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ gotData, error });
    });
  });
}

test('mutual TLS: an OVS with a CA-signed cert connects; clients without a good cert are refused', async (t) => {
  const ovs = await IsolatedOvs.start(t);
  const pki = await makeCerts(t);
  const ctl: Controller = await startController({
    listen: { host: ovs.hostIp, port: 0 },
    tls: { certFile: pki['controller.crt']!, keyFile: pki['controller.key']!, caFile: pki['ca.crt']! },
    apps: [],
    log,
  });
  t.teardown(() => ctl.stop());
  await ovs.vsctl('set-ssl', pki['switch.key']!, pki['switch.crt']!, pki['ca.crt']!);
  const dpid = uniqueDpid();
  const bridge = await ovs.addBridge(dpid);
  const up = ctl.waitForSwitch(dpid, { timeoutMs: 20_000 });
  await ovs.setController(bridge, `ssl:${ovs.hostIp}:${ctl.address.port}`);
  const dp = await up;
  t.is(dp.features.datapathId, dpid);
  dp.send(build.flowMod({ cookie: 0x7153n, priority: 3, instructions: [build.applyActions(build.output(OFPP_CONTROLLER, OFPCML_NO_BUFFER))] }));
  await dp.barrier();
  const flows = await ovs.dumpFlows(bridge);
  t.true(flows.some((f) => f.cookie === 0x7153n && f.priority === 3), flows.map((f) => f.raw).join(' | '));

  // The same listener refuses a client whose cert another CA signed, and one with no cert at all.
  const rogue = await tryClient(ovs.hostIp, ctl.address.port, {
    cert: await readFile(pki['rogue.crt']!),
    key: await readFile(pki['rogue.key']!),
  });
  t.false(rogue.gotData, 'rogue client got no HELLO');
  const anonymous = await tryClient(ovs.hostIp, ctl.address.port, {});
  t.false(anonymous.gotData, 'client without a cert got no HELLO');
  t.log(`rogue: ${rogue.error ?? 'closed'}; no cert: ${anonymous.error ?? 'closed'}`);
  // A good client cert does get our HELLO (so the refusals above are about the certs).
  const good = await tryClient(ovs.hostIp, ctl.address.port, {
    cert: await readFile(pki['switch.crt']!),
    key: await readFile(pki['switch.key']!),
  });
  t.true(good.gotData, 'a CA-signed client gets HELLO');
  t.is(ctl.datapaths.size, 1);
});

test('unreadable TLS files are a SwitchConfigError', async (t) => {
  const e = await t.throwsAsync(
    startController({ listen: { host: '127.0.0.1', port: 0 }, tls: { certFile: '/nonexistent/c.pem', keyFile: '/nonexistent/k.pem', caFile: '/nonexistent/ca.pem' }, apps: [], log }),
  );
  t.is((e as { code?: string }).code, 'SWITCH_TLS_FILES');
});
