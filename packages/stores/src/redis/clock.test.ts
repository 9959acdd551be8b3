/**
 * Time in the Redis budget store when the fleet's clocks disagree (issue 11, findings 17 and
 * 22): one clock for shared windows (the Redis server's `TIME`), trimming that a clock running
 * ahead cannot abuse, and the Lua calendar that must agree with `windowStart`.
 */
import { windowStart } from '@stipend/client';
import fc from 'fast-check';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBudgetStore } from './budget.js';
import { CALENDAR } from './scripts.js';
import { type RedisServer, startRedisServer } from './server.test-helpers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

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

describe('one clock for shared windows (finding 22)', () => {
  it('two clients 2 h apart across UTC midnight cannot together pay more than the daily limit', async () => {
    const prefix = 'midnight:';
    const midnight = Math.ceil(Date.now() / DAY) * DAY;
    // One client thinks it is 23:00, the other 01:00 the next day.
    const late = createRedisBudgetStore({ url: server.url, prefix });
    const early = createRedisBudgetStore({ url: server.url, prefix });
    const limits = [
      { scope: 'global', window: { kind: 'calendar', unit: 'day' } as const, maxCount: 10 },
      { scope: 'global', window: { kind: 'calendar', unit: 'day' } as const, maxUsdMicros: 100n },
    ];
    const before = Date.now();
    const pay = (store: typeof late, now: number, tag: string) =>
      Array.from({ length: 10 }, (_, i) =>
        store.reserve({ id: `${tag}${i}`, limits, usdMicros: 10n, now, expiresAt: now + HOUR }),
      );
    const results = await Promise.all([
      ...pay(late, midnight - HOUR, 'late-'),
      ...pay(early, midnight + HOUR, 'early-'),
    ]);
    const after = Date.now();
    const accepted = results.flatMap((r) => (r.ok ? [r.reservation] : []));
    expect(accepted).toHaveLength(10);
    // Each spend counts at the server's time, not the caller's.
    for (const reservation of accepted) {
      expect(reservation.at).toBeGreaterThanOrEqual(before - 1_000);
      expect(reservation.at).toBeLessThanOrEqual(after + 1_000);
    }
    const today = await late.usage(limits[0]!, accepted[0]!.at);
    expect(today).toEqual({ committedUsdMicros: 0n, heldUsdMicros: 100n, count: 10 });
    await late.close();
    await early.close();
  });

  it('refuses an unknown clock option', () => {
    expect(() => createRedisBudgetStore({ client, clock: 'local' as unknown as 'redis' })).toThrow(
      /clock/,
    );
  });
});

describe('rolling windows under clock skew (finding 17)', () => {
  it('a process whose clock runs hours ahead cannot erase other processes’ history', async () => {
    const prefix = 'skew:';
    const options = { url: server.url, prefix, retainMs: 1_000, clock: 'caller' as const };
    const onTime = createRedisBudgetStore(options);
    const ahead = createRedisBudgetStore(options);
    const limits = [
      { scope: 'global', window: { kind: 'rolling', ms: HOUR } as const, maxUsdMicros: 100n },
    ];
    const now = Date.now();
    const reserve = (store: typeof onTime, id: string, usd: bigint, at: number) =>
      store.reserve({ id, limits, usdMicros: usd, now: at, expiresAt: at + HOUR });
    expect((await reserve(onTime, 'a', 60n, now)).ok).toBe(true);
    await onTime.commit('a', 60n);
    // Five hours ahead: its own window is empty, and its reservation must not trim ours.
    expect((await reserve(ahead, 'b', 10n, now + 5 * HOUR)).ok).toBe(true);
    // Its spend, stamped in our future, counts for us too (over-counting, never under).
    expect(await reserve(onTime, 'c', 60n, now + 1)).toMatchObject({ ok: false, remaining: 30n });
    expect(await onTime.usage(limits[0]!, now + 1)).toEqual({
      committedUsdMicros: 60n,
      heldUsdMicros: 10n,
      count: 2,
    });
    await onTime.close();
    await ahead.close();
  });

  it('never trims a held reservation out of the time index', async () => {
    const prefix = 'held-trim:';
    const store = createRedisBudgetStore({ client, prefix, retainMs: 1_000, clock: 'caller' });
    const T0 = Date.UTC(2024, 0, 15, 12);
    const short = { scope: 's', window: { kind: 'rolling', ms: 10_000 } as const };
    await store.reserve({ id: 'old', limits: [short], usdMicros: 7n, now: T0, expiresAt: T0 });
    for (let i = 1; i <= 10; i++) {
      const now = T0 + i * 5_000;
      await store.reserve({ id: `r${i}`, limits: [short], usdMicros: 1n, now, expiresAt: now });
      await store.commit(`r${i}`, 1n);
    }
    expect(await client.zRangeByScore(`${prefix}z:s`, '-inf', T0)).toEqual(['h7:old']);
    // A longer window that reaches back still sees the money that may move.
    const day = { scope: 's', window: { kind: 'rolling', ms: DAY } as const };
    expect((await store.usage(day, T0 + 50_000)).heldUsdMicros).toBe(7n);
    await store.commit('old', 7n);
    expect(await store.usage(day, T0 + 50_000)).toMatchObject({ heldUsdMicros: 0n });
  });
});

describe('the Lua calendar', () => {
  it('agrees with windowStart for days, ISO weeks and months over ±400 years', async () => {
    const script = `${CALENDAR}
local out = {}
for i = 1, #ARGV do
  local t = tonumber(ARGV[i])
  for _, unit in ipairs({ 'day', 'week', 'month' }) do
    local start, stop = period(unit, t)
    out[#out + 1] = ms(start) .. '/' .. ms(stop)
  end
end
return out`;
    const times = fc.sample(
      fc.oneof(
        fc.integer({ min: -12_622_780_800_000, max: 13_569_465_600_000 }),
        // Around month, leap-day and year boundaries.
        fc
          .record({
            year: fc.integer({ min: 1600, max: 2400 }),
            month: fc.integer({ min: 0, max: 12 }),
            offset: fc.integer({ min: -2, max: 2 }),
          })
          .map(({ year, month, offset }) => Date.UTC(year, month, 1) + offset),
      ),
      { numRuns: 2_000, seed: 22 },
    );
    const reply = (await client.sendCommand([
      'EVAL',
      script,
      '0',
      ...times.map(String),
    ])) as string[];
    const expected = times.flatMap((t) =>
      (['day', 'week', 'month'] as const).map((unit) => {
        const start = windowStart({ kind: 'calendar', unit }, t);
        const next =
          unit === 'day'
            ? start + DAY
            : unit === 'week'
              ? start + 7 * DAY
              : windowStart({ kind: 'calendar', unit }, start + 32 * DAY);
        return `${start}/${next}`;
      }),
    );
    expect(reply).toEqual(expected);
  });
});
