import { describe, expect, it } from 'vitest';
import { createTokenBook, sptReference } from './token-book.js';

describe('SPT references and the token book', () => {
  it('a reference is spt: + 32 hex digits of SHA-256(id): stable, one-way, different per token', () => {
    const a = sptReference('spt_test_aaaaaaaaaaaaaaaa');
    expect(a).toMatch(/^spt:[0-9a-f]{32}$/);
    expect(sptReference('spt_test_aaaaaaaaaaaaaaaa')).toBe(a);
    expect(sptReference('spt_test_bbbbbbbbbbbbbbbb')).not.toBe(a);
    expect(a).not.toContain('aaaa');
    // SHA-256("abc") starts ba7816bf8f01cfea414140de5dae2223 (FIPS 180-2 test vector).
    expect(sptReference('abc')).toBe('spt:ba7816bf8f01cfea414140de5dae2223');
    const book = createTokenBook();
    expect(book.add('spt_test_aaaaaaaaaaaaaaaa', 2_000_000, 1_000_000)).toBe(a);
    expect(book.get(a)?.tokenId).toBe('spt_test_aaaaaaaaaaaaaaaa');
  });

  it('stays bounded: the oldest go first', () => {
    const now = 1_000_000;
    const book = createTokenBook(2);
    const first = book.add('spt_test_first', now + 60_000, now);
    const second = book.add('spt_test_second', now + 60_000, now);
    const third = book.add('spt_test_third', now + 60_000, now);
    expect(book.size).toBe(2);
    expect(book.get(first)).toBeUndefined();
    expect(book.get(second)?.tokenId).toBe('spt_test_second');
    expect(book.get(third)?.tokenId).toBe('spt_test_third');
    expect(() => createTokenBook(0)).toThrow(/positive whole number/);
  });

  it('a full book sweeps long-expired tokens first (at most once per 64 additions), keeping live ones', () => {
    const now = 1_000_000;
    const book = createTokenBook(100);
    const live = book.add('spt_test_live', now + 600_000, now);
    for (let index = 0; index < 99; index++) book.add(`spt_test_old_${index}`, now - 120_000, now);
    // Full: the first addition past the bound sweeps every expired token, so the oldest live
    // one stays; the next 63 additions do not sweep again.
    for (let index = 0; index < 64; index++) book.add(`spt_test_new_${index}`, now + 600_000, now);
    expect(book.get(live)?.tokenId).toBe('spt_test_live');
    expect(book.size).toBe(65);
  });
});
