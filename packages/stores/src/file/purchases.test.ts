/** The file purchase journal beyond conformance: crash fragments, and the stores of one folder. */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pendingApproval } from '../approvals.conformance.test-helpers.js';
import { spendRecord } from '../ledger/fixtures.test-helpers.js';
import { purchaseRecord } from '../purchase-journal.conformance.test-helpers.js';
import { createFilePurchaseJournal, createFileStores } from './index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stipend-purchases-'));
  dirs.push(dir);
  return dir;
}

describe('file purchase journal', () => {
  it('replays what was confirmed after a crash tore the last line, and goes on', async () => {
    const path = join(tempDir(), 'purchases.jsonl');
    const first = createFilePurchaseJournal({ path });
    await first.open(purchaseRecord('p1', 'order-1', { exclusive: true }));
    await first.transition('p1', ['decided'], 'authorizing', { reference: 'hash:1' });
    await first.close();
    // A writer killed mid-append leaves a fragment without its newline.
    appendFileSync(path, '{"o":999,"w":"dead","e":{"t":"o","record":{"id":"p9"');
    const second = createFilePurchaseJournal({ path });
    expect((await second.list()).map((r) => [r.id, r.state])).toEqual([['p1', 'authorizing']]);
    expect((await second.open(purchaseRecord('p2', 'order-1', { exclusive: true }))).ok).toBe(
      false,
    );
    expect((await second.open(purchaseRecord('p3', 'order-3'))).ok).toBe(true);
    await second.close();
    const third = createFilePurchaseJournal({ path });
    expect((await third.list()).map((r) => r.id)).toEqual(['p1', 'p3']);
    await third.close();
    // Nothing in the file is a secret or a bigint tag it could not replay.
    expect(readFileSync(path, 'utf8')).toContain('"reference":"hash:1"');
  });
});

describe('persisted purchase journals check what they store', () => {
  it('refuses unknown states and never lets a patch re-key or re-id a purchase', async () => {
    const journal = createFilePurchaseJournal({ path: join(tempDir(), 'purchases.jsonl') });
    await expect(
      journal.open(purchaseRecord('p0', 'k', { state: 'bogus' as never })),
    ).rejects.toMatchObject({ code: 'JOURNAL_INVALID' });
    await expect(
      journal.open({ ...purchaseRecord('p0', 'k'), exclusive: 'yes' as never }),
    ).rejects.toMatchObject({ code: 'JOURNAL_INVALID' });
    await journal.open(purchaseRecord('p1', 'order-1', { exclusive: true }));
    await expect(journal.transition('p1', ['decided'], 'gone' as never)).rejects.toMatchObject({
      code: 'JOURNAL_INVALID',
    });
    const next = await journal.transition('p1', ['decided'], 'void', {
      key: 'other',
      id: 'p2',
      booked: false,
    } as never);
    expect(next).toMatchObject({ id: 'p1', key: 'order-1', state: 'void', booked: false });
    expect(await journal.byKey('other')).toEqual([]);
    await journal.close();
  });
});

describe('createFileStores', () => {
  it('keeps the budget, ledger, approvals and purchase journal of one folder', async () => {
    const dir = join(tempDir(), 'agent');
    const stores = createFileStores({ dir });
    const now = Date.now();
    await stores.budget.reserve({ id: 'r1', limits: [], usdMicros: 1n, now, expiresAt: now });
    await stores.ledger.append(spendRecord('s1'));
    await stores.approvals.put(pendingApproval('a1', 'order-1'));
    await stores.journal.open(purchaseRecord('p1', 'order-1'));
    await stores.close();
    for (const name of ['budget', 'ledger', 'approvals', 'purchases']) {
      expect(existsSync(join(dir, `${name}.jsonl`))).toBe(true);
    }
    const again = createFileStores({ dir });
    expect((await again.budget.get('r1'))?.state).toBe('held');
    expect((await again.ledger.list()).map((r) => r.id)).toEqual(['s1']);
    expect((await again.approvals.get('a1'))?.purchaseKey).toBe('order-1');
    expect((await again.journal.get('p1'))?.key).toBe('order-1');
    await again.close();
    expect(() => createFileStores({ dir: '' })).toThrow(/folder/);
  });
});
