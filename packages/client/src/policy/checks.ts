/**
 * The per-offer checks of the policy engine, in their fixed order, each with a sentence that
 * says what to change. Pure: no reservation, no approval, no wallet call.
 *
 * @module
 */
import type { BudgetWindow } from '../budget/store.js';
import type { DenyCode } from '../errors/policy.js';
import { isPayeeVerified } from '../fetch/payees.js';
import type { Amount, PriceSource, Rate } from '../money/index.js';
import {
  formatAmount,
  formatUsd,
  amount as makeAmount,
  toUsdMicros,
  unitKey,
} from '../money/index.js';
import type { PaymentOffer } from '../offer.js';
import type { ListVerdict, ResolvedRules } from './resolve.js';
import { checkLists } from './resolve.js';

/** The outcome of checking one offer against the policy. */
export type OfferEvaluation = {
  /** The offer, the very object given. */
  readonly offer: PaymentOffer;
  /** Its position in the list given. */
  readonly index: number;
  /** Cost incl. maximum fee, USD micro-units (each part rounded up), when it could be priced. */
  readonly usdMicros?: bigint;
  /** The amount alone, USD micro-units. */
  readonly amountUsdMicros?: bigint;
  /** The maximum fee alone, USD micro-units (absent when the offer has no `maxFee`). */
  readonly feeUsdMicros?: bigint;
  /** The rate the amount was priced with. */
  readonly rate?: Rate;
  /** The rate the maximum fee was priced with. */
  readonly feeRate?: Rate;
} & (
  | { readonly ok: true }
  | { readonly ok: false; readonly code: DenyCode; readonly reason: string }
);

interface Priced {
  readonly usdMicros: bigint;
  readonly amountUsdMicros: bigint;
  readonly feeUsdMicros?: bigint;
  readonly rate: Rate;
  readonly feeRate?: Rate;
}

/**
 * Prices an offer: amount and maximum fee, each rounded up. Returns the failure as text
 * instead of throwing when no usable rate exists.
 *
 * @example
 * ```ts
 * import { priceOffer } from './checks.js';
 * import { pegPriceSource } from '../money/index.js';
 * const priced = await priceOffer(offer, pegPriceSource(), Date.now(), 300_000);
 * if (!('error' in priced)) console.warn(priced.usdMicros);
 * ```
 */
export async function priceOffer(
  offer: PaymentOffer,
  prices: PriceSource,
  now: number,
  maxAgeMs: number,
): Promise<Priced | { readonly error: string }> {
  try {
    const main = await toUsdMicros(offer.amount, prices, { now, maxAgeMs });
    if (offer.maxFee === undefined) {
      return { usdMicros: main.usdMicros, amountUsdMicros: main.usdMicros, rate: main.rate };
    }
    const fee = await toUsdMicros(offer.maxFee, prices, { now, maxAgeMs });
    return {
      usdMicros: main.usdMicros + fee.usdMicros,
      amountUsdMicros: main.usdMicros,
      feeUsdMicros: fee.usdMicros,
      rate: main.rate,
      feeRate: fee.rate,
    };
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'PRICE_UNAVAILABLE' || code === 'AMOUNT_INVALID') {
      return { error: (error as Error).message };
    }
    throw error;
  }
}

/**
 * Runs the checks on one offer in order: expiry, protocol, network, asset, payee, price,
 * native caps, USD per-request cap, action deny. The first failing check gives the code.
 *
 * @example
 * ```ts
 * import { checkOffer, priceOffer } from './checks.js';
 * import { resolveRules } from './resolve.js';
 * const rules = resolveRules(policy, { hostname: 'api.example.com' });
 * const evaluation = checkOffer(offer, 0, rules, await priceOffer(offer, prices, now, 300_000), now);
 * ```
 */
