import { describe, expect, it } from 'vitest';
import { isStipendError } from '../errors/base.js';
import { MAX_REDIRECTS, sendPaidRetry } from './retry.js';

/** What one hop sent. */
interface Sent {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  readonly redirect: RequestRedirect | undefined;
}

/**
 * A fake fetch: answers each URL from `routes` (a function of the hop index), and records
 * what each hop sent.
 */
function fakeFetch(routes: Record<string, (n: number) => Response>) {
  const sent: Sent[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => {
      headers[name] = value;
    });
    sent.push({
      url,
      method: init?.method ?? 'GET',
      headers,
      body: init?.body == null ? undefined : String(init.body),
      redirect: init?.redirect,
    });
    const route = routes[url];
    if (!route) return new Response('not found', { status: 404 });
    return route(sent.length - 1);
  }) as typeof globalThis.fetch;
  return { fetch, sent };
}

const redirect = (status: number, location: string) => () =>
  new Response(null, { status, headers: { location } });
const ok = () => new Response('the resource', { status: 200 });

const PAYING = 'https://seller.example/paid';
const PROOF = { 'payment-signature': 'c2lnbmVk' };

function appHeaders(): Headers {
  return new Headers({
    authorization: 'Bearer app-token',
    cookie: 'sid=1',
    'proxy-authorization': 'Basic eDp5',
    'content-type': 'application/json',
    'content-language': 'en',
    'x-app': 'kept',
  });
}

function paid(
  fetch: typeof globalThis.fetch,
  init: RequestInit = {},
  extra: { timeoutMs?: number } = {},
) {
  return sendPaidRetry({
    fetch,
    url: new URL(PAYING),
    init: { method: 'POST', body: '{"q":1}', ...init },
    headers: appHeaders(),
    proofHeaders: PROOF,
    ...extra,
  });
}

