/**
 * x402 `exact` on Lightning (`lnbtc`) end to end: `createPayingFetch` + the x402 adapter +
 * `lightningWallet` pay the testkit's lnbtc seller (written from the spec; real signed BOLT 11
 * invoices whose description hash binds the request) over the simulated Lightning network (a
 * stand-in: paying is a registry lookup). Money is counted at the rail: the payer's balance,
 * the seller's settled invoices, and the client's ledger must agree.
 */
import { getPayment } from '@stipend/client';
import { createLightningNetwork } from '@stipend/testkit/lightning';
import { type LnbtcSeller, startLnbtcSeller } from '@stipend/testkit/lnbtc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committed, PAYER_START_MSAT, paidHashes, payerBalance, payingSetup } from './helpers.js';

const network = createLightningNetwork();
let seller: LnbtcSeller;

beforeAll(async () => {
  seller = await startLnbtcSeller({ network });
});
afterAll(() => seller.close());

describe('x402 lnbtc: Stipend pays the testkit seller', () => {
  it('GET: one invoice paid, served once, ledger = rail', async () => {
    const { payingFetch, sent } = payingSetup(network, 'get-agent');
    const settledBefore = seller.settledOnRailMsat();
    const response = await payingFetch(`${seller.url}article/A`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ method: 'GET', path: '/article/A' });
    expect(getPayment(response)?.status).toBe('paid');
    expect(sent).toEqual(['GET /article/A', 'GET /article/A']);

    const hashes = paidHashes(network, 'get-agent');
    expect(hashes).toHaveLength(1);
    expect(seller.settlements.at(-1)).toMatchObject({ paymentHash: hashes[0], served: true });
    expect(seller.settledOnRailMsat() - settledBefore).toBe(25_000n);
    const spent = PAYER_START_MSAT - payerBalance(network, 'get-agent');
    expect(spent).toBeGreaterThan(25_000n); // the amount plus the routing fee
    const records = await committed(payingFetch);
    expect(records).toHaveLength(1);
    expect(records[0]!.amount.value).toBe(25_000n);
    expect(records[0]!.reference).toBe(hashes[0]);
    expect(records[0]!.payee).toBe(seller.node.pubkey);
  });

  it('POST with a JSON body and bound headers: the invoice binds the exact bytes sent', async () => {
    const { payingFetch, sent } = payingSetup(network, 'post-agent');
    const settledBefore = seller.settledOnRailMsat();
    const body = JSON.stringify({ symbol: 'BTCUSD', window: '1d' });
    const response = await payingFetch(`${seller.url}report`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/json', 'X-Account': 'acct-7' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ method: 'POST', path: '/report', body });
    expect(sent).toEqual(['POST /report', 'POST /report']);
    const hashes = paidHashes(network, 'post-agent');
    expect(hashes).toHaveLength(1);
    expect(seller.settledOnRailMsat() - settledBefore).toBe(50_000n);
    const records = await committed(payingFetch);
    expect(records.map((r) => [r.amount.value, r.reference])).toEqual([[50_000n, hashes[0]]]);
  });

  it('POST with an implicit Content-Type (a string body): bound as fetch sends it', async () => {
    const { payingFetch } = payingSetup(network, 'implicit-agent');
    const response = await payingFetch(`${seller.url}report`, {
      method: 'POST',
      body: 'plain text',
      headers: { 'X-Account': 'acct-8' },
    });
    expect(response.status).toBe(200);
    expect(paidHashes(network, 'implicit-agent')).toHaveLength(1);
  });

  it('one idempotency key pays once across calls', async () => {
    const { payingFetch } = payingSetup(network, 'key-agent');
    const init = { payment: { idempotencyKey: 'article-k' } };
    const first = await payingFetch(`${seller.url}article/K`, init);
    expect(first.status).toBe(200);
    // The same purchase again, whatever it answers, is never paid a second time.
    await payingFetch(`${seller.url}article/K`, init).catch((error: unknown) => error);
    expect(paidHashes(network, 'key-agent')).toHaveLength(1);
  });
});
