import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { describeBudgetStoreConformance } from '../conformance.test-helpers.js';
import { createFileBudgetStore, type FileBudgetStore } from './index.js';

const folder = mkdtempSync(join(tmpdir(), 'stipend-file-conformance-'));
let n = 0;
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describeBudgetStoreConformance(
  'file',
  () => createFileBudgetStore({ path: join(folder, `budget-${n++}.jsonl`) }),
  {
    propertyRuns: 15,
    reopen: (store) => createFileBudgetStore({ path: (store as FileBudgetStore).path }),
  },
);
