// The client's timing program. It runs INSIDE the client's network namespace
// (`ip netns exec NS node dist/bench/wake/client.js`, or nsenter for a Mininet
// host) and opens TCP connections on request, so the time it reports is the
// client's own: connect() issued (the SYN leaves) -> connection established
// (the SYN-ACK arrived). It stays up between requests: starting Node costs
// ~100 ms, which must not sit inside a measurement.
//
// Protocol: one JSON request per stdin line, one JSON answer per stdout line.
//   request: {"id":1,"ip":"10.0.0.11","port":22,"timeoutMs":5000}
//   answer:  {"id":1,"ok":true,"t0":<epoch ms>,"ms":12.3,"localPort":40000}
//            {"id":1,"ok":false,"t0":...,"ms":5000,"error":"ETIMEDOUT"}
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { wallMs } from './clock.js';

/** One connect request. */
export interface ConnectRequest {
  id: number;
  ip: string;
  port: number;
  timeoutMs: number;
}

/** The answer to a ConnectRequest; `t0` is epoch ms (see clock.ts). */
export interface ConnectAnswer {
  id: number;
  ok: boolean;
  t0: number;
  ms: number;
  localPort?: number;
  error?: string;
}

function connectOnce(req: ConnectRequest): Promise<ConnectAnswer> {
  return new Promise((resolve) => {
    const t0 = wallMs();
    const sock = connect({ host: req.ip, port: req.port, noDelay: true });
    let done = false;
    const finish = (a: Omit<ConnectAnswer, 'id' | 't0' | 'ms'>) => {
      if (done) return;
      done = true;
      const ms = wallMs() - t0;
      clearTimeout(timer);
      if (!a.ok) {
        sock.destroy();
        resolve({ id: req.id, t0, ms, ...a });
        return;
      }
      // Close cleanly and answer only once both FINs are exchanged: a half-closed
      // connection whose FIN the guest has not acknowledged is retransmitted by the
      // client later, and that retransmission would wake the VM the benchmark just
      // parked. Bounded: after 3 s the socket is reset.
      const answer = () => resolve({ id: req.id, t0, ms, ...a });
      const closeTimer = setTimeout(() => sock.destroy(), 3000);
      sock.once('close', () => {
        clearTimeout(closeTimer);
        answer();
      });
      sock.resume(); // read (and drop) the guest's banner so nothing is left unread
      sock.end();
    };
    const timer = setTimeout(() => finish({ ok: false, error: 'ETIMEDOUT' }), req.timeoutMs);
    sock.once('connect', () => finish({ ok: true, ...(sock.localPort === undefined ? {} : { localPort: sock.localPort }) }));
    sock.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, error: e.code ?? e.message }));
  });
}

function isRequest(v: unknown): v is ConnectRequest {
  const r = v as Partial<ConnectRequest> | null;
  return (
    typeof r === 'object' && r !== null &&
    Number.isInteger(r.id) && typeof r.ip === 'string' &&
    Number.isInteger(r.port) && r.port! > 0 && r.port! < 65536 &&
    typeof r.timeoutMs === 'number' && r.timeoutMs > 0 && r.timeoutMs <= 60_000
  );
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  let req: unknown;
  try {
    req = JSON.parse(line);
  } catch {
    process.stdout.write(`${JSON.stringify({ id: -1, ok: false, t0: 0, ms: 0, error: `bad request: ${line.slice(0, 80)}` })}\n`);
    return;
  }
  if (!isRequest(req)) {
    process.stdout.write(`${JSON.stringify({ id: -1, ok: false, t0: 0, ms: 0, error: `bad request: ${line.slice(0, 80)}` })}\n`);
    return;
  }
  void connectOnce(req).then((a) => process.stdout.write(`${JSON.stringify(a)}\n`));
});
rl.on('close', () => process.exit(0));
process.stdout.write('{"ready":true}\n');
