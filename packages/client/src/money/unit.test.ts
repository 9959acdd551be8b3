import { describe, expect, it } from 'vitest';
import { AmountError, UnitMismatchError } from './errors.js';
import type { TokenUnit, Unit } from './unit.js';
import {
  addAmounts,
  amount,
  fiatUnit,
  formatAmount,
  msat,
  msatUnit,
  sameUnit,
  sats,
  tokenKey,
  unitKey,
} from './unit.js';

const USDC_BASE: TokenUnit = {
  kind: 'token',
  network: 'eip155:8453',
  asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
  decimals: 6,
  symbol: 'USDC',
  peg: 'USD',
};

describe('amount', () => {
  it('creates a frozen amount with a frozen copy of the unit', () => {
    const unit = { ...USDC_BASE };
    const a = amount(10_000n, unit);
    expect(a.value).toBe(10_000n);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.unit)).toBe(true);
    expect(a.unit).toEqual(USDC_BASE);
    expect(Object.isFrozen(unit)).toBe(false);
  });

  it('rejects negative and non-bigint values', () => {
    expect(() => amount(-1n, msatUnit)).toThrowError(/must not be negative/);
    expect(() => amount(1 as unknown as bigint, msatUnit)).toThrowError(/must be a bigint/);
    expect(() => amount('1' as unknown as bigint, msatUnit)).toThrowError(AmountError);
  });

  it('rejects malformed units', () => {
    const bad: unknown[] = [
      null,
      { kind: 'btc' },
      { ...USDC_BASE, network: 'base' },
      { ...USDC_BASE, asset: '' },
      { ...USDC_BASE, asset: '0x 12' },
      { ...USDC_BASE, decimals: -1 },
      { ...USDC_BASE, decimals: 6.5 },
      { ...USDC_BASE, decimals: undefined },
      { ...USDC_BASE, peg: 'usd' },
      { kind: 'fiat', currency: 'usd', exponent: 2 },
      { kind: 'fiat', currency: 'USD' },
      { kind: 'fiat', currency: 'USD', exponent: -2 },
    ];
    for (const unit of bad) {
      expect(() => amount(1n, unit as Unit), JSON.stringify(unit)).toThrowError(AmountError);
    }
  });
});

describe('unitKey', () => {
  it('lower-cases EVM addresses only', () => {
    expect(unitKey(USDC_BASE)).toBe('eip155:8453/0x833589fcd6edb6e08f4c7c32d4f71b54bda02913');
    const spl: TokenUnit = {
      kind: 'token',
      network: 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp',
      asset: 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v',
      decimals: 6,
    };
    expect(unitKey(spl)).toBe(
      'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp/EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v',
    );
    expect(tokenKey('eip155:1', '0xABCDEF0123456789ABCDEF0123456789ABCDEF01')).toBe(
      'eip155:1/0xabcdef0123456789abcdef0123456789abcdef01',
    );
  });

  it('names fiat and msat', () => {
    expect(unitKey(fiatUnit('USD'))).toBe('iso4217:USD');
    expect(unitKey(fiatUnit('jpy'))).toBe('iso4217:JPY');
    expect(unitKey(msatUnit)).toBe('lightning:msat');
  });

  it('rejects unknown kinds', () => {
    expect(() => unitKey({ kind: 'sat' } as unknown as Unit)).toThrowError(/unknown unit/);
  });
});

