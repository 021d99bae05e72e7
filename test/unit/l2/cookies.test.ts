import test from 'ava';
import {
  ALL_SEAMLESS_COOKIES,
  appCookieMatch,
  CookieError,
  idCookieMatch,
  isAppCookie,
  makeCookie,
  parseCookie,
} from '../../../controller/cookies.js';

test('layout: 0x5EA1 tag, 8-bit app id, 40-bit app-specific id', (t) => {
  t.is(makeCookie('l2'), 0x5ea1_01_0000000000n);
  t.is(makeCookie('park', 0x12_3456_789an), 0x5ea1_02_123456789an);
  t.is(makeCookie(200, 1), 0x5ea1_c8_0000000001n);
});

test('the app mask selects all of one app and nothing of another', (t) => {
  const { cookie, cookieMask } = appCookieMatch('park');
  const sel = (c: bigint) => (c & cookieMask) === cookie;
  t.true(sel(makeCookie('park', 0)));
  t.true(sel(makeCookie('park', 0xff_ffff_ffffn)));
  t.false(sel(makeCookie('l2', 5)));
  t.false(sel(0x0000_02_0000000005n), 'a foreign cookie with the same low bits');
  t.true(isAppCookie(makeCookie('l2', 9), 'l2'));
  t.false(isAppCookie(makeCookie('l2', 9), 'park'));
  const one = idCookieMatch('park', 4);
  t.is((makeCookie('park', 4) & one.cookieMask) === one.cookie, true);
  t.is((makeCookie('park', 5) & one.cookieMask) === one.cookie, false);
  t.is((makeCookie('l2', 5) & ALL_SEAMLESS_COOKIES.cookieMask) === ALL_SEAMLESS_COOKIES.cookie, true);
});

test('parseCookie round-trips and rejects foreign cookies', (t) => {
  t.deepEqual(parseCookie(makeCookie('park', 77)), { app: 2, id: 77n });
  t.is(parseCookie(0n), undefined);
  t.is(parseCookie(0xffff_ffff_ffff_ffffn), undefined);
  t.is(parseCookie(0x5ea1_00_0000000001n), undefined, 'app 0 is reserved');
});

test('out-of-range ids and apps throw CookieError', (t) => {
  for (const f of [() => makeCookie('l2', -1n), () => makeCookie('l2', 1n << 40n), () => makeCookie(0), () => makeCookie(256)]) {
    const e = t.throws(f, { instanceOf: CookieError });
    t.is(e?.code, 'ERR_COOKIE');
  }
});
