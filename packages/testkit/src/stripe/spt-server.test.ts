import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testPaymentMethods } from './spt-ledger.js';
import type { StripeStandIn } from './spt-server.js';
import { sptPreviewApiVersion, startStripeStandIn } from './spt-server.js';
import { createSptTokenCallback } from './spt-token-callback.js';

const seller = 'profile_test_seller';

function issueParams(overrides: Record<string, unknown> = {}) {
  return {
    payment_method: 'pm_card_visa',
    usage_limits: {
      currency: 'usd',
      max_amount: 75,
      expires_at: Math.floor(Date.now() / 1000) + 300,
    },
    seller_details: { network_business_profile: seller },
    ...overrides,
  };
}

async function stripeError(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) return error;
    throw error;
  }
  throw new Error('expected the Stripe call to fail');
}

describe('startStripeStandIn with the real stripe SDK', () => {
  let api: StripeStandIn;
  let stripe: Stripe;

  beforeEach(async () => {
    api = await startStripeStandIn({ sellerProfile: seller });
    stripe = api.createStripeClient();
  });
  afterEach(async () => {
    await api.close();
  });

  it('issues an SPT from a form-encoded, versioned, idempotent request and records it', async () => {
    const token = await stripe.rawRequest(
      'POST',
      '/v1/shared_payment/issued_tokens',
      issueParams(),
      {
        apiVersion: sptPreviewApiVersion,
        idempotencyKey: 'mpp-spt-challenge-1',
      },
    );
    expect(token.id).toMatch(/^spt_test_[0-9a-f]{24}$/);
    expect(token).toMatchObject({
      object: 'shared_payment.issued_token',
      status: 'active',
      payment_method: 'pm_card_visa',
      seller_details: { network_business_profile: seller, external_id: null },
      usage_limits: { currency: 'usd', max_amount: 75 },
      usage_details: { amount_captured: { value: 0, currency: 'usd' } },
      deactivated_reason: null,
      next_action: null,
    });

    expect(api.requests).toHaveLength(1);
    const [request] = api.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: '/v1/shared_payment/issued_tokens',
      authScheme: 'bearer',
      apiKeyValid: true,
      stripeVersion: '2026-07-29.preview',
      idempotencyKey: 'mpp-spt-challenge-1',
      status: 200,
      replayed: false,
    });
    expect(request?.contentType).toBe('application/x-www-form-urlencoded');
    expect(decodeURIComponent(request?.rawBody ?? '')).toContain('usage_limits[max_amount]=75');
    expect(decodeURIComponent(request?.rawBody ?? '')).toContain(
      `seller_details[network_business_profile]=${seller}`,
    );
    expect(request?.headers.authorization).toBe('bearer');
    expect(api.ledger.get(token.id)?.usageLimits.maxAmount).toBe(75n);
  });

  it('replays a repeated idempotency key with Idempotent-Replayed and issues no second token', async () => {
    const options = { apiVersion: sptPreviewApiVersion, idempotencyKey: 'same-key' };
    const params = issueParams();
    const first = await stripe.rawRequest(
      'POST',
      '/v1/shared_payment/issued_tokens',
      params,
      options,
    );
    const second = await stripe.rawRequest(
      'POST',
      '/v1/shared_payment/issued_tokens',
      params,
      options,
    );
    expect(second.id).toBe(first.id);
    expect(api.ledger.list()).toHaveLength(1);
    expect(api.requests.map((r) => r.replayed)).toEqual([false, true]);
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');

    const conflict = await stripeError(
      stripe.rawRequest(
        'POST',
        '/v1/shared_payment/issued_tokens',
        issueParams({ usage_limits: { currency: 'usd', max_amount: 76 } }),
        options,
      ),
    );
    expect(conflict).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(conflict.statusCode).toBe(400);
    expect(api.ledger.list()).toHaveLength(1);
  });

  it('retrieves and revokes a token, and refuses a second revoke', async () => {
    const token = await stripe.rawRequest(
      'POST',
      '/v1/shared_payment/issued_tokens',
      issueParams(),
      {
        apiVersion: sptPreviewApiVersion,
        idempotencyKey: 'k1',
      },
    );
    const fetched = await stripe.rawRequest(
      'GET',
      `/v1/shared_payment/issued_tokens/${token.id}`,
      {},
      { apiVersion: sptPreviewApiVersion },
    );
    expect(fetched).toMatchObject({ id: token.id, status: 'active' });

    const revoked = await stripe.rawRequest(
      'POST',
      `/v1/shared_payment/issued_tokens/${token.id}/revoke`,
      {},
      { apiVersion: sptPreviewApiVersion, idempotencyKey: 'revoke-1' },
    );
    expect(revoked).toMatchObject({
      id: token.id,
      status: 'revoked',
      deactivated_reason: 'revoked',
    });
    expect(typeof revoked.deactivated_at).toBe('number');

    const again = await stripeError(
      stripe.rawRequest(
        'POST',
        `/v1/shared_payment/issued_tokens/${token.id}/revoke`,
        {},
        { apiVersion: sptPreviewApiVersion, idempotencyKey: 'revoke-2' },
      ),
    );
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(again.code).toBe('stand_in_token_deactivated');

    const missing = await stripeError(
      stripe.rawRequest(
        'GET',
        '/v1/shared_payment/issued_tokens/spt_nope',
        {},
        {
          apiVersion: sptPreviewApiVersion,
        },
      ),
    );
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe('resource_missing');
  });

  it('answers bad requests with Stripe-shaped errors', async () => {
    const opts = (key: string) => ({ apiVersion: sptPreviewApiVersion, idempotencyKey: key });
    const noLimit = await stripeError(
      stripe.rawRequest(
        'POST',
        '/v1/shared_payment/issued_tokens',
        issueParams({ usage_limits: { currency: 'usd' } }),
        opts('a'),
      ),
    );
    expect(noLimit).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(noLimit.code).toBe('parameter_missing');
    expect(noLimit.param).toBe('usage_limits[max_amount]');

    const oldName = await stripeError(
      stripe.rawRequest(
        'POST',
        '/v1/shared_payment/issued_tokens',
        issueParams({ seller_details: { network_id: seller } }),
        opts('b'),
      ),
    );
    expect(oldName.code).toBe('parameter_unknown');
    expect(oldName.param).toBe('seller_details[network_id]');
    expect(oldName.message).toContain('network_business_profile');

    const expired = await stripeError(
      stripe.rawRequest(
        'POST',
        '/v1/shared_payment/issued_tokens',
        issueParams({ usage_limits: { currency: 'usd', max_amount: 75, expires_at: 1000 } }),
        opts('c'),
      ),
    );
    expect(expired.param).toBe('usage_limits[expires_at]');

    const notPreview = await stripeError(
      stripe.rawRequest('POST', '/v1/shared_payment/issued_tokens', issueParams(), {
        apiVersion: '2026-10-28.endive',
        idempotencyKey: 'd',
      }),
    );
    expect(notPreview.code).toBe('stand_in_preview_version_required');

    const badKey = new Stripe('sk_test_wrong_key_123456', {
      host: '127.0.0.1',
      port: api.port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    const unauthorized = await stripeError(
      badKey.rawRequest('POST', '/v1/shared_payment/issued_tokens', issueParams(), opts('e')),
    );
    expect(unauthorized).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(unauthorized.message).not.toContain('sk_test_wrong_key_123456');

    expect(api.ledger.list()).toHaveLength(0);
    expect(api.requests.map((r) => r.status)).toEqual([400, 400, 400, 400, 401]);
  });

  it('refuses a POST without Idempotency-Key when told to require one', async () => {
    const response = await fetch(`${api.url}/v1/shared_payment/issued_tokens`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${api.secretKey}`,
        'content-type': 'application/x-www-form-urlencoded',
        'stripe-version': sptPreviewApiVersion,
      },
      body: 'payment_method=pm_card_visa&usage_limits[currency]=usd&usage_limits[max_amount]=50&seller_details[network_business_profile]=x',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string } };
    expect(body.error.code).toBe('stand_in_idempotency_key_required');

    const json = await fetch(`${api.url}/v1/shared_payment/issued_tokens`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${api.secretKey}:`).toString('base64')}`,
        'content-type': 'application/json',
        'stripe-version': sptPreviewApiVersion,
        'idempotency-key': 'json-1',
      },
      body: JSON.stringify(issueParams()),
    });
    expect(json.status).toBe(400);
    expect(api.requests[1]?.authScheme).toBe('basic');
    expect(api.requests[1]?.apiKeyValid).toBe(true);
  });

  it('issues a requires_action token for the authentication-required test card', async () => {
    const token = await stripe.rawRequest(
      'POST',
      '/v1/shared_payment/issued_tokens',
      issueParams({ payment_method: testPaymentMethods.authenticationRequired }),
      { apiVersion: sptPreviewApiVersion, idempotencyKey: 'auth-1' },
    );
    expect(token.status).toBe('requires_action');
    expect(token.next_action.type).toBe('use_stripe_sdk');
  });

  it('charges an issued token through POST /v1/payment_intents and marks it consumed', async () => {
    const token = await stripe.rawRequest(
      'POST',
      '/v1/shared_payment/issued_tokens',
      issueParams(),
      {
        apiVersion: sptPreviewApiVersion,
        idempotencyKey: 'issue-pi',
      },
    );
    const params = {
      amount: 75,
      currency: 'usd',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      metadata: { mpp_challenge_id: 'c1' },
      shared_payment_granted_token: token.id,
    } as Stripe.PaymentIntentCreateParams;
    const options = { apiVersion: sptPreviewApiVersion, idempotencyKey: `mpp_c1_${token.id}` };
    const pi = await stripe.paymentIntents.create(params, options);
    expect(pi.status).toBe('succeeded');
    expect(pi.amount).toBe(75);
    expect(pi.lastResponse.headers['idempotent-replayed']).toBeUndefined();

    const replay = await stripe.paymentIntents.create(params, options);
    expect(replay.id).toBe(pi.id);
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');

    expect(api.paymentIntents.paymentIntents).toHaveLength(1);
    expect(api.paymentIntents.paymentIntents[0]).toMatchObject({
      amount: 75n,
      currency: 'usd',
      spt: token.id,
      via: 'http',
      idempotencyKey: `mpp_c1_${token.id}`,
      metadata: { mpp_challenge_id: 'c1' },
    });
    expect(api.paymentIntents.calls.map((c) => c.outcome)).toEqual(['created', 'replayed']);

    const after = await stripe.rawRequest(
      'GET',
      `/v1/shared_payment/issued_tokens/${token.id}`,
      {},
      { apiVersion: sptPreviewApiVersion },
    );
    expect(after).toMatchObject({
      status: 'consumed',
      deactivated_reason: 'consumed',
      usage_details: { amount_captured: { value: 75, currency: 'usd' } },
    });

    const reuse = await stripeError(
      stripe.paymentIntents.create(params, { ...options, idempotencyKey: 'another-key' }),
    );
    expect(reuse.code).toBe('stand_in_token_deactivated');
    expect(api.paymentIntents.paymentIntents).toHaveLength(1);

    const retrieved = await stripe.paymentIntents.retrieve(
      pi.id,
      {},
      { apiVersion: sptPreviewApiVersion },
    );
    expect(retrieved.status).toBe('succeeded');
  });

  it('builds an mppx createToken callback that issues a challenge-scoped SPT', async () => {
    const issued: string[] = [];
    const createToken = createSptTokenCallback(stripe, { onToken: (t) => issued.push(t.id) });
    const expiresAt = Math.floor(Date.now() / 1000) + 120;
    const spt = await createToken({
      amount: '50',
      currency: 'usd',
      expiresAt,
      networkId: seller,
      paymentMethod: 'pm_card_visa',
      challenge: { id: 'challenge-abc' },
    });
    expect(issued).toEqual([spt]);
    expect(api.requests[0]?.idempotencyKey).toBe('mpp-spt-challenge-abc');
    const token = api.ledger.get(spt);
    expect(token?.usageLimits).toEqual({ currency: 'usd', maxAmount: 50n, expiresAt });
    expect(token?.sellerDetails.networkBusinessProfile).toBe(seller);

    await expect(
      createToken({
        amount: '50',
        currency: 'usd',
        expiresAt,
        networkId: seller,
        paymentMethod: testPaymentMethods.authenticationRequired,
        challenge: { id: 'challenge-def' },
      }),
    ).rejects.toThrow(/requires_action/);
  });
});
