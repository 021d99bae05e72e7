// Codec micro-benchmark: prints {"decodePacketIn", "encodeFlowMod", "encodePacketOut",
// "decodeAllVectors"} in messages per second on one core.
// Run: npm run build && node dist/bench/codec.js
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode, encode, build, OFPP_CONTROLLER } from '../controller/openflow/index.js';
import { rate } from './rate.js';


function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !existsSync(resolve(d, 'package.json')); i++) d = dirname(d);
  return d;
}

// A packet_in as OVS sends it for a table-miss: in_port match, 60-byte ARP-sized frame.
const packetIn = encode({
  type: 'packet_in',
  xid: 0,
  bufferId: 0xffffffff,
  totalLen: 60,
  reason: 0,
  tableId: 0,
  cookie: 0n,
  match: [{ field: 'in_port', value: 3 }],
  data: Buffer.alloc(60, 0xab),
});

const flowMod = build.flowMod({
  cookie: 0x5ea1e55n,
  priority: 100,
  idleTimeout: 60,
  match: build.match({ in_port: 1, eth_type: 0x0800, eth_dst: '02:00:00:00:00:01', ipv4_dst: '10.0.0.7' }),
  instructions: [build.applyActions(build.output(2))],
});

const packetOut = build.packetOut({
  inPort: OFPP_CONTROLLER,
  actions: [build.output(5)],
  data: Buffer.alloc(64, 0xcd),
});

const dir = resolve(repoRoot(), '..', 'shared', 'vectors', 'openflow13');
const vectors = readdirSync(dir)
  .filter((f) => f.endsWith('.packet'))
  .map((f) => readFileSync(resolve(dir, f)));

let sink = 0;
const result = {
  decodePacketIn: rate(() => {
    const m = decode(packetIn);
    if (m.type === 'packet_in') sink += m.data.length;
  }),
  encodeFlowMod: rate(() => (sink += encode(flowMod).length)),
  encodePacketOut: rate(() => (sink += encode(packetOut).length)),
  decodeAllVectors:
    rate(() => {
      for (const v of vectors) if (decode(v).xid === -1) sink++;
    }) * vectors.length,
};
if (sink < 0) console.error(sink); // keep the work observable
process.stdout.write(`${JSON.stringify(result)}\n`);
