/**
 * Model-based test of the in-memory budget store: random sequences of reserve (fresh and
 * replayed ids), commit (lower, equal or too-high amounts), release, expiry listing and time
 * moves are run against the store and a plain reference model, comparing every outcome and,
 * after every step, the usage of every scope in every window. Set STIPEND_FUZZ_RUNS for a
 * longer run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isStipendError } from '../errors/base.js';
import { createMemoryBudgetStore, type MemoryBudgetStore } from './memory.js';
import type { BudgetLimit, BudgetUsage, BudgetWindow, Reservation } from './store.js';
import { windowStart } from './window.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
const RUNS = Number(env?.STIPEND_FUZZ_RUNS ?? '') || 100;

const SCOPES = ['global', 'host:a', 'host:b', 'tag:t'] as const;
const WINDOWS: readonly BudgetWindow[] = [
  { kind: 'rolling', ms: 10 * MINUTE },
  { kind: 'rolling', ms: 60 * MINUTE },
  { kind: 'calendar', unit: 'day' },
  { kind: 'calendar', unit: 'week' },
  { kind: 'calendar', unit: 'month' },
  { kind: 'total' },
];

interface ModelRecord {
  id: string;
  seq: number;
  scopes: string[];
  at: number;
  expiresAt: number;
  usdMicros: bigint;
  state: 'held' | 'committed' | 'released';
  committed?: bigint;
  /** The store may forget a settled record; it still counts in the sums. */
  forgotten: boolean;
}

type Op =
  | {
      kind: 'reserve';
      fresh: boolean;
      pick: number;
      scopes: number[];
      usd: number;
      skew: number;
      ttl: number;
    }
  | { kind: 'commit'; pick: number; quarters: number }
  | { kind: 'release'; pick: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'expired' };

const windowArb = fc.constantFrom(...WINDOWS);
const limitArb = (scope: string) =>
  fc
    .record({
      window: windowArb,
      maxUsdMicros: fc.option(fc.bigInt({ min: 0n, max: 3_000n }), { nil: undefined }),
      maxCount: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
    })
    .map(
      (l): BudgetLimit => ({
        scope,
        window: l.window,
        ...(l.maxUsdMicros !== undefined ? { maxUsdMicros: l.maxUsdMicros } : {}),
        ...(l.maxCount !== undefined ? { maxCount: l.maxCount } : {}),
      }),
    );
const policyArb = fc.tuple(
  ...SCOPES.map((s) => fc.array(limitArb(s), { minLength: 1, maxLength: 2 })),
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('reserve' as const),
      fresh: fc.oneof(fc.constant(true), fc.constant(true), fc.constant(false)),
      pick: fc.nat(),
      scopes: fc.subarray([0, 1, 2, 3]),
      usd: fc.integer({ min: 0, max: 600 }),
      skew: fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 2 * DAY })),
      ttl: fc.integer({ min: 0, max: 30 * MINUTE }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('commit' as const),
      pick: fc.nat(),
      quarters: fc.integer({ min: 0, max: 5 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.oneof(
        fc.constant(0),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 20 * MINUTE }),
        fc.integer({ min: 1, max: 3 * DAY }),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'expired' as const }) },
);

/** Operations; reservations are stamped up to `maxSkew` ms behind the clock. */
const opsArb = (maxSkew: number, maxLength: number) =>
  fc.array(
    opArb.map((op) => (op.kind === 'reserve' ? { ...op, skew: op.skew % (maxSkew + 1) } : op)),
    { maxLength },
  );

function modelUsage(
  records: readonly ModelRecord[],
  scope: string,
  window: BudgetWindow,
  now: number,
): BudgetUsage {
  const start = windowStart(window, now);
  let committedUsdMicros = 0n;
  let heldUsdMicros = 0n;
  let count = 0;
  for (const r of records) {
    if (r.state === 'released' || r.at < start || !r.scopes.includes(scope)) continue;
    count++;
    if (r.state === 'held') heldUsdMicros += r.usdMicros;
    else committedUsdMicros += r.committed ?? 0n;
  }
  return { committedUsdMicros, heldUsdMicros, count };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isStipendError(error)) return error.code;
    throw error;
  }
  return 'OK';
}

function expectMatches(reservation: Reservation, record: ModelRecord): void {
  expect(reservation.id).toBe(record.id);
  expect(reservation.state).toBe(record.state);
  expect(reservation.usdMicros).toBe(record.usdMicros);
  expect(reservation.at).toBe(record.at);
  expect(reservation.committedUsdMicros).toBe(record.committed);
}

