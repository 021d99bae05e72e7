// The L2 fabric against real switches: Mininet (OVS userspace datapath, OpenFlow
// 1.3) pointed at our controller, pingall must lose nothing, and the switches'
// flow tables must show our cookie and the metered table-miss.
import test from 'ava';
import { isAppCookie } from '../../controller/cookies.js';
import { startController } from '../../controller/daemon.js';
import { createL2App } from '../../controller/l2/app.js';
import { L2_FLOW_PRIORITY } from '../../controller/l2/learning.js';
import { createLogger } from '../../controller/log.js';
import { runMininet } from '../support/mininet.js';
import type { Flow } from '../support/ovs.js';

async function pingallWith(t: import('ava').ExecutionContext, topo: string, expectedSwitches: number) {
  const lines: string[] = [];
  const log = createLogger({ level: 'warn', format: 'text', sink: (l) => lines.push(l) });
  const l2 = createL2App({ log, packetInRate: 1000, idleTimeoutSec: 60 });
  const ctl = await startController({ listen: { host: '127.0.0.1', port: 0 }, apps: [l2], log });
  t.teardown(() => ctl.stop());
  const res = await runMininet({ topology: topo.startsWith('tree') ? 'topologies/tree.py' : 'topologies/linear.py', topo, controllerPort: ctl.address.port });
  t.log(`${topo}: ${res.pingall.received}/${res.pingall.sent} pairs, start ${res.seconds.start}s, connect ${res.seconds.connect}s, pingall ${res.seconds.pingall}s`);
  if (lines.length > 0) t.log(lines.join('\n'));
  t.true(res.allConnected, 'every switch reached the controller');
  t.is(res.switches.length, expectedSwitches);
  t.is(res.pingall.lossPercent, 0, JSON.stringify(res.pingall.results.filter((r) => !r.ok)));
  t.true(res.pingall.sent > 0);
  t.deepEqual(lines.filter((l) => l.includes('rejected')), [], 'no switch rejected any of our messages');
  for (const [sw, flows] of Object.entries(res.flows)) checkFlows(t, sw, flows);
  return res;
}

function checkFlows(t: import('ava').ExecutionContext, sw: string, flows: Flow[]): void {
  t.true(flows.length > 0, `${sw} has flows`);
  for (const f of flows) t.true(isAppCookie(f.cookie, 'l2'), `${sw}: flow without the L2 cookie: ${f.raw}`);
  const miss = flows.filter((f) => f.priority === 0);
  t.is(miss.length, 1, `${sw}: one table-miss`);
  t.is(miss[0]!.match, '');
  t.regex(miss[0]!.actions, /^meter:1,CONTROLLER:65535$/, `${sw}: the table-miss goes through meter 1 to the controller, unbuffered`);
  const learned = flows.filter((f) => f.priority === L2_FLOW_PRIORITY);
  t.true(learned.length > 0, `${sw}: learned flows after pingall`);
  for (const f of learned) {
    t.is(f.idleTimeout, 60, f.raw);
    t.regex(f.match, /in_port=\d+/, f.raw);
    t.regex(f.match, /dl_src=/, f.raw);
    t.regex(f.match, /dl_dst=/, f.raw);
    t.regex(f.actions, /^output:\d+$/, f.raw);
  }
}

test.serial('tree depth 2 fanout 2: pingall 0% loss through the L2 fabric', async (t) => {
  const res = await pingallWith(t, 'tree,depth=2,fanout=2', 3);
  t.is(res.hosts.length, 4);
});

test.serial('linear, 4 switches: pingall 0% loss through the L2 fabric', async (t) => {
  const res = await pingallWith(t, 'linear,switches=4', 4);
  t.is(res.hosts.length, 4);
});
