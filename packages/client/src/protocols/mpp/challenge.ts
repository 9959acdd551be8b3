/**
 * Reading `WWW-Authenticate: Payment …` challenges into frozen offers, after checking every
 * parameter the client must check before paying: id, realm, method, intent, the `request`
 * (base64url JSON, validated per method), `opaque`, the credential `header`, and `expires`
 * with a clock-skew margin. `description` is kept for display and never used for a decision.
 *
 * @module
 */
import type { FeeCap } from '../../money/fee-cap.js';
import { freezeOffer, type PaymentOffer } from '../../offer.js';
import type { Challenge } from '../www-authenticate.js';
import { decodeBase64UrlJson } from './base64url.js';
import { type KnownToken, readTerms } from './terms.js';

/** What an MPP offer carries in `raw` (the cross-wallet convention). */
export interface MppOfferRaw {
  /** Every challenge parameter exactly as received (names lower-cased by the parser). */
  readonly challenge: Readonly<Record<string, string>>;
  /** The decoded `request` JSON object. */
  readonly request: Readonly<Record<string, unknown>>;
  /** The BOLT11 invoice of a `lightning` charge. */
  readonly invoice?: string;
}

/** How challenges without `expires` are treated. */
export type MissingExpiresRule = 'refuse' | { readonly ttlSec: number };

/** The settings {@link readPaymentChallenges} applies. */
export interface ReadSettings {
  readonly clockSkewMs: number;
  readonly missingExpires: MissingExpiresRule;
  readonly tokens: ReadonlyMap<string, KnownToken>;
  /** The routing-fee cap of Lightning charges (default: 1% + 10 sat). */
  readonly lightningFeeCap?: FeeCap;
}

/** One challenge left out, and whether it was for its asset (unknown or contradicted decimals). */
export interface ChallengeProblem {
  readonly message: string;
  /** The challenge was refused for its asset: the adapter refuses with `asset_not_allowed`. */
  readonly asset: boolean;
  /** What the offer would have been, for the denial: `mpp:<id>`, scheme, amount as stated. */
  readonly offerId: string;
  readonly scheme: string;
  readonly amount: string;
}

/** The credential headers a challenge may name (lower case). Nothing else is accepted. */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'payment-authorization'];

const MAX_REQUEST_CHARS = 16 * 1024;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const METHOD = /^[a-z][a-z0-9:_-]{0,63}$/;
const INTENT = /^[A-Za-z0-9-]{1,64}$/;

/**
 * Reads the `Payment` challenges among `challenges` into offers. A challenge that fails a
 * check is left out, and the reason is returned in `problems` (secret-free); `refusals` says
 * the same per challenge, with whether it was refused for its asset.
 *
 * @example
 * ```ts
 * import { readPaymentChallenges } from './challenge.js';
 * const { offers, problems } = readPaymentChallenges(input.challenges, input.url, Date.now(), {
 *   clockSkewMs: 30_000, missingExpires: 'refuse', tokens: new Map(),
 * });
 * ```
 */
export function readPaymentChallenges(
  challenges: readonly Challenge[],
  url: URL,
  now: number,
  settings: ReadSettings,
): { offers: PaymentOffer[]; problems: string[]; refusals: ChallengeProblem[] } {
  const offers: PaymentOffer[] = [];
  const problems: string[] = [];
  const refusals: ChallengeProblem[] = [];
  const seen = new Set<string>();
  let index = 0;
  for (const challenge of challenges) {
    if (challenge.schemeLower !== 'payment') continue;
    index++;
    try {
      const offer = readOne(challenge, url, now, settings);
      if (seen.has(offer.id)) throw new TypeError('its id repeats an earlier challenge');
      seen.add(offer.id);
      offers.push(offer);
    } catch (error) {
      const params = challenge.params;
      const named = METHOD.test(params.method ?? '') && INTENT.test(params.intent ?? '');
      const what = named ? ` (${params.method}.${params.intent})` : '';
      const message = `Payment challenge ${index}${what}: ${(error as Error).message}`;
      problems.push(message);
      refusals.push({
        message,
        asset: (error as { assetRefused?: unknown }).assetRefused === true,
        offerId: `mpp:${/^[!-~]{1,128}$/.test(params.id ?? '') ? params.id : index}`,
        scheme: named ? `${params.method}.${params.intent}` : '?',
        amount: statedAmount(params.request),
      });
    }
  }
  return { offers, problems, refusals };
}

