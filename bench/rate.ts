/**
 * Calls per second of `fn` over about `ms` milliseconds, after a JIT warm-up of
 * 20 batches. Time is read once per batch so the clock does not dominate cheap calls.
 */
export function rate(fn: () => unknown, ms = 1000, batch = 1000): number {
  for (let i = 0; i < 20 * batch; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    elapsed = process.hrtime.bigint() - start;
  }
  return Math.round((n * 1e9) / Number(elapsed));
}
