/**
 * Reading x402 terms into frozen offers: v2 (`PAYMENT-REQUIRED` header), v1 (JSON body) and
 * the plain `X-Payment-Required` form. Each requirement is checked on its own; one the client
 * cannot pay safely (unknown asset, unknown network, unsupported scheme, conflicting fields)
 * is refused with a reason, and the others are still offered.
 *
 * @module
 */
import { ChallengeParseError } from '../../errors/challenge.js';
import { type DenyCode, type OfferDenial, PolicyDeniedError } from '../../errors/policy.js';
import { parseDecimal } from '../../money/decimal.js';
import { amount, type TokenUnit } from '../../money/unit.js';
import { freezeOffer, type PaymentOffer } from '../../offer.js';
import type { ChallengeInput } from '../adapter.js';
import type { AssetRegistry, KnownAsset } from './assets.js';
import { fingerprint } from './fingerprint.js';
import type { X402Lightning } from './lightning.js';
import type { LnbtcBindings } from './lnbtc.js';
import { toCaip2 } from './networks.js';
import {
  firstIssue,
  PaymentRequiredV1,
  PaymentRequiredV2,
  PlainTerms,
  RequirementV1,
  RequirementV2,
} from './schemas.js';

/** How to make an unknown token payable; `peg` is what lets the default price source price it. */
const ASSET_HINT =
  "add it with x402Adapter({ assets: [{ network, address, symbol, decimals, name, version, peg: 'USD' }] }) " +
  '(peg: the ISO 4217 currency a stablecoin tracks; for any other token leave peg out and pass a prices source that quotes it)';

/** Which x402 dialect an offer came from; it decides the proof and receipt headers. */
export type X402Form = 'v2' | 'v1' | 'plain';

/**
 * What an x402 offer carries in `raw`, for the wallet and for the proof header. The
 * requirement is the object exactly as the server sent it (v2 echoes it in `accepted`).
 */
export interface X402OfferRaw {
  readonly form: X402Form;
  /** The x402 protocol version of the proof to build. */
  readonly x402Version: 1 | 2;
  /** The requirement as received (for the plain form: the one derived from its terms). */
  readonly requirement: Readonly<Record<string, unknown>>;
  /** v2: the top-level `resource` object as received. */
  readonly resource?: Readonly<Record<string, unknown>>;
  /** v2: the `extensions` object as received; echoed in the proof. */
  readonly extensions?: Readonly<Record<string, unknown>>;
  /**
   * How the value moves: an EIP-3009 authorization, a Permit2 witness transfer, or (an
   * `lnbtc` network) a paid BOLT 11 invoice.
   */
  readonly transfer: 'eip3009' | 'permit2' | 'bolt11';
  /** `lnbtc`: the BOLT 11 invoice as received (`extra.invoice`), which the wallet pays. */
  readonly invoice?: string;
  /** `lnbtc`: the invoice's payment hash (lowercase hex): the payment's reference. */
  readonly paymentHash?: string;
  /** The token's EIP-712 domain (EIP-3009): from `extra`, else from the known-asset registry. */
  readonly domain?: { readonly name: string; readonly version: string };
  /** The server answered 412: a Permit2 approval is missing (paying needs one first). */
  readonly approvalRequired?: boolean;
  /** The plain form's terms as received. */
  readonly plain?: Readonly<Record<string, unknown>>;
  /** Set on pre-authorized offers: the route they were remembered for. */
  readonly route?: string;
}

/** What the readers need besides the message. */
export interface TermsContext {
  readonly input: ChallengeInput;
  readonly registry: AssetRegistry;
  /** `lnbtc`: each entry's request binding, computed from the request ({@link lnbtcBindings}). */
  readonly lnbtc?: LnbtcBindings;
  /** `lnbtc` on (`x402Adapter({ lightning: x402Lightning() })`); absent, `lnbtc` offers are refused. */
  readonly lightning?: X402Lightning;
}

