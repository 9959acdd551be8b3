/**
 * The purchase lifecycle's rules, one test per review finding of issue 11 that lives in the
 * core (each fails on the request path before the lifecycle). Protocol-specific findings are
 * pinned beside their adapters and wallets; hostile servers in `test/hostile`.
 */
import { createTestPaywall, createTestRail, testAdapter, testWallet } from '@stipend/testkit/core';
import { describe, expect, it } from 'vitest';
import { createMemoryBudgetStore } from '../budget/memory.js';
import type { BudgetStore } from '../budget/store.js';
import { PaymentFailedError } from '../errors/payment.js';
import {
  createMemoryPurchaseJournal,
  createPayingFetch,
  getPayment,
  type Proof,
  type Wallet,
} from '../index.js';
import { ORIGIN, setup, usdc, useMsw } from './fixtures.test-helpers.js';

const route = useMsw();
const DAY = { scope: 'global', window: { kind: 'calendar', unit: 'day' } } as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('money that has left the process stays counted (finding 2, 3)', () => {
  it('upto commits what the wallet signed, never the smaller amount a receipt claims', async () => {
    const rail = createTestRail();
    const base = testAdapter();
    // A seller that claims it settled 1 atomic unit of a 1000-unit authorization.
    const adapter = {
      ...base,
      settle: (...args: Parameters<typeof base.settle>) => {
        const outcome = base.settle(...args) as Awaited<ReturnType<typeof base.settle>>;
        return outcome.kind === 'accepted'
          ? { ...outcome, settled: { value: 1n, unit: args[0].amount.unit } }
          : outcome;
      },
    };
    const payingFetch = createPayingFetch({
      adapters: [adapter],
      defaultAdapters: false,
      wallets: [testWallet({ rail })],
    });
    route(createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } }));
    expect((await payingFetch(`${ORIGIN}/paid`)).status).toBe(200);
    const [record] = await payingFetch.ledger.list();
    expect(record?.committedUsdMicros).toBe(1000n);
    expect((await payingFetch.budget.usage(DAY, Date.now())).committedUsdMicros).toBe(1000n);
  });
});

describe('one lock per purchase key covers every path that can pay (finding 4)', () => {
  it('pre-authorization takes the idempotency lock: one key pays once, at once or one after the other', async () => {
    const rail = createTestRail();
    const wallet = testWallet({ rail });
    const payingFetch = createPayingFetch({
      adapters: [testAdapter({ preauthorize: true })],
      defaultAdapters: false,
      wallets: [wallet],
      preauthorize: true,
    });
    route(
      createTestPaywall({ rail, routes: { '/data': { offers: [usdc(1000n, { id: 'v1' })] } } }),
    );
    await payingFetch(`${ORIGIN}/data`);
    const call = { payment: { idempotencyKey: 'order-preauth' } };
    const results = await Promise.allSettled([
      payingFetch(`${ORIGIN}/data`, call),
      payingFetch(`${ORIGIN}/data`, call),
      payingFetch(`${ORIGIN}/data`, call),
    ]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'rejected') expect(result.reason.code).toBe('ALREADY_PAID');
    }
    await expect(payingFetch(`${ORIGIN}/data`, call)).rejects.toMatchObject({
      code: 'ALREADY_PAID',
    });
    expect(wallet.calls).toEqual(['v1', 'v1']);
  });
});

describe('approvals are claimed atomically before anything is signed (finding 5)', () => {
  it('concurrent calls that resume one approved approval pay once, even when canPay awaits I/O', async () => {
    const rail = createTestRail();
    const base = testWallet({ rail });
    const wallet: Wallet = {
      ...base,
      canPay: async (offer) => {
        await sleep(5); // an allowance read, say
        return base.canPay(offer);
      },
    };
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      defaultAdapters: false,
      wallets: [wallet],
      policy: { global: { approveAbove: '0.0001' } },
      approvals: { mode: 'pending' },
    });
    route(createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } }));
    const waiting = await payingFetch(`${ORIGIN}/paid`);
    expect(waiting.status).toBe(202);
    const [approval] = await payingFetch.approvals.list();
    await payingFetch.approvals.approve(approval!.id);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => payingFetch(`${ORIGIN}/paid`)),
    );
    expect(results.filter((response) => response.status === 200)).toHaveLength(1);
    expect(base.calls).toHaveLength(1);
    expect(rail.settledTotal()).toBe(1000n);
  });
});

