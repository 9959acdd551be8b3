/**
 * Fault-injection matrix on the `stipend-test` stand-in rail (`@stipend/testkit/core`): the
 * paywall served over real HTTP, a fault proxy in front of it, the test wallet wrapped with
 * timeouts. Payments are counted at the rail (`rail.payments()`), and after every case the
 * ledger must tell the truth: a committed record's payment settled on the rail, a released
 * record's did not, and every settled payment is in the ledger as committed or held.
 */
import { createPayingFetch, getPayment, type PayingFetch } from '@stipend/client';
import {
  createTestPaywall,
  createTestRail,
  TEST_USDC,
  type TestRail,
  testAdapter,
  testWallet,
} from '@stipend/testkit/core';
import { startTestServer, type TestServer } from '@stipend/testkit/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  committedMicros,
  type FaultProxy,
  failure,
  failureCode,
  faultyWallet,
  heldMicros,
  ledgerStatuses,
  policyWith,
  startFaultProxy,
} from './faults.test-helpers.js';

const PROOF = 'stipend-test-proof';
let rail: TestRail;
let server: TestServer;
let proxy: FaultProxy;

beforeAll(async () => {
  rail = createTestRail();
  const paywall = createTestPaywall({
    rail,
    routes: {
      '/paid': { offers: [{ amount: 1000n, unit: TEST_USDC }] },
      '/token': { offers: [{ amount: 1000n, unit: TEST_USDC }], reusable: true },
      '/fragile': {
        offers: [{ amount: 1000n, unit: TEST_USDC }],
        respond: () => new Response('crashed after taking the payment', { status: 500 }),
      },
      '/dup': {
        offers: [
          { id: 'same', amount: 1000n, unit: TEST_USDC },
          { id: 'same', amount: 1000n, unit: TEST_USDC },
        ],
      },
      '/timed': {
        // Terms valid for 60 s of server time (set per request below).
        get offers() {
          return [{ amount: 1000n, unit: TEST_USDC, expiresAt: Date.now() + 60_000 }];
        },
      },
    },
  });
  server = await startTestServer(paywall);
  proxy = await startFaultProxy(server.url);
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
});
beforeEach(() => {
  proxy.plan = () => 'forward';
  proxy.forwarded.length = 0;
});

/** Payments on the rail since `from` (index into `rail.payments()`). */
const since = (from: number) => rail.payments().slice(from);
const settled = (from: number) => since(from).filter((p) => p.settled);

function setup(
  options: { settlement?: 'final' | 'authorization'; now?: () => number; reusable?: boolean } = {},
) {
  const inner = testWallet({ rail, settlement: options.settlement ?? 'authorization' });
  const wallet = faultyWallet(inner);
  const payingFetch = createPayingFetch({
    adapters: [testAdapter({ reusable: options.reusable ?? false })],
    wallets: [wallet],
    policy: policyWith('0.01', '1'),
    payTimeoutMs: 300,
    ...(options.now ? { now: options.now } : {}),
  });
  return { payingFetch, wallet, inner };
}

/**
 * The ledger tells the truth about the rail: committed ⇒ settled, released ⇒ not settled, and
 * every settled payment made by this paying fetch is committed or held in the ledger.
 */
async function expectTruthful(payingFetch: PayingFetch, from: number): Promise<void> {
  const records = await payingFetch.ledger.list();
  const payments = since(from);
  for (const record of records) {
    const payment = payments.find((p) => p.reference === record.reference);
    if (record.status === 'committed') expect(payment?.settled, record.id).toBe(true);
    if (record.status === 'released') expect(payment?.settled ?? false, record.id).toBe(false);
    expect(record.status).not.toBe('pending');
  }
  for (const payment of payments.filter((p) => p.settled)) {
    const record = records.find((r) => r.reference === payment.reference);
    const unknownWithoutReference = records.some((r) => r.status === 'held' && !r.reference);
    if (!record)
      expect(unknownWithoutReference, `settled ${payment.reference} is in the ledger`).toBe(true);
    else expect(['committed', 'held']).toContain(record.status);
  }
}

