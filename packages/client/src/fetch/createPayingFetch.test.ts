import { createTestPaywall, createTestRail, testAdapter, testWallet } from '@stipend/testkit/core';
import { describe, expect, it, vi } from 'vitest';
import {
  ApprovalError,
  type ApprovalRequest,
  ChallengeParseError,
  createPayingFetch,
  getPayment,
  type PaymentEvents,
  PaymentFailedError,
  PolicyDeniedError,
} from '../index.js';
import { ORIGIN, setup, usdc, useMsw } from './fixtures.test-helpers.js';

const route = useMsw();

describe('createPayingFetch: pass-through', () => {
  it('returns a non-402 response untouched (the very object, status, headers, stream)', async () => {
    const original = new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('chunk-1,'));
          controller.enqueue(new TextEncoder().encode('chunk-2'));
          controller.close();
        },
      }),
      { status: 201, headers: { 'x-kept': 'yes' } },
    );
    const underlying = vi.fn(async () => original);
    const { payingFetch, wallet } = setup({}, { fetch: underlying as unknown as typeof fetch });
    const response = await payingFetch(`${ORIGIN}/free`, { headers: { a: '1' } });
    expect(response).toBe(original);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-kept')).toBe('yes');
    expect(await response.text()).toBe('chunk-1,chunk-2');
    expect(underlying).toHaveBeenCalledTimes(1);
    // The caller's own init, untouched: the first send's deadline ends the call without an
    // AbortSignal of ours (one costs more than the rest of a pass-through).
    expect(underlying.mock.calls[0]).toEqual([`${ORIGIN}/free`, { headers: { a: '1' } }]);
    expect((underlying.mock.calls[0] as unknown[])[1]).not.toHaveProperty('signal');
    expect(wallet.calls).toEqual([]);
    expect(getPayment(response)).toBeUndefined();
  });

  it('resolves globalThis.fetch at call time when no fetch is configured', async () => {
    const { payingFetch } = setup({});
    const saved = globalThis.fetch;
    const late = vi.fn(async () => new Response('late'));
    globalThis.fetch = late as unknown as typeof fetch;
    try {
      expect(await (await payingFetch(`${ORIGIN}/x`)).text()).toBe('late');
      expect(late).toHaveBeenCalledTimes(1);
    } finally {
      globalThis.fetch = saved;
    }
  });

  it('returns a 402 untouched when no adapter understands it', async () => {
    route(() => new Response('pay me somehow', { status: 402 }));
    const { payingFetch, wallet } = setup({});
    const response = await payingFetch(`${ORIGIN}/odd`);
    expect(response.status).toBe(402);
    expect(await response.text()).toBe('pay me somehow');
    expect(wallet.calls).toEqual([]);
  });

  it('never pays a 401, with or without a challenge of another scheme', async () => {
    const { payingFetch, wallet } = setup({});
    route(
      () =>
        new Response('no', { status: 401, headers: { 'www-authenticate': 'Bearer realm="x"' } }),
    );
    expect((await payingFetch(`${ORIGIN}/a`)).status).toBe(401);
    route(() => new Response('no', { status: 401 }));
    expect((await payingFetch(`${ORIGIN}/b`)).status).toBe(401);
    expect(wallet.calls).toEqual([]);
  });

  it('rawFetch never pays', async () => {
    const { payingFetch, paywall, wallet } = setup({ '/paid': { offers: [usdc(1000n)] } });
    route(paywall);
    const response = await payingFetch.rawFetch(`${ORIGIN}/paid`);
    expect(response.status).toBe(402);
    expect(wallet.calls).toEqual([]);
  });

  it('payment.pay = false returns the 402 without paying', async () => {
    const { payingFetch, paywall, wallet } = setup({ '/paid': { offers: [usdc(1000n)] } });
    route(paywall);
    const response = await payingFetch(`${ORIGIN}/paid`, { payment: { pay: false } });
    expect(response.status).toBe(402);
    expect(wallet.calls).toEqual([]);
  });
});

