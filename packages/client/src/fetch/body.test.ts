import { describe, expect, it, vi } from 'vitest';
import { RequestError } from '../index.js';
import { ORIGIN, setup, usdc, useMsw } from './fixtures.test-helpers.js';

const route = useMsw();

interface Seen {
  bytes: Uint8Array;
  headers: Record<string, string>;
  method: string;
}

/** Puts a recorder in front of the paywall: every request's raw bytes and headers. */
function recording(paywall: (request: Request) => Promise<Response>) {
  const seen: Seen[] = [];
  route(async (request) => {
    const copy = request.clone();
    seen.push({
      bytes: new Uint8Array(await copy.arrayBuffer()),
      headers: Object.fromEntries(request.headers),
      method: request.method,
    });
    return paywall(request);
  });
  return seen;
}

const text = 'héllo, wörld — ∑ bytes';
const bytes = new TextEncoder().encode(text);

function streamOf(...chunks: string[]) {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
}

const bodies: [string, () => { input: RequestInfo | URL; init?: RequestInit }][] = [
  ['string', () => ({ input: `${ORIGIN}/paid`, init: { method: 'POST', body: text } })],
  [
    'Blob',
    () => ({
      input: `${ORIGIN}/paid`,
      init: { method: 'POST', body: new Blob([bytes], { type: 'application/x-test' }) },
    }),
  ],
  [
    'ArrayBuffer',
    () => ({ input: `${ORIGIN}/paid`, init: { method: 'POST', body: bytes.slice().buffer } }),
  ],
  ['Uint8Array', () => ({ input: `${ORIGIN}/paid`, init: { method: 'PUT', body: bytes.slice() } })],
  [
    'DataView',
    () => ({
      input: `${ORIGIN}/paid`,
      init: { method: 'POST', body: new DataView(bytes.slice().buffer) },
    }),
  ],
  [
    'URLSearchParams',
    () => ({
      input: `${ORIGIN}/paid`,
      init: { method: 'POST', body: new URLSearchParams({ q: text, n: '1' }) },
    }),
  ],
  [
    'FormData',
    () => {
      const form = new FormData();
      form.set('field', text);
      form.set('file', new Blob([bytes], { type: 'text/plain' }), 'a.txt');
      return { input: `${ORIGIN}/paid`, init: { method: 'POST', body: form } };
    },
  ],
  [
    'ReadableStream',
    () => ({
      input: `${ORIGIN}/paid`,
      init: {
        method: 'POST',
        body: streamOf('part-1|', 'part-2|', text),
        duplex: 'half',
      } as RequestInit,
    }),
  ],
  [
    'Request with a body',
    () => ({
      input: new Request(`${ORIGIN}/paid`, {
        method: 'POST',
        body: text,
        headers: { 'x-app': '1' },
      }),
    }),
  ],
  [
    'Request with a stream body',
    () => ({
      input: new Request(`${ORIGIN}/paid`, {
        method: 'POST',
        body: streamOf('a', 'b', 'c'),
        duplex: 'half',
      } as RequestInit),
    }),
  ],
  [
    'Request plus init',
    () => ({
      input: new Request(`${ORIGIN}/paid`, { method: 'POST', body: 'old' }),
      init: { body: text, method: 'PATCH' },
    }),
  ],
];

