/**
 * The money safety invariants of ARCHITECTURE.md that the core owns, each pinned here.
 */
import { createTestPaywall, createTestRail, testAdapter, testWallet } from '@stipend/testkit/core';
import { startTestServer, type TestServer } from '@stipend/testkit/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { jsonSafe } from '../errors/base.js';
import {
  ApprovalError,
  createPayingFetch,
  getPayment,
  isStipendError,
  PaymentFailedError,
  PolicyDeniedError,
  type ProtocolAdapter,
} from '../index.js';
import { ORIGIN, setup, usdc, useMsw } from './fixtures.test-helpers.js';

const route = useMsw();
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('invariant 1: nothing is paid that the policy did not approve, for that exact offer', () => {
  it('the wallet pays the very offer object the adapter parsed and the policy decided on', async () => {
    const rail = createTestRail();
    const wallet = testWallet({ rail });
    const inner = testAdapter();
    const parsed: unknown[] = [];
    const recording: ProtocolAdapter = {
      ...inner,
      async parse(input) {
        const offers = await inner.parse(input);
        parsed.push(...offers);
        return offers;
      },
    };
    route(
      createTestPaywall({
        rail,
        routes: { '/two': { offers: [usdc(4000n, { id: 'a' }), usdc(3000n, { id: 'b' })] } },
      }),
    );
    const payingFetch = createPayingFetch({ adapters: [recording], wallets: [wallet] });
    const decided: string[] = [];
    payingFetch.on('decision', (event) => decided.push(event.offer.id));
    const pay = vi.spyOn(wallet, 'pay');
    await payingFetch(`${ORIGIN}/two`);
    expect(decided).toEqual(['b']);
    expect(pay).toHaveBeenCalledTimes(1);
    const paidOffer = pay.mock.calls[0]![0];
    expect(paidOffer).toBe(parsed[1]);
    expect(paidOffer.id).toBe('b');
    expect(Object.isFrozen(paidOffer)).toBe(true);
    expect(Object.isFrozen(paidOffer.raw)).toBe(true);
  });

  it.each([
    ['a per-request cap', { global: { maxPerRequest: { usd: '0.001' } } }, PolicyDeniedError],
    [
      'a deny action',
      { hosts: { 'api.example.com': { action: 'deny' as const } } },
      PolicyDeniedError,
    ],
    ['a protocol list', { global: { protocols: { deny: ['stipend-test'] } } }, PolicyDeniedError],
    ['an ask rule without an approver', { global: { action: 'ask' as const } }, ApprovalError],
  ])('%s pays nothing and throws a typed error', async (_name, policy, type) => {
    const { payingFetch, paywall, wallet, rail } = setup(
      { '/paid': { offers: [usdc(5000n)] } },
      { policy },
    );
    route(paywall);
    const error = await payingFetch(`${ORIGIN}/paid`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect(wallet.calls).toEqual([]);
    expect(rail.payments()).toEqual([]);
    expect(await payingFetch.ledger.list()).toEqual([]);
  });

  it('an approver that says no (or throws) pays nothing and releases the reservation', async () => {
    for (const approver of [
      async () => false,
      async () => Promise.reject(new Error('ui crashed')),
    ]) {
      const { payingFetch, paywall, wallet } = setup(
        { '/paid': { offers: [usdc(5000n)] } },
        {
          approver,
          policy: { global: { action: 'ask', limits: [{ usd: '1', window: { total: true } }] } },
        },
      );
      route(paywall);
      await expect(payingFetch(`${ORIGIN}/paid`)).rejects.toBeInstanceOf(ApprovalError);
      expect(wallet.calls).toEqual([]);
      const usage = await payingFetch.budget.usage(
        { scope: 'global', window: { kind: 'total' } },
        Date.now(),
      );
      expect(usage).toEqual({ committedUsdMicros: 0n, heldUsdMicros: 0n, count: 0 });
    }
  });
});

describe('a proof that cannot be sent', () => {
  it.each([
    ['authorization', 'released', false],
    ['final', 'committed', true],
  ] as const)(
    '%s proof: the record is %s, never left pending',
    async (settlement, status, paid) => {
      const rail = createTestRail();
      const wallet = testWallet({ rail, settlement });
      const inner = testAdapter();
      const broken: ProtocolAdapter = {
        ...inner,
        proofHeaders() {
          throw new Error('cannot encode the proof');
        },
      };
      route(createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } }));
      const payingFetch = createPayingFetch({ adapters: [broken], wallets: [wallet] });
      const error = (await payingFetch(`${ORIGIN}/paid`).catch(
        (e: unknown) => e,
      )) as PaymentFailedError;
      expect(error.code).toBe('PROOF_UNUSABLE');
      expect(error.paid).toBe(paid);
      const [record] = await payingFetch.ledger.list();
      expect(record?.status).toBe(status);
    },
  );
});

