import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { spendRecord } from '../ledger/fixtures.test-helpers.js';
import { createBrowserBudgetStore, createBrowserLedger } from './index.js';
import { createTabLocks } from './locks.test-helpers.js';

const T0 = Date.UTC(2024, 0, 15, 12);
const limits = [{ scope: 'g', window: { kind: 'total' as const }, maxUsdMicros: 30n }];

describe('browser budget store', () => {
  it('says whether Web Locks are in use, and takes them for every write', async () => {
    const indexedDB = new IDBFactory();
    const locks = createTabLocks();
    const locked = createBrowserBudgetStore({ name: 'a', indexedDB, IDBKeyRange, locks });
    const bare = createBrowserBudgetStore({ name: 'a', indexedDB, IDBKeyRange, locks: null });
    expect(locked.locking).toBe('web-locks');
    expect(bare.locking).toBe('none');
    // Node 20 has no navigator.locks: the default falls back, visibly.
    expect(createBrowserBudgetStore({ name: 'b', indexedDB, IDBKeyRange }).locking).toBe(
      typeof (globalThis as { navigator?: { locks?: unknown } }).navigator?.locks === 'object'
        ? 'web-locks'
        : 'none',
    );
    await locked.reserve({ id: 'r', limits, usdMicros: 10n, now: T0, expiresAt: T0 });
    await locked.commit('r', 10n);
    await locked.get('r');
    expect(locks.requests).toBe(2);
    expect((await bare.get('r'))?.state).toBe('committed');
    await locked.close();
    await bare.close();
  });

  it('shares one budget between "tabs" with and without locks', async () => {
    const indexedDB = new IDBFactory();
    const tabs = [
      createBrowserBudgetStore({ name: 'shared', indexedDB, IDBKeyRange, locks: createTabLocks() }),
      createBrowserBudgetStore({ name: 'shared', indexedDB, IDBKeyRange, locks: null }),
    ];
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        tabs[i % 2]!.reserve({ id: `r${i}`, limits, usdMicros: 1n, now: T0, expiresAt: T0 }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(30);
    expect((await tabs[0]!.usage(limits[0]!, T0)).heldUsdMicros).toBe(30n);
    for (const tab of tabs) await tab.close();
  });

  it('fails with STORE_UNAVAILABLE where there is no IndexedDB, and needs a name', async () => {
    const store = createBrowserBudgetStore({ name: 'x' });
    await expect(store.get('r')).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringContaining('IndexedDB'),
    });
    expect(() => createBrowserBudgetStore({ name: '' })).toThrow(/needs a name/);
  });
});

describe('browser ledger', () => {
  it('keeps records in IndexedDB, shared across instances', async () => {
    const indexedDB = new IDBFactory();
    const a = createBrowserLedger({ name: 'l', indexedDB, IDBKeyRange, locks: createTabLocks() });
    const b = createBrowserLedger({ name: 'l', indexedDB, IDBKeyRange, locks: null });
    await a.append(spendRecord('s1'));
    await b.update('s1', { status: 'committed', committedUsdMicros: 900n });
    await expect(b.append(spendRecord('s1'))).rejects.toMatchObject({ code: 'LEDGER_CONFLICT' });
    expect((await a.list()).map((r) => [r.id, r.status, r.committedUsdMicros])).toEqual([
      ['s1', 'committed', 900n],
    ]);
    // The budget and the ledger of one name live side by side.
    const budget = createBrowserBudgetStore({ name: 'l', indexedDB, IDBKeyRange, locks: null });
    expect(await budget.get('s1')).toBeUndefined();
    await a.close();
    await b.close();
    await budget.close();
  });
});