type Built =
  | { readonly offer: PaymentOffer }
  | { readonly denial: OfferDenial; readonly malformed?: true };

const PROTOCOL = 'x402';

/**
 * Offers of a v2 `PAYMENT-REQUIRED` payload (already decoded). Throws a `ChallengeParseError`
 * for an invalid payload, a `PolicyDeniedError` when every requirement was refused.
 *
 * @example
 * ```ts
 * import { offersFromV2 } from './terms.js';
 * const offers = offersFromV2(decodeBase64Json(header), { input, registry });
 * ```
 */
export function offersFromV2(decoded: unknown, context: TermsContext): PaymentOffer[] {
  const parsed = PaymentRequiredV2.safeParse(decoded);
  if (!parsed.success) throw invalid(`PAYMENT-REQUIRED: ${firstIssue(parsed.error)}`);
  const message = decoded as Record<string, unknown>;
  const approvalRequired =
    context.input.status === 412 || parsed.data.error === 'permit2_allowance_required';
  const built = parsed.data.accepts.map((entry) =>
    fromRequirement(entry, context, {
      form: 'v2',
      version: 2,
      resource: message.resource as Record<string, unknown>,
      extensions: message.extensions as Record<string, unknown> | undefined,
      approvalRequired,
    }),
  );
  return collect(built, context);
}

/**
 * Offers of a v1 402 JSON body. Returns `[]` when the body is not an x402 v1 message at all
 * (another protocol's 402), throws a `ChallengeParseError` when it claims v1 but is invalid.
 *
 * @example
 * ```ts
 * import { offersFromV1 } from './terms.js';
 * const offers = offersFromV1(JSON.parse(body), { input, registry });
 * ```
 */
export function offersFromV1(body: unknown, context: TermsContext): PaymentOffer[] {
  if (typeof body !== 'object' || body === null) return [];
  if ((body as { x402Version?: unknown }).x402Version !== 1) return [];
  const parsed = PaymentRequiredV1.safeParse(body);
  if (!parsed.success) throw invalid(`x402 v1 body: ${firstIssue(parsed.error)}`);
  return collect(
    parsed.data.accepts.map((entry) => fromRequirement(entry, context, { form: 'v1', version: 1 })),
    context,
  );
}

/**
 * The offer of a plain `X-Payment-Required` header (`{"price":"0.001","currency":"USDC",
 * "network":"eip155:8453","address":"0x…"}`): the symbol and network select a known asset,
 * the decimal price becomes atomic units with that asset's decimals. An unknown symbol on the
 * network is refused, never guessed.
 *
 * @example
 * ```ts
 * import { offersFromPlain } from './terms.js';
 * const [offer] = offersFromPlain(JSON.parse(header), { input, registry }); // 1000 atomic USDC
 * ```
 */
export function offersFromPlain(terms: unknown, context: TermsContext): PaymentOffer[] {
  const parsed = PlainTerms.safeParse(terms);
  if (!parsed.success) throw invalid(`X-Payment-Required: ${firstIssue(parsed.error)}`);
  const { price, currency, network: named, address } = parsed.data;
  const id = offerId(context.input.url, 'plain', terms);
  const deny = (code: DenyCode, reason: string): Built => ({
    denial: { offerId: id, protocol: PROTOCOL, scheme: 'exact', amount: price, code, reason },
  });
  const network = toCaip2(named, 2) ?? toCaip2(named, 1);
  let built: Built;
  if (!network) {
    built = deny('network_not_allowed', `network ${JSON.stringify(named)} is not a known network`);
  } else {
    const known = context.registry.bySymbol(network, currency);
    if (!known) {
      built = deny(
        'asset_not_allowed',
        `currency ${JSON.stringify(currency)} is not a known asset on ${network} (or is ambiguous); ` +
          ASSET_HINT,
      );
    } else {
      let atomic: bigint | undefined;
      try {
        atomic = parseDecimal(price, known.decimals);
      } catch (error) {
        built = deny(
          'asset_not_allowed',
          `price ${JSON.stringify(price)}: ${(error as Error).message}`,
        );
      }
      if (atomic !== undefined) {
        const requirement = {
          scheme: 'exact',
          network,
          amount: atomic.toString(),
          asset: known.address,
          payTo: address,
          maxTimeoutSeconds: parsed.data.maxTimeoutSeconds ?? 300,
          extra: known.name ? { name: known.name, version: known.version } : {},
        };
        built = fromRequirement(requirement, context, {
          form: 'plain',
          version: 2,
          plain: terms as Record<string, unknown>,
        });
      }
    }
  }
  return collect([built!], context);
}

