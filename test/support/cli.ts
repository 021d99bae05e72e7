// Runs the seamless CLI in-process (controller/cli/dispatch.ts runCli) with its
// stdout and stderr captured instead of printed: the exit code and both texts.
import { runCli } from '../../controller/cli/dispatch.js';

export async function runCliCaptured(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = process.stdout.write;
  const e = process.stderr.write;
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await runCli(argv), out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}
