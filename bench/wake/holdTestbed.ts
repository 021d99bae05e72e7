// Holds the SEaMLESS testbed (test/support/testbed.ts) up for a shell script
// (mininet/demo.sh): starts it for an inventory against a controller that
// already listens, prints one line `TESTBED {"hosts":{...},"vms":{...}}`, and
// tears it down when stdin closes or on SIGTERM/SIGINT.
//
//   node dist/bench/wake/holdTestbed.js INVENTORY CONTROLLER_PORT [MEMORY_MIB]
import { loadInventory } from '../../controller/inventory/index.js';
import { startTestbed, type Testbed } from '../../test/support/testbed.js';

const [file, portArg, memArg] = process.argv.slice(2);
const port = Number(portArg);
const memoryMiB = Number(memArg ?? '128');
if (file === undefined || !Number.isInteger(port) || port < 1 || port > 65535 || !Number.isInteger(memoryMiB)) {
  process.stderr.write('usage: holdTestbed.js INVENTORY CONTROLLER_PORT [MEMORY_MIB]\n');
  process.exit(2);
}

let tb: Testbed | undefined;
let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await tb?.stop();
  }
  process.exit(code);
}
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

try {
  tb = await startTestbed(undefined, { inventory: await loadInventory(file), controllerPort: port, memoryMiB });
  const vms = Object.fromEntries(Object.entries(tb.vms).map(([n, v]) => [n, { domain: v.domain, ip: v.spec.ip, expectedBody: v.expectedBody }]));
  process.stdout.write(`TESTBED ${JSON.stringify({ switch: tb.switchName, hosts: tb.hosts, vms, seconds: tb.seconds })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void stop(0));
} catch (e) {
  process.stderr.write(`testbed failed: ${e instanceof Error ? e.message : String(e)}\n`);
  await stop(1);
}
