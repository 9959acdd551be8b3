import { describe, expect, it } from 'vitest';
import { createLightningNetwork } from '../lightning/simulator.js';
import { LnbtcSellerError } from './reasons.js';
import {
  type IssuedLnbtcInvoice,
  LNBTC_NETWORK_IDS,
  type LnbtcRequirement,
  verifyLnbtcProof,
} from './verify.js';

const HASH_A = '0d6623f775e025501fa7f0a30b54da25aad62b6ccfe35c85da38016711e6c018';
const HASH_B = '4a99860f75eed1ea8178a5db488e044173bc570c8a6210f2c8590cdf8622d509';

function setup(options: { description?: string } = {}) {
  const rail = createLightningNetwork();
  const node = rail.createNode();
  const now = Math.floor(Date.now() / 1000);
  const invoice = node.createInvoice({
    amountMsat: 25_000n,
    expirySeconds: 300,
    timestamp: now,
    ...(options.description !== undefined
      ? { description: options.description }
      : { descriptionHash: HASH_A }),
  });
  const expected: LnbtcRequirement = {
    scheme: 'exact',
    network: LNBTC_NETWORK_IDS.regtest,
    amount: '25000',
    asset: 'BTC',
    payTo: node.pubkey,
    maxTimeoutSeconds: 300,
    extra: {
      assetTransferMethod: 'bolt11',
      paymentFlow: 'upfront',
      requestHash: HASH_A,
      requestBindingProfile: 'http:1',
      requestBindingParams: { headers: [] },
    },
  };
  const issued = new Map<string, IssuedLnbtcInvoice>([
    [
      invoice.paymentHash,
      { bolt11: invoice.bolt11, network: expected.network, amount: '25000', requestHash: HASH_A },
    ],
  ]);
  const header = (
    accepted: object = { ...expected, extra: { ...expected.extra, invoice: invoice.bolt11 } },
  ) =>
    Buffer.from(
      JSON.stringify({ x402Version: 2, accepted, payload: { preimage: invoice.preimage } }),
    ).toString('base64');
  const verify = (h = header(), exp = expected) =>
    verifyLnbtcProof({
      header: h,
      expected: exp,
      nowSec: now,
      clockSkewSec: 60,
      rail,
      issued,
      consumed: new Set(),
    });
  return { rail, invoice, expected, header, verify };
}

function reason(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof LnbtcSellerError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('verifyLnbtcProof', () => {
  it('refuses a correct preimage of an issued invoice the receiver was never paid (key isolation 2.3)', async () => {
    const { rail, invoice, verify } = setup();
    expect(reason(verify)).toBe('exact_lnbtc_invoice_not_settled');
    await rail.pay(invoice.bolt11, { maxFeeMsat: 10_000n });
    expect(reason(verify)).toBe('accepted');
  });

  it('refuses an invoice bound to another request, whatever the echo says', async () => {
    const { rail, invoice, expected, header, verify } = setup();
    await rail.pay(invoice.bolt11, { maxFeeMsat: 10_000n });
    const actualB = { ...expected, extra: { ...expected.extra, requestHash: HASH_B } };
    // The echo kept: the request changed under it.
    expect(reason(() => verify(header(), actualB))).toBe('invalid_exact_lnbtc_request_mismatch');
    // The echo follows the new request: the invoice still commits to A.
    const echoB = { ...actualB, extra: { ...actualB.extra, invoice: invoice.bolt11 } };
    expect(reason(() => verify(header(echoB), actualB))).toBe(
      'invalid_exact_lnbtc_invoice_request_mismatch',
    );
  });

  it('refuses an invoice with an inline description instead of a description hash', async () => {
    const { rail, invoice, verify } = setup({ description: 'article A' });
    await rail.pay(invoice.bolt11, { maxFeeMsat: 10_000n });
    expect(reason(verify)).toBe('invalid_exact_lnbtc_invoice_description');
  });
});
