/**
 * The model-based part of the store conformance suite: random sequences of reserve (fresh and
 * replayed ids, skewed times), commit, release, time moves and `expired` run against a store
 * and a plain reference model, comparing every outcome and, after every step, the usage of
 * every scope in every window.
 */
import {
  type BudgetLimit,
  type BudgetStore,
  type BudgetUsage,
  type BudgetWindow,
  isStipendError,
  windowStart,
} from '@stipend/client';
import fc from 'fast-check';
import { expect } from 'vitest';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const day: BudgetWindow = { kind: 'calendar', unit: 'day' };
const week: BudgetWindow = { kind: 'calendar', unit: 'week' };
const month: BudgetWindow = { kind: 'calendar', unit: 'month' };
const total: BudgetWindow = { kind: 'total' };

const SCOPES = ['global', 'host:a', 'tag:t'] as const;
const WINDOWS: readonly BudgetWindow[] = [
  { kind: 'rolling', ms: 10 * MINUTE },
  { kind: 'rolling', ms: HOUR },
  day,
  week,
  month,
  total,
];

type Op =
  | { kind: 'reserve'; fresh: boolean; pick: number; scopes: number[]; usd: number; skew: number }
  | { kind: 'commit'; pick: number; quarters: number }
  | { kind: 'release'; pick: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'expired' };

interface ModelRecord {
  id: string;
  scopes: string[];
  at: number;
  expiresAt: number;
  usdMicros: bigint;
  state: 'held' | 'committed' | 'released';
  committed?: bigint;
}

const limitArb = (scope: string) =>
  fc
    .record({
      window: fc.constantFrom(...WINDOWS),
      max: fc.option(fc.bigInt({ min: 0n, max: 2_000n }), { nil: undefined }),
      count: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
    })
    .map(
      (l): BudgetLimit => ({
        scope,
        window: l.window,
        ...(l.max !== undefined ? { maxUsdMicros: l.max } : {}),
        ...(l.count !== undefined ? { maxCount: l.count } : {}),
      }),
    );
export const policyArb = fc.tuple(
  ...SCOPES.map((s) => fc.array(limitArb(s), { minLength: 1, maxLength: 2 })),
);
export const startArb = fc.integer({ min: Date.UTC(2023, 11, 25), max: Date.UTC(2024, 2, 3) });
export const opsArb = fc.array(
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('reserve' as const),
        fresh: fc.boolean(),
        pick: fc.nat(),
        scopes: fc.subarray([0, 1, 2]),
        usd: fc.integer({ min: 0, max: 500 }),
        skew: fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 2 * DAY })),
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
          fc.integer({ min: 0, max: 20 * MINUTE }),
          fc.integer({ min: 0, max: 3 * DAY }),
        ),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'expired' as const }) },
  ),
  { maxLength: 30 },
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

export async function runModel(
  store: BudgetStore,
  policy: readonly (readonly BudgetLimit[])[],
  start: number,
  ops: readonly Op[],
): Promise<void> {
  const records: ModelRecord[] = [];
  const byId = new Map<string, ModelRecord>();
  let clock = start;
  let next = 0;
  const pick = (n: number) => (records.length === 0 ? undefined : records[n % records.length]);

  for (const op of ops) {
    if (op.kind === 'advance') {
      clock += op.ms;
    } else if (op.kind === 'expired') {
      const expected = records
        .filter((r) => r.state === 'held' && r.expiresAt <= clock)
        .sort((a, b) => a.expiresAt - b.expiresAt || records.indexOf(a) - records.indexOf(b))
        .map((r) => r.id);
      expect((await store.expired(clock)).map((r) => r.id)).toEqual(expected);
    } else if (op.kind === 'reserve') {
      const limits = op.scopes.flatMap((i) => policy[i] ?? []);
      const scopes = [...new Set(limits.map((l) => l.scope))];
      const usdMicros = BigInt(op.usd);
      const now = clock - op.skew;
      const id = (op.fresh ? undefined : pick(op.pick)?.id) ?? `r${next++}`;
      const known = byId.get(id);
      const result = store.reserve({ id, limits, usdMicros, now, expiresAt: now + op.usd * 1000 });
      if (known) {
        const same =
          known.usdMicros === usdMicros &&
          known.scopes.length === scopes.length &&
          scopes.every((s) => known.scopes.includes(s));
        if (known.state === 'released' || !same) {
          expect(await codeOf(result)).toBe('BUDGET_CONFLICT');
        } else {
          const outcome = await result;
          expect(outcome.ok && outcome.reservation.state).toBe(known.state);
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
            const left = BigInt(Math.max(0, limit.maxCount - u.count));
            refusal = { limit, exceeded: 'count', remaining: left };
            break;
          }
        }
        const outcome = await result;
        if (refusal) {
          expect(outcome).toEqual({ ok: false, ...refusal });
        } else {
          const record: ModelRecord = {
            id,
            scopes,
            at: now,
            expiresAt: now + op.usd * 1000,
            usdMicros,
            state: 'held',
          };
          records.push(record);
          byId.set(id, record);
          expect(outcome.ok && outcome.reservation.usdMicros).toBe(usdMicros);
        }
      }
    } else if (op.kind === 'commit') {
      const record = pick(op.pick);
      const id = record?.id ?? 'never-reserved';
      const actual = record ? (record.usdMicros * BigInt(op.quarters)) / 4n : 1n;
      const code = await codeOf(store.commit(id, actual));
      if (!record) expect(code).toBe('BUDGET_NOT_FOUND');
      else if (record.state === 'released') expect(code).toBe('BUDGET_CONFLICT');
      else if (record.state === 'committed') {
        expect(code).toBe(record.committed === actual ? 'OK' : 'BUDGET_CONFLICT');
      } else if (actual > record.usdMicros) expect(code).toBe('BUDGET_INVALID');
      else {
        expect(code).toBe('OK');
        record.state = 'committed';
        record.committed = actual;
      }
    } else {
      const record = pick(op.pick);
      const code = await codeOf(store.release(record?.id ?? 'never-reserved'));
      if (!record) expect(code).toBe('BUDGET_NOT_FOUND');
      else if (record.state === 'committed') expect(code).toBe('BUDGET_CONFLICT');
      else {
        expect(code).toBe('OK');
        record.state = 'released';
      }
    }

    for (const scope of SCOPES) {
      for (const window of WINDOWS) {
        expect(await store.usage({ scope, window }, clock)).toEqual(
          modelUsage(records, scope, window, clock),
        );
      }
    }
  }
  for (const record of records) {
    const stored = await store.get(record.id);
    expect(stored?.state).toBe(record.state);
    expect(stored?.committedUsdMicros).toBe(record.committed);
  }
}
