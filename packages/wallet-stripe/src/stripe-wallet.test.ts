import {
  type PayContext,
  type PaymentOffer,
  parseWwwAuthenticateLenient,
  WalletError,
} from '@stipend/client';
import { type StripeStandIn, startStripeStandIn } from '@stipend/testkit/stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// The MPP adapter is not exported from @stipend/client's index yet; its source is used here.
import { encodeBase64UrlJson, mppAdapter } from '../../client/src/protocols/mpp/index.js';
import type { SptToken, SptTokenRequest } from './spt.js';
import { stripeWallet } from './stripe-wallet.js';
import { sptReference } from './token-book.js';

const seller = 'profile_test_seller';
const expires = () => new Date(Date.now() + 300_000).toISOString();

function offerOf(request: Record<string, unknown> = {}, params: Record<string, string> = {}) {
  const all = {
    id: 'chal_1',
    realm: 'shop',
    method: 'stripe',
    intent: 'charge',
    expires: expires(),
    ...params,
    request: encodeBase64UrlJson({
      amount: '50',
      currency: 'usd',
      methodDetails: { networkId: seller, paymentMethodTypes: ['card'] },
      ...request,
    }),
  };
  const www = `Payment ${Object.entries(all)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}`;
  const [offer] = mppAdapter().parse({
    status: 402,
    headers: new Headers({ 'www-authenticate': www }),
    url: new URL('https://shop.example/a'),
    method: 'GET',
    challenges: parseWwwAuthenticateLenient(www).challenges,
    bodyText: async () => undefined,
    now: Date.now(),
  }) as PaymentOffer[];
  return offer!;
}

const context = (overrides: Partial<PayContext> = {}): PayContext => ({
  request: { method: 'GET', url: 'https://shop.example/a' },
  idempotencyKey: 'GET https://shop.example/a',
  maxAuthorizationTtlSec: 3600,
  reservationId: 'r_1',
  now: Date.now(),
  ...overrides,
});

/** The token id behind a proof (the payload carries it; the reference does not). */
const sptOf = (proof: { secret: unknown }) =>
  (proof.secret as { payload: { spt: string } }).payload.spt;

async function walletError(promise: Promise<unknown>): Promise<WalletError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WalletError) return error;
    throw error;
  }
  throw new Error('expected a WalletError');
}