describe('createPayingFetch: paying', () => {
  it('pays a 402 once, retries with the proof and attaches the outcome', async () => {
    const { payingFetch, paywall, wallet, rail } = setup({ '/paid': { offers: [usdc(1000n)] } });
    route(paywall);
    const response = await payingFetch(`${ORIGIN}/paid`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ paid: true, path: '/paid' });
    expect(wallet.calls).toEqual(['/paid#0']);
    expect(rail.settledTotal()).toBe(1000n);
    const payment = getPayment(response)!;
    expect(payment.status).toBe('paid');
    expect(payment.record).toMatchObject({
      status: 'committed',
      outcome: 'accepted',
      committedUsdMicros: 1000n,
      reservedUsdMicros: 1000n,
      origin: ORIGIN,
      payee: 'test-merchant',
      receiptReference: 'receipt-/paid#0',
    });
    expect(payment.receipt?.reference).toBe('receipt-/paid#0');
    expect(paywall.hits.map((hit) => [hit.status, hit.proof !== null])).toEqual([
      [402, false],
      [200, true],
    ]);
  });

  it('chooses the cheapest allowed offer, not the first', async () => {
    const { payingFetch, paywall, wallet } = setup({
      '/two': { offers: [usdc(5000n, { id: 'dear' }), usdc(2000n, { id: 'cheap' })] },
    });
    route(paywall);
    const response = await payingFetch(`${ORIGIN}/two`);
    expect(response.status).toBe(200);
    expect(wallet.calls).toEqual(['cheap']);
  });

  it('skips an offer the policy refuses and pays the allowed one', async () => {
    const { payingFetch, paywall, wallet } = setup(
      {
        '/two': {
          offers: [usdc(1000n, { id: 'bad', payee: 'mallory' }), usdc(3000n, { id: 'ok' })],
        },
      },
      { policy: { global: { payees: { deny: ['mallory'] } } } },
    );
    route(paywall);
    expect((await payingFetch(`${ORIGIN}/two`)).status).toBe(200);
    expect(wallet.calls).toEqual(['ok']);
  });

  it('fails closed without a policy: $0.10 per request', async () => {
    const rail = createTestRail();
    const wallet = testWallet({ rail });
    const payingFetch = createPayingFetch({ adapters: [testAdapter()], wallets: [wallet] });
    route(
      createTestPaywall({
        rail,
        routes: { '/dear': { offers: [usdc(200_000n)] }, '/fine': { offers: [usdc(50_000n)] } },
      }),
    );
    const denied = await payingFetch(`${ORIGIN}/dear`).catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(PolicyDeniedError);
    expect((denied as PolicyDeniedError).reason).toBe('per_request_cap');
    expect((await payingFetch(`${ORIGIN}/fine`)).status).toBe(200);
    expect(wallet.calls).toEqual(['/fine#0']);
  });

  it('asks the approver above the threshold and pays only on yes', async () => {
    const approver = vi.fn(async (_request: ApprovalRequest) => true);
    const { payingFetch, paywall, wallet } = setup(
      { '/paid': { offers: [usdc(30_000n)] } },
      {
        approver,
        policy: {
          global: { approveAbove: '0.02', limits: [{ usd: '1', window: { calendar: 'day' } }] },
        },
      },
    );
    route(paywall);
    expect((await payingFetch(`${ORIGIN}/paid`)).status).toBe(200);
    expect(approver).toHaveBeenCalledTimes(1);
    expect(approver.mock.calls[0]![0]).toMatchObject({
      origin: ORIGIN,
      usdMicros: 30_000n,
      why: 'above_threshold',
    });
    approver.mockResolvedValueOnce(false);
    const error = await payingFetch(`${ORIGIN}/paid`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApprovalError);
    expect(wallet.calls).toHaveLength(1);
    const usage = await payingFetch.budget.usage(
      { scope: 'global', window: { kind: 'calendar', unit: 'day' } },
      Date.now(),
    );
    expect(usage).toEqual({ committedUsdMicros: 30_000n, heldUsdMicros: 0n, count: 1 });
  });

  it('throws a ChallengeParseError for a malformed challenge and pays nothing', async () => {
    const { payingFetch, wallet } = setup({});
    route(
      () =>
        new Response('', {
          status: 402,
          headers: { 'stipend-test-challenge': '[{"id":"x","amount":"1e3"}]' },
        }),
    );
    const error = await payingFetch(`${ORIGIN}/bad`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChallengeParseError);
    expect((error as ChallengeParseError).code).toBe('CHALLENGE_INVALID');
    expect(wallet.calls).toEqual([]);
  });

  it('refuses to pay over plain http except on loopback', async () => {
    const { payingFetch, paywall, wallet } = setup({ '/paid': { offers: [usdc(1000n)] } });
    route(paywall);
    const error = await payingFetch('http://api.example.com/paid').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INSECURE_TRANSPORT' });
    expect(wallet.calls).toEqual([]);
  });

  it('emits typed events and stops after unsubscribe', async () => {
    const { payingFetch, paywall } = setup({ '/paid': { offers: [usdc(1000n)] } });
    route(paywall);
    const seen: string[] = [];
    const offs = (['challenge', 'decision', 'payment', 'receipt', 'error'] as const).map((name) =>
      payingFetch.on(name, (event: PaymentEvents[typeof name]) => {
        seen.push(name);
        expect(event.url).toBe(`${ORIGIN}/paid`);
      }),
    );
    await payingFetch(`${ORIGIN}/paid`);
    expect(seen).toEqual(['challenge', 'decision', 'payment', 'receipt']);
    for (const off of offs) off();
    await payingFetch(`${ORIGIN}/paid`);
    expect(seen).toHaveLength(4);
  });

  it('a throwing listener does not break the payment', async () => {
    const { payingFetch, paywall } = setup({ '/paid': { offers: [usdc(1000n)] } });
    route(paywall);
    payingFetch.on('decision', () => {
      throw new Error('listener bug');
    });
    expect((await payingFetch(`${ORIGIN}/paid`)).status).toBe(200);
  });

  it('a wallet failure before paying releases the budget and says paid: false', async () => {
    const { payingFetch, paywall, wallet } = setup({ '/paid': { offers: [usdc(1000n)] } });
    route(paywall);
    wallet.injectFault('fail');
    const error = (await payingFetch(`${ORIGIN}/paid`).catch(
      (e: unknown) => e,
    )) as PaymentFailedError;
    expect(error).toBeInstanceOf(PaymentFailedError);
    expect(error.paid).toBe(false);
    const [record] = await payingFetch.ledger.list();
    expect(record).toMatchObject({ status: 'released', outcome: 'wallet_failed' });
    const usage = await payingFetch.budget.usage(
      { scope: 'global', window: { kind: 'calendar', unit: 'day' } },
      Date.now(),
    );
    expect(usage.heldUsdMicros + usage.committedUsdMicros).toBe(0n);
  });
});

