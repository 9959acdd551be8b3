/**
 * L402 challenges → offers. Every live form is read through the shared `WWW-Authenticate`
 * parser: `L402` and `LSAT` (any case), `token=` or `macaroon=`, `version` absent or `"0"`,
 * quoted or not, one line or several. The LSAT + L402 pair aperture sends for one purchase
 * (same token, same invoice) is one offer.
 *
 * @module
 */
import { ChallengeParseError } from '../../errors/challenge.js';
import { msat } from '../../money/index.js';
import { freezeOffer, type PaymentOffer } from '../../offer.js';
import type { ChallengeInput } from '../adapter.js';
import { readBolt11 } from '../bolt11.js';
import { L402TokenError, type L402TokenRefusal } from './errors.js';
import { type MacaroonInfo, readMacaroon } from './macaroon.js';

/** What an L402 offer carries in `raw` (frozen with the offer). */
export interface L402OfferRaw {
  /** The scheme of the first challenge that carried this pair (`L402`, `LSAT`, `l402`…). */
  readonly scheme: string;
  /** The token exactly as received. */
  readonly token: string;
  /** The BOLT 11 invoice exactly as received. */
  readonly invoice: string;
  /** The invoice's payment hash (lowercase hex). */
  readonly paymentHash: string;
  /** Services named by the token's `services` caveat; `[]` when the token is opaque. */
  readonly services: readonly string[];
  /**
   * Whether the token decoded as a macaroon (its payment hash was then checked against the
   * invoice's). `false` only for an opaque token the adapter was told to allow.
   */
  readonly macaroon: boolean;
  /** The earliest `*_valid_until` / `expiration` caveat, ms epoch. */
  readonly credentialExpiresAt?: number;
  /** The challenge's `version` parameter, when present (always `"0"`). */
  readonly version?: string;
}

import { BITCOIN_CAIP2 } from '../bolt11.js';

// The Bitcoin networks' CAIP-2 ids live beside the one BOLT11 reader (shared with x402 lnbtc).
export { BITCOIN_CAIP2 } from '../bolt11.js';

import type { FeeCap } from '../../money/fee-cap.js';

// One fee cap for every Lightning rail (L402 and MPP lightning.charge).
export { defaultFeeCap, type FeeCap } from '../../money/fee-cap.js';

