import type { Network } from '@x402/core/types';
import { ExactEvmSchemeV1 as ExactEvmClientSchemeV1 } from '@x402/evm/exact/v1/client';
import { wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChain } from '../chain/chain.js';
import { devAccount } from '../chain/dev-accounts.js';
import { v1NetworkForChainId } from './facilitator.js';
import { WEATHER_PRICE, WEATHER_REPORT } from './routes.js';
import { startX402Server, type X402ServerHandle } from './server.js';
import type { PaymentRequiredBodyV1 } from './v1-middleware.js';

const payer = devAccount(5);
// v1 spend controls match the v1 network name at run time; the type only admits CAIP-2 ids.
const V1_NETWORK = 'base-sepolia' as Network;
let server: X402ServerHandle;

beforeAll(async () => {
  server = await startX402Server({ version: 1 });
  await server.chain.mint(payer.address, 1_000_000n);
});

afterAll(async () => {
  await server?.close();
});

function decodeBase64Json(value: string | null): Record<string, unknown> {
  return JSON.parse(Buffer.from(value ?? '', 'base64').toString('utf8'));
}

describe('x402 v1 mode (own v1 HTTP layer over the reference facilitator v1 path)', () => {
  it('runs on a local chain with id 84532 posing as base-sepolia', () => {
    expect(server.version).toBe(1);
    expect(server.chain.chainId).toBe(84532);
    expect(server.network).toBe('base-sepolia');
    expect(v1NetworkForChainId(84532)).toBe('base-sepolia');
    expect(v1NetworkForChainId(31337)).toBeUndefined();
  });

  it('answers unpaid with a v1 JSON body and no PAYMENT-REQUIRED header', async () => {
    const response = await fetch(`${server.url}/weather`);
    expect(response.status).toBe(402);
    expect(response.headers.get('payment-required')).toBeNull();
    const body = (await response.json()) as PaymentRequiredBodyV1;
    expect(body).toEqual({
      x402Version: 1,
      error: 'X-PAYMENT header is required',
      accepts: [
        {
          scheme: 'exact',
          network: 'base-sepolia',
          maxAmountRequired: '1000',
          resource: `${server.url}/weather`,
          description: 'Weather report',
          mimeType: 'application/json',
          outputSchema: null,
          payTo: server.payTo,
          maxTimeoutSeconds: 300,
          asset: server.token.address,
          extra: { name: 'USDC', version: '2' },
        },
      ],
    });
  });

  it('is paid by the reference @x402/fetch v1 client; a replayed X-PAYMENT is refused', async () => {
    const client = new x402Client()
      .registerV1('base-sepolia', new ExactEvmClientSchemeV1(payer))
      .setSpendControls({
        allowedAssets: [{ network: V1_NETWORK, asset: server.token.address }],
      });
    const sent: Request[] = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      sent.push(request.clone());
      return fetch(request);
    };
    const pay = wrapFetchWithPayment(recordingFetch, client);
    const payerBefore = await server.chain.balanceOf(payer.address);
    const payeeBefore = await server.chain.balanceOf(server.payTo);

    const response = await pay(`${server.url}/weather`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ report: WEATHER_REPORT });
    const receipt = decodeBase64Json(response.headers.get('x-payment-response'));
    expect(receipt).toMatchObject({ success: true, network: 'base-sepolia', payer: payer.address });
    expect(server.settlements).toHaveLength(1);
    expect(server.settlements[0]).toMatchObject({
      x402Version: 1,
      transaction: receipt.transaction,
      amount: WEATHER_PRICE,
      payer: payer.address,
      payTo: server.payTo,
    });
    expect(await server.chain.balanceOf(payer.address)).toBe(payerBefore - 1000n);
    expect(await server.chain.balanceOf(server.payTo)).toBe(payeeBefore + 1000n);

    const xPayment = sent[1]?.headers.get('x-payment');
    expect(sent[1]?.headers.get('payment-signature')).toBeNull();
    expect(decodeBase64Json(xPayment ?? null)).toMatchObject({
      x402Version: 1,
      scheme: 'exact',
      network: 'base-sepolia',
    });

    const replay = await fetch(`${server.url}/weather`, {
      headers: { 'X-PAYMENT': xPayment ?? '' },
    });
    expect(replay.status).toBe(402);
    const refused = (await replay.json()) as PaymentRequiredBodyV1;
    expect(refused.error).toBe('invalid_exact_evm_nonce_already_used');
    expect(server.settlements).toHaveLength(1);
    expect(await server.chain.balanceOf(server.payTo)).toBe(payeeBefore + 1000n);
  });

  it('POST /echo keeps the body across the v1 paid retry', async () => {
    const client = new x402Client()
      .registerV1('base-sepolia', new ExactEvmClientSchemeV1(payer))
      .setSpendControls({
        allowedAssets: [{ network: V1_NETWORK, asset: server.token.address }],
      });
    const response = await wrapFetchWithPayment(fetch, client)(`${server.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'plain body ✓',
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('plain body ✓');
  });

  it('rejects garbage in X-PAYMENT without settling', async () => {
    const before = server.settlements.length;
    const response = await fetch(`${server.url}/weather`, { headers: { 'X-PAYMENT': '%%%' } });
    expect(response.status).toBe(402);
    expect(((await response.json()) as PaymentRequiredBodyV1).error).toMatch(/Invalid X-PAYMENT/);
    expect(server.settlements).toHaveLength(before);
  });

  it('refuses to serve v1 on a chain id that has no v1 network name', async () => {
    const chain = await startChain();
    try {
      await expect(startX402Server({ version: 1, chain })).rejects.toThrow(/chainId: 84532/);
    } finally {
      await chain.stop();
    }
  });
});
