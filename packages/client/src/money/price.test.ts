import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AmountError, PriceUnavailableError } from './errors.js';
import type { PriceSource, Rate } from './price.js';
import {
  applyRate,
  chainPriceSources,
  fixedPriceSource,
  pegPriceSource,
  rateFromUsdPrice,
  toUsdMicros,
} from './price.js';
import type { TokenUnit } from './unit.js';
import { amount, fiatUnit, msat, msatUnit, sats } from './unit.js';

const NOW = 1_750_000_000_000;
const OPTIONS = { now: NOW, maxAgeMs: 60_000 };

const USDC: TokenUnit = {
  kind: 'token',
  network: 'eip155:8453',
  asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
  decimals: 6,
  symbol: 'USDC',
  peg: 'USD',
};
const DAI: TokenUnit = {
  kind: 'token',
  network: 'eip155:1',
  asset: '0x6B175474E89094C44Da98b954EedeAC495271d0F',
  decimals: 18,
  peg: 'USD',
};
const WETH: TokenUnit = {
  kind: 'token',
  network: 'eip155:1',
  asset: '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2',
  decimals: 18,
};

function fixedRate(numerator: bigint, denominator: bigint, asOf = NOW): PriceSource {
  return {
    rate: () => ({ usdMicrosPerUnitNumerator: numerator, denominator, asOf, source: 'test' }),
  };
}

async function priceError(promise: Promise<unknown>): Promise<PriceUnavailableError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PriceUnavailableError);
  return error as PriceUnavailableError;
}

describe('rateFromUsdPrice', () => {
  it('builds reduced exact fractions', () => {
    expect(rateFromUsdPrice('1', 6, NOW, 's')).toEqual({
      usdMicrosPerUnitNumerator: 1n,
      denominator: 1n,
      asOf: NOW,
      source: 's',
    });
    const dai = rateFromUsdPrice('1', 18, NOW, 's');
    expect([dai.usdMicrosPerUnitNumerator, dai.denominator]).toEqual([1n, 10n ** 12n]);
    const cents = rateFromUsdPrice('1', 2, NOW, 's');
    expect([cents.usdMicrosPerUnitNumerator, cents.denominator]).toEqual([10_000n, 1n]);
    const btc = rateFromUsdPrice('97123.45', 11, NOW, 's');
    // 9712345/100 USD per 1e11 msat = 9712345e6 / 1e13 µUSD per msat = 1942469 / 2000000
    expect([btc.usdMicrosPerUnitNumerator, btc.denominator]).toEqual([1_942_469n, 2_000_000n]);
  });

  it('rejects zero, malformed prices and bad decimals', () => {
    expect(() => rateFromUsdPrice('0', 6, NOW, 's')).toThrowError(/zero/);
    expect(() => rateFromUsdPrice('1e5', 11, NOW, 's')).toThrowError(AmountError);
    expect(() => rateFromUsdPrice('1', -1, NOW, 's')).toThrowError(AmountError);
  });
});

describe('applyRate', () => {
  it('rounds up any remainder', () => {
    const rate: Rate = { usdMicrosPerUnitNumerator: 1n, denominator: 1000n, asOf: 0, source: 'x' };
    expect(applyRate(0n, rate)).toBe(0n);
    expect(applyRate(1n, rate)).toBe(1n);
    expect(applyRate(1000n, rate)).toBe(1n);
    expect(applyRate(1001n, rate)).toBe(2n);
    expect(() => applyRate(-1n, rate)).toThrowError(AmountError);
    expect(() => applyRate(1n, { ...rate, denominator: 0n })).toThrowError(/denominator/);
  });
});

