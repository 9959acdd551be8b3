import { describe, expect, it } from 'vitest';
import { isStipendError } from '../errors/base.js';
import { discover } from './discover.js';

const ORIGIN = 'https://api.example.com';
const BASE_USDC = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
const PAY_TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

type Handler = (request: Request) => Response | Promise<Response>;

/** A fake seller: routes by path; records every request it gets. */
function seller(routes: Record<string, Handler | unknown>) {
  const requests: Request[] = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push(request);
    const route = routes[new URL(request.url).pathname];
    if (route === undefined) return new Response('not found', { status: 404 });
    if (typeof route === 'function') return (route as Handler)(request);
    return Response.json(route);
  }) as typeof fetch;
  return { fetch: fetcher, requests };
}

const requirement = (amount: string, extra: Record<string, unknown> = {}) => ({
  scheme: 'exact',
  network: 'eip155:8453',
  amount,
  asset: BASE_USDC,
  payTo: PAY_TO,
  maxTimeoutSeconds: 60,
  extra: { name: 'USD Coin', version: '2' },
  ...extra,
});

/** Every request discovery made was a credential-free GET to the origin asked about. */
function expectPaidNothing(requests: readonly Request[]) {
  expect(requests.length).toBeGreaterThan(0);
  for (const request of requests) {
    expect(request.method).toBe('GET');
    expect(new URL(request.url).origin).toBe(ORIGIN);
    for (const name of ['authorization', 'payment-signature', 'x-payment', 'cookie']) {
      expect(request.headers.get(name)).toBeNull();
    }
  }
}

describe('discover: OpenAPI x-payment-info (MPP discovery draft)', () => {
  it('reads several offers per operation, pricing only what the client knows', async () => {
    const { fetch, requests } = seller({
      '/openapi.json': {
        openapi: '3.1.0',
        info: { title: 't', version: '1' },
        paths: {
          '/article': {
            get: {
              summary: 'An article',
              'x-payment-info': {
                offers: [
                  { intent: 'charge', method: 'stripe', amount: '50', currency: 'usd' },
                  {
                    intent: 'charge',
                    method: 'tempo',
                    amount: '500000',
                    currency: '0x20c0000000000000000000000000000000000000',
                  },
                  { intent: 'charge', method: 'stripe', amount: null, currency: 'usd' },
                ],
              },
            },
          },
          '/single': {
            post: {
              'x-payment-info': {
                intent: 'charge',
                method: 'stripe',
                amount: '5',
                currency: 'usd',
              },
            },
          },
          '/free': { get: { summary: 'free' } },
        },
      },
    });
    const found = await discover(ORIGIN, { fetch });
    expect(found.endpoints.map((e) => `${e.method} ${e.path}`)).toEqual([
      'GET /article',
      'POST /single',
    ]);
    const [article, single] = found.endpoints;
    expect(article!.description).toBe('An article');
    expect(article!.offers[0]).toMatchObject({
      protocol: 'mpp',
      scheme: 'stripe.charge',
      usdMicros: 500_000n,
    });
    expect(article!.offers[1]!.usdMicros).toBeUndefined();
    expect(article!.offers[1]!.unpriced).toMatch(
      /not an ISO 4217 code or a token this client knows/,
    );
    expect(article!.offers[2]!.unpriced).toMatch(/dynamic/);
    expect(article!.cheapestUsdMicros).toBe(500_000n);
    expect(single!.offers[0]!.usdMicros).toBe(50_000n);
    expect(found.documents.find((d) => d.url.endsWith('/openapi.json'))).toMatchObject({
      outcome: 'read',
      endpoints: 2,
    });
    expectPaidNothing(requests);
  });

  it('wrong types are skipped with a reason, the rest still read', async () => {
    const { fetch } = seller({
      '/openapi.json': {
        openapi: '3.1.0',
        paths: {
          '/a': {
            get: {
              'x-payment-info': { intent: 'charge', method: 'stripe', amount: 50, currency: 'usd' },
            },
          },
          '/b': { get: { 'x-payment-info': 'free!' } },
          '/c': { get: { 'x-payment-info': { offers: [] } } },
          d: { get: {} },
          '/e': [1, 2],
          '/ok': {
            get: {
              'x-payment-info': {
                intent: 'charge',
                method: 'stripe',
                amount: '1',
                currency: 'usd',
              },
            },
          },
        },
      },
    });
    const found = await discover(ORIGIN, { fetch });
    expect(found.endpoints.map((e) => e.path)).toEqual(['/ok']);
    const reasons = found.skipped.map((s) => `${s.where}: ${s.reason}`).join('\n');
    expect(reasons).toMatch(
      /GET \/a offer 0: "amount" must be a string of base units or null, not a number/,
    );
    expect(reasons).toMatch(/GET \/b: x-payment-info is not an object/);
    expect(reasons).toMatch(/GET \/c: x-payment-info.offers is not a non-empty array/);
    expect(reasons).toMatch(/paths\["d"\]/);
  });

  it('a token whose decimals a document states differently than the client knows is not priced', async () => {
    const { fetch } = seller({
      '/openapi.json': {
        openapi: '3.1.0',
        paths: {
          '/t': {
            get: {
              'x-payment-info': {
                intent: 'charge',
                method: 'evm',
                amount: '500000000000000000',
                currency: BASE_USDC,
                chainId: 8453,
                decimals: 18,
              },
            },
          },
        },
      },
    });
    const found = await discover(ORIGIN, { fetch });
    const offer = found.endpoints[0]!.offers[0]!;
    expect(offer.usdMicros).toBeUndefined();
    expect(offer.unpriced).toMatch(/decimals stated by a document are never used/);
  });
});

