/**
 * Who may talk to the console. Every request must name the right `Host` (a page on another
 * site that rebinds its DNS name to 127.0.0.1 sends its own name) and carry the token as the
 * first path segment; every POST must also come from the console's own page: its `Origin` is
 * the console's, it says so in `Sec-Fetch-Site` when the browser sends it, it repeats the token
 * in `X-Stipend-Token` (a header no other site can set without a CORS preflight, which the
 * console never grants) and it sends JSON.
 *
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What the guard needs of a request. */
export interface GuardedRequest {
  readonly method: string;
  /** The request target as sent (`/token/api/state?x=1`). */
  readonly target: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** The console's identity. */
export interface GuardConfig {
  readonly token: string;
  /**
   * `host:port` values the console answers to (lower-case), or `'any'` when it was exposed
   * beyond loopback on purpose (`allowRemote`). A POST's `Origin` must be `http://` + the
   * request's own `Host` either way.
   */
  readonly hosts: ReadonlySet<string> | 'any';
}

/** A request let through: the path after the token, and the query. */
export interface Admitted {
  readonly ok: true;
  /** `/`, `/api/state`, …; `''` for the bare `/<token>` (the page then redirects to `/<token>/`). */
  readonly path: string;
  readonly query: URLSearchParams;
}

/** A request refused, with the status and a short reason (never the token). */
export interface Refused {
  readonly ok: false;
  readonly status: 400 | 403 | 405 | 415;
  readonly reason: string;
}

/** The header the page repeats the token in on every POST. */
export const TOKEN_HEADER = 'x-stipend-token';

/**
 * A new random token: 32 bytes, base64url (43 characters).
 *
 * @example
 * ```ts
 * import { newToken } from './guard.js';
 * const token = newToken();
 * ```
 */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Checks a token chosen by the caller: at least 32 characters of `A-Z a-z 0-9 _ -`.
 *
 * @throws {TypeError} naming the `token` option when it is too short or has other characters.
 * @example
 * ```ts
 * import { checkToken } from './guard.js';
 * checkToken('a'.repeat(32));
 * ```
 */
export function checkToken(token: string): string {
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{32,256}$/.test(token)) {
    throw new TypeError(
      'startConsole: `token` must be 32 to 256 characters of A-Z, a-z, 0-9, _ and - (omit it to get a random one).',
    );
  }
  return token;
}

/**
 * Admits or refuses one request.
 *
 * @example
 * ```ts
 * import { guard } from './guard.js';
 * const config = { token, hosts: new Set(['127.0.0.1:4021']) };
 * const verdict = guard({ method: 'GET', target: `/${token}/api/state`, headers: { host: '127.0.0.1:4021' } }, config);
 * if (!verdict.ok) respond(verdict.status);
 * ```
 */
export function guard(request: GuardedRequest, config: GuardConfig): Admitted | Refused {
  const host = single(request.headers.host)?.toLowerCase();
  if (!host || (config.hosts !== 'any' && !config.hosts.has(host))) {
    return { ok: false, status: 403, reason: 'unknown Host' };
  }
  const target = request.target;
  if (!target.startsWith('/')) return { ok: false, status: 400, reason: 'bad request target' };
  const queryAt = target.indexOf('?');
  const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
  const slash = rawPath.indexOf('/', 1);
  const first = slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash);
  if (!sameSecret(first, config.token)) return { ok: false, status: 403, reason: 'no token' };
  const path = slash < 0 ? '' : rawPath.slice(slash);
  const query = new URLSearchParams(queryAt < 0 ? '' : target.slice(queryAt + 1));
  const method = request.method;
  if (method === 'GET' || method === 'HEAD') return { ok: true, path, query };
  if (method !== 'POST') return { ok: false, status: 405, reason: 'method not allowed' };

  const origin = single(request.headers.origin);
  if (!origin || origin.toLowerCase() !== `http://${host}`) {
    return { ok: false, status: 403, reason: 'cross-origin request' };
  }
  const site = single(request.headers['sec-fetch-site']);
  if (site !== undefined && site !== 'same-origin') {
    return { ok: false, status: 403, reason: 'cross-site request' };
  }
  if (!sameSecret(single(request.headers[TOKEN_HEADER]) ?? '', config.token)) {
    return { ok: false, status: 403, reason: 'no token header' };
  }
  const type = single(request.headers['content-type'])?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') return { ok: false, status: 415, reason: 'send JSON' };
  return { ok: true, path, query };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}

/** Compares in constant time (over fixed-length digests, so the length leaks nothing either). */
function sameSecret(given: string, token: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}
