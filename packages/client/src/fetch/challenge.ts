import { readTextBounded } from '../internal/body-text.js';
import { isDeadlineError } from '../internal/deadline.js';
import type { ChallengeInput, SentRequest } from '../protocols/adapter.js';
import { parseWwwAuthenticateLenient } from '../protocols/www-authenticate.js';
import type { PreparedRequest } from './body.js';
import { retryHeadersFor } from './redirected.js';

/** How the 402 body is read: its deadline and the caller's signal. */
export interface ChallengeRead {
  /** How long reading the 402 body may take, in ms. Default 10 s (`readTextBounded`'s). */
  readonly deadlineMs?: number;
  /** The caller's signal: aborting it stops the read. */
  readonly signal?: AbortSignal;
  /**
   * The request as prepared for sending (its replayable body): with it, `input.request()`
   * gives adapters the exact request the paid retry will send (x402 `lnbtc` binds it).
   */
  readonly prepared?: Pick<PreparedRequest, 'init' | 'replayable'>;
}

/**
 * Builds the shared, read-once view of a 402 response that every adapter reads. The body
 * is read from a clone, lazily, at most once, bounded in bytes (`bodyCap`) and in time
 * (`read.deadlineMs`); the caller still gets the original. A body past the cap or unreadable
 * reads as `undefined`; a body past its deadline rejects with a `StipendError` `TIMEOUT` (so
 * a 402 whose terms are in a body that never ends fails with a typed error, never hangs).
 *
 * @example
 * ```ts
 * import { challengeInput } from './challenge.js';
 * const { input } = challengeInput(response, url, 'GET', Date.now(), 64 * 1024, { deadlineMs: 30_000, signal });
 * const text = await input.bodyText();
 * ```
 */
export function challengeInput(
  response: Response,
  requestUrl: string,
  method: string,
  now: number,
  bodyCap: number,
  read: ChallengeRead = {},
): { input: ChallengeInput; headerErrors: readonly string[] } {
  const header = response.headers.get('www-authenticate');
  let challenges: ChallengeInput['challenges'] = [];
  let headerErrors: readonly string[] = [];
  if (header) {
    const parsed = parseWwwAuthenticateLenient(header);
    challenges = parsed.challenges;
    headerErrors = parsed.errors.map((error) => error.message);
  }
  let body: Promise<string | undefined> | undefined;
  const input: ChallengeInput = {
    status: response.status,
    headers: response.headers,
    url: new URL(response.url || requestUrl),
    method,
    challenges,
    now,
    ...(read.prepared ? { request: sentRequest(read.prepared, requestUrl, response) } : {}),
    bodyText() {
      if (body) return body;
      // Cloned only when an adapter reads the body (most 402s carry their terms in headers):
      // the response itself stays unread, for the caller when nothing is paid.
      if (response.bodyUsed) return Promise.resolve(undefined);
      body = readTextBounded(response.clone(), bodyCap, {
        ...(read.deadlineMs !== undefined ? { deadlineMs: read.deadlineMs } : {}),
        ...(read.signal ? { signal: read.signal } : {}),
        what: `The 402 body from ${originOf(response, requestUrl)}`,
      }).catch((error: unknown) => {
        if (isDeadlineError(error) || read.signal?.aborted) throw error;
        return undefined;
      });
      return body;
    },
  };
  return { input, headerErrors };
}

function originOf(response: Response, requestUrl: string): string {
  try {
    return new URL(response.url || requestUrl).origin;
  } catch {
    return 'the server';
  }
}

/**
 * `ChallengeInput.request`: what `sendPaidRetry` will send to the URL that answered, built on
 * first call and kept (nothing is spent on a 402 that does not ask). The body goes through
 * fetch's own extraction (`new Request`), so its bytes and implicit `Content-Type` are the
 * ones the retry sends; `Accept: *\/*` is what fetch adds when the app set none.
 */
function sentRequest(
  prepared: Pick<PreparedRequest, 'init' | 'replayable'>,
  requestUrl: string,
  response: Response,
): () => Promise<SentRequest | undefined> {
  let view: Promise<SentRequest | undefined> | undefined;
  return () => {
    view ??= buildSentRequest(prepared, requestUrl, response).catch(() => undefined);
    return view;
  };
}

async function buildSentRequest(
  prepared: Pick<PreparedRequest, 'init' | 'replayable'>,
  requestUrl: string,
  response: Response,
): Promise<SentRequest | undefined> {
  if (!prepared.replayable) return undefined;
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  const requested = new URL(requestUrl, page);
  const answered = new URL(response.url || requested.href);
  answered.hash = '';
  // The retry's method: `sendPaidRetry` upper-cases it.
  const method = (prepared.init.method ?? 'GET').toUpperCase();
  const allowed = retryHeadersFor(
    requested,
    answered,
    new Headers(prepared.init.headers),
    method,
    response.redirected,
  );
  if (!allowed.ok) return undefined;
  const request = new Request(answered.href, {
    method,
    headers: allowed.headers,
    body: prepared.init.body ?? null,
  });
  const headers = new Headers(request.headers);
  if (!headers.has('accept')) headers.set('accept', '*/*');
  const body = new Uint8Array(await request.arrayBuffer());
  return { method, url: answered.href, headers, ...(body.length > 0 ? { body } : {}) };
}
