/**
 * The conformance suite every {@link BudgetStore} must pass: the in-memory store's semantics
 * (reserve all-or-nothing across every limit, idempotent per id, held / committed / released,
 * commit ≤ reserved, the error codes, rolling / calendar / total windows, count limits,
 * `expired`), exact bigint arithmetic far beyond 2^64, odd scope and id strings, concurrency,
 * a model-based random test, and — for persistent stores — sharing and reopening.
 *
 * Call {@link describeBudgetStoreConformance} from a `*.test.ts` file.
 */
import {
  type BudgetLimit,
  type BudgetStore,
  type BudgetUsage,
  type BudgetWindow,
  type ReserveRequest,
  StipendError,
} from '@stipend/client';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { opsArb, policyArb, runModel, startArb } from './conformance-model.test-helpers.js';

/** Options of {@link describeBudgetStoreConformance}. */
export interface ConformanceOptions {
  /** Runs of the model-based test (default 25; STIPEND_FUZZ_RUNS overrides). */
  readonly propertyRuns?: number;
  /**
   * Opens a second instance on the same persisted state (another process, tab or machine
   * would). Enables the sharing and reopening tests.
   */
  readonly reopen?: (store: BudgetStore) => Promise<BudgetStore> | BudgetStore;
  /** Releases a store (defaults to calling its `close()` if it has one). */
  readonly close?: (store: BudgetStore) => Promise<void> | void;
}

/** Set STIPEND_FUZZ_RUNS for a longer model-based run. */
const FUZZ_RUNS = Number(process.env.STIPEND_FUZZ_RUNS ?? '') || 0;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
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

const ZERO: BudgetUsage = { committedUsdMicros: 0n, heldUsdMicros: 0n, count: 0 };

async function rejection(promise: Promise<unknown>): Promise<StipendError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StipendError);
    return error as StipendError;
  }
  throw new Error('expected a rejection');
}

/**
 * Declares the conformance tests for a store.
 *
 * @param name - Shown in test names.
 * @param factory - Makes a fresh, empty store (a new file, database or key prefix each call).
 * @param options - See {@link ConformanceOptions}.
 *
 * @example
 * ```ts
 * import { createMemoryBudgetStore } from '@stipend/client';
 * import { describeBudgetStoreConformance } from './conformance.test-helpers.js';
 *
 * describeBudgetStoreConformance('memory', () => createMemoryBudgetStore());
 * ```
 */