describe('discover: x402 manifests', () => {
  it('/.well-known/x402.json items are priced with the registry decimals', async () => {
    const { fetch, requests } = seller({
      '/.well-known/x402.json': {
        x402Version: 2,
        items: [
          {
            resource: { url: `${ORIGIN}/weather/:city`, description: 'Weather' },
            type: 'http',
            accepts: [requirement('1000')],
            input: { method: 'GET', routeTemplate: '/weather/:city' },
          },
          {
            resource: { url: `${ORIGIN}/odd` },
            type: 'http',
            accepts: [requirement('1000', { asset: '0x0000000000000000000000000000000000000bad' })],
          },
        ],
      },
    });
    const found = await discover(ORIGIN, { fetch });
    const [weather, odd] = found.endpoints;
    expect(weather).toMatchObject({
      method: 'GET',
      path: '/weather/:city',
      source: 'x402-json',
      cheapestUsdMicros: 1_000n,
    });
    expect(weather!.offers[0]).toMatchObject({
      protocol: 'x402',
      scheme: 'exact',
      payee: PAY_TO,
      network: 'eip155:8453',
    });
    expect(odd!.offers[0]!.unpriced).toMatch(/not a known asset/);
    expectPaidNothing(requests);
  });

  it('a stated price its amount does not match (another unit than claimed) is not priced', async () => {
    const { fetch } = seller({
      '/.well-known/x402.json': {
        x402Version: 2,
        items: [
          {
            resource: { url: `${ORIGIN}/cheap` },
            price: '$0.01',
            accepts: [requirement('10000000000')],
          },
          {
            resource: { url: `${ORIGIN}/honest` },
            price: '$0.01',
            accepts: [requirement('10000')],
          },
        ],
      },
    });
    const found = await discover(ORIGIN, { fetch });
    expect(found.endpoints[0]!.offers[0]!.unpriced).toBe(
      'the document says it costs $0.01, but its amount is worth $10000.00; it is not priced',
    );
    expect(found.endpoints[0]!.cheapestUsdMicros).toBeUndefined();
    expect(found.endpoints[1]!.cheapestUsdMicros).toBe(10_000n);
  });

  it('an x402 requirement claiming other decimals than the asset has is not priced', async () => {
    const { fetch } = seller({
      '/.well-known/x402.json': {
        x402Version: 2,
        items: [
          {
            resource: { url: `${ORIGIN}/x` },
            accepts: [
              requirement('1000', { extra: { name: 'USD Coin', version: '2', decimals: 18 } }),
            ],
          },
        ],
      },
    });
    const found = await discover(ORIGIN, { fetch });
    expect(found.endpoints[0]!.offers[0]!.unpriced).toMatch(/claims 18 decimals/);
  });

  it('/.well-known/x402 pointers are asked for their 402 (bazaar), off-origin entries never fetched', async () => {
    const paymentRequired = {
      x402Version: 2,
      error: 'Payment required',
      resource: { url: `${ORIGIN}/search`, description: 'Search the web' },
      accepts: [requirement('2000')],
      extensions: {
        bazaar: { info: { input: { type: 'http', method: 'GET', queryParams: { q: 'x' } } } },
      },
    };
    const { fetch, requests } = seller({
      '/.well-known/x402': {
        x402Version: 1,
        kind: 'resource-server',
        resources: [
          `${ORIGIN}/search`,
          { url: 'http://169.254.169.254/latest/meta-data', method: 'GET' },
          { url: `${ORIGIN}/post-only`, method: 'POST' },
        ],
      },
      '/search': () =>
        new Response('{}', {
          status: 402,
          headers: { 'payment-required': btoa(JSON.stringify(paymentRequired)) },
        }),
    });
    const found = await discover(ORIGIN, { fetch });
    const search = found.endpoints.find((e) => e.path === '/search')!;
    expect(search).toMatchObject({
      method: 'GET',
      source: 'x402-402',
      description: 'Search the web',
      cheapestUsdMicros: 2_000n,
    });
    const postOnly = found.endpoints.find((e) => e.path === '/post-only')!;
    expect(postOnly).toMatchObject({ method: 'POST', offers: [] });
    expect(postOnly.unpriced).toMatch(/its 402 says the price/);
    expect(found.skipped.some((s) => /not on https:\/\/api.example.com/.test(s.reason))).toBe(true);
    expectPaidNothing(requests);
    expect(requests.filter((r) => new URL(r.url).pathname === '/post-only')).toEqual([]);
  });

  it('probe: 0 asks no resource for its 402', async () => {
    const { fetch, requests } = seller({
      '/.well-known/x402': { x402Version: 1, resources: [`${ORIGIN}/search`] },
    });
    await discover(ORIGIN, { fetch, probe: 0 });
    expect(requests.some((r) => new URL(r.url).pathname === '/search')).toBe(false);
  });
});

