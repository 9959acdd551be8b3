/**
 * Test fixtures: a {@link LightningBackend} over the testkit's simulated Lightning network
 * (a stand-in for a real node: see `createLightningNetwork`), and L402 / MPP offers built the
 * way the client adapters build them.
 */
import { freezeOffer, msat, type PayContext, type PaymentOffer } from '@stipend/client';
import {
  createLightningNetwork,
  type LightningNetwork,
  type LightningNetworkName,
  type LightningNode,
  mintL402Macaroon,
  RootKeyStore,
  simulatorBackend as testkitSimulatorBackend,
} from '@stipend/testkit/l402';
import { type LightningBackend, LightningBackendError } from './backend.js';

/**
 * A backend that pays through the simulator; `preimageAs` re-encodes what it reports. The
 * testkit's `simulatorBackend`, throwing this package's `LightningBackendError`.
 */
export function simulatorBackend(
  network: LightningNetwork,
  options: { preimageAs?: (hex: string) => string | Uint8Array; payer?: string } = {},
): LightningBackend & { readonly calls: readonly string[] } {
  return testkitSimulatorBackend(network, {
    payer: options.payer ?? 'wallet',
    ...(options.preimageAs ? { preimageAs: options.preimageAs } : {}),
    error: (code, message, outcome, cause) =>
      new LightningBackendError(code, message, outcome, cause),
  });
}

export const ORIGIN = 'https://api.example.com';
const keys = new RootKeyStore();

/** A simulated network with one payee node. */
export function shop(network: LightningNetworkName = 'regtest'): {
  network: LightningNetwork;
  node: LightningNode;
} {
  const lightning = createLightningNetwork({ network });
  return { network: lightning, node: lightning.createNode({ alias: 'shop' }) };
}

/** An `l402:bolt11` offer for a fresh invoice of `node`, like the client's L402 adapter makes. */
export function l402Offer(
  node: LightningNode,
  options: {
    amountMsat?: bigint | null;
    expirySeconds?: number | null;
    timestamp?: number;
    macaroonHash?: string;
    token?: string;
    caveats?: string[];
    maxFeeMsat?: bigint;
    origin?: string;
    offerAmountMsat?: bigint;
    payee?: string;
  } = {},
): { offer: PaymentOffer; paymentHash: string; preimage: string; token: string } {
  const amountMsat = options.amountMsat === undefined ? 100_000n : options.amountMsat;
  const invoice = node.createInvoice({
    ...(amountMsat === null ? {} : { amountMsat }),
    ...(options.expirySeconds === undefined ? {} : { expirySeconds: options.expirySeconds }),
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
  });
  const token =
    options.token ??
    mintL402Macaroon(
      keys,
      options.macaroonHash ?? invoice.paymentHash,
      options.caveats ?? ['services=quotes:0'],
    ).macaroon;
  const origin = options.origin ?? ORIGIN;
  const offer = freezeOffer({
    id: `l402:${invoice.paymentHash}`,
    protocol: 'l402',
    scheme: 'bolt11',
    amount: msat(options.offerAmountMsat ?? amountMsat ?? 0n),
    maxFee: msat(options.maxFeeMsat ?? 11_000n),
    payee: options.payee ?? 'unverified',
    origin,
    resource: `${origin}/quote`,
    expiresAt: invoice.expiresAt * 1000,
    reusable: true,
    raw: {
      scheme: 'L402',
      token,
      invoice: invoice.bolt11,
      paymentHash: invoice.paymentHash,
      services: ['quotes'],
    },
  });
  return { offer, paymentHash: invoice.paymentHash, preimage: invoice.preimage, token };
}

/** An `mpp:lightning.charge` offer, shaped per the cross-wallet convention. */
export function mppOffer(
  node: LightningNode,
  options: { requestHash?: string; maxFeeMsat?: bigint | null } = {},
): { offer: PaymentOffer; paymentHash: string; preimage: string } {
  const invoice = node.createInvoice({ amountMsat: 50_000n });
  const maxFee = options.maxFeeMsat === undefined ? 10_500n : options.maxFeeMsat;
  const offer = freezeOffer({
    id: 'mpp:abc',
    protocol: 'mpp',
    scheme: 'lightning.charge',
    amount: msat(50_000n),
    ...(maxFee === null ? {} : { maxFee: msat(maxFee) }),
    payee: 'unverified',
    origin: ORIGIN,
    resource: `${ORIGIN}/article`,
    reusable: false,
    raw: {
      challenge: { id: 'abc', method: 'lightning', intent: 'charge' },
      request: {
        amount: '50',
        currency: 'sat',
        methodDetails: {
          invoice: invoice.bolt11,
          paymentHash: options.requestHash ?? invoice.paymentHash,
        },
      },
      invoice: invoice.bolt11,
    },
  });
  return { offer, paymentHash: invoice.paymentHash, preimage: invoice.preimage };
}

/** A minimal pay context (the core always passes a signal). */
export function context(idempotencyKey = 'GET /quote', signal?: AbortSignal): PayContext {
  return {
    request: { method: 'GET', url: `${ORIGIN}/quote` },
    idempotencyKey,
    maxAuthorizationTtlSec: 300,
    reservationId: 'r1',
    signal: signal ?? new AbortController().signal,
    now: Date.now(),
  };
}