describe('pegPriceSource', () => {
  const peg = pegPriceSource();

  it('prices USD stablecoins 1:1 by their decimals', async () => {
    expect((await toUsdMicros(amount(10_000n, USDC), peg, OPTIONS)).usdMicros).toBe(10_000n);
    expect((await toUsdMicros(amount(10n ** 18n, DAI), peg, OPTIONS)).usdMicros).toBe(1_000_000n);
    // 1 wei of an 18-decimal stablecoin is 1e-12 µUSD: rounds up to 1 µUSD
    expect((await toUsdMicros(amount(1n, DAI), peg, OPTIONS)).usdMicros).toBe(1n);
    expect((await toUsdMicros(amount(10n ** 12n + 1n, DAI), peg, OPTIONS)).usdMicros).toBe(2n);
  });

  it('prices fiat USD exactly by exponent', async () => {
    const result = await toUsdMicros(amount(50n, fiatUnit('USD')), peg, OPTIONS);
    expect(result.usdMicros).toBe(500_000n);
    expect(result.rate).toEqual({
      usdMicrosPerUnitNumerator: 10_000n,
      denominator: 1n,
      asOf: NOW,
      source: 'peg',
    });
  });

  it('never goes stale', async () => {
    const later = { now: NOW + 10 ** 9, maxAgeMs: 0 };
    expect((await toUsdMicros(amount(1n, USDC), peg, later)).rate.asOf).toBe(later.now);
  });

  it('does not price other units', async () => {
    expect(peg.rate(WETH, NOW)).toBeUndefined();
    expect(peg.rate(msatUnit, NOW)).toBeUndefined();
    expect(peg.rate(fiatUnit('EUR'), NOW)).toBeUndefined();
    expect(peg.rate({ ...USDC, peg: 'EUR' }, NOW)).toBeUndefined();
  });

  it('applies a peg table by unit key, overriding the unit', async () => {
    const { peg: _ignored, ...bare } = USDC;
    const table = pegPriceSource({
      pegs: {
        [`eip155:8453/${USDC.asset.toUpperCase().replace('0X', '0x')}`]: 'USD',
        [`eip155:1/${DAI.asset}`]: null,
      },
      source: 'table',
    });
    expect(table.rate(bare, NOW)).toMatchObject({ usdMicrosPerUnitNumerator: 1n, source: 'table' });
    expect(table.rate(DAI, NOW)).toBeUndefined();
    expect(() => pegPriceSource({ pegs: { USDC: 'USD' } })).toThrowError(/network\/asset/);
    expect(() => pegPriceSource({ pegs: { 'eip155:1/0x1': 'usd' } })).toThrowError(/ISO 4217/);
  });

  it('pegPriceSource never prices with decimals a server stated (a 6-decimal token sent as 18)', async () => {
    // USDC on Base is a known asset: 6 decimals. A unit scaled by a server claiming 18 is refused.
    const claimed18: TokenUnit = { ...USDC, decimals: 18 };
    const error = await priceError(
      toUsdMicros(amount(500_000n * 10n ** 6n, claimed18), peg, OPTIONS),
    );
    expect(error.reason).toBe('untrusted_decimals');
    expect(error.message).toMatch(/18 decimals, but the token has 6/);
    // Through a peg table too, and no later source in a chain may price it instead.
    const { peg: _p, ...bare } = claimed18;
    const table = pegPriceSource({ pegs: { [`eip155:8453/${USDC.asset}`]: 'USD' } });
    await expect(
      chainPriceSources(table, fixedRate(1n, 10n ** 12n)).rate(bare, NOW),
    ).rejects.toMatchObject({ code: 'PRICE_UNAVAILABLE', reason: 'untrusted_decimals' });
    // A table entry for a token outside the registry carries its decimals.
    const OP_USDC = 'eip155:10/0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85';
    const withDecimals = pegPriceSource({ pegs: { [OP_USDC]: { peg: 'USD', decimals: 6 } } });
    const op: TokenUnit = {
      kind: 'token',
      network: 'eip155:10',
      asset: '0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85',
      decimals: 6,
    };
    expect((await toUsdMicros(amount(10_000n, op), withDecimals, OPTIONS)).usdMicros).toBe(10_000n);
    expect(() => withDecimals.rate({ ...op, decimals: 18 }, NOW)).toThrowError(
      /18 decimals, but the token has 6/,
    );
  });

  it('pegPriceSource refuses a peg without decimals for a token outside the registry', () => {
    expect(() =>
      pegPriceSource({ pegs: { 'eip155:10/0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85': 'USD' } }),
    ).toThrowError(/gives a peg but no decimals.*\{ peg: "USD", decimals/);
    expect(() =>
      pegPriceSource({
        pegs: {
          'eip155:10/0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85': { peg: 'USD', decimals: -1 },
        },
      }),
    ).toThrowError(/decimals must be an integer/);
  });
});

describe('fixedPriceSource', () => {
  const btc100k = fixedPriceSource({ btcUsd: '100000' });

  it('at $100,000/BTC, 1 msat = 1 µUSD and 1 sat = 1000 µUSD', async () => {
    expect((await toUsdMicros(msat(1n), btc100k, OPTIONS)).usdMicros).toBe(1n);
    expect((await toUsdMicros(sats(1n), btc100k, OPTIONS)).usdMicros).toBe(1000n);
    expect((await toUsdMicros(sats(100_000_000n), btc100k, OPTIONS)).usdMicros).toBe(
      100_000_000_000n,
    );
    const { rate } = await toUsdMicros(msat(1n), btc100k, OPTIONS);
    expect(rate).toEqual({
      usdMicrosPerUnitNumerator: 1n,
      denominator: 1n,
      asOf: NOW,
      source: 'fixed',
    });
  });

  it('rounds sub-µUSD msat costs up', async () => {
    const btc50k = fixedPriceSource({ btcUsd: '50000' });
    expect((await toUsdMicros(msat(1n), btc50k, OPTIONS)).usdMicros).toBe(1n);
    expect((await toUsdMicros(msat(2n), btc50k, OPTIONS)).usdMicros).toBe(1n);
    expect((await toUsdMicros(msat(3n), btc50k, OPTIONS)).usdMicros).toBe(2n);
    const odd = fixedPriceSource({ btcUsd: '97123.45' });
    // 1500 sat * 97123.45 / 1e8 USD = 1.456851750 USD -> 1456852 µUSD (rounded up)
    expect((await toUsdMicros(sats(1500n), odd, OPTIONS)).usdMicros).toBe(1_456_852n);
  });

  it('prices listed fiat currencies by their exponent', async () => {
    const fx = fixedPriceSource({ fiatUsd: { EUR: '1.08', JPY: '0.0067', KWD: '3.25' } });
    expect((await toUsdMicros(amount(50n, fiatUnit('EUR')), fx, OPTIONS)).usdMicros).toBe(540_000n);
    expect((await toUsdMicros(amount(100n, fiatUnit('JPY')), fx, OPTIONS)).usdMicros).toBe(
      670_000n,
    );
    expect((await toUsdMicros(amount(1n, fiatUnit('KWD')), fx, OPTIONS)).usdMicros).toBe(3250n);
    expect(fx.rate(fiatUnit('GBP'), NOW)).toBeUndefined();
    expect(fx.rate(msatUnit, NOW)).toBeUndefined();
    expect(fixedPriceSource({ btcUsd: '100000', peg: false }).rate(USDC, NOW)).toBeUndefined();
  });

  it('fixedPriceSource({ btcUsd }) keeps USD stablecoins and USD at par (composes with the peg)', async () => {
    expect((await toUsdMicros(amount(10_000n, USDC), btc100k, OPTIONS)).usdMicros).toBe(10_000n);
    expect((await toUsdMicros(amount(50n, fiatUnit('USD')), btc100k, OPTIONS)).usdMicros).toBe(
      500_000n,
    );
    expect((await toUsdMicros(sats(1n), btc100k, OPTIONS)).rate.source).toBe('fixed');
    expect(btc100k.rate(WETH, NOW)).toBeUndefined();
    // Opting out prices only what is listed; the peg's own options pass through.
    const bare = fixedPriceSource({ btcUsd: '100000', peg: false });
    expect(bare.rate(USDC, NOW)).toBeUndefined();
    expect(bare.rate(fiatUnit('USD'), NOW)).toBeUndefined();
    const depegged = fixedPriceSource({
      btcUsd: '100000',
      peg: { pegs: { [`eip155:8453/${USDC.asset}`]: null } },
    });
    expect(depegged.rate(USDC, NOW)).toBeUndefined();
    // A listed USD price wins over the peg.
    const listed = fixedPriceSource({ fiatUsd: { USD: '2' } });
    expect((await toUsdMicros(amount(1n, fiatUnit('USD')), listed, OPTIONS)).usdMicros).toBe(
      20_000n,
    );
  });

  it('validates its prices at construction', () => {
    expect(() => fixedPriceSource({ btcUsd: '1e5' })).toThrowError(/exponents/);
    expect(() => fixedPriceSource({ btcUsd: '0' })).toThrowError(/zero/);
    expect(() => fixedPriceSource({ btcUsd: 100000 as unknown as string })).toThrowError(
      AmountError,
    );
    expect(() => fixedPriceSource({ fiatUsd: { ZZZ: '1' } })).toThrowError(/ZZZ/);
    expect(() => fixedPriceSource({ fiatUsd: { eur: '1' } })).toThrowError(AmountError);
    expect(() => fixedPriceSource({ btcUsd: '1', asOf: Number.NaN })).toThrowError(/asOf/);
  });

  it('ages when asOf is given', async () => {
    const snapshot = fixedPriceSource({ btcUsd: '100000', asOf: NOW - 120_000, source: 'snap' });
    const error = await priceError(toUsdMicros(msat(1n), snapshot, OPTIONS));
    expect(error.reason).toBe('stale');
    expect(error.code).toBe('PRICE_UNAVAILABLE');
    expect(error.unitKey).toBe('lightning:msat');
    expect(error.message).toMatch(/120000 ms old/);
    const ok = await toUsdMicros(msat(1n), snapshot, { now: NOW, maxAgeMs: 120_000 });
    expect(ok.rate.source).toBe('snap');
  });
});

describe('chainPriceSources', () => {
  it('returns the first rate found', async () => {
    const chain = chainPriceSources(pegPriceSource(), fixedPriceSource({ btcUsd: '100000' }));
    expect((await toUsdMicros(amount(1n, USDC), chain, OPTIONS)).rate.source).toBe('peg');
    expect((await toUsdMicros(sats(1n), chain, OPTIONS)).rate.source).toBe('fixed');
    expect(await chain.rate(WETH, NOW)).toBeUndefined();
    const first = chainPriceSources(fixedRate(2n, 1n), fixedRate(3n, 1n));
    expect((await toUsdMicros(msat(5n), first, OPTIONS)).usdMicros).toBe(10n);
  });

  it('skips failing sources and rethrows when none answers', async () => {
    const failing: PriceSource = {
      rate: async () => {
        throw new Error('oracle down');
      },
    };
    const chain = chainPriceSources(failing, fixedPriceSource({ btcUsd: '100000' }));
    expect((await toUsdMicros(msat(1n), chain, OPTIONS)).usdMicros).toBe(1n);
    await expect(chainPriceSources(failing).rate(msatUnit, NOW)).rejects.toThrowError(
      'oracle down',
    );
    await expect(chainPriceSources(failing, failing).rate(msatUnit, NOW)).rejects.toBeInstanceOf(
      AggregateError,
    );
    const error = await priceError(toUsdMicros(msat(1n), chainPriceSources(failing), OPTIONS));
    expect(error.reason).toBe('source_failed');
    expect((error.cause as Error).message).toBe('oracle down');
    expect(await chainPriceSources().rate(msatUnit, NOW)).toBeUndefined();
  });
});

describe('toUsdMicros', () => {
  it('rejects an unknown unit with PRICE_UNAVAILABLE', async () => {
    const error = await priceError(toUsdMicros(amount(1n, WETH), pegPriceSource(), OPTIONS));
    expect(error.code).toBe('PRICE_UNAVAILABLE');
    expect(error.reason).toBe('no_rate');
    expect(error.unitKey).toBe('eip155:1/0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2');
    expect(error.message).toMatch(/no price source knows/);
  });

  it('rejects stale rates and accepts a rate exactly maxAgeMs old', async () => {
    const stale = await priceError(toUsdMicros(msat(1n), fixedRate(1n, 1n, NOW - 60_001), OPTIONS));
    expect(stale.reason).toBe('stale');
    const edge = await toUsdMicros(msat(1n), fixedRate(1n, 1n, NOW - 60_000), OPTIONS);
    expect(edge.usdMicros).toBe(1n);
  });

  it('rejects malformed and future-dated rates', async () => {
    for (const source of [
      fixedRate(0n, 1n),
      fixedRate(-1n, 1n),
      fixedRate(1n, 0n),
      fixedRate(1n, -5n),
      fixedRate(1n, 1n, Number.NaN),
      fixedRate(1n, 1n, NOW + 60_001),
      {
        rate: () => ({ usdMicrosPerUnitNumerator: 1, denominator: 1n, asOf: NOW, source: 'x' }),
      } as unknown as PriceSource,
    ]) {
      const error = await priceError(toUsdMicros(msat(1n), source, OPTIONS));
      expect(error.reason).toBe('invalid_rate');
    }
  });

  it('rejects a malformed amount or options', async () => {
    const peg = pegPriceSource();
    await expect(toUsdMicros({ value: -1n, unit: USDC }, peg, OPTIONS)).rejects.toBeInstanceOf(
      AmountError,
    );
    await expect(
      toUsdMicros({ value: 1n, unit: { kind: 'sat' } } as never, peg, OPTIONS),
    ).rejects.toBeInstanceOf(AmountError);
    await expect(toUsdMicros(amount(1n, USDC), peg, { now: NOW, maxAgeMs: -1 })).rejects.toThrow(
      TypeError,
    );
    await expect(
      toUsdMicros(amount(1n, USDC), peg, { now: Number.NaN, maxAgeMs: 1 }),
    ).rejects.toThrow(TypeError);
  });

  it('always rounds up, by less than one µUSD', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 0n, max: 2n ** 128n }),
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        async (value, numerator, denominator) => {
          const { usdMicros, rate } = await toUsdMicros(
            amount(value, USDC),
            fixedRate(numerator, denominator),
            OPTIONS,
          );
          expect(rate.usdMicrosPerUnitNumerator).toBe(numerator);
          expect(usdMicros * denominator >= value * numerator).toBe(true);
          expect(usdMicros * denominator < value * numerator + denominator).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
