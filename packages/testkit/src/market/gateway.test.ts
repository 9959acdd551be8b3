import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/http.js';
import { credentialProtocol, type Gateway, startGateway } from './gateway.js';

/** A fake seller: 402 with its terms header unless the request carries its credential. */
function seller(
  name: string,
  terms: Record<string, string>,
  paid: (headers: Headers) => boolean,
  seen: string[],
) {
  return startTestServer(async (request) => {
    const body = request.method === 'POST' ? await request.text() : '';
    seen.push(`${name} ${request.method} ${new URL(request.url).pathname} ${body}`);
    if (paid(request.headers)) {
      return Response.json({ soldBy: name, body }, { headers: { 'x-receipt': name } });
    }
    return new Response(JSON.stringify({ error: `${name} wants payment` }), {
      status: 402,
      headers: { 'content-type': 'application/json', ...terms },
    });
  });
}

let x402: TestServer;
let l402: TestServer;
let free: TestServer;
let gateway: Gateway;
const seen: string[] = [];

beforeAll(async () => {
  x402 = await seller(
    'x402',
    { 'payment-required': 'eyJ4IjoxfQ==' },
    (h) => h.has('payment-signature'),
    seen,
  );
  l402 = await seller(
    'l402',
    { 'www-authenticate': 'L402 macaroon="m", invoice="lnbcrt1"' },
    (h) => h.get('authorization')?.startsWith('L402 ') ?? false,
    seen,
  );
  free = await startTestServer(() => Response.json({ free: true }));
  gateway = await startGateway({
    routes: [
      { method: 'POST', path: '/both', sellers: { x402: x402.url, l402: l402.url } },
      { method: 'GET', path: '/free', sellers: { x402: free.url, l402: l402.url } },
    ],
  });
});
afterAll(async () => {
  await gateway?.close();
  await Promise.all([x402?.close(), l402?.close(), free?.close()]);
});

describe('credentialProtocol', () => {
  it('names the seller a credential is for', () => {
    expect(credentialProtocol(new Headers({ 'payment-signature': 'e30=' }))).toBe('x402');
    expect(credentialProtocol(new Headers({ 'x-payment': 'e30=' }))).toBe('x402');
    expect(credentialProtocol(new Headers({ authorization: 'LSAT m:p' }))).toBe('l402');
    expect(credentialProtocol(new Headers({ authorization: 'Payment eyJ9' }))).toBe('mpp');
    expect(credentialProtocol(new Headers({ 'payment-authorization': 'Payment e' }))).toBe('mpp');
    expect(credentialProtocol(new Headers({ authorization: 'Bearer t' }))).toBeUndefined();
  });
});

describe('startGateway', () => {
  it('answers one 402 with every seller terms, asking each with the same body', async () => {
    seen.length = 0;
    const response = await fetch(`${gateway.url}/both`, { method: 'POST', body: 'hello' });
    expect(response.status).toBe(402);
    expect(response.headers.get('payment-required')).toBe('eyJ4IjoxfQ==');
    expect(response.headers.get('www-authenticate')).toBe('L402 macaroon="m", invoice="lnbcrt1"');
    expect(await response.json()).toEqual({ error: 'x402 wants payment' });
    expect(seen.sort()).toEqual(['l402 POST /both hello', 'x402 POST /both hello']);
  });

  it('sends a paid retry only to the seller whose credential it carries', async () => {
    seen.length = 0;
    const viaL402 = await fetch(`${gateway.url}/both`, {
      method: 'POST',
      body: 'again',
      headers: { authorization: 'L402 m:p' },
    });
    expect(viaL402.status).toBe(200);
    expect(viaL402.headers.get('x-receipt')).toBe('l402');
    expect(await viaL402.json()).toEqual({ soldBy: 'l402', body: 'again' });
    const viaX402 = await fetch(`${gateway.url}/both`, {
      method: 'POST',
      body: 'x',
      headers: { 'payment-signature': 'e30=' },
    });
    expect(await viaX402.json()).toEqual({ soldBy: 'x402', body: 'x' });
    expect(seen).toEqual(['l402 POST /both again', 'x402 POST /both x']);
    expect(gateway.requests.slice(-2).map((r) => r.forwardedTo)).toEqual(['l402', 'x402']);
  });

  it('refuses a credential for a protocol the route is not sold through', async () => {
    const response = await fetch(`${gateway.url}/both`, {
      method: 'POST',
      body: 'x',
      headers: { authorization: 'Payment eyJ9' },
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/not sold through mpp; pay one of: x402, l402/);
  });

  it('passes a free answer through, and 404s unknown routes', async () => {
    const response = await fetch(`${gateway.url}/free`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ free: true });
    const missing = await fetch(`${gateway.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: 'no route /nope',
      routes: ['POST /both', 'GET /free'],
    });
  });
});
