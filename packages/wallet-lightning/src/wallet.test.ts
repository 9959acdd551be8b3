import { freezeOffer, isStipendError, msat, StipendError, WalletError } from '@stipend/client';
import { createLightningNetwork, lightningFaults } from '@stipend/testkit/l402';
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
    expect(wallet.rails).toEqual([
      'l402:bolt11',
      'mpp:lightning.charge',
      'x402:exact',
      'mpp:lightning.session',
    ]);
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

describe('lightningWallet: fees never above what was reserved', () => {
  it('passes the offer maxFee (what the budget reserved) as the fee limit, and the proof reports the real fee', async () => {
    const lightning = createLightningNetwork({ network: 'regtest', routeFeeMsat: () => 5_000n });
    const node = lightning.createNode({ alias: 'shop' });
    const wallet = lightningWallet({ backend: simulatorBackend(lightning), network: 'regtest' });
    const proof = await wallet.pay(l402Offer(node, { maxFeeMsat: 50_000n }).offer, context());
    expect(lightning.payments[0]!.maxFeeMsat).toBe(50_000n);
    expect(proof.fee).toEqual(msat(5_000n));
  });

  it('a route costing more than the reserved fee is not paid (paid: false)', async () => {
    const lightning = createLightningNetwork({ network: 'regtest', routeFeeMsat: () => 12_000n });
    const node = lightning.createNode({ alias: 'shop' });
    const wallet = lightningWallet({
      backend: simulatorBackend(lightning),
      network: 'regtest',
      maxFeeMsat: 100_000n, // a larger wallet cap never raises the limit above the reservation
    });
    const error = await walletError(
      wallet.pay(l402Offer(node, { maxFeeMsat: 11_000n }).offer, context()),
    );
    expect(error.paid).toBe(false);
    expect(lightning.payments[0]!.maxFeeMsat).toBe(11_000n);
    expect(lightning.stats()).toMatchObject({ succeeded: 0 });
  });

  it('refuses an offer without maxFee (paid: false) unless the wallet has an explicit fee cap', async () => {
    const { network, node } = shop();
    const backend = simulatorBackend(network);
    const plain = lightningWallet({ backend, network: 'regtest' });
    const { offer } = mppOffer(node, { maxFeeMsat: null });
    expect(await plain.canPay(offer)).toMatch(/no maxFee.*lightningWallet\(\{ maxFeeMsat \}\)/);
    expect((await walletError(plain.pay(offer, context()))).paid).toBe(false);
    expect(backend.calls).toEqual([]);
    const capped = lightningWallet({ backend, network: 'regtest', maxFeeMsat: 3_000n });
    await capped.pay(offer, context());
    expect(network.payments[0]!.maxFeeMsat).toBe(3_000n);
  });
});

