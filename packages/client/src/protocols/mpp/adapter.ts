/**
 * The MPP (`WWW-Authenticate: Payment`) protocol adapter.
 *
 * @module
 */
import { StipendError } from '../../errors/base.js';
import { ChallengeParseError } from '../../errors/challenge.js';
import { PolicyDeniedError } from '../../errors/policy.js';
import { builtInAsset, checkKnownAsset } from '../../money/assets.js';
import { type FeeCapOptions, feeCapOf } from '../../money/fee-cap.js';
import { tokenKey } from '../../money/unit.js';
import type { PaymentOffer } from '../../offer.js';
import type { Proof } from '../../wallet/wallet.js';
import type { ChallengeInput, PaidOutcome, ProtocolAdapter, RetryRequest } from '../adapter.js';
import { type Challenge, parseWwwAuthenticateLenient } from '../www-authenticate.js';
import { acceptPaymentHeader } from './accept-payment.js';
import { type MissingExpiresRule, type MppOfferRaw, readPaymentChallenges } from './challenge.js';
import { buildCredential, idempotencyKeyFor, readProofSecret } from './credential.js';
import { settlePaid } from './settle.js';
import type { KnownToken } from './terms.js';

/** Options of {@link mppAdapter}. */
export interface MppAdapterOptions {
  /**
   * Safety margin against clock skew and payment time, in ms: a challenge whose `expires` is
   * closer than this is not offered, and offers expire this much early. Default 30 000.
   */
  readonly clockSkewMs?: number;
  /**
   * Challenges without `expires`. `'refuse'` (the default) leaves them out: mppx servers
   * refuse credentials for them, and an authorization without an end is not signed. With
   * `{ ttlSec }` they count as valid for that many seconds from receipt (the Stripe token and
   * any signature then expire then).
   */
  readonly missingExpires?: MissingExpiresRule;
  /**
   * Tokens you know, keyed by `eip155:<chainId>/<address>`: their decimals (the contract's
   * `decimals()`), symbol and ISO 4217 peg (needed to price them in USD). Decimals are
   * required unless the token is a known asset (USDC on Base…): a challenge's own decimals
   * are never used, and a challenge whose decimals differ from these is not paid.
   */
  readonly tokens?: Readonly<Record<string, KnownToken>>;
  /**
   * The routing-fee cap of `lightning.charge` offers, put on each offer as `maxFee` so the
   * budget reserves amount + fee (the wallet pays no fee above it): `maxFeeMsat` (msat, or a
   * function of the amount) and/or `maxFeePercent` of the amount (the smaller wins). Default:
   * 1% of the amount + 10 sat, as for L402.
   */
  readonly lightning?: FeeCapOptions;
  /**
   * Pre-authorization, used only when the paying fetch is created with `preauthorize: true`:
   * the last paid `stripe.charge` challenge of a route (GET/HEAD, no `digest`) is paid again,
   * with a new Shared Payment Token, on the next call's first send while it has not expired, so
   * the steady state is one round trip. mppx servers accept it (their replay protection is the
   * token); a server that refuses reused challenges answers `invalid-challenge` with a fresh
   * challenge: the token is revoked unused, the normal flow goes on without an extra round
   * trip, and that origin is not pre-authorized again. Default `true`; `false` turns it off.
   */
  readonly preauthorize?: boolean;
  /** How many routes' challenges are remembered for pre-authorization. Default 256. */
  readonly maxRoutes?: number;
}

/** MPP schemes whose challenge may be paid again: the proof, not the challenge, is single-use. */
const REUSABLE_SCHEMES = new Set(['stripe.charge']);

