/**
 * Shared set-up of the x402 `lnbtc` suites: a paying fetch with the x402 adapter and a
 * Lightning wallet paying through the testkit's simulated network (a stand-in: real signed
 * invoices, paying is a registry lookup), and money counted at that rail.
 */
import {
  createPayingFetch,
  fixedPriceSource,
  type PayingFetch,
  type SpendRecord,
} from '@stipend/client';
import type { LightningNetwork } from '@stipend/testkit/lightning';
import { lightningWallet } from '@stipend/wallet-lightning';
import { simulatorBackend } from '../../packages/wallet-lightning/src/simulator.test-helpers.js';

/** $100,000 per BTC: 25 sat = $0.025. */
export const prices = fixedPriceSource({ btcUsd: '100000' });

export const policy = {
  global: {
    maxPerRequest: { usd: '1.00' },
    limits: [{ usd: '100', window: { calendar: 'day' as const } }],
  },
};

/** The payer's starting balance on the simulated rail, msat. */
export const PAYER_START_MSAT = 100_000_000n;

/** A paying fetch over the simulator, its requests counted as `METHOD /path`. */
export function payingSetup(network: LightningNetwork, payer = 'agent') {
  const sent: string[] = [];
  const counting: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    sent.push(`${init?.method ?? 'GET'} ${url.pathname}`);
    return fetch(input, init);
  };
  const wallet = lightningWallet({
    network: network.network,
    backend: simulatorBackend(network, { payer }),
  });
  // The drop-in's default adapters: x402 with Lightning (lnbtc) on, L402, MPP.
  const payingFetch: PayingFetch = createPayingFetch({
    wallets: [wallet],
    policy,
    prices,
    fetch: counting,
  });
  return { payingFetch, sent, wallet };
}

/** The payer's balance at the rail: start minus every amount and fee it paid. */
export function payerBalance(network: LightningNetwork, payer = 'agent'): bigint {
  let spent = 0n;
  for (const payment of network.payments) {
    if (payment.payer === payer && payment.status === 'succeeded') {
      spent += (payment.amountMsat ?? 0n) + (payment.feeMsat ?? 0n);
    }
  }
  return PAYER_START_MSAT - spent;
}

/** Invoices the payer paid at the rail (payment hashes). */
export function paidHashes(network: LightningNetwork, payer = 'agent'): string[] {
  return network.payments
    .filter((payment) => payment.payer === payer && payment.status === 'succeeded')
    .map((payment) => payment.paymentHash!);
}

/** Committed ledger records: msat and payment hashes. */
export async function committed(payingFetch: PayingFetch): Promise<SpendRecord[]> {
  return (await payingFetch.ledger.list()).filter((record) => record.status === 'committed');
}
