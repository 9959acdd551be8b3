/**
 * The peer: Alby's `@getalby/lightning-tools` 10.0.0 `fetchWithX402` pays the same testkit
 * lnbtc seller as Stipend does, with a minimal wallet (`payInvoice`) over the simulated
 * Lightning network (a stand-in). Alby pays only mainnet, testnet and signet, so the seller
 * and the simulator run on signet here. Money is counted at the rail.
 */
import { fetchWithX402 } from '@getalby/lightning-tools/402/x402';
import { getPayment } from '@stipend/client';
import { createLightningNetwork } from '@stipend/testkit/lightning';
import { type LnbtcSeller, startLnbtcSeller } from '@stipend/testkit/lnbtc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paidHashes, payingSetup } from './helpers.js';

const network = createLightningNetwork({ network: 'signet' });
let seller: LnbtcSeller;

beforeAll(async () => {
  seller = await startLnbtcSeller({ network });
});
afterAll(() => seller.close());

/** The wallet Alby's helper needs, paying on the simulator. */
const albyWallet = {
  async payInvoice({ invoice }: { invoice: string }) {
    const paid = await network.pay(invoice, { maxFeeMsat: 10_000n, payer: 'alby' });
    // Alby's interface takes the fee as a number of msat.
    return { preimage: paid.preimage, fees_paid: Number(paid.feeMsat) };
  },
};

describe('x402 lnbtc peer: Alby fetchWithX402 and Stipend pay the same seller', () => {
  it('Alby pays a GET once and is served', async () => {
    const before = seller.settledOnRailMsat();
    const response = await fetchWithX402(`${seller.url}article/A`, {}, { wallet: albyWallet });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ method: 'GET', path: '/article/A' });
    const hashes = paidHashes(network, 'alby');
    expect(hashes).toHaveLength(1);
    expect(response.payment?.paid).toBe(true);
    expect(seller.settlements.at(-1)).toMatchObject({ paymentHash: hashes[0], served: true });
    expect(seller.settledOnRailMsat() - before).toBe(25_000n);
  });

  it('Alby pays a POST whose bound headers and JSON body it sends itself', async () => {
    const before = seller.settledOnRailMsat();
    const body = JSON.stringify({ symbol: 'BTCUSD' });
    const response = await fetchWithX402(
      `${seller.url}report`,
      { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-account': 'a1' } },
      { wallet: albyWallet },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ method: 'POST', body });
    expect(paidHashes(network, 'alby')).toHaveLength(2);
    expect(seller.settledOnRailMsat() - before).toBe(50_000n);
  });

  it('Stipend pays the same seller on signet: one payment, ledger = rail', async () => {
    const { payingFetch } = payingSetup(network, 'stipend');
    const before = seller.settledOnRailMsat();
    const response = await payingFetch(`${seller.url}article/B`);
    expect(response.status).toBe(200);
    expect(getPayment(response)?.status).toBe('paid');
    const hashes = paidHashes(network, 'stipend');
    expect(hashes).toHaveLength(1);
    expect(seller.settledOnRailMsat() - before).toBe(25_000n);
    const records = (await payingFetch.ledger.list()).filter((r) => r.status === 'committed');
    expect(records.map((r) => [r.amount.value, r.reference])).toEqual([[25_000n, hashes[0]]]);
  });

  it("Alby's paid proof cannot be replayed: the seller refuses it, nothing is paid again", async () => {
    const first = await fetchWithX402(`${seller.url}article/R`, {}, { wallet: albyWallet });
    expect(first.status).toBe(200);
    const credentials = first.payment!.credentials;
    const paidBefore = paidHashes(network, 'alby').length;
    // Alby's own rule: with credentials it never pays again, even on a 402.
    const replay = await fetchWithX402(
      `${seller.url}article/R`,
      {},
      { wallet: albyWallet, credentials },
    );
    expect(replay.status).toBe(402);
    expect(paidHashes(network, 'alby')).toHaveLength(paidBefore);
    expect(seller.rejections.at(-1)?.reason).toBe('duplicate_settlement');
  });
});
