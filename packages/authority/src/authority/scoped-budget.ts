/**
 * A budget store wrapper that adds a delegation token's scopes to a reservation, so that the
 * policy engine's one atomic `reserve` covers the authority's own limits and every total cap
 * on the token's chain at once (all fit, or nothing is reserved).
 *
 * @module
 */
import type { BudgetLimit, BudgetStore, ReserveRefusal } from '@stipend/client';

/** The wrapped store, plus the per-reservation extras. */
export interface ScopedBudget extends BudgetStore {
  /** Adds `limits` to the reservation `id` when the engine reserves it. */
  expect(id: string, limits: readonly BudgetLimit[]): void;
  /** The refusal of reservation `id`, if the store refused it; forgets the extras. */
  settle(id: string): ReserveRefusal | undefined;
}

/**
 * Wraps a store.
 *
 * @example
 * ```ts
 * import { createMemoryBudgetStore } from '@stipend/client';
 * import { scopedBudget } from './scoped-budget.js';
 * const budget = scopedBudget(createMemoryBudgetStore());
 * budget.expect('r1', [{ scope: 'delegation:…', window: { kind: 'total' }, maxUsdMicros: 100_000n }]);
 * ```
 */
export function scopedBudget(store: BudgetStore): ScopedBudget {
  const extras = new Map<string, readonly BudgetLimit[]>();
  const refusals = new Map<string, ReserveRefusal>();
  return {
    expect(id, limits) {
      extras.set(id, limits);
    },
    settle(id) {
      extras.delete(id);
      const refusal = refusals.get(id);
      refusals.delete(id);
      return refusal;
    },
    async reserve(request) {
      const extra = extras.get(request.id) ?? [];
      const result = await store.reserve({ ...request, limits: [...extra, ...request.limits] });
      if (!result.ok && extras.has(request.id)) refusals.set(request.id, result);
      return result;
    },
    commit: (id, actual) => store.commit(id, actual),
    release: (id) => store.release(id),
    usage: (limit, now) => store.usage(limit, now),
    get: (id) => store.get(id),
    expired: (now) => store.expired(now),
  };
}
