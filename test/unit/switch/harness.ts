// A SwitchConnection on a fake socket and clock, with everything it reports recorded.
import type { DisconnectReason, Msg } from '../../../controller/app.js';
import { createLogger } from '../../../controller/log.js';
import { SwitchConnection, type ConnectionConfig, type ConnectionObserver } from '../../../controller/switch/connection.js';
import { VirtualClock } from '../../../controller/clock.js';
import { featuresReply, port } from '../../support/switch-fakes.js';
import { FakeSocket, tick } from './fakes.js';

export const DPID = 0x0000_0000_0000_abcdn;

export interface Harness {
  conn: SwitchConnection;
  sock: FakeSocket;
  clock: VirtualClock;
  ups: number;
  downs: [DisconnectReason, boolean][];
  packetIns: Msg<'packet_in'>[];
  portStatuses: { msg: Msg<'port_status'>; portsSeen: number[] }[];
  flowRemoved: Msg<'flow_removed'>[];
  errors: Msg<'error'>[];
  logs: Record<string, unknown>[];
}

/** `observer` (metrics) is passed to the connection like the registry does. */
export type HarnessConfig = ConnectionConfig & { observer?: ConnectionObserver };

export function harness(config: HarnessConfig = {}, sock = new FakeSocket(), clock = new VirtualClock(1_000_000)): Harness {
  const logs: Record<string, unknown>[] = [];
  const h: Harness = {
    sock,
    clock,
    ups: 0,
    downs: [],
    packetIns: [],
    portStatuses: [],
    flowRemoved: [],
    errors: [],
    logs,
    conn: undefined as unknown as SwitchConnection,
  };
  h.conn = new SwitchConnection({
    ...config,
    socket: sock,
    clock,
    log: createLogger({ level: 'debug', sink: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) }),
    events: {
      up: () => void (h.ups += 1),
      down: (_c, reason, wasUp) => void h.downs.push([reason, wasUp]),
      packetIn: (_c, msg) => void h.packetIns.push(msg),
      portStatus: (c, msg) => void h.portStatuses.push({ msg, portsSeen: [...c.ports.keys()] }),
      flowRemoved: (_c, msg) => void h.flowRemoved.push(msg),
      error: (_c, msg) => void h.errors.push(msg),
    },
  });
  return h;
}

export const PORTS = [port(1, 'eth1'), port(2, 'eth2', { linkDown: true }), port(0xfffffffe, 'br0', { down: true })];

/** Plays a switch through the whole handshake; returns the harness in UP. */
export async function up(config: HarnessConfig = {}, sock?: FakeSocket, clock?: VirtualClock, dpid = DPID): Promise<Harness> {
  const h = harness(config, sock, clock);
  h.conn.start();
  await tick();
  h.sock.takeOne('hello');
  h.sock.feed({ type: 'hello', xid: 7, elements: [{ type: 'versionbitmap', versions: [1, 4] }] });
  await tick();
  const fr = h.sock.takeOne('features_request');
  h.sock.feed(featuresReply(fr.xid, dpid));
  await tick();
  const pd = h.sock.take().find((m) => m.type === 'multipart_request')!;
  h.sock.feed({ type: 'multipart_reply', xid: pd.xid, flags: 0, body: { mpType: 'port_desc', ports: PORTS } });
  await tick();
  if (h.conn.state !== 'UP') throw new Error(`handshake did not complete: ${h.conn.state}`);
  return h;
}

