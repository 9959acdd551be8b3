/**
 * The remote wallet: a {@link Wallet} that pays through a spend authority with a delegation
 * token. The sub-agent holding it has no private key, no Stripe secret key and no preimage:
 * only the token (capped by its caveats) and the proofs the authority hands back.
 *
 * @module
 */
import {
  isStipendError,
  type PaymentOffer,
  type PaymentStatus,
  type PriceSource,
  type Proof,
  pegPriceSource,
  StipendError,
  toUsdMicros,
  type Wallet,
  WalletError,
} from '@stipend/client';
import { checkScope, type DelegationLimits } from './caveats.js';
import { DelegationError, errorFromJSON } from './errors.js';
import { readToken } from './token.js';
import {
  decodeJson,
  type ErrorBody,
  encodeJson,
  IDEMPOTENCY_REFERENCE,
  type LookupRequestBody,
  type PayRequestBody,
  ROUTES,
  type TokenStatus,
} from './wire.js';

/**
 * Rails a remote wallet offers by default: those whose proof holds no secret the sub-agent
 * should not have. L402 and MPP Lightning are left out on purpose (their proof is the preimage).
 */
export const REMOTE_RAILS: readonly string[] = Object.freeze([
  'x402:exact',
  'x402:upto',
  'mpp:stripe.charge',
  'mpp:evm.charge',
  'mpp:tempo.charge',
]);

/** Options of {@link remoteWallet}. */
export interface RemoteWalletOptions {
  /** The authority's base URL, e.g. `http://127.0.0.1:4402`. */
  readonly url: string;
  /** The delegation token (standard base64). */
  readonly token: string;
  /** Rails to advertise. Default {@link REMOTE_RAILS}, less those the token's protocols exclude. */
  readonly rails?: readonly string[];
  /** The wallet id shown in records. Default `remote:<first 8 chars of the token id>`. */
  readonly id?: string;
  /** The fetch to reach the authority with. Default `globalThis.fetch` at call time. */
  readonly fetch?: typeof fetch;
  /** Prices for the local per-request check. Default: USD stablecoins and USD at par. */
  readonly prices?: PriceSource;
  /** The clock (ms since epoch), for the local expiry check. */
  readonly now?: () => number;
  /** How long one call to the authority may take. Default 30 000 ms. */
  readonly timeoutMs?: number;
}

/** A remote wallet, plus what it knows about its token. */
export interface RemoteWallet extends Wallet {
  /** What the token allows (read offline at creation). */
  readonly limits: DelegationLimits;
  /** The token id. */
  readonly tokenId: string;
  /** Asks the authority how much of each cap on the token's chain is left. */
  status(): Promise<TokenStatus>;
}

/**
 * Creates a wallet that pays through a spend authority. `canPay` checks the token's caveats
 * locally (a cheap early refusal); `pay` asks the authority, which verifies the token, applies
 * its own policy and budget, pays with its real wallet and returns the proof; `lookup` asks the
 * authority what became of a payment.
 *
 * Refusals arrive as `WalletError`s whose `code` is the authority's (`DELEGATION_EXCEEDED`,
 * `DELEGATION_EXPIRED`, `POLICY_DENIED`…) and whose `cause` is the typed error.
 *
 * @throws {DelegationInvalidError} at creation when the token is malformed.
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { remoteWallet } from '@stipend/authority/remote';
 * import { x402Adapter } from '@stipend/client/x402';
 *
 * const payingFetch = createPayingFetch({
 *   adapters: [x402Adapter()],
 *   wallets: [remoteWallet({ url: 'http://127.0.0.1:4402', token: process.env.STIPEND_TOKEN! })],
 * });
 * const res = await payingFetch('https://api.example.com/report');
 * ```
 */
