/**
 * Pricing what a discovery document publishes, with the same readers and the same rule as a
 * payment: amounts are atomic units whose decimals the client knows (the known-asset registry
 * or the user's configuration), never decimals a document states; USD costs go through the
 * price source with its staleness bound, rounded up. A document whose own claims do not add up
 * (stated decimals that differ from the known ones, a stated USD price its amount does not
 * match) gets no price, and says why.
 *
 * @module
 */
import { isStipendError } from '../errors/base.js';
import { formatUsd, parseUsd } from '../money/decimal.js';
import type { PriceSource } from '../money/price.js';
import { toUsdMicros } from '../money/price.js';
import type { Amount } from '../money/unit.js';
import type { PaymentOffer } from '../offer.js';
import type { ChallengeInput } from '../protocols/adapter.js';
import { type KnownToken, readTerms } from '../protocols/mpp/terms.js';
import type { AssetRegistry } from '../protocols/x402/assets.js';
import { offersFromV1, offersFromV2 } from '../protocols/x402/terms.js';
import { cleanText, objectOf, type RawOffer } from './raw.js';
import type { DiscoveredOffer } from './types.js';

/** What pricing needs. */
export interface PriceContext {
  readonly origin: string;
  /** x402 assets: the built-in ones plus the user's. */
  readonly registry: AssetRegistry;
  /** MPP tokens the user knows, by `eip155:<id>/<address>`. */
  readonly tokens: ReadonlyMap<string, KnownToken>;
  readonly prices: PriceSource;
  readonly now: number;
  readonly maxRateAgeMs: number;
}

/**
 * Prices one published offer of an endpoint (`method` `url`).
 *
 * @example
 * ```ts
 * import { priceRawOffer } from './price.js';
 * const offer = await priceRawOffer({ protocol: 'mpp', fields: { method: 'stripe', intent: 'charge', amount: '50', currency: 'usd' } }, url, 'GET', ctx);
 * offer.usdMicros; // 500000n
 * ```
 */
export async function priceRawOffer(
  raw: RawOffer,
  url: URL,
  method: string,
  ctx: PriceContext,
): Promise<DiscoveredOffer> {
  return raw.protocol === 'mpp' ? priceMpp(raw.fields, ctx) : priceX402(raw, url, method, ctx);
}

async function priceMpp(
  fields: Readonly<Record<string, unknown>>,
  ctx: PriceContext,
): Promise<DiscoveredOffer> {
  const scheme = `${fields.method as string}.${fields.intent as string}`;
  const description = cleanText(fields.description);
  const payee = typeof fields.recipient === 'string' ? cleanText(fields.recipient) : undefined;
  const base: DiscoveredOffer = {
    protocol: 'mpp',
    scheme,
    ...(payee ? { payee } : {}),
    ...(description ? { description } : {}),
  };
  if (fields.amount === null) {
    return { ...base, unpriced: 'its price is dynamic (amount null); the 402 challenge says it' };
  }
  if (typeof fields.currency !== 'string') {
    return { ...base, unpriced: 'it names no currency, so its amount cannot be read' };
  }
  if (fields.amount === '0') return withClaim({ ...base, usdMicros: 0n }, fields.price);
  const details = objectOf(fields.methodDetails);
  const chainId = details?.chainId ?? fields.chainId;
  const decimals = details?.decimals ?? fields.decimals;
  const request = {
    amount: fields.amount,
    currency: fields.currency,
    ...(payee ? { recipient: payee } : {}),
    ...(chainId !== undefined || decimals !== undefined
      ? {
          methodDetails: {
            ...(chainId !== undefined ? { chainId } : {}),
            ...(decimals !== undefined ? { decimals } : {}),
          },
        }
      : {}),
  };
  let amount: Amount;
  let network: string | undefined;
  try {
    // A discovery offer carries no method details to validate by method: it is read as a
    // payment of an unknown method, whose unit comes only from what the client knows.
    const terms = readTerms('discovery', String(fields.intent), request, {
      realm: ctx.origin,
      tokens: ctx.tokens,
    });
    amount = terms.amount;
    network = terms.network;
  } catch (error) {
    return { ...base, unpriced: `its terms cannot be read: ${messageOf(error)}` };
  }
  if (amount.unit.kind === 'token' && amount.unit.network === 'mpp:unknown') {
    return {
      ...base,
      asset: fields.currency,
      unpriced:
        `its currency ${JSON.stringify(fields.currency.slice(0, 80))} is not an ISO 4217 code or a token this client knows on a named chain ` +
        '(decimals stated by a document are never used); the 402 challenge says what it costs',
    };
  }
  const priced: DiscoveredOffer = {
    ...base,
    amount,
    ...(network ? { network, asset: fields.currency } : {}),
  };
  return withClaim(await toUsd(priced, amount, ctx), fields.price);
}

