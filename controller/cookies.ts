/**
 * The cookie scheme: every flow seamless installs carries a 64-bit cookie that
 * says who owns it, so an app can delete or count exactly its own flows with a
 * cookie/cookie_mask pair (OF 1.3.5 §7.3.4.1: "cookie_mask ... restricts the
 * cookie bits that must match" on OFPFC_MODIFY* / OFPFC_DELETE*, and §7.3.5.2
 * for flow/aggregate stats requests) and never touches flows of another
 * controller or of a sibling app.
 *
 *   bits 63..48  0x5EA1        "seamless" tag
 *   bits 47..40  app id        l2 = 1, park = 2, topology = 3, ... (1..255; 0 is reserved)
 *   bits 39..0   app-specific  e.g. a VM index, 0 for app-wide flows
 */

/** High 16 bits of every seamless cookie. */
export const SEAMLESS_COOKIE_TAG = 0x5ea1n;

/** The app ids. Add new apps here so two apps can never share an id. */
export const CookieApp = {
  l2: 1,
  park: 2,
  topology: 3,
} as const;
export type CookieAppName = keyof typeof CookieApp;

const APP_SHIFT = 40n;
const TAG_SHIFT = 48n;
/** Largest app-specific id (40 bits). */
export const COOKIE_ID_MAX = (1n << APP_SHIFT) - 1n;
const TAG_MASK = 0xffffn << TAG_SHIFT;
const APP_MASK = 0xffn << APP_SHIFT;

/** A cookie that does not belong to the seamless scheme or an id out of range. */
export class CookieError extends Error {
  readonly code = 'ERR_COOKIE';
  constructor(message: string) {
    super(message);
    this.name = 'CookieError';
  }
}

function appNumber(app: CookieAppName | number): number {
  const n = typeof app === 'number' ? app : CookieApp[app];
  if (!Number.isInteger(n) || n < 1 || n > 0xff) throw new CookieError(`cookie app id must be 1..255, got ${String(app)}`);
  return n;
}

/** The cookie for a flow owned by `app`, with an app-specific `id` (0..2^40-1, default 0). */
export function makeCookie(app: CookieAppName | number, id: bigint | number = 0n): bigint {
  const big = BigInt(id);
  if (big < 0n || big > COOKIE_ID_MAX) throw new CookieError(`cookie id must be 0..2^40-1, got ${big}`);
  return (SEAMLESS_COOKIE_TAG << TAG_SHIFT) | (BigInt(appNumber(app)) << APP_SHIFT) | big;
}

/** cookie + cookie_mask selecting every flow of `app` (for OFPFC_DELETE and flow stats). */
export function appCookieMatch(app: CookieAppName | number): { cookie: bigint; cookieMask: bigint } {
  return { cookie: makeCookie(app, 0n), cookieMask: TAG_MASK | APP_MASK };
}

/** cookie + cookie_mask selecting the flows of `app` with exactly this `id`. */
export function idCookieMatch(app: CookieAppName | number, id: bigint | number): { cookie: bigint; cookieMask: bigint } {
  return { cookie: makeCookie(app, id), cookieMask: 0xffff_ffff_ffff_ffffn };
}

/** cookie + cookie_mask selecting every seamless flow, whatever the app. */
export const ALL_SEAMLESS_COOKIES = { cookie: SEAMLESS_COOKIE_TAG << TAG_SHIFT, cookieMask: TAG_MASK } as const;

/** Splits a cookie into app id and app-specific id; undefined when it is not a seamless cookie. */
export function parseCookie(cookie: bigint): { app: number; id: bigint } | undefined {
  if ((cookie & TAG_MASK) >> TAG_SHIFT !== SEAMLESS_COOKIE_TAG) return undefined;
  const app = Number((cookie & APP_MASK) >> APP_SHIFT);
  if (app === 0) return undefined;
  return { app, id: cookie & COOKIE_ID_MAX };
}

/** True when `cookie` is a seamless cookie owned by `app`. */
export function isAppCookie(cookie: bigint, app: CookieAppName | number): boolean {
  const m = appCookieMatch(app);
  return (cookie & m.cookieMask) === m.cookie;
}
