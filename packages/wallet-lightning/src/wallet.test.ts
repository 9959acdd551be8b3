import { msat, WalletError } from '@stipend/client';
import { lightningFaults } from '@stipend/testkit/l402';
import { describe, expect, it } from 'vitest';
import { type LightningBackend, LightningBackendError } from './backend.js';
import { hexToBytes, toStdBase64 } from './bytes.js';
import { encodeMacaroon } from './macaroon.js';
import { memoryPaymentStore } from './payments.js';
import {
  context,
  l402Offer,
  mppOffer,
  ORIGIN,
  shop,
  simulatorBackend,
} from './simulator.test-helpers.js';
import { lightningWallet } from './wallet.js';

async function walletError(promise: Promise<unknown>): Promise<WalletError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WalletError);
  return error as WalletError;
}

describe('lightningWallet: paying', () => {
  it('pays an L402 offer with the offer fee cap and returns a normalised preimage proof', async () => {
    const { network, node } = shop();
    const backend = simulatorBackend(network, { preimageAs: (hex) => hex.toUpperCase() });
    const wallet = lightningWallet({ backend, network: 'regtest' });
    const { offer, paymentHash, preimage } = l402Offer(node, { maxFeeMsat: 5_000n });
    expect(wallet.rails).toEqual(['l402:bolt11', 'mpp:lightning.charge']);
    expect(await wallet.canPay(offer)).toBe(true);
    const proof = await wallet.pay(offer, context());
    expect(proof).toEqual({
      offerId: offer.id,
      reference: paymentHash,
      settlement: 'final',
      paid: msat(100_000n),
      fee: msat(1_100n),
      secret: { preimage },
    });
    expect(network.payments).toHaveLength(1);
    expect(network.payments[0]!.maxFeeMsat).toBe(5_000n);
    expect((await wallet.payments.get(paymentHash))?.state).toBe('succeeded');
  });

  it('uses its own cap when it is below the offer maxFee, and base64 preimages normalise', async () => {
    const { network, node } = shop();
    const wallet = lightningWallet({
      backend: simulatorBackend(network, { preimageAs: (hex) => toStdBase64(hexToBytes(hex)) }),
      network: 'regtest',
      maxFeeMsat: 2_000n,
    });
    const { offer, preimage } = l402Offer(node, { maxFeeMsat: 50_000n });
    expect((await wallet.pay(offer, context())).secret).toEqual({ preimage });
    expect(network.payments[0]!.maxFeeMsat).toBe(2_000n);
  });

  it('pays an MPP lightning charge with the { payload: { preimage } } secret', async () => {
    const { network, node } = shop();
    const wallet = lightningWallet({ backend: simulatorBackend(network), network: 'regtest' });
    const { offer, preimage } = mppOffer(node);
    expect((await wallet.pay(offer, context())).secret).toEqual({ payload: { preimage } });
  });

  it('pays a payment hash once, even for concurrent calls and later calls', async () => {
    const { network, node } = shop();
    const wallet = lightningWallet({ backend: simulatorBackend(network), network: 'regtest' });
    const { offer } = l402Offer(node);
    network.injectFault(lightningFaults.slow(30));
    const proofs = await Promise.all([1, 2, 3, 4, 5].map(() => wallet.pay(offer, context())));
    expect(new Set(proofs.map((p) => (p.secret as { preimage: string }).preimage)).size).toBe(1);
    await wallet.pay(offer, context());
    expect(network.stats().attempts).toBe(1);
  });
});

