import {
  amount,
  createMemoryBudgetStore,
  createMemoryLedger,
  createPolicyEngine,
  pegPriceSource,
  type SpendRecord,
} from '@stipend/client';
import { describe, expect, it } from 'vitest';
import { budgetStatus } from './budget-status.js';

const NOW = Date.UTC(2030, 0, 15, 12);
const USDC = {
  kind: 'token' as const,
  network: 'eip155:8453',
  asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
  decimals: 6,
  symbol: 'USDC',
  peg: 'USD' as const,
};

function record(id: string, patch: Partial<SpendRecord>): SpendRecord {
  return {
    id,
    purchaseKey: id,
    reservationId: `r_${id}`,
    protocol: 'x402',
    scheme: 'exact',
    method: 'POST',
    origin: 'https://weather.mcp',
    resource: 'https://weather.mcp/tools/get_weather',
    payee: '0xPayee',
    offerId: `o_${id}`,
    amount: amount(2500n, USDC),
    reservedUsdMicros: 2500n,
    rate: { numerator: 1n, denominator: 1n, source: 'peg', asOf: NOW },
    walletId: 'evm',
    status: 'committed',
    tags: ['mcp'],
    createdAt: NOW,
    updatedAt: NOW,
    ...patch,
  };
}

describe('budgetStatus', () => {
  it('reports every budget of the policy with spent, held and left, and the recent payments', async () => {
    const budget = createMemoryBudgetStore();
    const ledger = createMemoryLedger();
    const engine = createPolicyEngine({
      policy: {
        global: {
          maxPerRequest: { usd: '0.05' },
          limits: [{ usd: '1', window: { calendar: 'day' } }],
          maxRequests: [{ count: 10, window: { rolling: '1h' } }],
        },
        hosts: { '*.mcp': { limits: [{ usd: '0.004', window: { rolling: '24h' } }] } },
        tags: { research: { maxPerRequest: { usd: '0.01' } } },
      },
      budget,
      prices: pegPriceSource(),
      now: () => NOW,
    });
    const limits = [
      {
        scope: 'global',
        window: { kind: 'calendar', unit: 'day' } as const,
        maxUsdMicros: 1_000_000n,
      },
      { scope: 'global', window: { kind: 'rolling', ms: 3_600_000 } as const, maxCount: 10 },
      {
        scope: 'host:*.mcp',
        window: { kind: 'rolling', ms: 86_400_000 } as const,
        maxUsdMicros: 4000n,
      },
    ];
    const reserve = (id: string, usdMicros: bigint) =>
      budget.reserve({ id, limits, usdMicros, now: NOW, expiresAt: NOW + 60_000 });
    await reserve('r_a', 2500n);
    await budget.commit('r_a', 2500n);
    await reserve('r_b', 1000n);
    await ledger.append(record('a', { committedUsdMicros: 2500n, receiptReference: '0xtx' }));
    await ledger.append(
      record('b', { status: 'held', reservedUsdMicros: 1000n, createdAt: NOW + 1 }),
    );

    const status = await budgetStatus({ engine, budget, ledger }, { now: NOW, recent: 1 });

    expect(status.maxPerRequest).toEqual([
      { rule: 'global', usd: '$0.05' },
      { rule: 'tag "research"', usd: '$0.01' },
    ]);
    expect(status.budgets).toEqual([
      {
        scope: 'global',
        window: 'calendar day',
        limitUsd: '$1.00',
        spentUsd: '$0.0025',
        heldUsd: '$0.001',
        remainingUsd: '$0.9965',
        payments: 2,
      },
      {
        scope: 'host:*.mcp',
        window: 'rolling 1d',
        limitUsd: '$0.004',
        spentUsd: '$0.0025',
        heldUsd: '$0.001',
        remainingUsd: '$0.0005',
        payments: 2,
      },
    ]);
    expect(status.counts).toEqual([
      { scope: 'global', window: 'rolling 1h', maxPayments: 10, payments: 2 },
    ]);
    expect(status.totals).toEqual({ spentUsd: '$0.0025', heldUsd: '$0.001', payments: 2 });
    expect(status.recent).toEqual([
      {
        at: new Date(NOW + 1).toISOString(),
        origin: 'https://weather.mcp',
        resource: 'https://weather.mcp/tools/get_weather',
        protocol: 'x402',
        scheme: 'exact',
        payee: '0xPayee',
        amount: '0.0025 USDC',
        usd: '$0.001',
        status: 'held',
      },
    ]);
    expect(
      (await budgetStatus({ engine, budget, ledger }, { now: NOW, recent: 0 })).recent,
    ).toEqual([]);
  });
});