describe("a child shares its parent's purchases (finding 6)", () => {
  it('a key its parent paid is not paid again by the child', async () => {
    const { payingFetch, paywall, wallet } = setup({ '/paid': { offers: [usdc(1000n)] } });
    route(paywall);
    const call = { payment: { idempotencyKey: 'order-family' } };
    expect((await payingFetch(`${ORIGIN}/paid`, call)).status).toBe(200);
    const child = payingFetch.child({ name: 'sub', maxPerRequest: { usd: '0.50' } });
    await expect(child(`${ORIGIN}/paid`, call)).rejects.toMatchObject({ code: 'ALREADY_PAID' });
    expect(wallet.calls).toHaveLength(1);
  });

  it("the parent's unknown outcome stops the child too", async () => {
    const { payingFetch, paywall, wallet } = setup({ '/paid': { offers: [usdc(1000n)] } });
    route(paywall);
    wallet.injectFault('unknown-without-paying');
    await payingFetch(`${ORIGIN}/paid`).catch(() => {});
    const child = payingFetch.child({ name: 'sub' });
    await expect(child(`${ORIGIN}/paid`)).rejects.toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(wallet.calls).toHaveLength(1);
  });

  it("a child never pays on its parent's approval outside its own cap", async () => {
    const rail = createTestRail();
    const wallet = testWallet({ rail });
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      defaultAdapters: false,
      wallets: [wallet],
      policy: { global: { approveAbove: '0.0001' } },
      approvals: { mode: 'pending' },
    });
    route(createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(5000n)] } } }));
    const call = { payment: { idempotencyKey: 'order-approved' } };
    expect((await payingFetch(`${ORIGIN}/paid`, call)).status).toBe(202);
    const [approval] = await payingFetch.approvals.list();
    await payingFetch.approvals.approve(approval!.id);
    // The child may spend at most $0.001 per request: the parent's approval is not its to use.
    const child = payingFetch.child({ name: 'small', maxPerRequest: { usd: '0.001' } });
    await expect(child(`${ORIGIN}/paid`, call)).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    expect(wallet.calls).toEqual([]);
    // The parent still can.
    expect((await payingFetch(`${ORIGIN}/paid`, call)).status).toBe(200);
  });
});

describe('late wallet answers are booked, never dropped (finding 9)', () => {
  function lateWallet(settlement: 'final' | 'authorization', delayMs: number) {
    const rail = createTestRail();
    const base = testWallet({ rail, settlement });
    const signals: AbortSignal[] = [];
    const wallet: Wallet = {
      ...base,
      async pay(offer, context) {
        if (context.signal) signals.push(context.signal);
        const proof = await base.pay(offer, context);
        // Only the first payment is late.
        if (signals.length === 1) await sleep(delayMs);
        return proof as Proof;
      },
    };
    return { rail, wallet, base, signals };
  }

  it('the wallet is told to stop at its deadline, and a late final payment is delivered on the next call', async () => {
    const { rail, wallet, base, signals } = lateWallet('final', 80);
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      defaultAdapters: false,
      wallets: [wallet],
      payTimeoutMs: 20,
    });
    route(createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } }));
    const first = (await payingFetch(`${ORIGIN}/paid`).catch(
      (e: unknown) => e,
    )) as PaymentFailedError;
    expect(first.code).toBe('OUTCOME_UNKNOWN');
    expect(signals[0]?.aborted).toBe(true);
    await sleep(120);
    // The late answer was booked: paid (committed), its proof kept.
    const [purchase] = await payingFetch.purchases.list();
    expect(purchase).toMatchObject({ state: 'paid', booked: true });
    const again = await payingFetch(`${ORIGIN}/paid`);
    expect(again.status).toBe(200);
    expect(base.calls).toHaveLength(1);
    expect((await payingFetch.budget.usage(DAY, Date.now())).committedUsdMicros).toBe(1000n);
    expect((await payingFetch.budget.usage(DAY, Date.now())).heldUsdMicros).toBe(0n);
  });

  it('a late authorization that never left the process is void and its budget released', async () => {
    const { rail, wallet, base } = lateWallet('authorization', 60);
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      defaultAdapters: false,
      wallets: [wallet],
      payTimeoutMs: 20,
    });
    route(createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } }));
    await payingFetch(`${ORIGIN}/paid`).catch(() => {});
    await sleep(100);
    const [purchase] = await payingFetch.purchases.list();
    expect(purchase).toMatchObject({ state: 'void' });
    expect((await payingFetch.budget.usage(DAY, Date.now())).heldUsdMicros).toBe(0n);
    // And the next call pays normally.
    expect((await payingFetch(`${ORIGIN}/paid`)).status).toBe(200);
    expect(base.calls).toHaveLength(2);
  });
});