interface Origin {
  readonly form: X402Form;
  readonly version: 1 | 2;
  readonly resource?: Record<string, unknown>;
  readonly extensions?: Record<string, unknown> | undefined;
  readonly approvalRequired?: boolean;
  readonly plain?: Record<string, unknown>;
}

function fromRequirement(entry: unknown, context: TermsContext, origin: Origin): Built {
  const id = offerId(context.input.url, origin.form, entry);
  const fields = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<
    string,
    unknown
  >;
  const scheme = typeof fields.scheme === 'string' ? fields.scheme : '?';
  const shownAmount = String(fields.amount ?? fields.maxAmountRequired ?? '?');
  const deny = (code: DenyCode, reason: string): Built => ({
    denial: { offerId: id, protocol: PROTOCOL, scheme, amount: shownAmount, code, reason },
  });

  const parsed = (origin.version === 2 ? RequirementV2 : RequirementV1).safeParse(entry);
  if (!parsed.success) {
    const reason = `the requirement is invalid (${firstIssue(parsed.error)})`;
    return { ...(deny('no_offers', reason) as { denial: OfferDenial }), malformed: true };
  }
  const value = origin.version === 2 ? fields.amount : fields.maxAmountRequired;
  const other = origin.version === 2 ? fields.maxAmountRequired : fields.amount;
  if (other !== undefined && other !== value) {
    // Two amounts in one requirement: which one would be signed is exactly the question.
    return deny('no_offers', 'the requirement states two different amounts; it is not paid');
  }
  if (scheme !== 'exact' && scheme !== 'upto') {
    return deny('no_offers', `scheme ${JSON.stringify(scheme)} is not supported (exact, upto are)`);
  }
  const named = fields.network as string;
  const network = toCaip2(named, origin.version);
  if (!network) {
    return deny(
      'network_not_allowed',
      `network ${JSON.stringify(named)} is not ${origin.version === 2 ? 'a CAIP-2 id' : 'a known x402 v1 network'}`,
    );
  }
  if (network.startsWith('lnbtc:')) {
    if (origin.form !== 'v2') return deny('no_offers', 'lnbtc offers exist only in x402 v2');
    if (!context.lightning) {
      return deny(
        'no_offers',
        'x402 on Lightning (lnbtc) is off: pass x402Adapter({ lightning: x402Lightning() }), or use the drop-in createPayingFetch of @stipend/client',
      );
    }
    const common = {
      form: origin.form,
      x402Version: origin.version,
      requirement: entry as Record<string, unknown>,
      ...(origin.resource ? { resource: origin.resource } : {}),
      ...(origin.extensions ? { extensions: origin.extensions } : {}),
    };
    return context.lightning.offer(entry as Record<string, unknown>, {
      input: context.input,
      bindings: context.lnbtc,
      resource: origin.resource,
      feeCap: context.lightning.feeCap,
      id,
      raw: common,
    });
  }
  const asset = fields.asset as string;
  const known = context.registry.byAddress(network, asset);
  if (!known) {
    return deny(
      'asset_not_allowed',
      `asset ${asset} on ${network} is not a known asset, so its decimals and price are unknown; ` +
        ASSET_HINT,
    );
  }
  const extra = (fields.extra ?? {}) as Record<string, unknown>;
  const method = extra.assetTransferMethod;
  if (method !== undefined && method !== 'eip3009' && method !== 'permit2') {
    return deny('no_offers', `asset transfer method ${JSON.stringify(method)} is not supported`);
  }
  const transfer = scheme === 'upto' || method === 'permit2' ? 'permit2' : 'eip3009';
  const domain = domainOf(extra, known);
  if (transfer === 'eip3009' && !domain) {
    return deny(
      'no_offers',
      `the EIP-712 domain (extra.name, extra.version) of ${asset} is unknown`,
    );
  }

  const unit: TokenUnit = {
    kind: 'token',
    network,
    asset,
    decimals: known.decimals,
    symbol: known.symbol,
    ...(known.peg ? { peg: known.peg } : {}),
  };
  let price: ReturnType<typeof amount>;
  try {
    price = amount(BigInt(value as string), unit);
  } catch (error) {
    return deny('asset_not_allowed', (error as Error).message);
  }
  const raw: X402OfferRaw = {
    form: origin.form,
    x402Version: origin.version,
    requirement: entry as Record<string, unknown>,
    ...(origin.resource ? { resource: origin.resource } : {}),
    ...(origin.extensions ? { extensions: origin.extensions } : {}),
    transfer,
    ...(domain ? { domain } : {}),
    ...(origin.approvalRequired ? { approvalRequired: true } : {}),
    ...(origin.plain ? { plain: origin.plain } : {}),
  };
  const offer: PaymentOffer = {
    id,
    protocol: PROTOCOL,
    scheme,
    amount: price,
    payee: fields.payTo as string,
    network,
    asset,
    origin: context.input.url.origin,
    resource: context.input.url.href,
    authorizationTtlSec: fields.maxTimeoutSeconds as number,
    reusable: false,
    raw,
  };
  return { offer: freezeOffer(offer) };
}