describe('sameUnit and addAmounts', () => {
  const lower = { ...USDC_BASE, asset: USDC_BASE.asset.toLowerCase(), symbol: 'usdc' };

  it('compares by key and scale', () => {
    expect(sameUnit(USDC_BASE, lower)).toBe(true);
    expect(sameUnit(USDC_BASE, { ...USDC_BASE, decimals: 18 })).toBe(false);
    expect(sameUnit(USDC_BASE, { ...USDC_BASE, network: 'eip155:1' })).toBe(false);
    expect(sameUnit(fiatUnit('USD'), fiatUnit('usd'))).toBe(true);
    expect(sameUnit(fiatUnit('USD'), { kind: 'fiat', currency: 'USD', exponent: 0 })).toBe(false);
    expect(sameUnit(msatUnit, { kind: 'msat' })).toBe(true);
    expect(sameUnit(msatUnit, fiatUnit('USD'))).toBe(false);
  });

  it('adds amounts of the same unit', () => {
    const sum = addAmounts(amount(1n, USDC_BASE), amount(2n, lower));
    expect(sum.value).toBe(3n);
    expect(unitKey(sum.unit)).toBe(unitKey(USDC_BASE));
    expect(addAmounts(sats(1n), msat(5n)).value).toBe(1005n);
  });

  it('refuses to add different units with a typed error', () => {
    let caught: unknown;
    try {
      addAmounts(sats(1n), amount(1n, fiatUnit('USD')));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UnitMismatchError);
    expect(caught).toBeInstanceOf(AmountError);
    const mismatch = caught as UnitMismatchError;
    expect(mismatch.code).toBe('AMOUNT_INVALID');
    expect(mismatch.left).toBe('lightning:msat');
    expect(mismatch.right).toBe('iso4217:USD');
    expect(mismatch.message).toMatch(/toUsdMicros/);
    expect(() =>
      addAmounts(amount(1n, USDC_BASE), amount(1n, { ...USDC_BASE, decimals: 18 })),
    ).toThrowError(UnitMismatchError);
  });
});

describe('fiatUnit', () => {
  it.each([
    ['USD', 2],
    ['EUR', 2],
    ['GBP', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['CHF', 2],
    ['CAD', 2],
    ['AUD', 2],
    ['BHD', 3],
    ['KWD', 3],
    ['CLF', 4],
  ] as const)('%s has exponent %i', (code, exponent) => {
    expect(fiatUnit(code)).toEqual({ kind: 'fiat', currency: code, exponent });
  });

  it('rejects unknown currencies instead of assuming 2 decimals', () => {
    expect(() => fiatUnit('ZZZ')).toThrowError(/unknown ISO 4217 currency "ZZZ"/);
    expect(() => fiatUnit('XAU')).toThrowError(AmountError);
    expect(() => fiatUnit('US')).toThrowError(AmountError);
    expect(() => fiatUnit('')).toThrowError(AmountError);
    expect(() => fiatUnit('constructor')).toThrowError(AmountError);
  });
});

describe('msat and sats', () => {
  it('counts in millisatoshi', () => {
    expect(msat(1500n)).toEqual({ value: 1500n, unit: { kind: 'msat' } });
    expect(sats(1500n).value).toBe(1_500_000n);
    expect(() => sats(-1n)).toThrowError(AmountError);
    expect(() => sats(1 as unknown as bigint)).toThrowError(/bigint/);
  });
});

describe('formatAmount', () => {
  it.each([
    [amount(10_000n, USDC_BASE), '0.01 USDC'],
    [amount(0n, USDC_BASE), '0 USDC'],
    [amount(1_234_567n, USDC_BASE), '1.234567 USDC'],
    [
      amount(5n, {
        kind: 'token',
        network: 'eip155:1',
        asset: '0xAbC0000000000000000000000000000000000001',
        decimals: 1,
      }),
      '0.5 eip155:1/0xabc0000000000000000000000000000000000001',
    ],
    [sats(1500n), '1500 sat'],
    [msat(1_500_500n), '1500.5 sat'],
    [msat(1n), '0.001 sat'],
    [amount(50n, fiatUnit('USD')), '$0.50'],
    [amount(12_345n, fiatUnit('USD')), '$123.45'],
    [amount(50n, fiatUnit('EUR')), '0.50 EUR'],
    [amount(100n, fiatUnit('JPY')), '100 JPY'],
    [amount(1n, fiatUnit('KWD')), '0.001 KWD'],
  ])('formats %# as %s', (a, expected) => {
    expect(formatAmount(a)).toBe(expected);
  });
});
