/**
 * Concurrency attacks (invariants 2 and 3): the same 402 answered to 50 calls at once. No
 * interleaving spends more than the budget, one idempotency key pays once, and every call
 * ends (typed) even when the seller stalls them all.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Seller, startSeller } from './sellers.test-helpers.js';
import {
  challenge402,
  countingWallet,
  end,
  payingFetchFor,
  receipt,
  TIMEOUT_MS,
  typed,
} from './x402.test-helpers.js';

const CASE = { timeout: 15_000 };
const CALLS = 50;
/** A deadline no honest answer misses on a loaded machine (the cases here are not about time). */
const GENEROUS_MS = 5_000;

let seller: Seller;
beforeAll(async () => {
  seller = await startSeller();
});
afterAll(() => seller.close());
beforeEach(() => {
  seller.hits.length = 0;
  seller.handler = (hit, res) => {
    if (hit.headers['payment-signature'])
      res.writeHead(200, { 'payment-response': receipt() }).end('ok');
    else res.writeHead(...challenge402()).end('{}');
  };
});

describe('hostile concurrency: the same 402 to 50 calls at once', () => {
  it(
    'rule 3: 50 concurrent calls never sign more than the $0.10 day allows (10 × $0.01); the rest end POLICY_DENIED',
    CASE,
    async () => {
      const wallet = countingWallet();
      wallet.delayMs = 5;
      const payingFetch = payingFetchFor(wallet, { timeoutMs: GENEROUS_MS });
      const ended = await Promise.all(
        Array.from({ length: CALLS }, (_, i) => end(payingFetch(`${seller.origin}/r${i}`))),
      );
      expect(wallet.signed.length).toBeLessThanOrEqual(10);
      expect(wallet.total()).toBeLessThanOrEqual(100_000n);
      const refused = ended.filter((outcome) => 'error' in outcome);
      expect(refused.length).toBeGreaterThanOrEqual(CALLS - 10);
      for (const outcome of refused) expect(typed(outcome).code).toBe('POLICY_DENIED');
    },
  );

  it('rule 2: 50 concurrent calls with one idempotency key sign once', CASE, async () => {
    const wallet = countingWallet();
    wallet.delayMs = 5;
    const payingFetch = payingFetchFor(wallet, { timeoutMs: GENEROUS_MS });
    await Promise.all(
      Array.from({ length: CALLS }, () =>
        end(payingFetch(`${seller.origin}/paid`, { payment: { idempotencyKey: 'order-42' } })),
      ),
    );
    expect(wallet.signed).toHaveLength(1);
  });

  it(
    'rule 2: 50 concurrent calls with one key whose paid retries are all refused with a 402: signed once',
    CASE,
    async () => {
      seller.handler = (hit, res) => {
        res.writeHead(...challenge402()).end('{}');
        void hit;
      };
      const wallet = countingWallet();
      const payingFetch = payingFetchFor(wallet, { timeoutMs: GENEROUS_MS });
      await Promise.all(
        Array.from({ length: CALLS }, () =>
          end(payingFetch(`${seller.origin}/paid`, { payment: { idempotencyKey: 'order-43' } })),
        ),
      );
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'rule 7: 50 concurrent calls whose paid retries the seller never answers all end by the deadline, typed, within the budget',
    CASE,
    async () => {
      seller.handler = (hit, res) => {
        if (hit.headers['payment-signature']) return;
        res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      const payingFetch = payingFetchFor(wallet);
      const started = performance.now();
      const ended = await Promise.all(
        Array.from({ length: CALLS }, (_, i) => end(payingFetch(`${seller.origin}/s${i}`))),
      );
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS * 15);
      for (const outcome of ended) typed(outcome);
      expect(wallet.signed.length).toBeLessThanOrEqual(10);
    },
  );
});