describe('every request has a deadline; every call ends (finding 11)', () => {
  it('a seller that accepts and never answers ends the call with TIMEOUT', async () => {
    const payingFetch = createPayingFetch({
      wallets: [],
      timeoutMs: 50,
      fetch: (() => new Promise<Response>(() => {})) as typeof fetch,
    });
    const started = Date.now();
    await expect(payingFetch(`${ORIGIN}/hang`)).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a per-call timeoutMs overrides the default', async () => {
    const payingFetch = createPayingFetch({
      wallets: [],
      timeoutMs: 60_000,
      fetch: (() => new Promise<Response>(() => {})) as typeof fetch,
    });
    await expect(
      payingFetch(`${ORIGIN}/hang`, { payment: { timeoutMs: 30 } }),
    ).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});

describe('records, events and errors carry no secrets (finding 18)', () => {
  it('query strings are redacted in records, purchase keys and events', async () => {
    const { payingFetch, paywall } = setup({ '/paid': { offers: [usdc(1000n)] } });
    route(paywall);
    const seen: string[] = [];
    for (const name of ['challenge', 'decision', 'payment', 'receipt'] as const) {
      payingFetch.on(name, (event) =>
        seen.push(JSON.stringify(event, (_, v) => (typeof v === 'bigint' ? `${v}` : v))),
      );
    }
    const response = await payingFetch(`${ORIGIN}/paid?api_key=s3cret-token`);
    expect(response.status).toBe(200);
    const text = JSON.stringify(
      [await payingFetch.ledger.list(), await payingFetch.purchases.list()],
      (_, v) => (typeof v === 'bigint' ? `${v}` : v),
    );
    expect(text).not.toContain('s3cret-token');
    expect(seen.join('\n')).not.toContain('s3cret-token');
    expect(seen.length).toBeGreaterThan(3);
  });
});

describe('a store failure after payment never pays twice (finding 20)', () => {
  function flakyBudget(): BudgetStore & { failCommits: number } {
    const inner = createMemoryBudgetStore();
    const store = {
      ...inner,
      failCommits: 0,
      async commit(id: string, usd: bigint) {
        if (store.failCommits > 0) {
          store.failCommits--;
          throw new Error('STORE_UNAVAILABLE: connection reset');
        }
        return inner.commit(id, usd);
      },
    };
    return store;
  }

  it('reports paid: true with the resource, keeps the key paid, and reconcile books it later', async () => {
    const budget = flakyBudget();
    const { payingFetch, paywall, wallet } = setup(
      { '/paid': { offers: [usdc(1000n)] } },
      { budget },
    );
    route(paywall);
    budget.failCommits = 1;
    const call = { payment: { idempotencyKey: 'order-store' } };
    const error = (await payingFetch(`${ORIGIN}/paid`, call).catch(
      (e: unknown) => e,
    )) as PaymentFailedError & {
      response?: Response;
    };
    expect(error).toBeInstanceOf(PaymentFailedError);
    expect(error.code).toBe('BOOKING_FAILED');
    expect(error.paid).toBe(true);
    expect(error.response?.status).toBe(200);
    await expect(payingFetch(`${ORIGIN}/paid`, call)).rejects.toMatchObject({
      code: 'ALREADY_PAID',
    });
    expect(wallet.calls).toHaveLength(1);
    const result = await payingFetch.reconcile();
    expect(result.committed).toBe(1);
    expect((await budget.usage(DAY, Date.now())).committedUsdMicros).toBe(1000n);
    expect((await payingFetch.ledger.list())[0]?.status).toBe('committed');
  });

  it('an idempotency key holds across paying fetches that share a journal (other processes)', async () => {
    const journal = createMemoryPurchaseJournal();
    const budget = createMemoryBudgetStore();
    const rail = createTestRail();
    route(createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } }));
    const make = () => {
      const wallet = testWallet({ rail });
      return {
        wallet,
        payingFetch: createPayingFetch({
          adapters: [testAdapter()],
          defaultAdapters: false,
          wallets: [wallet],
          journal,
          budget,
        }),
      };
    };
    const a = make();
    const b = make();
    const call = { payment: { idempotencyKey: 'order-fleet' } };
    expect((await a.payingFetch(`${ORIGIN}/paid`, call)).status).toBe(200);
    await expect(b.payingFetch(`${ORIGIN}/paid`, call)).rejects.toMatchObject({
      code: 'ALREADY_PAID',
    });
    expect(b.wallet.calls).toEqual([]);
  });
});

