/**
 * No repeated work on the paid L402 path: one 402 → one reading of its invoice and of its
 * token, shared by the client's L402 adapter and this wallet (canPay, payeeOf, referenceFor,
 * pay), and one signature recovery. A held credential reads and recovers nothing.
 */
import {
  createPayingFetch,
  fixedPriceSource,
  getPayment,
  l402Adapter,
  type PaymentOffer,
} from '@stipend/client';
import { createLightningNetwork, startL402Server } from '@stipend/testkit/l402';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { secpRecover } from '#secp-recover';
import { simulatorBackend } from './simulator.test-helpers.js';
import { lightningWallet } from './wallet.js';

const reads = vi.hoisted(() => ({ invoices: [] as unknown[], tokens: [] as unknown[] }));

vi.mock('../../client/src/protocols/bolt11.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../client/src/protocols/bolt11.js')>();
  return {
    ...actual,
    readBolt11: (invoice: string) => {
      const summary = actual.readBolt11(invoice);
      reads.invoices.push(summary);
      return summary;
    },
  };
});
vi.mock('../../client/src/protocols/l402/macaroon.ts', async (importOriginal) => {
  const actual =
    await importOriginal<typeof import('../../client/src/protocols/l402/macaroon.js')>();
  return {
    ...actual,
    readMacaroon: (token: string) => {
      const info = actual.readMacaroon(token);
      reads.tokens.push(info);
      return info;
    },
  };
});

const network = createLightningNetwork();
let server: Awaited<ReturnType<typeof startL402Server>>;
beforeAll(async () => {
  server = await startL402Server({ network });
});
afterAll(async () => {
  await server.close();
  network.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

function setup() {
  const wallet = lightningWallet({ backend: simulatorBackend(network), network: 'regtest' });
  const asked: string[] = [];
  for (const method of ['canPay', 'payeeOf', 'referenceFor', 'pay'] as const) {
    const original = wallet[method] as (offer: PaymentOffer, ...rest: unknown[]) => unknown;
    (wallet as unknown as Record<string, unknown>)[method] = (
      offer: PaymentOffer,
      ...rest: unknown[]
    ) => {
      asked.push(method);
      return original.call(wallet, offer, ...rest);
    };
  }
  const payingFetch = createPayingFetch({
    adapters: [l402Adapter()],
    wallets: [wallet],
    policy: { global: { maxPerRequest: { usd: '1.00' } } },
    prices: fixedPriceSource({ btcUsd: '100000' }),
  });
  return { payingFetch, asked };
}

describe('the paid L402 path does its work once', () => {
  it('an invoice and its token are read once and the signer recovered once per paid call, across the adapter and the wallet', async () => {
    const { payingFetch, asked } = setup();
    const recover = vi.spyOn(secpRecover, 'recover');
    reads.invoices.length = 0;
    reads.tokens.length = 0;

    const response = await payingFetch(`${server.url}/quote`);
    expect(response.status).toBe(200);
    expect(getPayment(response)?.status).toBe('paid');

    // The adapter and the wallet both asked, and all got the one reading.
    expect(asked).toEqual(expect.arrayContaining(['canPay', 'payeeOf', 'referenceFor', 'pay']));
    expect(reads.invoices.length).toBeGreaterThanOrEqual(2);
    expect(new Set(reads.invoices).size).toBe(1);
    expect(reads.tokens.length).toBeGreaterThanOrEqual(2);
    expect(new Set(reads.tokens).size).toBe(1);
    expect(recover).toHaveBeenCalledTimes(1);
  });

  it('a call with a held credential reads no invoice, no token, and recovers nothing', async () => {
    const { payingFetch } = setup();
    await (await payingFetch(`${server.url}/quote`)).arrayBuffer();
    const recover = vi.spyOn(secpRecover, 'recover');
    reads.invoices.length = 0;
    reads.tokens.length = 0;

    const again = await payingFetch(`${server.url}/quote`);
    expect(again.status).toBe(200);
    expect(getPayment(again)).toBeUndefined();
    expect(reads.invoices).toEqual([]);
    expect(reads.tokens).toEqual([]);
    expect(recover).not.toHaveBeenCalled();
  });
});