async function run(
  store: MemoryBudgetStore,
  policy: readonly (readonly BudgetLimit[])[],
  start: number,
  ops: readonly Op[],
): Promise<void> {
  const records: ModelRecord[] = [];
  const byId = new Map<string, ModelRecord>();
  let clock = start;
  let next = 0;
  const pickRecord = (pick: number): ModelRecord | undefined =>
    records.length === 0 ? undefined : records[pick % records.length];

  for (const op of ops) {
    if (op.kind === 'advance') {
      clock += op.ms;
    } else if (op.kind === 'expired') {
      const expected = records
        .filter((r) => r.state === 'held' && r.expiresAt <= clock)
        .sort((a, b) => a.expiresAt - b.expiresAt || a.seq - b.seq)
        .map((r) => r.id);
      expect((await store.expired(clock)).map((r) => r.id)).toEqual(expected);
    } else if (op.kind === 'reserve') {
      const limits = op.scopes.flatMap((i) => policy[i] ?? []);
      const scopes = [...new Set(limits.map((l) => l.scope))];
      const usdMicros = BigInt(op.usd);
      const now = clock - op.skew;
      const replay = op.fresh ? undefined : pickRecord(op.pick);
      const id = replay?.id ?? `r${next++}`;
      const known = byId.get(id);
      const result = store.reserve({ id, limits, usdMicros, now, expiresAt: now + op.ttl });
      if (known) {
        const same =
          known.usdMicros === usdMicros &&
          known.scopes.length === scopes.length &&
          scopes.every((s) => known.scopes.includes(s));
        if (known.state === 'released' || !same) {
          expect(await codeOf(result)).toBe('BUDGET_CONFLICT');
        } else {
          const outcome = await result;
          expect(outcome.ok).toBe(true);
          if (outcome.ok) expectMatches(outcome.reservation, known);
        }
      } else {
        let refusal:
          | { limit: BudgetLimit; exceeded: 'usd' | 'count'; remaining: bigint }
          | undefined;
        for (const limit of limits) {
          const u = modelUsage(records, limit.scope, limit.window, now);
          const used = u.committedUsdMicros + u.heldUsdMicros;
          if (limit.maxUsdMicros !== undefined && used + usdMicros > limit.maxUsdMicros) {
            const left = limit.maxUsdMicros - used;
            refusal = { limit, exceeded: 'usd', remaining: left > 0n ? left : 0n };
            break;
          }
          if (limit.maxCount !== undefined && u.count + 1 > limit.maxCount) {
            refusal = {
              limit,
              exceeded: 'count',
              remaining: BigInt(Math.max(0, limit.maxCount - u.count)),
            };
            break;
          }
        }
        const outcome = await result;
        if (refusal) {
          expect(outcome).toEqual({ ok: false, ...refusal });
        } else {
          const record: ModelRecord = {
            id,
            seq: records.length,
            scopes,
            at: now,
            expiresAt: now + op.ttl,
            usdMicros,
            state: 'held',
            forgotten: false,
          };
          if (replay) replay.id = `${replay.id}#forgotten-${record.seq}`;
          records.push(record);
          byId.set(id, record);
          expect(outcome.ok).toBe(true);
          if (outcome.ok) expectMatches(outcome.reservation, record);
        }
      }
    } else if (op.kind === 'commit') {
      const target = pickRecord(op.pick);
      const id = target && !target.forgotten ? target.id : 'never-reserved';
      const record = byId.get(id);
      const actual = record ? (record.usdMicros * BigInt(op.quarters)) / 4n : 1n;
      const code = await codeOf(store.commit(id, actual));
      if (!record) expect(code).toBe('BUDGET_NOT_FOUND');
      else if (record.state === 'released') expect(code).toBe('BUDGET_CONFLICT');
      else if (record.state === 'committed')
        expect(code).toBe(record.committed === actual ? 'OK' : 'BUDGET_CONFLICT');
      else if (actual > record.usdMicros) expect(code).toBe('BUDGET_INVALID');
      else {
        expect(code).toBe('OK');
        record.state = 'committed';
        record.committed = actual;
      }
    } else {
      const target = pickRecord(op.pick);
      const id = target && !target.forgotten ? target.id : 'never-reserved';
      const record = byId.get(id);
      const code = await codeOf(store.release(id));
      if (!record) expect(code).toBe('BUDGET_NOT_FOUND');
      else if (record.state === 'committed') expect(code).toBe('BUDGET_CONFLICT');
      else {
        expect(code).toBe('OK');
        record.state = 'released';
      }
    }

    // Forgetting: only settled records may disappear; the model keeps their sums.
    for (const record of byId.values()) {
      if ((await store.get(record.id)) !== undefined) continue;
      expect(record.state).not.toBe('held');
      record.forgotten = true;
      byId.delete(record.id);
    }
    // Usage of every scope in every window matches the model, and no limit is exceeded.
    for (const scope of SCOPES) {
      for (const window of WINDOWS) {
        expect(await store.usage({ scope, window }, clock)).toEqual(
          modelUsage(records, scope, window, clock),
        );
      }
    }
    for (const limit of policy.flat()) {
      const u = await store.usage(limit, clock);
      if (limit.maxUsdMicros !== undefined) {
        expect(u.committedUsdMicros + u.heldUsdMicros).toBeLessThanOrEqual(limit.maxUsdMicros);
      }
      if (limit.maxCount !== undefined) expect(u.count).toBeLessThanOrEqual(limit.maxCount);
    }
  }
}

const startArb = fc.integer({ min: Date.UTC(2023, 11, 25), max: Date.UTC(2024, 2, 3) });

describe('memory budget store against a reference model', () => {
  it('matches the model and never exceeds a limit', async () => {
    await fc.assert(
      fc.asyncProperty(policyArb, startArb, opsArb(2 * DAY, 60), async (policy, start, ops) => {
        await run(createMemoryBudgetStore(), policy, start, ops);
      }),
      { numRuns: RUNS },
    );
  });

  it('matches the model while forgetting old entries aggressively', async () => {
    await fc.assert(
      fc.asyncProperty(policyArb, startArb, opsArb(5_000, 80), async (policy, start, ops) => {
        // Reservations are stamped up to 5 s behind the clock: within retainMs, so exact.
        await run(createMemoryBudgetStore({ maxEntries: 4, retainMs: 5_000 }), policy, start, ops);
      }),
      { numRuns: RUNS },
    );
  });
});
