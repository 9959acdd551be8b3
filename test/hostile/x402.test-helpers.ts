/**
 * x402 wire pieces a hostile seller sends, a wallet that counts what it signs, and the paying
 * fetch every case uses (short deadlines, a tight policy).
 */
import {
  createPayingFetch,
  getPayment,
  isStipendError,
  type PayingFetch,
  type PayingFetchConfig,
  type PaymentOffer,
  type SpendPolicy,
  type StipendError,
  type Wallet,
  x402Adapter,
} from '@stipend/client';

/** Base Sepolia USDC (6 decimals, pegged to USD, built into the x402 adapter). */
export const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
export const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
/** $0.01 in USDC atomic units. */
export const ONE_CENT = '10000';

/** One v2 `accepts` entry; `override` replaces or adds fields (use `undefined` to drop one). */
export function requirement(override: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    scheme: 'exact',
    network: 'eip155:84532',
    amount: ONE_CENT,
    asset: USDC,
    payTo: PAY_TO,
    maxTimeoutSeconds: 60,
    extra: { name: 'USDC', version: '2' },
  };
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

/** Standard padded base64 of UTF-8 text. */
export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** A `PAYMENT-REQUIRED` header value for these requirements. */
export function paymentRequired(
  accepts: readonly unknown[] = [requirement()],
  extra: Record<string, unknown> = {},
): string {
  return b64(
    JSON.stringify({
      x402Version: 2,
      error: 'PAYMENT-SIGNATURE header is required',
      resource: { url: 'http://seller/paid' },
      accepts,
      ...extra,
    }),
  );
}

/** A `PAYMENT-RESPONSE` receipt header value. */
export function receipt(fields: Record<string, unknown> = {}): string {
  return b64(
    JSON.stringify({
      success: true,
      transaction: `0x${'ab'.repeat(32)}`,
      network: 'eip155:84532',
      payer: '0x857b06519E91e3A54538791bDbb0E22373e36b66',
      ...fields,
    }),
  );
}

/** A v1 402 body (terms in the body, read by the adapter). */
export function v1Body(amount = ONE_CENT): string {
  return JSON.stringify({
    x402Version: 1,
    error: 'Payment required',
    accepts: [
      {
        scheme: 'exact',
        network: 'base-sepolia',
        maxAmountRequired: amount,
        asset: USDC,
        payTo: PAY_TO,
        resource: 'http://seller/paid',
        description: 'd',
        mimeType: 'application/json',
        maxTimeoutSeconds: 60,
        extra: { name: 'USDC', version: '2' },
      },
    ],
  });
}

/** What the counting wallet signed. */
export interface Signed {
  readonly offerId: string;
  /** The authorization lifetime the core allowed (`maxAuthorizationTtlSec`). */
  readonly ttlSec: number;
  readonly amount: bigint;
  readonly payee: string;
  readonly origin: string;
}

/** An x402 wallet that signs nothing real and counts every signature. */
export interface CountingWallet extends Wallet {
  readonly signed: Signed[];
  /** Sum of the amounts signed, in atomic units. */
  total(): bigint;
  /** Makes `pay` wait this long before answering (ms). */
  delayMs: number;
}

/**
 * A fake x402 `exact` wallet: every `pay` is a signature the seller could settle, so each
 * one counts as money that may move.
 *
 * @example
 * ```ts
 * const wallet = countingWallet();
 * await payingFetch(url);
 * expect(wallet.signed).toHaveLength(1);
 * ```
 */
export function countingWallet(): CountingWallet {
  const signed: Signed[] = [];
  let nonce = 0;
  const wallet: CountingWallet = {
    id: 'counting',
    rails: ['x402:exact'],
    signed,
    delayMs: 0,
    total: () => signed.reduce((sum, entry) => sum + entry.amount, 0n),
    canPay: () => true,
    async pay(offer: PaymentOffer, context) {
      if (wallet.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, wallet.delayMs));
      const n = ++nonce;
      signed.push({
        offerId: offer.id,
        ttlSec: context.maxAuthorizationTtlSec,
        amount: offer.amount.value,
        payee: offer.payee,
        origin: offer.origin,
      });
      const ttl = Math.min(context.maxAuthorizationTtlSec, 60);
      return {
        offerId: offer.id,
        reference: `0x${n.toString(16).padStart(64, '0')}`,
        settlement: 'authorization',
        validUntil: context.now + ttl * 1000,
        paid: offer.amount,
        secret: {
          payload: {
            signature: `0x${'5'.repeat(130)}`,
            authorization: {
              from: '0x857b06519E91e3A54538791bDbb0E22373e36b66',
              to: offer.payee,
              value: offer.amount.value.toString(),
              validAfter: '0',
              validBefore: String(Math.floor(context.now / 1000) + ttl),
              nonce: `0x${n.toString(16).padStart(64, '0')}`,
            },
          },
        },
      };
    },
  };
  return wallet;
}

/** The policy of every case: $0.05 per request, $0.10 per day. */
export const POLICY: SpendPolicy = {
  global: {
    maxPerRequest: { usd: '0.05' },
    limits: [{ usd: '0.10', window: { calendar: 'day' } }],
    maxAuthorizationTtlSec: 300,
  },
};

/** The seller-request deadline every case configures (ms). */
export const TIMEOUT_MS = 1_000;

/**
 * The paying fetch of a case: x402 only, the counting wallet, {@link POLICY}, and
 * `timeoutMs` (the lead's new config option: default 30 s per seller request, applied to the
 * first send, the paid retry and body reads).
 */
export function payingFetchFor(
  wallet: CountingWallet,
  extra: Partial<PayingFetchConfig> & { timeoutMs?: number } = {},
): PayingFetch {
  const config: PayingFetchConfig & { timeoutMs?: number } = {
    adapters: [x402Adapter()],
    wallets: [wallet],
    policy: POLICY,
    timeoutMs: TIMEOUT_MS,
    ...extra,
  };
  return createPayingFetch(config);
}

/** How a call ended: the response, or the error it threw. */
export type Ended = { response: Response } | { error: unknown };

/** Runs a call to its end (never throws). */
export async function end(call: Promise<Response>): Promise<Ended> {
  try {
    return { response: await call };
  } catch (error) {
    return { error };
  }
}

/**
 * The typed error a call ended with: thrown, or attached to the response it returned
 * (`getPayment(response).error`). Fails the case when it ended otherwise.
 */
export function typed(ended: Ended): StipendError {
  if ('error' in ended) {
    if (isStipendError(ended.error)) return ended.error;
    throw new Error(`expected a StipendError, got ${String(ended.error)}`, {
      cause: ended.error,
    });
  }
  const attached = getPayment(ended.response)?.error;
  if (attached && isStipendError(attached)) return attached;
  throw new Error(`expected a StipendError, got a ${ended.response.status} response`);
}

/** Runs `call` and measures how long it took to end. */
export async function timed(call: Promise<Response>): Promise<{ ended: Ended; ms: number }> {
  const started = performance.now();
  const ended = await end(call);
  return { ended, ms: performance.now() - started };
}

/** Waits `ms`. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The codes that mean "nothing was paid, the challenge was refused". */
export const REFUSED_CHALLENGE = ['CHALLENGE_INVALID', 'POLICY_DENIED'];

/** A 402 with terms in `PAYMENT-REQUIRED`. */
export function challenge402(value = paymentRequired()): [number, Record<string, string>] {
  return [402, { 'payment-required': value, 'content-type': 'application/json' }];
}
