// The table of subcommands. Each entry imports its module only when run.
import { register } from './dispatch.js';

register('version', 'print the seamless version', async () => async () => {
  process.stdout.write('seamless 0.1.0\n');
  return 0;
});
register('controller', 'run the OpenFlow controller (L2 fabric; parking with --config)', async () => (await import('./controller-cmd.js')).default);
register('ofp', 'decode/encode binary OpenFlow 1.3 messages to/from JSON lines', async () => (await import('./ofp-cmd.js')).default);
register('vm', 'list, inspect, park and wake VMs (client of the controller API)', async () => (await import('./vm-cmd.js')).default);
register('switch', 'list the switches connected to the controller, or the links between them', async () => (await import('./vm-cmd.js')).switchCommand);
register('hypervisor', 'list the hypervisor hosts and the state of their libvirt connections', async () => (await import('./vm-cmd.js')).hypervisorCommand);
register('report', 'turn a controller JSON log into an HTML run report (SVG plots)', async () => (await import('./report-cmd.js')).default);
register('replay', 'replay a flow trace through the park engine; replay synth makes one', async () => (await import('./replay-cmd.js')).default);
