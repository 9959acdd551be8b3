/**
 * The IndexedDB session store under Node, on fake-indexeddb (as browser.conformance.test.ts):
 * with a Web Locks stand-in, and without locks (fenced appends alone).
 */
import { isStipendError } from '@stipend/client';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import {
  describeSessionStoreConformance,
  sessionRecord,
} from '../../../client/src/session/store.conformance.test-helpers.js';
import { stringifyJson } from '../codec.js';
import { type BrowserSessionStore, createBrowserBudgetStore, idbSessionStore } from './index.js';
import { createTabLocks } from './locks.test-helpers.js';

let n = 0;
for (const locking of ['web-locks', 'none'] as const) {
  const factory = new IDBFactory();
  const locks = locking === 'web-locks' ? createTabLocks() : null;
  const options = (name: string) => ({ name, indexedDB: factory, IDBKeyRange, locks });
  describeSessionStoreConformance(
    `browser (${locking})`,
    () => idbSessionStore(options(`sessions-${n++}`)),
    { reopen: (store) => idbSessionStore(options((store as BrowserSessionStore).name)) },
  );
}

describe('IndexedDB session store', () => {
  const factory = new IDBFactory();
  const options = (name: string) => ({ name, indexedDB: factory, IDBKeyRange, locks: null });

  it('a session survives a reload, secret and bigints exact, beside the other stores', async () => {
    const budget = createBrowserBudgetStore(options('agent'));
    const now = Date.now();
    await budget.reserve({ id: 'r1', limits: [], usdMicros: 1n, now, expiresAt: now });
    const tab = idbSessionStore(options('agent'));
    const big = 2n ** 100n;
    await tab.put(sessionRecord('ses_r', { depositAtomic: big, secret: { bearer: 'b1' } }), 0);
    await tab.close();
    const reloaded = idbSessionStore(options('agent'));
    const read = await reloaded.get('ses_r');
    expect(read?.depositAtomic).toBe(big);
    expect(read?.secret).toEqual({ bearer: 'b1' });
    expect((await budget.get('r1'))?.state).toBe('held');
    await reloaded.close();
    await budget.close();
  });

  it('opens a database an older version created (version 3, without the sessions store)', async () => {
    await new Promise<void>((resolve, reject) => {
      const request = factory.open('stipend:old', 3);
      request.onupgradeneeded = () => {
        for (const name of ['budget', 'ledger', 'approvals', 'purchases']) {
          request.result.createObjectStore(name);
        }
      };
      request.onsuccess = () => {
        request.result.close();
        resolve();
      };
      request.onerror = () => reject(request.error);
    });
    const store = idbSessionStore(options('old'));
    expect((await store.put(sessionRecord('ses_old'), 0)).ok).toBe(true);
    expect((await store.get('ses_old'))?.version).toBe(1);
    await store.close();
  });

  it('a malformed stored session is STORE_CORRUPT, without its secret in the error', async () => {
    const secret = 'e'.repeat(64);
    const store = idbSessionStore(options('corrupt'));
    await store.put(sessionRecord('ses_ok'), 0);
    await store.close();
    // Another script of the origin writes entry 2 by hand.
    const bad = JSON.parse(stringifyJson({ ...sessionRecord('ses_bad'), version: 1 }));
    bad.state = 'paid';
    bad.secret = { bearer: secret };
    await new Promise<void>((resolve, reject) => {
      const request = factory.open('stipend:corrupt');
      request.onsuccess = () => {
        const tx = request.result.transaction('sessions', 'readwrite');
        tx.objectStore('sessions').add({ t: 'p', record: bad }, 2);
        tx.oncomplete = () => {
          request.result.close();
          resolve();
        };
        tx.onerror = () => reject(tx.error);
      };
    });
    const error = await idbSessionStore(options('corrupt'))
      .list()
      .catch((e: unknown) => e);
    expect(isStipendError(error) && error.code).toBe('STORE_CORRUPT');
    expect((error as Error).message).toContain('state');
    expect(JSON.stringify(error) + String(error)).not.toContain(secret);
  });
});
