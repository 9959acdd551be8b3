import { describe, expect, it } from 'vitest';
import { lightningFaults } from './faults.js';
import { createLightningNetwork } from './simulator.js';
import { SimulatorBackendError, simulatorBackend } from './simulator-backend.js';

function setup() {
  const network = createLightningNetwork();
  const shop = network.createNode({ alias: 'shop' });
  const agent = network.createNode({ alias: 'agent' });
  return { network, shop, agent };
}

describe('simulatorBackend', () => {
  it('pays an invoice, labelled with the payer node, and reports preimage and fee', async () => {
    const { network, shop, agent } = setup();
    const invoice = shop.createInvoice({ amountMsat: 5_000n });
    const backend = simulatorBackend(network, { node: agent });
    const paid = await backend.pay({
      invoice: invoice.bolt11,
      paymentHash: invoice.paymentHash,
      maxFeeMsat: 2_000n,
      timeoutMs: 1_000,
    });
    expect(paid).toEqual({ preimage: invoice.preimage, feeMsat: 1_005n });
    expect(network.payments[0]).toMatchObject({ payer: 'agent', status: 'succeeded' });
    expect(await backend.lookup(invoice.paymentHash)).toEqual({
      status: 'succeeded',
      preimage: invoice.preimage,
      feeMsat: 1_005n,
    });
    expect(backend.calls).toEqual([
      `pay ${invoice.paymentHash} fee<=2000`,
      `lookup ${invoice.paymentHash}`,
    ]);
  });

  it('rejects a sure failure as not_paid and a second payment of a hash as unknown', async () => {
    const { network, shop } = setup();
    const invoice = shop.createInvoice({ amountMsat: 5_000n });
    const backend = simulatorBackend(network);
    const request = { invoice: invoice.bolt11, paymentHash: invoice.paymentHash, timeoutMs: 1_000 };
    const capped = await backend.pay({ ...request, maxFeeMsat: 1n }).catch((e: unknown) => e);
    expect(capped).toBeInstanceOf(SimulatorBackendError);
    expect(capped).toMatchObject({ code: 'fee_limit_exceeded', outcome: 'not_paid' });
    await backend.pay({ ...request, maxFeeMsat: 5_000n });
    const again = await backend.pay({ ...request, maxFeeMsat: 5_000n }).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'invoice_already_paid', outcome: 'unknown' });
    expect(await backend.lookup('00'.repeat(32))).toEqual({ status: 'not_found' });
  });

  it('builds its errors with the factory given, and reports failed payments on lookup', async () => {
    const { network, shop } = setup();
    const invoice = shop.createInvoice({ amountMsat: 5_000n });
    network.injectFault(lightningFaults.fail('no liquidity'));
    class WalletSideError extends Error {}
    const backend = simulatorBackend(network, {
      error: (code, message, outcome) => new WalletSideError(`${code}/${outcome}: ${message}`),
    });
    const error = await backend
      .pay({
        invoice: invoice.bolt11,
        paymentHash: invoice.paymentHash,
        maxFeeMsat: 5_000n,
        timeoutMs: 1_000,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalletSideError);
    expect((error as Error).message).toMatch(/^payment_failed\/not_paid: /);
    expect(await backend.lookup(invoice.paymentHash)).toMatchObject({ status: 'failed' });
  });
});