describe('polyfill / restore', () => {
  it('installs idempotently, sends through the fetch it replaced, and restores it', async () => {
    const saved = globalThis.fetch;
    const base = vi.fn(async () => new Response('base'));
    globalThis.fetch = base as unknown as typeof fetch;
    try {
      const { payingFetch } = setup({});
      payingFetch.polyfill();
      payingFetch.polyfill();
      expect(globalThis.fetch).toBe(payingFetch);
      expect(await (await fetch(`${ORIGIN}/x`)).text()).toBe('base');
      expect(base).toHaveBeenCalledTimes(1);
      expect(payingFetch.restore()).toBe(true);
      expect(globalThis.fetch).toBe(base);
      expect(payingFetch.restore()).toBe(true);
      expect(globalThis.fetch).toBe(base);
    } finally {
      globalThis.fetch = saved;
    }
  });

  it('never clobbers a fetch that someone else installed after us', async () => {
    const saved = globalThis.fetch;
    try {
      const { payingFetch } = setup({});
      payingFetch.polyfill();
      const other = (async (...args: Parameters<typeof fetch>) =>
        payingFetch(...args)) as typeof fetch;
      globalThis.fetch = other;
      expect(payingFetch.restore()).toBe(false);
      expect(globalThis.fetch).toBe(other);
      payingFetch.polyfill();
      expect(globalThis.fetch).toBe(other);
      globalThis.fetch = payingFetch;
      expect(payingFetch.restore()).toBe(true);
      expect(globalThis.fetch).toBe(saved);
    } finally {
      globalThis.fetch = saved;
    }
  });
});

describe('402s that are not payment challenges', () => {
  it('a JSON 402 from an API that speaks no payment protocol is returned untouched', async () => {
    route(() => Response.json({ error: 'quota exceeded, upgrade your plan' }, { status: 402 }));
    const { wallet } = setup({});
    const payingFetch = createPayingFetch({ wallets: [wallet] }); // the default adapters
    const response = await payingFetch(`${ORIGIN}/quota`);
    expect(response.status).toBe(402);
    expect(await response.json()).toEqual({ error: 'quota exceeded, upgrade your plan' });
    expect(wallet.calls).toEqual([]);
  });
});

describe('what is committed', () => {
  it('a wallet that knows what it paid (amount + fee) commits that, not the whole reservation', async () => {
    const rail = createTestRail();
    const inner = testWallet({ rail, settlement: 'final' });
    const wallet = {
      ...inner,
      async pay(...args: Parameters<typeof inner.pay>) {
        const proof = await inner.pay(...args);
        const unit = args[0].amount.unit;
        return { ...proof, paid: { value: 1000n, unit }, fee: { value: 20n, unit } };
      },
    };
    route(
      createTestPaywall({ rail, routes: { '/ln': { offers: [usdc(1000n, { maxFee: 500n })] } } }),
    );
    const payingFetch = createPayingFetch({ adapters: [testAdapter()], wallets: [wallet] });
    const response = await payingFetch(`${ORIGIN}/ln`);
    expect(getPayment(response)?.record).toMatchObject({
      reservedUsdMicros: 1500n,
      committedUsdMicros: 1020n,
    });
  });
});

describe('large 402 bodies', () => {
  it('a chunked JSON 402 body past the read cap does not hang the call', async () => {
    const chunk = new TextEncoder().encode(`{"pad":"${'x'.repeat(16 * 1024)}`);
    route(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              for (let i = 0; i < 8; i++) controller.enqueue(chunk);
              controller.enqueue(new TextEncoder().encode('"}'));
              controller.close();
            },
          }),
          { status: 402, headers: { 'content-type': 'application/json' } },
        ),
    );
    const { wallet } = setup({});
    const payingFetch = createPayingFetch({ wallets: [wallet] }); // default adapters read JSON 402s
    const response = await payingFetch(`${ORIGIN}/big`);
    expect(response.status).toBe(402);
    expect(wallet.calls).toEqual([]);
  }, 10_000);
});
