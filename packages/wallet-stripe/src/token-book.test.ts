import { describe, expect, it } from 'vitest';
import { createTokenBook, sptReference } from './token-book.js';

describe('SPT references and the token book', () => {
  it('a reference is spt: + 32 hex digits, stable, one-way, different per token', async () => {
    const a = await sptReference('spt_test_aaaaaaaaaaaaaaaa');
    expect(a).toMatch(/^spt:[0-9a-f]{32}$/);
    expect(await sptReference('spt_test_aaaaaaaaaaaaaaaa')).toBe(a);
    expect(await sptReference('spt_test_bbbbbbbbbbbbbbbb')).not.toBe(a);
    expect(a).not.toContain('aaaa');
  });

  it('stays bounded: long-expired tokens go first, then the oldest', async () => {
    const now = 1_000_000;
    const book = createTokenBook(2);
    const expired = await book.add('spt_test_expired', now - 120_000, now);
    const first = await book.add('spt_test_first', now + 60_000, now);
    const second = await book.add('spt_test_second', now + 60_000, now);
    expect(book.size).toBe(2);
    expect(book.get(expired)).toBeUndefined();
    expect(book.get(first)?.tokenId).toBe('spt_test_first');
    await book.add('spt_test_third', now + 60_000, now);
    expect(book.get(first)).toBeUndefined();
    expect(book.get(second)?.tokenId).toBe('spt_test_second');
    expect(() => createTokenBook(0)).toThrow(/positive whole number/);
  });
});