describe('stripeWallet with the real stripe SDK against the SPT stand-in', () => {
  let api: StripeStandIn;
  beforeEach(async () => {
    api = await startStripeStandIn({ sellerProfile: seller });
  });
  afterEach(async () => {
    await api.close();
  });
  const wallet = (extra: Record<string, unknown> = {}) =>
    stripeWallet({ stripe: api.createStripeClient(), paymentMethod: 'pm_card_visa', ...extra });

  it('issues one token scoped to exactly the challenge and returns it as the payload', async () => {
    const offer = offerOf({ externalId: 'order-7' });
    const raw = offer.raw as { challenge: { expires: string } };
    const proof = await wallet().pay(offer, context());
    const [request, ...more] = api.requests;
    expect(more).toHaveLength(0);
    expect(request).toMatchObject({
      method: 'POST',
      path: '/v1/shared_payment/issued_tokens',
      stripeVersion: '2026-07-29.preview',
      idempotencyKey: 'stipend-spt-chal_1-r_1',
      apiKeyValid: true,
      params: {
        payment_method: 'pm_card_visa',
        usage_limits: {
          currency: 'usd',
          max_amount: '50',
          expires_at: String(Math.floor(Date.parse(raw.challenge.expires) / 1000)),
        },
        seller_details: { network_business_profile: seller },
      },
    });
    const token = api.ledger.list()[0]!;
    expect(proof).toMatchObject({
      offerId: offer.id,
      reference: sptReference(token.id),
      settlement: 'authorization',
      validUntil: Math.floor(Date.parse(raw.challenge.expires) / 1000) * 1000,
      paid: offer.amount,
      secret: { payload: { spt: token.id, externalId: 'order-7' } },
    });
    expect(token.status).toBe('active');
  });

  it('never lets a token outlive the policy cap; a repeated pay of one attempt reuses its token', async () => {
    const offer = offerOf();
    const now = Date.now();
    await wallet().pay(offer, context({ now, maxAuthorizationTtlSec: 60 }));
    expect(api.ledger.list()[0]!.usageLimits.expiresAt).toBe(Math.floor((now + 60_000) / 1000));
    await wallet().pay(offer, context({ now, maxAuthorizationTtlSec: 60 }));
    expect(api.ledger.list()).toHaveLength(1);
    expect(api.requests.map((r) => r.replayed)).toEqual([false, true]);
    await wallet().pay(offer, context({ now, reservationId: 'r_2' }));
    expect(api.ledger.list()).toHaveLength(2);
  });

  it('echoes its own externalId when the challenge sets none', async () => {
    const proof = await wallet({ externalId: 'agent-run-3' }).pay(offerOf(), context());
    expect((proof.secret as { payload: unknown }).payload).toMatchObject({
      externalId: 'agent-run-3',
    });
  });

  it('skips offers it cannot pay, with the reason', () => {
    const w = wallet();
    expect(w.canPay(offerOf())).toBe(true);
    expect(w.canPay(offerOf({ amount: '49' }))).toBe(
      "$0.49 is below Stripe's card minimum of 50 usd minor units; Shared Payment Tokens cannot pay it",
    );
    expect(w.canPay(offerOf({ amount: '29', currency: 'gbp' }))).toMatch(/minimum of 30 gbp/);
    expect(w.canPay(offerOf({ amount: '30', currency: 'gbp' }))).toBe(true);
    expect(w.canPay(offerOf({ amount: '100000000' }))).toMatch(/largest charge/);
    expect(
      w.canPay(
        offerOf({ methodDetails: { networkId: seller, paymentMethodTypes: ['sepa_debit'] } }),
      ),
    ).toMatch(/seller takes sepa_debit payment methods/);
    expect(w.canPay({ ...offerOf(), scheme: 'evm.charge' })).toBe('it pays mpp:stripe.charge only');
    expect(w.canPay({ ...offerOf(), raw: {} })).toBe('the offer carries no MPP challenge');
  });

  it('refuses to pay what canPay refuses, before calling Stripe', async () => {
    const error = await walletError(wallet().pay(offerOf({ amount: '10' }), context()));
    expect(error.paid).toBe(false);
    expect(api.requests).toHaveLength(0);
  });

  it('turns a next_action into an approval-needed error and revokes the token', async () => {
    const error = await walletError(
      wallet({ paymentMethod: 'pm_card_authenticationRequired' }).pay(offerOf(), context()),
    );
    expect(error.code).toBe('WALLET_ACTION_REQUIRED');
    expect(error.paid).toBe(false);
    expect(error.shortMessage).toMatch(/needs a person to act.*use_stripe_sdk/);
    expect(error.details).toMatchObject({ nextAction: 'use_stripe_sdk' });
    expect(api.ledger.list()[0]!.status).toBe('revoked');
  });

  it('reports a Stripe refusal as not paid', async () => {
    const error = await walletError(
      wallet({ paymentMethod: 'not-a-pm' }).pay(offerOf(), context()),
    );
    expect(error.code).toBe('WALLET_STRIPE_ERROR');
    expect(error.paid).toBe(false);
    expect(error.shortMessage).toMatch(/^Stripe did not issue a Shared Payment Token: /);
    expect(error.details).toMatchObject({ status: 404, stripeCode: 'resource_missing' });
  });

  it('lookup tells used from unused by reference, without revoking; void revokes', async () => {
    const w = wallet();
    const a = await w.pay(offerOf(), context());
    const b = await w.pay(offerOf({}, { id: 'chal_2' }), context());
    api.ledger.capture(sptOf(a), 50n);
    expect(await w.lookup!(a.reference, offerOf())).toBe('paid');
    // Still usable: lookup says pending and leaves it alone.
    expect(await w.lookup!(b.reference, offerOf())).toBe('pending');
    expect(api.ledger.get(sptOf(b))!.status).toBe('active');
    // void: revoked, and Stripe confirms it dead and unused.
    expect(await w.void!(b.reference, offerOf())).toBe(true);
    expect(api.ledger.get(sptOf(b))!.status).toBe('revoked');
    expect(await w.lookup!(b.reference, offerOf())).toBe('failed');
    // A used token is never voided; an unknown reference is neither.
    expect(await w.void!(a.reference, offerOf())).toBe(false);
    expect(await w.void!('spt:unknown', offerOf())).toBe(false);
    expect(await w.lookup!('spt:unknown', offerOf())).toBe('pending');
  });

  it('Proof.reference is never the SPT id (the credential); it is spt: + a short SHA-256', async () => {
    const proof = await wallet().pay(offerOf(), context());
    const token = api.ledger.list()[0]!;
    expect(proof.reference).toMatch(/^spt:[0-9a-f]{32}$/);
    expect(proof.reference).not.toContain(token.id);
    expect(proof.reference).not.toContain(token.id.slice(4));
    expect((proof.secret as { payload: { spt: string } }).payload.spt).toBe(token.id);
  });

  it('validUntil is the token expiry: held at least until Stripe says it dies', async () => {
    const later = Math.floor(Date.now() / 1000) + 7200;
    const w = stripeWallet({
      createToken: async () => ({
        id: 'spt_test_late',
        status: 'active',
        usage_limits: { expires_at: later },
      }),
    });
    const proof = await w.pay(offerOf(), context());
    expect(proof.validUntil).toBe(later * 1000);
  });

  it('delegates token creation to a callback (browser mode)', async () => {
    const seen: SptTokenRequest[] = [];
    const stripe = api.createStripeClient();
    const browser = stripeWallet({
      createToken: async (request) => {
        seen.push(request);
        return (await stripe.rawRequest(
          'POST',
          '/v1/shared_payment/issued_tokens',
          {
            payment_method: 'pm_card_visa',
            usage_limits: {
              currency: request.currency,
              max_amount: request.amount,
              expires_at: request.expiresAt,
            },
            seller_details: { network_business_profile: request.networkId },
          },
          { apiVersion: '2026-07-29.preview', idempotencyKey: request.idempotencyKey },
        )) as { id: string };
      },
    });
    const offer = offerOf();
    const proof = await browser.pay(offer, context());
    expect(seen).toEqual([
      {
        challengeId: 'chal_1',
        paymentMethod: undefined,
        amount: '50',
        currency: 'usd',
        expiresAt: expect.any(Number),
        networkId: seller,
        idempotencyKey: 'stipend-spt-chal_1-r_1',
      },
    ]);
    expect((proof.secret as { payload: unknown }).payload).toEqual({
      spt: api.ledger.list()[0]!.id,
    });
    // No retrieveToken/revokeToken: the outcome stays unknown, and void cannot confirm.
    expect(await browser.lookup!(proof.reference, offer)).toBe('pending');
    expect(await browser.void!(proof.reference, offer)).toBe(false);
  });

  it('delegated mode looks up and revokes through retrieveToken / revokeToken', async () => {
    const stripe = api.createStripeClient();
    const call = (method: string, path: string, params: Record<string, unknown> = {}) =>
      stripe.rawRequest(method, path, params, {
        apiVersion: '2026-07-29.preview',
      }) as Promise<SptToken>;
    const browser = stripeWallet({
      createToken: (request) =>
        call('POST', '/v1/shared_payment/issued_tokens', {
          payment_method: 'pm_card_visa',
          usage_limits: {
            currency: request.currency,
            max_amount: request.amount,
            expires_at: request.expiresAt,
          },
          seller_details: { network_business_profile: request.networkId },
        }),
      retrieveToken: (id) => call('GET', `/v1/shared_payment/issued_tokens/${id}`),
      revokeToken: (id) => call('POST', `/v1/shared_payment/issued_tokens/${id}/revoke`),
    });
    const offer = offerOf();
    const proof = await browser.pay(offer, context());
    expect(await browser.lookup!(proof.reference, offer)).toBe('pending');
    expect(await browser.void!(proof.reference, offer)).toBe(true);
    expect(await browser.lookup!(proof.reference, offer)).toBe('failed');
  });

  it('createToken must resolve to a token object: a bare string, no id or a non-SPT id is a paid:false WalletError naming createToken', async () => {
    const cases: [unknown, RegExp][] = [
      ['spt_test_123', /createToken \}\) returned a string; it must return the token object/],
      [{ status: 'active' }, /createToken \}\) answered without a Shared Payment Token id/],
      [
        { id: 'pm_card_visa' },
        /createToken \}\) returned an id that is not a Shared Payment Token id/,
      ],
      [null, /createToken \}\) answered without a Shared Payment Token id/],
    ];
    for (const [answer, message] of cases) {
      const w = stripeWallet({ createToken: async () => answer as SptToken });
      const error = await walletError(w.pay(offerOf(), context()));
      expect(error.paid).toBe(false);
      expect(error.code).toBe('WALLET_CONFIG_INVALID');
      expect(error.shortMessage).toMatch(message);
      expect(error.shortMessage).toMatch(/Nothing was paid\.$/);
    }
  });

  it('a refusal before a token exists is paid:false; an aborted payment issues nothing', async () => {
    const refused = stripeWallet({
      createToken: async () => {
        throw Object.assign(new Error('Your card was declined.'), {
          code: 'card_declined',
          statusCode: 402,
        });
      },
    });
    const error = await walletError(refused.pay(offerOf(), context()));
    expect(error).toMatchObject({ paid: false, code: 'WALLET_STRIPE_ERROR' });
    expect(error.shortMessage).toMatch(/declined.*card_declined/);
    const controller = new AbortController();
    controller.abort();
    let issued = 0;
    const aborted = stripeWallet({
      createToken: async () => {
        issued++;
        return { id: 'spt_test_x' };
      },
    });
    const stopped = await walletError(
      aborted.pay(offerOf(), context({ signal: controller.signal })),
    );
    expect(stopped).toMatchObject({ paid: false, code: 'WALLET_ABORTED' });
    expect(issued).toBe(0);
  });

  it('no error carries the SPT id (next_action and odd statuses name the reference)', async () => {
    const error = await walletError(
      wallet({ paymentMethod: 'pm_card_authenticationRequired' }).pay(offerOf(), context()),
    );
    const id = api.ledger.list()[0]!.id;
    expect(JSON.stringify(error)).not.toContain(id);
    expect(error.message).not.toContain(id);
    expect(error.reference).toBe(sptReference(id));
    const odd = stripeWallet({
      createToken: async () => ({ id: 'spt_test_odd', status: 'weird' }),
    });
    const oddError = await walletError(odd.pay(offerOf(), context()));
    expect(JSON.stringify(oddError)).not.toContain('spt_test_odd');
    expect(oddError.message).not.toContain('spt_test_odd');
  });

  it('needs a stripe client with a payment method, or a callback', () => {
    expect(() => stripeWallet({})).toThrow(/stripe client .* or a createToken callback/);
    expect(() => stripeWallet({ stripe: api.createStripeClient() })).toThrow(/paymentMethod/);
    expect(() => stripeWallet({ stripe: {} as never, paymentMethod: 'pm_1' })).toThrow(
      /stripe must be a stripe SDK client/,
    );
    expect(() => stripeWallet({ createToken: 'spt_1' as never })).toThrow(
      /createToken must be a function/,
    );
  });
});
