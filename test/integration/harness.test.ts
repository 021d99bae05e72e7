// Proves the test harnesses work against the real Open vSwitch, real network
// namespaces and a real redis-server, so other integration tests can rely on them.
import test from 'ava';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { createBridge, destroyBridge, dumpFlows, ofctl, parseFlowLine, setController, delController, vsctl, type CommandError } from '../support/ovs.js';
import { addHost, ping, removeHost } from '../support/netns.js';
import { startRedis } from '../support/redis.js';
import { freePort, runMininet, startPeerController } from '../support/mininet.js';

test('parseFlowLine reads stats, flags, priority, match and actions as ovs-ofctl 3.1 prints them', (t) => {
  const f = parseFlowLine(
    ' cookie=0x12, duration=0.029s, table=1, n_packets=7, n_bytes=686, idle_timeout=30, hard_timeout=60, send_flow_rem priority=0 actions=drop',
  );
  t.is(f.cookie, 0x12n);
  t.is(f.table, 1);
  t.is(f.nPackets, 7);
  t.is(f.nBytes, 686);
  t.is(f.idleTimeout, 30);
  t.is(f.hardTimeout, 60);
  t.deepEqual(f.flags, ['send_flow_rem']);
  t.is(f.priority, 0);
  t.is(f.match, '');
  t.is(f.actions, 'drop');

  const g = parseFlowLine(' cookie=0x0, duration=0.07s, table=0, n_packets=0, n_bytes=0, priority=100,ip,nw_dst=10.0.0.1 actions=output:1');
  t.is(g.priority, 100);
  t.is(g.match, 'ip,nw_dst=10.0.0.1');
  t.is(g.actions, 'output:1');

  // No priority printed means OFP_DEFAULT_PRIORITY (0x8000), and an empty match.
  const h = parseFlowLine(' cookie=0x0, duration=0.05s, table=0, n_packets=0, n_bytes=0, actions=NORMAL');
  t.is(h.priority, 32768);
  t.is(h.match, '');
  t.is(h.actions, 'NORMAL');

  t.throws(() => parseFlowLine('cookie=0x0, table=0'), { message: /no actions=/ });
});

test('two namespace hosts on a secure bridge ping only once a NORMAL flow is installed', async (t) => {
  const br = await createBridge(t);
  const h1 = await addHost(t, br, 'h1', '10.71.0.1/24');
  const h2 = await addHost(t, br, 'h2', '10.71.0.2/24', '02:00:00:00:71:02');
  t.is(h2.mac, '02:00:00:00:71:02');
  t.not(h1.ofport, h2.ofport);
  t.deepEqual(await dumpFlows(br), [], 'a fail_mode=secure bridge starts with no flows');

  t.false(await ping(h1, h2.ip, { count: 1, timeoutSec: 1 }), 'no flow: traffic must be dropped');

  await ofctl('add-flow', br, 'cookie=0x5eed,priority=10,actions=NORMAL');
  t.true(await ping(h1, h2.ip, { count: 3 }), 'NORMAL flow: ping must pass');

  // OVS pulls datapath counters into OpenFlow rule stats in its revalidator
  // (about once a second), so the count can lag the ping: wait for it, bounded.
  let flows = await dumpFlows(br);
  for (let i = 0; i < 30 && (flows[0]?.nPackets ?? 0) < 6; i++) {
    await new Promise((r) => setTimeout(r, 100));
    flows = await dumpFlows(br);
  }
  t.is(flows.length, 1);
  const [f] = flows;
  t.is(f?.cookie, 0x5eedn);
  t.is(f?.priority, 10);
  t.is(f?.actions, 'NORMAL');
  // 3 echo requests + 3 replies at least, plus ARP.
  t.true((f?.nPackets ?? 0) >= 6, `n_packets=${f?.nPackets}`);
  t.true((f?.nBytes ?? 0) > 0);

  // exec runs inside the namespace: it sees its own eth0 address.
  t.regex(await h1.exec('ip', '-4', 'addr', 'show', 'eth0'), /10\.71\.0\.1\/24/);

  await removeHost(h2);
  t.false(existsSync(`/run/netns/${h2.ns}`));
});

test('controller target can be set and removed; destroyBridge deletes the bridge', async (t) => {
  const br = await createBridge(undefined, { controllerPort: 6999 });
  try {
    t.is((await vsctl('get-controller', br)).trim(), 'tcp:127.0.0.1:6999');
    await delController(br);
    t.is((await vsctl('get-controller', br)).trim(), '');
    await setController(br, 7001);
    t.is((await vsctl('get-controller', br)).trim(), 'tcp:127.0.0.1:7001');
    t.is((await vsctl('get', 'bridge', br, 'datapath_type')).trim(), 'netdev');
    t.is((await vsctl('get', 'bridge', br, 'fail_mode')).trim(), 'secure');
    t.is((await vsctl('get', 'bridge', br, 'protocols')).trim(), '[OpenFlow13]');
  } finally {
    await destroyBridge(br);
  }
  const err = await t.throwsAsync<CommandError>(vsctl('br-exists', br));
  t.is(err?.code, 'COMMAND_FAILED'); // br-exists exits 2 for a missing bridge
});

test('a private redis-server starts on a unix socket and answers PING', async (t) => {
  const server = await startRedis(t);
  const client = new Redis({ path: server.socketPath, lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  t.is(await client.ping(), 'PONG');
  await client.set('k', 'v');
  t.is(await client.get('k'), 'v');
  client.disconnect();
  await server.stop();
  t.false(existsSync(server.dir), 'stop removes the temp dir');
});

test('Mininet tree from topologies/ reaches a remote OF1.3 controller and pings all pairs', async (t) => {
  const peer = await startPeerController(t);
  const r = await runMininet({ topology: 'topologies/tree.py', topo: 'tree,depth=2,fanout=2', controllerPort: peer.port });
  t.true(r.allConnected);
  t.deepEqual(r.switches.map((s) => s.name).sort(), ['s1', 's2', 's3']);
  t.deepEqual(r.hosts.map((h) => h.ip), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
  t.is(r.pingall.sent, 12);
  t.is(r.pingall.received, 12, JSON.stringify(r.pingall.results.filter((x) => !x.ok)));
  for (const sw of ['s1', 's2', 's3']) {
    const flows = r.flows[sw] ?? [];
    // The peer's table-miss flow, installed over OpenFlow 1.3, carried the pings.
    t.is(flows.length, 1, sw);
    t.is(flows[0]?.cookie, 0x5ea1n);
    t.is(flows[0]?.priority, 0);
    t.true((flows[0]?.nPackets ?? 0) > 0);
  }
});

test('Mininet run with no controller listening reports unconnected switches and failed pings', async (t) => {
  const port = await freePort(); // nothing listens here
  const r = await runMininet({
    topology: 'topologies/linear.py',
    topo: 'linear,switches=2,hosts=1',
    controllerPort: port,
    connectTimeoutSec: 1,
    pingTimeoutSec: 1,
    pingTries: 1,
  });
  t.false(r.allConnected);
  t.true(r.switches.every((s) => !s.connected));
  t.is(r.pingall.sent, 2);
  t.is(r.pingall.received, 0);
  t.deepEqual(r.flows, { s1: [], s2: [] });
});
