/**
 * `x402Adapter`: the x402 dialect for `createPayingFetch` (v2 headers, v1 JSON bodies, the
 * plain `X-Payment-Required` form, 412 Permit2 approvals, `payment-identifier`, and
 * pre-authorization of remembered route terms).
 *
 * @module
 */
import { StipendError } from '../../errors/base.js';
import { ChallengeParseError } from '../../errors/challenge.js';
import { randomId } from '../../internal/ids.js';
import { freezeOffer, type PaymentOffer } from '../../offer.js';
import type { Proof } from '../../wallet/wallet.js';
import type { ChallengeInput, PaidOutcome, ProtocolAdapter, RetryRequest } from '../adapter.js';
import { createAssetRegistry, type KnownAsset } from './assets.js';
import { decodeBase64Json } from './base64.js';
import { fingerprint } from './fingerprint.js';
import type { X402Lightning } from './lightning.js';
import { advertisesPaymentId, proofHeader } from './proof.js';
import { outcomeOf } from './settle.js';
import {
  offerId,
  offersFromPlain,
  offersFromV1,
  offersFromV2,
  type TermsContext,
  type X402OfferRaw,
} from './terms.js';

/** Options of {@link x402Adapter}. */
export interface X402AdapterOptions {
  /**
   * Tokens to accept besides the built-in stablecoins (`X402_KNOWN_ASSETS`), with their
   * decimals (and EIP-712 name/version for EIP-3009, and `peg: 'USD'` to price them at par).
   * Offers in any other asset are refused, never guessed.
   */
  readonly assets?: readonly KnownAsset[];
  /** How long the terms of a paid route stay offered for pre-authorization. Default 10 min. */
  readonly rememberForMs?: number;
  /** How many routes' terms are remembered (least recently used are dropped). Default 256. */
  readonly maxRoutes?: number;
  /** How long a pre-authorized offer stays payable once produced, in ms. Default 60 s. */
  readonly preauthorizeTtlMs?: number;
  /** Clock for the caches (ms since epoch). Default `Date.now`. */
  readonly now?: () => number;
  /**
   * x402 `exact` on Lightning (`lnbtc` offers): `x402Lightning()` turns it on (with its
   * routing-fee cap). Off by default in `@stipend/client/x402`, so an EVM-only app does not
   * bundle it; the drop-in `createPayingFetch` of `@stipend/client` turns it on.
   */
  readonly lightning?: X402Lightning;
}

const PROTOCOL = 'x402';
const PREIMAGE = /^[0-9a-f]{64}$/;
/** Signed payloads kept for reuse on a retried purchase (payment-identifier). */
const MAX_SIGNED = 64;
/** A cached payload is reused only while it stays valid this much longer (the facilitator needs 6 s). */
const REUSE_MARGIN_MS = 10_000;

interface Remembered {
  readonly offer: PaymentOffer;
  readonly at: number;
}

/**
 * Creates the x402 protocol adapter.
 *
 * - v2: terms from `PAYMENT-REQUIRED` (strict base64 → UTF-8 JSON → schema); proof in
 *   `PAYMENT-SIGNATURE` echoing the chosen requirement exactly; receipt from `PAYMENT-RESPONSE`.
 * - v1: terms from a JSON body with `x402Version: 1` (network names mapped to CAIP-2);
 *   proof in `X-PAYMENT`; receipt from `X-PAYMENT-RESPONSE`.
 * - Plain `X-Payment-Required: {"price","currency","network","address"}` answered with
 *   `X-Payment-Signature` (a v2 payload for the requirement derived from the known asset).
 * - 412 with `PAYMENT-REQUIRED` (a Permit2 approval is missing): offers are marked
 *   `approvalRequired`; `@stipend/wallet-evm` pays them only once it sees the approval on chain.
 * - Assets outside the known-asset registry are refused with a reason (add them via `assets`).
 * - `payment-identifier`: an id derived from the purchase's idempotency key is sent, and a
 *   retry of the same purchase re-sends the same signed payload while it is valid.
 * - Pre-authorization (`createPayingFetch({ preauthorize: true })`): the terms of a paid route
 *   are remembered and offered again, with a fresh expiry, before the next call's first send
 *   (never `lnbtc` terms: their invoice is paid once).
 * - `exact` on Lightning (`lnbtc:` networks): the invoice in `extra.invoice` is checked against
 *   every term (amount equal to `amount` in msat, the network's invoice prefix, expiry equal to
 *   `maxTimeoutSeconds`, not expired, `n` equal to `payTo`, a description hash and no inline
 *   description) and against the request (`extra.requestHash` and the description hash must
 *   equal the `http:1` hash this client computes from its own method, URL, body and bound
 *   headers; an MCP tool call needs `mcp:1`). The offer's rail is `x402:exact` (the spec's
 *   names) on an `lnbtc:` network, its payee the `n` tag or `'unverified'` until the wallet
 *   recovers the signer (`lightningWallet` also requires the signer to be `payTo`), its
 *   `maxFee` the `lightning` fee cap. The proof is `payload: { preimage }` (lowercase hex); a
 *   refusal after it is sent counts as paid, since the preimage is only released by payment.
 *
 * @example
 * ```ts
 * import { createPayingFetch, x402Adapter } from '@stipend/client';
 * import { evmWallet } from '@stipend/wallet-evm';
 *
 * const payingFetch = createPayingFetch({
 *   adapters: [x402Adapter({ assets: [{ network: 'eip155:10', address: '0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85', symbol: 'USDC', decimals: 6, name: 'USD Coin', version: '2', peg: 'USD' }] })],
 *   wallets: [evmWallet({ account })],
 *   preauthorize: true,
 * });
 * ```
 */
