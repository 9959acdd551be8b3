/**
 * x402 `exact` on Lightning (`lnbtc`), client side (x402-foundation/x402,
 * `specs/schemes/exact/scheme_exact_lnbtc.md`, "Client Payment Construction"): the server
 * sends a fresh BOLT 11 invoice in `extra.invoice` whose description hash binds it to the
 * exact request; the client checks every term against the invoice, pays it, and sends the
 * preimage as `payload.preimage`.
 *
 * Rails: an `lnbtc` offer is `protocol: 'x402'`, `scheme: 'exact'` (the spec's names, so the
 * rail is `x402:exact`), told apart from EVM `exact` by its `network` (`lnbtc:<genesis hash
 * prefix>`). `lightningWallet` lists `x402:exact` and pays only `lnbtc:` networks; `evmWallet`
 * refuses anything but `eip155:`.
 *
 * Networks: mainnet and testnet as the spec lists them; signet and regtest by the same
 * BIP-122 rule (the first 32 hex digits of the genesis block hash), for local sellers and
 * test networks. The invoice's currency prefix must be the network's.
 *
 * @module
 */
import type { DenyCode, OfferDenial } from '../../errors/policy.js';
import { type FeeCap, feeCapMsat } from '../../money/fee-cap.js';
import { msat } from '../../money/unit.js';
import { freezeOffer, type PaymentOffer } from '../../offer.js';
import type { ChallengeInput, SentRequest } from '../adapter.js';
import { BITCOIN_CAIP2, type Bolt11Network, type Bolt11Summary, readBolt11 } from '../bolt11.js';
import { type Binding, BindingError, bindingParams, httpBinding, mcpBinding } from './binding.js';

/** `lnbtc:` CAIP-2 ids and the BOLT 11 network each one names. */
export const LNBTC_NETWORKS: Readonly<Record<string, Bolt11Network>> = Object.fromEntries(
  (Object.keys(BITCOIN_CAIP2) as Bolt11Network[]).map((name) => [
    `lnbtc:${BITCOIN_CAIP2[name].slice('bip122:'.length)}`,
    name,
  ]),
);

/** The clock skew allowed for an invoice's creation time, seconds (the spec's default). */
export const LNBTC_CLOCK_SKEW_SEC = 60;

/**
 * The request the paid retry will send, as an `lnbtc` binding needs it: the core's
 * {@link ChallengeInput.request}. Without it, only a request that provably has no body (GET
 * or HEAD) and no bound header can be checked, and other `lnbtc` offers are refused.
 */
export type LnbtcRequestView = SentRequest;

/**
 * Headers the platform may put on the wire by itself when the app sets none, with values not
 * known before sending: undici's and the transport's everywhere, and in browsers the
 * forbidden request headers (cookies, origin, referer, `sec-*`). A binding over one of them
 * that the request does not set is refused: the seller would hash the value fetch sent, this
 * client the absence, and the paid invoice would buy nothing.
 */
const PLATFORM_HEADERS = new Set([
  'accept-encoding',
  'accept-language',
  'connection',
  'content-length',
  'host',
  'keep-alive',
  'sec-fetch-mode',
  'te',
  'transfer-encoding',
  'user-agent',
]);
const BROWSER_HEADERS = new Set(['cookie', 'cookie2', 'dnt', 'origin', 'referer']);

function platformSets(name: string): boolean {
  if (PLATFORM_HEADERS.has(name)) return true;
  if (typeof (globalThis as { document?: unknown }).document === 'undefined') return false;
  return BROWSER_HEADERS.has(name) || name.startsWith('sec-') || name.startsWith('proxy-');
}

/** The verdict on each `lnbtc` requirement's binding, computed before the terms are read. */
export type LnbtcBindings = WeakMap<object, Binding | { readonly error: string }>;

/** What an `lnbtc` offer adds to `X402OfferRaw`. */
export interface LnbtcRaw {
  /** The BOLT 11 invoice as received (`extra.invoice`). */
  readonly invoice: string;
  /** Its payment hash, lowercase hex. */
  readonly paymentHash: string;
}

const FETCH_UPPERCASED = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
const PAY_TO = /^0[23][0-9a-f]{64}$/;
const HASH = /^[0-9a-f]{64}$/;
const AMOUNT = /^[1-9][0-9]{0,20}$/;

/**
 * Computes the request binding of every `lnbtc` entry of a decoded `PAYMENT-REQUIRED`, from
 * the request the client will send (never from the challenge's claims). Entries of other
 * networks are skipped; a binding that cannot be built records why.
 *
 * @example
 * ```ts
 * import { lnbtcBindings } from './lnbtc.js';
 * const bindings = await lnbtcBindings(decoded, input); // input: the core's ChallengeInput
 * ```
 */