describe('orphans of crashed processes are settled from the shared journal (finding 21)', () => {
  it('a purchase opened by a dead process is voided when nothing was signed, and its budget released', async () => {
    const journal = createMemoryPurchaseJournal();
    const budget = createMemoryBudgetStore();
    const reserved = await budget.reserve({
      id: 'r_dead',
      limits: [{ ...DAY, maxUsdMicros: 10_000n }],
      usdMicros: 1000n,
      now: Date.now(),
      expiresAt: Date.now() + 60_000,
    });
    expect(reserved.ok).toBe(true);
    await journal.open({
      id: 's_dead',
      key: 'order-dead',
      exclusive: true,
      state: 'decided',
      booked: true,
      reservationId: 'r_dead',
      walletId: 'test-wallet',
      offerId: 'o',
      protocol: 'stipend-test',
      scheme: 'charge',
      origin: ORIGIN,
      resource: `${ORIGIN}/paid`,
      payee: 'test-merchant',
      amount: { value: '1000', unit: 'token' },
      owner: 'p_dead',
      createdAt: 0,
      updatedAt: 0,
    });
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      defaultAdapters: false,
      wallets: [testWallet({ rail: createTestRail() })],
      journal,
      budget,
      ledger: { append() {}, update() {}, list: () => [] },
    });
    const result = await payingFetch.reconcile();
    expect(result.released).toBe(1);
    expect((await journal.get('s_dead'))?.state).toBe('void');
    expect((await budget.get('r_dead'))?.state).toBe('released');
  });

  it('an orphan whose payment the rail confirms is counted as paid, not released', async () => {
    const journal = createMemoryPurchaseJournal();
    const budget = createMemoryBudgetStore();
    const rail = createTestRail();
    const { reference } = rail.pay({
      offerId: 'o',
      amount: 1000n,
      payee: 'm',
      settlement: 'final',
    });
    await budget.reserve({
      id: 'r_paid',
      limits: [{ ...DAY, maxUsdMicros: 10_000n }],
      usdMicros: 1000n,
      now: Date.now(),
      expiresAt: Date.now() + 60_000,
    });
    await journal.open({
      id: 's_paid',
      key: 'GET https://api.example.com/x',
      exclusive: false,
      state: 'decided',
      booked: true,
      reservationId: 'r_paid',
      walletId: 'test-wallet',
      offerId: 'o',
      protocol: 'stipend-test',
      scheme: 'charge',
      origin: ORIGIN,
      resource: `${ORIGIN}/x`,
      payee: 'm',
      amount: { value: '1000', unit: 'token' },
      owner: 'p_dead',
      createdAt: 0,
      updatedAt: 0,
    });
    await journal.transition('s_paid', ['decided'], 'authorizing', { reference }, 0);
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      defaultAdapters: false,
      wallets: [testWallet({ rail })],
      journal,
      budget,
      ledger: { append() {}, update() {}, list: () => [] },
    });
    const result = await payingFetch.reconcile();
    expect(result.committed).toBe(1);
    expect((await journal.get('s_paid'))?.state).toBe('paid');
    expect((await budget.get('r_paid'))?.state).toBe('committed');
  });
});

describe('the paid retry carries only what fetch would send there (finding 7)', () => {
  it('a redirect to another origin before the 402: no app Authorization or Cookie reaches it', async () => {
    const rail = createTestRail();
    const other = createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } });
    route((request) => {
      const url = new URL(request.url);
      if (url.hostname === 'api.example.com')
        return new Response(null, {
          status: 302,
          headers: { location: 'https://pay.example.org/paid' },
        });
      return other(request);
    });
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      defaultAdapters: false,
      wallets: [testWallet({ rail })],
    });
    const response = await payingFetch(`${ORIGIN}/start`, {
      headers: {
        authorization: 'Bearer app-secret',
        cookie: 'session=app-cookie',
        'x-app': 'kept',
      },
    });
    expect(response.status).toBe(200);
    const paid = other.hits.find((hit) => hit.proof);
    expect(paid).toBeDefined();
    expect(paid!.headers.authorization).toBeUndefined();
    expect(paid!.headers.cookie).toBeUndefined();
    expect(paid!.headers['x-app']).toBe('kept');
    expect(getPayment(response)?.record.origin).toBe('https://pay.example.org');
  });

  it('a redirected POST answered by a 402 is refused with REDIRECTED_CHALLENGE, nothing paid', async () => {
    const rail = createTestRail();
    const wallet = testWallet({ rail });
    const other = createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } });
    route((request) => {
      const url = new URL(request.url);
      if (url.hostname === 'api.example.com')
        return new Response(null, {
          status: 303,
          headers: { location: 'https://pay.example.org/paid' },
        });
      return other(request);
    });
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      defaultAdapters: false,
      wallets: [wallet],
    });
    await expect(
      payingFetch(`${ORIGIN}/start`, { method: 'POST', body: 'order' }),
    ).rejects.toMatchObject({ code: 'REDIRECTED_CHALLENGE' });
    expect(wallet.calls).toEqual([]);
  });
});

