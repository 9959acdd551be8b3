import { afterEach, describe, expect, it } from 'vitest';
import { decodeJson, encodeJson } from '../remote/wire.js';
import { payRequest, testAuthority, testOffer } from './fixtures.test-helpers.js';
import { type AuthorityServer, startAuthorityServer } from './server.js';

const servers: AuthorityServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Parameters<typeof startAuthorityServer>[1] = {}, config = {}) {
  const setup = testAuthority(config);
  const server = await startAuthorityServer(setup.authority, options);
  servers.push(server);
  return { ...setup, server };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : encodeJson(body),
  });
  return { response, body: decodeJson(await response.text()) as Record<string, any> };
}

describe('startAuthorityServer', () => {
  it('listens on 127.0.0.1 with a free port', async () => {
    const { server } = await start();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it('pays over HTTP with bigints tagged in JSON', async () => {
    const { server, authority, rail } = await start();
    const token = authority.mint({ totalUsd: '1' });
    const offer = testOffer(10_000n);
    const { response, body } = await post(`${server.url}/v1/pay`, { token, ...payRequest(offer) });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(body.proof.offerId).toBe(offer.id);
    expect(body.proof.reference).toBe(rail.payments()[0]?.reference);
    const status = await post(`${server.url}/v1/token`, { token });
    expect(status.body.scopes[0].heldUsdMicros).toBe(10_000n);
    const lookup = await post(`${server.url}/v1/lookup`, {
      token,
      reference: body.proof.reference,
    });
    expect(lookup.body).toEqual({ status: 'pending' });
  });

  it('maps refusals to status codes with typed, secret-free bodies', async () => {
    const { server, authority } = await start();
    const token = authority.mint({ totalUsd: '0.01', methods: ['GET'] });
    const pay = (t: string, req = payRequest(testOffer(20_000n))) =>
      post(`${server.url}/v1/pay`, { token: t, ...req });

    const invalid = await pay(`${token.slice(0, -6)}AAAAA=`);
    expect(invalid.response.status).toBe(401);
    expect(invalid.body.error.code).toBe('DELEGATION_INVALID');
    expect(invalid.body.paid).toBe(false);

    const exceeded = await pay(token);
    expect(exceeded.response.status).toBe(403);
    expect(exceeded.body.error).toMatchObject({
      name: 'DelegationExceededError',
      code: 'DELEGATION_EXCEEDED',
      details: { reason: 'total' },
    });
    expect(JSON.stringify(exceeded.body)).not.toContain(token);

    const method = await pay(token, payRequest(testOffer(1n), { method: 'DELETE' }));
    expect(method.response.status).toBe(403);
    expect(method.body.error.code).toBe('DELEGATION_OUT_OF_SCOPE');
  });

  it('sends paid/unknown and the reference when the wallet outcome is unknown', async () => {
    const { server, authority, wallet } = await start();
    const token = authority.mint({ totalUsd: '1' });
    wallet.injectFault('unknown-after-paying');
    const { response, body } = await post(`${server.url}/v1/pay`, {
      token,
      ...payRequest(testOffer(10_000n)),
    });
    expect(response.status).toBe(502);
    expect(body.paid).toBe('unknown');
    expect(body.reference).toMatch(/^ref_/);
  });

  it('answers 400, 404 and 405 for malformed calls', async () => {
    const { server, authority } = await start({ maxBodyBytes: 2000 });
    const token = authority.mint({ totalUsd: '1' });
    expect((await post(`${server.url}/v1/pay`, '{nope')).response.status).toBe(400);
    expect((await post(`${server.url}/v1/pay`, '[1]')).response.status).toBe(400);
    expect((await post(`${server.url}/v1/pay`, {})).body.error.code).toBe('AUTHORITY_BAD_REQUEST');
    expect(
      (await post(`${server.url}/v1/pay`, { token, junk: 'x'.repeat(3000) })).response.status,
    ).toBe(400);
    expect((await post(`${server.url}/v1/nothing`, { token })).response.status).toBe(404);
    expect((await fetch(`${server.url}/v1/pay`)).status).toBe(405);
  });

  it('answers CORS preflights; a list of origins restricts them', async () => {
    const open = await start();
    const preflight = await fetch(`${open.server.url}/v1/pay`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type');

    const closed = await start({ cors: ['https://good.example'] });
    const good = await fetch(`${closed.server.url}/v1/pay`, {
      method: 'OPTIONS',
      headers: { origin: 'https://good.example' },
    });
    expect(good.headers.get('access-control-allow-origin')).toBe('https://good.example');
    const bad = await fetch(`${closed.server.url}/v1/pay`, {
      method: 'OPTIONS',
      headers: { origin: 'https://bad.example' },
    });
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
  });
});