describe('lightningWallet: the caller signal and late answers', () => {
  /** A backend that gives up (like LND REST's fetch) when it is handed an aborted signal. */
  function signalHonouring(network: ReturnType<typeof shop>['network']): LightningBackend {
    const inner = simulatorBackend(network);
    return {
      name: 'honouring',
      lookup: inner.lookup,
      pay: (request) =>
        new Promise((resolve, reject) => {
          request.signal?.addEventListener('abort', () =>
            reject(new LightningBackendError('aborted', 'gave up', 'unknown')),
          );
          inner.pay(request).then(resolve, reject);
        }),
    };
  }

  it('aborted before dispatch: nothing is sent, paid: false', async () => {
    const { network, node } = shop();
    const backend = simulatorBackend(network);
    const wallet = lightningWallet({ backend, network: 'regtest' });
    const abort = new AbortController();
    abort.abort(new Error('caller gave up'));
    const { offer, paymentHash } = l402Offer(node);
    const error = await walletError(wallet.pay(offer, context('k', abort.signal)));
    expect(error).toMatchObject({ paid: false, code: 'LIGHTNING_ABORTED', reference: paymentHash });
    expect(backend.calls).toEqual([]);
  });

  it('aborted after dispatch: the wallet keeps waiting and returns the late proof', async () => {
    const { network, node } = shop();
    const wallet = lightningWallet({
      backend: signalHonouring(network),
      network: 'regtest',
      settleWaitMs: 0,
    });
    network.injectFault(lightningFaults.slow(80));
    const abort = new AbortController();
    const { offer, preimage } = l402Offer(node);
    const paying = wallet.pay(offer, context('k', abort.signal));
    setTimeout(() => abort.abort(), 10);
    expect((await paying).secret).toEqual({ preimage });
    expect(network.stats()).toMatchObject({ attempts: 1, succeeded: 1 });
  });

  it('never hangs: a backend that never answers, not even lookups, ends unknown within its timeouts', async () => {
    const { node } = shop();
    const silent: LightningBackend = {
      name: 'silent',
      pay: () => new Promise(() => {}),
      lookup: () => new Promise(() => {}),
    };
    const wallet = lightningWallet({
      backend: silent,
      network: 'regtest',
      payTimeoutMs: 30,
      settleWaitMs: 60,
    });
    const { offer, paymentHash } = l402Offer(node);
    const started = Date.now();
    const error = await walletError(wallet.pay(offer, context()));
    expect(error).toMatchObject({ paid: 'unknown', reference: paymentHash });
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 10_000);
});

describe('lightningWallet: backend failures read by their fields, never instanceof', () => {
  const { node } = shop();
  const notFound = async () => ({ status: 'not_found' as const });

  it.each<[string, () => unknown]>([
    [
      'a LightningBackendError-shaped error of another package copy',
      () => Object.assign(new Error('no route'), { code: 'no_route', outcome: 'not_paid' }),
    ],
    [
      'a Stipend error with code LIGHTNING_BACKEND_NOT_PAID',
      () => new StipendError('LIGHTNING_BACKEND_NOT_PAID', 'no route'),
    ],
    ['an error with paid: false', () => Object.assign(new Error('refused'), { paid: false })],
  ])('%s is a clean paid: false failure', async (_, make) => {
    const wallet = lightningWallet({
      backend: { name: 'copy', pay: async () => Promise.reject(make()), lookup: notFound },
      network: 'regtest',
      settleWaitMs: 10,
    });
    const { offer, paymentHash } = l402Offer(node);
    const error = await walletError(wallet.pay(offer, context()));
    expect(error).toMatchObject({ paid: false, code: 'LIGHTNING_PAYMENT_FAILED' });
    expect((await wallet.payments.get(paymentHash))?.state).toBe('failed');
  });

  it('a plain Error thrown before dispatch is paid: false; after dispatch it is unknown with the payment hash', async () => {
    const before = lightningWallet({
      backend: {
        name: 'sync',
        pay: () => {
          throw new Error('misconfigured');
        },
        lookup: notFound,
      },
      network: 'regtest',
    });
    expect((await walletError(before.pay(l402Offer(node).offer, context()))).paid).toBe(false);
    const after = lightningWallet({
      backend: {
        name: 'async',
        pay: async () => Promise.reject(new Error('reset')),
        lookup: notFound,
      },
      network: 'regtest',
      settleWaitMs: 10,
    });
    const { offer, paymentHash } = l402Offer(node);
    expect(await walletError(after.pay(offer, context()))).toMatchObject({
      paid: 'unknown',
      reference: paymentHash,
    });
  });

  it('LightningBackendError is a Stipend error with a stable code per outcome', () => {
    const refused = new LightningBackendError('no_route', 'No route', 'not_paid');
    expect(isStipendError(refused)).toBe(true);
    expect(refused).toMatchObject({
      code: 'LIGHTNING_BACKEND_NOT_PAID',
      reason: 'no_route',
      paid: false,
    });
    expect(new LightningBackendError('timeout', 'slow', 'unknown').code).toBe(
      'LIGHTNING_BACKEND_UNKNOWN',
    );
  });

  it('checks the backend where the wallet is made, naming the option', () => {
    expect(() => lightningWallet({ backend: {} as never, network: 'regtest' })).toThrow(
      /lightningWallet\(\{ backend \}\): the backend has no pay\(request\), no lookup\(paymentHash\), no a name/,
    );
    expect(() =>
      lightningWallet({
        backend: { name: 'x', pay: async () => ({ preimage: '' }) } as never,
        network: 'regtest',
      }),
    ).toThrow(/no lookup\(paymentHash\)/);
    expect(() =>
      lightningWallet({ backend: simulatorBackend(shop().network), network: 'bitcoin' as never }),
    ).toThrow(/lightningWallet\(\{ network \}\)/);
  });
});

describe('lightningWallet: payees, references and recovery for the core', () => {
  it('payeeOf is the node key recovered from the signature; referenceFor is the payment hash', async () => {
    const { network, node } = shop();
    const wallet = lightningWallet({ backend: simulatorBackend(network), network: 'regtest' });
    const { offer, paymentHash } = l402Offer(node);
    expect(await wallet.payeeOf!(offer)).toBe(node.pubkey);
    expect(wallet.referenceFor!(offer, context())).toBe(paymentHash);
    const broken = freezeOffer({
      ...offer,
      raw: { ...(offer.raw as object), invoice: 'lnbcrt1x' },
    });
    expect(() => wallet.payeeOf!(broken)).toThrow(WalletError);
  });

  it('refuses an offer whose payee names another node than the signer (the policy approved another payee)', async () => {
    const { network, node } = shop();
    const other = shop().node;
    const wallet = lightningWallet({ backend: simulatorBackend(network), network: 'regtest' });
    const { offer } = l402Offer(node, { payee: other.pubkey });
    expect(await wallet.canPay(offer)).toMatch(/signed by node/);
    expect(await wallet.canPay(l402Offer(node, { payee: node.pubkey }).offer)).toBe(true);
  });

  it('recover returns the proof of a payment the node confirms, and nothing for one it does not', async () => {
    const { network, node } = shop();
    const first = lightningWallet({
      backend: simulatorBackend(network),
      network: 'regtest',
      settleWaitMs: 0,
    });
    const { offer, paymentHash, preimage } = l402Offer(node);
    network.injectFault(lightningFaults.timeoutThenSettle({ settleAfterMs: 100 }));
    expect((await walletError(first.pay(offer, context()))).paid).toBe('unknown');
    // Not yet settled: nothing to recover.
    expect(await first.recover!(paymentHash, offer)).toBeUndefined();
    await network.idle();
    // Another process (no record of its own) asks the node by payment hash.
    const second = lightningWallet({ backend: simulatorBackend(network), network: 'regtest' });
    const proof = await second.recover!(paymentHash, offer);
    expect(proof).toMatchObject({
      offerId: offer.id,
      reference: paymentHash,
      secret: { preimage },
    });
    expect((await second.payments.get(paymentHash))?.state).toBe('succeeded');
    // Never one purchase's proof for another offer.
    expect(await second.recover!(paymentHash, l402Offer(node).offer)).toBeUndefined();
    expect(network.stats().attempts).toBe(1);
  });
});

describe('lightningWallet: a macaroon is bound to its invoice or refused', () => {
  const { network, node } = shop();
  const wallet = lightningWallet({ backend: simulatorBackend(network), network: 'regtest' });
  const token = (identifier: Uint8Array, location = 'lsat') => {
    const bytes = encodeMacaroon({
      location,
      identifier,
      caveats: [],
      signature: new Uint8Array(32),
    });
    return toStdBase64(bytes);
  };

  it('refuses a macaroon with a 67-byte identifier carrying the hash at the L402 offset', async () => {
    const { offer: probe, paymentHash } = l402Offer(node);
    const identifier = Uint8Array.from([
      0,
      0,
      ...hexToBytes(paymentHash),
      ...new Array(33).fill(1),
    ]);
    const offer = freezeOffer({
      ...probe,
      raw: { ...(probe.raw as object), token: token(identifier) },
    });
    expect(await wallet.canPay(offer)).toMatch(/67-byte identifier is not the 66-byte L402 layout/);
  });

  it('refuses a macaroon with a non-UTF-8 location bound to another payment hash', async () => {
    const identifier = Uint8Array.from([
      0,
      0,
      ...new Array(32).fill(0xee),
      ...new Array(32).fill(1),
    ]);
    const bytes = encodeMacaroon({
      location: 'abc',
      identifier,
      caveats: [],
      signature: new Uint8Array(32),
    });
    bytes.set([0xff, 0xfe, 0xc0], 3); // the location's bytes: not UTF-8
    const { offer: probe } = l402Offer(node);
    const offer = freezeOffer({
      ...probe,
      raw: { ...(probe.raw as object), token: toStdBase64(bytes) },
    });
    expect(await wallet.canPay(offer)).toMatch(/not the one in the token/);
    expect((await walletError(wallet.pay(offer, context()))).paid).toBe(false);
  });
});
