// Drain credentials (docs/http-api.md): HTTP Basic, user = app name, password =
// base64url(HMAC-SHA256(key = a secret, message = app name)) without padding,
// compared in constant time against every secret (the first signs; all verify, so
// keys rotate without breaking drains).

import { createHmac, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export const APP_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function drainPassword(secret: string, app: string): string {
  return createHmac('sha256', secret).update(app).digest('base64url');
}

export interface BasicCredentials {
  user: string;
  password: string;
}

/** The user and password of an `Authorization: Basic …` header, or null. */
export function basicCredentials(header: string | undefined): BasicCredentials | null {
  if (header === undefined || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sameBytes(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  // timingSafeEqual needs equal lengths; compare y with itself to spend the same time.
  return x.length === y.length ? timingSafeEqual(x, y) : (timingSafeEqual(y, y), false);
}

/** Apps whose drain passwords are kept, per list of secrets. */
export const KEPT_PASSWORDS = 4096;

/**
 * The drain passwords of recent apps, per list of secrets (the config's, made once at
 * start and never changed). An HMAC costs about 5 µs for every secret on every
 * request (bench/README.md; a drain request is ~150 µs). The passwords are a function
 * of the secrets and the app name alone, so keeping them changes no answer. Bounded:
 * made-up app names only push others out, each costing the HMACs it would anyway.
 */
const kept = new WeakMap<readonly string[], LRUCache<string, readonly string[]>>();

/** True when `password` is the drain password of `app` under any of the secrets. */
export function verifyDrain(secrets: readonly string[], app: string, password: string): boolean {
  let byApp = kept.get(secrets);
  if (byApp === undefined) {
    byApp = new LRUCache({ max: KEPT_PASSWORDS });
    kept.set(secrets, byApp);
  }
  let passwords = byApp.get(app);
  if (passwords === undefined) {
    passwords = secrets.map((secret) => drainPassword(secret, app));
    byApp.set(app, passwords);
  }
  let ok = false;
  for (const expected of passwords) if (sameBytes(password, expected)) ok = true;
  return ok;
}

/** True when the header carries `Bearer token` (token non-empty). */
export function verifyBearer(header: string | undefined, token: string): boolean {
  if (token === '' || header === undefined || !/^bearer /i.test(header)) return false;
  return sameBytes(header.slice(7).trim(), token);
}

/**
 * Who a reader of /metrics or the dashboard is: null for every app (the bearer
 * token; in a browser's Basic prompt, any user name with the token as password), an
 * app's name (Basic APP:PASSWORD), or undefined (refused). Open mode: every app.
 */
export function readerScope(open: boolean, authorization: string | undefined, secrets: readonly string[], metricsToken: string): string | null | undefined {
  if (open) return null;
  if (verifyBearer(authorization, metricsToken)) return null;
  const creds = basicCredentials(authorization);
  if (creds === null) return undefined;
  if (metricsToken !== '' && sameBytes(creds.password, metricsToken)) return null;
  if (APP_NAME.test(creds.user) && verifyDrain(secrets, creds.user, creds.password)) return creds.user;
  return undefined;
}