describe('invariant 2: one logical request pays at most once', () => {
  it('a 402 after paying is returned with a typed outcome and not paid again', async () => {
    const rail = createTestRail();
    const wallet = testWallet({ rail });
    // A hostile server: answers every request, paid or not, with a fresh challenge.
    let requests = 0;
    route(() => {
      requests++;
      return new Response('pay again', {
        status: 402,
        headers: {
          'stipend-test-challenge': JSON.stringify([
            { id: `loop-${requests}`, amount: '1000', unit: usdc(0n).unit, payee: 'loop' },
          ]),
        },
      });
    });
    const payingFetch = createPayingFetch({ adapters: [testAdapter()], wallets: [wallet] });
    const response = await payingFetch(`${ORIGIN}/loop`);
    expect(response.status).toBe(402);
    expect(requests).toBe(2);
    expect(wallet.calls).toEqual(['loop-1']);
    const outcome = getPayment(response)!;
    expect(outcome.status).toBe('unknown');
    expect(outcome.error).toBeInstanceOf(PaymentFailedError);
    expect(outcome.record.status).toBe('held');
  });

  it("a refused authorization stays held on the seller's word: live until it expires, never released early", async () => {
    const { payingFetch, wallet, rail } = setup({ '/paid': { offers: [usdc(1000n)] } });
    // The paywall runs on a different rail: every proof is unknown to it, and it says so.
    route(
      createTestPaywall({ rail: createTestRail(), routes: { '/paid': { offers: [usdc(1000n)] } } }),
    );
    const response = await payingFetch(`${ORIGIN}/paid`);
    expect(response.status).toBe(402);
    expect(wallet.calls).toHaveLength(1);
    const outcome = getPayment(response)!;
    // The seller still holds a signed authorization it could settle until validUntil.
    expect(outcome).toMatchObject({
      status: 'unknown',
      record: { status: 'held', outcome: 'rejected' },
    });
    expect((outcome.error as PaymentFailedError).paid).toBe('unknown');
    const [purchase] = await payingFetch.purchases.list();
    expect(purchase).toMatchObject({ state: 'live' });
    expect(purchase!.liveUntil).toBeGreaterThan(Date.now());
    const usage = await payingFetch.budget.usage(
      { scope: 'global', window: { kind: 'calendar', unit: 'day' } },
      Date.now(),
    );
    expect(usage.heldUsdMicros).toBe(1000n);
    expect(rail.settledTotal()).toBe(0n);
  });

  it('a final (Lightning-like) payment refused by the server is committed, never paid twice', async () => {
    const { payingFetch, wallet, rail } = setup(
      { '/paid': { offers: [usdc(1000n)] } },
      { settlement: 'final' },
    );
    route(
      createTestPaywall({ rail: createTestRail(), routes: { '/paid': { offers: [usdc(1000n)] } } }),
    );
    const response = await payingFetch(`${ORIGIN}/paid`);
    expect(response.status).toBe(402);
    const outcome = getPayment(response)!;
    expect(outcome.record).toMatchObject({ status: 'committed', committedUsdMicros: 1000n });
    expect((outcome.error as PaymentFailedError).paid).toBe(true);
    expect(wallet.calls).toHaveLength(1);
    expect(rail.settledTotal()).toBe(1000n);
  });
});

describe('invariant 3: concurrent requests never spend more than a budget', () => {
  it('200 concurrent calls against a $0.05 budget commit exactly $0.05', async () => {
    const { payingFetch, paywall, wallet, rail } = setup(
      { '/paid': { offers: [usdc(1000n)] } },
      {
        policy: {
          global: {
            maxPerRequest: { usd: '0.01' },
            limits: [{ usd: '0.05', window: { calendar: 'day' } }],
          },
          hosts: { '*.example.com': { limits: [{ usd: '0.04', window: { rolling: '1h' } }] } },
        },
      },
    );
    route(paywall);
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () => payingFetch(`${ORIGIN}/paid`)),
    );
    const paid = results.filter((r) => r.status === 'fulfilled' && r.value.status === 200);
    const denied = results.filter((r) => r.status === 'rejected');
    // The host limit ($0.04) is the tighter one.
    expect(paid).toHaveLength(40);
    expect(denied).toHaveLength(160);
    for (const r of denied)
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        code: 'POLICY_DENIED',
        reason: 'window_cap',
      });
    expect(wallet.calls).toHaveLength(40);
    expect(rail.settledTotal()).toBe(40_000n);
    const records = await payingFetch.ledger.list();
    const committed = records.reduce((sum, r) => sum + (r.committedUsdMicros ?? 0n), 0n);
    expect(committed).toBe(40_000n);
    const host = await payingFetch.budget.usage(
      { scope: 'host:*.example.com', window: { kind: 'rolling', ms: 3_600_000 } },
      Date.now(),
    );
    expect(host.committedUsdMicros).toBeLessThanOrEqual(40_000n);
    expect(host.heldUsdMicros).toBe(0n);
  });
});

