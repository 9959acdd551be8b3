/** Sanity check of the conformance suites: the in-memory stores of @stipend/client pass them. */
import {
  createMemoryApprovalStore,
  createMemoryBudgetStore,
  createMemoryPurchaseJournal,
} from '@stipend/client';
import { describeApprovalStoreConformance } from './approvals.conformance.test-helpers.js';
import { describeBudgetStoreConformance } from './conformance.test-helpers.js';
import { describePurchaseJournalConformance } from './purchase-journal.conformance.test-helpers.js';

describeBudgetStoreConformance('memory', () => createMemoryBudgetStore(), { propertyRuns: 50 });
describePurchaseJournalConformance('memory', () => createMemoryPurchaseJournal());
describeApprovalStoreConformance('memory', () => createMemoryApprovalStore());