describe('lightningWallet: checks before paying (nothing is paid)', () => {
  const { network, node } = shop();
  const backend = simulatorBackend(network);
  const wallet = lightningWallet({
    backend,
    network: 'regtest',
    maxAmountMsat: 1_000_000n,
    payees: { 'https://pinned.example': '02'.padEnd(66, '1') },
  });
  const mainnet = shop('mainnet');
  const signet = shop('signet');

  const cases: Array<[string, () => ReturnType<typeof l402Offer>['offer'], RegExp]> = [
    [
      'an invoice of another network',
      () => l402Offer(mainnet.node).offer,
      /is for mainnet but this wallet pays on regtest/,
    ],
    ['a signet invoice', () => l402Offer(signet.node).offer, /is for signet/],
    [
      'an amountless invoice',
      () => l402Offer(node, { amountMsat: null, offerAmountMsat: 1n }).offer,
      /amountless/,
    ],
    [
      'an expired invoice (no x tag: the 3600 s default)',
      () =>
        l402Offer(node, { expirySeconds: null, timestamp: Math.floor(Date.now() / 1000) - 3601 })
          .offer,
      /expires at/,
    ],
    [
      'an invoice inside the safety margin',
      () => l402Offer(node, { expirySeconds: 30 }).offer,
      /less than 60 s from now/,
    ],
    [
      'a macaroon bound to another payment hash',
      () => l402Offer(node, { macaroonHash: 'ee'.repeat(32) }).offer,
      /not the one in the token/,
    ],
    [
      'an unknown identifier version',
      () =>
        l402Offer(node, {
          token: toStdBase64(
            encodeMacaroon({
              location: 'lsat',
              identifier: Uint8Array.from([0, 1, ...new Array(64).fill(3)]),
              caveats: [],
              signature: new Uint8Array(32),
            }),
          ),
        }).offer,
      /unknown L402 identifier version 1/,
    ],
    [
      'an amount above maxAmountMsat',
      () => l402Offer(node, { amountMsat: 2_000_000n }).offer,
      /above this wallet's maxAmountMsat/,
    ],
    [
      'an invoice above the approved offer amount',
      () => l402Offer(node, { amountMsat: 5_000n, offerAmountMsat: 4_000n }).offer,
      /asks more than the offer/,
    ],
    [
      'an invoice signed by a node not pinned for the origin',
      () => l402Offer(node, { origin: 'https://pinned.example' }).offer,
      /not by a node pinned/,
    ],
  ];
  it.each(cases)('refuses %s', async (_, make, why) => {
    const offer = make();
    const verdict = await wallet.canPay(offer);
    expect(verdict).toMatch(why);
    const error = await walletError(wallet.pay(offer, context()));
    expect(error.paid).toBe(false);
    expect(error.code).toBe('LIGHTNING_REFUSED');
    expect(backend.calls).toEqual([]);
  });

  it('accepts the pinned node and an opaque token', async () => {
    const pinned = lightningWallet({
      backend: simulatorBackend(network),
      network: 'regtest',
      payees: { [ORIGIN]: [node.pubkey.toUpperCase()] },
    });
    expect(await pinned.canPay(l402Offer(node).offer)).toBe(true);
    expect(await pinned.canPay(l402Offer(node, { token: 'opaque.token' }).offer)).toBe(true);
  });

  it('refuses an MPP request naming another payment hash', async () => {
    const { offer } = mppOffer(node, { requestHash: 'aa'.repeat(32) });
    expect(await wallet.canPay(offer)).toMatch(/not the one in the MPP request/);
  });
});

