import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, randomBytes32, sha256Hex } from './bytes.js';
import { lightningFaults } from './faults.js';
import { createInvoice, createNodeKey, decodeInvoice } from './invoice.js';
import { LightningPaymentError } from './payment-error.js';
import { createLightningNetwork } from './simulator.js';

const MAX_FEE = 10_000n;

async function rejection(promise: Promise<unknown>): Promise<LightningPaymentError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LightningPaymentError) return error;
    throw error;
  }
  throw new Error('expected the payment to be rejected');
}

function setup() {
  const network = createLightningNetwork();
  const shop = network.createNode({ alias: 'shop' });
  return { network, shop };
}

describe('createLightningNetwork', () => {
  it('issues real regtest invoices from a node key and settles them with the preimage', async () => {
    const { network, shop } = setup();
    const invoice = shop.createInvoice({ amountMsat: 100_000n, description: 'L402' });
    expect(invoice.bolt11.startsWith('lnbcrt1u1')).toBe(true);
    expect(decodeInvoice(invoice.bolt11).payeeNodeKey).toBe(shop.pubkey);
    expect(network.node(shop.pubkey)).toBe(shop);
    expect(shop.invoiceCount).toBe(1);
    expect(shop.lookupInvoice(invoice.paymentHash)?.state).toBe('open');
    expect(network.lookup(invoice.paymentHash).status).toBe('unknown');

    const result = await network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE });
    expect(result.preimage).toBe(invoice.preimage);
    expect(result.preimage).toMatch(/^[0-9a-f]{64}$/);
    expect(sha256Hex(hexToBytes(result.preimage))).toBe(invoice.paymentHash);
    expect(result.paymentHash).toBe(invoice.paymentHash);
    expect(result.amountMsat).toBe(100_000n);
    expect(result.feeMsat).toBe(1_100n); // 1000 msat base + 1000 ppm of 100 000 msat

    expect(network.lookup(invoice.paymentHash)).toEqual({
      status: 'succeeded',
      paymentHash: invoice.paymentHash,
      preimage: invoice.preimage,
      feeMsat: 1_100n,
      amountMsat: 100_000n,
    });
    const status = network.invoiceStatus(invoice.paymentHash);
    expect(status?.state).toBe('settled');
    expect(status?.amountPaidMsat).toBe(100_000n);
    expect(network.stats()).toMatchObject({
      attempts: 1,
      succeeded: 1,
      sentMsat: 100_000n,
      feesMsat: 1_100n,
    });
  });

  it('refuses a second payment of the same invoice like LND', async () => {
    const { network, shop } = setup();
    const invoice = shop.createInvoice({ amountMsat: 5_000n });
    await network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE });
    const error = await rejection(network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE }));
    expect(error.code).toBe('invoice_already_paid');
    expect(error.message).toBe('invoice is already paid');
    expect(error.settled).toBe('no');
    expect(network.stats()).toMatchObject({ attempts: 2, succeeded: 1, refused: 1 });
    expect(network.payments.map((p) => p.status)).toEqual(['succeeded', 'refused']);
  });

  it('refuses expired invoices', async () => {
    let clock = 1_700_000_000_000;
    const network = createLightningNetwork({ now: () => clock });
    const shop = network.createNode();
    const invoice = shop.createInvoice({ amountMsat: 1_000n, expirySeconds: 60 });
    clock += 60_000;
    const error = await rejection(network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE }));
    expect(error.code).toBe('invoice_expired');
    expect(error.message).toMatch(/^invoice expired\. Valid until 2023-11-14T22:14:20\.000Z$/);
    expect(network.invoiceStatus(invoice.paymentHash)?.expired).toBe(true);
    expect(network.stats().succeeded).toBe(0);
  });

  it('settles only invoices issued through the simulator', async () => {
    const { network } = setup();
    const foreign = createInvoice({
      nodeKey: createNodeKey(),
      amountMsat: 1_000n,
      paymentHash: sha256Hex(randomBytes32()),
    });
    const error = await rejection(network.pay(foreign.bolt11, { maxFeeMsat: MAX_FEE }));
    expect(error.code).toBe('unknown_invoice');
    expect(network.lookup(foreign.paymentHash).status).toBe('failed');

    const garbage = await rejection(network.pay('lnbcrt1garbage', { maxFeeMsat: MAX_FEE }));
    expect(garbage.code).toBe('invalid_invoice');
    expect(garbage.paymentHash).toBeNull();

    const mainnet = createInvoice({
      nodeKey: createNodeKey(),
      network: 'mainnet',
      amountMsat: 1_000n,
      paymentHash: sha256Hex(randomBytes32()),
    });
    expect((await rejection(network.pay(mainnet.bolt11, { maxFeeMsat: MAX_FEE }))).code).toBe(
      'wrong_network',
    );
  });

  it('pays amountless invoices only with an explicit amount', async () => {
    const { network, shop } = setup();
    const invoice = shop.createInvoice();
    expect((await rejection(network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE }))).code).toBe(
      'amount_required',
    );
    const paid = await network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE, amountMsat: 2_000n });
    expect(paid.amountMsat).toBe(2_000n);
    const priced = shop.createInvoice({ amountMsat: 1_000n });
    const mismatch = await rejection(
      network.pay(priced.bolt11, { maxFeeMsat: MAX_FEE, amountMsat: 1_000n }),
    );
    expect(mismatch.code).toBe('amount_mismatch');
  });

  it('enforces maxFeeMsat against the route fee', async () => {
    const network = createLightningNetwork({ routeFeeMsat: () => 5_000n });
    const shop = network.createNode();
    const invoice = shop.createInvoice({ amountMsat: 1_000n });
    const error = await rejection(network.pay(invoice.bolt11, { maxFeeMsat: 4_999n }));
    expect(error.code).toBe('fee_limit_exceeded');
    expect(network.invoiceStatus(invoice.paymentHash)?.state).toBe('open');
    const ok = await network.pay(invoice.bolt11, { maxFeeMsat: 5_000n });
    expect(ok.feeMsat).toBe(5_000n);
  });

  it('records the payer label and rejects a bad fee limit', async () => {
    const { network, shop } = setup();
    const invoice = shop.createInvoice({ amountMsat: 1_000n });
    await expect(network.pay(invoice.bolt11, { maxFeeMsat: -1n })).rejects.toThrow(
      /maxFeeMsat must be a bigint >= 0/,
    );
    await network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE, payer: 'agent-1' });
    expect(network.payments[0]?.payer).toBe('agent-1');
  });
});

