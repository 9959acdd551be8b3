/**
 * The paid retry: sent once, to the origin that issued the challenge, carrying exactly what
 * fetch itself would send (invariant 4). Redirects are followed by hand with fetch's own rules
 * (the fetch standard's "HTTP-redirect fetch", as undici implements it), plus one of ours: the
 * proof headers never leave the paying origin.
 *
 * - only 301, 302, 303, 307 and 308 with a `Location` are redirects; at most 20 are followed;
 * - a `Location` that does not parse, is not http(s), or carries a user name or password
 *   ends the chain with a typed error (fetch fails there too);
 * - 301/302 after POST, and 303 after anything but GET/HEAD, continue as GET without a body
 *   and without the body headers (`Content-Type`, `Content-Encoding`, `Content-Language`,
 *   `Content-Location`, `Content-Length`); HEAD stays HEAD;
 * - a hop to another origin drops `Authorization`, `Cookie`, `Proxy-Authorization`, `Host`
 *   and the proof headers, for the rest of the chain (fetch mutates its header list: what
 *   was dropped is not sent again, even back on the first origin);
 * - `redirect: 'manual'` returns the redirect; `redirect: 'error'` ends with a typed error.
 *
 * @module
 */
import { RequestError } from '../errors/request.js';
import { withDeadline } from '../internal/deadline.js';
import { CROSS_ORIGIN_STRIPPED } from './redirected.js';

