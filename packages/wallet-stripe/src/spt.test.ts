import { describe, expect, it } from 'vitest';
import { CARD_MINIMUMS } from './card-minimum.js';
import { asToken, capturedOf, issueParams, tokenOutcome } from './spt.js';

describe('Shared Payment Token helpers', () => {
  it('builds the issue parameters from one challenge', () => {
    expect(
      issueParams({
        challengeId: 'c',
        paymentMethod: 'pm_1',
        amount: '75',
        currency: 'usd',
        expiresAt: 1_795_505_818,
        networkId: 'profile_1',
        idempotencyKey: 'stipend-spt-c',
      }),
    ).toEqual({
      payment_method: 'pm_1',
      usage_limits: { currency: 'usd', max_amount: '75', expires_at: 1_795_505_818 },
      seller_details: { network_business_profile: 'profile_1' },
    });
  });

  it('reads the captured amount in either shape', () => {
    expect(capturedOf({ id: 's', usage_details: { amount_captured: 75 } })).toBe(75);
    expect(capturedOf({ id: 's', usage_details: { amount_captured: { value: 20 } } })).toBe(20);
    expect(capturedOf({ id: 's' })).toBe(0);
  });

  it('tells paid, failed and open tokens apart', () => {
    expect(tokenOutcome({ id: 's', status: 'active' })).toBe('open');
    expect(tokenOutcome({ id: 's', status: 'requires_action' })).toBe('open');
    expect(tokenOutcome({ id: 's', status: 'consumed', deactivated_reason: 'consumed' })).toBe(
      'paid',
    );
    expect(
      tokenOutcome({
        id: 's',
        status: 'revoked',
        deactivated_reason: 'revoked',
        usage_details: { amount_captured: { value: 10 } },
      }),
    ).toBe('paid');
    expect(tokenOutcome({ id: 's', status: 'expired', deactivated_reason: 'expired' })).toBe(
      'failed',
    );
    expect(tokenOutcome({ id: 's', status: 'revoked', deactivated_reason: 'revoked' })).toBe(
      'failed',
    );
  });

  it('refuses an answer without a token id', () => {
    expect(() => asToken({ object: 'error' })).toThrow(/without a Shared Payment Token id/);
    expect(() => asToken(null)).toThrow();
    expect(asToken({ id: 'spt_1' }).id).toBe('spt_1');
  });

  it('keeps the documented card minimums (USD 0.50, GBP 0.30, JPY 50)', () => {
    expect(CARD_MINIMUMS.usd).toBe(50n);
    expect(CARD_MINIMUMS.gbp).toBe(30n);
    expect(CARD_MINIMUMS.jpy).toBe(50n);
    expect(Object.isFrozen(CARD_MINIMUMS)).toBe(true);
  });
});
