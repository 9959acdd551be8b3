/** Redis-specific behaviour of the budget store and ledger (conformance is elsewhere). */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spendRecord } from '../ledger/fixtures.test-helpers.js';
import { createRedisBudgetStore } from './budget.js';
import { createRedisLedger } from './ledger.js';
import { type RedisServer, startRedisServer } from './server.test-helpers.js';

let server: RedisServer;
let client: ReturnType<typeof createClient>;
beforeAll(async () => {
  server = await startRedisServer();
  client = createClient({ url: server.url });
  await client.connect();
});
afterAll(async () => {
  await client?.close();
  await server?.stop();
});

const T0 = Date.UTC(2024, 0, 15, 12);
const DAY = 86_400_000;
const day = { kind: 'calendar', unit: 'day' } as const;

async function evalshaCalls(): Promise<number> {
  const info = await client.sendCommand(['INFO', 'commandstats']);
  const match = /cmdstat_evalsha:calls=(\d+)/.exec(String(info));
  return Number(match?.[1] ?? 0);
}

describe('redis budget store', () => {
  it('reserves with exactly one script call, on a client it does not own', async () => {
    const store = createRedisBudgetStore({ client, prefix: 'one:', clock: 'caller' });
    const limits = [
      { scope: 'global', window: day, maxUsdMicros: 100n },
      { scope: 'global', window: { kind: 'rolling', ms: 60_000 } as const, maxCount: 5 },
      { scope: 'host:a', window: { kind: 'total' } as const, maxUsdMicros: 100n },
    ];
    await store.reserve({ id: 'warm', limits, usdMicros: 1n, now: T0, expiresAt: T0 });
    const before = await evalshaCalls();
    for (let i = 0; i < 5; i++) {
      await store.reserve({ id: `r${i}`, limits, usdMicros: 1n, now: T0, expiresAt: T0 });
    }
    expect((await evalshaCalls()) - before).toBe(5);
    await store.close();
    expect(await client.ping()).toBe('PONG');
  });

  it('never lets a period key with a held reservation expire, and expires settled state', async () => {
    const prefix = 'ttl:';
    const store = createRedisBudgetStore({ client, prefix, retainMs: 60_000, clock: 'caller' });
    const limits = [{ scope: 'g', window: day, maxUsdMicros: 100n }];
    await store.reserve({ id: 'a', limits, usdMicros: 5n, now: T0, expiresAt: T0 });
    await store.reserve({ id: 'b', limits, usdMicros: 5n, now: T0 + 1, expiresAt: T0 });
    const dayKey = `${prefix}p:g:day:${Date.UTC(2024, 0, 15)}`;
    expect(await client.pTTL(dayKey)).toBe(-1);
    expect(await client.pTTL(`${prefix}r:a`)).toBe(-1);
    await store.commit('a', 5n);
    expect(await client.pTTL(dayKey)).toBe(-1);
    expect(await client.pTTL(`${prefix}r:a`)).toBeGreaterThan(55_000);
    await store.release('b');
    // No hold left in the period: it lives until its end plus retainMs.
    const ttl = await client.pTTL(dayKey);
    expect(ttl).toBeGreaterThan(DAY / 2 + 50_000);
    expect(ttl).toBeLessThanOrEqual(DAY / 2 + 60_000);
    expect(await client.hGetAll(dayKey)).toEqual({ h: '0', c: '5', n: '1', nh: '0' });
  });

  it('trims a scope’s committed history beyond its longest rolling window and retainMs', async () => {
    const prefix = 'trim:';
    const store = createRedisBudgetStore({ client, prefix, retainMs: 1_000, clock: 'caller' });
    const limits = [{ scope: 's', window: { kind: 'rolling', ms: 10_000 } as const }];
    for (let i = 0; i < 10; i++) {
      await store.reserve({
        id: `r${i}`,
        limits,
        usdMicros: 1n,
        now: T0 + i * 5_000,
        expiresAt: T0,
      });
      await store.commit(`r${i}`, 1n);
    }
    // At T0 + 45 s only reservations from T0 + 35 s on are kept (10 s window).
    expect(await client.zCard(`${prefix}z:s`)).toBe(3);
    expect((await store.usage(limits[0]!, T0 + 45_000)).count).toBe(3);
  });

  it('keeps running rolling sums equal to the time index through trims and settlements', async () => {
    const prefix = 'running:';
    const store = createRedisBudgetStore({ client, prefix, retainMs: 1_000, clock: 'caller' });
    const short = { scope: 's', window: { kind: 'rolling', ms: 10_000 } as const };
    const long = { scope: 's', window: { kind: 'rolling', ms: 60_000 } as const };
    // A usage query registers the 60 s running sum; reservations only ever use 10 s.
    expect((await store.usage(long, T0)).count).toBe(0);
    for (let i = 0; i < 20; i++) {
      const id = `r${i}`;
      await store.reserve({
        id,
        limits: [short],
        usdMicros: BigInt(i + 1),
        now: T0 + i * 5_000,
        expiresAt: T0,
      });
      if (i % 3 === 0) await store.commit(id, 1n);
      else if (i % 3 === 1) await store.release(id);
      // Settle an older one after it may have been trimmed away.
      if (i >= 4 && i % 4 === 0) await store.release(`r${i - 4}`).catch(() => undefined);
    }
    const now = T0 + 100_000;
    const members = await client.zRangeByScore(`${prefix}z:s`, now - 60_000, '+inf');
    let held = 0n;
    let committed = 0n;
    for (const member of members) {
      const amount = BigInt(member.slice(1, member.indexOf(':')));
      if (member.startsWith('h')) held += amount;
      else committed += amount;
    }
    expect(members.length).toBeGreaterThan(0);
    expect(await store.usage(long, now)).toEqual({
      committedUsdMicros: committed,
      heldUsdMicros: held,
      count: members.length,
    });
    // Moving back and forth gives the same answers.
    await store.usage(long, T0);
    expect((await store.usage(long, now)).count).toBe(members.length);
  });

  it('answers STORE_UNAVAILABLE when Redis is unreachable, and needs a client or url', async () => {
    const store = createRedisBudgetStore({ url: 'redis://127.0.0.1:1', prefix: 'x:' });
    const attempt = store.get('r');
    await expect(attempt).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await store.close();
    expect(() => createRedisBudgetStore({})).toThrow(/client|url/);
    expect(() => createRedisBudgetStore({ client, retainMs: 0 })).toThrow(/retainMs/);
  });

  it('re-loads its scripts after SCRIPT FLUSH', async () => {
    const store = createRedisBudgetStore({ url: server.url, prefix: 'flush:', clock: 'caller' });
    const limits = [{ scope: 'g', window: day, maxUsdMicros: 10n }];
    await store.reserve({ id: 'a', limits, usdMicros: 5n, now: T0, expiresAt: T0 });
    await client.sendCommand(['SCRIPT', 'FLUSH']);
    expect(
      (await store.reserve({ id: 'b', limits, usdMicros: 6n, now: T0, expiresAt: T0 })).ok,
    ).toBe(false);
    await store.close();
  });
});

