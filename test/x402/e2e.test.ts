/**
 * x402 end to end against the REAL reference stack: `@x402/hono` middleware + the in-process
 * `x402Facilitator` settling EIP-3009 transfers on anvil (testkit). Every assertion about money
 * reads on-chain balances.
 */
import { getPayment, PolicyDeniedError, type SpendRecord } from '@stipend/client';
import { devAccount } from '@stipend/testkit/chain';
import {
  startX402Server,
  TWO_OFFERS_PRICES,
  WEATHER_PRICE,
  WEATHER_REPORT,
  type X402ServerHandle,
} from '@stipend/testkit/x402';
import { evmWallet } from '@stipend/wallet-evm';
import { cdpAccount } from '@stipend/wallet-evm/cdp';
import type { Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCdpStandIn } from '../../packages/wallet-evm/src/cdp-stand-in.test-helpers.js';
import { countingSigner, x402Fetch } from './setup.test-helpers.js';

const payer = devAccount(4);
let server: X402ServerHandle;

beforeAll(async () => {
  server = await startX402Server();
  await server.chain.mint(payer.address, 1_000_000n);
});
afterAll(async () => {
  await server?.close();
});

const balances = (...owners: Address[]) =>
  Promise.all(owners.map((o) => server.chain.balanceOf(o)));

function client(config = {}) {
  const { signer, signed } = countingSigner(payer);
  const wallet = evmWallet({ account: signer, publicClient: server.chain.publicClient });
  return { ...x402Fetch({ token: server.token, wallet, config }), signed };
}

