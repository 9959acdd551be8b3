import { describe, expect, it } from 'vitest';
import { acceptPaymentHeader } from './accept-payment.js';
import { mppAdapter } from './adapter.js';

describe('acceptPaymentHeader', () => {
  it('lists MPP rails as method/intent in wallet order', () => {
    expect(acceptPaymentHeader(['mpp:stripe.charge', 'mpp:evm.charge'])).toBe(
      'stripe/charge, evm/charge;q=0.9',
    );
  });

  it('puts preferred rails first and ignores other protocols and duplicates', () => {
    expect(
      acceptPaymentHeader(
        ['x402:exact', 'mpp:stripe.charge', 'l402:bolt11', 'mpp:evm.charge', 'mpp:evm.charge'],
        ['x402', 'mpp:evm.charge'],
      ),
    ).toBe('evm/charge, stripe/charge;q=0.9');
  });

  it('ranks a whole-protocol preference after exact rail preferences listed before it', () => {
    expect(
      acceptPaymentHeader(
        ['mpp:tempo.charge', 'mpp:stripe.charge', 'mpp:lightning.charge'],
        ['mpp:lightning.charge', 'mpp'],
      ),
    ).toBe('lightning/charge, tempo/charge;q=0.9, stripe/charge;q=0.8');
  });

  it('floors q at 0.1 and returns undefined without MPP rails', () => {
    const rails = Array.from({ length: 12 }, (_, i) => `mpp:m${i}.charge`);
    const value = acceptPaymentHeader(rails)!;
    expect(value.split(', ').at(-1)).toBe('m11/charge;q=0.1');
    expect(value.split(', ')[9]).toBe('m9/charge;q=0.1');
    expect(acceptPaymentHeader(['x402:exact', 'l402:bolt11'])).toBeUndefined();
    expect(acceptPaymentHeader([])).toBeUndefined();
    expect(acceptPaymentHeader(['mpp:Bad Rail'])).toBeUndefined();
  });
});

describe('mppAdapter().acceptHeaders', () => {
  it('returns the Accept-Payment header only when a wallet pays an MPP rail', () => {
    const adapter = mppAdapter();
    expect(adapter.acceptHeaders?.(['mpp:stripe.charge', 'x402:exact'], [])).toEqual({
      'accept-payment': 'stripe/charge',
    });
    expect(adapter.acceptHeaders?.(['x402:exact'], ['mpp'])).toBeUndefined();
  });
});
