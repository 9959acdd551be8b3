import { describe, expect, it } from 'vitest';
import { StipendError } from '../errors/base.js';
import { createMemoryBudgetStore } from './memory.js';
import type { BudgetLimit, BudgetWindow, ReserveRequest } from './store.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Monday 15 January 2024, 12:00 UTC. */
const T0 = Date.UTC(2024, 0, 15, 12);

const day: BudgetWindow = { kind: 'calendar', unit: 'day' };
const week: BudgetWindow = { kind: 'calendar', unit: 'week' };
const month: BudgetWindow = { kind: 'calendar', unit: 'month' };
const total: BudgetWindow = { kind: 'total' };
const hour: BudgetWindow = { kind: 'rolling', ms: HOUR };

function usd(scope: string, window: BudgetWindow, maxUsdMicros: bigint): BudgetLimit {
  return { scope, window, maxUsdMicros };
}

function request(
  id: string,
  usdMicros: bigint,
  limits: readonly BudgetLimit[],
  now = T0,
  expiresAt = now + MINUTE,
): ReserveRequest {
  return { id, usdMicros, limits, now, expiresAt };
}

async function rejection(promise: Promise<unknown>): Promise<StipendError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StipendError);
    return error as StipendError;
  }
  throw new Error('expected a rejection');
}