/**
 * Creates the MPP adapter: reads `Payment` challenges (one offer each, next to L402, Bearer
 * and x402 challenges of the same 402), builds the `Payment` credential in `Authorization` or
 * in `Payment-Authorization` when the challenge asks, adds a stable `Idempotency-Key`, and
 * reads the `Payment-Receipt` or the problem the server answered with. It advertises the
 * wallets' MPP rails in `Accept-Payment` where the core's `acceptPayment` rule allows.
 *
 * Offers are `mpp:<method>.<intent>` rails: `stripe.charge` in the currency's ISO 4217 minor
 * units, `evm.charge` and `tempo.charge` in token base units, `lightning.charge` in msat;
 * `tempo.session` and unknown methods are offered too, but no wallet pays them.
 *
 * @example
 * ```ts
 * import { createPayingFetch, mppAdapter } from '@stipend/client';
 * import { stripeWallet } from '@stipend/wallet-stripe';
 *
 * const payingFetch = createPayingFetch({
 *   adapters: [mppAdapter()],
 *   wallets: [stripeWallet({ stripe, paymentMethod: 'pm_…' })],
 *   policy: { global: { maxPerRequest: { usd: '1.00' } } },
 * });
 * ```
 */
export function mppAdapter(options: MppAdapterOptions = {}): ProtocolAdapter {
  const clockSkewMs = options.clockSkewMs ?? 30_000;
  const missingExpires = options.missingExpires ?? 'refuse';
  if (!Number.isFinite(clockSkewMs) || clockSkewMs < 0) {
    throw new TypeError('mppAdapter: clockSkewMs must be a non-negative number of milliseconds');
  }
  if (
    missingExpires !== 'refuse' &&
    !(Number.isInteger(missingExpires.ttlSec) && missingExpires.ttlSec > 0)
  ) {
    throw new TypeError('mppAdapter: missingExpires.ttlSec must be a positive whole number');
  }
  const tokens = readTokens(options.tokens ?? {});
  let lightningFeeCap: ReturnType<typeof feeCapOf>;
  try {
    lightningFeeCap = feeCapOf(options.lightning, 'mppAdapter lightning');
  } catch (error) {
    throw new StipendError('CONFIG_INVALID', (error as Error).message, { cause: error });
  }
  const settings = { clockSkewMs, missingExpires, tokens, lightningFeeCap };
  const reuse = options.preauthorize ?? true;
  const maxRoutes = options.maxRoutes ?? 256;
  /** Route → the last paid reusable offer (insertion order = least recently used first). */
  const routes = new Map<string, PaymentOffer>();
  /** Offers handed out by `preauthorize`, to learn from their outcome. */
  const preauthorized = new WeakSet<PaymentOffer>();
  /** Origins that refused a reused challenge. */
  const strictOrigins = new Set<string>();

  return {
    protocol: 'mpp',

    detect(input: ChallengeInput): boolean {
      return input.challenges.some((challenge) => challenge.schemeLower === 'payment');
    },

    parse(input: ChallengeInput): readonly PaymentOffer[] {
      const { offers, problems, refusals } = readPaymentChallenges(
        paymentChallenges(input),
        input.url,
        input.now,
        settings,
      );
      if (offers.length === 0 && refusals.length > 0 && refusals.every((r) => r.asset)) {
        // As x402 does: an asset whose decimals the client does not know is a policy refusal.
        throw new PolicyDeniedError({
          reason: 'asset_not_allowed',
          message: `None of the ${refusals.length} MPP offer(s) is in an asset whose decimals this client knows.`,
          offers: refusals.map((r) => ({
            offerId: r.offerId,
            protocol: 'mpp',
            scheme: r.scheme,
            amount: r.amount,
            code: 'asset_not_allowed',
            reason: r.message,
          })),
          url: input.url.href,
        });
      }
      if (offers.length === 0 && problems.length > 0) {
        throw new ChallengeParseError({
          protocol: 'mpp',
          header: 'www-authenticate',
          message: `No MPP challenge can be paid safely. ${problems.join('. ')}.`,
        });
      }
      return offers;
    },

    proofHeaders(offer: PaymentOffer, proof: Proof, request: RetryRequest) {
      const raw = offer.raw as MppOfferRaw;
      const credential = buildCredential(raw, readProofSecret(proof.secret));
      const name = (raw.challenge.header ?? 'authorization').toLowerCase();
      const headers: Record<string, string> = { [name]: credential };
      if (!request.headers.has('idempotency-key')) {
        headers['idempotency-key'] = idempotencyKeyFor(request.idempotencyKey);
      }
      return headers;
    },

    async settle(offer: PaymentOffer, proof: Proof, response: Response): Promise<PaidOutcome> {
      const outcome = await settlePaid(
        response,
        readProofSecret(proof.secret),
        Date.now(),
        proof.settlement,
      );
      if (outcome.kind === 'rejected' && preauthorized.has(offer)) {
        for (const [route, remembered] of routes) if (remembered === offer) routes.delete(route);
        if (outcome.reason === 'invalid_challenge') strictOrigins.add(offer.origin);
      }
      return outcome;
    },

    remember(offer: PaymentOffer, _proof: Proof, request: RetryRequest) {
      const raw = offer.raw as MppOfferRaw;
      const method = request.method.toUpperCase();
      if (!reuse || !REUSABLE_SCHEMES.has(offer.scheme) || raw.challenge.digest !== undefined) {
        return;
      }
      if ((method !== 'GET' && method !== 'HEAD') || strictOrigins.has(offer.origin)) return;
      const route = routeOf(request);
      routes.delete(route);
      routes.set(route, offer);
      for (const key of routes.keys()) {
        if (routes.size <= maxRoutes) break;
        routes.delete(key);
      }
    },

    preauthorize(request: RetryRequest, now: number) {
      if (!reuse) return undefined;
      const route = routeOf(request);
      const offer = routes.get(route);
      if (!offer) return undefined;
      if (
        offer.expiresAt === undefined ||
        offer.expiresAt <= now ||
        strictOrigins.has(offer.origin) ||
        offer.origin !== request.url.origin
      ) {
        routes.delete(route);
        return undefined;
      }
      preauthorized.add(offer);
      return [offer];
    },

    acceptHeaders(rails: readonly string[], prefer: readonly string[]) {
      const value = acceptPaymentHeader(rails, prefer);
      return value === undefined ? undefined : { 'accept-payment': value };
    },
  };
}