async function priceX402(
  raw: Extract<RawOffer, { protocol: 'x402' }>,
  url: URL,
  method: string,
  ctx: PriceContext,
): Promise<DiscoveredOffer> {
  const requirement = objectOf(raw.requirement);
  const scheme =
    typeof requirement?.scheme === 'string' ? (cleanText(requirement.scheme) ?? '?') : '?';
  const base: DiscoveredOffer = { protocol: 'x402', scheme };
  if (!requirement) return { ...base, unpriced: 'the requirement is not an object' };
  const input: ChallengeInput = {
    status: 402,
    headers: new Headers(),
    url,
    method,
    challenges: [],
    now: ctx.now,
    bodyText: async () => undefined,
  };
  let offer: PaymentOffer | undefined;
  try {
    const context = { input, registry: ctx.registry };
    [offer] =
      raw.version === 2
        ? offersFromV2(
            { x402Version: 2, resource: { url: url.href }, accepts: [requirement] },
            context,
          )
        : offersFromV1({ x402Version: 1, accepts: [requirement] }, context);
  } catch (error) {
    return { ...base, unpriced: messageOf(error) };
  }
  if (!offer) return { ...base, unpriced: 'the requirement gave no offer' };
  const described: DiscoveredOffer = {
    ...base,
    amount: offer.amount,
    payee: offer.payee,
    ...(offer.network ? { network: offer.network } : {}),
    ...(offer.asset ? { asset: offer.asset } : {}),
  };
  const stated = objectOf(requirement.extra)?.decimals;
  const known = offer.amount.unit.kind === 'token' ? offer.amount.unit.decimals : undefined;
  if (stated !== undefined && stated !== known) {
    return {
      ...described,
      unpriced: `it claims ${JSON.stringify(stated)} decimals for ${offer.asset}, which has ${known}; it is not priced`,
    };
  }
  return withClaim(await toUsd(described, offer.amount, ctx), raw.claimedPrice);
}

async function toUsd(
  offer: DiscoveredOffer,
  amount: Amount,
  ctx: PriceContext,
): Promise<DiscoveredOffer> {
  try {
    const { usdMicros } = await toUsdMicros(amount, ctx.prices, {
      now: ctx.now,
      maxAgeMs: ctx.maxRateAgeMs,
    });
    return { ...offer, usdMicros };
  } catch (error) {
    return { ...offer, unpriced: messageOf(error) };
  }
}

/**
 * A USD price a document states beside the amount must be what the amount is worth; when it
 * is not (a price "in another unit than claimed"), the offer keeps its amount but gets no USD
 * cost, and the reason shows both.
 */
function withClaim(offer: DiscoveredOffer, claim: unknown): DiscoveredOffer {
  if (claim === undefined || offer.usdMicros === undefined) return offer;
  let claimed: bigint | undefined;
  try {
    claimed = typeof claim === 'string' ? parseUsd(claim.trim()) : undefined;
  } catch {
    claimed = undefined;
  }
  if (claimed === offer.usdMicros) return offer;
  const { usdMicros, ...rest } = offer;
  const said =
    claimed !== undefined ? formatUsd(claimed) : JSON.stringify(String(claim).slice(0, 40));
  return {
    ...rest,
    unpriced: `the document says it costs ${said}, but its amount is worth ${formatUsd(usdMicros)}; it is not priced`,
  };
}

function messageOf(error: unknown): string {
  if (isStipendError(error)) {
    const offers = (error as { offers?: unknown }).offers;
    const first = Array.isArray(offers)
      ? (offers[0] as { reason?: unknown } | undefined)
      : undefined;
    if (typeof first?.reason === 'string') return first.reason;
    return error.shortMessage;
  }
  return (error as Error | null)?.message ?? String(error);
}
