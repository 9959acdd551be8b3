/**
 * Budgets: the {@link BudgetStore} contract, the in-memory store and window arithmetic.
 *
 * @module
 */
export {
  createMemoryBudgetStore,
  type MemoryBudgetStore,
  type MemoryBudgetStoreOptions,
} from './memory.js';
export type {
  BudgetLimit,
  BudgetStore,
  BudgetUsage,
  BudgetWindow,
  Reservation,
  ReserveRefusal,
  ReserveRequest,
} from './store.js';
export { parseWindowSpec, windowKey, windowStart } from './window.js';
