import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPayingFetch, type PendingApproval } from '@stipend/client';
import {
  createTestPaywall,
  createTestRail,
  TEST_USDC,
  testAdapter,
  testWallet,
} from '@stipend/testkit/core';
import { startTestServer, type TestServer } from '@stipend/testkit/server';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileApprovalStore, createFileBudgetStore } from './index.js';

const dirs: string[] = [];
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stipend-approvals-'));
  dirs.push(dir);
  return dir;
}

const approval = (id: string, purchaseKey: string): PendingApproval => ({
  id,
  purchaseKey,
  state: 'pending',
  request: {
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/r',
    method: 'GET',
    protocol: 'x402',
    scheme: 'exact',
    payee: '0xabc',
    amount: { value: 50_000n, unit: TEST_USDC },
    usdMicros: 50_000n,
    remaining: [],
    why: 'above_threshold',
    tags: [],
  },
  terms: {
    offerId: 'o',
    protocol: 'x402',
    scheme: 'exact',
    amount: '50000',
    unit: 'u',
    payee: '0xabc',
  },
  reservationId: 'r1',
  usdMicros: 50_000n,
  rate: { numerator: 1n, denominator: 1n, source: 'peg', asOf: 0 },
  maxAuthorizationTtlSec: 3600,
  createdAt: 1,
  expiresAt: 2,
});

describe('createFileApprovalStore', () => {
  it('keeps approvals across instances, bigint amounts included', async () => {
    const path = join(tempDir(), 'approvals.jsonl');
    const first = createFileApprovalStore({ path });
    await first.put(approval('a1', 'k1'));
    await first.update('a1', { state: 'approved' });
    await first.put(approval('a2', 'k2'));
    await first.close();
    const second = createFileApprovalStore({ path });
    expect((await second.get('a1'))?.state).toBe('approved');
    expect((await second.get('a1'))?.usdMicros).toBe(50_000n);
    expect((await second.forPurchase('k2'))?.id).toBe('a2');
    await second.update('a2', { state: 'used' });
    expect(await second.forPurchase('k2')).toBeUndefined();
    expect((await second.list()).map((a) => [a.id, a.state])).toEqual([
      ['a1', 'approved'],
      ['a2', 'used'],
    ]);
    await expect(second.update('nope', { state: 'denied' })).rejects.toThrow();
    await second.close();
  });

  it('a pending approval survives a restart: approved after it, the purchase is paid once', async () => {
    const dir = tempDir();
    const rail = createTestRail();
    const wallet = testWallet({ rail });
    const server = await startTestServer(
      createTestPaywall({
        rail,
        routes: { '/report': { offers: [{ amount: 50_000n, unit: TEST_USDC }] } },
      }),
    );
    servers.push(server);
    const open = () => {
      const budget = createFileBudgetStore({ path: join(dir, 'budget.jsonl') });
      const store = createFileApprovalStore({ path: join(dir, 'approvals.jsonl') });
      const payingFetch = createPayingFetch({
        adapters: [testAdapter()],
        wallets: [wallet],
        budget,
        policy: {
          global: { approveAbove: '0.01', limits: [{ usd: '1', window: { total: true } }] },
        },
        approvals: { mode: 'pending', store },
      });
      return { payingFetch, close: async () => Promise.all([budget.close(), store.close()]) };
    };
    const call = { payment: { idempotencyKey: 'report-42' } };
    const before = open();
    const pending = await before.payingFetch(`${server.origin}/report`, call);
    expect(pending.status).toBe(202);
    const id = pending.headers.get('stipend-approval-id')!;
    await before.close();

    // Another process (a person's approval UI) approves; then the agent restarts and asks again.
    const approver = open();
    await approver.payingFetch.approvals.approve(id);
    await approver.close();
    const after = open();
    const paid = await after.payingFetch(`${server.origin}/report`, call);
    expect(paid.status).toBe(200);
    expect(wallet.calls).toHaveLength(1);
    expect(rail.settledTotal()).toBe(50_000n);
    const usage = await after.payingFetch.budget.usage(
      { scope: 'global', window: { kind: 'total' } },
      Date.now(),
    );
    expect(usage).toEqual({ committedUsdMicros: 50_000n, heldUsdMicros: 0n, count: 1 });
    await after.close();
  });
});
