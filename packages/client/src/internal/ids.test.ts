import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomId, uniqueId } from './ids.js';

describe('randomId', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is the prefix plus 32 lowercase hex digits, and never repeats (across pool refills)', () => {
    const seen = new Set<string>();
    for (let index = 0; index < 10_000; index++) {
      const id = randomId('k_');
      expect(id).toMatch(/^k_[0-9a-f]{32}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(10_000);
  });

  it('takes its bytes from crypto.getRandomValues, one call per 64 ids', () => {
    const calls: number[] = [];
    const real = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
    vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation(((array: Uint8Array) => {
      calls.push(array.length);
      return real(array);
    }) as typeof real);
    const ids = Array.from({ length: 200 }, () => randomId());
    // The first ids may come from a pool filled before the spy: count only refills from here.
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(calls.length).toBeLessThanOrEqual(4);
    expect(calls.every((length) => length === 1024)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('uniqueId', () => {
  it('is unique without a crypto call per id', () => {
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues');
    uniqueId('s_');
    spy.mockClear();
    const ids = new Set(Array.from({ length: 1000 }, () => uniqueId('s_')));
    expect(ids.size).toBe(1000);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });
});
