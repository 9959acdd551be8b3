import { describe, expect, it } from 'vitest';
import { iso4217Codes, iso4217Exponent } from './iso4217.js';

describe('iso4217', () => {
  it('gives exponents from the table', () => {
    expect(iso4217Exponent('USD')).toBe(2);
    expect(iso4217Exponent('JPY')).toBe(0);
    expect(iso4217Exponent('VND')).toBe(0);
    expect(iso4217Exponent('TND')).toBe(3);
    expect(iso4217Exponent('UYW')).toBe(4);
    expect(iso4217Exponent('usd')).toBeUndefined();
    expect(iso4217Exponent('XXX')).toBeUndefined();
    expect(iso4217Exponent('toString')).toBeUndefined();
  });

  it('lists unique upper-case three-letter codes', () => {
    const codes = iso4217Codes();
    // 17 zero-, 138 two-, 7 three- and 2 four-decimal currencies; the table throws on duplicates
    expect(codes).toHaveLength(164);
    expect(codes.filter((code) => iso4217Exponent(code) === 0)).toHaveLength(17);
    expect(codes.filter((code) => iso4217Exponent(code) === 3)).toEqual([
      'BHD',
      'IQD',
      'JOD',
      'KWD',
      'LYD',
      'OMR',
      'TND',
    ]);
    for (const code of codes) expect(code).toMatch(/^[A-Z]{3}$/);
    expect(codes).toEqual([...codes].sort());
  });
});
