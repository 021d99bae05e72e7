// One time scale for every process of the benchmark: milliseconds since the
// Unix epoch with sub-millisecond resolution. The controller (this process),
// the client timing program (another process, in the client's netns) and
// tcpdump (-tt, microseconds) all read CLOCK_REALTIME, so their stamps can be
// subtracted from one another.

/** Epoch milliseconds, microsecond resolution. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}
