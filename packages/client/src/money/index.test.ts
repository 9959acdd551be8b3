import { describe, expect, it } from 'vitest';
import {
  AmountError,
  addAmounts,
  amount,
  applyRate,
  chainPriceSources,
  fiatUnit,
  fixedPriceSource,
  formatAmount,
  formatDecimal,
  formatUsd,
  iso4217Codes,
  iso4217Exponent,
  MoneyError,
  MSAT_PER_BTC,
  MSAT_PER_SAT,
  msat,
  msatUnit,
  PriceUnavailableError,
  parseDecimal,
  parseDecimalFraction,
  parseUsd,
  pegPriceSource,
  rateFromUsdPrice,
  sameUnit,
  sats,
  tokenKey,
  toUsdMicros,
  UnitMismatchError,
  unitKey,
} from './index.js';

describe('money index', () => {
  it('re-exports the public API', () => {
    const functions = [
      addAmounts,
      amount,
      applyRate,
      chainPriceSources,
      fiatUnit,
      fixedPriceSource,
      formatAmount,
      formatDecimal,
      formatUsd,
      iso4217Codes,
      iso4217Exponent,
      msat,
      parseDecimal,
      parseDecimalFraction,
      parseUsd,
      pegPriceSource,
      rateFromUsdPrice,
      sameUnit,
      sats,
      tokenKey,
      toUsdMicros,
      unitKey,
    ];
    for (const fn of functions) expect(typeof fn).toBe('function');
    expect(new UnitMismatchError('a', 'b', 'm')).toBeInstanceOf(AmountError);
    expect(PriceUnavailableError.prototype).toBeInstanceOf(MoneyError);
    expect(msatUnit).toEqual({ kind: 'msat' });
    expect(MSAT_PER_BTC).toBe(100_000_000_000n);
    expect(MSAT_PER_SAT).toBe(1000n);
  });

  it('works end to end', async () => {
    const prices = chainPriceSources(pegPriceSource(), fixedPriceSource({ btcUsd: '100000' }));
    const cost = addAmounts(sats(1500n), msat(500n));
    expect(formatAmount(cost)).toBe('1500.5 sat');
    const { usdMicros } = await toUsdMicros(cost, prices, { now: 0, maxAgeMs: 1000 });
    expect(formatUsd(usdMicros)).toBe('$1.5005');
    expect(usdMicros <= parseUsd('$2')).toBe(true);
  });
});
