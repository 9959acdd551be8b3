/** Sanity check of the conformance suite: the in-memory store of @stipend/client passes it. */
import { createMemoryBudgetStore } from '@stipend/client';
import { describeBudgetStoreConformance } from './conformance.test-helpers.js';

describeBudgetStoreConformance('memory', () => createMemoryBudgetStore(), { propertyRuns: 50 });
