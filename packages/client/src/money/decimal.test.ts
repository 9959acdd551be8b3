import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatDecimal,
  formatUsd,
  MAX_DECIMAL_TEXT_LENGTH,
  parseDecimal,
  parseDecimalFraction,
  parseUsd,
} from './decimal.js';
import { AmountError } from './errors.js';

describe('parseDecimal', () => {
  it.each([
    ['0.001', 6, 1000n],
    ['0', 6, 0n],
    ['0.0', 6, 0n],
    ['1', 0, 1n],
    ['1', 6, 1_000_000n],
    ['0.01', 6, 10_000n],
    ['123.456789', 6, 123_456_789n],
    ['0.000001', 6, 1n],
    ['1.50', 1, 15n],
    ['2.000000000', 0, 2n],
    ['0.1', 18, 100_000_000_000_000_000n],
    [
      '115792089237316195423570985008687907853269984665640564039457584007913129639935',
      0,
      2n ** 256n - 1n,
    ],
  ] as const)('parses %s with %i decimals', (text, decimals, expected) => {
    expect(parseDecimal(text, decimals)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['1e-3', 'exponent'],
    ['1E3', 'exponent'],
    ['-1', 'sign'],
    ['+1', 'sign'],
    [' 1', 'whitespace'],
    ['1 ', 'whitespace'],
    ['1\n', 'whitespace'],
    ['.5', 'leading zero'],
    ['5.', 'trailing point'],
    ['1,000', 'thousands'],
    ['1_000', 'thousands'],
    ['1.2.3', 'single decimal point'],
    ['007', 'leading zeros'],
    ['00.5', 'leading zeros'],
    ['Infinity', 'plain digits'],
    ['NaN', 'plain digits'],
    ['0x10', 'plain digits'],
    ['١٢', 'plain digits'],
  ])('rejects %j (%s)', (text, hint) => {
    expect(() => parseDecimal(text, 6)).toThrowError(AmountError);
    expect(() => parseDecimal(text, 6)).toThrowError(hint);
  });

  it('rejects more fractional digits than decimals instead of rounding', () => {
    expect(() => parseDecimal('0.0000001', 6)).toThrowError(/7 fractional digits but only 6/);
    expect(() => parseDecimal('1.5', 0)).toThrowError(AmountError);
    expect(() => parseDecimal('0.0000010', 6)).not.toThrow();
    expect(parseDecimal('0.0000010', 6)).toBe(1n);
  });

  it('rejects non-string input and bad decimals', () => {
    expect(() => parseDecimal(0.1 as unknown as string, 6)).toThrowError(
      /numbers are not accepted/,
    );
    expect(() => parseDecimal('1', -1)).toThrowError(/decimals must be an integer/);
    expect(() => parseDecimal('1', 1.5)).toThrowError(/decimals must be an integer/);
    expect(() => parseDecimal('1', 78)).toThrowError(/decimals must be an integer/);
  });

  it('caps the length against hostile input', () => {
    expect(() => parseDecimal('9'.repeat(79), 0)).toThrowError(/79 integer digits/);
    expect(() => parseDecimal(`1.${'0'.repeat(MAX_DECIMAL_TEXT_LENGTH)}`, 6)).toThrowError(
      /characters long/,
    );
    expect(() => parseDecimal('1'.repeat(1_000_000), 6)).toThrowError(/characters long/);
  });

  it('round-trips formatDecimal for any value and decimals', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 78n - 1n }),
        fc.integer({ min: 0, max: 30 }),
        (value, decimals) => parseDecimal(formatDecimal(value, decimals), decimals) === value,
      ),
      { numRuns: 2000 },
    );
  });

  it('rejects any string containing a sign, exponent or space', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.constantFrom('-', '+', 'e', 'E', ' ', '\t', ','),
        fc.nat(),
        (value, bad, where) => {
          const text = formatDecimal(value, 6);
          const at = where % (text.length + 1);
          const mutated = text.slice(0, at) + bad + text.slice(at);
          expect(() => parseDecimal(mutated, 6)).toThrowError(AmountError);
        },
      ),
    );
  });
});

describe('parseDecimalFraction', () => {
  it('keeps the exact fraction', () => {
    expect(parseDecimalFraction('97123.45')).toEqual({ numerator: 9_712_345n, denominator: 100n });
    expect(parseDecimalFraction('1')).toEqual({ numerator: 1n, denominator: 1n });
    expect(parseDecimalFraction('0.000000000123')).toEqual({
      numerator: 123n,
      denominator: 10n ** 12n,
    });
    expect(() => parseDecimalFraction('1e5')).toThrowError(AmountError);
  });
});

describe('formatDecimal', () => {
  it.each([
    [1000n, 6, '0.001'],
    [0n, 6, '0'],
    [0n, 0, '0'],
    [1_500_000n, 6, '1.5'],
    [1_000_000n, 6, '1'],
    [123n, 0, '123'],
    [1n, 18, '0.000000000000000001'],
    [10n ** 18n, 18, '1'],
  ] as const)('formats %s with %i decimals as %s', (value, decimals, expected) => {
    expect(formatDecimal(value, decimals)).toBe(expected);
  });

  it('rejects negative and non-bigint values', () => {
    expect(() => formatDecimal(-1n, 6)).toThrowError(AmountError);
    expect(() => formatDecimal(1 as unknown as bigint, 6)).toThrowError(AmountError);
  });
});

describe('parseUsd', () => {
  it.each([
    ['0.10', 100_000n],
    ['$0.10', 100_000n],
    ['$2', 2_000_000n],
    ['0.000123', 123n],
    ['0.0000010', 1n],
    ['1000000', 1_000_000_000_000n],
  ] as const)('parses %s', (text, expected) => {
    expect(parseUsd(text)).toBe(expected);
  });

  it('takes a bigint as micro-dollars', () => {
    expect(parseUsd(250n)).toBe(250n);
    expect(parseUsd(0n)).toBe(0n);
    expect(() => parseUsd(-1n)).toThrowError(/must not be negative/);
  });

  it('rejects a seventh non-zero decimal, exponents, signs and numbers', () => {
    expect(() => parseUsd('0.0000001')).toThrowError(/USD amount .* 7 fractional digits/);
    expect(() => parseUsd('0.1234567')).toThrowError(AmountError);
    expect(() => parseUsd('1e-7')).toThrowError(/exponents/);
    expect(() => parseUsd('-$1')).toThrowError(AmountError);
    expect(() => parseUsd('$-1')).toThrowError(AmountError);
    expect(() => parseUsd('$$1')).toThrowError(AmountError);
    expect(() => parseUsd('$')).toThrowError(AmountError);
    expect(() => parseUsd('1 USD')).toThrowError(AmountError);
    expect(() => parseUsd(0.1 as unknown as string)).toThrowError(/decimal string/);
  });
});

describe('formatUsd', () => {
  it.each([
    [100_000n, '$0.10'],
    [123n, '$0.000123'],
    [0n, '$0.00'],
    [1_000_000n, '$1.00'],
    [12_345_600n, '$12.3456'],
    [500_000n, '$0.50'],
    [1n, '$0.000001'],
    [-100_000n, '-$0.10'],
  ] as const)('formats %s as %s', (micros, expected) => {
    expect(formatUsd(micros)).toBe(expected);
  });

  it('round-trips with parseUsd', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 20n }), (micros) => {
        expect(parseUsd(formatUsd(micros))).toBe(micros);
      }),
    );
  });
});
