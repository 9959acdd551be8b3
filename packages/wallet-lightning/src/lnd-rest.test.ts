import { WalletError } from '@stipend/client';
import { lightningFaults } from '@stipend/testkit/l402';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lndRestBackend } from './lnd-rest.js';
import { type LndRestStandIn, startLndRestStandIn } from './lnd-rest.test-helpers.js';
import { context, l402Offer, shop } from './simulator.test-helpers.js';
import { lightningWallet } from './wallet.js';

// Against an LND-REST-protocol stand-in (not LND): see lnd-rest.test-helpers.ts.
const MACAROON = '0201036c6e6402f801'.padEnd(64, 'a');
const { network, node } = shop();
let lnd: LndRestStandIn;

beforeAll(async () => {
  lnd = await startLndRestStandIn(network, MACAROON);
});
afterAll(async () => {
  await lnd.close();
});

describe('lndRestBackend', () => {
  it('pays with an explicit fee cap and the macaroon header, and looks the payment up', async () => {
    const backend = lndRestBackend({
      url: `${lnd.url}/`,
      macaroon: Buffer.from(MACAROON, 'hex').toString('base64'),
    });
    const wallet = lightningWallet({ backend, network: 'regtest' });
    const { offer, paymentHash, preimage } = l402Offer(node, { maxFeeMsat: 3_000n });
    const proof = await wallet.pay(offer, context());
    expect(proof.secret).toEqual({ preimage });
    expect(proof.fee?.value).toBe(1_100n);
    const send = lnd.requests.find((r) => r.path === '/v2/router/send')!;
    expect(send.macaroon).toBe(MACAROON);
    expect(send.body).toMatchObject({
      payment_request: (offer.raw as { invoice: string }).invoice,
      fee_limit_msat: '3000',
      no_inflight_updates: true,
    });
    expect(await backend.lookup(paymentHash)).toEqual({
      status: 'succeeded',
      preimage,
      feeMsat: 1_100n,
    });
    expect(await backend.lookup('00'.repeat(32))).toEqual({ status: 'not_found' });
  });

  it('reports a failed payment as not paid, with the failure reason', async () => {
    const wallet = lightningWallet({
      backend: lndRestBackend({ url: lnd.url, macaroon: MACAROON }),
      network: 'regtest',
    });
    network.injectFault(lightningFaults.feeAboveCap());
    const error = await wallet.pay(l402Offer(node).offer, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalletError);
    expect((error as WalletError).paid).toBe(false);
    expect((error as Error).message).toMatch(/FAILURE_REASON_NO_ROUTE/);
  });

  it('turns a client-side timeout into a lookup that finds the settled payment', async () => {
    const backend = lndRestBackend({ url: lnd.url, macaroon: MACAROON });
    const wallet = lightningWallet({ backend, network: 'regtest', payTimeoutMs: 100 });
    const { offer, preimage } = l402Offer(node);
    network.injectFault(lightningFaults.slow(300));
    const proof = await wallet.pay(offer, context());
    expect(proof.secret).toEqual({ preimage });
    const tracks = lnd.requests.filter((r) => r.path.startsWith('/v2/router/track/'));
    expect(tracks.length).toBeGreaterThan(0);
    expect(network.payments.filter((p) => p.paymentHash === proof.reference)).toHaveLength(1);
  });

  it('maps an already-paid refusal to a lookup (no double payment) and a bad macaroon to not paid', async () => {
    const { offer, preimage } = l402Offer(node);
    await network.pay((offer.raw as { invoice: string }).invoice, { maxFeeMsat: 10_000n });
    const wallet = lightningWallet({
      backend: lndRestBackend({ url: lnd.url, macaroon: MACAROON }),
      network: 'regtest',
    });
    expect((await wallet.pay(offer, context())).secret).toEqual({ preimage });

    const locked = lightningWallet({
      backend: lndRestBackend({ url: lnd.url, macaroon: 'ff'.repeat(32) }),
      network: 'regtest',
    });
    const error = await locked.pay(l402Offer(node).offer, context()).catch((e: unknown) => e);
    expect((error as WalletError).paid).toBe(false);
    expect((error as Error).message).toMatch(/verification failed/);
  });
});
