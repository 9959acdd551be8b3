import { describe, expect, it } from 'vitest';
import type { PreparedRequest } from './body.js';
import { challengeInput } from './challenge.js';

const URL_A = 'https://api.example.com/article/A';

/** A 402 as fetch hands it back: `url` and `redirected` as the last hop set them. */
function answered(url = '', redirected = false): Response {
  const response = new Response(null, { status: 402 });
  Object.defineProperty(response, 'url', { value: url });
  Object.defineProperty(response, 'redirected', { value: redirected });
  return response;
}

function view(
  init: RequestInit,
  options: { replayable?: boolean; url?: string; response?: Response } = {},
) {
  const prepared: Pick<PreparedRequest, 'init' | 'replayable'> = {
    init,
    replayable: options.replayable ?? true,
  };
  const { input } = challengeInput(
    options.response ?? answered(),
    options.url ?? URL_A,
    (init.method ?? 'GET').toUpperCase(),
    0,
    1024,
    { prepared },
  );
  return input;
}

describe('ChallengeInput.request: the request the paid retry sends (x402 lnbtc binds it)', () => {
  it('gives the exact body bytes and the Content-Type fetch adds for a string body', async () => {
    const sent = await view({ method: 'post', body: '{"a":1}' }).request!();
    expect(sent?.method).toBe('POST');
    expect(sent?.url).toBe(URL_A);
    expect(new TextDecoder().decode(sent?.body)).toBe('{"a":1}');
    expect(sent?.headers.get('content-type')).toBe('text/plain;charset=UTF-8');
    expect(sent?.headers.get('accept')).toBe('*/*');
  });

  it("keeps the app's own headers and bytes (a Uint8Array body), and no body for a GET", async () => {
    const bytes = Uint8Array.of(0x7b, 0x7d);
    const post = await view({
      method: 'POST',
      body: bytes,
      headers: {
        'Content-Type': 'application/json',
        'X-Account': 'a1',
        Accept: 'application/json',
      },
    }).request!();
    expect(post?.body).toEqual(bytes);
    expect(post?.headers.get('content-type')).toBe('application/json');
    expect(post?.headers.get('x-account')).toBe('a1');
    expect(post?.headers.get('accept')).toBe('application/json');
    const get = await view({}).request!();
    expect(get?.method).toBe('GET');
    expect(get?.body).toBeUndefined();
  });

  it('after a redirect to another origin: the URL that answered, without the credentials fetch stripped', async () => {
    const sent = await view(
      { headers: { Authorization: 'Bearer app', Cookie: 'a=1', 'X-Trace': 't' } },
      { response: answered('https://pay.example.net/article/A?x=1', true) },
    ).request!();
    expect(sent?.url).toBe('https://pay.example.net/article/A?x=1');
    expect(sent?.headers.has('authorization')).toBe(false);
    expect(sent?.headers.has('cookie')).toBe(false);
    expect(sent?.headers.get('x-trace')).toBe('t');
  });

  it('is undefined when the retry cannot resend the request as it is', async () => {
    expect(await view({ method: 'POST', body: 'x' }, { replayable: false }).request!()).toBe(
      undefined,
    );
    // A redirected POST may have become a GET: the core refuses to pay it.
    const redirected = view(
      { method: 'POST', body: 'x' },
      { response: answered('https://api.example.com/moved', true) },
    );
    expect(await redirected.request!()).toBeUndefined();
  });

  it('is lazy: nothing of the request is read until an adapter asks, and it is built once', async () => {
    let reads = 0;
    const init: RequestInit = { method: 'POST', body: 'x' };
    const prepared = {
      replayable: true,
      get init() {
        reads++;
        return init;
      },
    };
    const { input } = challengeInput(answered(), URL_A, 'POST', 0, 1024, { prepared });
    expect(reads).toBe(0);
    const first = input.request!();
    expect(input.request!()).toBe(first);
    await first;
    const afterFirst = reads;
    await input.request!();
    expect(reads).toBe(afterFirst);
    expect(reads).toBeGreaterThan(0);
  });

  it('is absent when the core gives no prepared request', () => {
    const { input } = challengeInput(answered(), URL_A, 'GET', 0, 1024);
    expect(input.request).toBeUndefined();
  });
});
