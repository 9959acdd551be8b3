import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from '@x402/core/http';
import type { PaymentRequirements } from '@x402/core/types';
import { ExactEvmScheme as ExactEvmClientScheme } from '@x402/evm/exact/client';
import { wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { type Address, parseEventLogs } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devAccount } from '../chain/dev-accounts.js';
import { abi as tokenAbi } from '../chain/token-artifact.js';
import { TWO_OFFERS_PRICES, WEATHER_PRICE, WEATHER_REPORT } from './routes.js';
import { startX402Server, type X402ServerHandle } from './server.js';

const payer = devAccount(4);
let server: X402ServerHandle;

beforeAll(async () => {
  server = await startX402Server();
  await server.chain.mint(payer.address, 1_000_000n);
});

afterAll(async () => {
  await server?.close();
});

/** The reference client: @x402/fetch + @x402/evm exact, with the local token allowed. */
function referenceClient(
  selector?: (version: number, reqs: PaymentRequirements[]) => PaymentRequirements,
) {
  const client = new x402Client(selector)
    .register(server.token.network, new ExactEvmClientScheme(payer))
    .setSpendControls({
      allowedAssets: [{ network: server.token.network, asset: server.token.address }],
    });
  // Record what the wrapper sends so the test can replay the payment header.
  const sent: Request[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    sent.push(request.clone());
    return fetch(request);
  };
  return { pay: wrapFetchWithPayment(recordingFetch, client), sent };
}

async function balances(...owners: Address[]): Promise<bigint[]> {
  return Promise.all(owners.map((owner) => server.chain.balanceOf(owner)));
}