describe('redis ledger', () => {
  it('appends, updates and lists records shared by two connections', async () => {
    const a = createRedisLedger({ client, prefix: 'ledger1:' });
    const b = createRedisLedger({ url: server.url, prefix: 'ledger1:' });
    await a.append(spendRecord('s1'));
    await b.append(spendRecord('s2', { committedUsdMicros: 2n ** 90n }));
    await b.update('s1', { status: 'released', outcome: 'rejected', updatedAt: 9 });
    await expect(a.append(spendRecord('s2'))).rejects.toMatchObject({ code: 'LEDGER_CONFLICT' });
    await expect(a.update('s3', {})).rejects.toMatchObject({ code: 'LEDGER_NOT_FOUND' });
    const records = await a.list();
    expect(records.map((r) => [r.id, r.status, r.committedUsdMicros])).toEqual([
      ['s1', 'released', undefined],
      ['s2', 'pending', 2n ** 90n],
    ]);
    expect(await b.list()).toEqual(records);
    expect(await client.lLen('ledger1:ops')).toBe(3);
    await b.close();
  });

  it('reports entries it cannot read as STORE_CORRUPT', async () => {
    await client.rPush('ledger2:ops', '{"t":"nope"}');
    await expect(createRedisLedger({ client, prefix: 'ledger2:' }).list()).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
    });
  });
});