describe('sendPaidRetry: the paid retry follows redirects with fetch’s own rules', () => {
  it('sends the proof with redirect: manual, once, and returns the answer when there is no redirect', async () => {
    const { fetch, sent } = fakeFetch({ [PAYING]: ok });
    const result = await paid(fetch);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['payment-signature']).toBe('c2lnbmVk');
    expect(sent[0]!.headers.authorization).toBe('Bearer app-token');
    expect(sent[0]!.body).toBe('{"q":1}');
    expect(sent[0]!.redirect).toBe('manual');
    expect(result.first).toBe(result.final);
    expect(result.error).toBeUndefined();
  });

  it('a same-origin hop keeps the proof and the app’s credentials (307 keeps method and body)', async () => {
    const next = 'https://seller.example/paid/v2';
    const { fetch, sent } = fakeFetch({ [PAYING]: redirect(307, '/paid/v2'), [next]: ok });
    const result = await paid(fetch);
    expect(sent.map((s) => [s.url, s.method, s.body])).toEqual([
      [PAYING, 'POST', '{"q":1}'],
      [next, 'POST', '{"q":1}'],
    ]);
    expect(sent[1]!.headers['payment-signature']).toBe('c2lnbmVk');
    expect(sent[1]!.headers.authorization).toBe('Bearer app-token');
    expect(sent[1]!.headers['content-type']).toBe('application/json');
    expect(result.final.status).toBe(200);
    expect(result.first.status).toBe(307);
  });

  it('a cross-origin hop drops Authorization, Cookie, Proxy-Authorization and the proof headers', async () => {
    const cdn = 'https://cdn.example/blob';
    const { fetch, sent } = fakeFetch({ [PAYING]: redirect(308, cdn), [cdn]: ok });
    await paid(fetch);
    const hop = sent[1]!.headers;
    expect(hop.authorization).toBeUndefined();
    expect(hop.cookie).toBeUndefined();
    expect(hop['proxy-authorization']).toBeUndefined();
    expect(hop['payment-signature']).toBeUndefined();
    expect(hop['x-app']).toBe('kept');
    // 308 keeps method and body, and so the body headers.
    expect(sent[1]!.method).toBe('POST');
    expect(sent[1]!.body).toBe('{"q":1}');
    expect(hop['content-type']).toBe('application/json');
  });

  it('what a cross-origin hop dropped stays dropped, even back on the paying origin (A → B → A)', async () => {
    const cdn = 'https://cdn.example/hop';
    const back = 'https://seller.example/again';
    const { fetch, sent } = fakeFetch({
      [PAYING]: redirect(307, cdn),
      [cdn]: redirect(307, back),
      [back]: ok,
    });
    await paid(fetch);
    expect(sent[2]!.url).toBe(back);
    expect(sent[2]!.headers.authorization).toBeUndefined();
    expect(sent[2]!.headers['payment-signature']).toBeUndefined();
  });

  it('the origin is scheme, host and port: the same host on another port is another origin', async () => {
    const port = 'https://seller.example:8443/paid';
    const { fetch, sent } = fakeFetch({ [PAYING]: redirect(307, port), [port]: ok });
    await paid(fetch);
    expect(sent[1]!.headers['payment-signature']).toBeUndefined();
    expect(sent[1]!.headers.authorization).toBeUndefined();
  });

  for (const status of [301, 302]) {
    it(`${status} after POST continues as GET without body and without body headers`, async () => {
      const next = 'https://seller.example/result';
      const { fetch, sent } = fakeFetch({ [PAYING]: redirect(status, '/result'), [next]: ok });
      await paid(fetch);
      expect(sent[1]!.method).toBe('GET');
      expect(sent[1]!.body).toBeUndefined();
      expect(sent[1]!.headers['content-type']).toBeUndefined();
      expect(sent[1]!.headers['content-language']).toBeUndefined();
      // Same origin: the credentials and the proof stay.
      expect(sent[1]!.headers.authorization).toBe('Bearer app-token');
    });

    it(`${status} after PUT keeps PUT and its body (fetch changes only POST)`, async () => {
      const next = 'https://seller.example/result';
      const { fetch, sent } = fakeFetch({ [PAYING]: redirect(status, '/result'), [next]: ok });
      await paid(fetch, { method: 'PUT' });
      expect(sent[1]!.method).toBe('PUT');
      expect(sent[1]!.body).toBe('{"q":1}');
      expect(sent[1]!.headers['content-type']).toBe('application/json');
    });
  }

  it('303 after PUT continues as GET without body and body headers', async () => {
    const next = 'https://seller.example/see';
    const { fetch, sent } = fakeFetch({ [PAYING]: redirect(303, '/see'), [next]: ok });
    await paid(fetch, { method: 'PUT' });
    expect(sent[1]!.method).toBe('GET');
    expect(sent[1]!.body).toBeUndefined();
    expect(sent[1]!.headers['content-type']).toBeUndefined();
  });

  it('303 after HEAD stays HEAD', async () => {
    const next = 'https://seller.example/see';
    const { fetch, sent } = fakeFetch({ [PAYING]: redirect(303, '/see'), [next]: ok });
    await paid(fetch, { method: 'HEAD', body: undefined });
    expect(sent.map((s) => s.method)).toEqual(['HEAD', 'HEAD']);
  });

  it('only 301, 302, 303, 307, 308 are redirects: a 300 or 304 with Location is returned as is', async () => {
    for (const status of [300, 304]) {
      const { fetch, sent } = fakeFetch({
        [PAYING]: redirect(status, 'https://elsewhere.example/'),
      });
      const result = await paid(fetch);
      expect(sent).toHaveLength(1);
      expect(result.final.status).toBe(status);
    }
  });

  it('a redirect without Location is the answer', async () => {
    const { fetch, sent } = fakeFetch({ [PAYING]: () => new Response(null, { status: 302 }) });
    const result = await paid(fetch);
    expect(sent).toHaveLength(1);
    expect(result.final.status).toBe(302);
  });

  for (const location of ['data:text/html,hi', 'javascript:alert(1)', 'file:///etc/passwd']) {
    it(`a hop to a non-http(s) URL (${location.split(':')[0]}:) is a typed error, not followed`, async () => {
      const { fetch, sent } = fakeFetch({ [PAYING]: redirect(302, location) });
      const result = await paid(fetch);
      expect(sent).toHaveLength(1);
      expect(result.first.status).toBe(302);
      expect(isStipendError(result.error)).toBe(true);
      expect((result.error as { code: string }).code).toBe('REDIRECT_NOT_FOLLOWED');
      expect((result.error as { details: { reason: string } }).details.reason).toBe(
        'unsupported_scheme',
      );
    });
  }

  it(`more than ${MAX_REDIRECTS} hops is a typed error (a loop ends)`, async () => {
    const { fetch, sent } = fakeFetch({ [PAYING]: redirect(307, PAYING) });
    const result = await paid(fetch);
    expect(sent).toHaveLength(MAX_REDIRECTS + 1);
    expect((result.error as { code: string }).code).toBe('REDIRECT_NOT_FOLLOWED');
    expect((result.error as { details: { reason: string } }).details.reason).toBe(
      'too_many_redirects',
    );
    expect(result.first.status).toBe(307);
  });

  it(`exactly ${MAX_REDIRECTS} hops are followed, like fetch`, async () => {
    const routes: Record<string, (n: number) => Response> = {};
    for (let i = 0; i < MAX_REDIRECTS; i++) {
      routes[i === 0 ? PAYING : `https://seller.example/${i}`] = redirect(307, `/${i + 1}`);
    }
    routes[`https://seller.example/${MAX_REDIRECTS}`] = ok;
    const { fetch, sent } = fakeFetch(routes);
    const result = await paid(fetch);
    expect(result.error).toBeUndefined();
    expect(result.final.status).toBe(200);
    expect(sent).toHaveLength(MAX_REDIRECTS + 1);
  });

  it('a Location with a user name or password is not followed', async () => {
    const { fetch, sent } = fakeFetch({
      [PAYING]: redirect(302, 'https://user:pw@evil.example/'),
    });
    const result = await paid(fetch);
    expect(sent).toHaveLength(1);
    expect((result.error as { details: { reason: string } }).details.reason).toBe(
      'credentials_in_location',
    );
  });

  it('a Location that is not a URL is a typed error', async () => {
    const { fetch } = fakeFetch({ [PAYING]: redirect(302, 'http://[::1') });
    const result = await paid(fetch);
    expect((result.error as { details: { reason: string } }).details.reason).toBe(
      'invalid_location',
    );
  });

  it('redirect: manual returns the redirect; redirect: error ends with a typed error', async () => {
    const manual = fakeFetch({ [PAYING]: redirect(302, '/x') });
    const kept = await paid(manual.fetch, { redirect: 'manual' });
    expect(manual.sent).toHaveLength(1);
    expect(kept.final.status).toBe(302);
    expect(kept.error).toBeUndefined();

    const failing = fakeFetch({ [PAYING]: redirect(302, '/x') });
    const refused = await paid(failing.fetch, { redirect: 'error' });
    expect(failing.sent).toHaveLength(1);
    expect((refused.error as { code: string }).code).toBe('REDIRECT_NOT_FOLLOWED');
  });

  it('a stream body is not replayed on a 307 (typed error), the first answer is kept', async () => {
    const { fetch, sent } = fakeFetch({ [PAYING]: redirect(307, '/again') });
    const result = await paid(fetch, { body: new ReadableStream(), duplex: 'half' } as RequestInit);
    expect(sent).toHaveLength(1);
    expect((result.error as { details: { reason: string } }).details.reason).toBe(
      'body_not_replayable',
    );
  });

  it('every call ends: a paying origin that never answers is a TIMEOUT (thrown: the outcome is unknown)', async () => {
    const fetch = (() => new Promise<Response>(() => {})) as typeof globalThis.fetch;
    const error = await paid(fetch, {}, { timeoutMs: 30 }).catch((e: unknown) => e);
    expect(isStipendError(error) && error.code).toBe('TIMEOUT');
  });

  it('a later hop that never answers ends with TIMEOUT in `error`, keeping the first answer to settle', async () => {
    const hang = 'https://cdn.example/hang';
    const { fetch } = fakeFetch({
      [PAYING]: redirect(302, hang),
      [hang]: () => new Promise<Response>(() => {}) as unknown as Response,
    });
    const result = await paid(fetch, {}, { timeoutMs: 40 });
    expect(result.first.status).toBe(302);
    expect(isStipendError(result.error) && (result.error as { code: string }).code).toBe('TIMEOUT');
  });

  it('an answer that comes after the deadline is let go: its body cancelled, its redirect not followed', async () => {
    let cancelled = false;
    const hops: string[] = [];
    const fetch = (async (input: RequestInfo | URL) => {
      hops.push(String(input));
      await new Promise((resolve) => setTimeout(resolve, 60));
      return new Response(
        new ReadableStream({
          cancel() {
            cancelled = true;
          },
        }),
        { status: 302, headers: { location: 'https://cdn.example/next' } },
      );
    }) as typeof globalThis.fetch;
    const error = await paid(fetch, {}, { timeoutMs: 20 }).catch((e: unknown) => e);
    expect(isStipendError(error) && error.code).toBe('TIMEOUT');
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(cancelled).toBe(true);
    expect(hops).toEqual([PAYING]);
  });

  it('adds no AbortSignal of its own: the request carries only the caller’s', async () => {
    const signals: (AbortSignal | null | undefined)[] = [];
    const fetch = (async (_: RequestInfo | URL, init?: RequestInit) => {
      signals.push(init?.signal);
      return ok();
    }) as typeof globalThis.fetch;
    await paid(fetch);
    const controller = new AbortController();
    await paid(fetch, { signal: controller.signal });
    expect(signals).toEqual([undefined, controller.signal]);
  });

  it('passes a signal that follows the caller’s abort', async () => {
    let seen: AbortSignal | undefined;
    const fetch = (async (_: RequestInfo | URL, init?: RequestInit) => {
      seen = init?.signal ?? undefined;
      return ok();
    }) as typeof globalThis.fetch;
    const controller = new AbortController();
    await paid(fetch, { signal: controller.signal });
    controller.abort();
    expect(seen?.aborted).toBe(true);
  });

  it('never modifies the headers it was given', async () => {
    const headers = appHeaders();
    const { fetch } = fakeFetch({
      [PAYING]: redirect(303, 'https://cdn.example/x'),
      'https://cdn.example/x': ok,
    });
    await sendPaidRetry({ fetch, url: new URL(PAYING), init: {}, headers, proofHeaders: PROOF });
    expect(headers.get('authorization')).toBe('Bearer app-token');
    expect(headers.get('content-type')).toBe('application/json');
  });
});
