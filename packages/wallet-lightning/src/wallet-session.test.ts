import { freezeOffer, msat, type PaymentOffer } from '@stipend/client';
import { createLightningNetwork, simulatorBackend } from '@stipend/testkit/lightning';
import { describe, expect, it } from 'vitest';
import { LightningBackendError } from './backend.js';
import { lightningWallet } from './wallet.js';

function setup() {
  const network = createLightningNetwork();
  const shop = network.createNode({ alias: 'shop' });
  const agent = network.createNode({ alias: 'agent' });
  const error = (code: string, message: string, outcome: 'not_paid' | 'unknown', cause: unknown) =>
    new LightningBackendError(code, message, outcome, cause);
  const withNode = lightningWallet({
    network: 'regtest',
    backend: simulatorBackend(network, { node: agent, error }),
    maxFeeMsat: 10_000n,
  });
  const without = lightningWallet({
    network: 'regtest',
    backend: simulatorBackend(network, { error }),
    maxFeeMsat: 10_000n,
  });
  return { network, shop, agent, withNode, without };
}

function sessionOffer(
  invoice: string,
  session: 'unit' | 'deposit',
  amountMsat: bigint,
): PaymentOffer {
  return freezeOffer({
    id: `mpp:c1${session === 'deposit' ? ':deposit' : ''}`,
    protocol: 'mpp',
    scheme: 'lightning.session',
    amount: msat(amountMsat),
    maxFee: msat(10_000n),
    payee: 'unverified',
    network: 'lightning',
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/generate',
    reusable: false,
    raw: { invoice, session, challenge: {}, request: {} },
  });
}

describe('lightningWallet and Lightning sessions', () => {
  it('pays a session only through its deposit invoice: the unit-price offer is refused', () => {
    const { shop, withNode } = setup();
    const invoice = shop.createInvoice({ amountMsat: 40_000n }).bolt11;
    expect(withNode.canPay(sessionOffer(invoice, 'unit', 40_000n))).toMatch(/deposit invoice/);
    expect(withNode.canPay(sessionOffer(invoice, 'deposit', 40_000n))).toBe(true);
    // The deposit offer carries the amount the policy decided: an invoice above it is refused.
    expect(withNode.canPay(sessionOffer(invoice, 'deposit', 30_000n))).toMatch(/asks more/);
  });

  it('creates an amountless return invoice on its own node and sees the refund arrive', async () => {
    const { network, agent, withNode } = setup();
    const created = await withNode.createInvoice!({ expirySec: 3600, memo: 'refund' });
    expect(agent.lookupInvoice(created.paymentHash)).toBeDefined();
    expect((await withNode.lookupInvoice!(created.paymentHash)).state).toBe('open');
    await network.pay(created.invoice, { maxFeeMsat: 10_000n, amountMsat: 12_000n, payer: 'shop' });
    const settled = await withNode.lookupInvoice!(created.paymentHash);
    expect(settled).toMatchObject({ state: 'settled', amountPaidMsat: 12_000n });
  });

  it('without invoice support in the backend the wallet has no createInvoice (sessions refused)', () => {
    const { without } = setup();
    expect(without.createInvoice).toBeUndefined();
    expect(without.lookupInvoice).toBeUndefined();
  });
});