describe('x402 v2 end to end (reference @x402/hono + facilitator on anvil)', () => {
  it('a paid call moves exactly the price, once, and returns the resource with its receipt', async () => {
    const { payingFetch, sent, signed } = client();
    const [payerBefore, payeeBefore] = await balances(payer.address, server.payTo);
    const settledBefore = server.settlements.length;
    const requestsBefore = server.requests.length;

    const response = await payingFetch(`${server.url}/weather`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ report: WEATHER_REPORT });

    expect(await balances(payer.address, server.payTo)).toEqual([
      payerBefore! - WEATHER_PRICE,
      payeeBefore! + WEATHER_PRICE,
    ]);
    expect(server.settlements).toHaveLength(settledBefore + 1);
    const settlement = server.settlements.at(-1)!;
    expect(settlement).toMatchObject({
      payer: payer.address,
      payTo: server.payTo,
      amount: WEATHER_PRICE,
    });

    const payment = getPayment(response);
    expect(payment?.status).toBe('paid');
    expect(payment?.receipt?.reference).toBe(settlement.transaction);
    expect(payment?.record).toMatchObject<Partial<SpendRecord>>({
      protocol: 'x402',
      scheme: 'exact',
      status: 'committed',
      committedUsdMicros: 1000n,
      network: server.network,
    });
    expect(signed).toHaveLength(1);
    // Two round trips: the unpaid probe and the paid retry.
    expect(server.requests.slice(requestsBefore).map((r) => r.paid)).toEqual([false, true]);
    expect(sent.map((r) => r.headers.has('payment-signature'))).toEqual([false, true]);
  });

  it('a replayed proof is rejected and nothing moves', async () => {
    const { payingFetch, sent } = client();
    await payingFetch(`${server.url}/weather`);
    const proof = sent.at(-1)!.headers.get('payment-signature')!;
    const [payerBefore, payeeBefore] = await balances(payer.address, server.payTo);
    const settledBefore = server.settlements.length;

    const replay = await fetch(`${server.url}/weather`, {
      headers: { 'PAYMENT-SIGNATURE': proof },
    });
    expect(replay.status).toBe(402);
    expect(server.rejections.at(-1)).toMatchObject({
      reason: 'invalid_exact_evm_nonce_already_used',
    });
    expect(server.settlements).toHaveLength(settledBefore);
    expect(await balances(payer.address, server.payTo)).toEqual([payerBefore, payeeBefore]);
  });

  it('a POST body arrives intact on the paid retry', async () => {
    const { payingFetch } = client();
    const body = JSON.stringify({ question: 'does the body survive?', emoji: '✓', n: 42 });
    const [payerBefore] = await balances(payer.address);
    const response = await payingFetch(`${server.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.text()).toBe(body);
    expect(await balances(payer.address)).toEqual([payerBefore! - WEATHER_PRICE]);
  });

  it('on a route with two offers, the cheaper allowed one is paid (2000 to the second payee)', async () => {
    const { payingFetch } = client();
    const [first, second] = await balances(server.payTo, server.secondPayTo);
    const response = await payingFetch(`${server.url}/two-offers`);
    expect(response.status).toBe(200);
    expect(await balances(server.payTo, server.secondPayTo)).toEqual([
      first,
      second! + TWO_OFFERS_PRICES.second,
    ]);
    expect(getPayment(response)?.record.payee).toBe(server.secondPayTo);
  });

  it('an over-budget route pays nothing and throws the policy error', async () => {
    const { payingFetch, signed } = client({
      policy: { global: { maxPerRequest: { usd: '0.0015' } } },
    });
    const [payerBefore] = await balances(payer.address);
    const settledBefore = server.settlements.length;
    const error = await payingFetch(`${server.url}/two-offers`).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as PolicyDeniedError).reason).toBe('per_request_cap');
    expect((error as PolicyDeniedError).offers.map((o) => o.code)).toEqual([
      'per_request_cap',
      'per_request_cap',
    ]);
    expect(signed).toEqual([]);
    expect(server.settlements).toHaveLength(settledBefore);
    expect(await balances(payer.address)).toEqual([payerBefore]);
  });

  it('an account without funds is refused before signing, with a clear error', async () => {
    const broke = devAccount(9);
    const { signer, signed } = countingSigner(broke);
    const { payingFetch } = x402Fetch({
      token: server.token,
      wallet: evmWallet({ account: signer, publicClient: server.chain.publicClient }),
    });
    const error = await payingFetch(`${server.url}/weather`).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    // One offer and one wallet: nothing to choose between, so no balance is read up front; the
    // wallet reads it on chain before signing and refuses, naming what it holds. Nothing is
    // signed and nothing is paid.
    expect(error).toMatchObject({ paid: false });
    expect((error as Error).message).toMatch(/holds|fund/i);
    expect(signed).toEqual([]);
  });

  it('pays with a CDP server account: signing goes through @coinbase/cdp-sdk (local stand-in)', async () => {
    const cdpPayer = devAccount(7);
    await server.chain.mint(cdpPayer.address, 10_000n);
    const cdp = await startCdpStandIn([{ name: 'x402-payer', account: cdpPayer }]);
    try {
      const account = await cdpAccount({
        apiKeyId: cdp.apiKeyId,
        apiKeySecret: cdp.apiKeySecret,
        walletSecret: cdp.walletSecret,
        basePath: cdp.basePath,
        name: 'x402-payer',
      });
      const { payingFetch } = x402Fetch({ token: server.token, wallet: evmWallet({ account }) });
      const response = await payingFetch(`${server.url}/weather`);
      expect(response.status).toBe(200);
      expect(await server.chain.balanceOf(cdpPayer.address)).toBe(10_000n - WEATHER_PRICE);
      expect(cdp.calls.filter((call) => call.path.endsWith('/sign/typed-data'))).toHaveLength(1);
    } finally {
      await cdp.close();
    }
  });
});

describe('pre-authorization (createPayingFetch({ preauthorize: true }))', () => {
  it('pays once per call with ONE round trip in steady state, counted at the server', async () => {
    const { payingFetch, signed } = client({ preauthorize: true });
    const [payerBefore, payeeBefore] = await balances(payer.address, server.payTo);
    const settledBefore = server.settlements.length;

    // First call: the route is unknown, so the normal 402 flow (two round trips).
    let start = server.requests.length;
    const first = await payingFetch(`${server.url}/weather`);
    expect(first.status).toBe(200);
    expect(server.requests.slice(start).map((r) => r.paid)).toEqual([false, true]);

    // Steady state: every call is paid with its first (and only) request.
    for (let call = 0; call < 3; call++) {
      start = server.requests.length;
      const response = await payingFetch(`${server.url}/weather`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ report: WEATHER_REPORT });
      expect(getPayment(response)?.status).toBe('paid');
      expect(server.requests.slice(start)).toEqual([
        { method: 'GET', path: '/weather', paid: true },
      ]);
    }

    expect(signed).toHaveLength(4);
    expect(server.settlements).toHaveLength(settledBefore + 4);
    expect(await balances(payer.address, server.payTo)).toEqual([
      payerBefore! - 4n * WEATHER_PRICE,
      payeeBefore! + 4n * WEATHER_PRICE,
    ]);
  });

  it("the policy still decides: a remembered route over the call's cap pays nothing", async () => {
    const { payingFetch, signed } = client({ preauthorize: true });
    expect((await payingFetch(`${server.url}/weather`)).status).toBe(200); // remembered
    expect(signed).toHaveLength(1);
    const settledBefore = server.settlements.length;
    const start = server.requests.length;
    const error = await payingFetch(`${server.url}/weather`, {
      payment: { maxUsd: '0.0005' },
    }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as PolicyDeniedError).reason).toBe('per_request_cap');
    expect(signed).toHaveLength(1);
    expect(server.settlements).toHaveLength(settledBefore);
    // Refused before the first send: the normal flow asked the server once, unpaid.
    expect(server.requests.slice(start).map((r) => r.paid)).toEqual([false]);
  });
});
