/**
 * The core side of the optional adapter hooks: held credentials (reuse, refusal), single
 * flight of reusable purchases, and opt-in pre-authorization.
 */
import { createTestPaywall, createTestRail, testAdapter, testWallet } from '@stipend/testkit/core';
import { describe, expect, it } from 'vitest';
import { createPayingFetch, getCredentialUse, getPayment, PolicyDeniedError } from '../index.js';
import { ORIGIN, usdc, useMsw } from './fixtures.test-helpers.js';

const route = useMsw();
const policy = {
  global: {
    maxPerRequest: { usd: '1' },
    limits: [{ usd: '10', window: { calendar: 'day' as const } }],
  },
};

function reusableSetup() {
  const rail = createTestRail();
  const paywall = createTestPaywall({
    rail,
    routes: { '/quote': { offers: [usdc(1000n)], reusable: true } },
  });
  const wallet = testWallet({ rail, settlement: 'final' });
  const payingFetch = createPayingFetch({
    adapters: [testAdapter({ reusable: true })],
    wallets: [wallet],
    policy,
  });
  route(paywall);
  return { rail, paywall, wallet, payingFetch };
}

describe('held credentials', () => {
  it('the first call pays; later calls reuse the credential in one round trip, paying nothing', async () => {
    const { paywall, wallet, payingFetch } = reusableSetup();
    const first = await payingFetch(`${ORIGIN}/quote`);
    expect(getPayment(first)?.status).toBe('paid');
    expect(getCredentialUse(first)).toBeUndefined();
    const hitsAfterFirst = paywall.hits.length;

    const second = await payingFetch(`${ORIGIN}/quote`);
    expect(second.status).toBe(200);
    expect(getPayment(second)).toBeUndefined();
    expect(getCredentialUse(second)).toEqual({ protocol: 'stipend-test', reference: 'ref_1' });
    expect(paywall.hits.length - hitsAfterFirst).toBe(1);
    expect(wallet.calls).toHaveLength(1);
  });

  it('a refused credential is dropped and the new challenge is a new decision (one new payment)', async () => {
    const { paywall, wallet, payingFetch, rail } = reusableSetup();
    await payingFetch(`${ORIGIN}/quote`);
    paywall.revokeTokens();
    // The held token is now refused (its secret was redeemed): a fresh 402 → a new decision.
    const again = await payingFetch(`${ORIGIN}/quote`);
    expect(again.status).toBe(200);
    expect(getPayment(again)?.status).toBe('paid');
    expect(wallet.calls).toHaveLength(2);
    expect(rail.settledTotal()).toBe(2000n);
    // The new credential is held and reused.
    const third = await payingFetch(`${ORIGIN}/quote`);
    expect(getCredentialUse(third)?.reference).toBe('ref_2');
    expect(wallet.calls).toHaveLength(2);
  });

  it('payment.pay = false sends no held credential and pays nothing', async () => {
    const { wallet, payingFetch } = reusableSetup();
    await payingFetch(`${ORIGIN}/quote`);
    const response = await payingFetch(`${ORIGIN}/quote`, { payment: { pay: false } });
    expect(response.status).toBe(402);
    expect(wallet.calls).toHaveLength(1);
  });
});

describe('single flight', () => {
  it('30 concurrent cold calls for a reusable credential pay exactly once', async () => {
    const { wallet, payingFetch, rail } = reusableSetup();
    const responses = await Promise.all(
      Array.from({ length: 30 }, () => payingFetch(`${ORIGIN}/quote`)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect(wallet.calls).toHaveLength(1);
    expect(rail.settledTotal()).toBe(1000n);
    expect(responses.filter((r) => getPayment(r)?.status === 'paid')).toHaveLength(1);
    expect(responses.filter((r) => getCredentialUse(r))).toHaveLength(29);
  });

  it('when the one purchase fails, the waiters decide for themselves (no deadlock)', async () => {
    const { wallet, payingFetch } = reusableSetup();
    wallet.injectFault('fail');
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => payingFetch(`${ORIGIN}/quote`)),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'fulfilled' && r.value.status === 200)).toHaveLength(
      4,
    );
    // One failed attempt, then one successful purchase that the rest reused.
    expect(wallet.calls).toHaveLength(2);
  });
});

