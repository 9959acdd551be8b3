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
import { type Bolt11Network, readBolt11 } from './bolt11.js';
import { readMacaroon } from './macaroon.js';

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
  /** Whether the token decoded as a macaroon (so its hash was cross-checked). */
  readonly macaroon: boolean;
  /** The earliest `*_valid_until` / `expiration` caveat, ms epoch. */
  readonly credentialExpiresAt?: number;
  /** The challenge's `version` parameter, when present (always `"0"`). */
  readonly version?: string;
}

/** CAIP-2 ids of the Bitcoin networks (bip122 + genesis block hash prefix). */
export const BITCOIN_CAIP2: Readonly<Record<Bolt11Network, string>> = {
  mainnet: 'bip122:000000000019d6689c085ae165831e93',
  testnet: 'bip122:000000000933ea01ad0ee984209779ba',
  signet: 'bip122:00000008819873e925422c1ff0f99f7c',
  regtest: 'bip122:0f9188f13cb7b2c71f2a335e3a4fc328',
};

/** A fee cap in msat, fixed or as a function of the amount. */
export type FeeCap = bigint | ((amountMsat: bigint) => bigint);

/**
 * The default routing-fee cap: 1% of the amount plus 10 sat.
 *
 * @example
 * ```ts
 * import { defaultFeeCap } from '@stipend/client';
 * defaultFeeCap(100_000n); // 11_000n msat
 * ```
 */
export const defaultFeeCap = (amountMsat: bigint): bigint => amountMsat / 100n + 10_000n;

// The credential is `L402 <token>:<preimage>`: a token must be visible ASCII that cannot break
// that line (no `"`, `,`, `:` or `\`).
const VISIBLE = /^[!-~]+$/;
const BREAKS = /[",:\\]/;

/**
 * Reads every L402/LSAT challenge of a 402 into offers (one per distinct token + invoice).
 * Challenges that cannot be paid safely are skipped; when none is left, throws a
 * `ChallengeParseError` listing why, so nothing is paid.
 *
 * @example
 * ```ts
 * import { defaultFeeCap, parseL402Challenges } from './challenge.js';
 * const offers = parseL402Challenges(input, defaultFeeCap); // input: the core's ChallengeInput
 * ```
 */
export function parseL402Challenges(input: ChallengeInput, feeCap: FeeCap): PaymentOffer[] {
  const offers: PaymentOffer[] = [];
  const reasons: string[] = [];
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
    if (macaroon?.l402) {
      if (macaroon.l402.version !== 0) {
        reasons.push(`unknown L402 token identifier version ${macaroon.l402.version}`);
        continue;
      }
      if (macaroon.l402.paymentHash !== bolt11.paymentHash) {
        reasons.push(
          "the invoice's payment hash differs from the one in the token: paying it would buy an unusable credential",
        );
        continue;
      }
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
    throw new ChallengeParseError({
      protocol: 'l402',
      message: `The L402 challenge cannot be paid: ${reasons.join('; ')}.`,
    });
  }
  return offers;
}