// The credential is `L402 <token>:<preimage>`: a token must be visible ASCII that cannot break
// that line (no `"`, `,`, `:` or `\`).
const VISIBLE = /^[!-~]+$/;
const BREAKS = /[",:\\]/;

/**
 * Whether a token is bound to the invoice's payment hash: `undefined` when it is, else the
 * refusal (which, and why). A token that decodes as a macaroon must carry the hash in the
 * 66-byte L402 identifier (version 0); any other macaroon is refused, never treated as opaque.
 * A token that is not a macaroon at all passes only when opaque tokens are allowed.
 *
 * @example
 * ```ts
 * import { tokenBinding } from './challenge.js';
 * import { readMacaroon } from './macaroon.js';
 * const refusal = tokenBinding(readMacaroon(token), paymentHash, false);
 * if (refusal) throw new Error(refusal.reason);
 * ```
 */
export function tokenBinding(
  macaroon: MacaroonInfo | undefined,
  paymentHash: string,
  allowOpaqueTokens: boolean,
): { readonly refusal: L402TokenRefusal; readonly reason: string } | undefined {
  if (macaroon === undefined) {
    if (allowOpaqueTokens) return undefined;
    return {
      refusal: 'opaque',
      reason:
        'the token is not a macaroon, so nothing ties it to the invoice (a server could sell a token for another payment); pass l402Adapter({ allowOpaqueTokens: true }) to pay such tokens',
    };
  }
  if (!macaroon.l402) {
    return {
      refusal: 'unbound',
      reason: `the token is a macaroon whose ${macaroon.identifier.length}-byte identifier is not the 66-byte L402 layout, so it does not carry the invoice's payment hash: paying could buy an unusable credential`,
    };
  }
  if (macaroon.l402.version !== 0) {
    return {
      refusal: 'unbound',
      reason: `unknown L402 token identifier version ${macaroon.l402.version}: its payment hash cannot be checked`,
    };
  }
  if (macaroon.l402.paymentHash !== paymentHash) {
    return {
      refusal: 'unbound',
      reason:
        "the invoice's payment hash differs from the one in the token: paying it would buy an unusable credential",
    };
  }
  return undefined;
}

/**
 * Reads every L402/LSAT challenge of a 402 into offers (one per distinct token + invoice).
 * Challenges that cannot be paid safely are skipped; when none is left, throws a
 * `ChallengeParseError` listing why (an `L402TokenError` when only token binding failed), so
 * nothing is paid.
 *
 * @example
 * ```ts
 * import { defaultFeeCap, parseL402Challenges } from './challenge.js';
 * const offers = parseL402Challenges(input, defaultFeeCap); // input: the core's ChallengeInput
 * ```
 */
export function parseL402Challenges(
  input: ChallengeInput,
  feeCap: FeeCap,
  allowOpaqueTokens = false,
): PaymentOffer[] {
  const offers: PaymentOffer[] = [];
  const reasons: string[] = [];
  let tokenRefusal: L402TokenRefusal | undefined;
  let tokenReasons = 0;
  const seen = new Set<string>();
  for (const challenge of input.challenges) {
    if (challenge.schemeLower !== 'l402' && challenge.schemeLower !== 'lsat') continue;
    const { params } = challenge;
    const version = params.version;
    if (version !== undefined && version !== '0') {
      reasons.push(`unsupported L402 version "${version.slice(0, 16)}" (only "0" or none is paid)`);
      continue;
    }
    const token = params.token ?? params.macaroon;
    const invoice = params.invoice;
    if (!token || !invoice) {
      reasons.push(`${challenge.scheme} challenge without token/macaroon and invoice`);
      continue;
    }
    if (!VISIBLE.test(token) || BREAKS.test(token) || token.length > 16_384) {
      reasons.push('the token holds characters that cannot go in an Authorization header');
      continue;
    }
    const key = `${token}\n${invoice}`;
    if (seen.has(key)) continue;
    seen.add(key);

    let bolt11: ReturnType<typeof readBolt11>;
    try {
      bolt11 = readBolt11(invoice);
    } catch (error) {
      reasons.push(`invalid invoice: ${(error as Error).message}`);
      continue;
    }
    if (bolt11.amountMsat === undefined) {
      reasons.push('amountless invoice: the price is unknown, so it is not paid');
      continue;
    }
    const macaroon = readMacaroon(token);
    const refusal = tokenBinding(macaroon, bolt11.paymentHash, allowOpaqueTokens);
    if (refusal) {
      reasons.push(refusal.reason);
      tokenRefusal ??= refusal.refusal;
      tokenReasons++;
      continue;
    }
    const raw: { -readonly [K in keyof L402OfferRaw]: L402OfferRaw[K] } = {
      scheme: challenge.scheme,
      token,
      invoice,
      paymentHash: bolt11.paymentHash,
      services: macaroon?.services ?? [],
      macaroon: macaroon !== undefined,
    };
    if (macaroon?.expiresAt !== undefined) raw.credentialExpiresAt = macaroon.expiresAt;
    if (version !== undefined) raw.version = version;
    const fee = typeof feeCap === 'function' ? feeCap(bolt11.amountMsat) : feeCap;
    offers.push(
      freezeOffer({
        id: `l402:${bolt11.paymentHash}`,
        protocol: 'l402',
        scheme: 'bolt11',
        amount: msat(bolt11.amountMsat),
        maxFee: msat(fee),
        // A claim until a wallet recovers the signer (`Wallet.payeeOf`): payee lists refuse an
        // L402 offer whose payee was not verified.
        payee: bolt11.payeeNodeKey ?? 'unverified',
        network: BITCOIN_CAIP2[bolt11.network],
        origin: input.url.origin,
        resource: input.url.href,
        expiresAt: (bolt11.timestamp + bolt11.expirySeconds) * 1000,
        reusable: true,
        raw,
      }),
    );
  }
  if (offers.length === 0 && reasons.length > 0) {
    // Every refusal was about the token: say which.
    if (tokenRefusal !== undefined && tokenReasons === reasons.length) {
      throw new L402TokenError({
        refusal: tokenRefusal,
        message: `The L402 challenge cannot be paid: ${reasons.join('; ')}.`,
      });
    }
    throw new ChallengeParseError({
      protocol: 'l402',
      message: `The L402 challenge cannot be paid: ${reasons.join('; ')}.`,
    });
  }
  return offers;
}
