/**
 * Non-secret references for Shared Payment Tokens. The token id (`spt_…`) is the credential:
 * whoever holds it can charge it, so it never becomes a `Proof.reference`, a record, an event
 * or an error. The wallet hands out `spt:` + a short SHA-256 of the id instead (one-way), and
 * keeps a bounded in-memory book from that reference back to the id, so `lookup` and `void`
 * can ask Stripe about the token later in the same process. The hash is computed in place
 * (`@noble/hashes`): Web Crypto's `digest` is asynchronous and cost more than the rest of the
 * wallet's work per payment.
 *
 * @module
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@stipend/client/internal';

/** How many tokens the book remembers by default (oldest forgotten first). */
export const DEFAULT_BOOK_SIZE = 1024;

/** A full book looks for expired tokens at most once per this many additions. */
const SWEEP_EVERY = 64;

/**
 * The reference of a token: `spt:` + the first 128 bits of SHA-256(id), hex. One-way: the id
 * cannot be read back from it; the same id always gives the same reference.
 *
 * @example
 * ```ts
 * import { sptReference } from '@stipend/wallet-stripe';
 * sptReference('spt_test_123'); // 'spt:' + 32 hex digits
 * ```
 */
export function sptReference(tokenId: string): string {
  return `spt:${bytesToHex(sha256(new TextEncoder().encode(tokenId)).subarray(0, 16))}`;
}

/** What the book keeps per token. */
export interface BookedToken {
  readonly tokenId: string;
  /** When the token stops working, ms since epoch. */
  readonly expiresAt: number;
}

/** A bounded map from token references to token ids. */
export interface TokenBook {
  /** Books a token; returns its reference ({@link sptReference}). */
  add(tokenId: string, expiresAt: number, now: number): string;
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
 * const reference = book.add('spt_test_1', Date.now() + 300_000, Date.now());
 * book.get(reference)?.tokenId; // 'spt_test_1'
 * ```
 */
export function createTokenBook(max = DEFAULT_BOOK_SIZE): TokenBook {
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new TypeError('the token book size must be a positive whole number');
  }
  const entries = new Map<string, BookedToken>();
  // Additions since the last sweep for expired tokens (starts "due").
  let sinceSweep = SWEEP_EVERY;
  return {
    add(tokenId, expiresAt, now) {
      const reference = sptReference(tokenId);
      entries.delete(reference);
      entries.set(reference, Object.freeze({ tokenId, expiresAt }));
      if (entries.size > max) {
        // Expired tokens go first, looked for at most once per 64 additions (not on every
        // one: the book stays full in a busy wallet); then the oldest, one at a time.
        if (sinceSweep++ >= SWEEP_EVERY) {
          sinceSweep = 0;
          for (const [key, entry] of entries) {
            if (entry.expiresAt + 60_000 < now) entries.delete(key);
          }
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
