import type { PendingApproval } from '@stipend/client';
import { TEST_USDC } from '@stipend/testkit/core';
import { describe, expect, it } from 'vitest';
import { approvalRows } from './approvals.js';

const now = Date.now();
function approval(
  patch: Record<string, unknown> = {},
  request: Record<string, unknown> = {},
): PendingApproval {
  return {
    id: 'a_1',
    purchaseKey: 'k',
    state: 'pending',
    request: {
      origin: 'https://api.example.com',
      resource: 'https://api.example.com/report',
      method: 'GET',
      protocol: 'x402',
      scheme: 'exact',
      payee: '0xabc',
      amount: { value: 50_000n, unit: TEST_USDC },
      usdMicros: 50_000n,
      remaining: [{ scope: 'global', window: 'rolling:3600000', usdMicros: 450_000n }],
      why: 'above_threshold',
      tags: ['research'],
      ...request,
    },
    terms: {
      offerId: 'o',
      protocol: 'x402',
      scheme: 'exact',
      amount: '50000',
      unit: 'u',
      payee: '0xabc',
    },
    reservationId: 'r',
    usdMicros: 50_000n,
    rate: { numerator: 1n, denominator: 1n, source: 'peg', asOf: now },
    maxAuthorizationTtlSec: 60,
    createdAt: now,
    expiresAt: now + 60_000,
    ...patch,
  } as PendingApproval;
}

describe('approvalRows', () => {
  it('shows what a person decides on: cost, payee, rail, why, expiry, what is left afterwards', () => {
    const { rows } = approvalRows([approval()], now);
    expect(rows).toEqual([
      {
        id: 'a_1',
        state: 'pending',
        usd: '$0.05',
        amount: '0.05 USDC',
        payee: '0xabc',
        host: 'api.example.com',
        origin: 'https://api.example.com',
        resource: 'https://api.example.com/report',
        method: 'GET',
        rail: 'x402:exact',
        why: 'above the approval threshold',
        tags: ['research'],
        createdAt: now,
        expiresAt: now + 60_000,
        remaining: ['$0.45 left in global (last 1h)'],
      },
    ]);
  });

  it('lists pending and approved ones only; a pending one past its expiry reads expired', () => {
    const { rows } = approvalRows(
      [
        approval({ id: 'a_used', state: 'used' }),
        approval({ id: 'a_denied', state: 'denied' }),
        approval({ id: 'a_ok', state: 'approved' }),
        approval({ id: 'a_late', expiresAt: now - 1 }),
      ],
      now,
    );
    expect(rows.map((r) => [r.id, r.state])).toEqual([
      ['a_ok', 'approved'],
      ['a_late', 'expired'],
    ]);
  });

  it('an approval whose fields are not what a store writes is left out and counted', () => {
    const { rows, invalid } = approvalRows(
      [
        approval({ usdMicros: 5 }),
        approval({}, { origin: { toString: () => 'x' } }),
        approval({}, { tags: 'a' }),
      ],
      now,
    );
    expect(rows).toEqual([]);
    expect(invalid).toBe(3);
  });
});
