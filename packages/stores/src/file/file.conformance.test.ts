import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { describeApprovalStoreConformance } from '../approvals.conformance.test-helpers.js';
import { describeBudgetStoreConformance } from '../conformance.test-helpers.js';
import { describePurchaseJournalConformance } from '../purchase-journal.conformance.test-helpers.js';
import {
  createFileApprovalStore,
  createFileBudgetStore,
  createFilePurchaseJournal,
  type FileBudgetStore,
} from './index.js';

const folder = mkdtempSync(join(tmpdir(), 'stipend-file-conformance-'));
let n = 0;
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** Remembers each instance's path, to reopen it as another process would. */
const paths = new WeakMap<object, string>();
function at<T extends object>(path: string, make: (options: { path: string }) => T): T {
  const store = make({ path });
  paths.set(store, path);
  return store;
}

describeBudgetStoreConformance(
  'file',
  () => createFileBudgetStore({ path: join(folder, `budget-${n++}.jsonl`) }),
  {
    propertyRuns: 15,
    reopen: (store) => createFileBudgetStore({ path: (store as FileBudgetStore).path }),
  },
);
describePurchaseJournalConformance(
  'file',
  () => at(join(folder, `purchases-${n++}.jsonl`), createFilePurchaseJournal),
  { reopen: (journal) => at(paths.get(journal)!, createFilePurchaseJournal) },
);
describeApprovalStoreConformance(
  'file',
  () => at(join(folder, `approvals-${n++}.jsonl`), createFileApprovalStore),
  { reopen: (store) => at(paths.get(store)!, createFileApprovalStore) },
);
