/**
 * Reading MPP `tempo` `session` challenges (draft-tempo-session-00, TIP-1034 channels) into
 * session offers. The common checks (challenge parameters, `expires`, the `request` shape of
 * `tempo.session`: amount, currency, recipient, `methodDetails.chainId`/`escrowContract`, the
 * token's decimals from the client's own registry) are the MPP adapter's (`readPaymentChallenges`
 * and `terms.ts`); here: the escrow is the canonical TIP-1034 one or one the user pinned,
 * the protocol is v2, the client pays its own fees (server-sponsored `feePayer` is not
 * supported yet), and the suggested deposit is a hint, never a floor.
 *
 * @module
 */
import { amount } from '../../../money/unit.js';
import { freezeOffer, type PaymentOffer } from '../../../offer.js';
import type { SessionOffer } from '../../../session/types.js';
import type { Challenge } from '../../www-authenticate.js';
import { type MppOfferRaw, readPaymentChallenges } from '../challenge.js';
import type { KnownToken } from '../terms.js';

/** The rail of Tempo session offers. */
export const TEMPO_SESSION_RAIL = 'mpp:tempo.session';

/** The canonical TIP-1034 escrow (a Tempo precompile). */
export const TIP1034_ESCROW = '0x4d50500000000000000000000000000000000000';

/** The channel terms a deposit offer carries for the wallet (`raw.tempo`). */
export interface TempoChannelTerms {
  readonly action: 'open' | 'topUp';
  readonly chainId: number;
  readonly escrow: string;
  readonly token: string;
  readonly payee: string;
  readonly feeToken: string;
  readonly channelId?: string;
}

/** A read Tempo session offer. */
export interface TempoSessionOffer extends SessionOffer {
  /** The challenge parameters, exactly as received (echoed in credentials). */
  readonly challenge: Readonly<Record<string, string>>;
  /** The channel terms (action `open`; a top-up names its channel later). */
  readonly terms: TempoChannelTerms;
  /** The decoded `request`, for the deposit offer's `raw`. */
  readonly request: unknown;
}

/** Settings of {@link readTempoSessionOffers}. */
export interface TempoSessionReadSettings {
  readonly clockSkewMs: number;
  /** Escrows accepted (lower case). The canonical one unless the user pinned others. */
  readonly escrows: ReadonlySet<string>;
  /** Tokens the client knows (decimals, peg), as `mppAdapter({ tokens })`. */
  readonly tokens: ReadonlyMap<string, KnownToken>;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BASE_UNITS = /^[0-9]{1,29}$/;

interface SessionDetails {
  readonly chainId: number;
  readonly escrowContract?: string;
  readonly sessionProtocol?: unknown;
  readonly feePayer?: unknown;
  readonly feeToken?: unknown;
  readonly operator?: unknown;
  readonly channelId?: unknown;
}

/**
 * Reads the `tempo` `session` challenges among `challenges`. Each becomes a frozen
 * {@link TempoSessionOffer}: its priced `offer` has `amount` = the price per unit in token
 * base units, on the rail `mpp:tempo.session`. Challenges that fail a check are left out, with
 * a secret-free reason in `problems`.
 *
 * @example
 * ```ts
 * import { readTempoSessionOffers, TIP1034_ESCROW } from './tempo-terms.js';
 * const { offers } = readTempoSessionOffers(input.challenges, input.url, Date.now(), {
 *   clockSkewMs: 30_000, escrows: new Set([TIP1034_ESCROW]), tokens: new Map(),
 * });
 * ```
 */
export function readTempoSessionOffers(
  challenges: readonly Challenge[],
  url: URL,
  now: number,
  settings: TempoSessionReadSettings,
): { offers: TempoSessionOffer[]; problems: string[] } {
  const mine = challenges.filter(
    (c) =>
      c.schemeLower === 'payment' && c.params.method === 'tempo' && c.params.intent === 'session',
  );
  if (mine.length === 0) return { offers: [], problems: [] };
  const common = readPaymentChallenges(mine, url, now, {
    clockSkewMs: settings.clockSkewMs,
    missingExpires: 'refuse',
    tokens: settings.tokens,
  });
  const offers: TempoSessionOffer[] = [];
  const problems = [...common.problems];
  for (const read of common.offers) {
    try {
      offers.push(sessionOffer(read, settings));
    } catch (error) {
      problems.push(`Payment challenge ${read.id} (tempo.session): ${(error as Error).message}`);
    }
  }
  return { offers, problems };
}

function sessionOffer(read: PaymentOffer, settings: TempoSessionReadSettings): TempoSessionOffer {
  const raw = read.raw as MppOfferRaw;
  const request = raw.request as {
    currency: string;
    recipient: string;
    suggestedDeposit?: string;
    methodDetails: SessionDetails;
  };
  const details = request.methodDetails;
  const escrow = (details.escrowContract ?? TIP1034_ESCROW).toLowerCase();
  if (!ADDRESS.test(escrow)) throw new TypeError('its escrowContract is not an address');
  if (!settings.escrows.has(escrow)) {
    throw new TypeError(
      `its escrow ${escrow} is not the canonical TIP-1034 escrow and is not pinned ` +
        "(a server's escrow could keep the deposit); pin it with tempoSessionMethod({ escrows: [...] })",
    );
  }
  if (details.sessionProtocol !== undefined && details.sessionProtocol !== 'v2') {
    throw new TypeError(
      `its sessionProtocol ${String(details.sessionProtocol)} is not supported (v2 only)`,
    );
  }
  if (details.feePayer !== undefined && details.feePayer !== false) {
    throw new TypeError(
      'it asks for server-sponsored fees (feePayer), which Stipend does not support yet',
    );
  }
  if (
    details.operator !== undefined &&
    details.operator !== '0x0000000000000000000000000000000000000000'
  ) {
    throw new TypeError('it names a channel operator, which Stipend does not open channels for');
  }
  const feeToken =
    typeof details.feeToken === 'string' && ADDRESS.test(details.feeToken)
      ? details.feeToken
      : request.currency;
  if (feeToken.toLowerCase() !== request.currency.toLowerCase()) {
    throw new TypeError('it asks for fees in another token than the channel token');
  }
  if (read.amount.value <= 0n) throw new TypeError('its price per unit is zero');
  let suggested: ReturnType<typeof amount> | undefined;
  if (request.suggestedDeposit !== undefined) {
    if (!BASE_UNITS.test(request.suggestedDeposit))
      throw new TypeError('its suggestedDeposit is not base units');
    suggested = amount(BigInt(request.suggestedDeposit), read.amount.unit);
  }
  const offer = freezeOffer({ ...read, reusable: true });
  return Object.freeze({
    offer,
    method: 'tempo',
    realm: raw.challenge.realm!,
    ...(suggested ? { suggestedDeposit: suggested } : {}),
    challenge: raw.challenge,
    request: raw.request,
    terms: Object.freeze({
      action: 'open' as const,
      chainId: details.chainId,
      escrow,
      token: request.currency,
      payee: request.recipient,
      feeToken,
    }),
  });
}