export async function lnbtcBindings(
  decoded: unknown,
  input: ChallengeInput,
): Promise<LnbtcBindings> {
  const verdicts: LnbtcBindings = new WeakMap();
  const accepts = (decoded as { accepts?: unknown } | null)?.accepts;
  if (!Array.isArray(accepts)) return verdicts;
  // Read once, and only when an lnbtc entry is there: other 402s pay nothing for it.
  let request: Promise<LnbtcRequestView | undefined> | undefined;
  for (const entry of accepts) {
    const network = (entry as { network?: unknown } | null)?.network;
    if (typeof entry !== 'object' || entry === null) continue;
    if (typeof network !== 'string' || !network.startsWith('lnbtc:')) continue;
    const extra = (entry as { extra?: Record<string, unknown> }).extra ?? {};
    request ??= input.request?.() ?? Promise.resolve(undefined);
    try {
      verdicts.set(entry, await bindingOf(extra, input, await request));
    } catch (error) {
      verdicts.set(entry, { error: (error as Error).message });
    }
  }
  return verdicts;
}

async function bindingOf(
  extra: Record<string, unknown>,
  input: ChallengeInput,
  request: LnbtcRequestView | undefined,
): Promise<Binding> {
  const profile = extra.requestBindingProfile;
  const params = bindingParams(profile, extra.requestBindingParams);
  if (request?.mcp) {
    if (profile !== 'mcp:1') {
      throw new BindingError('an MCP tool call is bound with mcp:1 only; this offer uses http:1');
    }
    if (params.server !== request.mcp.server) {
      throw new BindingError(
        `the offer binds MCP server ${JSON.stringify(params.server)}, not the server this call goes to`,
      );
    }
    return mcpBinding({ ...request.mcp, boundMetadata: params.names });
  }
  if (profile !== 'http:1') {
    throw new BindingError('an HTTP request is bound with http:1 only; this offer uses mcp:1');
  }
  if (request) {
    const unknown = params.names.filter((name) => platformSets(name) && !request.headers.has(name));
    if (unknown.length > 0) {
      throw new BindingError(
        `the binding covers ${unknown.join(', ')}, which fetch sets on its own with a value not known before sending; set ${unknown.length > 1 ? 'them' : 'it'} explicitly in the request headers to pay this offer`,
      );
    }
    return httpBinding({
      method: request.method,
      url: withoutFragment(request.url),
      body: request.body,
      headerLines: [...request.headers],
      boundHeaders: params.names,
    });
  }
  const method = wireMethod(input.method);
  if (method !== 'GET' && method !== 'HEAD') {
    throw new BindingError(
      `the body of this ${method} request is not known here, so the invoice's request binding cannot be checked`,
    );
  }
  if (params.names.length > 0) {
    throw new BindingError(
      `the binding covers headers (${params.names.join(', ')}) whose sent values are not known here`,
    );
  }
  return httpBinding({
    method,
    url: withoutFragment(input.url.href),
    headerLines: [],
    boundHeaders: [],
  });
}

/** The method as fetch puts it on the wire (it upper-cases six well-known ones). */
function wireMethod(method: string): string {
  const upper = method.toUpperCase();
  return FETCH_UPPERCASED.has(upper) ? upper : method;
}

function withoutFragment(url: string): string {
  const hash = url.indexOf('#');
  return hash < 0 ? url : url.slice(0, hash);
}

/** What {@link lnbtcOffer} needs besides the requirement. */
export interface LnbtcContext {
  readonly input: ChallengeInput;
  readonly bindings: LnbtcBindings | undefined;
  /** The top-level `resource` of the `PAYMENT-REQUIRED`. */
  readonly resource: Readonly<Record<string, unknown>> | undefined;
  readonly feeCap: FeeCap;
  /** The offer id, and the raw fields common to every x402 offer. */
  readonly id: string;
  readonly raw: Readonly<Record<string, unknown>>;
}

/**
 * Checks one `lnbtc` requirement (already shape-checked as a v2 requirement) against its
 * invoice and the request, and builds the offer; or the denial that says why not. The
 * offer's payee is the invoice's `n` tag or `'unverified'` until a wallet recovers the signer
 * (`Wallet.payeeOf`), exactly as for L402; its `maxFee` is the one Lightning fee cap.
 *
 * @example
 * ```ts
 * import { lnbtcOffer } from './lnbtc.js';
 * const built = lnbtcOffer(requirement, { input, bindings, resource, feeCap, id, raw });
 * if ('offer' in built) console.log(built.offer.amount); // msat
 * ```
 */
