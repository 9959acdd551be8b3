import { testWallet } from '@stipend/testkit/core';
import { describe, expect, it } from 'vitest';
import { isStipendError } from '../errors/base.js';
import { x402Adapter } from '../protocols/x402/adapter.js';
import type { Wallet } from '../wallet/wallet.js';
import { ORIGIN, OTHER_USDC, quoteSetup, usdc } from './fixtures.test-helpers.js';
import { quote } from './quote.js';

/** Nothing reached the rail, the wallets, the budget, the ledger or the journal. */
async function expectNothingMoved(setup: ReturnType<typeof quoteSetup>) {
  expect(setup.rail.payments()).toEqual([]);
  for (const wallet of setup.wallets)
    expect((wallet as { calls?: string[] }).calls ?? []).toEqual([]);
  expect(setup.reservations).toEqual([]);
  expect(setup.ledger.list()).toEqual([]);
  expect(await setup.journal.list()).toEqual([]);
  expect(setup.paywall.hits.every((hit) => hit.proof === null)).toBe(true);
}

describe('quote', () => {
  it('a quote of a 402 pays nothing: no rail payment, wallet call, reservation, record or purchase', async () => {
    const setup = quoteSetup({
      '/two': { offers: [usdc(5_000n, { id: 'dear' }), usdc(2_000n, { id: 'cheap' })] },
    });
    const { call, response } = await setup.ask('/two');
    const answer = await quote(setup.core, call, response);

    expect(answer.kind).toBe('priced');
    if (answer.kind !== 'priced') return;
    expect(answer.decision).toMatchObject({
      outcome: 'pay',
      offerId: 'cheap',
      walletId: 'test-wallet',
      usdMicros: 2_000n,
    });
    expect(answer.offers.map((offer) => [offer.id, offer.verdict])).toEqual([
      ['dear', 'payable'],
      ['cheap', 'chosen'],
    ]);
    expect(answer.budget?.[0]).toMatchObject({ scope: 'global', remainingUsdMicros: 10_000_000n });
    await expectNothingMoved(setup);
  });

  it('a non-402 answer is free', async () => {
    const setup = quoteSetup({});
    const { call, response } = await setup.ask('/open');
    expect(await quote(setup.core, call, response)).toEqual({
      kind: 'free',
      url: `${ORIGIN}/open`,
      status: 200,
    });
    await expectNothingMoved(setup);
  });

  it('a quote says a person would be asked, and asks nobody', async () => {
    let asked = 0;
    const setup = quoteSetup(
      { '/pricey': { offers: [usdc(50_000n)] } },
      {
        policy: { global: { maxPerRequest: { usd: '1' }, approveAbove: '0.01' } },
        approver: async () => {
          asked++;
          return true;
        },
      },
    );
    const { call, response } = await setup.ask('/pricey');
    const answer = await quote(setup.core, call, response);
    expect(answer.kind === 'priced' && answer.decision).toMatchObject({
      outcome: 'ask',
      approval: 'above_threshold',
    });
    expect(asked).toBe(0);
    await expectNothingMoved(setup);
  });

  it('a quote gives the policy refusal of each offer, with what to change', async () => {
    const setup = quoteSetup({ '/big': { offers: [usdc(2_000_000n)] } });
    const { call, response } = await setup.ask('/big');
    const answer = await quote(setup.core, call, response);
    expect(answer.kind).toBe('priced');
    if (answer.kind !== 'priced') return;
    expect(answer.decision).toMatchObject({ outcome: 'deny', code: 'per_request_cap' });
    expect(answer.offers[0]).toMatchObject({ verdict: 'skipped', code: 'per_request_cap' });
    expect(answer.decision.reason).toMatch(/maxPerRequest/);
    await expectNothingMoved(setup);
  });

  it('a per-call cap tightens the quote as it tightens the call', async () => {
    const setup = quoteSetup({ '/paid': { offers: [usdc(20_000n)] } });
    const { call, response } = await setup.ask(
      '/paid',
      {},
      { override: { maxPerRequest: { usd: '0.01' } } },
    );
    const answer = await quote(setup.core, call, response);
    expect(answer.kind === 'priced' && answer.decision.outcome).toBe('deny');
    await expectNothingMoved(setup);
  });

  it('a quote says when no wallet takes the offer', async () => {
    const setup = quoteSetup(
      { '/paid': { offers: [usdc(1_000n)] } },
      { wallets: (rail) => [testWallet({ rail, canPay: () => 'card declined' })] },
    );
    const { call, response } = await setup.ask('/paid');
    const answer = await quote(setup.core, call, response);
    expect(answer.kind === 'priced' && answer.decision).toMatchObject({
      outcome: 'deny',
      code: 'no_wallet',
    });
    expect(answer.kind === 'priced' && answer.decision.reason).toMatch(/card declined/);
    await expectNothingMoved(setup);
  });

  it('a quote skips an offer no wallet can fund and falls back to the next one, paying nothing', async () => {
    let asked = 0;
    const setup = quoteSetup(
      {
        '/two': {
          offers: [usdc(1_000n, { id: 'base' }), { amount: 3_000n, unit: OTHER_USDC, id: 'op' }],
        },
      },
      {
        wallets: (rail) => {
          const poor = testWallet({ rail, id: 'poor' });
          const rich = testWallet({ rail, id: 'rich' });
          const balances: Record<string, bigint> = { poor: 400n, rich: 1_000_000n };
          for (const wallet of [poor, rich]) {
            Object.assign(wallet, {
              balance: async (offer: { amount: { unit: unknown } }) => {
                asked++;
                // The poor wallet holds too little of the cheap offer's unit; the rich one
                // holds only the other network's USDC.
                if (wallet.id === 'rich' && offer.amount.unit !== OTHER_USDC) return undefined;
                return { value: balances[wallet.id]!, unit: offer.amount.unit };
              },
            });
          }
          // Only the poor wallet takes the cheap offer's network.
          Object.assign(rich, {
            canPay: (offer: { id: string }) => (offer.id === 'op' ? true : 'wrong network'),
          });
          Object.assign(poor, {
            canPay: (offer: { id: string }) => (offer.id === 'base' ? true : 'wrong network'),
          });
          return [poor, rich];
        },
      },
    );
    const { call, response } = await setup.ask('/two');
    const answer = await quote(setup.core, call, response);
    expect(answer.kind).toBe('priced');
    if (answer.kind !== 'priced') return;
    expect(asked).toBeGreaterThan(0);
    const base = answer.offers.find((offer) => offer.id === 'base')!;
    expect(base).toMatchObject({ verdict: 'skipped', code: 'no_wallet' });
    expect(base.reason).toMatch(/poor holds 0\.0004 USDC, the offer needs 0\.001 USDC/);
    expect(answer.decision).toMatchObject({ outcome: 'pay', offerId: 'op', walletId: 'rich' });
    await expectNothingMoved(setup);
  });

  it('a quote reads the budget without reserving: an almost spent window is refused', async () => {
    const setup = quoteSetup(
      { '/paid': { offers: [usdc(20_000n)] } },
      {
        policy: {
          global: {
            maxPerRequest: { usd: '1' },
            limits: [{ usd: '0.01', window: { calendar: 'day' } }],
          },
        },
      },
    );
    const { call, response } = await setup.ask('/paid');
    const answer = await quote(setup.core, call, response);
    expect(answer.kind === 'priced' && answer.decision).toMatchObject({
      outcome: 'deny',
      code: 'window_cap',
    });
    await expectNothingMoved(setup);
  });

  it('an unreadable challenge is unpayable, with the reason', async () => {
    const setup = quoteSetup({});
    const response = new Response('{}', {
      status: 402,
      headers: { 'stipend-test-challenge': 'not json' },
    });
    Object.defineProperty(response, 'url', { value: `${ORIGIN}/broken` });
    const { call } = await setup.ask('/broken');
    const answer = await quote(setup.core, call, response);
    expect(answer).toMatchObject({ kind: 'unpayable', status: 402 });
    expect(answer.kind === 'unpayable' && answer.reason).toMatch(/not JSON/);
    await expectNothingMoved(setup);
  });

  it('a 402 body that never ends fails the quote with TIMEOUT (every call ends)', async () => {
    const setup = quoteSetup({}, { adapters: [x402Adapter()] });
    const { call } = await setup.ask('/slow', {}, { timeoutMs: 100 });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"x402Version":1,'));
      },
    });
    const response = new Response(body, {
      status: 402,
      headers: { 'content-type': 'application/json' },
    });
    const error = await quote(setup.core, call, response).catch((caught: unknown) => caught);
    expect(isStipendError(error) && error.code).toBe('TIMEOUT');
    await expectNothingMoved(setup);
  });

  it('a quote would not pay over plain HTTP to another host', async () => {
    const setup = quoteSetup({});
    const { call } = await setup.ask('/paid');
    const response = new Response('', {
      status: 402,
      headers: {
        'stipend-test-challenge': JSON.stringify([
          { id: 'o', amount: '10', unit: usdc(1n).unit, payee: 'shop' },
        ]),
      },
    });
    Object.defineProperty(response, 'url', { value: 'http://api.example.com/paid' });
    const answer = await quote(setup.core, call, response);
    expect(answer.kind === 'priced' && answer.decision).toMatchObject({
      outcome: 'deny',
      code: 'INSECURE_TRANSPORT',
    });
  });

  it('a wallet that throws in canPay is skipped with its message, never paid', async () => {
    const throwing: Wallet = {
      id: 'boom',
      rails: ['stipend-test:charge'],
      canPay: () => {
        throw new Error('node offline');
      },
      pay: () => {
        throw new Error('must not be called');
      },
    };
    const setup = quoteSetup(
      { '/paid': { offers: [usdc(1_000n)] } },
      { wallets: () => [throwing] },
    );
    const { call, response } = await setup.ask('/paid');
    const answer = await quote(setup.core, call, response);
    expect(answer.kind === 'priced' && answer.offers[0]?.reason).toMatch(/node offline/);
    await expectNothingMoved(setup);
  });
});
