/**
 * The conformance suite of {@link ApprovalStore}s (memory, file, IndexedDB): put / get /
 * update / forPurchase, and the atomic claim the purchase lifecycle rests on — of N
 * concurrent claims (`approved` → `used`) of one approval exactly one gets `true`, within one
 * instance and, for persistent stores, across instances sharing the store.
 *
 * Call {@link describeApprovalStoreConformance} from a `*.test.ts` file.
 */
import type { ApprovalStore, PendingApproval } from '@stipend/client';
import { afterEach, describe, expect, it } from 'vitest';

/** Options of {@link describeApprovalStoreConformance}. */
export interface ApprovalConformanceOptions {
  /** Opens a second instance on the same persisted state. */
  readonly reopen?: (store: ApprovalStore) => Promise<ApprovalStore> | ApprovalStore;
}

const RACERS = 25;

/**
 * A pending approval for tests.
 *
 * @example
 * ```ts
 * import { pendingApproval } from './approvals.conformance.test-helpers.js';
 * const approval = pendingApproval('a1', 'order-1');
 * ```
 */
export function pendingApproval(
  id: string,
  purchaseKey: string,
  overrides: Partial<PendingApproval> = {},
): PendingApproval {
  return {
    id,
    purchaseKey,
    state: 'pending',
    request: {
      origin: 'https://api.example.com',
      resource: 'https://api.example.com/r',
      method: 'GET',
      protocol: 'x402',
      scheme: 'exact',
      payee: '0xabc',
      amount: { value: 50_000n, unit: { kind: 'fiat', currency: 'USD', exponent: 6 } },
      usdMicros: 50_000n,
      remaining: [],
      why: 'above_threshold',
      tags: [],
    },
    terms: {
      offerId: 'o',
      protocol: 'x402',
      scheme: 'exact',
      amount: '50000',
      unit: 'u',
      payee: '0xabc',
    },
    reservationId: `r-${id}`,
    usdMicros: 50_000n,
    rate: { numerator: 1n, denominator: 1n, source: 'peg', asOf: 0 },
    maxAuthorizationTtlSec: 3600,
    createdAt: 1,
    expiresAt: 2,
    ...overrides,
  } as PendingApproval;
}

/**
 * Declares the conformance tests for an approval store.
 *
 * @example
 * ```ts
 * import { createMemoryApprovalStore } from '@stipend/client';
 * import { describeApprovalStoreConformance } from './approvals.conformance.test-helpers.js';
 *
 * describeApprovalStoreConformance('memory', () => createMemoryApprovalStore());
 * ```
 */
export function describeApprovalStoreConformance(
  name: string,
  factory: () => Promise<ApprovalStore> | ApprovalStore,
  options: ApprovalConformanceOptions = {},
): void {
  const open: ApprovalStore[] = [];
  const make = async () => {
    const store = await factory();
    open.push(store);
    return store;
  };
  const instances = async (): Promise<ApprovalStore[]> => {
    const first = await make();
    if (!options.reopen) return [first];
    const more = [await options.reopen(first), await options.reopen(first)];
    open.push(...more);
    return [first, ...more];
  };
  afterEach(async () => {
    for (const store of open.splice(0)) {
      await (store as { close?: () => Promise<void> }).close?.();
    }
  });

  describe(`${name}: ApprovalStore conformance`, () => {
    it('keeps approvals, finds the latest unused one of a purchase, and updates them', async () => {
      const store = await make();
      await store.put(pendingApproval('a1', 'order-1'));
      await store.put(pendingApproval('a2', 'order-1'));
      expect((await store.forPurchase('order-1'))?.id).toBe('a2');
      await store.update('a2', { state: 'used' });
      expect((await store.forPurchase('order-1'))?.id).toBe('a1');
      expect((await store.get('a2'))?.state).toBe('used');
      expect((await store.get('a1'))?.usdMicros).toBe(50_000n);
      expect((await store.list()).map((a) => a.id)).toEqual(['a1', 'a2']);
    });

    it('moves an approval only from the state it names (compare-and-set)', async () => {
      const store = await make();
      await store.put(pendingApproval('a1', 'order-1'));
      expect(await store.transition('a1', 'approved', 'used')).toBe(false);
      expect(await store.transition('missing', 'pending', 'approved')).toBe(false);
      expect((await store.get('a1'))?.state).toBe('pending');
      expect(await store.transition('a1', 'pending', 'approved')).toBe(true);
      expect(await store.transition('a1', 'approved', 'used')).toBe(true);
      expect(await store.transition('a1', 'approved', 'used')).toBe(false);
      expect(await store.get('a1')).toMatchObject({ state: 'used', purchaseKey: 'order-1' });
    });

    it(`claims one approved approval for exactly one of ${RACERS} concurrent callers`, async () => {
      const racers = await instances();
      await racers[0]!.put(pendingApproval('a1', 'order-1', { state: 'approved' }));
      const claims = await Promise.all(
        Array.from({ length: RACERS }, (_, i) =>
          racers[i % racers.length]!.transition('a1', 'approved', 'used'),
        ),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      for (const store of racers) expect((await store.get('a1'))?.state).toBe('used');
    });
  });
}