describe('invariant 4: a proof goes only to the origin that issued the challenge', () => {
  it('a cross-origin redirect on the paid retry does not carry the proof', async () => {
    const other = await startTestServer(async (request) =>
      Response.json({
        landed: true,
        proof: request.headers.get('stipend-test-proof'),
        auth: request.headers.get('authorization'),
      }),
    );
    servers.push(other);
    const rail = createTestRail();
    const paying = await startTestServer(
      createTestPaywall({
        rail,
        routes: {
          '/paid': {
            offers: [usdc(1000n)],
            respond: () =>
              new Response(null, { status: 302, headers: { location: `${other.origin}/landing` } }),
          },
        },
      }),
    );
    servers.push(paying);
    const wallet = testWallet({ rail });
    const payingFetch = createPayingFetch({ adapters: [testAdapter()], wallets: [wallet] });
    const response = await payingFetch(`${paying.origin}/paid`, {
      headers: { authorization: 'Bearer app' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ landed: true, proof: null, auth: null });
    expect(getPayment(response)?.status).toBe('paid');
    expect(wallet.calls).toHaveLength(1);
  });

  it('a same-origin redirect keeps the proof', async () => {
    const rail = createTestRail();
    const seen: (string | null)[] = [];
    const paywall = createTestPaywall({
      rail,
      routes: {
        '/paid': {
          offers: [usdc(1000n)],
          respond: () => new Response(null, { status: 307, headers: { location: '/next' } }),
        },
      },
    });
    const server = await startTestServer(async (request) => {
      if (new URL(request.url).pathname === '/next') {
        seen.push(request.headers.get('stipend-test-proof'));
        return new Response('next');
      }
      return paywall(request);
    });
    servers.push(server);
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      wallets: [testWallet({ rail })],
    });
    const response = await payingFetch(`${server.origin}/paid`);
    expect(await response.text()).toBe('next');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^\/paid#0 secret_/);
  });

  it('after a redirect, the challenge is paid to the origin that issued it, and only there', async () => {
    const rail = createTestRail();
    const issuerHits: (string | null)[] = [];
    const paywall = createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } });
    const issuer = await startTestServer(async (request) => {
      issuerHits.push(request.headers.get('stipend-test-proof'));
      return paywall(request);
    });
    servers.push(issuer);
    const firstHits: (string | null)[] = [];
    const first = await startTestServer(async (request) => {
      firstHits.push(request.headers.get('stipend-test-proof'));
      return new Response(null, { status: 302, headers: { location: `${issuer.origin}/paid` } });
    });
    servers.push(first);
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      wallets: [testWallet({ rail })],
    });
    const response = await payingFetch(`${first.origin}/start`);
    expect(response.status).toBe(200);
    expect(firstHits).toEqual([null]);
    expect(issuerHits).toHaveLength(2);
    expect(issuerHits[1]).not.toBeNull();
    expect(getPayment(response)?.record.origin).toBe(issuer.origin);
  });

  it('offers an adapter binds to another origin are dropped before the policy sees them', async () => {
    const rail = createTestRail();
    const wallet = testWallet({ rail });
    const inner = testAdapter();
    const lying: ProtocolAdapter = {
      ...inner,
      async parse(input) {
        const offers = await inner.parse(input);
        return offers.map((offer) =>
          Object.freeze({ ...offer, origin: 'https://evil.example.org' }),
        );
      },
    };
    route(createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } }));
    const payingFetch = createPayingFetch({ adapters: [lying], wallets: [wallet] });
    await expect(payingFetch(`${ORIGIN}/paid`)).rejects.toMatchObject({
      code: 'CHALLENGE_INVALID',
    });
    expect(wallet.calls).toEqual([]);
  });
});

