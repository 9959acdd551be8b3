import { describe, expect, it } from 'vitest';
import { canonicalParams, parseStripeForm } from './form-encoding.js';
import { StripeApiError } from './stripe-errors.js';

describe('parseStripeForm', () => {
  it('decodes bracketed keys into nested objects and indexed keys into arrays', () => {
    const body =
      'payment_method=pm_card_visa&usage_limits%5Bcurrency%5D=usd&usage_limits[max_amount]=75' +
      '&payment_method_types[0]=card&payment_method_types[1]=link&metadata[a%20b]=x%26y&tags[]=p&tags[]=q';
    expect(parseStripeForm(body)).toEqual({
      payment_method: 'pm_card_visa',
      usage_limits: { currency: 'usd', max_amount: '75' },
      payment_method_types: ['card', 'link'],
      metadata: { 'a b': 'x&y' },
      tags: ['p', 'q'],
    });
  });

  it('refuses a key used as both a value and an object, and malformed brackets', () => {
    expect(() => parseStripeForm('a=1&a[b]=2')).toThrow(StripeApiError);
    expect(() => parseStripeForm('a[b]=2&a=1')).toThrow(/both as a value and as an object/);
    expect(() => parseStripeForm('a[b=1')).toThrow(/Invalid form key/);
    expect(() => parseStripeForm('[x]=1')).toThrow(/Invalid form key/);
  });
});

describe('canonicalParams', () => {
  it('ignores key order and number/string leaf types but not values', () => {
    expect(canonicalParams({ b: { y: 1, x: true }, a: 'z' })).toBe(
      canonicalParams({ a: 'z', b: { x: 'true', y: '1' } }),
    );
    expect(canonicalParams({ a: 1 })).not.toBe(canonicalParams({ a: 2 }));
    expect(canonicalParams({ a: [1, 2] })).not.toBe(canonicalParams({ a: [2, 1] }));
  });
});
