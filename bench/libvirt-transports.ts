// The cost of reaching libvirtd as a remote host (issue 12): the same real TCG
// guest suspended and resumed (park/wake at depth pause) through our adapter over
// the unix socket, plain TCP and TLS on loopback, plus connect time (TCP, TLS
// handshake, libvirtd's certificate verdict, RPC handshake) and one getState
// round trip. Loopback: what the transport itself costs, not a network.
//
//   npm run bench:libvirt-transports -- [--runs N]   (root; mininet/setup.sh done: TLS + TCP listeners)
//
// The last line on stdout is one JSON object. Every guest/bridge it makes is removed at exit.
import { parseArgs } from 'node:util';
import { RemoteHypervisor } from '../controller/libvirt/index.js';
import { createCleanups, startBenchGuest, timeMs as time } from './support.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 500) throw new RangeError('--runs must be 1..500');

const URIS = { unix: 'qemu:///system', tcp: 'qemu+tcp://127.0.0.1/system', tls: 'qemu+tls://localhost/system' } as const;

function stats(samples: number[]): { median: number; p90: number; min: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return { median: r(s[Math.floor(s.length / 2)]!), p90: r(s[Math.min(s.length - 1, Math.floor(s.length * 0.9))]!), min: r(s[0]!), max: r(s[s.length - 1]!) };
}

const cleanups = createCleanups();
try {
  const { guest } = await startBenchGuest(cleanups, { subnet: '10.94.0', label: 'bench-tr' });
  const result: Record<string, unknown> = { runs, guest: 'tiny TCG guest, 128 MiB', host: 'loopback' };
  for (const [transport, uri] of Object.entries(URIS)) {
    const connect: number[] = [];
    for (let i = 0; i < runs; i++) {
      const h = new RemoteHypervisor(uri);
      connect.push(await time(() => h.connect()));
      await h.close();
    }
    const hv = new RemoteHypervisor(uri);
    await hv.connect();
    await hv.getState(guest.name); // the domain handle is cached, as in the engine
    const getState: number[] = [];
    const suspend: number[] = [];
    const resume: number[] = [];
    for (let i = 0; i < runs; i++) {
      getState.push(await time(() => hv.getState(guest.name)));
      suspend.push(await time(() => hv.suspend(guest.name)));
      resume.push(await time(() => hv.resume(guest.name)));
    }
    await hv.close();
    result[transport] = { connectMs: stats(connect), getStateMs: stats(getState), suspendMs: stats(suspend), resumeMs: stats(resume) };
    process.stderr.write(`${transport}: done\n`);
  }
  console.log(JSON.stringify(result));
} finally {
  await cleanups.run();
}