describe('invariant 4b: secrets never appear in records, events or errors', () => {
  it('no proof secret in the ledger, any event, or any error', async () => {
    const { payingFetch, paywall, wallet, rail } = setup({
      '/paid': { offers: [usdc(1000n)] },
      '/dear': { offers: [usdc(5_000_000n)] },
    });
    route(paywall);
    const events: unknown[] = [];
    for (const name of ['challenge', 'decision', 'payment', 'receipt', 'error'] as const) {
      payingFetch.on(name, (event) => events.push({ name, event }));
    }
    const errors: unknown[] = [];
    await payingFetch(`${ORIGIN}/paid`);
    await payingFetch(`${ORIGIN}/dear`).catch((e: unknown) => errors.push(e));
    wallet.injectFault('unknown-after-paying');
    await payingFetch(`${ORIGIN}/paid`, { payment: { idempotencyKey: 'k1' } }).catch((e: unknown) =>
      errors.push(e),
    );
    // A server that refuses the proof, so its error path is covered too.
    route(
      createTestPaywall({ rail: createTestRail(), routes: { '/paid': { offers: [usdc(1000n)] } } }),
    );
    const refused = await payingFetch(`${ORIGIN}/paid`);
    errors.push(getPayment(refused)?.error);

    const secrets = rail.payments().map((p) => p.reference);
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    const secretValues = paywall.hits
      .map((hit) => hit.proof?.split(' ')[1])
      .filter(Boolean) as string[];
    expect(secretValues.length).toBeGreaterThanOrEqual(1);
    const everything = JSON.stringify(
      jsonSafe({
        records: await payingFetch.ledger.list(),
        events,
        errors: errors.map((e) =>
          isStipendError(e)
            ? { json: e.toJSON(), message: e.message, details: e.details }
            : String(e),
        ),
      }),
    );
    expect(errors.filter(isStipendError).length).toBe(3);
    for (const secret of secretValues) expect(everything).not.toContain(secret);
    expect(everything).not.toMatch(/secret_\d+_/);
  });
});