describe('the paid retry resends the body byte-identical', () => {
  it.each(bodies)('%s', async (_name, make) => {
    const { payingFetch, paywall, wallet } = setup({ '/paid': { offers: [usdc(1000n)] } });
    const seen = recording(paywall);
    const { input, init } = make();
    const response = await payingFetch(input, init);
    expect(response.status).toBe(200);
    expect(wallet.calls).toHaveLength(1);
    expect(seen).toHaveLength(2);
    const [first, second] = seen as [Seen, Seen];
    expect(first.bytes.byteLength).toBeGreaterThan(0);
    expect(Buffer.from(second.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    expect(second.method).toBe(first.method);
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
  });
});

describe('request fields', () => {
  it('keeps method, headers, credentials, mode and the AbortSignal on both sends', async () => {
    const calls: [RequestInfo | URL, RequestInit | undefined][] = [];
    const spy = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      calls.push([input, init]);
      return globalThis.fetch(input, init);
    });
    const { payingFetch, paywall } = setup(
      { '/paid': { offers: [usdc(1000n)] } },
      { fetch: spy as unknown as typeof fetch },
    );
    route(paywall);
    const controller = new AbortController();
    const response = await payingFetch(`${ORIGIN}/paid`, {
      method: 'DELETE',
      headers: { 'x-app': 'kept', authorization: 'Bearer app-token' },
      credentials: 'include',
      mode: 'cors',
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(calls).toHaveLength(2);
    const [, firstInit] = calls[0]!;
    const [, retryInit] = calls[1]!;
    // Each send carries a deadline signal that follows the caller's own.
    expect(firstInit?.signal).toBeInstanceOf(AbortSignal);
    expect(retryInit?.signal).toBeInstanceOf(AbortSignal);
    expect(firstInit?.signal?.aborted).toBe(false);
    expect(retryInit?.method).toBe('DELETE');
    expect(retryInit?.credentials).toBe('include');
    expect(retryInit?.mode).toBe('cors');
    const retryHeaders = new Headers(retryInit?.headers);
    expect(retryHeaders.get('x-app')).toBe('kept');
    expect(retryHeaders.get('authorization')).toBe('Bearer app-token');
    // Only the proof header was added; nothing response-only.
    expect([...retryHeaders.keys()].sort()).toEqual([
      'authorization',
      'stipend-test-proof',
      'x-app',
    ]);
    expect(retryHeaders.has('access-control-expose-headers')).toBe(false);
  });

  it('an aborted call does not pay', async () => {
    const { payingFetch, paywall, wallet } = setup({ '/paid': { offers: [usdc(1000n)] } });
    route(paywall);
    const controller = new AbortController();
    controller.abort();
    await expect(payingFetch(`${ORIGIN}/paid`, { signal: controller.signal })).rejects.toThrow();
    expect(wallet.calls).toEqual([]);
  });
});

describe('stream bodies beyond maxBodyBytes', () => {
  it('stream through untouched when no payment is needed', async () => {
    const { payingFetch, paywall } = setup({}, { maxBodyBytes: 8 });
    const seen = recording(paywall);
    const response = await payingFetch(`${ORIGIN}/free`, {
      method: 'POST',
      body: streamOf('0123456789', 'abcdefghij', 'KLMNOP'),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(200);
    expect(new TextDecoder().decode(seen[0]!.bytes)).toBe('0123456789abcdefghijKLMNOP');
  });

  it('refuse a 402 with a clear error before any payment', async () => {
    const { payingFetch, paywall, wallet, rail } = setup(
      { '/paid': { offers: [usdc(1000n)] } },
      { maxBodyBytes: 8 },
    );
    recording(paywall);
    const error = await payingFetch(`${ORIGIN}/paid`, {
      method: 'POST',
      body: streamOf('0123456789', 'abcdefghij'),
      duplex: 'half',
    } as RequestInit).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).code).toBe('BODY_TOO_LARGE');
    expect((error as RequestError).message).toMatch(/maxBodyBytes/);
    expect(wallet.calls).toEqual([]);
    expect(rail.payments()).toEqual([]);
  });

  it('a stream within the cap is buffered and replayed', async () => {
    const { payingFetch, paywall } = setup(
      { '/paid': { offers: [usdc(1000n)] } },
      { maxBodyBytes: 64 },
    );
    const seen = recording(paywall);
    const response = await payingFetch(`${ORIGIN}/paid`, {
      method: 'POST',
      body: streamOf('0123456789', 'abcdefghij'),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(200);
    expect(seen.map((s) => new TextDecoder().decode(s.bytes))).toEqual([
      '0123456789abcdefghij',
      '0123456789abcdefghij',
    ]);
  });
});
