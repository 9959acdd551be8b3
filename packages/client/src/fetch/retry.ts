/**
 * The paid retry: sent once, to the origin that issued the challenge. Redirects are followed
 * by hand so that the proof never leaves that origin (invariant 4): a same-origin hop keeps
 * the proof, a cross-origin hop drops it (and `Authorization`, as fetch itself does).
 *
 * @module
 */

const MAX_HOPS = 20;

/** What {@link sendPaidRetry} needs. */
export interface PaidRetry {
  readonly fetch: typeof fetch;
  /** The URL that answered 402; the proof is bound to its origin. */
  readonly url: URL;
  /** The prepared init (replayable body, signal, credentials…). */
  readonly init: RequestInit;
  /** The application's headers. */
  readonly headers: Headers;
  /** The proof headers from the adapter. */
  readonly proofHeaders: Readonly<Record<string, string>>;
}

function isRedirect(response: Response): boolean {
  return (
    response.type === 'opaqueredirect' ||
    (response.status >= 300 && response.status < 400 && response.headers.has('location'))
  );
}

/**
 * Sends the paid retry. Returns the first response (the one the paying origin gave to the
 * proof, read for the payment outcome) and the final one (after redirects, for the caller).
 *
 * @example
 * ```ts
 * const { first, final } = await sendPaidRetry({ fetch, url, init, headers, proofHeaders: { 'payment-signature': sig } });
 * ```
 */
export async function sendPaidRetry(
  retry: PaidRetry,
): Promise<{ first: Response; final: Response }> {
  const withProof = new Headers(retry.headers);
  for (const [name, value] of Object.entries(retry.proofHeaders)) withProof.set(name, value);
  const follow = (retry.init.redirect ?? 'follow') === 'follow';

  const first = await retry.fetch(retry.url.href, {
    ...retry.init,
    headers: withProof,
    redirect: 'manual',
  });
  if (!follow || first.type === 'opaqueredirect' || !isRedirect(first))
    return { first, final: first };

  let response = first;
  let current = retry.url;
  let method = retry.init.method ?? 'GET';
  let body = retry.init.body;
  let plainHeaders: Headers | undefined;
  for (let hop = 0; hop < MAX_HOPS && isRedirect(response); hop++) {
    if (response.type === 'opaqueredirect') break;
    const next = new URL(response.headers.get('location')!, current);
    const status = response.status;
    if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
      if (method !== 'HEAD') method = 'GET';
      body = undefined;
    }
    let headers: Headers;
    if (next.origin === retry.url.origin) {
      headers = withProof;
    } else {
      plainHeaders ??= withoutProof(retry.headers, retry.proofHeaders);
      headers = plainHeaders;
    }
    if (body === undefined) {
      headers = new Headers(headers);
      headers.delete('content-type');
      headers.delete('content-length');
    }
    response = await retry.fetch(next.href, {
      ...retry.init,
      method,
      body,
      headers,
      redirect: 'manual',
    });
    current = next;
  }
  return { first, final: response };
}

function withoutProof(headers: Headers, proof: Readonly<Record<string, string>>): Headers {
  const plain = new Headers(headers);
  for (const name of Object.keys(proof)) plain.delete(name);
  plain.delete('authorization');
  return plain;
}