function domainOf(
  extra: Record<string, unknown>,
  known: KnownAsset,
): { name: string; version: string } | undefined {
  const name = typeof extra.name === 'string' ? extra.name : known.name;
  const version = typeof extra.version === 'string' ? extra.version : known.version;
  return name !== undefined && version !== undefined ? { name, version } : undefined;
}

/**
 * The id of an x402 offer: stable per challenge, the same terms at the same URL give the same id.
 *
 * @example
 * ```ts
 * import { offerId } from './terms.js';
 * offerId(new URL('https://api.example.com/weather'), 'v2', requirement); // 'x402_' + 16 hex digits
 * ```
 */
export function offerId(url: URL, form: string, terms: unknown): string {
  return `x402_${fingerprint(`${form}|${url.href}|${JSON.stringify(terms)}`)}`;
}

function collect(built: readonly Built[], context: TermsContext): PaymentOffer[] {
  const offers: PaymentOffer[] = [];
  const denials: OfferDenial[] = [];
  for (const item of built) {
    if ('offer' in item) offers.push(item.offer);
    else denials.push(item.denial);
  }
  if (offers.length > 0 || denials.length === 0) return offers;
  if (built.every((item) => 'malformed' in item)) {
    throw invalid(denials.map((denial) => denial.reason).join('; '));
  }
  const codes = new Set(denials.map((denial) => denial.code));
  const reason: DenyCode = codes.size === 1 ? denials[0]!.code : 'no_offers';
  throw new PolicyDeniedError({
    reason,
    message: `None of the ${denials.length} x402 offer(s) can be paid safely.`,
    offers: denials,
    url: context.input.url.href,
  });
}

function invalid(message: string): ChallengeParseError {
  return new ChallengeParseError({
    protocol: PROTOCOL,
    message: `Invalid x402 terms: ${message}.`,
  });
}
