import { createMemoryBudgetStore, createPayingFetch } from '@stipend/client';
import { describe, expect, it } from 'vitest';
import { budgetRows, LimitFinder } from './budgets.js';

const day = { kind: 'calendar', unit: 'day' } as const;

describe('budgets', () => {
  it('finds every scope a reservation was counted in (children and delegation scopes too) and reads spent, held, left', async () => {
    const budget = createMemoryBudgetStore();
    const now = Date.now();
    const limits = [
      { scope: 'global', window: day, maxUsdMicros: 1_000_000n },
      { scope: 'tag:child-1', window: { kind: 'total' } as const, maxUsdMicros: 100_000n },
      {
        scope: 'delegation:tok1:abcd',
        window: { kind: 'total' } as const,
        maxUsdMicros: 50_000n,
        maxCount: 3,
      },
    ];
    await budget.reserve({ id: 'r1', limits, usdMicros: 30_000n, now, expiresAt: now + 60_000 });
    await budget.commit('r1', 20_000n);
    await budget.reserve({ id: 'r2', limits, usdMicros: 5_000n, now, expiresAt: now + 60_000 });
    const found = await new LimitFinder().find(budget, [], ['r1', 'r2', 'r-missing']);
    const rows = await budgetRows(budget, found, now);
    expect(
      rows.map((r) => [
        r.kind,
        r.label,
        r.window,
        r.committed,
        r.held,
        r.left,
        r.count,
        r.maxCount,
      ]),
    ).toEqual([
      ['global', 'global', 'per UTC day', '$0.02', '$0.005', '$0.975', 2, undefined],
      ['tag', 'tag child-1', 'in total', '$0.02', '$0.005', '$0.075', 2, undefined],
      ['delegation', 'delegation tok1', 'in total', '$0.02', '$0.005', '$0.025', 2, 3],
    ]);
  });

  it('shows the policy’s limits before anything is spent, and prefers them to older reservations', async () => {
    const budget = createMemoryBudgetStore();
    const now = Date.now();
    await budget.reserve({
      id: 'old',
      limits: [{ scope: 'global', window: day, maxUsdMicros: 9_000_000n }],
      usdMicros: 1n,
      now,
      expiresAt: now + 1,
    });
    const compiled = createPayingFetch({
      wallets: [],
      policy: {
        global: {
          limits: [{ usd: '2', window: { calendar: 'day' } }],
          maxRequests: [{ count: 5, window: { calendar: 'day' } }],
        },
        hosts: { 'api.example.com': { limits: [{ usd: '0.5', window: { rolling: '1h' } }] } },
      },
    }).engine.policy;
    const found = await new LimitFinder().find(
      budget,
      [compiled.global, ...compiled.hosts],
      ['old'],
    );
    const rows = await budgetRows(budget, found, now);
    expect(rows.map((r) => [r.scope, r.window, r.max, r.maxCount])).toEqual([
      ['global', 'per UTC day', '$2.00', 5],
      ['host:api.example.com', 'last 1h', '$0.50', undefined],
    ]);
  });
});
