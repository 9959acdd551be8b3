import { createTestPaywall, createTestRail, testAdapter, testWallet } from '@stipend/testkit/core';
import { describe, expect, it } from 'vitest';
import { ORIGIN, usdc, useMsw } from '../fetch/fixtures.test-helpers.js';
import {
  ApprovalError,
  createMemoryApprovalStore,
  createMemoryBudgetStore,
  createPayingFetch,
  getPayment,
} from '../index.js';

const route = useMsw();
const total = { kind: 'total' } as const;

function pendingSetup(options: { price?: bigint; clock?: { now: number } } = {}) {
  const rail = createTestRail();
  const wallet = testWallet({ rail });
  const budget = createMemoryBudgetStore();
  const store = createMemoryApprovalStore();
  const clock = options.clock ?? { now: Date.now() };
  const make = () =>
    createPayingFetch({
      adapters: [testAdapter()],
      wallets: [wallet],
      budget,
      now: () => clock.now,
      policy: { global: { approveAbove: '0.01', limits: [{ usd: '1', window: { total: true } }] } },
      approvals: { mode: 'pending', store, ttlMs: 60_000 },
    });
  const paywall = createTestPaywall({
    rail,
    routes: { '/report': { offers: [usdc(options.price ?? 50_000n)] } },
  });
  route(paywall);
  return { rail, wallet, budget, store, clock, make, paywall, payingFetch: make() };
}

const call = { payment: { idempotencyKey: 'report-1' } };

describe('pending approvals', () => {
  it('answers 202 with the approval, holds the budget, and pays nothing yet', async () => {
    const { payingFetch, wallet } = pendingSetup();
    const response = await payingFetch(`${ORIGIN}/report`, call);
    expect(response.status).toBe(202);
    const id = response.headers.get('stipend-approval-id');
    expect(id).toMatch(/^a_[0-9a-f]{32}$/);
    expect(response.headers.get('stipend-approval-status')).toBe('pending');
    const body = await response.json();
    expect(body.approval).toMatchObject({
      id,
      status: 'pending',
      amount: '50000',
      usd: '$0.05',
      payee: 'test-merchant',
    });
    expect(wallet.calls).toEqual([]);
    const usage = await payingFetch.budget.usage({ scope: 'global', window: total }, Date.now());
    expect(usage).toEqual({ committedUsdMicros: 0n, heldUsdMicros: 50_000n, count: 1 });
    // Asking again while pending returns the same approval and reserves nothing more.
    const again = await payingFetch(`${ORIGIN}/report`, call);
    expect(again.headers.get('stipend-approval-id')).toBe(id);
    expect(
      (await payingFetch.budget.usage({ scope: 'global', window: total }, Date.now())).count,
    ).toBe(1);
  });

  it('approve → the next call for the same purchase pays once, with the held reservation', async () => {
    const { payingFetch, wallet, rail } = pendingSetup();
    const first = await payingFetch(`${ORIGIN}/report`, call);
    const id = first.headers.get('stipend-approval-id')!;
    expect((await payingFetch.approvals.approve(id)).state).toBe('approved');
    const paid = await payingFetch(`${ORIGIN}/report`, call);
    expect(paid.status).toBe(200);
    expect(getPayment(paid)?.record.reservationId).toBe(
      (await payingFetch.approvals.list())[0]!.reservationId,
    );
    expect(wallet.calls).toHaveLength(1);
    expect(rail.settledTotal()).toBe(50_000n);
    const usage = await payingFetch.budget.usage({ scope: 'global', window: total }, Date.now());
    expect(usage).toEqual({ committedUsdMicros: 50_000n, heldUsdMicros: 0n, count: 1 });
    expect((await payingFetch.approvals.list())[0]!.state).toBe('used');
  });

  it('deny → releases the budget; the next call is refused once, then asks again', async () => {
    const { payingFetch, wallet } = pendingSetup();
    const id = (await payingFetch(`${ORIGIN}/report`, call)).headers.get('stipend-approval-id')!;
    await payingFetch.approvals.deny(id);
    expect(await payingFetch.budget.usage({ scope: 'global', window: total }, Date.now())).toEqual({
      committedUsdMicros: 0n,
      heldUsdMicros: 0n,
      count: 0,
    });
    await expect(payingFetch(`${ORIGIN}/report`, call)).rejects.toBeInstanceOf(ApprovalError);
    const reasked = await payingFetch(`${ORIGIN}/report`, call);
    expect(reasked.status).toBe(202);
    expect(reasked.headers.get('stipend-approval-id')).not.toBe(id);
    expect(wallet.calls).toEqual([]);
  });

  it('expiry releases the budget and the next call asks again', async () => {
    const clock = { now: Date.now() };
    const { payingFetch, wallet } = pendingSetup({ clock });
    const id = (await payingFetch(`${ORIGIN}/report`, call)).headers.get('stipend-approval-id')!;
    clock.now += 61_000;
    expect(await payingFetch.approvals.expire()).toBe(1);
    expect(
      (await payingFetch.budget.usage({ scope: 'global', window: total }, clock.now)).heldUsdMicros,
    ).toBe(0n);
    await expect(payingFetch.approvals.approve(id)).rejects.toMatchObject({
      code: 'APPROVAL_CONFLICT',
    });
    const reasked = await payingFetch(`${ORIGIN}/report`, call);
    expect(reasked.status).toBe(202);
    expect(reasked.headers.get('stipend-approval-id')).not.toBe(id);
    expect(wallet.calls).toEqual([]);
  });

  it('approved, but the server now asks a different price: nothing is paid, it asks again', async () => {
    const { payingFetch, wallet, rail } = pendingSetup();
    const id = (await payingFetch(`${ORIGIN}/report`, call)).headers.get('stipend-approval-id')!;
    await payingFetch.approvals.approve(id);
    route(createTestPaywall({ rail, routes: { '/report': { offers: [usdc(90_000n)] } } }));
    const reasked = await payingFetch(`${ORIGIN}/report`, call);
    expect(reasked.status).toBe(202);
    expect(wallet.calls).toEqual([]);
    const usage = await payingFetch.budget.usage({ scope: 'global', window: total }, Date.now());
    expect(usage.heldUsdMicros).toBe(90_000n);
  });

  it('survives a restart: a new paying fetch on the same stores resumes the approved purchase', async () => {
    const env = pendingSetup();
    const id = (await env.payingFetch(`${ORIGIN}/report`, call)).headers.get(
      'stipend-approval-id',
    )!;
    await env.payingFetch.approvals.approve(id);
    const restarted = env.make();
    const paid = await restarted(`${ORIGIN}/report`, call);
    expect(paid.status).toBe(200);
    expect(env.wallet.calls).toHaveLength(1);
    expect(
      (await restarted.budget.usage({ scope: 'global', window: total }, Date.now()))
        .committedUsdMicros,
    ).toBe(50_000n);
  });

  it('payments below the threshold are not held for approval', async () => {
    const { payingFetch } = pendingSetup({ price: 5_000n });
    const response = await payingFetch(`${ORIGIN}/report`, call);
    expect(response.status).toBe(200);
  });
});
