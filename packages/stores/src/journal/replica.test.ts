import { describe, expect, it } from 'vitest';
import type { Json } from '../codec.js';
import { createJournaledBudgetStore } from './budget.js';
import { CONFLICT, type JournalLog } from './log.js';
import { createReplica } from './replica.js';

/** An in-memory log shared by replicas, with hooks to make appends lose races or fail. */
function memoryLog(shared: Json[] = []) {
  const hooks = { beforeAppend: undefined as undefined | (() => void), fail: false, appends: 0 };
  const log: JournalLog = {
    withLock: (fn) => fn(),
    async read(cursor) {
      return { entries: shared.slice(cursor), cursor: shared.length };
    },
    async append(cursor, entry) {
      hooks.appends++;
      hooks.beforeAppend?.();
      if (hooks.fail) throw new Error('disk full');
      if (shared.length !== cursor) return CONFLICT;
      shared.push(entry);
      return shared.length;
    },
    async close() {},
  };
  return { log, shared, hooks };
}

const T0 = Date.UTC(2024, 0, 15, 12);
const limits = [{ scope: 'g', window: { kind: 'total' as const }, maxUsdMicros: 100n }];
const req = (id: string, usdMicros: bigint) => ({
  id,
  limits,
  usdMicros,
  now: T0,
  expiresAt: T0 + 1000,
});

describe('replica', () => {
  it('re-decides on fresh state when an append loses a race', async () => {
    const shared: Json[] = [];
    const a = memoryLog(shared);
    const b = memoryLog(shared);
    const storeA = createJournaledBudgetStore(a.log, 'test');
    const storeB = createJournaledBudgetStore(b.log, 'test');
    expect((await storeB.reserve(req('warm', 0n))).ok).toBe(true);
    // Just before A appends, B takes 60 of the 100: A's first decision (ok for 60) is stale.
    a.hooks.beforeAppend = () => {
      a.hooks.beforeAppend = undefined;
      shared.push({
        t: 'r',
        id: 'b',
        limits: [{ scope: 'g', window: { kind: 'total' }, maxUsdMicros: { $b: '100' } }],
        usd: { $b: '60' },
        at: T0,
        exp: T0,
      });
    };
    const result = await storeA.reserve(req('a', 60n));
    expect(result).toMatchObject({ ok: false, exceeded: 'usd', remaining: 40n });
    expect(storeA.stats.conflicts).toBe(1);
    expect(storeA.stats.rebuilds).toBe(1);
    expect(await storeB.usage(limits[0]!, T0)).toMatchObject({ heldUsdMicros: 60n, count: 2 });
    expect(await storeA.get('a')).toBeUndefined();
  });

  it('appends nothing for idempotent replays and failed checks', async () => {
    const { log, shared } = memoryLog();
    const store = createJournaledBudgetStore(log, 'test');
    await store.reserve(req('r', 10n));
    await store.reserve(req('r', 10n));
    await store.reserve(req('big', 1_000n));
    await store.commit('r', 5n);
    await store.commit('r', 5n);
    await expect(store.release('r')).rejects.toMatchObject({ code: 'BUDGET_CONFLICT' });
    await expect(store.commit('nope', 1n)).rejects.toMatchObject({ code: 'BUDGET_NOT_FOUND' });
    expect(shared.map((e) => (e as { t: string }).t)).toEqual(['r', 'c']);
  });

  it('rebuilds from the log after a failed append and reports STORE_UNAVAILABLE', async () => {
    const { log, hooks, shared } = memoryLog();
    const store = createJournaledBudgetStore(log, 'the test log');
    await store.reserve(req('ok', 10n));
    hooks.fail = true;
    await expect(store.reserve(req('lost', 10n))).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringContaining('the test log'),
    });
    hooks.fail = false;
    // The failed reservation is not in memory either: the state was rebuilt from the log.
    expect(await store.get('lost')).toBeUndefined();
    expect(await store.usage(limits[0]!, T0)).toMatchObject({ heldUsdMicros: 10n, count: 1 });
    expect(shared).toHaveLength(1);
  });

  it('gives up after repeated lost races', async () => {
    const { log, hooks } = memoryLog();
    hooks.beforeAppend = () => undefined;
    const replica = createReplica<{ n: number }>({
      log: { ...log, append: async () => CONFLICT },
      init: () => ({ n: 0 }),
      apply: (s) => void s.n++,
      maxConflicts: 3,
      describe: 'a racy log',
    });
    await expect(
      replica.write(async (s) => ({ result: ++s.n, entry: 'inc' })),
    ).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(replica.stats.conflicts).toBe(3);
  });

  it('reports STORE_CORRUPT for an entry that cannot replay, and recovers if it is fixed', async () => {
    const shared: Json[] = [{ t: 'c', id: 'never-reserved', usd: { $b: '1' } }];
    const store = createJournaledBudgetStore(memoryLog(shared).log, 'the bad log');
    await expect(store.get('x')).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    shared.splice(0, 1);
    expect(await store.get('x')).toBeUndefined();
    shared.push({ t: 'zz' } as Json);
    await expect(store.get('x')).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringContaining('the bad log'),
    });
  });
});
