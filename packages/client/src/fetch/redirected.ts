/**
 * A 402 that came after a redirect (issue 11, finding 7). The first send follows redirects
 * (fetch's default), so the origin that asks for payment may not be the one the app called,
 * and fetch may have changed the request on the way. The paid retry must carry only what
 * fetch itself sent to the origin that answered.
 *
 * @module
 */
import { RequestError } from '../errors/request.js';

/**
 * Headers fetch removes when a redirect crosses origins (the fetch standard removes
 * `Authorization`; undici, Node's fetch, also `Cookie`, `Proxy-Authorization` and `Host`).
 */
export const CROSS_ORIGIN_STRIPPED = Object.freeze([
  'authorization',
  'cookie',
  'proxy-authorization',
  'host',
]);

/**
 * The headers the paid retry may carry to `answered`, the URL whose 402 is being paid, when
 * the app asked for `requested`:
 *
 * - same origin: the app's headers as they are (the app meant them for this origin);
 * - another origin: without `Authorization`, `Cookie`, `Proxy-Authorization` (and `Host`),
 *   which fetch itself stripped on the way;
 * - redirected with a method other than GET or HEAD: refused (`REDIRECTED_CHALLENGE`), since
 *   a 301/302/303 may have turned it into a GET without its body and the response does not
 *   say which; the app should call the final URL directly.
 *
 * The app's `Headers` are never modified.
 *
 * @example
 * ```ts
 * import { retryHeadersFor } from './redirected.js';
 *
 * const answered = new URL(response.url || requested.href);
 * const decided = retryHeadersFor(requested, answered, appHeaders, 'GET', response.redirected);
 * if (!decided.ok) throw decided.error;
 * // decided.headers: what the paid retry sends to answered.origin (plus the proof headers)
 * ```
 */
export function retryHeadersFor(
  requested: URL,
  answered: URL,
  appHeaders: Headers,
  method: string,
  redirected: boolean,
): { ok: true; headers: Headers } | { ok: false; error: RequestError } {
  const upper = method.toUpperCase();
  if (answered.protocol !== 'https:' && answered.protocol !== 'http:') {
    return refused(requested, answered, upper, `it answered from a ${answered.protocol} URL`);
  }
  if (redirected && upper !== 'GET' && upper !== 'HEAD') {
    return refused(
      requested,
      answered,
      upper,
      `fetch followed a redirect, which may have turned the ${upper} into a GET without its body (301/302/303)`,
    );
  }
  const headers = new Headers(appHeaders);
  if (answered.origin !== requested.origin) {
    for (const name of CROSS_ORIGIN_STRIPPED) headers.delete(name);
  }
  return { ok: true, headers };
}

function refused(
  requested: URL,
  answered: URL,
  method: string,
  why: string,
): { ok: false; error: RequestError } {
  const final = `${answered.origin}${answered.pathname}`;
  return {
    ok: false,
    error: new RequestError(
      'REDIRECTED_CHALLENGE',
      `The 402 for ${method} ${requested.origin}${requested.pathname} came from ${final} after a redirect, and ${why}; nothing was paid. Call the final URL directly: payingFetch('${final}', …), with redirect: 'manual' on the first request if you need to see the redirect.`,
      {
        requestedOrigin: requested.origin,
        answeredOrigin: answered.origin,
        method,
      },
    ),
  };
}