describe('adapters merge with the defaults (issue 13)', () => {
  it('passing one adapter keeps the other protocols on; defaultAdapters: false turns them off', async () => {
    // An L402 challenge: only the default L402 adapter reads it.
    const l402 = () =>
      new Response('pay', {
        status: 402,
        headers: {
          'www-authenticate': 'L402 macaroon="AgEBbm90LWEtbWFjYXJvb24", invoice="lnbc1junk"',
        },
      });
    const merged = createPayingFetch({
      wallets: [],
      adapters: [testAdapter()],
      fetch: async () => l402(),
    });
    const only = createPayingFetch({
      wallets: [],
      adapters: [testAdapter()],
      defaultAdapters: false,
      fetch: async () => l402(),
    });
    const seen: string[] = [];
    merged.on('challenge', () => seen.push('merged'));
    only.on('challenge', () => seen.push('only'));
    await merged(`${ORIGIN}/l402`).catch(() => {});
    expect((await only(`${ORIGIN}/l402`)).status).toBe(402);
    expect(seen).toEqual(['merged']);
  });
});

describe('no decision on instanceof across package copies (finding 15)', () => {
  it('a wallet error from another copy of the package keeps its reference and what it says about money', async () => {
    const rail = createTestRail();
    const base = testWallet({ rail, settlement: 'final' });
    // What a second copy of @stipend/client throws: same shape and brand, another class.
    class ForeignWalletError extends Error {
      readonly code = 'WALLET_ERROR';
      readonly paid = 'unknown' as const;
      constructor(readonly reference: string) {
        super('timed out after paying');
      }
    }
    const wallet: Wallet = {
      ...base,
      async pay(offer, context) {
        const proof = await base.pay(offer, context);
        throw new ForeignWalletError(proof.reference);
      },
    };
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      defaultAdapters: false,
      wallets: [wallet],
    });
    route(createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } }));
    const error = (await payingFetch(`${ORIGIN}/paid`).catch(
      (e: unknown) => e,
    )) as PaymentFailedError;
    expect(error.code).toBe('OUTCOME_UNKNOWN');
    expect(error.paid).toBe('unknown');
    const [record] = await payingFetch.ledger.list();
    expect(record?.reference).toMatch(/^ref_/);
    expect(record?.status).toBe('held');
  });
});

describe('a held purchase nobody can reconcile is visible and resolvable (finding 16)', () => {
  it('an unknown outcome with no rail lookup is listed, blocks its key, and a person resolves it', async () => {
    const rail = createTestRail();
    const base = testWallet({ rail });
    // A wallet that cannot look anything up (like a declined card it cannot ask about).
    const wallet: Wallet = { ...base, lookup: undefined, recover: undefined };
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      defaultAdapters: false,
      wallets: [wallet],
    });
    route(createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } }));
    base.injectFault('unknown-without-paying');
    await payingFetch(`${ORIGIN}/paid`).catch(() => {});
    const held = await payingFetch.purchases.list({ states: ['unknown'] });
    expect(held).toHaveLength(1);
    const blocked = (await payingFetch(`${ORIGIN}/paid`).catch(
      (e: unknown) => e,
    )) as PaymentFailedError;
    expect(blocked.code).toBe('OUTCOME_UNKNOWN');
    expect(blocked.message).toContain(`resolve: { id: "${held[0]!.id}"`);
    const result = await payingFetch.reconcile({ resolve: { id: held[0]!.id, as: 'void' } });
    expect(result.released).toBe(1);
    expect((await payingFetch.budget.usage(DAY, Date.now())).heldUsdMicros).toBe(0n);
    expect((await payingFetch(`${ORIGIN}/paid`)).status).toBe(200);
  });
});