export function x402Adapter(options: X402AdapterOptions = {}): ProtocolAdapter {
  const registry = createAssetRegistry(options.assets);
  const clock = options.now ?? Date.now;
  const rememberForMs = options.rememberForMs ?? 10 * 60_000;
  const maxRoutes = options.maxRoutes ?? 256;
  const preauthorizeTtlMs = options.preauthorizeTtlMs ?? 60_000;
  const lightning = options.lightning;
  /** idempotency key + offer id → the proof headers sent, while the payload is valid. */
  const signed = new Map<string, { headers: Record<string, string>; validUntil: number }>();
  /** Which cache entry a proof used, so its outcome can retire it. */
  const purchases = new WeakMap<Proof, string>();
  /** origin + method + path → the terms last paid there. */
  const routes = new Map<string, Remembered>();

  return {
    protocol: PROTOCOL,

    detect(input) {
      if (input.status !== 402 && input.status !== 412) return false;
      const headers = input.headers;
      if (headers.has('payment-required')) return true;
      if (input.status !== 402) return false;
      if (headers.has('x-payment-required')) return true;
      // A v1 body can only be told by reading it; other dialects announce themselves in
      // WWW-Authenticate, so a JSON 402 without a challenge there is worth a look.
      if (input.challenges.length > 0) return false;
      const type = headers.get('content-type');
      return type === null || /json/i.test(type);
    },

    async parse(input) {
      const context: TermsContext = lightning
        ? { input, registry, lightning }
        : { input, registry };
      const header = input.headers.get('payment-required');
      if (header !== null) {
        const decoded = decode(() => decodeBase64Json(header), 'PAYMENT-REQUIRED');
        if ((decoded as { x402Version?: unknown } | null)?.x402Version === 1) {
          return offersFromV1(decoded, context);
        }
        return offersFromV2(
          decoded,
          lightning ? { ...context, lnbtc: await lightning.bindings(decoded, input) } : context,
        );
      }
      const plain = input.headers.get('x-payment-required');
      if (plain !== null) {
        return offersFromPlain(
          decode(() => JSON.parse(plain) as unknown, 'X-Payment-Required'),
          context,
        );
      }
      return offersFromV1(await bodyJson(input), context);
    },

    proofHeaders(offer, proof, request) {
      const raw = offer.raw as X402OfferRaw;
      let payload = (proof.secret as { payload?: unknown } | null | undefined)?.payload;
      if (typeof payload !== 'object' || payload === null) {
        throw new StipendError(
          'PROOF_INVALID',
          `The wallet's proof for x402 offer ${offer.id} carries no scheme payload; an x402 wallet must return secret: { payload }.`,
        );
      }
      if (raw.transfer === 'bolt11') payload = { preimage: lnbtcPreimage(offer, payload) };
      let paymentId: string | undefined;
      let cacheKey: string | undefined;
      if (raw.form === 'v2' && advertisesPaymentId(raw.extensions)) {
        const key = request.idempotencyKey;
        // The core's default key (method + URL) names a route, not a purchase: such calls get
        // a fresh id each, so two separate purchases are never mistaken for one.
        if (key !== `${request.method} ${request.url.href}`) {
          cacheKey = `${key}\n${offer.id}`;
          const cached = signed.get(cacheKey);
          if (cached && cached.validUntil > clock() + REUSE_MARGIN_MS) {
            purchases.set(proof, cacheKey);
            return { ...cached.headers };
          }
          paymentId = `pay_${fingerprint(key)}${fingerprint(`${key}\n${offer.id}`)}`;
        } else {
          paymentId = randomId('pay_');
        }
      }
      const { name, value } = proofHeader(raw, payload, offer.resource, paymentId);
      const headers = { [name]: value };
      if (cacheKey) {
        const ttlMs = (offer.authorizationTtlSec ?? 60) * 1000;
        signed.delete(cacheKey);
        signed.set(cacheKey, { headers, validUntil: proof.validUntil ?? clock() + ttlMs });
        trim(signed, MAX_SIGNED);
        purchases.set(proof, cacheKey);
      }
      return { ...headers };
    },

    async settle(offer, proof, response): Promise<PaidOutcome> {
      let outcome = await outcomeOf(offer, response);
      const raw = offer.raw as X402OfferRaw;
      if (
        raw.transfer === 'bolt11' &&
        outcome.kind === 'rejected' &&
        outcome.moneyMoved !== 'yes'
      ) {
        // The invoice was paid before the preimage existed here: whatever the server says, the
        // money moved (the spec: a 402 after the proof is paid for, never paid again).
        outcome = {
          ...outcome,
          moneyMoved: 'yes',
          message: `${outcome.message}; the invoice was paid (payment hash ${raw.paymentHash})`,
        };
      }
      const key = purchases.get(proof);
      // An accepted purchase is done: a later call with the same key is a new purchase.
      if (key && outcome.kind === 'accepted') signed.delete(key);
      const route = (offer.raw as X402OfferRaw).route;
      // Remembered terms the server refused are stale: stop pre-authorizing them.
      if (route && outcome.kind === 'rejected') routes.delete(route);
      return outcome;
    },

    remember(offer, _proof, request) {
      // An lnbtc invoice is single-use: its terms are never offered again.
      if ((offer.raw as X402OfferRaw).transfer === 'bolt11') return;
      const route = routeOf(request);
      routes.delete(route);
      routes.set(route, { offer, at: clock() });
      trim(routes, maxRoutes);
    },

    preauthorize(request, now) {
      const route = routeOf(request);
      const remembered = routes.get(route);
      if (!remembered) return undefined;
      if (now - remembered.at > rememberForMs) {
        routes.delete(route);
        return undefined;
      }
      const old = remembered.offer;
      const oldRaw = old.raw as X402OfferRaw;
      const { approvalRequired: _dropped, ...rest } = oldRaw;
      const raw: X402OfferRaw = {
        ...rest,
        ...(oldRaw.resource ? { resource: { ...oldRaw.resource, url: request.url.href } } : {}),
        route,
      };
      const offer: PaymentOffer = {
        ...old,
        id: offerId(request.url, `pre-${raw.form}`, raw.requirement),
        origin: request.url.origin,
        resource: request.url.href,
        expiresAt: now + preauthorizeTtlMs,
        raw,
      };
      return [freezeOffer(offer)];
    },
  };
}

