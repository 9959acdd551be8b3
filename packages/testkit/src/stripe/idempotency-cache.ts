/**
 * Stripe-style idempotency: the first result stored under a key is replayed for a repeat with
 * the same parameters; a repeat with different parameters is refused.
 *
 * @module
 */
import { StripeApiError } from './stripe-errors.js';

/** What a lookup found. */
export type IdempotencyLookup<T> =
  | { kind: 'miss' }
  | { kind: 'replay'; result: T }
  | { kind: 'conflict' };

/**
 * An in-memory idempotency store keyed by `Idempotency-Key`, remembering a fingerprint of the
 * request (method, path, canonical params) and the result to replay.
 *
 * @example
 * ```ts
 * import { IdempotencyCache } from '@stipend/testkit/stripe';
 *
 * const cache = new IdempotencyCache<string>();
 * cache.store('key-1', 'POST /v1/x amount=1', 'first');
 * cache.lookup('key-1', 'POST /v1/x amount=1'); // { kind: 'replay', result: 'first' }
 * cache.lookup('key-1', 'POST /v1/x amount=2'); // { kind: 'conflict' }
 * ```
 */
export class IdempotencyCache<T> {
  readonly #entries = new Map<string, { fingerprint: string; result: T }>();

  /** Looks a key up and compares the stored fingerprint with this request's. */
  lookup(key: string, fingerprint: string): IdempotencyLookup<T> {
    const entry = this.#entries.get(key);
    if (!entry) return { kind: 'miss' };
    if (entry.fingerprint !== fingerprint) return { kind: 'conflict' };
    return { kind: 'replay', result: entry.result };
  }

  /** Stores the result of the first request made with `key`. */
  store(key: string, fingerprint: string, result: T): void {
    this.#entries.set(key, { fingerprint, result });
  }

  /** Forgets every key. */
  clear(): void {
    this.#entries.clear();
  }
}

/**
 * The `400 idempotency_error` Stripe returns when a key is reused with other parameters.
 *
 * @example
 * ```ts
 * import { idempotencyConflict } from '@stipend/testkit/stripe';
 *
 * idempotencyConflict('key-1').toJSON().error.type; // 'idempotency_error'
 * ```
 */
export function idempotencyConflict(key: string): StripeApiError {
  return new StripeApiError({
    status: 400,
    type: 'idempotency_error',
    message:
      `Keys for idempotent requests can only be used with the same parameters they were first ` +
      `used with. Use a key other than '${key}' for a different request.`,
  });
}
