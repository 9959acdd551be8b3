/**
 * The browser stores under Node, on fake-indexeddb: with a Web Locks stand-in, and without
 * locks (fenced appends alone). Real Chromium tabs: test/stores/browser-tabs.test.ts.
 */
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describeApprovalStoreConformance } from '../approvals.conformance.test-helpers.js';
import { describeBudgetStoreConformance } from '../conformance.test-helpers.js';
import { describePurchaseJournalConformance } from '../purchase-journal.conformance.test-helpers.js';
import {
  type BrowserBudgetStore,
  type BrowserPurchaseJournal,
  createBrowserApprovalStore,
  createBrowserBudgetStore,
  createBrowserPurchaseJournal,
} from './index.js';
import { createTabLocks } from './locks.test-helpers.js';

let n = 0;
for (const locking of ['web-locks', 'none'] as const) {
  const locks = locking === 'web-locks' ? createTabLocks() : null;
  const options = (name: string) => ({
    name,
    indexedDB: factory,
    IDBKeyRange,
    locks,
  });
  const factory = new IDBFactory();
  describeBudgetStoreConformance(
    `browser (${locking})`,
    () => createBrowserBudgetStore(options(`budget-${n++}`)),
    {
      propertyRuns: 10,
      reopen: (store) => createBrowserBudgetStore(options((store as BrowserBudgetStore).name)),
    },
  );
  describePurchaseJournalConformance(
    `browser (${locking})`,
    () => createBrowserPurchaseJournal(options(`purchases-${n++}`)),
    {
      reopen: (journal) =>
        createBrowserPurchaseJournal(options((journal as BrowserPurchaseJournal).name)),
    },
  );
  describeApprovalStoreConformance(
    `browser (${locking})`,
    () => createBrowserApprovalStore(options(`approvals-${n++}`)),
    {
      reopen: (store) =>
        createBrowserApprovalStore(options((store as unknown as { name: string }).name)),
    },
  );
}