/** Fetch's redirect limit. */
export const MAX_REDIRECTS = 20;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Headers that describe a body; dropped with it (fetch's "request-body-header names"). */
const BODY_HEADERS = [
  'content-encoding',
  'content-language',
  'content-location',
  'content-type',
  'content-length',
];

/** What {@link sendPaidRetry} needs. */
export interface PaidRetry {
  readonly fetch: typeof fetch;
  /** The URL that answered 402; the proof is bound to its origin. */
  readonly url: URL;
  /** The prepared init (replayable body, signal, credentials…). */
  readonly init: RequestInit;
  /** The headers the retry may carry to `url` (see `retryHeadersFor`). */
  readonly headers: Headers;
  /** The proof headers from the adapter. */
  readonly proofHeaders: Readonly<Record<string, string>>;
  /**
   * Deadline for the whole paid send, every redirect hop included, until response headers
   * arrive (ms). Without it only `init.signal` can stop it.
   */
  readonly timeoutMs?: number;
}

/** What the paid retry got back. */
export interface PaidRetryResult {
  /** The paying origin's answer to the proof: read it for the payment outcome. */
  readonly first: Response;
  /** The last response received (after the redirects that were followed), for the caller. */
  readonly final: Response;
  /**
   * Set when following redirects stopped with an error after `first` arrived (a typed
   * `RequestError` `REDIRECT_NOT_FOLLOWED`, a `TIMEOUT`, a network error, the caller's abort).
   * Book the outcome of `first`, then throw this: fetch itself would have failed.
   */
  readonly error?: unknown;
}

/**
 * Sends the paid retry and follows its redirects as fetch would (see the module comment).
 * Throws only when the paying origin's own answer did not arrive (then the proof may have
 * reached it: the outcome is unknown).
 *
 * @example
 * ```ts
 * import { sendPaidRetry } from './retry.js';
 *
 * const { first, final, error } = await sendPaidRetry({
 *   fetch, url, init, headers, proofHeaders: { 'payment-signature': sig }, timeoutMs: 30_000,
 * });
 * const outcome = await adapter.settle(offer, proof, first);
 * if (error) throw error;
 * return final;
 * ```
 */
export async function sendPaidRetry(retry: PaidRetry): Promise<PaidRetryResult> {
  const parent = retry.init.signal ?? undefined;
  let first: Response | undefined;
  let last: Response | undefined;
  // Set when the call stopped waiting: a response that comes later is let go, and no
  // redirect of it is followed.
  let abandoned = false;
  try {
    return await withDeadline(
      () => {
        // Only the caller's own signal goes with the request (it is in `retry.init`): the
        // deadline ends the call without an AbortSignal per request, and a late response's
        // body is cancelled by `withDeadline`.
        const send = async (url: URL, init: RequestInit) => {
          const response = await retry.fetch(url.href, { ...init, redirect: 'manual' });
          if (abandoned) {
            response.body?.cancel().catch(() => {});
            throw new Error('abandoned: the paid request passed its deadline');
          }
          first ??= response;
          last = response;
          return response;
        };
        return follow(retry, send);
      },
      retry.timeoutMs ?? Number.POSITIVE_INFINITY,
      `The paid request to ${retry.url.origin}`,
      parent,
    );
  } catch (error) {
    abandoned = true;
    if (!first || !last) throw error;
    return { first, final: last, error };
  }
}

async function follow(
  retry: PaidRetry,
  send: (url: URL, init: RequestInit) => Promise<Response>,
): Promise<PaidRetryResult> {
  const headers = new Headers(retry.headers);
  for (const [name, value] of Object.entries(retry.proofHeaders)) headers.set(name, value);
  const mode = retry.init.redirect ?? 'follow';
  let method = (retry.init.method ?? 'GET').toUpperCase();
  let body = retry.init.body;
  let current = retry.url;

  const first = await send(current, { ...retry.init, method, headers });
  let response = first;
  for (let followed = 0; isRedirect(response); followed++) {
    if (mode === 'manual') break;
    const stop = (reason: string, message: string) => ({
      first,
      final: response,
      error: new RequestError('REDIRECT_NOT_FOLLOWED', message, {
        reason,
        origin: retry.url.origin,
        status: response.status,
      }),
    });
    if (mode === 'error') {
      return stop(
        'redirect_error_mode',
        `The paid request to ${retry.url.origin} was redirected and redirect is 'error'; the payment was sent, do not pay again. Use redirect: 'follow' or call the final URL.`,
      );
    }
    if (followed >= MAX_REDIRECTS) {
      return stop(
        'too_many_redirects',
        `The paid request to ${retry.url.origin} was redirected more than ${MAX_REDIRECTS} times (a loop?); the payment was sent, do not pay again. Ask the seller to fix the redirect.`,
      );
    }
    let next: URL;
    try {
      next = new URL(response.headers.get('location') ?? '', current);
    } catch {
      return stop(
        'invalid_location',
        `The paid request to ${retry.url.origin} was redirected to a Location that is not a URL; the payment was sent, do not pay again.`,
      );
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      return stop(
        'unsupported_scheme',
        `The paid request to ${retry.url.origin} was redirected to a ${next.protocol} URL, which fetch does not follow; the payment was sent, do not pay again.`,
      );
    }
    if (next.username !== '' || next.password !== '') {
      return stop(
        'credentials_in_location',
        `The paid request to ${retry.url.origin} was redirected to a URL with a user name or password, which is not followed; the payment was sent, do not pay again.`,
      );
    }
    const status = response.status;
    if (
      ((status === 301 || status === 302) && method === 'POST') ||
      (status === 303 && method !== 'GET' && method !== 'HEAD')
    ) {
      method = 'GET';
      body = undefined;
      for (const name of BODY_HEADERS) headers.delete(name);
    }
    if (body != null && !replayable(body)) {
      return stop(
        'body_not_replayable',
        `The paid request to ${retry.url.origin} was redirected with ${status} and its body is a stream that cannot be sent again; the payment was sent, do not pay again.`,
      );
    }
    if (next.origin !== current.origin) {
      for (const name of CROSS_ORIGIN_STRIPPED) headers.delete(name);
      for (const name of Object.keys(retry.proofHeaders)) headers.delete(name);
    }
    current = next;
    response = await send(current, { ...retry.init, method, body, headers: new Headers(headers) });
  }
  return { first, final: response };
}

function isRedirect(response: Response): boolean {
  return REDIRECT_STATUSES.has(response.status) && response.headers.has('location');
}

/** Bodies fetch can send again: everything but a stream. */
function replayable(body: BodyInit): boolean {
  return typeof ReadableStream === 'undefined' || !(body instanceof ReadableStream);
}

/** A signal that follows the caller's signal for the response's whole life, and the deadline. */