describe('reserve', () => {
  it('holds a reservation and counts it at its reserved amount', async () => {
    const store = createMemoryBudgetStore();
    const limits = [usd('global', day, 1_000_000n)];
    const result = await store.reserve({
      ...request('r1', 250_000n, limits),
      meta: { origin: 'https://api.example.com' },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.reservation).toEqual({
      id: 'r1',
      limits,
      usdMicros: 250_000n,
      at: T0,
      expiresAt: T0 + MINUTE,
      state: 'held',
      meta: { origin: 'https://api.example.com' },
    });
    expect(Object.isFrozen(result.reservation)).toBe(true);
    expect(await store.get('r1')).toBe(result.reservation);
    expect(await store.usage({ scope: 'global', window: day }, T0)).toEqual({
      committedUsdMicros: 0n,
      heldUsdMicros: 250_000n,
      count: 1,
    });
    expect(await store.get('missing')).toBeUndefined();
  });

  it('keeps its own copy of the limits', async () => {
    const store = createMemoryBudgetStore();
    const limit = { scope: 'global', window: { kind: 'rolling', ms: HOUR }, maxUsdMicros: 10n };
    const result = await store.reserve(request('r1', 5n, [limit as BudgetLimit]));
    limit.scope = 'other';
    limit.window.ms = 1;
    expect(result.ok && result.reservation.limits[0]).toEqual(usd('global', hour, 10n));
    expect((await store.usage({ scope: 'global', window: hour }, T0)).heldUsdMicros).toBe(5n);
  });

  it('fits exactly at the limit and refuses one micro-dollar more', async () => {
    const store = createMemoryBudgetStore();
    const limits = [usd('global', day, 100n)];
    expect((await store.reserve(request('a', 60n, limits))).ok).toBe(true);
    expect(await store.reserve(request('b', 41n, limits))).toEqual({
      ok: false,
      limit: limits[0],
      exceeded: 'usd',
      remaining: 40n,
    });
    expect((await store.reserve(request('b', 40n, limits))).ok).toBe(true);
    expect(await store.reserve(request('c', 1n, limits))).toMatchObject({ remaining: 0n });
    expect((await store.reserve(request('d', 0n, limits))).ok).toBe(true);
  });

  it('is all or nothing across limits: a host limit that does not fit reserves nothing', async () => {
    const store = createMemoryBudgetStore();
    const global = usd('global', day, 1_000_000n);
    const host = usd('host:api.example.com', hour, 50_000n);
    const tag = { scope: 'tag:search', window: total, maxCount: 100 };
    expect((await store.reserve(request('first', 40_000n, [global, host]))).ok).toBe(true);
    const refused = await store.reserve(request('second', 20_000n, [global, tag, host]));
    expect(refused).toEqual({ ok: false, limit: host, exceeded: 'usd', remaining: 10_000n });
    expect(await store.get('second')).toBeUndefined();
    expect(await store.usage(global, T0)).toEqual({
      committedUsdMicros: 0n,
      heldUsdMicros: 40_000n,
      count: 1,
    });
    expect(await store.usage(tag, T0)).toEqual({
      committedUsdMicros: 0n,
      heldUsdMicros: 0n,
      count: 0,
    });
    // The refused id was never recorded, so it can be used for a smaller attempt.
    expect((await store.reserve(request('second', 10_000n, [global, tag, host]))).ok).toBe(true);
  });

  it('reports the first limit that would be exceeded, in the given order', async () => {
    const store = createMemoryBudgetStore();
    const a = usd('a', day, 10n);
    const b = { scope: 'b', window: day, maxCount: 0 };
    expect(await store.reserve(request('x', 11n, [b, a]))).toEqual({
      ok: false,
      limit: b,
      exceeded: 'count',
      remaining: 0n,
    });
    expect(await store.reserve(request('x', 11n, [a, b]))).toMatchObject({
      limit: a,
      exceeded: 'usd',
    });
  });

  it('reports zero remaining when a lowered limit is already overspent', async () => {
    const store = createMemoryBudgetStore();
    await store.reserve(request('a', 80n, [usd('global', day, 100n)]));
    expect(await store.reserve(request('b', 1n, [usd('global', day, 50n)]))).toMatchObject({
      ok: false,
      remaining: 0n,
    });
  });

  it('counts payments for count limits: held and committed, not released', async () => {
    const store = createMemoryBudgetStore();
    const limit: BudgetLimit = { scope: 'host:a', window: day, maxCount: 3 };
    for (const id of ['1', '2', '3'])
      expect((await store.reserve(request(id, 1n, [limit]))).ok).toBe(true);
    expect(await store.reserve(request('4', 1n, [limit]))).toEqual({
      ok: false,
      limit,
      exceeded: 'count',
      remaining: 0n,
    });
    await store.commit('1', 0n);
    await store.commit('2', 1n);
    expect((await store.reserve(request('4', 1n, [limit]))).ok).toBe(false);
    await store.release('3');
    expect((await store.usage(limit, T0)).count).toBe(2);
    expect((await store.reserve(request('4', 1n, [limit]))).ok).toBe(true);
    expect(await store.usage(limit, T0)).toEqual({
      committedUsdMicros: 1n,
      heldUsdMicros: 1n,
      count: 3,
    });
  });

  it('checks a USD and a count cap on the same limit', async () => {
    const store = createMemoryBudgetStore();
    const limit: BudgetLimit = { scope: 'global', window: day, maxUsdMicros: 100n, maxCount: 2 };
    expect((await store.reserve(request('a', 10n, [limit]))).ok).toBe(true);
    expect(await store.reserve(request('b', 91n, [limit]))).toMatchObject({ exceeded: 'usd' });
    expect((await store.reserve(request('b', 10n, [limit]))).ok).toBe(true);
    expect(await store.reserve(request('c', 10n, [limit]))).toMatchObject({
      exceeded: 'count',
      remaining: 0n,
    });
  });

  it('accepts a reservation with no limits and tracks it for commit and release', async () => {
    const store = createMemoryBudgetStore();
    const result = await store.reserve(request('free', 5n, []));
    expect(result.ok).toBe(true);
    expect((await store.commit('free', 5n)).state).toBe('committed');
  });

  it('counts a reservation once per scope even when several limits share it', async () => {
    const store = createMemoryBudgetStore();
    const limits = [
      usd('global', day, 100n),
      usd('global', hour, 100n),
      usd('global', total, 100n),
    ];
    expect((await store.reserve(request('a', 60n, limits))).ok).toBe(true);
    for (const window of [day, hour, total, week, month]) {
      expect((await store.usage({ scope: 'global', window }, T0)).heldUsdMicros).toBe(60n);
    }
    expect((await store.reserve(request('b', 41n, limits))).ok).toBe(false);
    expect((await store.reserve(request('b', 40n, limits))).ok).toBe(true);
  });

  it('counts earlier spend of a scope in a limit first seen later', async () => {
    const store = createMemoryBudgetStore();
    await store.reserve(request('a', 70n, [usd('global', day, 1_000n)]));
    await store.commit('a', 70n);
    const weekly = usd('global', week, 100n);
    expect(await store.reserve(request('b', 40n, [weekly], T0 + HOUR))).toMatchObject({
      ok: false,
      remaining: 30n,
    });
  });

  it.each<[string, Partial<ReserveRequest>, string]>([
    ['an empty id', { id: '' }, 'id'],
    ['a number amount', { usdMicros: 5 as unknown as bigint }, 'amount'],
    ['a negative amount', { usdMicros: -1n }, 'amount'],
    ['a NaN now', { now: Number.NaN }, 'now'],
    ['an infinite now', { now: Number.POSITIVE_INFINITY }, 'now'],
    ['a NaN expiresAt', { expiresAt: Number.NaN }, 'expiresAt'],
    ['limits that are not an array', { limits: {} as unknown as BudgetLimit[] }, 'limits'],
    ['an empty scope', { limits: [usd('', day, 1n)] }, 'scope'],
    ['a negative cap', { limits: [usd('global', day, -1n)] }, 'maxUsdMicros'],
    ['a number cap', { limits: [usd('global', day, 1 as unknown as bigint)] }, 'maxUsdMicros'],
    ['a fractional count', { limits: [{ scope: 'g', window: day, maxCount: 1.5 }] }, 'maxCount'],
    ['a zero rolling window', { limits: [usd('g', { kind: 'rolling', ms: 0 }, 1n)] }, 'rolling'],
    [
      'an unknown window',
      { limits: [usd('g', { kind: 'calendar', unit: 'year' } as unknown as BudgetWindow, 1n)] },
      'window',
    ],
  ])('rejects %s with BUDGET_INVALID', async (_name, patch, word) => {
    const store = createMemoryBudgetStore();
    const error = await rejection(
      store.reserve({ ...request('ok', 1n, [usd('global', day, 10n)]), ...patch }),
    );
    expect(error.code).toBe('BUDGET_INVALID');
    expect(error.message).toContain(word);
    expect(store.size).toBe(0);
  });
});

describe('idempotent reserve', () => {
  const limits = [usd('global', day, 100n), usd('host:a', hour, 100n)];

  it('returns the held reservation again without counting it twice', async () => {
    const store = createMemoryBudgetStore();
    const first = await store.reserve(request('r', 60n, limits));
    // Replayed later, with a limit that would no longer fit a new reservation.
    const again = await store.reserve(request('r', 60n, [...limits].reverse(), T0 + 5));
    expect(again).toEqual(first);
    expect(again.ok && first.ok && again.reservation === first.reservation).toBe(true);
    expect((await store.usage(limits[0]!, T0)).heldUsdMicros).toBe(60n);
    expect((await store.usage(limits[0]!, T0)).count).toBe(1);
  });

  it('returns the committed reservation on replay', async () => {
    const store = createMemoryBudgetStore();
    await store.reserve(request('r', 60n, limits));
    const committed = await store.commit('r', 55n);
    expect(await store.reserve(request('r', 60n, limits))).toEqual({
      ok: true,
      reservation: committed,
    });
    expect((await store.usage(limits[0]!, T0)).committedUsdMicros).toBe(55n);
  });

  it('throws BUDGET_CONFLICT for the same id with a different amount or scopes', async () => {
    const store = createMemoryBudgetStore();
    await store.reserve(request('r', 60n, limits));
    const amount = await rejection(store.reserve(request('r', 61n, limits)));
    expect(amount.code).toBe('BUDGET_CONFLICT');
    expect(amount.message).toContain('new reservation id');
    const scopes = await rejection(store.reserve(request('r', 60n, [limits[0]!])));
    expect(scopes.code).toBe('BUDGET_CONFLICT');
    expect((await store.usage(limits[0]!, T0)).heldUsdMicros).toBe(60n);
  });

  it('throws BUDGET_CONFLICT when the id was released', async () => {
    const store = createMemoryBudgetStore();
    await store.reserve(request('r', 60n, limits));
    await store.release('r');
    const error = await rejection(store.reserve(request('r', 60n, limits)));
    expect(error.code).toBe('BUDGET_CONFLICT');
    expect(error.message).toContain('released');
    expect((await store.usage(limits[0]!, T0)).count).toBe(0);
  });
});

describe('commit', () => {
  const limits = [usd('global', day, 1_000n)];

  it('commits at a lower actual cost and frees the difference', async () => {
    const store = createMemoryBudgetStore();
    await store.reserve(request('r', 600n, limits));
    const committed = await store.commit('r', 450n);
    expect(committed).toMatchObject({ id: 'r', state: 'committed', usdMicros: 600n });
    expect(committed.committedUsdMicros).toBe(450n);
    expect(await store.get('r')).toBe(committed);
    expect(await store.usage(limits[0]!, T0)).toEqual({
      committedUsdMicros: 450n,
      heldUsdMicros: 0n,
      count: 1,
    });
    expect((await store.reserve(request('s', 550n, limits))).ok).toBe(true);
    expect((await store.reserve(request('t', 1n, limits))).ok).toBe(false);
  });

  it('is a no-op when repeated with the same amount', async () => {
    const store = createMemoryBudgetStore();
    await store.reserve(request('r', 600n, limits));
    const first = await store.commit('r', 600n);
    expect(await store.commit('r', 600n)).toBe(first);
    expect((await store.usage(limits[0]!, T0)).committedUsdMicros).toBe(600n);
  });

  it('throws BUDGET_CONFLICT when repeated with another amount', async () => {
    const store = createMemoryBudgetStore();
    await store.reserve(request('r', 600n, limits));
    await store.commit('r', 500n);
    expect((await rejection(store.commit('r', 400n))).code).toBe('BUDGET_CONFLICT');
    expect((await store.usage(limits[0]!, T0)).committedUsdMicros).toBe(500n);
  });

  it('throws BUDGET_INVALID above the reserved amount and leaves the hold', async () => {
    const store = createMemoryBudgetStore();
    await store.reserve(request('r', 600n, limits));
    const error = await rejection(store.commit('r', 601n));
    expect(error.code).toBe('BUDGET_INVALID');
    expect(error.message).toContain('only 600');
    expect((await store.get('r'))?.state).toBe('held');
    expect((await store.usage(limits[0]!, T0)).heldUsdMicros).toBe(600n);
  });

  it('throws BUDGET_NOT_FOUND for an unknown id', async () => {
    const store = createMemoryBudgetStore();
    const error = await rejection(store.commit('nope', 1n));
    expect(error.code).toBe('BUDGET_NOT_FOUND');
    expect(error.message).toContain('"nope"');
  });

  it('throws BUDGET_CONFLICT for a released reservation', async () => {
    const store = createMemoryBudgetStore();
    await store.reserve(request('r', 600n, limits));
    await store.release('r');
    expect((await rejection(store.commit('r', 600n))).code).toBe('BUDGET_CONFLICT');
    expect((await store.get('r'))?.state).toBe('released');
  });

  it('throws BUDGET_INVALID for a negative or non-bigint amount', async () => {
    const store = createMemoryBudgetStore();
    await store.reserve(request('r', 600n, limits));
    expect((await rejection(store.commit('r', -1n))).code).toBe('BUDGET_INVALID');
    expect((await rejection(store.commit('r', 5 as unknown as bigint))).code).toBe(
      'BUDGET_INVALID',
    );
  });
});

describe('release', () => {
  const limits = [usd('global', day, 1_000n)];

  it('releases a hold so it no longer counts; twice is a no-op', async () => {
    const store = createMemoryBudgetStore();
    await store.reserve(request('r', 600n, limits));
    const released = await store.release('r');
    expect(released.state).toBe('released');
    expect(released.committedUsdMicros).toBeUndefined();
    expect(await store.release('r')).toBe(released);
    expect(await store.usage(limits[0]!, T0)).toEqual({
      committedUsdMicros: 0n,
      heldUsdMicros: 0n,
      count: 0,
    });
    expect((await store.reserve(request('s', 1_000n, limits))).ok).toBe(true);
  });

  it('throws BUDGET_CONFLICT for a committed reservation', async () => {
    const store = createMemoryBudgetStore();
    await store.reserve(request('r', 600n, limits));
    await store.commit('r', 600n);
    const error = await rejection(store.release('r'));
    expect(error.code).toBe('BUDGET_CONFLICT');
    expect((await store.usage(limits[0]!, T0)).committedUsdMicros).toBe(600n);
  });

  it('throws BUDGET_NOT_FOUND for an unknown id', async () => {
    const store = createMemoryBudgetStore();
    expect((await rejection(store.release('nope'))).code).toBe('BUDGET_NOT_FOUND');
  });
});

describe('windows', () => {
  it('slides a rolling window: spend leaves it exactly ms later', async () => {
    const store = createMemoryBudgetStore();
    const limit = usd('global', hour, 100n);
    await store.reserve(request('a', 60n, [limit], T0));
    await store.commit('a', 60n);
    await store.reserve(request('b', 30n, [limit], T0 + 30 * MINUTE));
    expect(await store.reserve(request('c', 11n, [limit], T0 + 30 * MINUTE))).toMatchObject({
      remaining: 10n,
    });
    // At T0 + 1h the window starts at T0, inclusive: 'a' still counts.
    expect(await store.reserve(request('c', 11n, [limit], T0 + HOUR))).toMatchObject({ ok: false });
    // One ms later 'a' has left the window.
    expect((await store.reserve(request('c', 11n, [limit], T0 + HOUR + 1))).ok).toBe(true);
    expect(await store.usage(limit, T0 + HOUR + 1)).toEqual({
      committedUsdMicros: 0n,
      heldUsdMicros: 41n,
      count: 2,
    });
    // Asking about an earlier moment slides the window back.
    expect(await store.usage(limit, T0 + HOUR)).toEqual({
      committedUsdMicros: 60n,
      heldUsdMicros: 41n,
      count: 3,
    });
    expect(await store.usage(limit, T0 + 2 * HOUR + 30 * MINUTE)).toEqual({
      committedUsdMicros: 0n,
      heldUsdMicros: 0n,
      count: 0,
    });
  });

  it('counts reservations stamped after now (clock skew over-counts, never under-counts)', async () => {
    const store = createMemoryBudgetStore();
    const limit = usd('global', hour, 100n);
    await store.reserve(request('late', 70n, [limit], T0 + 5));
    expect((await store.usage(limit, T0)).heldUsdMicros).toBe(70n);
    expect(await store.reserve(request('early', 31n, [limit], T0))).toMatchObject({
      remaining: 30n,
    });
  });

  it('keeps a rolling window right when reservations arrive out of time order', async () => {
    const store = createMemoryBudgetStore();
    const limit = usd('global', hour, 1_000n);
    await store.reserve(request('a', 1n, [limit], T0 + 2 * HOUR));
    await store.usage(limit, T0 + 2 * HOUR);
    await store.reserve(request('b', 10n, [limit], T0)); // older than the window
    await store.reserve(request('c', 100n, [limit], T0 + HOUR + 30 * MINUTE));
    expect((await store.usage(limit, T0 + 2 * HOUR)).heldUsdMicros).toBe(101n);
    expect((await store.usage(limit, T0 + HOUR)).heldUsdMicros).toBe(111n);
    await store.release('b');
    expect((await store.usage(limit, T0 + HOUR)).heldUsdMicros).toBe(101n);
    expect((await store.usage(limit, T0 + 2 * HOUR)).heldUsdMicros).toBe(101n);
  });

  it('keeps other windows of a scope right when a reservation predates their start', async () => {
    const store = createMemoryBudgetStore();
    const daily = usd('global', day, 1_000n);
    const rolling = usd('global', hour, 1_000n);
    const midnight = Date.UTC(2024, 0, 16);
    await store.reserve(request('a', 1n, [daily], midnight + HOUR));
    expect((await store.usage(daily, midnight + HOUR)).heldUsdMicros).toBe(1n);
    // Only the rolling limit is checked: 'b' is stamped before today's start.
    await store.reserve(request('b', 10n, [rolling], midnight - MINUTE));
    expect((await store.usage(daily, midnight + HOUR)).heldUsdMicros).toBe(1n);
    expect((await store.usage(daily, midnight - 1)).heldUsdMicros).toBe(11n);
    expect((await store.usage(daily, midnight + 2 * HOUR)).heldUsdMicros).toBe(1n);
    await store.commit('b', 5n);
    expect((await store.usage(daily, midnight)).committedUsdMicros).toBe(0n);
    expect((await store.usage(daily, midnight - 1)).committedUsdMicros).toBe(5n);
  });

  it('starts a new calendar day at UTC midnight', async () => {
    const store = createMemoryBudgetStore();
    const limit = usd('global', day, 100n);
    const lastMs = Date.UTC(2024, 0, 15, 23, 59, 59, 999);
    await store.reserve(request('a', 100n, [limit], lastMs));
    expect((await store.reserve(request('b', 1n, [limit], lastMs))).ok).toBe(false);
    expect((await store.reserve(request('b', 100n, [limit], lastMs + 1))).ok).toBe(true);
    expect((await store.usage(limit, lastMs + 1)).heldUsdMicros).toBe(100n);
  });

  it('starts a new ISO week on Monday and a new month on the 1st (leap February)', async () => {
    const store = createMemoryBudgetStore();
    const weekly = usd('w', week, 100n);
    const sunday = Date.UTC(2024, 0, 21, 23, 59); // Sunday 21 Jan 2024
    await store.reserve(request('w1', 100n, [weekly], Date.UTC(2024, 0, 15)));
    expect((await store.reserve(request('w2', 1n, [weekly], sunday))).ok).toBe(false);
    expect((await store.reserve(request('w2', 100n, [weekly], Date.UTC(2024, 0, 22)))).ok).toBe(
      true,
    );

    const monthly = usd('m', month, 100n);
    await store.reserve(request('m1', 100n, [monthly], Date.UTC(2024, 1, 1)));
    expect((await store.reserve(request('m2', 1n, [monthly], Date.UTC(2024, 1, 29, 23)))).ok).toBe(
      false,
    );
    expect((await store.reserve(request('m2', 100n, [monthly], Date.UTC(2024, 2, 1)))).ok).toBe(
      true,
    );
  });

  it('never resets a total window', async () => {
    const store = createMemoryBudgetStore();
    const limit = usd('lifetime', total, 100n);
    await store.reserve(request('a', 60n, [limit], Date.UTC(2020, 0, 1)));
    await store.commit('a', 60n);
    expect(await store.reserve(request('b', 41n, [limit], Date.UTC(2030, 0, 1)))).toMatchObject({
      ok: false,
      remaining: 40n,
    });
  });

  it('reports zero usage for a scope never used and checks the window', async () => {
    const store = createMemoryBudgetStore();
    expect(await store.usage({ scope: 'nobody', window: hour }, T0)).toEqual({
      committedUsdMicros: 0n,
      heldUsdMicros: 0n,
      count: 0,
    });
    const bad = { kind: 'rolling', ms: -1 } as BudgetWindow;
    expect((await rejection(store.usage({ scope: 'nobody', window: bad }, T0))).code).toBe(
      'BUDGET_INVALID',
    );
  });
});

describe('expired', () => {
  it('lists held reservations whose expiresAt is at or before now, soonest first', async () => {
    const store = createMemoryBudgetStore();
    const limits = [usd('global', day, 1_000n)];
    await store.reserve(request('late', 1n, limits, T0, T0 + 30));
    await store.reserve(request('early', 1n, limits, T0, T0 + 10));
    await store.reserve(request('committed', 1n, limits, T0, T0 + 5));
    await store.reserve(request('released', 1n, limits, T0, T0 + 5));
    await store.reserve(request('future', 1n, limits, T0, T0 + 31));
    await store.commit('committed', 1n);
    await store.release('released');
    expect(await store.expired(T0 + 9)).toEqual([]);
    expect((await store.expired(T0 + 10)).map((r) => r.id)).toEqual(['early']);
    expect((await store.expired(T0 + 30)).map((r) => r.id)).toEqual(['early', 'late']);
    await store.release('early');
    expect((await store.expired(T0 + 100)).map((r) => r.id)).toEqual(['late', 'future']);
    expect((await rejection(store.expired(Number.NaN))).code).toBe('BUDGET_INVALID');
  });
});

describe('concurrency', () => {
  it('lets exactly 100 of 200 concurrent 10 000 µUSD reservations into 1 000 000 µUSD', async () => {
    const store = createMemoryBudgetStore();
    const limits = [usd('global', day, 1_000_000n)];
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.reserve(request(`r${i}`, 10_000n, limits))),
    );
    const accepted = results.flatMap((r) => (r.ok ? [r.reservation] : []));
    expect(accepted).toHaveLength(100);
    for (const r of results) if (!r.ok) expect(r.remaining).toBe(0n);
    await Promise.all(accepted.map((r) => store.commit(r.id, r.usdMicros)));
    expect(await store.usage(limits[0]!, T0)).toEqual({
      committedUsdMicros: 1_000_000n,
      heldUsdMicros: 0n,
      count: 100,
    });
  });

  it('keeps every scope within its limit with 1 000 concurrent mixed operations', async () => {
    const store = createMemoryBudgetStore();
    const global = usd('global', day, 5_000_000n);
    const hosts = Array.from({ length: 10 }, (_, i) => ({
      scope: `host:${i}`,
      window: hour,
      maxUsdMicros: 600_000n,
      maxCount: 50,
    }));
    const ops = Array.from({ length: 1_000 }, async (_, i) => {
      const r = await store.reserve(request(`p${i}`, 10_000n, [global, hosts[i % 10]!], T0 + i));
      if (!r.ok) return;
      if (i % 3 === 0) await store.release(r.reservation.id);
      else await store.commit(r.reservation.id, 7_000n);
    });
    await Promise.all(ops);
    const now = T0 + 1_000;
    let hostSum = 0n;
    for (const host of hosts) {
      const u = await store.usage(host, now);
      expect(u.count).toBeLessThanOrEqual(50);
      expect(u.committedUsdMicros + u.heldUsdMicros).toBeLessThanOrEqual(600_000n);
      hostSum += u.committedUsdMicros;
    }
    const g = await store.usage(global, now);
    expect(g.committedUsdMicros).toBe(hostSum);
    expect(g.heldUsdMicros).toBe(0n);
    expect(g.committedUsdMicros).toBeLessThanOrEqual(5_000_000n);
  });
});

