import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeInvoice } from '../lightning/invoice.js';
import { createLightningNetwork } from '../lightning/simulator.js';
import { sellerHttpBinding } from './binding.js';
import { type LnbtcPaymentRequired, type LnbtcSeller, startLnbtcSeller } from './seller.js';
import { LNBTC_SPEC_REQUIREMENT } from './vectors.js';

const rail = createLightningNetwork();
let seller: LnbtcSeller;

beforeAll(async () => {
  seller = await startLnbtcSeller({ network: rail });
});
afterAll(() => seller.close());

const decode = (header: string | null) =>
  JSON.parse(Buffer.from(header ?? '', 'base64').toString('utf8')) as LnbtcPaymentRequired;

/** Pays the challenge's invoice on the rail and builds the PAYMENT-SIGNATURE value. */
async function pay(required: LnbtcPaymentRequired): Promise<string> {
  const accepted = required.accepts[0]!;
  const { preimage } = await rail.pay(accepted.extra.invoice!, { maxFeeMsat: 10_000n });
  return Buffer.from(JSON.stringify({ x402Version: 2, accepted, payload: { preimage } })).toString(
    'base64',
  );
}

describe('the lnbtc testkit seller', () => {
  it('answers 402 with a fresh invoice signed by payTo that binds the request it received', async () => {
    const body = '{"q":1}';
    const init = {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-account': 'a1' },
    };
    const res = await fetch(`${seller.url}report`, init);
    expect(res.status).toBe(402);
    const required = decode(res.headers.get('payment-required'));
    const requirement = required.accepts[0]!;
    expect(required.resource.url).toBe(`${seller.origin}/report`);
    expect(requirement).toMatchObject({
      scheme: 'exact',
      network: 'lnbtc:0f9188f13cb7b2c71f2a335e3a4fc328',
      amount: '50000',
      asset: 'BTC',
      payTo: seller.node.pubkey,
      maxTimeoutSeconds: 300,
      extra: {
        paymentFlow: 'upfront',
        requestBindingProfile: 'http:1',
        requestBindingParams: { headers: ['content-type', 'x-account'] },
      },
    });
    const expected = sellerHttpBinding({
      method: 'POST',
      url: `${seller.origin}/report`,
      body: new TextEncoder().encode(body),
      headerLines: Object.entries(init.headers),
      boundHeaders: ['content-type', 'x-account'],
    }).requestHash;
    expect(requirement.extra.requestHash).toBe(expected);
    const invoice = decodeInvoice(requirement.extra.invoice!);
    expect(invoice.descriptionHash).toBe(expected);
    expect(invoice.payeeNodeKey).toBe(seller.node.pubkey);
    expect(invoice.amountMsat).toBe(50_000n);
    expect(invoice.expirySeconds).toBe(300);
    // Fresh each time: a second 402 carries another invoice.
    const again = decode(
      (await fetch(`${seller.url}report`, init)).headers.get('payment-required'),
    );
    expect(again.accepts[0]!.extra.invoice).not.toBe(requirement.extra.invoice);
  });

  it("computes the spec's request hash for the spec's request (GET article A on api.example.com)", async () => {
    const spec = await startLnbtcSeller({ network: rail, publicOrigin: 'https://api.example.com' });
    try {
      const port = new URL(spec.url).port;
      const header = await new Promise<string>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/article/A', headers: { host: 'api.example.com' } },
          (res) => {
            res.resume();
            resolve(String(res.headers['payment-required']));
          },
        );
        req.on('error', reject);
        req.end();
      });
      const required = decode(header);
      expect(required.resource.url).toBe('https://api.example.com/article/A');
      expect(required.accepts[0]!.extra.requestHash).toBe(LNBTC_SPEC_REQUIREMENT.extra.requestHash);
    } finally {
      await spec.close();
    }
  });

  it('serves a paid request once, with PAYMENT-RESPONSE naming the payment hash and no payer', async () => {
    const first = await fetch(`${seller.url}article/A`);
    const required = decode(first.headers.get('payment-required'));
    const signature = await pay(required);
    const paid = await fetch(`${seller.url}article/A`, {
      headers: { 'payment-signature': signature },
    });
    expect(paid.status).toBe(200);
    const receipt = decode(paid.headers.get('payment-response')) as unknown as Record<
      string,
      unknown
    >;
    const hash = decodeInvoice(required.accepts[0]!.extra.invoice!).paymentHash;
    expect(receipt).toEqual({ success: true, transaction: hash, network: seller.networkId });
    expect(seller.settlements.at(-1)).toMatchObject({ paymentHash: hash, amountMsat: 25_000n });

    // The same preimage again: refused, nothing served.
    const replay = await fetch(`${seller.url}article/A`, {
      headers: { 'payment-signature': signature },
    });
    expect(replay.status).toBe(402);
    expect(decode(replay.headers.get('payment-required')).error).toBe('duplicate_settlement');
  });

  it('refuses a proof for another request (article A paid, article B asked)', async () => {
    const required = decode(
      (await fetch(`${seller.url}article/A`)).headers.get('payment-required'),
    );
    const signature = await pay(required);
    const other = await fetch(`${seller.url}article/B`, {
      headers: { 'payment-signature': signature },
    });
    expect(other.status).toBe(402);
    expect(decode(other.headers.get('payment-required')).error).toBe(
      'invalid_exact_lnbtc_request_mismatch',
    );
  });

  it('refuses an invoice it did not issue, even signed by its own node key (a co-tenant)', async () => {
    const required = decode(
      (await fetch(`${seller.url}article/A`)).headers.get('payment-required'),
    );
    const accepted = required.accepts[0]!;
    const own = seller.node.createInvoice({
      amountMsat: 25_000n,
      descriptionHash: accepted.extra.requestHash,
      expirySeconds: 300,
    });
    const forged = { ...accepted, extra: { ...accepted.extra, invoice: own.bolt11 } };
    const signature = Buffer.from(
      JSON.stringify({ x402Version: 2, accepted: forged, payload: { preimage: own.preimage } }),
    ).toString('base64');
    const res = await fetch(`${seller.url}article/A`, {
      headers: { 'payment-signature': signature },
    });
    expect(res.status).toBe(402);
    expect(decode(res.headers.get('payment-required')).error).toBe(
      'exact_lnbtc_invoice_not_issued',
    );
  });

  it('counts what the receiver was paid at the rail', async () => {
    const before = seller.settledOnRailMsat();
    const required = decode(
      (await fetch(`${seller.url}article/C`)).headers.get('payment-required'),
    );
    await pay(required);
    expect(seller.settledOnRailMsat() - before).toBe(25_000n);
  });
});
