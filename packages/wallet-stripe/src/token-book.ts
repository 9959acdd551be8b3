/**
 * Non-secret references for Shared Payment Tokens. The token id (`spt_…`) is the credential:
 * whoever holds it can charge it, so it never becomes a `Proof.reference`, a record, an event
 * or an error. The wallet hands out `spt:` + a short SHA-256 of the id instead, and keeps a
 * bounded in-memory book from that reference back to the id, so `lookup` and `void` can ask
 * Stripe about the token later in the same process.
 *
 * @module
 */

/** How many tokens the book remembers by default (oldest forgotten first). */
export const DEFAULT_BOOK_SIZE = 1024;

/**
 * The reference of a token: `spt:` + the first 128 bits of SHA-256(id), hex (Web Crypto, so it
 * runs in browsers and Node alike). One-way: the id cannot be read back from it.
 *
 * @example
 * ```ts
 * import { sptReference } from '@stipend/wallet-stripe';
 * await sptReference('spt_test_123'); // 'spt:' + 32 hex digits
 * ```
 */
export async function sptReference(tokenId: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(tokenId),
  );
  let hex = '';
  for (const byte of new Uint8Array(digest, 0, 16)) hex += byte.toString(16).padStart(2, '0');
  return `spt:${hex}`;
}

/** What the book keeps per token. */
export interface BookedToken {
  readonly tokenId: string;
  /** When the token stops working, ms since epoch. */
  readonly expiresAt: number;
}

/** A bounded map from token references to token ids. */
export interface TokenBook {
  /** Books a token; returns its reference. */
  add(tokenId: string, expiresAt: number, now: number): Promise<string>;
  /** The token behind a reference, if still remembered. */
  get(reference: string): BookedToken | undefined;
  /** How many tokens are remembered. */
  readonly size: number;
}

/**
 * A token book that remembers at most `max` tokens: tokens expired for more than a minute go
 * first, then the oldest. A forgotten token is only unknown to `lookup`/`void` (its budget then
 * stays held until it expires), never wrongly released.
 *
 * @example
 * ```ts
 * import { createTokenBook } from '@stipend/wallet-stripe';
 * const book = createTokenBook(256);
 * const reference = await book.add('spt_test_1', Date.now() + 300_000, Date.now());
 * book.get(reference)?.tokenId; // 'spt_test_1'
 * ```
 */
export function createTokenBook(max = DEFAULT_BOOK_SIZE): TokenBook {
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new TypeError('the token book size must be a positive whole number');
  }
  const entries = new Map<string, BookedToken>();
  return {
    async add(tokenId, expiresAt, now) {
      const reference = await sptReference(tokenId);
      entries.delete(reference);
      entries.set(reference, Object.freeze({ tokenId, expiresAt }));
      if (entries.size > max) {
        for (const [key, entry] of entries) {
          if (entry.expiresAt + 60_000 < now) entries.delete(key);
        }
        for (const key of entries.keys()) {
          if (entries.size <= max) break;
          entries.delete(key);
        }
      }
      return reference;
    },
    get: (reference) => entries.get(reference),
    get size() {
      return entries.size;
    },
  };
}
