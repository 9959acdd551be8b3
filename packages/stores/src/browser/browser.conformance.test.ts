/**
 * The browser store under Node, on fake-indexeddb: with a Web Locks stand-in, and without
 * locks (fenced appends alone). Real Chromium tabs: test/stores/browser-tabs.test.ts.
 */
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describeBudgetStoreConformance } from '../conformance.test-helpers.js';
import { type BrowserBudgetStore, createBrowserBudgetStore } from './index.js';
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
}
