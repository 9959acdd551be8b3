import { type StripeStandIn, startStripeStandIn } from '@stipend/testkit/stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formEncode, StripeApiError, stripeApi } from './stripe-api.js';

let standIn: StripeStandIn;
beforeAll(async () => {
  standIn = await startStripeStandIn({ sellerProfile: 'profile_seller' });
});
afterAll(async () => {
  await standIn?.close();
});

describe('formEncode', () => {
  it('encodes nested objects and arrays the way Stripe reads them, skipping undefined', () => {
    expect(formEncode({ a: 'x y', b: { c: 1, d: undefined }, e: ['p', 'q'], f: null })).toBe(
      'a=x%20y&b%5Bc%5D=1&e%5B0%5D=p&e%5B1%5D=q&f=',
    );
  });
});

describe('stripeApi', () => {
  it('issues, reads and revokes a Shared Payment Token with the secret key, version and idempotency key', async () => {
    const api = stripeApi({ secretKey: standIn.secretKey, apiUrl: `${standIn.url}/` });
    const params = {
      payment_method: 'pm_card_visa',
      usage_limits: {
        currency: 'usd',
        max_amount: '50',
        expires_at: Math.floor(Date.now() / 1000) + 300,
      },
      seller_details: { network_business_profile: 'profile_seller' },
    };
    const options = { apiVersion: standIn.apiVersion, idempotencyKey: 'spt-test-1' };
    const token = (await api.rawRequest(
      'POST',
      '/v1/shared_payment/issued_tokens',
      params,
      options,
    )) as { id: string };
    expect(token.id).toMatch(/^spt_/);
    const again = (await api.rawRequest(
      'POST',
      '/v1/shared_payment/issued_tokens',
      params,
      options,
    )) as { id: string };
    expect(again.id).toBe(token.id);
    const read = (await api.rawRequest(
      'GET',
      `/v1/shared_payment/issued_tokens/${token.id}`,
      {},
      { apiVersion: standIn.apiVersion },
    )) as { id: string };
    expect(read.id).toBe(token.id);
    const last = standIn.requests.at(-1)!;
    expect(last).toMatchObject({
      method: 'GET',
      authScheme: 'bearer',
      apiKeyValid: true,
      stripeVersion: standIn.apiVersion,
    });
    const first = standIn.requests.find((r) => r.method === 'POST')!;
    expect(first).toMatchObject({
      idempotencyKey: 'spt-test-1',
      contentType: 'application/x-www-form-urlencoded',
    });
  });

  it('throws Stripe errors shaped like the SDK: type, code, status', async () => {
    const bad = stripeApi({ secretKey: 'sk_wrong', apiUrl: standIn.url });
    const error = await bad
      .rawRequest(
        'GET',
        '/v1/shared_payment/issued_tokens/spt_x',
        {},
        { apiVersion: standIn.apiVersion },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StripeApiError);
    expect(error).toMatchObject({ statusCode: 401, type: 'invalid_request_error' });
  });
});
