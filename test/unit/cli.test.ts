import test from 'ava';
import { runCli } from '../../controller/cli/dispatch.js';

test('unknown command exits 2', async (t) => {
  const write = process.stderr.write;
  process.stderr.write = () => true;
  try {
    t.is(await runCli(['no-such-command']), 2);
  } finally {
    process.stderr.write = write;
  }
});