describe('forgetting old entries', () => {
  it('forgets settled reservations outside every window, keeping total sums exact', async () => {
    const store = createMemoryBudgetStore({ maxEntries: 20, retainMs: 0 });
    const rolling = usd('global', { kind: 'rolling', ms: 10 * MINUTE }, 1_000_000n);
    const lifetime = usd('global', total, 1_000_000n);
    const kept = await store.reserve(request('held-forever', 3n, [rolling, lifetime], T0));
    expect(kept.ok).toBe(true);
    for (let i = 0; i < 200; i++) {
      const now = T0 + (i + 1) * MINUTE;
      const r = await store.reserve(request(`p${i}`, 10n, [rolling, lifetime], now));
      expect(r.ok).toBe(true);
      if (i % 2 === 0) await store.commit(`p${i}`, 7n);
      else await store.release(`p${i}`);
    }
    expect(store.size).toBeLessThanOrEqual(40);
    expect(await store.get('p0')).toBeUndefined();
    expect((await store.get('held-forever'))?.state).toBe('held');
    expect((await store.get('p199'))?.state).toBe('released');
    const now = T0 + 200 * MINUTE;
    // All time: 100 commits of 7 plus the held 3.
    expect(await store.usage(lifetime, now)).toEqual({
      committedUsdMicros: 700n,
      heldUsdMicros: 3n,
      count: 101,
    });
    // Last 10 minutes: reservations p189..p199, of which p190, p192, …, p198 were committed.
    expect(await store.usage(rolling, now)).toEqual({
      committedUsdMicros: 35n,
      heldUsdMicros: 0n,
      count: 5,
    });
    // A forgotten id reserves anew.
    expect((await store.reserve(request('p0', 10n, [rolling, lifetime], now))).ok).toBe(true);
  });

  it('keeps everything still inside a calendar window or within retainMs', async () => {
    const store = createMemoryBudgetStore({ maxEntries: 10, retainMs: HOUR });
    const monthly = usd('global', month, 1_000_000n);
    const start = Date.UTC(2024, 1, 1);
    for (let i = 0; i < 50; i++) {
      await store.reserve(request(`p${i}`, 10n, [monthly], start + i * HOUR));
      await store.commit(`p${i}`, 10n);
    }
    expect(store.size).toBe(50);
    expect((await store.usage(monthly, start + 49 * HOUR)).committedUsdMicros).toBe(500n);

    const scoped = createMemoryBudgetStore({ maxEntries: 10, retainMs: HOUR });
    const rolling = usd('x', { kind: 'rolling', ms: MINUTE }, 1_000_000n);
    for (let i = 0; i < 30; i++) {
      await scoped.reserve(request(`q${i}`, 1n, [rolling], T0 + i * MINUTE));
      await scoped.release(`q${i}`);
    }
    // Reservations within the last hour (plus the 1-minute window) are all kept.
    expect(scoped.size).toBe(30);
  });

  it('stays exact for reservations stamped up to retainMs behind the latest one', async () => {
    const store = createMemoryBudgetStore({ maxEntries: 2, retainMs: 5_000 });
    const limit = usd('global', { kind: 'rolling', ms: MINUTE }, 100n);
    const settle = async (id: string, amount: bigint, now: number) => {
      expect((await store.reserve(request(id, amount, [limit], now))).ok).toBe(true);
      await store.commit(id, amount);
    };
    await settle('a', 60n, T0);
    await settle('b', 1n, T0 + 62_000);
    await settle('c', 1n, T0 + 62_000); // over maxEntries: 'a' is 62 s old but must stay
    expect((await store.get('a'))?.state).toBe('committed');
    // 3 s behind the latest reservation, 'a' is still inside the 1-minute window.
    expect(await store.reserve(request('d', 39n, [limit], T0 + 59_000))).toMatchObject({
      ok: false,
      remaining: 38n,
    });
  });

  it('rejects bad options', () => {
    expect(() => createMemoryBudgetStore({ maxEntries: 0 })).toThrow(StipendError);
    expect(() => createMemoryBudgetStore({ maxEntries: 1.5 })).toThrow(/maxEntries/);
    expect(() => createMemoryBudgetStore({ retainMs: -1 })).toThrow(/retainMs/);
  });
});
