// Holds the SEaMLESS testbed (test/support/testbed.ts) up for a shell script
// (mininet/demo.sh, mininet/demo-fabric.sh): starts it for an inventory against
// a controller on CONTROLLER_PORT, prints one line
// `TESTBED {"hosts":{...},"vms":{...},"links":[...]}`, and tears it down when
// stdin closes or on SIGTERM/SIGINT.
//
//   node dist/bench/wake/holdTestbed.js INVENTORY CONTROLLER_PORT [MEMORY_MIB]
//        [--spines s1,s2]        fabric mode: a leaf-spine of the inventory's switches
//        [--no-wait-connected]   READY without waiting for the switches to reach the
//                                controller (it starts after the testbed)
//
// While it runs, stdin lines are commands, each answered with one stdout line:
//   link A B down|up   ->  `LINK_OK A B down` or `LINK_FAILED <why>`
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { loadInventory } from '../../controller/inventory/index.js';
import { leafSpineLinks, startTestbed, type Testbed } from '../../test/support/testbed.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { spines: { type: 'string' }, 'no-wait-connected': { type: 'boolean', default: false } },
});
const [file, portArg, memArg] = positionals;
const port = Number(portArg);
const memoryMiB = Number(memArg ?? '128');
if (file === undefined || !Number.isInteger(port) || port < 1 || port > 65535 || !Number.isInteger(memoryMiB)) {
  process.stderr.write('usage: holdTestbed.js INVENTORY CONTROLLER_PORT [MEMORY_MIB] [--spines s1,s2] [--no-wait-connected]\n');
  process.exit(2);
}

let tb: Testbed | undefined;
let stopping: Promise<void> | undefined;
/** Tears down once; a second signal (Ctrl-C reaches the whole process group, then the demo's TERM) waits for the same teardown. */
async function stop(code: number): Promise<never> {
  stopping ??= (async () => {
    await tb?.stop();
  })();
  await stopping;
  process.exit(code);
}
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

async function command(line: string): Promise<string> {
  const m = /^link (\S+) (\S+) (down|up)$/.exec(line.trim());
  if (m === null) return `LINK_FAILED unknown command '${line.trim()}' (expected: link A B down|up)`;
  try {
    await tb!.setLink(m[1]!, m[2]!, m[3] === 'up');
    return `LINK_OK ${m[1]} ${m[2]} ${m[3]}`;
  } catch (e) {
    return `LINK_FAILED ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
  }
}

try {
  const spines = values.spines?.split(',').filter((s) => s !== '');
  // A fabric inventory may put a VM's sink on another leaf (controller --fabric forwards there).
  const inventory = await loadInventory(file, { fabric: spines !== undefined && spines.length > 0 });
  tb = await startTestbed(undefined, {
    inventory,
    controllerPort: port,
    memoryMiB,
    waitConnected: !values['no-wait-connected'],
    ...(spines !== undefined ? { links: leafSpineLinks(inventory, spines) } : {}),
  });
  const vms = Object.fromEntries(Object.entries(tb.vms).map(([n, v]) => [n, { domain: v.domain, ip: v.spec.ip, switch: v.spec.switch, expectedBody: v.expectedBody }]));
  process.stdout.write(`TESTBED ${JSON.stringify({ switch: tb.switchName, switches: tb.switches, links: tb.links, hosts: tb.hosts, vms, seconds: tb.seconds })}\n`);
  // One command at a time, in order; end of stdin tears down.
  let queue = Promise.resolve();
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    queue = queue.then(async () => {
      if (line.trim() !== '') process.stdout.write(`${await command(line)}\n`);
    });
  });
  rl.on('close', () => void queue.then(() => stop(0)));
} catch (e) {
  process.stderr.write(`testbed failed: ${e instanceof Error ? e.message : String(e)}\n`);
  await stop(1);
}