export function lnbtcOffer(
  requirement: Readonly<Record<string, unknown>>,
  context: LnbtcContext,
): { readonly offer: PaymentOffer } | { readonly denial: OfferDenial } {
  const shown = String(requirement.amount ?? '?');
  const deny = (reason: string, code: DenyCode = 'no_offers') => ({
    denial: {
      offerId: context.id,
      protocol: 'x402',
      scheme: 'exact',
      amount: shown,
      code,
      reason: `lnbtc: ${reason}`,
    } satisfies OfferDenial,
  });
  const checked = checkTerms(requirement, context);
  if (typeof checked === 'string') return deny(checked);
  if ('network' in checked) return deny(checked.network, 'network_not_allowed');
  const { invoice, bolt11 } = checked;
  const amountMsat = bolt11.amountMsat!;
  let fee: bigint;
  try {
    fee = feeCapMsat(amountMsat, context.feeCap);
  } catch (error) {
    return deny((error as Error).message);
  }
  const offer: PaymentOffer = {
    id: context.id,
    protocol: 'x402',
    scheme: 'exact',
    amount: msat(amountMsat),
    maxFee: msat(fee),
    // A claim until a wallet recovers the signer (`Wallet.payeeOf`), as for L402.
    payee: bolt11.payeeNodeKey ?? 'unverified',
    network: requirement.network as string,
    origin: context.input.url.origin,
    resource: context.input.url.href,
    expiresAt: (bolt11.timestamp + bolt11.expirySeconds) * 1000,
    reusable: false,
    raw: { ...context.raw, transfer: 'bolt11', invoice, paymentHash: bolt11.paymentHash },
  };
  return { offer: freezeOffer(offer) };
}

type Checked = { invoice: string; bolt11: Bolt11Summary } | { network: string };

/** Steps 1–9 of the spec's client checks; a string says which failed. */
function checkTerms(
  requirement: Readonly<Record<string, unknown>>,
  context: LnbtcContext,
): Checked | string {
  const network = requirement.network as string;
  const expected = LNBTC_NETWORKS[network];
  if (expected === undefined) return { network: `network ${network} is not a known lnbtc network` };
  if (requirement.scheme !== 'exact') return `scheme ${String(requirement.scheme)} is not exact`;
  if (requirement.asset !== 'BTC') return `asset ${String(requirement.asset)} is not BTC`;
  const amount = requirement.amount;
  if (typeof amount !== 'string' || !AMOUNT.test(amount)) {
    return 'amount is not a positive whole number of msat';
  }
  const payTo = requirement.payTo;
  if (typeof payTo !== 'string' || !PAY_TO.test(payTo)) {
    return 'payTo is not a compressed node key in lowercase hex';
  }
  const ttl = requirement.maxTimeoutSeconds as number;
  const extra = (requirement.extra ?? {}) as Record<string, unknown>;
  if (extra.paymentFlow !== 'upfront') return 'extra.paymentFlow is not "upfront"';
  if (extra.assetTransferMethod !== undefined && extra.assetTransferMethod !== 'bolt11') {
    return `asset transfer method ${JSON.stringify(extra.assetTransferMethod)} is not bolt11`;
  }
  const invoice = extra.invoice;
  if (typeof invoice !== 'string' || invoice.length === 0) return 'extra.invoice is missing';
  const resourceUrl = context.resource?.url;
  if (resourceUrl !== withoutFragment(context.input.url.href)) {
    return `resource.url ${JSON.stringify(resourceUrl)} is not the URL requested`;
  }
  const requestHash = extra.requestHash;
  if (typeof requestHash !== 'string' || !HASH.test(requestHash)) {
    return 'extra.requestHash is not 64 lowercase hex digits';
  }
  const binding = context.bindings?.get(requirement);
  if (binding === undefined) return 'the request binding was not computed';
  if ('error' in binding) return `request binding: ${binding.error}`;
  if (binding.requestHash !== requestHash) {
    return 'extra.requestHash is not the hash of this request (the invoice is for another request)';
  }
  let bolt11: Bolt11Summary;
  try {
    bolt11 = readBolt11(invoice);
  } catch (error) {
    return `invalid invoice: ${(error as Error).message}`;
  }
  if (bolt11.description !== undefined) return 'the invoice has an inline description';
  if (bolt11.descriptionHash !== binding.requestHash) {
    return "the invoice's description hash does not bind this request";
  }
  if (bolt11.network !== expected) {
    return `the invoice is for ${bolt11.network}, the offer's network is ${expected}`;
  }
  if (bolt11.payeeNodeKey !== undefined && bolt11.payeeNodeKey !== payTo) {
    return "the invoice's n field is not payTo";
  }
  if (bolt11.amountMsat === undefined || bolt11.amountMsat !== BigInt(amount)) {
    return `the invoice amount is not the offer's ${amount} msat`;
  }
  if (bolt11.expirySeconds !== ttl) {
    return `the invoice expiry ${bolt11.expirySeconds} s is not maxTimeoutSeconds ${ttl}`;
  }
  const nowSec = Math.floor(context.input.now / 1000);
  if (bolt11.timestamp > nowSec + LNBTC_CLOCK_SKEW_SEC)
    return 'the invoice is created in the future';
  if (nowSec >= bolt11.timestamp + bolt11.expirySeconds) return 'the invoice has expired';
  return { invoice, bolt11 };
}
