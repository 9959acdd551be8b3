import { createMemorySessionStore } from './memory.js';
import { describeSessionStoreConformance } from './store.conformance.test-helpers.js';

describeSessionStoreConformance('memory', () => createMemorySessionStore());
