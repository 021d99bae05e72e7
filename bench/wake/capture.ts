// Packet timestamps at the switch: tcpdump on the switch port the client is
// attached to (the host side of its veth) sees the client's SYN the moment it
// enters the switch and the SYN-ACK the moment it leaves towards the client,
// stamped by the kernel (microseconds, CLOCK_REALTIME). This is the honest
// "first SYN at the switch -> SYN-ACK at the client" interval; the client's own
// connect() time (client.ts) is the cross-check.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One handshake as seen on the wire, keyed by the client's source port. */
export interface Handshake {
  /** Epoch ms of every SYN from the client (more than one = retransmitted = lost). */
  syns: number[];
  /** Epoch ms of the first SYN-ACK towards the client. */
  synAck?: number;
}

export class CaptureError extends Error {
  readonly code = 'ERR_CAPTURE';
  constructor(message: string) {
    super(message);
    this.name = 'CaptureError';
  }
}

export interface SynCapture {
  /** The handshake of the connection from client port `sport`, if seen. */
  get(sport: number): Handshake | undefined;
  stop(): Promise<void>;
}

// 1700000000.123456 IP 10.0.0.1.40000 > 10.0.0.11.22: Flags [S], seq ...
const LINE = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): Flags \[(S|S\.)\]/;

/** Parses one `tcpdump -tt -nn` line into its SYN / SYN-ACK fields; undefined for anything else. */
export function parseSynLine(line: string): { t: number; src: string; sport: number; dst: string; dport: number; synAck: boolean } | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  return { t: Number(m[1]) * 1000, src: m[2]!, sport: Number(m[3]), dst: m[4]!, dport: Number(m[5]), synAck: m[6] === 'S.' };
}

/** Captures SYN and SYN-ACK packets between `clientIp` and `serverIp`:`port` on interface `iface` (root netns). */
export async function startSynCapture(iface: string, clientIp: string, serverIp: string, port: number): Promise<SynCapture> {
  const filter = `tcp and host ${clientIp} and host ${serverIp} and port ${port} and (tcp[tcpflags] & tcp-syn != 0)`;
  const child = spawn('tcpdump', ['-i', iface, '-nn', '-tt', '-l', '-U', '--time-stamp-precision=micro', '-s', '96', filter], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const byPort = new Map<number, Handshake>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    const p = parseSynLine(line);
    if (!p) return;
    if (!p.synAck && p.src === clientIp && p.dport === port) {
      const h = byPort.get(p.sport) ?? { syns: [] };
      h.syns.push(p.t);
      byPort.set(p.sport, h);
    } else if (p.synAck && p.dst === clientIp && p.sport === port) {
      const h = byPort.get(p.dport) ?? { syns: [] };
      h.synAck ??= p.t;
      byPort.set(p.dport, h);
    }
  });
  let stderr = '';
  const listening = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new CaptureError(`tcpdump on ${iface} exited ${code}: ${stderr.trim()}`)));
    setTimeout(() => reject(new CaptureError(`tcpdump on ${iface} did not start within 10 s: ${stderr.trim()}`)), 10_000).unref();
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  await listening;
  return {
    get: (sport) => byPort.get(sport),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const t = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
