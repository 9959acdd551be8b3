export {
  createMemoryPurchaseJournal,
  type MemoryPurchaseJournalOptions,
  type OpenRefusal,
  openConflict,
  type PurchaseJournal,
  type PurchasePatch,
  type PurchaseRecord,
} from './journal.js';
export {
  canMove,
  FINAL,
  MONEY_IN_FLIGHT,
  MONEY_SPENT,
  type PurchaseState,
  TRANSITIONS,
} from './state.js';
