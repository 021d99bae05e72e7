// A hung remote host (TCP accepted, then silence: a hung libvirtd or a TLS
// middlebox) fails its own operations within the connect timeout with an error
// naming it, and later ones fail fast while it is retried in the background;
// another host's operations meanwhile complete at once.
import net from 'node:net';
import test from 'ava';
import { LibvirtError } from '../../../controller/libvirt/errors.js';
import { RemoteHypervisor } from '../../../controller/libvirt/remote.js';
import { VirtualClock } from '../../../controller/clock.js';
import { FakeDaemon } from './fakeDaemon.js';
import { makeTestPki } from '../../support/pki.js';

async function silentHost(t: { teardown(fn: () => unknown): void }, accepted = { n: 0 }): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    accepted.n++;
    sockets.add(s); // accepts, never answers
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

for (const transport of ['tls', 'tcp'] as const) {
  test(`${transport}: a silent host fails within the connect timeout naming host and port; another host is not held`, async (t) => {
    const port = await silentHost(t);
    const d = new FakeDaemon();
    await d.start();
    // The dead host's timers run on virtual time: it stays pending, however slow the machine,
    // until the test moves its clock past the connect timeout.
    const clock = new VirtualClock(0);
    const dead = new RemoteHypervisor(`qemu+${transport}://127.0.0.1:${port}/system`, { connectTimeoutMs: 400, tls: makeTestPki(t), clock });
    const live = new RemoteHypervisor('qemu:///system', { socketPath: d.socketPath });
    t.teardown(async () => {
      const closing = dead.close();
      for (let i = 0; i < 20; i++) await clock.advance(100);
      await closing;
      await live.close();
      await d.dispose();
    });
    let deadSettled = false;
    const wake = dead.resume('vm1').finally(() => (deadSettled = true));
    wake.catch(() => undefined);
    // The live host answers while the dead host's call is pending.
    await live.suspend('vm1');
    t.deepEqual(await live.getState('vm1'), { state: 'paused', hasManagedSave: false });
    t.false(deadSettled, 'the dead host is still pending while the live one already answered');
    // Past the connect timeout (TCP connect, TLS handshake or RPC handshake, wherever it hangs).
    for (let i = 0; i < 100 && !deadSettled; i++) {
      await clock.advance(100);
      await new Promise((r) => setTimeout(r, 20));
    }
    const e = await t.throwsAsync(wake, { instanceOf: LibvirtError });
    t.is(e?.code, 'LIBVIRT_CONNECTION');
    t.regex(e?.message ?? '', new RegExp(`timed out after 400 ms .*127\\.0\\.0\\.1:${port} \\(${transport}\\)`));
  });
}

test('with a subscriber, a dead remote host is retried in the background and operations fail fast meanwhile', async (t) => {
  const accepted = { n: 0 };
  const port = await silentHost(t, accepted);
  const clock = new VirtualClock(0);
  const dead = new RemoteHypervisor(`qemu+tcp://127.0.0.1:${port}/system`, { connectTimeoutMs: 100, clock });
  t.teardown(async () => {
    const closing = dead.close(); // waits for the attempt in progress, which ends on virtual time
    for (let i = 0; i < 20; i++) await clock.advance(100);
    await closing;
  });
  dead.onConnection(() => undefined); // the park app subscribes: background reconnect
  await until(() => accepted.n === 1);
  await clock.advance(100); // the first attempt times out; a retry is scheduled 250 ms later
  const e = await t.throwsAsync(dead.getState('vm1'), { instanceOf: LibvirtError });
  t.regex(e?.message ?? '', /timed out after 100 ms .*127\.0\.0\.1:\d+ \(tcp\).* retried in the background/);
  t.is(accepted.n, 1, 'no connection of its own: it failed fast');
  await clock.advance(250); // the background retry
  await until(() => accepted.n === 2);
  t.is(accepted.n, 2, 'the background retry connects again');
});

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}
