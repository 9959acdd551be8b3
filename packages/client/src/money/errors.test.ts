import { describe, expect, it } from 'vitest';
import { AmountError, MoneyError, PriceUnavailableError, UnitMismatchError } from './errors.js';

describe('money errors', () => {
  it('carry stable codes, names and fields', () => {
    const amountError = new AmountError('bad', { cause: 'x' });
    expect(amountError).toBeInstanceOf(MoneyError);
    expect(amountError).toBeInstanceOf(Error);
    expect([amountError.code, amountError.name, amountError.message, amountError.cause]).toEqual([
      'AMOUNT_INVALID',
      'AmountError',
      'bad',
      'x',
    ]);

    const mismatch = new UnitMismatchError('a', 'b', 'differ');
    expect(mismatch).toBeInstanceOf(AmountError);
    expect([mismatch.code, mismatch.name, mismatch.left, mismatch.right]).toEqual([
      'AMOUNT_INVALID',
      'UnitMismatchError',
      'a',
      'b',
    ]);

    const price = new PriceUnavailableError('lightning:msat', 'stale', 'old');
    expect(price).toBeInstanceOf(MoneyError);
    expect([price.code, price.name, price.unitKey, price.reason]).toEqual([
      'PRICE_UNAVAILABLE',
      'PriceUnavailableError',
      'lightning:msat',
      'stale',
    ]);
  });
});
