import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { createPaymentIntentsStandIn } from './payment-intents-stand-in.js';
import { SptLedger, testPaymentMethods } from './spt-ledger.js';

const preview = { apiVersion: '2026-07-29.preview' };

/** The params mppx 0.11's server stripe charge sends (see mpp.md §2.2). */
function mppxParams(spt: string, amount = 50) {
  return {
    amount,
    automatic_payment_methods: { allow_redirects: 'never', enabled: true },
    confirm: true,
    currency: 'usd',
    metadata: { machine_payment: 'true', mpp_challenge_id: 'ch_1' },
    shared_payment_granted_token: spt,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) return error;
    throw error;
  }
  throw new Error('expected a Stripe error');
}

describe('createPaymentIntentsStandIn', () => {
  it('records a charge and replays a repeated idempotency key the way mppx detects it', async () => {
    const standIn = createPaymentIntentsStandIn();
    const options = { ...preview, idempotencyKey: 'mpp_ch_1_spt_a' };
    const first = await standIn.client.paymentIntents.create(mppxParams('spt_a'), options);
    expect(first.status).toBe('succeeded');
    expect(first.id).toMatch(/^pi_/);
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();

    const replay = await standIn.client.paymentIntents.create(mppxParams('spt_a'), options);
    expect(replay.id).toBe(first.id);
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');

    expect(standIn.paymentIntents).toHaveLength(1);
    expect(standIn.paymentIntents[0]).toMatchObject({
      amount: 50n,
      currency: 'usd',
      spt: 'spt_a',
      sptParam: 'shared_payment_granted_token',
      idempotencyKey: 'mpp_ch_1_spt_a',
      apiVersion: '2026-07-29.preview',
      metadata: { machine_payment: 'true', mpp_challenge_id: 'ch_1' },
      status: 'succeeded',
      via: 'client',
    });
    expect(standIn.calls.map((c) => c.outcome)).toEqual(['created', 'replayed']);
  });

  it('refuses a reused key with other params, a non-preview version, and unknown params', async () => {
    const standIn = createPaymentIntentsStandIn();
    await standIn.client.paymentIntents.create(mppxParams('spt_a'), {
      ...preview,
      idempotencyKey: 'k',
    });
    const conflict = await rejection(
      standIn.client.paymentIntents.create(mppxParams('spt_a', 60), {
        ...preview,
        idempotencyKey: 'k',
      }),
    );
    expect(conflict).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);

    const old = await rejection(
      standIn.client.paymentIntents.create(mppxParams('spt_b'), {
        apiVersion: '2026-10-28.endive',
      }),
    );
    expect(old).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(old.message).toContain('.preview');

    const unknown = await rejection(
      standIn.client.paymentIntents.create(
        { ...mppxParams('spt_c'), payment_method: 'pm_x' },
        preview,
      ),
    );
    expect(unknown.code).toBe('parameter_unknown');
    expect(unknown.param).toBe('payment_method');

    const small = await rejection(
      standIn.client.paymentIntents.create(mppxParams('spt_d', 49), preview),
    );
    expect(small.code).toBe('amount_too_small');

    expect(standIn.paymentIntents).toHaveLength(1);
    expect(standIn.calls.map((c) => c.outcome)).toEqual([
      'created',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
    ]);
  });

  it('accepts the SPT under payment_method_data as Stripe documents it', async () => {
    const standIn = createPaymentIntentsStandIn();
    const { shared_payment_granted_token: spt, ...rest } = mppxParams('spt_nested');
    await standIn.client.paymentIntents.create(
      { ...rest, payment_method_data: { shared_payment_granted_token: spt } },
      preview,
    );
    expect(standIn.paymentIntents[0]?.sptParam).toBe(
      'payment_method_data.shared_payment_granted_token',
    );
  });

  it('declines the next charge with a StripeCardError and replays the decline', async () => {
    const standIn = createPaymentIntentsStandIn();
    standIn.declineNext({ declineCode: 'insufficient_funds' });
    const options = { ...preview, idempotencyKey: 'decline-1' };
    const declined = await rejection(
      standIn.client.paymentIntents.create(mppxParams('spt_a'), options),
    );
    expect(declined).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(declined.statusCode).toBe(402);
    expect((declined as Stripe.errors.StripeCardError).decline_code).toBe('insufficient_funds');
    expect(standIn.paymentIntents[0]?.status).toBe('requires_payment_method');

    const replayed = await rejection(
      standIn.client.paymentIntents.create(mppxParams('spt_a'), options),
    );
    expect(replayed.headers?.['idempotent-replayed']).toBe('true');

    const next = await standIn.client.paymentIntents.create(mppxParams('spt_b'), preview);
    expect(next.status).toBe('succeeded');
    expect(standIn.paymentIntents.map((p) => p.status)).toEqual([
      'requires_payment_method',
      'succeeded',
    ]);
  });

  it('returns requires_action with a next_action once when told to', async () => {
    const standIn = createPaymentIntentsStandIn();
    standIn.requireActionNext();
    const pi = await standIn.client.paymentIntents.create(mppxParams('spt_a'), preview);
    expect(pi.status).toBe('requires_action');
    expect((pi.next_action as { type: string }).type).toBe('use_stripe_sdk');
    const after = await standIn.client.paymentIntents.create(mppxParams('spt_b'), preview);
    expect(after.status).toBe('succeeded');
  });

  it('checks charges against the shared SPT ledger', async () => {
    let now = Date.parse('2026-11-24T08:00:00Z');
    const ledger = new SptLedger({ now: () => now });
    const standIn = createPaymentIntentsStandIn({ ledger, sellerProfile: 'profile_me' });
    const issue = (overrides: Partial<Parameters<SptLedger['issue']>[0]> = {}) =>
      ledger.issue({
        paymentMethod: 'pm_card_visa',
        currency: 'usd',
        maxAmount: 50n,
        expiresAt: Math.floor(now / 1000) + 60,
        networkBusinessProfile: 'profile_me',
        ...overrides,
      });

    const unknown = await rejection(
      standIn.client.paymentIntents.create(mppxParams('spt_unknown'), preview),
    );
    expect(unknown.code).toBe('resource_missing');

    const other = issue({ networkBusinessProfile: 'profile_other' });
    const wrongSeller = await rejection(
      standIn.client.paymentIntents.create(mppxParams(other.id), preview),
    );
    expect(wrongSeller.code).toBe('stand_in_token_wrong_seller');

    const small = issue({ maxAmount: 50n });
    const tooMuch = await rejection(
      standIn.client.paymentIntents.create(mppxParams(small.id, 60), preview),
    );
    expect(tooMuch.code).toBe('amount_too_large');

    const eur = issue({ currency: 'eur' });
    const wrongCurrency = await rejection(
      standIn.client.paymentIntents.create(mppxParams(eur.id), preview),
    );
    expect(wrongCurrency.code).toBe('stand_in_token_currency_mismatch');

    const declining = issue({ paymentMethod: testPaymentMethods.chargeDeclined });
    const declined = await rejection(
      standIn.client.paymentIntents.create(mppxParams(declining.id), preview),
    );
    expect(declined).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(ledger.get(declining.id)?.amountCaptured).toBe(0n);

    const soon = issue();
    now += 61_000;
    const expired = await rejection(
      standIn.client.paymentIntents.create(mppxParams(soon.id), preview),
    );
    expect(expired.code).toBe('stand_in_token_deactivated');
    expect(ledger.get(soon.id)?.status).toBe('expired');

    const good = issue({ expiresAt: Math.floor(now / 1000) + 60 });
    const pi = await standIn.client.paymentIntents.create(mppxParams(good.id), preview);
    expect(pi.status).toBe('succeeded');
    expect(ledger.get(good.id)).toMatchObject({ amountCaptured: 50n, status: 'consumed' });
    expect(standIn.paymentIntents.map((p) => p.status)).toEqual([
      'requires_payment_method',
      'succeeded',
    ]);
  });
});