export function describeBudgetStoreConformance(
  name: string,
  factory: () => Promise<BudgetStore> | BudgetStore,
  options: ConformanceOptions = {},
): void {
  const open: BudgetStore[] = [];
  const close = async (store: BudgetStore) => {
    if (options.close) await options.close(store);
    else await (store as { close?: () => Promise<void> }).close?.();
  };
  const make = async (): Promise<BudgetStore> => {
    const store = await factory();
    open.push(store);
    return store;
  };
  const reopen = async (store: BudgetStore): Promise<BudgetStore> => {
    const again = await options.reopen!(store);
    open.push(again);
    return again;
  };
  afterEach(async () => {
    for (const store of open.splice(0)) await close(store);
  });

  describe(`${name}: BudgetStore conformance`, () => {
    describe('reserve', () => {
      it('holds a reservation and counts it at its reserved amount', async () => {
        const store = await make();
        const limits = [usd('global', day, 1_000_000n)];
        const result = await store.reserve({
          ...request('r1', 250_000n, limits),
          meta: { origin: 'https://api.example.com', offer: 'o-1' },
        });
        const expected = {
          id: 'r1',
          limits,
          usdMicros: 250_000n,
          at: T0,
          expiresAt: T0 + MINUTE,
          state: 'held',
          meta: { origin: 'https://api.example.com', offer: 'o-1' },
        };
        expect(result).toEqual({ ok: true, reservation: expected });
        expect(result.ok && Object.isFrozen(result.reservation)).toBe(true);
        expect(await store.get('r1')).toEqual(expected);
        expect(await store.usage({ scope: 'global', window: day }, T0)).toEqual({
          committedUsdMicros: 0n,
          heldUsdMicros: 250_000n,
          count: 1,
        });
        expect(await store.get('missing')).toBeUndefined();
      });

      it('keeps its own copy of the limits', async () => {
        const store = await make();
        const limit = { scope: 'global', window: { kind: 'rolling', ms: HOUR }, maxUsdMicros: 10n };
        const result = await store.reserve(request('r1', 5n, [limit as BudgetLimit]));
        limit.scope = 'other';
        limit.window.ms = 1;
        expect(result.ok && result.reservation.limits[0]).toEqual(usd('global', hour, 10n));
        expect((await store.get('r1'))?.limits).toEqual([usd('global', hour, 10n)]);
        expect((await store.usage({ scope: 'global', window: hour }, T0)).heldUsdMicros).toBe(5n);
      });

      it('fits exactly at the limit and refuses one micro-dollar more', async () => {
        const store = await make();
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

      it('is all or nothing across limits', async () => {
        const store = await make();
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
        expect(await store.usage(tag, T0)).toEqual(ZERO);
        expect((await store.reserve(request('second', 10_000n, [global, tag, host]))).ok).toBe(
          true,
        );
      });

      it('reports the first limit that would be exceeded, in the given order', async () => {
        const store = await make();
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
        const store = await make();
        await store.reserve(request('a', 80n, [usd('global', day, 100n)]));
        expect(await store.reserve(request('b', 1n, [usd('global', day, 50n)]))).toMatchObject({
          ok: false,
          remaining: 0n,
        });
      });

      it('counts payments for count limits: held and committed, not released', async () => {
        const store = await make();
        const limit: BudgetLimit = { scope: 'host:a', window: day, maxCount: 3 };
        for (const id of ['1', '2', '3']) {
          expect((await store.reserve(request(id, 1n, [limit]))).ok).toBe(true);
        }
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
        const store = await make();
        const limit: BudgetLimit = {
          scope: 'global',
          window: day,
          maxUsdMicros: 100n,
          maxCount: 2,
        };
        expect((await store.reserve(request('a', 10n, [limit]))).ok).toBe(true);
        expect(await store.reserve(request('b', 91n, [limit]))).toMatchObject({
          exceeded: 'usd',
        });
        expect((await store.reserve(request('b', 10n, [limit]))).ok).toBe(true);
        expect(await store.reserve(request('c', 10n, [limit]))).toMatchObject({
          exceeded: 'count',
          remaining: 0n,
        });
      });

      it('accepts a reservation with no limits and tracks it', async () => {
        const store = await make();
        expect((await store.reserve(request('free', 5n, []))).ok).toBe(true);
        expect((await store.commit('free', 5n)).state).toBe('committed');
        expect((await store.get('free'))?.committedUsdMicros).toBe(5n);
      });

      it('counts a reservation once per scope even when several limits share it', async () => {
        const store = await make();
        const limits = [
          usd('global', day, 100n),
          usd('global', hour, 100n),
          usd('global', total, 100n),
        ];
        expect((await store.reserve(request('a', 60n, limits))).ok).toBe(true);
        for (const window of [day, hour, total, week, month]) {
          expect((await store.usage({ scope: 'global', window }, T0)).heldUsdMicros).toBe(60n);
          expect((await store.usage({ scope: 'global', window }, T0)).count).toBe(1);
        }
        expect((await store.reserve(request('b', 41n, limits))).ok).toBe(false);
        expect((await store.reserve(request('b', 40n, limits))).ok).toBe(true);
      });

      it('counts earlier spend of a scope in a limit first seen later', async () => {
        const store = await make();
        await store.reserve(request('a', 70n, [usd('global', day, 1_000n)]));
        await store.commit('a', 70n);
        const weekly = usd('global', week, 100n);
        expect(await store.reserve(request('b', 40n, [weekly], T0 + HOUR))).toMatchObject({
          ok: false,
          remaining: 30n,
        });
        const rolling = usd('global', { kind: 'rolling', ms: 2 * HOUR }, 100n);
        expect(await store.reserve(request('c', 31n, [rolling], T0 + HOUR))).toMatchObject({
          ok: false,
          remaining: 30n,
        });
      });

      it('keeps amounts exact far beyond 2^64 micro-dollars', async () => {
        const store = await make();
        const huge = 10n ** 30n;
        const limits = [
          usd('global', day, huge),
          usd('global', hour, huge),
          usd('g2', total, huge),
        ];
        expect((await store.reserve(request('a', huge - 3n, limits))).ok).toBe(true);
        expect(await store.reserve(request('b', 4n, limits))).toEqual({
          ok: false,
          limit: limits[0],
          exceeded: 'usd',
          remaining: 3n,
        });
        expect((await store.reserve(request('b', 3n, limits))).ok).toBe(true);
        await store.commit('a', huge - 2n ** 70n);
        for (const limit of limits) {
          expect(await store.usage(limit, T0)).toEqual({
            committedUsdMicros: huge - 2n ** 70n,
            heldUsdMicros: 3n,
            count: 2,
          });
        }
        expect((await store.get('a'))?.committedUsdMicros).toBe(huge - 2n ** 70n);
      });

      it('takes any string as scope, id and meta', async () => {
        const store = await make();
        const scopes = ['host:a:b', 'tag:x\ny', 'ümlaut %41 {tag}', '*', 'a b\tc', '"q"'];
        const limits = scopes.map((scope) => usd(scope, day, 10n));
        const id = 'id:with:colons\nand\u0000nul and spaces 🙂';
        const meta = { 'k:1': 'v\nline', $b: 'not a bigint', ['__proto__']: 'x' };
        const result = await store.reserve({ ...request(id, 7n, limits), meta });
        expect(result.ok).toBe(true);
        expect((await store.get(id))?.meta).toEqual(meta);
        for (const scope of scopes) {
          expect((await store.usage({ scope, window: day }, T0)).heldUsdMicros).toBe(7n);
        }
        expect((await store.usage({ scope: 'host:a', window: day }, T0)).count).toBe(0);
        expect((await store.reserve(request('other', 4n, limits))).ok).toBe(false);
        expect((await store.commit(id, 6n)).committedUsdMicros).toBe(6n);
        expect((await store.reserve(request('other', 4n, limits))).ok).toBe(true);
      });

      it('keeps an infinite expiry and never lists it as expired', async () => {
        const store = await make();
        const limits = [usd('global', day, 10n)];
        await store.reserve(request('forever', 1n, limits, T0, Number.POSITIVE_INFINITY));
        await store.reserve(request('past', 1n, limits, T0, Number.NEGATIVE_INFINITY));
        expect((await store.get('forever'))?.expiresAt).toBe(Number.POSITIVE_INFINITY);
        expect((await store.expired(T0 + 100 * DAY)).map((r) => r.id)).toEqual(['past']);
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
        [
          'a fractional count',
          { limits: [{ scope: 'g', window: day, maxCount: 1.5 }] },
          'maxCount',
        ],
        [
          'a zero rolling window',
          { limits: [usd('g', { kind: 'rolling', ms: 0 }, 1n)] },
          'rolling',
        ],
        [
          'an unknown window',
          { limits: [usd('g', { kind: 'calendar', unit: 'year' } as unknown as BudgetWindow, 1n)] },
          'window',
        ],
      ])('rejects %s with BUDGET_INVALID', async (_name, patch, word) => {
        const store = await make();
        const error = await rejection(
          store.reserve({ ...request('ok', 1n, [usd('global', day, 10n)]), ...patch }),
        );
        expect(error.code).toBe('BUDGET_INVALID');
        expect(error.message).toContain(word);
        expect(await store.get('ok')).toBeUndefined();
        expect(await store.usage({ scope: 'global', window: day }, T0)).toEqual(ZERO);
      });
    });

    describe('idempotent reserve', () => {
      const limits = [usd('global', day, 100n), usd('host:a', hour, 100n)];

      it('returns the held reservation again without counting it twice', async () => {
        const store = await make();
        const first = await store.reserve(request('r', 60n, limits));
        const again = await store.reserve(request('r', 60n, [...limits].reverse(), T0 + 5));
        expect(again).toEqual(first);
        expect(await store.usage(limits[0]!, T0)).toEqual({
          committedUsdMicros: 0n,
          heldUsdMicros: 60n,
          count: 1,
        });
      });

      it('returns the committed reservation on replay', async () => {
        const store = await make();
        await store.reserve(request('r', 60n, limits));
        const committed = await store.commit('r', 55n);
        expect(await store.reserve(request('r', 60n, limits))).toEqual({
          ok: true,
          reservation: committed,
        });
        expect((await store.usage(limits[0]!, T0)).committedUsdMicros).toBe(55n);
      });

      it('throws BUDGET_CONFLICT for the same id with a different amount or scopes', async () => {
        const store = await make();
        await store.reserve(request('r', 60n, limits));
        const amount = await rejection(store.reserve(request('r', 61n, limits)));
        expect(amount.code).toBe('BUDGET_CONFLICT');
        expect(amount.message).toContain('new reservation id');
        const scopes = await rejection(store.reserve(request('r', 60n, [limits[0]!])));
        expect(scopes.code).toBe('BUDGET_CONFLICT');
        expect((await store.usage(limits[0]!, T0)).heldUsdMicros).toBe(60n);
      });

      it('throws BUDGET_CONFLICT when the id was released', async () => {
        const store = await make();
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
        const store = await make();
        await store.reserve(request('r', 600n, limits));
        const committed = await store.commit('r', 450n);
        expect(committed).toMatchObject({ id: 'r', state: 'committed', usdMicros: 600n });
        expect(committed.committedUsdMicros).toBe(450n);
        expect(Object.isFrozen(committed)).toBe(true);
        expect(await store.get('r')).toEqual(committed);
        expect(await store.usage(limits[0]!, T0)).toEqual({
          committedUsdMicros: 450n,
          heldUsdMicros: 0n,
          count: 1,
        });
        expect((await store.reserve(request('s', 550n, limits))).ok).toBe(true);
        expect((await store.reserve(request('t', 1n, limits))).ok).toBe(false);
      });

      it('is a no-op when repeated with the same amount', async () => {
        const store = await make();
        await store.reserve(request('r', 600n, limits));
        const first = await store.commit('r', 600n);
        expect(await store.commit('r', 600n)).toEqual(first);
        expect(await store.usage(limits[0]!, T0)).toEqual({
          committedUsdMicros: 600n,
          heldUsdMicros: 0n,
          count: 1,
        });
      });

      it('throws BUDGET_CONFLICT when repeated with another amount', async () => {
        const store = await make();
        await store.reserve(request('r', 600n, limits));
        await store.commit('r', 500n);
        expect((await rejection(store.commit('r', 400n))).code).toBe('BUDGET_CONFLICT');
        expect((await store.usage(limits[0]!, T0)).committedUsdMicros).toBe(500n);
      });

      it('throws BUDGET_INVALID above the reserved amount and leaves the hold', async () => {
        const store = await make();
        await store.reserve(request('r', 600n, limits));
        const error = await rejection(store.commit('r', 601n));
        expect(error.code).toBe('BUDGET_INVALID');
        expect(error.message).toContain('only 600');
        expect((await store.get('r'))?.state).toBe('held');
        expect((await store.usage(limits[0]!, T0)).heldUsdMicros).toBe(600n);
      });

      it('throws BUDGET_NOT_FOUND for an unknown id', async () => {
        const store = await make();
        const error = await rejection(store.commit('nope', 1n));
        expect(error.code).toBe('BUDGET_NOT_FOUND');
        expect(error.message).toContain('"nope"');
      });

      it('throws BUDGET_CONFLICT for a released reservation', async () => {
        const store = await make();
        await store.reserve(request('r', 600n, limits));
        await store.release('r');
        expect((await rejection(store.commit('r', 600n))).code).toBe('BUDGET_CONFLICT');
        expect((await store.get('r'))?.state).toBe('released');
      });

      it('throws BUDGET_INVALID for a negative or non-bigint amount', async () => {
        const store = await make();
        await store.reserve(request('r', 600n, limits));
        expect((await rejection(store.commit('r', -1n))).code).toBe('BUDGET_INVALID');
        expect((await rejection(store.commit('r', 5 as unknown as bigint))).code).toBe(
          'BUDGET_INVALID',
        );
        expect((await store.get('r'))?.state).toBe('held');
      });
    });

    describe('release', () => {
      const limits = [usd('global', day, 1_000n)];

      it('releases a hold so it no longer counts; twice is a no-op', async () => {
        const store = await make();
        await store.reserve(request('r', 600n, limits));
        const released = await store.release('r');
        expect(released.state).toBe('released');
        expect(released.committedUsdMicros).toBeUndefined();
        expect(await store.release('r')).toEqual(released);
        expect(await store.usage(limits[0]!, T0)).toEqual(ZERO);
        expect((await store.reserve(request('s', 1_000n, limits))).ok).toBe(true);
      });

      it('throws BUDGET_CONFLICT for a committed reservation', async () => {
        const store = await make();
        await store.reserve(request('r', 600n, limits));
        await store.commit('r', 600n);
        const error = await rejection(store.release('r'));
        expect(error.code).toBe('BUDGET_CONFLICT');
        expect((await store.usage(limits[0]!, T0)).committedUsdMicros).toBe(600n);
      });

      it('throws BUDGET_NOT_FOUND for an unknown id', async () => {
        const store = await make();
        expect((await rejection(store.release('nope'))).code).toBe('BUDGET_NOT_FOUND');
      });
    });

    describe('windows', () => {
      it('slides a rolling window: spend leaves it exactly ms later', async () => {
        const store = await make();
        const limit = usd('global', hour, 100n);
        await store.reserve(request('a', 60n, [limit], T0));
        await store.commit('a', 60n);
        await store.reserve(request('b', 30n, [limit], T0 + 30 * MINUTE));
        expect(await store.reserve(request('c', 11n, [limit], T0 + 30 * MINUTE))).toMatchObject({
          remaining: 10n,
        });
        expect(await store.reserve(request('c', 11n, [limit], T0 + HOUR))).toMatchObject({
          ok: false,
        });
        expect((await store.reserve(request('c', 11n, [limit], T0 + HOUR + 1))).ok).toBe(true);
        expect(await store.usage(limit, T0 + HOUR + 1)).toEqual({
          committedUsdMicros: 0n,
          heldUsdMicros: 41n,
          count: 2,
        });
        expect(await store.usage(limit, T0 + HOUR)).toEqual({
          committedUsdMicros: 60n,
          heldUsdMicros: 41n,
          count: 3,
        });
        expect(await store.usage(limit, T0 + 2 * HOUR + 30 * MINUTE)).toEqual(ZERO);
      });

      it('counts reservations stamped after now (over-counts, never under-counts)', async () => {
        const store = await make();
        const limit = usd('global', hour, 100n);
        const daily = usd('global', day, 100n);
        await store.reserve(request('late', 70n, [limit], T0 + 5));
        await store.reserve(request('tomorrow', 10n, [daily], T0 + DAY));
        expect((await store.usage(limit, T0)).heldUsdMicros).toBe(80n);
        expect((await store.usage(daily, T0)).heldUsdMicros).toBe(80n);
        expect(await store.reserve(request('early', 21n, [limit], T0))).toMatchObject({
          remaining: 20n,
        });
      });

      it('keeps a rolling window right when reservations arrive out of time order', async () => {
        const store = await make();
        const limit = usd('global', hour, 1_000n);
        await store.reserve(request('a', 1n, [limit], T0 + 2 * HOUR));
        await store.usage(limit, T0 + 2 * HOUR);
        await store.reserve(request('b', 10n, [limit], T0));
        await store.reserve(request('c', 100n, [limit], T0 + HOUR + 30 * MINUTE));
        expect((await store.usage(limit, T0 + 2 * HOUR)).heldUsdMicros).toBe(101n);
        expect((await store.usage(limit, T0 + HOUR)).heldUsdMicros).toBe(111n);
        await store.release('b');
        expect((await store.usage(limit, T0 + HOUR)).heldUsdMicros).toBe(101n);
        expect((await store.usage(limit, T0 + 2 * HOUR)).heldUsdMicros).toBe(101n);
      });

      it('keeps other windows of a scope right when a reservation predates their start', async () => {
        const store = await make();
        const daily = usd('global', day, 1_000n);
        const rolling = usd('global', hour, 1_000n);
        const midnight = Date.UTC(2024, 0, 16);
        await store.reserve(request('a', 1n, [daily], midnight + HOUR));
        expect((await store.usage(daily, midnight + HOUR)).heldUsdMicros).toBe(1n);
        await store.reserve(request('b', 10n, [rolling], midnight - MINUTE));
        expect((await store.usage(daily, midnight + HOUR)).heldUsdMicros).toBe(1n);
        expect((await store.usage(daily, midnight - 1)).heldUsdMicros).toBe(11n);
        expect((await store.usage(daily, midnight + 2 * HOUR)).heldUsdMicros).toBe(1n);
        await store.commit('b', 5n);
        expect((await store.usage(daily, midnight)).committedUsdMicros).toBe(0n);
        expect((await store.usage(daily, midnight - 1)).committedUsdMicros).toBe(5n);
      });

      it('starts a new calendar day at UTC midnight', async () => {
        const store = await make();
        const limit = usd('global', day, 100n);
        const lastMs = Date.UTC(2024, 0, 15, 23, 59, 59, 999);
        await store.reserve(request('a', 100n, [limit], lastMs));
        expect((await store.reserve(request('b', 1n, [limit], lastMs))).ok).toBe(false);
        expect((await store.reserve(request('b', 100n, [limit], lastMs + 1))).ok).toBe(true);
        expect((await store.usage(limit, lastMs + 1)).heldUsdMicros).toBe(100n);
      });

      it('starts a new ISO week on Monday and a new month on the 1st (leap February)', async () => {
        const store = await make();
        const weekly = usd('w', week, 100n);
        const sunday = Date.UTC(2024, 0, 21, 23, 59);
        await store.reserve(request('w1', 100n, [weekly], Date.UTC(2024, 0, 15)));
        expect((await store.reserve(request('w2', 1n, [weekly], sunday))).ok).toBe(false);
        expect((await store.reserve(request('w2', 100n, [weekly], Date.UTC(2024, 0, 22)))).ok).toBe(
          true,
        );
        const monthly = usd('m', month, 100n);
        await store.reserve(request('m1', 100n, [monthly], Date.UTC(2024, 1, 1)));
        expect(
          (await store.reserve(request('m2', 1n, [monthly], Date.UTC(2024, 1, 29, 23)))).ok,
        ).toBe(false);
        expect((await store.reserve(request('m2', 100n, [monthly], Date.UTC(2024, 2, 1)))).ok).toBe(
          true,
        );
      });

      it('never resets a total window', async () => {
        const store = await make();
        const limit = usd('lifetime', total, 100n);
        await store.reserve(request('a', 60n, [limit], Date.UTC(2020, 0, 1)));
        await store.commit('a', 60n);
        expect(await store.reserve(request('b', 41n, [limit], Date.UTC(2030, 0, 1)))).toMatchObject(
          { ok: false, remaining: 40n },
        );
      });

      it('reports zero usage for a scope never used and checks the window', async () => {
        const store = await make();
        expect(await store.usage({ scope: 'nobody', window: hour }, T0)).toEqual(ZERO);
        const bad = { kind: 'rolling', ms: -1 } as BudgetWindow;
        expect((await rejection(store.usage({ scope: 'nobody', window: bad }, T0))).code).toBe(
          'BUDGET_INVALID',
        );
        expect(
          (await rejection(store.usage({ scope: 'nobody', window: day }, Number.NaN))).code,
        ).toBe('BUDGET_INVALID');
      });
    });

    describe('expired', () => {
      it('lists held reservations whose expiresAt is at or before now, soonest first', async () => {
        const store = await make();
        const limits = [usd('global', day, 1_000n)];
        await store.reserve(request('late', 1n, limits, T0, T0 + 30));
        await store.reserve(request('early', 1n, limits, T0, T0 + 10));
        await store.reserve(request('committed', 1n, limits, T0, T0 + 5));
        await store.reserve(request('released', 1n, limits, T0, T0 + 5));
        await store.reserve(request('future', 1n, limits, T0, T0 + 31));
        await store.reserve(request('tie-b', 1n, limits, T0, T0 + 31));
        await store.commit('committed', 1n);
        await store.release('released');
        expect(await store.expired(T0 + 9)).toEqual([]);
        expect((await store.expired(T0 + 10)).map((r) => r.id)).toEqual(['early']);
        expect((await store.expired(T0 + 30)).map((r) => r.id)).toEqual(['early', 'late']);
        await store.release('early');
        expect((await store.expired(T0 + 100)).map((r) => r.id)).toEqual([
          'late',
          'future',
          'tie-b',
        ]);
        expect((await store.expired(T0 + 100))[0]).toEqual(await store.get('late'));
        expect((await rejection(store.expired(Number.NaN))).code).toBe('BUDGET_INVALID');
      });
    });

    describe('concurrency', () => {
      it('lets exactly 100 of 200 concurrent reservations into the budget', async () => {
        const store = await make();
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

      it('keeps every scope within its limit under 400 concurrent mixed operations', async () => {
        const store = await make();
        const global = usd('global', day, 2_000_000n);
        const hosts = Array.from({ length: 8 }, (_, i) => ({
          scope: `host:${i}`,
          window: hour,
          maxUsdMicros: 300_000n,
          maxCount: 25,
        }));
        const ops = Array.from({ length: 400 }, async (_, i) => {
          const r = await store.reserve(request(`p${i}`, 10_000n, [global, hosts[i % 8]!], T0 + i));
          if (!r.ok) return;
          if (i % 3 === 0) await store.release(r.reservation.id);
          else await store.commit(r.reservation.id, 7_000n);
        });
        await Promise.all(ops);
        const now = T0 + 400;
        let hostSum = 0n;
        for (const host of hosts) {
          const u = await store.usage(host, now);
          expect(u.count).toBeLessThanOrEqual(25);
          expect(u.committedUsdMicros + u.heldUsdMicros).toBeLessThanOrEqual(300_000n);
          hostSum += u.committedUsdMicros;
        }
        const g = await store.usage(global, now);
        expect(g.committedUsdMicros).toBe(hostSum);
        expect(g.heldUsdMicros).toBe(0n);
        expect(g.committedUsdMicros).toBeGreaterThan(0n);
      });
    });

    describe('against a reference model', () => {
      it('matches the model on random operations and never exceeds a limit', async () => {
        await fc.assert(
          fc.asyncProperty(policyArb, startArb, opsArb, async (policy, start, ops) => {
            const store = await make();
            await runModel(store, policy, start, ops);
          }),
          { numRuns: FUZZ_RUNS || (options.propertyRuns ?? 25) },
        );
      });
    });

    if (options.reopen) {
      describe('persistence and sharing', () => {
        it('a second instance sees the first one’s reservations and shares the budget', async () => {
          const first = await make();
          const limits = [usd('global', day, 100n), usd('host:x', total, 1_000n)];
          expect((await first.reserve(request('a', 60n, limits))).ok).toBe(true);
          const second = await reopen(first);
          expect((await second.get('a'))?.state).toBe('held');
          expect(await second.reserve(request('b', 41n, limits))).toMatchObject({
            ok: false,
            remaining: 40n,
          });
          await second.commit('a', 50n);
          expect((await first.get('a'))?.committedUsdMicros).toBe(50n);
          expect((await first.reserve(request('b', 50n, limits))).ok).toBe(true);
          expect((await second.reserve(request('c', 1n, limits))).ok).toBe(false);
          // Replays from either instance are idempotent.
          expect((await second.reserve(request('b', 50n, limits))).ok).toBe(true);
          expect(await first.usage(limits[0]!, T0)).toEqual({
            committedUsdMicros: 50n,
            heldUsdMicros: 50n,
            count: 2,
          });
        });

        it('survives closing and reopening with every state and window intact', async () => {
          const first = await make();
          const limits = [usd('global', hour, 1_000n), { scope: 'n', window: week, maxCount: 9 }];
          await first.reserve({ ...request('held', 100n, limits, T0, T0 + 5), meta: { a: 'b' } });
          await first.reserve(request('done', 200n, limits, T0 + 1));
          await first.reserve(request('gone', 300n, limits, T0 + 2));
          await first.commit('done', 150n);
          await first.release('gone');
          const before = {
            held: await first.get('held'),
            done: await first.get('done'),
            gone: await first.get('gone'),
            usage: await first.usage(limits[0]!, T0 + 2),
            count: await first.usage(limits[1]!, T0 + 2),
            expired: await first.expired(T0 + 10),
          };
          const second = await reopen(first);
          await close(first);
          open.splice(open.indexOf(first), 1);
          expect({
            held: await second.get('held'),
            done: await second.get('done'),
            gone: await second.get('gone'),
            usage: await second.usage(limits[0]!, T0 + 2),
            count: await second.usage(limits[1]!, T0 + 2),
            expired: await second.expired(T0 + 10),
          }).toEqual(before);
          expect(before.usage).toEqual({ committedUsdMicros: 150n, heldUsdMicros: 100n, count: 2 });
        });

        it('two instances racing 100 reservations each never overspend', async () => {
          const first = await make();
          const second = await reopen(first);
          const limits = [
            usd('global', day, 500_000n),
            { scope: 'c', window: total, maxCount: 40 },
          ];
          const fire = (store: BudgetStore, tag: string) =>
            Promise.all(
              Array.from({ length: 100 }, async (_, i) => {
                const r = await store.reserve(request(`${tag}${i}`, 10_000n, limits));
                if (r.ok && i % 2 === 0) await store.commit(r.reservation.id, 10_000n);
                return r.ok;
              }),
            );
          const [a, b] = await Promise.all([fire(first, 'a'), fire(second, 'b')]);
          const accepted = [...a, ...b].filter(Boolean).length;
          expect(accepted).toBe(40);
          const u = await first.usage(limits[0]!, T0);
          expect(u.count).toBe(40);
          expect(u.committedUsdMicros + u.heldUsdMicros).toBe(400_000n);
          expect(await second.usage(limits[0]!, T0)).toEqual(u);
        });
      });
    }
  });
}
