import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spendRecord } from './fixtures.test-helpers.js';
import { openConsoleStores } from './stores.js';

const folder = mkdtempSync(join(tmpdir(), 'stipend-console-stores-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('openConsoleStores', () => {
  it('--dir opens the four file stores of createFileStores, and they read what an agent wrote', async () => {
    const { createFileStores } = await import('@stipend/stores/file');
    const agent = createFileStores({ dir: folder });
    await agent.ledger.append(spendRecord({ id: 'p_agent' }));
    await agent.close();
    const stores = await openConsoleStores({ dir: folder });
    try {
      expect((await stores.ledger.list()).map((r) => r.id)).toEqual(['p_agent']);
      expect(stores.approvals).toBeDefined();
      expect(stores.journal).toBeDefined();
      expect(stores.sources).toEqual([
        `budget: ${join(folder, 'budget.jsonl')}`,
        `ledger: ${join(folder, 'ledger.jsonl')}`,
        `purchases: ${join(folder, 'purchases.jsonl')}`,
        `approvals: ${join(folder, 'approvals.jsonl')}`,
      ]);
    } finally {
      await stores.close();
    }
  });

  it('single files: a missing folder is an error naming the flag; a missing file is a note', async () => {
    await expect(
      openConsoleStores({
        budget: join(folder, 'nope', 'b.jsonl'),
        ledger: join(folder, 'l.jsonl'),
      }),
    ).rejects.toThrow(/--budget .*does not exist/);
    await expect(openConsoleStores({ dir: join(folder, 'typo') })).rejects.toThrow(
      /--dir .* is not a folder/,
    );
    await expect(openConsoleStores({})).rejects.toThrow(/--dir <folder>.*--redis <url>/);
    writeFileSync(join(folder, 'exists.jsonl'), '');
    const stores = await openConsoleStores({
      budget: join(folder, 'exists.jsonl'),
      ledger: join(folder, 'new-ledger.jsonl'),
    });
    try {
      expect(stores.notes).toEqual([
        `${join(folder, 'new-ledger.jsonl')} does not exist yet (--ledger): it shows empty until an agent writes it.`,
        'No approval store: pending approvals do not show (pass --approvals <file>).',
        'No purchase journal: held purchases do not show (pass --journal <file>).',
      ]);
      expect(stores.approvals).toBeUndefined();
    } finally {
      await stores.close();
    }
  });

  it('a Redis URL’s password never shows in the sources', async () => {
    const stores = await openConsoleStores({
      redis: 'redis://user:hunter2@127.0.0.1:1/0',
      redisDurability: 'ignore',
    });
    try {
      expect(stores.sources.join('\n')).not.toContain('hunter2');
      expect(stores.sources[0]).toBe('budget: redis 127.0.0.1:1 stipend:budget:');
    } finally {
      await stores.close();
    }
  });
});