export function checkOffer(
  offer: PaymentOffer,
  index: number,
  rules: ResolvedRules,
  priced: Priced | { readonly error: string },
  now: number,
): OfferEvaluation {
  const base = {
    offer,
    index,
    ...('error' in priced
      ? {}
      : {
          usdMicros: priced.usdMicros,
          amountUsdMicros: priced.amountUsdMicros,
          rate: priced.rate,
          ...(priced.feeUsdMicros !== undefined ? { feeUsdMicros: priced.feeUsdMicros } : {}),
          ...(priced.feeRate !== undefined ? { feeRate: priced.feeRate } : {}),
        }),
  };
  const deny = (code: DenyCode, reason: string): OfferEvaluation =>
    Object.freeze({ ...base, ok: false as const, code, reason });

  if (offer.expiresAt !== undefined && offer.expiresAt <= now) {
    return deny(
      'offer_expired',
      `its terms expired at ${isoTime(offer.expiresAt)}; retry the request to get a fresh 402 challenge`,
    );
  }

  const protocol = checkLists(rules.protocols, offer.protocol);
  if (protocol) {
    return deny(
      'protocol_not_allowed',
      listReason('protocol', offer.protocol, protocol, 'protocols'),
    );
  }

  const network = networkOf(offer);
  const networkVerdict = checkLists(rules.networks, network);
  if (networkVerdict) {
    return deny('network_not_allowed', listReason('network', network, networkVerdict, 'networks'));
  }

  let asset: string;
  try {
    asset = unitKey(offer.amount.unit);
  } catch (error) {
    return deny(
      'asset_not_allowed',
      `its unit is malformed (${(error as Error).message}); the server's offer cannot be paid safely`,
    );
  }
  const assetVerdict = checkLists(rules.assets, asset);
  if (assetVerdict) {
    return deny('asset_not_allowed', listReason('asset', asset, assetVerdict, 'assets'));
  }

  const unverified = unverifiedPayee(offer, rules);
  if (unverified) return deny('payee_not_allowed', unverified);
  const payee = checkLists(rules.payees, offer.payee);
  if (payee) return deny('payee_not_allowed', listReason('payee', offer.payee, payee, 'payees'));

  if ('error' in priced)
    return deny('price_unavailable', `it cannot be priced in USD: ${priced.error}`);

  const native = checkNative(offer, asset, rules);
  if (native !== undefined) return deny('native_cap', native);

  const cap = rules.maxPerRequestUsd;
  if (cap !== undefined && priced.usdMicros > cap.value) {
    const fee =
      priced.feeUsdMicros !== undefined ? ` (incl. max fee ${formatUsd(priced.feeUsdMicros)})` : '';
    // Name every cap the payment breaks: raising only the lowest would not be enough.
    const blocking = rules.perRequestUsdCaps.filter((c) => priced.usdMicros > c.value);
    const owners = blocking.length > 0 ? blocking : [cap];
    return deny(
      'per_request_cap',
      `costs ${formatUsd(priced.usdMicros)}${fee}, above the per-request cap of ${formatUsd(cap.value)} ` +
        `for ${joinWords(owners.map((c) => c.from))}; raise ` +
        `${joinWords(owners.map((c) => field(c.path, 'maxPerRequest.usd')))} to at least ` +
        `${formatUsd(priced.usdMicros)} to allow it`,
    );
  }

  if (rules.action.value === 'deny') {
    return deny(
      'host_denied',
      `the rule for ${rules.action.from} says action "deny"; change ${field(rules.action.path, 'action')} ` +
        'to "allow" or "ask" to pay here',
    );
  }

  return Object.freeze({ ...base, ok: true as const });
}

/**
 * A Lightning invoice's payee is only known from its signature: when a payee allow or deny
 * list applies, an L402 or MPP `lightning.charge` offer whose payee no wallet verified is
 * refused (its `payee` is a server's claim, or a placeholder no list can match).
 */
function unverifiedPayee(offer: PaymentOffer, rules: ResolvedRules): string | undefined {
  if (rules.payees.length === 0) return undefined;
  if (offer.protocol !== 'l402' && offer.scheme !== 'lightning.charge') return undefined;
  if (isPayeeVerified(offer)) return undefined;
  const list = rules.payees[0]!;
  const kind = list.allow !== undefined ? 'allow' : 'deny';
  return (
    `the invoice's payee could not be verified, and ${list.from} has a payee list ` +
    `(${field(list.path, `payees.${kind}`)}); use a wallet that verifies invoice signatures ` +
    '(e.g. lightningWallet from @stipend/wallet-lightning), or remove the payee list to pay it'
  );
}

/**
 * The network an offer is on: its `network`, or `lightning` for Lightning offers.
 *
 * @example
 * ```ts
 * import { networkOf } from './checks.js';
 * networkOf(l402Offer); // 'lightning'
 * ```
 */
export function networkOf(offer: PaymentOffer): string | undefined {
  if (offer.network !== undefined) return offer.network;
  if (offer.protocol === 'l402' || offer.amount?.unit?.kind === 'msat') return 'lightning';
  return undefined;
}

