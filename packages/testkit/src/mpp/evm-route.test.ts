import { evm as evmClient, Mppx as MppxClient } from 'mppx/client';
import type { Hex } from 'viem';
import { getAddress, recoverTypedDataAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TRANSFER_WITH_AUTHORIZATION_TYPES } from '../chain/eip3009.js';
import type { Eip3009SettleInput } from './evm-settle.js';
import type { MppServer } from './mpp-server.js';
import { startMppServer } from './mpp-server.js';

const token = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const payee = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
/** Anvil dev account #4 (public test key). */
const payer = privateKeyToAccount(
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
);
const fakeTxHash = `0x${'ab'.repeat(32)}` as Hex;

describe('startMppServer evm/charge route (x402-compatible)', () => {
  let server: MppServer;
  let settled: Eip3009SettleInput[];

  beforeEach(async () => {
    settled = [];
    server = await startMppServer({
      evm: {
        // Never contacted: settlement is injected below.
        rpcUrl: 'http://127.0.0.1:9',
        tokenAddress: token,
        chainId: 31337,
        recipient: payee,
        amount: '0.25',
        settle: async (input) => {
          settled.push(input);
          return { reference: fakeTxHash };
        },
      },
    });
  });
  afterEach(async () => {
    await server.close();
  });

  it('is not mounted without the evm option', async () => {
    const plain = await startMppServer();
    try {
      expect((await fetch(plain.urlOf('/evm/article'))).status).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it('emits an x402 PAYMENT-REQUIRED next to WWW-Authenticate: Payment method="evm"', async () => {
    const response = await fetch(server.urlOf('/evm/article'));
    expect(response.status).toBe(402);
    const www = response.headers.get('www-authenticate') ?? '';
    expect(www).toMatch(
      /^Payment id="[^"]+", realm="testkit\.stipend\.local", method="evm", intent="charge"/,
    );
    const request = /request="([^"]+)"/.exec(www)?.[1] ?? '';
    expect(JSON.parse(Buffer.from(request, 'base64url').toString('utf8'))).toMatchObject({
      amount: '250000',
      currency: token,
      recipient: payee,
      methodDetails: { chainId: 31337, credentialTypes: ['authorization'], decimals: 6 },
    });

    const paymentRequired = response.headers.get('payment-required') ?? '';
    const x402 = JSON.parse(Buffer.from(paymentRequired, 'base64').toString('utf8'));
    expect(x402.x402Version).toBe(2);
    expect(x402.resource.url).toBe(server.urlOf('/evm/article'));
    expect(x402.accepts).toHaveLength(1);
    expect(x402.accepts[0]).toMatchObject({
      scheme: 'exact',
      network: 'eip155:31337',
      amount: '250000',
      asset: token,
      payTo: payee,
      extra: { name: 'USDC', version: '2' },
    });
    expect(server.challenges.map((c) => [c.route, c.method])).toEqual([['/evm/article', 'evm']]);
  });

  it('accepts a real mppx EIP-3009 credential and hands the authorization to settle', async () => {
    const client = MppxClient.create({
      polyfill: false,
      fetch,
      methods: [
        evmClient.charge({ account: payer, authorization: { name: 'USDC', version: '2' } }),
      ],
    });
    const response = await client.fetch(server.urlOf('/evm/article'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ title: 'EVM article' });
    const receipt = JSON.parse(
      Buffer.from(response.headers.get('payment-receipt') ?? '', 'base64url').toString('utf8'),
    );
    expect(receipt).toMatchObject({ method: 'evm', status: 'success', reference: fakeTxHash });

    expect(settled).toHaveLength(1);
    const { payload, request } = settled[0] as Eip3009SettleInput;
    expect(getAddress(payload.from)).toBe(payer.address);
    expect(getAddress(payload.to)).toBe(payee);
    expect(payload.value).toBe('250000');
    expect(getAddress(request.currency)).toBe(token);
    const signer = await recoverTypedDataAddress({
      domain: { name: 'USDC', version: '2', chainId: 31337, verifyingContract: token },
      types: TRANSFER_WITH_AUTHORIZATION_TYPES,
      primaryType: 'TransferWithAuthorization',
      message: {
        from: getAddress(payload.from),
        to: getAddress(payload.to),
        value: BigInt(payload.value),
        validAfter: BigInt(payload.validAfter),
        validBefore: BigInt(payload.validBefore),
        nonce: payload.nonce as Hex,
      },
      signature: payload.signature as Hex,
    });
    expect(signer).toBe(payer.address);
    expect(server.payments.map((p) => [p.method, p.receipt.reference])).toEqual([
      ['evm', fakeTxHash],
    ]);
  });
});
