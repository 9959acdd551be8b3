import { describe, expect, it } from 'vitest';
import { defaultFeeCap, feeCapMsat, feeCapOf } from './fee-cap.js';

describe('Lightning routing-fee caps', () => {
  it('defaults to 1% of the amount plus 10 sat', () => {
    expect(defaultFeeCap(100_000n)).toBe(11_000n);
    expect(feeCapMsat(1_000_000n)).toBe(20_000n);
    expect(feeCapOf()).toBe(defaultFeeCap);
  });

  it('takes a fixed cap, a function of the amount, or a percentage rounded up to a msat', () => {
    expect(feeCapMsat(1_000_000n, feeCapOf({ maxFeeMsat: 5_000n }))).toBe(5_000n);
    expect(feeCapMsat(1_000n, feeCapOf({ maxFeeMsat: (a) => a * 2n }))).toBe(2_000n);
    expect(feeCapMsat(1_000_000n, feeCapOf({ maxFeePercent: 1 }))).toBe(10_000n);
    expect(feeCapMsat(1_001n, feeCapOf({ maxFeePercent: '0.5' }))).toBe(6n); // 5.005 -> 6
    expect(feeCapMsat(1_000n, feeCapOf({ maxFeePercent: 0 }))).toBe(0n);
  });

  it('with both caps, the smaller wins', () => {
    const cap = feeCapOf({ maxFeeMsat: 3_000n, maxFeePercent: 1 });
    expect(feeCapMsat(100_000n, cap)).toBe(1_000n);
    expect(feeCapMsat(10_000_000n, cap)).toBe(3_000n);
  });

  it('refuses caps that are not non-negative bigints or percentages from 0 to 100', () => {
    expect(() => feeCapOf({ maxFeeMsat: 5 as unknown as bigint }, 'opt')).toThrow(
      /opt\.maxFeeMsat must be a non-negative bigint/,
    );
    expect(() => feeCapOf({ maxFeePercent: -1 })).toThrow(/maxFeePercent/);
    expect(() => feeCapOf({ maxFeePercent: Number.NaN })).toThrow(/maxFeePercent/);
    expect(() => feeCapMsat(1n, () => -1n)).toThrow(/non-negative bigint/);
  });
});