describe('pre-authorization (opt-in)', () => {
  function preauthSetup(preauthorize: boolean, routePrice = 1000n) {
    const rail = createTestRail();
    let price = routePrice;
    const paywall = createTestPaywall({ rail, routes: { '/data': { offers: [usdc(price)] } } });
    const wallet = testWallet({ rail });
    const payingFetch = createPayingFetch({
      adapters: [testAdapter({ preauthorize: true })],
      wallets: [wallet],
      policy,
      preauthorize,
    });
    route(paywall);
    return { rail, paywall, wallet, payingFetch, setPrice: (p: bigint) => (price = p) };
  }

  it('pays with the first send once the terms are known: one round trip per paid call', async () => {
    const { paywall, wallet, payingFetch, rail } = preauthSetup(true);
    expect((await payingFetch(`${ORIGIN}/data`)).status).toBe(200);
    expect(paywall.hits).toHaveLength(2);
    for (let i = 0; i < 3; i++) {
      const response = await payingFetch(`${ORIGIN}/data`);
      expect(response.status).toBe(200);
      expect(getPayment(response)?.status).toBe('paid');
    }
    expect(paywall.hits).toHaveLength(5);
    expect(paywall.hits.slice(2).every((hit) => hit.proof !== null && hit.status === 200)).toBe(
      true,
    );
    expect(wallet.calls).toHaveLength(4);
    expect(rail.settledTotal()).toBe(4000n);
  });

  it('is off by default: two round trips per paid call', async () => {
    const { paywall, payingFetch } = preauthSetup(false);
    await payingFetch(`${ORIGIN}/data`);
    await payingFetch(`${ORIGIN}/data`);
    expect(paywall.hits).toHaveLength(4);
  });

  it('a refused pre-authorization that can still move money is not followed by a second one in the same call', async () => {
    const rail = createTestRail();
    const wallet = testWallet({ rail });
    const adapter = testAdapter({ preauthorize: true });
    const payingFetch = createPayingFetch({
      adapters: [adapter],
      wallets: [wallet],
      policy,
      preauthorize: true,
    });
    route(
      createTestPaywall({ rail, routes: { '/data': { offers: [usdc(1000n, { id: 'v1' })] } } }),
    );
    await payingFetch(`${ORIGIN}/data`);
    // The server changes its terms: the remembered offer id is now unknown to it.
    route(
      createTestPaywall({ rail, routes: { '/data': { offers: [usdc(1500n, { id: 'v2' })] } } }),
    );
    const response = await payingFetch(`${ORIGIN}/data`);
    // The refused pre-paid authorization is still valid: the call ends with the 402.
    expect(response.status).toBe(402);
    expect(wallet.calls).toEqual(['v1', 'v1']);
    const records = await payingFetch.ledger.list();
    expect(records.map((r) => [r.offerId, r.status])).toEqual([
      ['v1', 'committed'],
      ['v1', 'held'],
    ]);
    // The refused terms are not pre-paid again: the next call asks and pays the new terms once.
    const paid = await payingFetch(`${ORIGIN}/data`);
    expect(paid.status).toBe(200);
    expect(wallet.calls).toEqual(['v1', 'v1', 'v2']);
    // Once the rail says the refused authorization can no longer move, it is released.
    rail.void(records[1]!.reference!);
    await payingFetch.reconcile();
    expect((await payingFetch.ledger.list()).map((r) => [r.offerId, r.status])).toEqual([
      ['v1', 'committed'],
      ['v1', 'released'],
      ['v2', 'committed'],
    ]);
  });

  it('the policy decides exactly as for a 402: a denied remembered offer pays nothing', async () => {
    const { payingFetch, wallet } = preauthSetup(true);
    await payingFetch(`${ORIGIN}/data`);
    const denied = await payingFetch(`${ORIGIN}/data`, { payment: { maxUsd: '0.0001' } }).catch(
      (e: unknown) => e,
    );
    expect(denied).toBeInstanceOf(PolicyDeniedError);
    expect(wallet.calls).toHaveLength(1);
  });
});

describe('advertising payable rails (acceptHeaders)', () => {
  function advertising(acceptPayment?: 'same-origin' | 'never' | readonly string[]) {
    const rail = createTestRail();
    const paywall = createTestPaywall({ rail, routes: { '/data': { offers: [usdc(1000n)] } } });
    const payingFetch = createPayingFetch({
      adapters: [testAdapter({ advertise: true })],
      wallets: [testWallet({ rail })],
      policy,
      ...(acceptPayment ? { acceptPayment } : {}),
    });
    route(paywall);
    return { paywall, payingFetch };
  }

  it('sends nothing by default outside browsers', async () => {
    const { paywall, payingFetch } = advertising();
    await payingFetch(`${ORIGIN}/free`);
    expect(paywall.hits[0]!.headers['stipend-test-accept']).toBeUndefined();
  });

  it('sends the header only to the allowed hosts, on the first send and the paid retry', async () => {
    const { paywall, payingFetch } = advertising(['api.example.com']);
    await payingFetch(`${ORIGIN}/data`);
    await payingFetch('https://other.example.org/free');
    expect(paywall.hits.map((hit) => hit.headers['stipend-test-accept'])).toEqual([
      'stipend-test:charge',
      'stipend-test:charge',
      undefined,
    ]);
  });
});
