/**
 * NWC is tested at the client interface: a fake `NWCClient` (same method shapes as
 * `@getalby/sdk` 8.0.3, throwing the SDK's real error classes) that pays through the
 * simulated Lightning network. No Nostr relay runs here (none is installed, and a relay
 * would be a stand-in too), so the NIP-47 transport itself is not exercised.
 */

import { Nip47ReplyTimeoutError, Nip47WalletError } from '@getalby/sdk/nwc';
import { WalletError } from '@stipend/client';
import {
  type LightningNetwork,
  LightningPaymentError,
  lightningFaults,
} from '@stipend/testkit/l402';
import { describe, expect, it } from 'vitest';
import { type NwcClientLike, nwcBackend } from './nwc.js';
import { context, l402Offer, shop } from './simulator.test-helpers.js';
import { lightningWallet } from './wallet.js';

function fakeNwc(
  network: LightningNetwork,
  options: { refuse?: string; replyTimeout?: boolean } = {},
) {
  const calls: string[] = [];
  const client: NwcClientLike = {
    async payInvoice({ invoice }) {
      calls.push('pay_invoice');
      if (options.refuse) throw new Nip47WalletError('wallet says no', options.refuse);
      const pending = network.pay(invoice, { maxFeeMsat: 1_000_000n, payer: 'nwc' });
      if (options.replyTimeout) {
        pending.catch(() => {});
        throw new Nip47ReplyTimeoutError('reply timeout: event abc', 'INTERNAL');
      }
      try {
        const paid = await pending;
        return { preimage: paid.preimage, fees_paid: Number(paid.feeMsat) };
      } catch (error) {
        const code = error instanceof LightningPaymentError ? error.code : 'INTERNAL';
        throw new Nip47WalletError(`payment failed: ${code}`, 'PAYMENT_FAILED');
      }
    },
    async lookupInvoice({ payment_hash }) {
      calls.push('lookup_invoice');
      const found = network.lookup(payment_hash);
      if (found.status === 'unknown') throw new Nip47WalletError('not found', 'NOT_FOUND');
      if (found.status === 'succeeded') {
        return {
          state: 'settled',
          preimage: found.preimage,
          fees_paid: Number(found.feeMsat),
          settled_at: 1,
        };
      }
      return { state: found.status === 'failed' ? 'failed' : 'pending' };
    },
  };
  return { client, calls };
}

describe('nwcBackend (fake NWC client at the NIP-47 method interface)', () => {
  it('pays with pay_invoice; fees_paid is msat; lookup_invoice finds it', async () => {
    const { network, node } = shop();
    const { client } = fakeNwc(network);
    const backend = nwcBackend({ client });
    const { offer, paymentHash, preimage } = l402Offer(node);
    const proof = await lightningWallet({ backend, network: 'regtest' }).pay(offer, context());
    expect(proof.secret).toEqual({ preimage });
    expect(proof.fee?.value).toBe(1_100n);
    expect(await backend.lookup(paymentHash)).toEqual({
      status: 'succeeded',
      preimage,
      feeMsat: 1_100n,
    });
    expect(await backend.lookup('00'.repeat(32))).toEqual({ status: 'not_found' });
  });

  it('a wallet refusal (Nip47WalletError INSUFFICIENT_BALANCE) is not paid, without a lookup', async () => {
    const { network, node } = shop();
    const { client, calls } = fakeNwc(network, { refuse: 'INSUFFICIENT_BALANCE' });
    const error = await lightningWallet({ backend: nwcBackend({ client }), network: 'regtest' })
      .pay(l402Offer(node).offer, context())
      .catch((e: unknown) => e);
    expect((error as WalletError).paid).toBe(false);
    expect(calls).toEqual(['pay_invoice']);
  });

  it('PAYMENT_FAILED is checked with lookup_invoice before it counts as not paid', async () => {
    const { network, node } = shop();
    network.injectFault(lightningFaults.fail());
    const { client, calls } = fakeNwc(network);
    const error = await lightningWallet({ backend: nwcBackend({ client }), network: 'regtest' })
      .pay(l402Offer(node).offer, context())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalletError);
    expect((error as WalletError).paid).toBe(false);
    expect(calls).toEqual(['pay_invoice', 'lookup_invoice']);
  });

  it('a reply timeout is an unknown outcome that lookup_invoice settles, paying once', async () => {
    const { network, node } = shop();
    network.injectFault(lightningFaults.slow(100));
    const { client } = fakeNwc(network, { replyTimeout: true });
    const { offer, preimage } = l402Offer(node);
    const proof = await lightningWallet({
      backend: nwcBackend({ client }),
      network: 'regtest',
    }).pay(offer, context());
    expect(proof.secret).toEqual({ preimage });
    expect(network.stats().attempts).toBe(1);
  });
});
