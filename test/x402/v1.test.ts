/**
 * x402 v1 end to end: the testkit's v1 HTTP layer (JSON 402 body, `X-PAYMENT`,
 * `X-PAYMENT-RESPONSE`) over the reference facilitator's v1 path, on a local chain with id
 * 84532 posing as `base-sepolia` (nothing leaves the machine).
 */
import { getPayment } from '@stipend/client';
import { devAccount } from '@stipend/testkit/chain';
import {
  startX402Server,
  WEATHER_PRICE,
  WEATHER_REPORT,
  type X402ServerHandle,
} from '@stipend/testkit/x402';
import { evmWallet } from '@stipend/wallet-evm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countingSigner, x402Fetch } from './setup.test-helpers.js';

const payer = devAccount(5);
let server: X402ServerHandle;

beforeAll(async () => {
  server = await startX402Server({ version: 1 });
  await server.chain.mint(payer.address, 1_000_000n);
});
afterAll(async () => {
  await server?.close();
});

describe('x402 v1 end to end', () => {
  it('pays a v1 server with X-PAYMENT: base-sepolia read as eip155:84532, exact amount moved once', async () => {
    const { signer, signed } = countingSigner(payer);
    const { payingFetch, sent } = x402Fetch({
      token: server.token,
      wallet: evmWallet({ account: signer, publicClient: server.chain.publicClient }),
    });
    const [payerBefore, payeeBefore] = await Promise.all([
      server.chain.balanceOf(payer.address),
      server.chain.balanceOf(server.payTo),
    ]);
    const start = Math.floor(Date.now() / 1000);

    const response = await payingFetch(`${server.url}/weather`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ report: WEATHER_REPORT });
    expect(await server.chain.balanceOf(payer.address)).toBe(payerBefore! - WEATHER_PRICE);
    expect(await server.chain.balanceOf(server.payTo)).toBe(payeeBefore! + WEATHER_PRICE);
    expect(server.settlements.at(-1)).toMatchObject({
      x402Version: 1,
      network: 'base-sepolia',
      amount: WEATHER_PRICE,
    });

    const payment = getPayment(response);
    expect(payment?.status).toBe('paid');
    expect(payment?.record.network).toBe('eip155:84532');
    expect(payment?.receipt?.reference).toBe(server.settlements.at(-1)?.transaction);
    expect(signed).toHaveLength(1);

    const proof = sent.at(-1)!.headers.get('x-payment');
    expect(sent.at(-1)!.headers.has('payment-signature')).toBe(false);
    const decoded = JSON.parse(Buffer.from(proof!, 'base64').toString('utf8'));
    expect(decoded).toMatchObject({ x402Version: 1, scheme: 'exact', network: 'base-sepolia' });
    // The reference v1 client back-dates validAfter by ten minutes.
    const validAfter = Number(decoded.payload.authorization.validAfter);
    expect(validAfter).toBeGreaterThanOrEqual(start - 601);
    expect(validAfter).toBeLessThanOrEqual(start - 599 + 5);
    expect(server.requests.map((r) => r.paid)).toEqual([false, true]);
  });

  it('a replayed X-PAYMENT is refused and nothing moves', async () => {
    const { payingFetch, sent } = x402Fetch({
      token: server.token,
      wallet: evmWallet({ account: payer }),
    });
    await payingFetch(`${server.url}/weather`);
    const proof = sent.at(-1)!.headers.get('x-payment')!;
    const before = await server.chain.balanceOf(payer.address);
    const settled = server.settlements.length;
    const replay = await fetch(`${server.url}/weather`, { headers: { 'X-PAYMENT': proof } });
    expect(replay.status).toBe(402);
    expect(server.settlements).toHaveLength(settled);
    expect(await server.chain.balanceOf(payer.address)).toBe(before);
  });
});