describe('stand-in rail: wallet timeouts', () => {
  it('timeout, then success (final settlement): the late payment is booked and delivered with its proof, never paid again', async () => {
    const from = rail.payments().length;
    const { payingFetch, wallet } = setup({ settlement: 'final' });
    wallet.inject({ kind: 'late-success', delayMs: 600 });
    const key = { payment: { idempotencyKey: 'late-success-1' } };
    expect(await failureCode(payingFetch(`${server.url}paid`, key))).toBe('OUTCOME_UNKNOWN');
    expect(await heldMicros(payingFetch)).toBe(1000n);
    await Promise.all(wallet.late);
    // The late answer was booked (paid, its proof kept): the same purchase is delivered with
    // that proof, never paid a second time.
    const delivered = await payingFetch(`${server.url}paid`, key);
    expect(delivered.status).toBe(200);
    expect(since(from)).toHaveLength(1);
    expect(settled(from)).toHaveLength(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    expect(await failureCode(payingFetch(`${server.url}paid`, key))).toBe('ALREADY_PAID');
    await expectTruthful(payingFetch, from);
  });

  it('timeout, then failure: nothing moves; the same purchase pays at most once later', async () => {
    const from = rail.payments().length;
    const { payingFetch, wallet } = setup();
    wallet.inject({ kind: 'late-failure', delayMs: 600 });
    const key = { payment: { idempotencyKey: 'late-failure-1' } };
    expect(await failureCode(payingFetch(`${server.url}paid`, key))).toBe('OUTCOME_UNKNOWN');
    await Promise.all(wallet.late);
    expect(since(from)).toHaveLength(0);
    const again = await payingFetch(`${server.url}paid`, key).catch((e: unknown) => e);
    expect(settled(from).length).toBeLessThanOrEqual(1);
    if (again instanceof Response) expect(getPayment(again)?.status).toBe('paid');
    await expectTruthful(payingFetch, from);
  });

  it('timeout after paying, reported with its reference: the rail says paid, the retry is delivered with the recovered proof, then ALREADY_PAID', async () => {
    const from = rail.payments().length;
    const { payingFetch, wallet } = setup({ settlement: 'final' });
    wallet.inject({ kind: 'unknown-with-reference' });
    const key = { payment: { idempotencyKey: 'unknown-ref-paid' } };
    const error = await failure(payingFetch(`${server.url}paid`, key));
    expect(error.code).toBe('OUTCOME_UNKNOWN');
    expect(error.resume?.reference).toBe(since(from)[0]?.reference);
    expect(await ledgerStatuses(payingFetch)).toEqual(['held']);
    // The rail says paid and gives the proof back (a preimage by payment hash): delivered.
    expect((await payingFetch(`${server.url}paid`, key)).status).toBe(200);
    // Once the rail has confirmed it, the key is never paid again.
    expect(await failureCode(payingFetch(`${server.url}paid`, key))).toBe('ALREADY_PAID');
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    expect(await heldMicros(payingFetch)).toBe(0n);
    expect(await committedMicros(payingFetch)).toBe(1000n);
    expect(settled(from)).toHaveLength(1);
    await expectTruthful(payingFetch, from);
  });

  it('timeout after signing, authorization never used: voided at expiry, released, then paid once', async () => {
    const from = rail.payments().length;
    const { payingFetch, wallet } = setup();
    wallet.inject({ kind: 'unknown-with-reference' });
    const key = { payment: { idempotencyKey: 'unknown-ref-void' } };
    expect(await failureCode(payingFetch(`${server.url}paid`, key))).toBe('OUTCOME_UNKNOWN');
    // Still unknown on the rail: the same purchase is not paid again.
    expect(await failureCode(payingFetch(`${server.url}paid`, key))).toBe('OUTCOME_UNKNOWN');
    expect(since(from)).toHaveLength(1);
    rail.void(since(from)[0]!.reference);
    const response = await payingFetch(`${server.url}paid`, key);
    expect(response.status).toBe(200);
    expect(await ledgerStatuses(payingFetch)).toEqual(['released', 'committed']);
    expect(since(from)).toHaveLength(2);
    expect(settled(from)).toHaveLength(1);
    await expectTruthful(payingFetch, from);
  });
});

describe('stand-in rail: the server took the payment, the client did not hear it', () => {
  it('lost response after settlement: held, then ALREADY_PAID and committed; paid once', async () => {
    const from = rail.payments().length;
    const { payingFetch } = setup();
    proxy.plan = (req) => (req.headers[PROOF] ? 'lose-response' : 'forward');
    const key = { payment: { idempotencyKey: 'lost-response' } };
    expect(await failureCode(payingFetch(`${proxy.origin}/paid`, key))).toBe('OUTCOME_UNKNOWN');
    expect(await ledgerStatuses(payingFetch)).toEqual(['held']);
    expect(settled(from)).toHaveLength(1);
    proxy.plan = () => 'forward';
    expect(await failureCode(payingFetch(`${proxy.origin}/paid`, key))).toBe('ALREADY_PAID');
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    expect(since(from)).toHaveLength(1);
    await expectTruthful(payingFetch, from);
  });

  it('server 500 after settlement (route handler failed): the rail says paid at once, then ALREADY_PAID', async () => {
    const from = rail.payments().length;
    const { payingFetch } = setup();
    const key = { payment: { idempotencyKey: 'fragile' } };
    const response = await payingFetch(`${server.url}fragile`, key);
    expect(response.status).toBe(500);
    // The rail is asked at once: it says paid, so the purchase is committed (paid, not
    // delivered), never on the server's word.
    expect(getPayment(response)?.status).toBe('rejected');
    expect(getPayment(response)?.error).toMatchObject({ paid: true });
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    expect(await failureCode(payingFetch(`${server.url}fragile`, key))).toBe('ALREADY_PAID');
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    expect(settled(from)).toHaveLength(1);
    await expectTruthful(payingFetch, from);
  });

  it('a proxy answers 500 after the server settled (receipt stripped): the rail says paid, committed at once', async () => {
    const from = rail.payments().length;
    const { payingFetch } = setup();
    proxy.plan = (req) => (req.headers[PROOF] ? { status500: { keepHeaders: false } } : 'forward');
    const key = { payment: { idempotencyKey: 'proxy-500' } };
    const response = await payingFetch(`${proxy.origin}/paid`, key);
    expect(response.status).toBe(500);
    expect(getPayment(response)?.status).toBe('rejected');
    expect(getPayment(response)?.error).toMatchObject({ code: 'PAYMENT_FAILED', paid: true });
    proxy.plan = () => 'forward';
    expect(await failureCode(payingFetch(`${proxy.origin}/paid`, key))).toBe('ALREADY_PAID');
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    expect(settled(from)).toHaveLength(1);
    await expectTruthful(payingFetch, from);
  });
});

describe('stand-in rail: duplicate 402s', () => {
  it('a 402 listing the same offer twice is paid once', async () => {
    const from = rail.payments().length;
    const { payingFetch } = setup();
    const response = await payingFetch(`${server.url}dup`);
    expect(response.status).toBe(200);
    expect(since(from)).toHaveLength(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch, from);
  });

  it('the paid retry answered with the same 402 again (proof never reached the server): held, then released at expiry', async () => {
    let clock = Date.now();
    const from = rail.payments().length;
    const { payingFetch } = setup({ now: () => clock });
    proxy.plan = (req) => (req.headers[PROOF] ? 'replay-402' : 'forward');
    const response = await payingFetch(`${proxy.origin}/paid`);
    expect(response.status).toBe(402);
    expect(getPayment(response)?.status).toBe('unknown');
    expect(proxy.forwarded.filter((r) => r.headers[PROOF])).toHaveLength(0);
    expect(settled(from)).toHaveLength(0);
    // The authorization expires unused (the rail voids it); reconciliation releases it.
    clock += 3_601_000;
    rail.void(since(from)[0]!.reference);
    expect(await payingFetch.reconcile()).toEqual({ committed: 0, released: 1, pending: 0 });
    expect(await ledgerStatuses(payingFetch)).toEqual(['released']);
    expect(await heldMicros(payingFetch, clock)).toBe(0n);
    await expectTruthful(payingFetch, from);
  });
});

describe('stand-in rail: retry storms', () => {
  it('20 concurrent calls for one reusable purchase (same key): one payment, 20 answers', async () => {
    const from = rail.payments().length;
    const { payingFetch } = setup({ reusable: true });
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        payingFetch(`${server.url}token`, { payment: { idempotencyKey: 'storm-reusable' } }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(since(from)).toHaveLength(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch, from);
  });

  it('20 concurrent calls for one purchase (same key, not reusable): one payment, 19 ALREADY_PAID', async () => {
    const from = rail.payments().length;
    const { payingFetch } = setup();
    const key = { payment: { idempotencyKey: 'storm-one-purchase' } };
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => payingFetch(`${server.url}paid`, key)),
    );
    const codes = outcomes.map((o) =>
      o.status === 'fulfilled' ? o.value.status : (o.reason as { code?: string }).code,
    );
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === 'ALREADY_PAID')).toHaveLength(19);
    // The key stays paid: a later call does not pay again either.
    expect(await failureCode(payingFetch(`${server.url}paid`, key))).toBe('ALREADY_PAID');
    expect(since(from)).toHaveLength(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch, from);
  });

  it('40 concurrent separate purchases against a budget for 5: exactly 5 paid, 35 refused', async () => {
    const from = rail.payments().length;
    const tight = createPayingFetch({
      adapters: [testAdapter()],
      wallets: [testWallet({ rail })],
      policy: policyWith('0.01', '0.005'),
    });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        tight(`${server.url}paid`, { payment: { idempotencyKey: `tight-${i}` } }),
      ),
    );
    const paid = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter(
      (o): o is PromiseRejectedResult =>
        o.status === 'rejected' && (o.reason as { code?: string }).code === 'POLICY_DENIED',
    );
    expect(paid).toHaveLength(5);
    expect(refused).toHaveLength(35);
    expect(since(from)).toHaveLength(5);
    expect(settled(from)).toHaveLength(5);
    expect(await committedMicros(tight)).toBe(5000n);
    expect(await ledgerStatuses(tight)).toEqual(Array(5).fill('committed'));
    await expectTruthful(tight, from);
  });
});

describe('stand-in rail: clock skew', () => {
  it('client clock 10 minutes ahead: the terms look expired, nothing is paid (typed error)', async () => {
    const from = rail.payments().length;
    const { payingFetch } = setup({ now: () => Date.now() + 600_000 });
    const error = await payingFetch(`${server.url}timed`).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('POLICY_DENIED');
    expect((error as { reason?: string }).reason).toBe('offer_expired');
    expect(since(from)).toHaveLength(0);
    expect(await ledgerStatuses(payingFetch)).toEqual([]);
  });

  it('client clock 10 minutes behind: paid once, committed', async () => {
    const from = rail.payments().length;
    const { payingFetch } = setup({ now: () => Date.now() - 600_000 });
    const response = await payingFetch(`${server.url}timed`);
    expect(response.status).toBe(200);
    expect(settled(from)).toHaveLength(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch, from);
  });
});