/** The amount a challenge states, for a denial's display only (`?` when unreadable). */
function statedAmount(request: string | undefined): string {
  if (request === undefined || request.length > MAX_REQUEST_CHARS) return '?';
  try {
    const amount = (decodeBase64UrlJson(request) as { amount?: unknown } | null)?.amount;
    return typeof amount === 'string' && /^[0-9]{1,78}$/.test(amount) ? amount : '?';
  } catch {
    return '?';
  }
}

function readOne(challenge: Challenge, url: URL, now: number, settings: ReadSettings) {
  if (challenge.token68 !== undefined) throw new TypeError('it has no parameters');
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(challenge.params)) params[name] = value;
  const { id, realm, method, intent, request } = params;
  if (!id) throw new TypeError('it has no id (required, non-empty)');
  if (!realm) throw new TypeError('it has no realm (required)');
  if (!method || !METHOD.test(method)) {
    throw new TypeError('its method is missing or not a lower-case method name');
  }
  if (!intent || !INTENT.test(intent)) throw new TypeError('its intent is missing or malformed');
  if (!request) throw new TypeError('it has no request (required)');
  if (request.length > MAX_REQUEST_CHARS) {
    throw new TypeError(`its request is longer than ${MAX_REQUEST_CHARS} characters`);
  }
  const header = params.header;
  if (header !== undefined && !CREDENTIAL_HEADERS.includes(header.toLowerCase())) {
    throw new TypeError(
      `it asks for the credential in the header "${header}"; only Authorization and ` +
        'Payment-Authorization are accepted, so it is not paid',
    );
  }
  const decoded = decodeJson(request, 'request');
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
    throw new TypeError('its request is not a JSON object');
  }
  if (params.opaque !== undefined) {
    const opaque = decodeJson(params.opaque, 'opaque');
    if (
      typeof opaque !== 'object' ||
      opaque === null ||
      Array.isArray(opaque) ||
      Object.values(opaque).some((v) => typeof v !== 'string')
    ) {
      throw new TypeError('its opaque is not a flat JSON object of strings');
    }
  }

  let expires: number;
  if (params.expires !== undefined) {
    const at = RFC3339.test(params.expires) ? Date.parse(params.expires) : Number.NaN;
    if (!Number.isFinite(at)) throw new TypeError('its expires is not an RFC 3339 date-time');
    expires = at;
  } else if (settings.missingExpires === 'refuse') {
    throw new TypeError(
      'it has no expires, and challenges without one are refused (mppx servers reject their ' +
        'credentials too); pass mppAdapter({ missingExpires: { ttlSec } }) to accept them',
    );
  } else {
    expires = now + settings.missingExpires.ttlSec * 1000;
  }

  const terms = readTerms(method, intent, decoded, {
    realm,
    tokens: settings.tokens,
    ...(settings.lightningFeeCap !== undefined
      ? { lightningFeeCap: settings.lightningFeeCap }
      : {}),
  });
  const expiry = terms.expiresAt !== undefined ? Math.min(expires, terms.expiresAt) : expires;
  if (expiry - settings.clockSkewMs <= now) {
    throw new TypeError(
      `it expired at ${new Date(expiry).toISOString()} (or will within the ` +
        `${settings.clockSkewMs} ms clock-skew margin); retry the request for a fresh challenge`,
    );
  }

  const raw: MppOfferRaw = {
    challenge: params,
    request: decoded as Record<string, unknown>,
    ...(terms.invoice !== undefined ? { invoice: terms.invoice } : {}),
  };
  const final = terms.amount.unit.kind === 'msat';
  return freezeOffer({
    id: `mpp:${id}`,
    protocol: 'mpp',
    scheme: `${method}.${intent}`,
    amount: terms.amount,
    ...(terms.maxFee !== undefined ? { maxFee: terms.maxFee } : {}),
    payee: terms.payee,
    ...(terms.network !== undefined ? { network: terms.network } : {}),
    ...(terms.asset !== undefined ? { asset: terms.asset } : {}),
    origin: url.origin,
    resource: url.href,
    expiresAt: expiry - settings.clockSkewMs,
    ...(final ? {} : { authorizationTtlSec: Math.ceil((expiry - now) / 1000) }),
    reusable: false,
    raw,
  } satisfies PaymentOffer);
}

function decodeJson(text: string, name: string): unknown {
  try {
    return decodeBase64UrlJson(text);
  } catch {
    throw new TypeError(`its ${name} is not base64url-encoded UTF-8 JSON`);
  }
}