/** The preimage of an lnbtc proof, lowercase hex, or a `PROOF_INVALID` error. */
function lnbtcPreimage(offer: PaymentOffer, payload: object): string {
  const preimage = (payload as { preimage?: unknown }).preimage;
  const text = typeof preimage === 'string' ? preimage.toLowerCase() : '';
  if (!PREIMAGE.test(text)) {
    throw new StipendError(
      'PROOF_INVALID',
      `The wallet's proof for lnbtc offer ${offer.id} carries no 32-byte hex preimage; a Lightning wallet must return secret: { payload: { preimage } }.`,
    );
  }
  return text;
}

function routeOf(request: RetryRequest): string {
  return `${request.url.origin} ${request.method.toUpperCase()} ${request.url.pathname}`;
}

function decode(read: () => unknown, header: string): unknown {
  try {
    return read();
  } catch (error) {
    throw new ChallengeParseError({
      protocol: PROTOCOL,
      message: `The ${header} header is malformed: ${(error as Error).message}.`,
      header,
      cause: error,
    });
  }
}

async function bodyJson(input: ChallengeInput): Promise<unknown> {
  const text = await input.bodyText();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function trim(map: Map<string, unknown>, max: number): void {
  while (map.size > max) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) return;
    map.delete(oldest);
  }
}
