// The park app's share of the 64-bit flow cookie space.
// TODO(cookies): switch to controller/cookies.ts (the project-wide prefix + per-app id) when it lands;
// the layout below keeps the app id (2) in the same place so flows stay recognisable.
/** Park is app 2. */
export const PARK_APP_ID = 2n;
/** High 16 bits: 0x5e ("seamless") + app id. */
export const PARK_APP_MASK = 0xffffn << 48n;

/** The park app's cookie with `local` (the low 48 bits: VM index and kind). */
export function parkAppCookie(local: bigint): bigint {
  return (0x5en << 56n) | (PARK_APP_ID << 48n) | (local & ((1n << 48n) - 1n));
}
