import { WalletError } from '@stipend/client';
import { lightningFaults } from '@stipend/testkit/l402';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightningBackend } from './backend.js';
import { lndGrpcBackend } from './lnd-grpc.js';
import { type LndGrpcStandIn, startLndGrpcStandIn } from './lnd-grpc.test-helpers.js';
import { context, l402Offer, shop } from './simulator.test-helpers.js';
import { lightningWallet } from './wallet.js';

// The real `lightning` package (gRPC, TLS, macaroon metadata) against an LND-protocol
// stand-in that is NOT LND: see lnd-grpc.test-helpers.ts.
const MACAROON = '0201036c6e64'.padEnd(80, 'b');
const { network, node } = shop();
let lnd: LndGrpcStandIn;
let backend: LightningBackend;

beforeAll(async () => {
  lnd = await startLndGrpcStandIn(network, MACAROON, node.pubkey);
  backend = lndGrpcBackend({ socket: lnd.socket, cert: lnd.cert, macaroon: MACAROON });
});
afterAll(async () => {
  backend.close?.();
  await lnd.close();
});

describe('lndGrpcBackend (lightning@12.5.0 over gRPC)', () => {
  it('pays through SendPaymentV2 with an explicit fee cap and finds it with TrackPaymentV2', async () => {
    const wallet = lightningWallet({ backend, network: 'regtest' });
    const { offer, paymentHash, preimage } = l402Offer(node, { maxFeeMsat: 4_000n });
    const proof = await wallet.pay(offer, context());
    expect(proof.secret).toEqual({ preimage });
    expect(proof.fee?.value).toBe(1_100n);
    const send = lnd.calls.find((c) => c.rpc === 'SendPaymentV2')!;
    expect(send.macaroon).toBe(MACAROON);
    expect(send.request).toMatchObject({
      payment_request: (offer.raw as { invoice: string }).invoice,
      fee_limit_msat: '4000',
    });
    expect(await backend.lookup(paymentHash)).toEqual({
      status: 'succeeded',
      preimage,
      feeMsat: 1_100n,
    });
    expect(await backend.lookup('00'.repeat(32))).toEqual({ status: 'not_found' });
  });

  it('reports a failed route as not paid', async () => {
    const wallet = lightningWallet({ backend, network: 'regtest' });
    network.injectFault(lightningFaults.fail());
    const error = await wallet.pay(l402Offer(node).offer, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalletError);
    expect((error as WalletError).paid).toBe(false);
    expect((error as Error).message).toMatch(/PaymentPathfindingFailedToFindPossibleRoute/);
  });

  it('after a timeout, reconciles by payment hash and pays once', async () => {
    const wallet = lightningWallet({ backend, network: 'regtest', payTimeoutMs: 150 });
    const { offer, paymentHash, preimage } = l402Offer(node);
    network.injectFault(lightningFaults.slow(400));
    const proof = await wallet.pay(offer, context());
    expect(proof.secret).toEqual({ preimage });
    expect(lnd.calls.some((c) => c.rpc === 'TrackPaymentV2')).toBe(true);
    expect(network.payments.filter((p) => p.paymentHash === paymentHash)).toHaveLength(1);
  });

  it('an already-paid hash is looked up, not paid again; a wrong macaroon pays nothing', async () => {
    const { offer, preimage } = l402Offer(node);
    await network.pay((offer.raw as { invoice: string }).invoice, { maxFeeMsat: 10_000n });
    const wallet = lightningWallet({ backend, network: 'regtest' });
    expect((await wallet.pay(offer, context())).secret).toEqual({ preimage });

    const locked = lndGrpcBackend({
      socket: lnd.socket,
      cert: lnd.cert,
      macaroon: 'cc'.repeat(40),
    });
    try {
      const before = network.stats().attempts;
      const error = await lightningWallet({ backend: locked, network: 'regtest', settleWaitMs: 50 })
        .pay(l402Offer(node).offer, context())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WalletError);
      expect((error as WalletError).paid).not.toBe(true);
      expect(network.stats().attempts).toBe(before);
    } finally {
      locked.close?.();
    }
  });
});