describe('discover: llms.txt', () => {
  it('follows llms.txt links to discovery documents on the origin only', async () => {
    const { fetch, requests } = seller({
      '/llms.txt': () =>
        new Response(
          `# API\n- [OpenAPI](${ORIGIN}/v2/openapi.json)\n- [Elsewhere](https://evil.example/openapi.json)\n`,
        ),
      '/v2/openapi.json': {
        openapi: '3.1.0',
        paths: {
          '/v2/q': {
            get: {
              'x-payment-info': {
                intent: 'charge',
                method: 'stripe',
                amount: '1',
                currency: 'usd',
              },
            },
          },
        },
      },
    });
    const found = await discover(ORIGIN, { fetch });
    expect(found.endpoints.map((e) => e.path)).toEqual(['/v2/q']);
    expectPaidNothing(requests);
  });
});

describe('discover: hostile documents', () => {
  it('a document larger than maxBytes is refused (DISCOVERY_TOO_LARGE), whatever Content-Length says', async () => {
    const { fetch } = seller({
      '/openapi.json': () =>
        new Response(
          new ReadableStream({
            start(controller) {
              for (let i = 0; i < 64; i++) controller.enqueue(new Uint8Array(1024).fill(32));
              controller.close();
            },
          }),
          { headers: { 'content-length': '10' } },
        ),
    });
    const found = await discover(ORIGIN, { fetch, maxBytes: 16 * 1024 });
    expect(found.documents.find((d) => d.url.endsWith('/openapi.json'))).toMatchObject({
      outcome: 'skipped',
      code: 'DISCOVERY_TOO_LARGE',
    });
  });

  it('deeply nested JSON is refused before it is parsed (DISCOVERY_INVALID)', async () => {
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    const { fetch } = seller({ '/openapi.json': () => new Response(deep) });
    const found = await discover(ORIGIN, { fetch });
    const doc = found.documents.find((d) => d.url.endsWith('/openapi.json'))!;
    expect(doc).toMatchObject({ outcome: 'skipped', code: 'DISCOVERY_INVALID' });
    expect(doc.reason).toMatch(/nests deeper than 64 levels/);
  });

  it('a document that drips forever ends at the deadline (TIMEOUT), and discovery ends', async () => {
    const { fetch } = seller({
      '/openapi.json': () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('{"openapi":'));
            },
          }),
        ),
      '/.well-known/x402': () => new Promise<Response>(() => {}),
    });
    const started = Date.now();
    const found = await discover(ORIGIN, { fetch, timeoutMs: 100 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(found.documents.filter((d) => d.code === 'TIMEOUT').length).toBe(2);
  });

  it('a redirect to another origin is not followed (DISCOVERY_REDIRECTED)', async () => {
    const { fetch, requests } = seller({
      '/openapi.json': () =>
        new Response(null, {
          status: 302,
          headers: { location: 'https://evil.example/openapi.json' },
        }),
      '/.well-known/x402.json': () =>
        new Response(null, { status: 301, headers: { location: '/moved/x402.json' } }),
      '/moved/x402.json': {
        x402Version: 2,
        items: [{ resource: { url: `${ORIGIN}/m` }, accepts: [requirement('5')] }],
      },
    });
    const found = await discover(ORIGIN, { fetch });
    expect(found.documents.find((d) => d.url.endsWith('/openapi.json'))).toMatchObject({
      code: 'DISCOVERY_REDIRECTED',
    });
    expect(found.endpoints.map((e) => e.path)).toEqual(['/m']);
    expect(requests.every((r) => new URL(r.url).origin === ORIGIN)).toBe(true);
  });

  it('documents of the wrong kind are skipped with a reason', async () => {
    const { fetch } = seller({
      '/openapi.json': [1, 2, 3],
      '/.well-known/x402': { x402Version: '1', resources: 'all' },
      '/.well-known/x402.json': { x402Version: 2, items: {} },
    });
    const found = await discover(ORIGIN, { fetch });
    expect(found.endpoints).toEqual([]);
    expect(found.skipped.map((s) => s.reason)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/not an OpenAPI document/),
        expect.stringMatching(/not an x402 manifest/),
        expect.stringMatching(/not an x402 discovery manifest/),
      ]),
    );
  });

  it('descriptions lose control characters and are cut at 200 characters', async () => {
    const { fetch } = seller({
      '/openapi.json': {
        openapi: '3.1.0',
        paths: {
          '/a': {
            get: {
              summary: `Good\u001b[31m\u202e${'x'.repeat(500)}`,
              'x-payment-info': {
                intent: 'charge',
                method: 'stripe',
                amount: '1',
                currency: 'usd',
              },
            },
          },
        },
      },
    });
    const found = await discover(ORIGIN, { fetch });
    const description = found.endpoints[0]!.description!;
    expect(description.length).toBe(200);
    expect(description.includes('\u001b') || description.includes('\u202e')).toBe(false);
  });

  it('refuses a plain-HTTP origin that is not loopback, naming allowHttp', async () => {
    const error = await discover('http://api.example.com').catch((caught: unknown) => caught);
    expect(isStipendError(error) && error.code).toBe('CONFIG_INVALID');
    expect((error as Error).message).toMatch(/allowHttp/);
  });
});