describe('fault injection', () => {
  it('timeoutThenSettle: the call times out, the payment settles, lookup recovers the preimage', async () => {
    const { network, shop } = setup();
    const invoice = shop.createInvoice({ amountMsat: 10_000n });
    network.injectFault(lightningFaults.timeoutThenSettle({ settleAfterMs: 30 }));
    const error = await rejection(network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE }));
    expect(error.code).toBe('timeout');
    expect(error.settled).toBe('unknown');
    expect(error.paymentHash).toBe(invoice.paymentHash);
    expect(network.lookup(invoice.paymentHash).status).toBe('in_flight');
    expect(network.invoiceStatus(invoice.paymentHash)?.state).toBe('accepted');

    // Paying again while in flight is refused, as LND does.
    const again = await rejection(network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE }));
    expect(again.code).toBe('payment_in_flight');

    await network.idle();
    const looked = network.lookup(invoice.paymentHash);
    expect(looked).toMatchObject({ status: 'succeeded', preimage: invoice.preimage });
    expect(network.stats()).toMatchObject({ attempts: 2, succeeded: 1, refused: 1 });
    expect(network.payments[0]).toMatchObject({
      status: 'succeeded',
      callTimedOut: true,
      fault: 'timeoutThenSettle',
    });
  });

  it('timeoutThenSettle with no delay is already settled when the timeout is seen', async () => {
    const { network, shop } = setup();
    const invoice = shop.createInvoice({ amountMsat: 10_000n });
    network.injectFault(lightningFaults.timeoutThenSettle());
    expect((await rejection(network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE }))).code).toBe(
      'timeout',
    );
    expect(network.lookup(invoice.paymentHash).status).toBe('succeeded');
  });

  it('fail: nothing is paid and the invoice can be paid later', async () => {
    const { network, shop } = setup();
    const invoice = shop.createInvoice({ amountMsat: 10_000n });
    network.injectFault(lightningFaults.fail('FAILURE_REASON_INSUFFICIENT_BALANCE'));
    const error = await rejection(network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE }));
    expect(error.code).toBe('payment_failed');
    expect(error.message).toContain('FAILURE_REASON_INSUFFICIENT_BALANCE');
    expect(network.lookup(invoice.paymentHash)).toMatchObject({
      status: 'failed',
      reason: 'payment_failed',
    });
    expect(network.invoiceStatus(invoice.paymentHash)?.state).toBe('open');
    await network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE });
    expect(network.lookup(invoice.paymentHash).status).toBe('succeeded');
    expect(network.stats()).toMatchObject({ attempts: 2, failed: 1, succeeded: 1 });
  });

  it('wrongPreimage: settles, but reports a preimage that does not hash to the payment hash', async () => {
    const { network, shop } = setup();
    const invoice = shop.createInvoice({ amountMsat: 10_000n });
    network.injectFault(lightningFaults.wrongPreimage());
    const result = await network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE });
    expect(result.preimage).toMatch(/^[0-9a-f]{64}$/);
    expect(sha256Hex(hexToBytes(result.preimage))).not.toBe(invoice.paymentHash);
    expect(network.invoiceStatus(invoice.paymentHash)?.state).toBe('settled');
    const looked = network.lookup(invoice.paymentHash);
    expect(looked.status === 'succeeded' && looked.preimage).toBe(result.preimage);
  });

  it('slow: resolves after the delay when within the timeout', async () => {
    const { network, shop } = setup();
    const invoice = shop.createInvoice({ amountMsat: 10_000n });
    network.injectFault(lightningFaults.slow(40));
    const started = Date.now();
    const pending = network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE });
    expect(network.lookup(invoice.paymentHash).status).toBe('in_flight');
    const result = await pending;
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    expect(result.preimage).toBe(invoice.preimage);
  });

  it('slow beyond timeoutMs: the call times out and the payment settles later', async () => {
    const { network, shop } = setup();
    const invoice = shop.createInvoice({ amountMsat: 10_000n });
    network.injectFault(lightningFaults.slow(80));
    const error = await rejection(
      network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE, timeoutMs: 10 }),
    );
    expect(error.code).toBe('timeout');
    expect(network.lookup(invoice.paymentHash).status).toBe('in_flight');
    await network.idle();
    expect(network.lookup(invoice.paymentHash).status).toBe('succeeded');
  });

  it('feeAboveCap: fails without paying, whatever the cap', async () => {
    const { network, shop } = setup();
    const invoice = shop.createInvoice({ amountMsat: 10_000n });
    network.injectFault(lightningFaults.feeAboveCap());
    const error = await rejection(network.pay(invoice.bolt11, { maxFeeMsat: 1_000_000n }));
    expect(error.code).toBe('fee_limit_exceeded');
    expect(error.message).toContain('1000001 msat exceeds maxFeeMsat 1000000 msat');
    expect(network.invoiceStatus(invoice.paymentHash)?.state).toBe('open');
    expect(network.stats()).toMatchObject({ succeeded: 0, failed: 1, sentMsat: 0n });
  });

  it('scopes faults to a payment hash and counts uses', async () => {
    const { network, shop } = setup();
    const a = shop.createInvoice({ amountMsat: 1_000n });
    const b = shop.createInvoice({ amountMsat: 1_000n });
    network.injectFault(lightningFaults.fail(), { paymentHash: b.paymentHash, times: 2 });
    await network.pay(a.bolt11, { maxFeeMsat: MAX_FEE });
    expect((await rejection(network.pay(b.bolt11, { maxFeeMsat: MAX_FEE }))).code).toBe(
      'payment_failed',
    );
    expect((await rejection(network.pay(b.bolt11, { maxFeeMsat: MAX_FEE }))).code).toBe(
      'payment_failed',
    );
    await network.pay(b.bolt11, { maxFeeMsat: MAX_FEE });
    expect(network.stats()).toMatchObject({ succeeded: 2, failed: 2 });
  });

  it('applies next-payment faults in order, skipping calls refused before routing', async () => {
    const { network, shop } = setup();
    const paid = shop.createInvoice({ amountMsat: 1_000n });
    await network.pay(paid.bolt11, { maxFeeMsat: MAX_FEE });
    network.injectFault(lightningFaults.fail());
    network.injectFault(lightningFaults.wrongPreimage());
    // Refused as already paid: does not consume the fault.
    await rejection(network.pay(paid.bolt11, { maxFeeMsat: MAX_FEE }));
    const one = shop.createInvoice({ amountMsat: 1_000n });
    const two = shop.createInvoice({ amountMsat: 1_000n });
    const three = shop.createInvoice({ amountMsat: 1_000n });
    expect((await rejection(network.pay(one.bolt11, { maxFeeMsat: MAX_FEE }))).code).toBe(
      'payment_failed',
    );
    expect((await network.pay(two.bolt11, { maxFeeMsat: MAX_FEE })).preimage).not.toBe(
      two.preimage,
    );
    expect((await network.pay(three.bolt11, { maxFeeMsat: MAX_FEE })).preimage).toBe(
      three.preimage,
    );
    network.injectFault(lightningFaults.fail());
    network.clearFaults();
    const four = shop.createInvoice({ amountMsat: 1_000n });
    expect((await network.pay(four.bolt11, { maxFeeMsat: MAX_FEE })).preimage).toBe(four.preimage);
  });

  it('close() settles in-flight payments at once', async () => {
    const { network, shop } = setup();
    const invoice = shop.createInvoice({ amountMsat: 1_000n });
    network.injectFault(lightningFaults.slow(60_000));
    const pending = network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE, timeoutMs: 120_000 });
    network.close();
    expect((await pending).preimage).toBe(invoice.preimage);
  });

  it('issues description-hash invoices (h tag, signed by the node) that settle like any other', async () => {
    const { network, shop } = setup();
    const descriptionHash = sha256Hex(new TextEncoder().encode('request'));
    const invoice = shop.createInvoice({ amountMsat: 2_000n, descriptionHash, expirySeconds: 300 });
    expect(invoice.descriptionHash).toBe(descriptionHash);
    expect(invoice.description).toBeNull();
    expect(decodeInvoice(invoice.bolt11).payeeNodeKey).toBe(shop.pubkey);
    const paid = await network.pay(invoice.bolt11, { maxFeeMsat: MAX_FEE });
    expect(paid.preimage).toBe(invoice.preimage);
    expect(shop.lookupInvoice(invoice.paymentHash)?.state).toBe('settled');
  });

  it('accepts a caller-chosen preimage and refuses duplicates', () => {
    const { shop } = setup();
    const preimage = bytesToHex(randomBytes32());
    const invoice = shop.createInvoice({ amountMsat: 1_000n, preimage });
    expect(invoice.paymentHash).toBe(sha256Hex(hexToBytes(preimage)));
    expect(() => shop.createInvoice({ preimage })).toThrow(/already exists/);
    expect(() => lightningFaults.slow(-1)).toThrow(/>= 0/);
  });
});
