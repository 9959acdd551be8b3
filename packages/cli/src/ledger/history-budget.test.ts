import { createMemoryBudgetStore, type SpendRecord } from '@stipend/client';
import { describe, expect, it } from 'vitest';
import { withHistory } from './history-budget.js';

const NOW = Date.UTC(2026, 4, 10, 12);
const DAY = { kind: 'calendar', unit: 'day' } as const;

function spent(fields: Partial<SpendRecord>): SpendRecord {
  return {
    id: `s_${Math.random()}`,
    purchaseKey: 'k',
    reservationId: 'r',
    protocol: 'x402',
    scheme: 'exact',
    method: 'GET',
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/x',
    payee: 'p',
    offerId: 'o',
    amount: { value: 1n, unit: { kind: 'msat' } },
    reservedUsdMicros: 300_000n,
    rate: { numerator: 1n, denominator: 1n, source: 't', asOf: NOW },
    walletId: 'w',
    status: 'committed',
    committedUsdMicros: 250_000n,
    tags: [],
    createdAt: NOW - 3_600_000,
    updatedAt: NOW - 3_600_000,
    ...fields,
  };
}

const history = [
  spent({}), // committed $0.25 today
  spent({ status: 'held', committedUsdMicros: undefined }), // held $0.30 today
  spent({ status: 'released', committedUsdMicros: undefined }), // counts nothing
  spent({ createdAt: NOW - 2 * 86_400_000 }), // two days ago: outside the day
  spent({ origin: 'https://other.example.org', tags: ['research'] }), // $0.25, other host, tagged
];

describe('withHistory', () => {
  it('adds what earlier runs spent in the scope and window to usage', async () => {
    const budget = withHistory(createMemoryBudgetStore(), history);
    expect(await budget.usage({ scope: 'global', window: DAY }, NOW)).toEqual({
      committedUsdMicros: 500_000n,
      heldUsdMicros: 300_000n,
      count: 3,
    });
    expect(await budget.usage({ scope: 'host:api.example.com', window: DAY }, NOW)).toMatchObject({
      committedUsdMicros: 250_000n,
      count: 2,
    });
    expect(await budget.usage({ scope: 'host:*.example.org', window: DAY }, NOW)).toMatchObject({
      committedUsdMicros: 250_000n,
    });
    expect(
      await budget.usage({ scope: 'tag:research', window: { kind: 'total' } }, NOW),
    ).toMatchObject({
      committedUsdMicros: 250_000n,
      count: 1,
    });
  });

  it('reserves only what the limit leaves after history, and reports the limit as written', async () => {
    const budget = withHistory(createMemoryBudgetStore(), history);
    const limit = { scope: 'global', window: DAY, maxUsdMicros: 1_000_000n };
    const base = { now: NOW, expiresAt: NOW + 60_000 };
    const fits = await budget.reserve({ ...base, id: 'a', limits: [limit], usdMicros: 200_000n });
    expect(fits.ok).toBe(true);
    const over = await budget.reserve({ ...base, id: 'b', limits: [limit], usdMicros: 1n });
    expect(over).toMatchObject({ ok: false, exceeded: 'usd', remaining: 0n, limit });
    const counted = await budget.reserve({
      ...base,
      id: 'c',
      limits: [{ scope: 'global', window: DAY, maxCount: 4 }],
      usdMicros: 1n,
    });
    expect(counted).toMatchObject({ ok: false, exceeded: 'count' });
    await budget.commit('a', 150_000n);
    expect((await budget.usage(limit, NOW)).committedUsdMicros).toBe(650_000n);
  });

  it('is the inner store itself when there is no history', async () => {
    const inner = createMemoryBudgetStore();
    const budget = withHistory(inner, []);
    await budget.reserve({ id: 'x', limits: [], usdMicros: 5n, now: NOW, expiresAt: NOW + 1 });
    expect(await inner.get('x')).toMatchObject({ usdMicros: 5n, state: 'held' });
  });
});

describe('withHistory and sessions held between runs', () => {
  const deposit = spent({
    id: 'r_dep',
    reservationId: 'r_dep',
    purchaseKey: 'session:ses_1',
    status: 'held',
    reservedUsdMicros: 40_000n,
    committedUsdMicros: undefined,
  });
  const use = (n: number) =>
    spent({
      id: `u_${n}`,
      reservationId: 'r_dep',
      purchaseKey: 'session:ses_1',
      reservedUsdMicros: 0n,
      committedUsdMicros: 2_000n,
    });

  it('a session deposit held by an earlier run settles through the ledger: committing or releasing its reservation does not throw', async () => {
    const budget = withHistory(createMemoryBudgetStore(), [deposit]);
    await expect(budget.commit('r_dep', 10_000n)).resolves.toMatchObject({
      id: 'r_dep',
      state: 'committed',
      committedUsdMicros: 10_000n,
    });
    await expect(budget.release('r_dep')).resolves.toMatchObject({ state: 'released' });
    // A reservation nobody made is still an error.
    await expect(budget.commit('r_nobody', 1n)).rejects.toMatchObject({ code: 'BUDGET_NOT_FOUND' });
  });

  it('the uses of a session whose deposit is still held count once (inside the deposit), not on top of it', async () => {
    const budget = withHistory(createMemoryBudgetStore(), [deposit, use(1), use(2)]);
    expect(await budget.usage({ scope: 'global', window: DAY }, NOW)).toMatchObject({
      committedUsdMicros: 0n,
      heldUsdMicros: 40_000n,
    });
    // Once closed, the deposit record carries only what no use accounts for; the uses count.
    const closed = { ...deposit, status: 'committed' as const, committedUsdMicros: 1_000n };
    const after = withHistory(createMemoryBudgetStore(), [closed, use(1), use(2)]);
    expect(await after.usage({ scope: 'global', window: DAY }, NOW)).toMatchObject({
      committedUsdMicros: 5_000n,
      heldUsdMicros: 0n,
    });
  });
});