export function remoteWallet(options: RemoteWalletOptions): RemoteWallet {
  const info = readToken(options.token);
  const base = options.url.replace(/\/+$/, '');
  const id = options.id ?? `remote:${info.id.slice(0, 8)}`;
  const now = options.now ?? Date.now;
  const prices = options.prices ?? pegPriceSource();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const allowed = info.limits.protocols;
  const rails = Object.freeze(
    [...(options.rails ?? REMOTE_RAILS)].filter(
      (rail) =>
        allowed === undefined || allowed.some((p) => p === rail || rail.startsWith(`${p}:`)),
    ),
  );

  async function post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    const send = options.fetch ?? globalThis.fetch;
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`the authority did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await send(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: encodeJson(body),
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async function usdOf(offer: PaymentOffer): Promise<bigint | undefined> {
    try {
      const time = now();
      let usd = (await toUsdMicros(offer.amount, prices, { now: time, maxAgeMs: 300_000 }))
        .usdMicros;
      if (offer.maxFee !== undefined) {
        usd += (await toUsdMicros(offer.maxFee, prices, { now: time, maxAgeMs: 300_000 }))
          .usdMicros;
      }
      return usd;
    } catch {
      return undefined; // the authority prices it with its own sources
    }
  }

  return {
    id,
    rails,
    limits: info.limits,
    tokenId: info.id,

    async canPay(offer) {
      try {
        const usdMicros = await usdOf(offer);
        checkScope(info.limits, {
          now: now(),
          url: new URL(offer.origin),
          rail: offer,
          ...(usdMicros !== undefined ? { usdMicros } : {}),
        });
        return true;
      } catch (error) {
        if (error instanceof DelegationError) return `${error.code}: ${error.shortMessage}`;
        return `the offer cannot be checked: ${(error as Error)?.message ?? String(error)}`;
      }
    },

    async pay(offer, context): Promise<Proof> {
      try {
        checkScope(info.limits, {
          now: now(),
          method: context.request.method,
          url: new URL(context.request.url),
          rail: offer,
        });
      } catch (error) {
        if (error instanceof DelegationError) {
          throw new WalletError({
            walletId: id,
            code: error.code,
            message: error.shortMessage,
            paid: false,
            cause: error,
          });
        }
        throw error;
      }
      // The core's purchase key is per logical purchase (by default method + URL, so the same
      // for every later purchase of that URL); the reservation id is per payment attempt.
      const attempt = `${context.idempotencyKey} #${context.reservationId}`;
      const body: PayRequestBody = {
        token: options.token,
        request: { method: context.request.method, url: context.request.url },
        offer,
        idempotencyKey: attempt,
        maxAuthorizationTtlSec: context.maxAuthorizationTtlSec,
      };
      const unknown = `${IDEMPOTENCY_REFERENCE}${attempt}`;
      let response: Response;
      try {
        response = await post(ROUTES.pay, body, context.signal);
      } catch (error) {
        throw new WalletError({
          walletId: id,
          message: `The spend authority at ${base} could not be reached: ${errorText(error)}`,
          paid: neverSent(error) ? false : 'unknown',
          reference: unknown,
          cause: error,
        });
      }
      const answer = await readAnswer(response);
      if (answer === undefined) {
        throw new WalletError({
          walletId: id,
          message: `The spend authority answered ${response.status} without a readable body; the payment may have happened, so ask lookup before paying again.`,
          paid: 'unknown',
          reference: unknown,
        });
      }
      if (!response.ok) throw refusal(id, answer as ErrorBody, unknown);
      const proof = (answer as { proof?: Proof }).proof;
      if (
        proof === undefined ||
        proof.offerId !== offer.id ||
        typeof proof.reference !== 'string' ||
        (proof.settlement !== 'final' && proof.settlement !== 'authorization')
      ) {
        throw new WalletError({
          walletId: id,
          message: 'The spend authority returned a proof for another offer or a malformed one.',
          paid: 'unknown',
          reference: unknown,
        });
      }
      return Object.freeze(proof);
    },

    async lookup(reference): Promise<PaymentStatus> {
      const body: LookupRequestBody = { token: options.token, reference };
      const response = await post(ROUTES.lookup, body);
      const answer = await readAnswer(response);
      if (!response.ok || answer === undefined) {
        throw answer
          ? refusal(id, answer as ErrorBody, reference)
          : new StipendError(
              'AUTHORITY_UNREADABLE',
              `The spend authority answered ${response.status} to a lookup.`,
            );
      }
      const status = (answer as { status?: unknown }).status;
      if (status !== 'paid' && status !== 'failed' && status !== 'pending') {
        throw new StipendError(
          'AUTHORITY_UNREADABLE',
          'The spend authority sent an unknown payment status.',
        );
      }
      return status;
    },

    async status(): Promise<TokenStatus> {
      const response = await post(ROUTES.token, { token: options.token });
      const answer = await readAnswer(response);
      if (!response.ok || answer === undefined) {
        throw answer
          ? refusal(id, answer as ErrorBody, undefined)
          : new StipendError(
              'AUTHORITY_UNREADABLE',
              `The spend authority answered ${response.status}.`,
            );
      }
      return answer as TokenStatus;
    },
  };
}

async function readAnswer(response: Response): Promise<unknown> {
  try {
    const value = decodeJson(await response.text());
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

function refusal(walletId: string, body: ErrorBody, fallback: string | undefined): WalletError {
  const cause = errorFromJSON(body.error);
  const paid = body.paid === true || body.paid === 'unknown' ? body.paid : false;
  const reference =
    typeof body.reference === 'string' ? body.reference : paid === false ? undefined : fallback;
  return new WalletError({
    walletId,
    code: cause.code,
    message: isStipendError(cause) ? cause.shortMessage : 'The spend authority refused.',
    paid,
    ...(reference !== undefined ? { reference } : {}),
    cause,
  });
}

/** Connection refused or a bad URL: the request never reached the authority. */
function neverSent(error: unknown): boolean {
  const code = (error as { cause?: { code?: unknown } })?.cause?.code;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    (error instanceof TypeError && /invalid url/i.test(error.message))
  );
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