/**
 * The user's `tokens`, checked: each key a `network/address`, each entry valid, and its
 * decimals known (given, or from the known-asset registry).
 */
function readTokens(config: Readonly<Record<string, KnownToken>>): Map<string, KnownToken> {
  const tokens = new Map<string, KnownToken>();
  for (const [key, token] of Object.entries(config)) {
    const where = `mppAdapter tokens[${JSON.stringify(key)}]`;
    const slash = key.indexOf('/');
    if (slash <= 0 || slash === key.length - 1) {
      throw new StipendError(
        'CONFIG_INVALID',
        `${where}: the key must be "eip155:<chainId>/<address>".`,
      );
    }
    const network = key.slice(0, slash);
    const address = key.slice(slash + 1);
    const registered = builtInAsset(network, address);
    const decimals = token?.decimals ?? registered?.decimals;
    if (decimals === undefined) {
      throw new StipendError(
        'CONFIG_INVALID',
        `${where}: decimals are missing, and the token is not a known asset. Add the token ` +
          "contract's decimals(), e.g. { decimals: 6, peg: 'USD' }: a challenge's own decimals are never used to price it.",
      );
    }
    checkKnownAsset(
      {
        network,
        address,
        symbol: token.symbol ?? registered?.symbol ?? 'token',
        decimals,
        ...(token.peg !== undefined ? { peg: token.peg } : {}),
      },
      where,
    );
    tokens.set(tokenKey(network, address), Object.freeze({ ...token, decimals }));
  }
  return tokens;
}

/** A route: origin, method and path with query (the terms may depend on the query). */
function routeOf(request: RetryRequest): string {
  const url = request.url;
  return `${request.method.toUpperCase()} ${url.origin}${url.pathname}${url.search}`;
}

/**
 * The `Payment` challenges of a 402. mppx escapes characters above Latin-1 as `\uXXXX` in
 * quoted strings; the core parses once without decoding those, so when the raw header holds
 * such an escape it is parsed again here with `decodeUnicodeEscapes` (the echoed values must
 * be the ones the server's HMAC covered).
 */
function paymentChallenges(input: ChallengeInput): readonly Challenge[] {
  const header = input.headers.get('www-authenticate');
  if (header?.includes('\\u')) {
    return parseWwwAuthenticateLenient(header, { decodeUnicodeEscapes: true }).challenges;
  }
  return input.challenges;
}