describe('lightningWallet: failures, timeouts and reconciliation', () => {
  it('a timeout that settles while it waits pays once and returns the proof', async () => {
    const { network, node } = shop();
    const wallet = lightningWallet({ backend: simulatorBackend(network), network: 'regtest' });
    const { offer, preimage } = l402Offer(node);
    network.injectFault(lightningFaults.timeoutThenSettle({ settleAfterMs: 80 }));
    const proof = await wallet.pay(offer, context());
    expect(proof.secret).toEqual({ preimage });
    expect(network.stats()).toMatchObject({ attempts: 1, succeeded: 1 });
  });

  it('a timeout that outlasts settleWaitMs is unknown, reconciled by hash, never paid twice', async () => {
    const { network, node } = shop();
    const wallet = lightningWallet({
      backend: simulatorBackend(network),
      network: 'regtest',
      settleWaitMs: 60,
    });
    const { offer, paymentHash, preimage } = l402Offer(node);
    network.injectFault(lightningFaults.timeoutThenSettle({ settleAfterMs: 400 }));
    const error = await walletError(wallet.pay(offer, context()));
    expect(error).toMatchObject({
      paid: 'unknown',
      reference: paymentHash,
      code: 'LIGHTNING_OUTCOME_UNKNOWN',
    });
    expect(await wallet.lookup!(paymentHash, offer)).toBe('pending');
    // A new invoice for the same origin is not paid while this one is unresolved.
    const next = l402Offer(node);
    const refused = await walletError(wallet.pay(next.offer, context()));
    expect(refused).toMatchObject({ paid: false, code: 'LIGHTNING_EARLIER_PAYMENT_PENDING' });
    await network.idle();
    expect(await wallet.lookup!(paymentHash, offer)).toBe('paid');
    // Paying the same offer again returns the recovered proof without a second payment.
    expect((await wallet.pay(offer, context())).secret).toEqual({ preimage });
    expect(network.stats().attempts).toBe(1);
  });

  it('a failed payment is not paid, recorded as failed and may be retried', async () => {
    const { network, node } = shop();
    const wallet = lightningWallet({ backend: simulatorBackend(network), network: 'regtest' });
    const { offer, paymentHash } = l402Offer(node);
    network.injectFault(lightningFaults.fail());
    const error = await walletError(wallet.pay(offer, context()));
    expect(error).toMatchObject({ paid: false, code: 'LIGHTNING_PAYMENT_FAILED' });
    expect(await wallet.lookup!(paymentHash, offer)).toBe('failed');
    await wallet.pay(offer, context());
    expect(network.stats()).toMatchObject({ attempts: 2, succeeded: 1, failed: 1 });
  });

  it('a route fee above the cap is not paid', async () => {
    const { network, node } = shop();
    const wallet = lightningWallet({ backend: simulatorBackend(network), network: 'regtest' });
    network.injectFault(lightningFaults.feeAboveCap());
    const error = await walletError(wallet.pay(l402Offer(node).offer, context()));
    expect(error.paid).toBe(false);
    expect(error.message).toMatch(/fee_limit_exceeded/);
  });

  it('a wrong preimage is money moved with an unusable proof (paid: true)', async () => {
    const { network, node } = shop();
    const wallet = lightningWallet({ backend: simulatorBackend(network), network: 'regtest' });
    const { offer, paymentHash } = l402Offer(node);
    network.injectFault(lightningFaults.wrongPreimage());
    const error = await walletError(wallet.pay(offer, context()));
    expect(error).toMatchObject({
      paid: true,
      reference: paymentHash,
      code: 'LIGHTNING_PREIMAGE_INVALID',
    });
    expect(await wallet.lookup!(paymentHash, offer)).toBe('paid');
  });

  it('writes the pending record before the backend pays, and resumes it after a crash', async () => {
    const { network, node } = shop();
    const payments = memoryPaymentStore();
    const seen: string[] = [];
    const inner = simulatorBackend(network);
    const crashing: LightningBackend = {
      name: 'crashing',
      async pay(request) {
        seen.push((await payments.get(request.paymentHash))?.state ?? 'none');
        void inner.pay(request).catch(() => {});
        throw new Error('process died mid-payment');
      },
      lookup: inner.lookup,
    };
    const { offer, preimage } = l402Offer(node);
    network.injectFault(lightningFaults.slow(50));
    const first = lightningWallet({
      backend: crashing,
      network: 'regtest',
      payments,
      settleWaitMs: 0,
    });
    const error = await walletError(first.pay(offer, context()));
    expect(error.paid).toBe('unknown');
    expect(seen).toEqual(['pending']);
    await network.idle();
    // A new process with the same store asks the backend before paying again.
    const second = lightningWallet({
      backend: simulatorBackend(network),
      network: 'regtest',
      payments,
    });
    expect((await second.pay(offer, context())).secret).toEqual({ preimage });
    expect(network.stats().attempts).toBe(1);
  });

  it('treats a pending record the backend never heard of as not paid', async () => {
    const { network, node } = shop();
    const payments = memoryPaymentStore();
    const { offer, paymentHash } = l402Offer(node);
    await payments.put({
      paymentHash,
      invoice: (offer.raw as { invoice: string }).invoice,
      origin: ORIGIN,
      rail: 'l402:bolt11',
      amountMsat: '100000',
      maxFeeMsat: '11000',
      state: 'pending',
      startedAt: 1,
      updatedAt: 1,
    });
    const wallet = lightningWallet({
      backend: simulatorBackend(network),
      network: 'regtest',
      payments,
    });
    expect(await wallet.lookup!(paymentHash, offer)).toBe('failed');
    await wallet.pay(offer, context());
    expect(network.stats().succeeded).toBe(1);
  });

  it('maps backend refusals to paid: false and anything unclear to a lookup', async () => {
    const { node } = shop();
    const { offer } = l402Offer(node);
    const refusing: LightningBackend = {
      name: 'refusing',
      pay: async () => {
        throw new LightningBackendError('INSUFFICIENT_BALANCE', 'no funds', 'not_paid');
      },
      lookup: async () => ({ status: 'not_found' }),
    };
    const wallet = lightningWallet({ backend: refusing, network: 'regtest', settleWaitMs: 10 });
    expect((await walletError(wallet.pay(offer, context()))).paid).toBe(false);
    const confused = lightningWallet({
      backend: { ...refusing, pay: async () => Promise.reject(new Error('socket hang up')) },
      network: 'regtest',
      settleWaitMs: 10,
    });
    expect((await walletError(confused.pay(l402Offer(node).offer, context()))).paid).toBe(
      'unknown',
    );
  });
});
