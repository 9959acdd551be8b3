import { msatUnit } from '@stipend/client';
import { createLightningNetwork, startLndRestStandIn } from '@stipend/testkit/lightning';
import { describe, expect, it } from 'vitest';
import { lndRestBackend } from './lnd-rest.js';
import { l402Offer } from './simulator.test-helpers.js';
import { lightningWallet } from './wallet.js';

// Against the testkit's LND-REST-protocol stand-in (not LND): GET /v1/balance/channels.
describe('lightningWallet.balance', () => {
  it("reports what the node can spend (LND's channel local balance) for msat offers", async () => {
    const network = createLightningNetwork({ network: 'regtest' });
    const shop = network.createNode({ alias: 'shop' });
    const lnd = await startLndRestStandIn(network, { localBalanceMsat: 123_456_000n });
    try {
      const wallet = lightningWallet({
        network: 'regtest',
        backend: lndRestBackend({ url: lnd.url, macaroon: lnd.macaroonHex }),
      });
      const { offer } = l402Offer(shop);
      const held = await wallet.balance!(offer, { signal: new AbortController().signal });
      expect(held).toEqual({ value: 123_456_000n, unit: msatUnit });
      // Not an msat offer: the wallet cannot tell.
      const usd = {
        ...offer,
        amount: { value: 1n, unit: { kind: 'fiat', currency: 'USD', exponent: 2 } },
      };
      expect(
        await wallet.balance!(usd as typeof offer, { signal: new AbortController().signal }),
      ).toBe(undefined);
    } finally {
      await lnd.close();
    }
  });
});
