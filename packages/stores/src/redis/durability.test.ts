/**
 * Redis durability is checked, not left to luck (issue 11, finding 23): against real
 * redis-servers without persistence, with an evicting policy, and with CONFIG disabled.
 */
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { spendRecord } from '../ledger/fixtures.test-helpers.js';
import { purchaseRecord } from '../purchase-journal.conformance.test-helpers.js';
import { createRedisBudgetStore } from './budget.js';
import { createRedisLedger } from './ledger.js';
import { createRedisPurchaseJournal } from './purchases.js';
import { type RedisServer, startRedisServer } from './server.test-helpers.js';

const T0 = Date.UTC(2024, 0, 15, 12);
const limits = [{ scope: 'g', window: { kind: 'total' } as const, maxUsdMicros: 100n }];
const reserve = (store: ReturnType<typeof createRedisBudgetStore>, id: string) =>
  store.reserve({ id, limits, usdMicros: 1n, now: T0, expiresAt: T0 });

let volatile: RedisServer;
let evicting: RedisServer;
let managed: RedisServer;
const closers: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  [volatile, evicting, managed] = await Promise.all([
    startRedisServer({ persistence: 'none' }),
    startRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] }),
    startRedisServer({ args: ['--rename-command', 'CONFIG', ''] }),
  ]);
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const store of closers.splice(0)) await store.close();
});
afterAll(async () => {
  await Promise.all([volatile?.stop(), evicting?.stop(), managed?.stop()]);
});

function track<T extends { close(): Promise<void> }>(store: T): T {
  closers.push(store);
  return store;
}

async function keys(url: string): Promise<string[]> {
  const client = createClient({ url });
  await client.connect();
  try {
    return await client.keys('*');
  } finally {
    await client.close();
  }
}

describe('Redis stores refuse a server that could forget spend (finding 23)', () => {
  it('refuses a server without persistence, saying what to set, and writes nothing', async () => {
    const budget = track(createRedisBudgetStore({ url: volatile.url, prefix: 'b:' }));
    const error = await reserve(budget, 'r1').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'STORE_NOT_DURABLE',
      shortMessage: expect.stringMatching(/appendonly is "no" and save is "": a restart forgets/),
      details: { appendonly: 'no', save: '', maxmemoryPolicy: 'noeviction' },
    });
    expect((error as Error).message).toMatch(/appendonly yes, appendfsync everysec/);
    expect((error as Error).message).toMatch(/durability: 'warn'/);
    // The ledger and the purchase journal check too.
    const ledger = track(createRedisLedger({ url: volatile.url, prefix: 'l:' }));
    await expect(ledger.append(spendRecord('s1'))).rejects.toMatchObject({
      code: 'STORE_NOT_DURABLE',
    });
    const journal = track(createRedisPurchaseJournal({ url: volatile.url, prefix: 'j:' }));
    await expect(journal.open(purchaseRecord('p1', 'k'))).rejects.toMatchObject({
      code: 'STORE_NOT_DURABLE',
    });
    expect(await keys(volatile.url)).toEqual([]);
  });

  it('refuses an evicting maxmemory-policy', async () => {
    const budget = track(createRedisBudgetStore({ url: evicting.url, prefix: 'b:' }));
    await expect(reserve(budget, 'r1')).rejects.toMatchObject({
      code: 'STORE_NOT_DURABLE',
      shortMessage: expect.stringContaining('maxmemory-policy is "allkeys-lru"'),
      details: { appendonly: 'yes', maxmemoryPolicy: 'allkeys-lru' },
    });
  });

  it('says so when CONFIG is disabled (managed Redis) and needs the explicit option', async () => {
    const budget = track(createRedisBudgetStore({ url: managed.url, prefix: 'b:' }));
    const error = await reserve(budget, 'r1').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'STORE_NOT_DURABLE',
      shortMessage: expect.stringContaining('refused CONFIG GET'),
      details: { config: 'unavailable' },
    });
    expect((error as Error).message).toMatch(/Managed Redis services often disable CONFIG/);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const warned = track(
      createRedisBudgetStore({ url: managed.url, prefix: 'w:', durability: 'warn' }),
    );
    expect((await reserve(warned, 'r1')).ok).toBe(true);
    expect(warn).toHaveBeenCalledOnce();
  });

  it("with durability: 'warn', warns once and works; with 'ignore', does not check", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const budget = track(
      createRedisBudgetStore({ url: volatile.url, prefix: 'warn:', durability: 'warn' }),
    );
    await Promise.all([reserve(budget, 'a'), reserve(budget, 'b')]);
    await budget.commit('a', 1n);
    expect(warn).toHaveBeenCalledOnce();
    expect(String(warn.mock.calls[0]![0])).toMatch(/could lose spend: appendonly is "no"/);
    const ignoring = track(
      createRedisBudgetStore({ url: volatile.url, prefix: 'warn:', durability: 'ignore' }),
    );
    expect((await ignoring.get('a'))?.state).toBe('committed');
    expect(warn).toHaveBeenCalledOnce();
    expect(() =>
      createRedisBudgetStore({ url: volatile.url, durability: 'maybe' as unknown as 'warn' }),
    ).toThrow(/durability/);
  });

  it('checks again after a refusal, so fixing the server is enough', async () => {
    const server = await startRedisServer({ persistence: 'none' });
    try {
      const budget = track(createRedisBudgetStore({ url: server.url, prefix: 'fix:' }));
      await expect(reserve(budget, 'r1')).rejects.toMatchObject({ code: 'STORE_NOT_DURABLE' });
      const admin = createClient({ url: server.url });
      await admin.connect();
      await admin.configSet('appendonly', 'yes');
      await admin.close();
      expect((await reserve(budget, 'r1')).ok).toBe(true);
    } finally {
      await server.stop();
    }
  });
});