describe('invariant 6: an unknown outcome is reconciled with the rail before paying again', () => {
  it('holds the budget, refuses to pay the same purchase while pending, pays after the rail says failed', async () => {
    const { payingFetch, paywall, wallet, rail } = setup({ '/paid': { offers: [usdc(1000n)] } });
    route(paywall);
    wallet.injectFault('unknown-after-paying');
    const first = (await payingFetch(`${ORIGIN}/paid`).catch(
      (e: unknown) => e,
    )) as PaymentFailedError;
    expect(first).toBeInstanceOf(PaymentFailedError);
    expect(first.paid).toBe('unknown');
    expect(first.resume?.reference).toBe('ref_1');
    const [record] = await payingFetch.ledger.list();
    expect(record).toMatchObject({ status: 'held', reference: 'ref_1' });

    // The authorization is still live on the rail: nothing new is paid.
    const second = (await payingFetch(`${ORIGIN}/paid`).catch(
      (e: unknown) => e,
    )) as PaymentFailedError;
    expect(second.code).toBe('OUTCOME_UNKNOWN');
    expect(wallet.calls).toHaveLength(1);

    // It expires unused: the rail says failed, the hold is released, and the purchase pays.
    rail.void('ref_1');
    const third = await payingFetch(`${ORIGIN}/paid`);
    expect(third.status).toBe(200);
    expect(wallet.calls).toHaveLength(2);
    const records = await payingFetch.ledger.list();
    expect(records.map((r) => r.status)).toEqual(['released', 'committed']);
  });

  it('a payment the rail confirms is delivered with the recovered proof, never bought again', async () => {
    const { payingFetch, paywall, wallet } = setup(
      { '/paid': { offers: [usdc(1000n)] } },
      { settlement: 'final' },
    );
    route(paywall);
    wallet.injectFault('unknown-after-paying');
    await payingFetch(`${ORIGIN}/paid`).catch(() => {});
    const again = await payingFetch(`${ORIGIN}/paid`);
    expect(again.status).toBe(200);
    expect(wallet.calls).toHaveLength(1);
    const [record] = await payingFetch.ledger.list();
    expect(record).toMatchObject({ status: 'committed', committedUsdMicros: 1000n });
    const [purchase] = await payingFetch.purchases.list();
    expect(purchase).toMatchObject({ state: 'delivered', booked: true });
  });

  it('a payment the rail confirms but whose proof cannot be had is never bought again (ALREADY_PAID, resolvable)', async () => {
    const { payingFetch, paywall, wallet } = setup(
      { '/paid': { offers: [usdc(1000n)] } },
      { settlement: 'final' },
    );
    // Without recover(), the paid purchase cannot be delivered here.
    (wallet as { recover?: unknown }).recover = undefined;
    route(paywall);
    wallet.injectFault('unknown-after-paying');
    await payingFetch(`${ORIGIN}/paid`).catch(() => {});
    const again = (await payingFetch(`${ORIGIN}/paid`).catch(
      (e: unknown) => e,
    )) as PaymentFailedError;
    expect(again.code).toBe('ALREADY_PAID');
    expect(again.paid).toBe(true);
    expect(again.message).toContain('reconcile({ resolve');
    expect(wallet.calls).toHaveLength(1);
    const [purchase] = await payingFetch.purchases.list();
    expect(purchase).toMatchObject({ state: 'paid' });
    await payingFetch.reconcile({ resolve: { id: purchase!.id, as: 'delivered' } });
    expect((await payingFetch.purchases.get(purchase!.id))?.state).toBe('delivered');
  });

  it('a wallet that hangs past payTimeoutMs leaves an unknown outcome, held', async () => {
    const { payingFetch, paywall, wallet } = setup(
      { '/paid': { offers: [usdc(1000n)] } },
      { payTimeoutMs: 20 },
    );
    route(paywall);
    wallet.injectFault('hang-after-paying');
    const error = (await payingFetch(`${ORIGIN}/paid`).catch(
      (e: unknown) => e,
    )) as PaymentFailedError;
    expect(error.code).toBe('OUTCOME_UNKNOWN');
    const usage = await payingFetch.budget.usage(
      { scope: 'global', window: { kind: 'calendar', unit: 'day' } },
      Date.now(),
    );
    expect(usage.heldUsdMicros).toBe(1000n);
  });

  it('reconcile() settles held payments whose authorization has expired', async () => {
    let clock = Date.now();
    const { payingFetch, paywall, wallet, rail } = setup(
      { '/paid': { offers: [usdc(1000n)] } },
      { now: () => clock },
    );
    route(paywall);
    wallet.injectFault('unknown-after-paying');
    await payingFetch(`${ORIGIN}/paid`).catch(() => {});
    expect(await payingFetch.reconcile()).toEqual({ committed: 0, released: 0, pending: 1 });
    clock += 3_601_000;
    rail.void('ref_1');
    expect(await payingFetch.reconcile()).toEqual({ committed: 0, released: 1, pending: 0 });
    const [record] = await payingFetch.ledger.list();
    expect(record?.status).toBe('released');
  });
});

describe('invariant 2 with a caller-supplied idempotency key', () => {
  it('concurrent calls with one key pay once; the others are told it is already paid', async () => {
    const { payingFetch, paywall, wallet, rail } = setup({ '/paid': { offers: [usdc(1000n)] } });
    route(paywall);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        payingFetch(`${ORIGIN}/paid`, { payment: { idempotencyKey: 'order-7' } }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled' && r.value.status === 200)).toHaveLength(
      1,
    );
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(refused).toHaveLength(9);
    for (const r of refused) expect(r.reason).toMatchObject({ code: 'ALREADY_PAID', paid: true });
    expect(wallet.calls).toHaveLength(1);
    expect(rail.settledTotal()).toBe(1000n);
    // A different key is a different purchase.
    expect(
      (await payingFetch(`${ORIGIN}/paid`, { payment: { idempotencyKey: 'order-8' } })).status,
    ).toBe(200);
  });

  it('after the rail confirms a held payment, it is delivered once and the key stays paid', async () => {
    const { payingFetch, paywall, wallet } = setup(
      { '/paid': { offers: [usdc(1000n)] } },
      { settlement: 'final' },
    );
    route(paywall);
    wallet.injectFault('unknown-after-paying');
    const call = { payment: { idempotencyKey: 'order-9' } };
    await expect(payingFetch(`${ORIGIN}/paid`, call)).rejects.toMatchObject({
      code: 'OUTCOME_UNKNOWN',
    });
    // The rail confirms it: the purchase is delivered with the proof, once.
    expect((await payingFetch(`${ORIGIN}/paid`, call)).status).toBe(200);
    await expect(payingFetch(`${ORIGIN}/paid`, call)).rejects.toMatchObject({
      code: 'ALREADY_PAID',
    });
    expect(wallet.calls).toHaveLength(1);
  });
});