describe('x402 v2 test server (reference @x402/hono + in-process facilitator)', () => {
  it('answers an unpaid GET /weather with 402 and the exact PAYMENT-REQUIRED terms', async () => {
    const response = await fetch(`${server.url}/weather`);
    expect(response.status).toBe(402);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const header = response.headers.get('payment-required');
    expect(header).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    const required = decodePaymentRequiredHeader(header ?? '');
    expect(required).toEqual({
      x402Version: 2,
      error: 'Payment required',
      resource: {
        url: `${server.url}/weather`,
        description: 'Weather report',
        mimeType: 'application/json',
      },
      accepts: [
        {
          scheme: 'exact',
          network: 'eip155:31337',
          amount: '1000',
          asset: server.token.address,
          payTo: server.payTo,
          maxTimeoutSeconds: 300,
          extra: { name: 'USDC', version: '2' },
        },
      ],
    });
    expect(server.settlements).toHaveLength(0);
  });

  it('serves /free without payment', async () => {
    const response = await fetch(`${server.url}/free`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ free: true });
  });

  it('takes a real payment from @x402/fetch, moves exactly 1000 units once, and rejects a replay', async () => {
    const { pay, sent } = referenceClient();
    const [payerBefore, payeeBefore] = await balances(payer.address, server.payTo);
    const settledBefore = server.settlements.length;

    const response = await pay(`${server.url}/weather`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ report: WEATHER_REPORT });

    const receipt = decodePaymentResponseHeader(response.headers.get('payment-response') ?? '');
    expect(receipt).toMatchObject({ success: true, network: 'eip155:31337', payer: payer.address });
    expect(server.settlements).toHaveLength(settledBefore + 1);
    const settlement = server.settlements.at(-1);
    expect(settlement).toMatchObject({
      x402Version: 2,
      transaction: receipt.transaction,
      payer: payer.address,
      payTo: server.payTo,
      asset: server.token.address,
      amount: WEATHER_PRICE,
    });
    expect(await balances(payer.address, server.payTo)).toEqual([
      payerBefore! - 1000n,
      payeeBefore! + 1000n,
    ]);
    const txReceipt = await server.chain.publicClient.getTransactionReceipt({
      hash: receipt.transaction as `0x${string}`,
    });
    expect(txReceipt.from.toLowerCase()).toBe(server.facilitator.address.toLowerCase());
    const transfers = parseEventLogs({
      abi: tokenAbi,
      logs: txReceipt.logs,
      eventName: 'Transfer',
    });
    expect(transfers.map((t) => t.args)).toEqual([
      { from: payer.address, to: server.payTo, value: 1000n },
    ]);

    // Exactly two requests went out: the unpaid probe and the paid retry.
    expect(sent).toHaveLength(2);
    expect(sent[0]?.headers.get('payment-signature')).toBeNull();
    const signature = sent[1]?.headers.get('payment-signature');
    expect(signature).toBeTruthy();

    // Replaying the same PAYMENT-SIGNATURE: refused with a precise reason, nothing moves.
    const replay = await fetch(`${server.url}/weather`, {
      headers: { 'PAYMENT-SIGNATURE': signature ?? '' },
    });
    expect(replay.status).toBe(402);
    const refused = decodePaymentRequiredHeader(replay.headers.get('payment-required') ?? '');
    expect(refused.error).toBe('invalid_exact_evm_nonce_already_used');
    expect(server.rejections.at(-1)).toMatchObject({
      stage: 'verify',
      reason: 'invalid_exact_evm_nonce_already_used',
    });
    expect(server.settlements).toHaveLength(settledBefore + 1);
    expect(await balances(payer.address, server.payTo)).toEqual([
      payerBefore! - 1000n,
      payeeBefore! + 1000n,
    ]);
  });

  it('POST /echo returns the body it received after the paid retry', async () => {
    const { pay } = referenceClient();
    const body = JSON.stringify({ question: 'does the body survive?', n: 42, emoji: '✓' });
    const [payerBefore] = await balances(payer.address);
    const response = await pay(`${server.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.text()).toBe(body);
    expect(await balances(payer.address)).toEqual([payerBefore! - 1000n]);
  });

  it('/two-offers advertises two prices; the default selector pays the first, a cheapest-first one the second', async () => {
    const unpaid = await fetch(`${server.url}/two-offers`);
    const required = decodePaymentRequiredHeader(unpaid.headers.get('payment-required') ?? '');
    expect(required.accepts.map((a) => [a.amount, a.payTo])).toEqual([
      ['5000', server.payTo],
      ['2000', server.secondPayTo],
    ]);

    const [firstBefore, secondBefore] = await balances(server.payTo, server.secondPayTo);
    const byDefault = await referenceClient().pay(`${server.url}/two-offers`);
    expect(byDefault.status).toBe(200);
    expect(await balances(server.payTo, server.secondPayTo)).toEqual([
      firstBefore! + TWO_OFFERS_PRICES.first,
      secondBefore!,
    ]);

    const cheapest = (_version: number, reqs: PaymentRequirements[]) =>
      reqs.reduce((best, r) => (BigInt(r.amount) < BigInt(best.amount) ? r : best));
    const byPrice = await referenceClient(cheapest).pay(`${server.url}/two-offers`);
    expect(byPrice.status).toBe(200);
    expect(await balances(server.payTo, server.secondPayTo)).toEqual([
      firstBefore! + TWO_OFFERS_PRICES.first,
      secondBefore! + TWO_OFFERS_PRICES.second,
    ]);
    expect(server.settlements.at(-1)).toMatchObject({
      payTo: server.secondPayTo,
      amount: TWO_OFFERS_PRICES.second,
    });
  });

  it('a reference client without the token in its spend controls refuses to pay', async () => {
    const client = new x402Client().register(server.token.network, new ExactEvmClientScheme(payer));
    const pay = wrapFetchWithPayment(fetch, client);
    const settledBefore = server.settlements.length;
    await expect(pay(`${server.url}/weather`)).rejects.toThrow(/spendControls/);
    expect(server.settlements).toHaveLength(settledBefore);
  });

  it('refuses a payment from an account without funds with a precise reason', async () => {
    const broke = devAccount(7);
    const client = new x402Client()
      .register(server.token.network, new ExactEvmClientScheme(broke))
      .setSpendControls({
        allowedAssets: [{ network: server.token.network, asset: server.token.address }],
      });
    const response = await wrapFetchWithPayment(fetch, client)(`${server.url}/weather`);
    expect(response.status).toBe(402);
    const refused = decodePaymentRequiredHeader(response.headers.get('payment-required') ?? '');
    expect(refused.error).toBe('invalid_exact_evm_insufficient_balance');
  });
});

describe('startX402Server options', () => {
  it('registers the local network with the facilitator and exposes its signer', async () => {
    const supported = await server.facilitator.client.getSupported();
    expect(supported.kinds).toContainEqual({
      x402Version: 2,
      scheme: 'exact',
      network: 'eip155:31337',
    });
    expect(Object.values(supported.signers).flat()).toContain(server.facilitator.address);
  });

  it('serves custom routes on a shared chain and close() leaves that chain running', async () => {
    const custom = await startX402Server({
      chain: server.chain,
      routes: [
        {
          method: 'GET',
          path: '/custom',
          accepts: [{ amount: 7n, maxTimeoutSeconds: 60 }],
          handler: (c) => c.text('custom'),
        },
      ],
    });
    try {
      const unpaid = await fetch(`${custom.url}/custom`);
      const required = decodePaymentRequiredHeader(unpaid.headers.get('payment-required') ?? '');
      expect(required.accepts[0]).toMatchObject({ amount: '7', maxTimeoutSeconds: 60 });
      expect((await fetch(`${custom.url}/weather`)).status).toBe(404);
      const paid = await referenceClient().pay(`${custom.url}/custom`);
      expect(await paid.text()).toBe('custom');
      expect(custom.settlements.map((s) => s.amount)).toEqual([7n]);
    } finally {
      await custom.close();
    }
    await expect(fetch(`${custom.url}/custom`)).rejects.toThrow();
    expect(await server.chain.publicClient.getChainId()).toBe(31337);
  });
});