function checkNative(offer: PaymentOffer, asset: string, rules: ResolvedRules): string | undefined {
  if (rules.nativeCaps.length === 0) return undefined;
  const totals = new Map<string, { value: bigint; sample: Amount }>();
  const add = (part: Amount, key: string) => {
    const known = totals.get(key);
    totals.set(key, { value: (known?.value ?? 0n) + part.value, sample: part });
  };
  add(offer.amount, asset.toLowerCase());
  if (offer.maxFee !== undefined) add(offer.maxFee, unitKey(offer.maxFee.unit).toLowerCase());
  for (const cap of rules.nativeCaps) {
    const total = totals.get(cap.value.unit);
    if (total === undefined || total.value <= cap.value.max) continue;
    const fee = offer.maxFee !== undefined ? ' (amount + max fee)' : '';
    return (
      `costs ${show(total.value, total.sample)}${fee}, above the native cap of ` +
      `${show(cap.value.max, total.sample)} for ${cap.from}; raise the "${cap.value.unit}" entry of ` +
      `${field(cap.path, 'maxPerRequest.native')} to at least ${total.value} to allow it`
    );
  }
  return undefined;
}

function listReason(
  what: string,
  value: string | undefined,
  verdict: ListVerdict,
  name: string,
): string {
  const { list } = verdict;
  if (verdict.kind === 'deny') {
    return (
      `${what} ${JSON.stringify(value)} is on the deny list of ${list.from}; remove it from ` +
      `${field(list.path, `${name}.deny`)} to pay it`
    );
  }
  const allowed = shortList(list.allow);
  if (value === undefined) {
    return (
      `it has no ${what}, and ${list.from} only allows ${allowed}; remove ` +
      `${field(list.path, `${name}.allow`)} to pay offers without a ${what}`
    );
  }
  return (
    `${what} ${JSON.stringify(value)} is not on the allow list of ${list.from} (${allowed}); add it to ` +
    `${field(list.path, `${name}.allow`)} to pay it`
  );
}

/**
 * Names a field of a rule for a message.
 *
 * @example
 * ```ts
 * import { field } from './checks.js';
 * field('hosts["x.com"]', 'maxPerRequest.usd'); // 'policy.hosts["x.com"].maxPerRequest.usd'
 * ```
 */
export function field(path: string, name: string): string {
  return path === 'override' ? `the per-call override's ${name}` : `policy.${path}.${name}`;
}

/**
 * Describes a budget window in words.
 *
 * @example
 * ```ts
 * import { describeWindow } from './checks.js';
 * describeWindow({ kind: 'rolling', ms: 86_400_000 }); // 'rolling 1d'
 * ```
 */
export function describeWindow(window: BudgetWindow): string {
  if (window.kind === 'total') return 'lifetime';
  if (window.kind === 'calendar') {
    return window.unit === 'day' ? 'UTC day' : window.unit === 'week' ? 'ISO week' : 'UTC month';
  }
  const units: [number, string][] = [
    [604_800_000, 'w'],
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1_000, 's'],
  ];
  for (const [ms, suffix] of units) {
    if (window.ms % ms === 0) return `rolling ${window.ms / ms}${suffix}`;
  }
  return `rolling ${window.ms}ms`;
}

/**
 * Shows an amount for messages without ever throwing.
 *
 * @example
 * ```ts
 * import { showAmount } from './checks.js';
 * import { sats } from '../money/index.js';
 * showAmount(sats(1500n)); // '1500 sat'
 * ```
 */
export function showAmount(value: Amount | undefined): string {
  if (value === undefined) return 'an unknown amount';
  try {
    return formatAmount(value);
  } catch {
    return `${String(value.value)} (malformed unit)`;
  }
}

/**
 * `'<value> <unit key>'`, as `OfferDenial.amount` carries it; never throws.
 *
 * @example
 * ```ts
 * import { amountKey } from './checks.js';
 * import { msat } from '../money/index.js';
 * amountKey(msat(1500n)); // '1500 lightning:msat'
 * ```
 */
export function amountKey(value: Amount): string {
  try {
    return `${value.value} ${unitKey(value.unit)}`;
  } catch {
    return `${String(value.value)} (malformed unit)`;
  }
}

function show(value: bigint, sample: Amount): string {
  try {
    return `${formatAmount(makeAmount(value, sample.unit))} (${value} atomic)`;
  } catch {
    return `${value} atomic units`;
  }
}

function shortList(set: ReadonlySet<string> | undefined): string {
  const items = [...(set ?? [])];
  if (items.length === 0) return 'nothing';
  const shown = items.slice(0, 5).map((item) => JSON.stringify(item));
  return items.length > 5 ? `${shown.join(', ')} and ${items.length - 5} more` : shown.join(', ');
}

function joinWords(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
