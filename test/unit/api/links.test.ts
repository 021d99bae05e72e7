// GET /v1/links and `seamless switch links`: the live graph as the API and CLI show it.
import test from 'ava';
import type { PortInfo } from '../../../controller/app.js';
import { ApiClient } from '../../../controller/api/client.js';
import { createControlSource } from '../../../controller/api/source.js';
import { linksSummary } from '../../../controller/cli/vm-cmd.js';
import { TopologyGraph } from '../../../controller/topology/graph.js';
import { FakeSource, serveOnSocket } from './fakes.js';

const port = (sw: number, n: number): PortInfo => ({ portNo: n, name: `s${sw}-eth${n}`, hwAddr: '02:00:00:00:00:01', up: true });

function triangle(): { graph: TopologyGraph; datapaths: Map<bigint, { idHex: string; connected: boolean; ports: Map<number, PortInfo>; features: { nTables: number } }> } {
  const graph = new TopologyGraph();
  const datapaths = new Map();
  for (const d of [1, 2, 3]) {
    const ports = new Map([1, 2].map((n) => [n, port(d, n)]));
    datapaths.set(BigInt(d), { idHex: BigInt(d).toString(16).padStart(16, '0'), connected: true, ports, features: { nTables: 254 } });
    graph.switchUp(0, BigInt(d), ports.values());
  }
  graph.probeReceived(10, { dpid: 1n, port: 1 }, 2n, 2);
  graph.probeReceived(10, { dpid: 2n, port: 1 }, 3n, 2);
  graph.probeReceived(10, { dpid: 3n, port: 1 }, 1n, 2);
  return { graph, datapaths };
}

test('links view: both ends with port names, the tree marked, since in epoch ms', (t) => {
  const { graph, datapaths } = triangle();
  const src = createControlSource({ switches: { datapaths }, topology: graph, toEpoch: (x) => 1_000_000 + x });
  const v = src.links();
  t.true(v.discovery);
  t.deepEqual(
    v.links.map((l) => [`${l.a.portName}`, `${l.b.portName}`, l.tree, l.since]),
    [
      ['s1-eth1', 's2-eth2', true, 1_000_010],
      ['s1-eth2', 's3-eth1', true, 1_000_010],
      ['s2-eth1', 's3-eth2', false, 1_000_010],
    ],
  );
  t.is(v.links[0]!.a.dpid, '0000000000000001');
  t.deepEqual(createControlSource({ switches: { datapaths } }).links(), { discovery: false, links: [] });
});

test('GET /v1/links through the client, and the CLI text', async (t) => {
  const { graph, datapaths } = triangle();
  const real = createControlSource({ switches: { datapaths }, topology: graph });
  const src = new FakeSource([]);
  src.linkList = real.links();
  const { path } = await serveOnSocket(t, src);
  const got = await new ApiClient({ kind: 'unix', path }).links();
  t.deepEqual(got, src.linkList);
  const text = linksSummary(got);
  t.is(
    text,
    's1-eth1 (0000000000000001:1) <-> s2-eth2 (0000000000000002:2)  tree\n' +
      's1-eth2 (0000000000000001:2) <-> s3-eth1 (0000000000000003:1)  tree\n' +
      's2-eth1 (0000000000000002:1) <-> s3-eth2 (0000000000000003:2)  spare\n' +
      '3 links, 2 on the spanning tree\n',
  );
  t.regex(linksSummary({ discovery: false, links: [] }), /--fabric/);
  t.is(linksSummary({ discovery: true, links: [] }), 'no links discovered\n');
});
