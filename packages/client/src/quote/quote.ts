/**
 * Know before you pay: what a request would cost and what the policy would do, without paying.
 *
 * A quote reads the answer to the unpaid request (sent by the caller with the paying fetch's
 * deadline), and for a 402: the offers every adapter reads, the payees the wallets verify, the
 * policy's check-only evaluation, the wallet that would pay each allowed offer (balance-aware),
 * the offer the policy would choose, whether it would need a person's approval, and whether the
 * budget has room for it. Nothing is signed, no token is made, no invoice is paid, no budget is
 * reserved, no purchase is journaled and no spend record is written: only `canPay`, `payeeOf`,
 * `balance` and the budget's `usage` are asked.
 *
 * @module
 */

import type { BudgetWindow } from '../budget/store.js';
import { isStipendError } from '../errors/base.js';
import type { DenyCode, OfferDenial } from '../errors/policy.js';
import type { Core } from '../fetch/core.js';
import { readOffers } from '../fetch/offers.js';
import { isPayeeVerified, verifyPayees } from '../fetch/payees.js';
import type { Call } from '../fetch/purchase.js';
import { retryHeadersFor } from '../fetch/redirected.js';
import { mayPayOver } from '../fetch/transport.js';
import { redactUrl } from '../internal/redact.js';
import { formatUsd } from '../money/decimal.js';
import type { Amount } from '../money/unit.js';
import { type PaymentOffer, railOf } from '../offer.js';
import type { OfferEvaluation } from '../policy/checks.js';
import { rankOffers } from '../policy/rank.js';
import { resolveCompiled } from '../policy/resolve.js';
import type { OfferFunding } from './funding.js';
import { chooseWallet } from './wallet-choice.js';

/** One offer of a quoted 402, with what the policy and the wallets say about it. */
export interface QuotedOffer {
  readonly id: string;
  readonly protocol: string;
  readonly scheme: string;
  /** `protocol:scheme`, as wallets list their rails. */
  readonly rail: string;
  readonly amount: Amount;
  readonly maxFee?: Amount;
  /** The payee: verified by a wallet when `payeeVerified`, else what the server states. */
  readonly payee: string;
  readonly payeeVerified: boolean;
  readonly network?: string;
  readonly asset?: string;
  /** When the terms stop being payable (ms since epoch). */
  readonly expiresAt?: number;
  readonly reusable: boolean;
  /** Cost including the maximum fee, USD micro-units (rounded up), when it could be priced. */
  readonly usdMicros?: bigint;
  /** The maximum fee's part of `usdMicros`. */
  readonly feeUsdMicros?: bigint;
  /** The wallet that would pay it. */
  readonly walletId?: string;
  /** `chosen`: what the policy would pay; `payable`: allowed, a fallback; `skipped`: not paid. */
  readonly verdict: 'chosen' | 'payable' | 'skipped';
  /** Why it is skipped (`skipped` only). */
  readonly code?: DenyCode;
  /** Why it is skipped, or why its wallet can pay it. Secret-free. */
  readonly reason?: string;
  /** What the wallets said about their funds for it, when they were asked. */
  readonly funding?: OfferFunding;
}

/** One budget limit the chosen offer would be reserved in, and what is left of it. */
export interface QuotedLimit {
  readonly scope: string;
  readonly window: BudgetWindow;
  readonly maxUsdMicros?: bigint;
  readonly remainingUsdMicros?: bigint;
  readonly maxCount?: number;
  readonly remainingCount?: number;
}

/** What a paying call would do now. */
export type QuoteDecision =
  | {
      /** `pay`: it would pay at once. `ask`: it would ask a person first (`approval` says why). */
      readonly outcome: 'pay' | 'ask';
      readonly offerId: string;
      readonly walletId: string;
      readonly usdMicros: bigint;
      readonly approval?: 'rule_ask' | 'above_threshold';
      readonly reason: string;
    }
  | {
      readonly outcome: 'deny';
      readonly code: DenyCode | (string & {});
      readonly reason: string;
    };

/** The answer of {@link quote}. */
export type Quote =
  | {
      /** Not a payment challenge: nothing to pay. */
      readonly kind: 'free';
      readonly url: string;
      readonly status: number;
    }
  | {
      /** A 402 whose offers Stipend read. */
      readonly kind: 'priced';
      readonly url: string;
      readonly status: number;
      readonly offers: readonly QuotedOffer[];
      readonly decision: QuoteDecision;
      /** The budget limits of the chosen offer; absent when nothing is chosen or unreadable. */
      readonly budget?: readonly QuotedLimit[];
    }
  | {
      /** A 402 with no offer Stipend can read or pay (the reason says why). */
      readonly kind: 'unpayable';
      readonly url: string;
      readonly status: number;
      readonly code: string;
      readonly reason: string;
      /** The offers the adapter refused, with a reason each, when it says. */
      readonly refused: readonly OfferDenial[];
    };

/** Options of {@link quote}. */
export interface QuoteOptions {
  /** How long each wallet may take to report its balance (ms). Default 5 000. */
  readonly balanceTimeoutMs?: number;
}

/**
 * Quotes the answer to an unpaid request: free, priced (with a decision) or unpayable. The
 * caller sends the request without any payment, held credential or pre-authorization, with
 * the call's deadline, and passes the response; the quote reads (and then releases) its body.
 *
 * @throws {StipendError} code `TIMEOUT` when the 402 body does not arrive within the call's
 *   deadline, or the caller's abort reason.
 * @example
 * ```ts
 * import { quote } from './quote.js';
 *
 * const response = await send(call, call.prepared.firstInput, call.prepared.firstInit);
 * const answer = await quote(core, call, response);
 * if (answer.kind === 'priced' && answer.decision.outcome !== 'deny') {
 *   console.warn(`would pay ${answer.decision.usdMicros} µUSD with ${answer.decision.walletId}`);
 * }
 * ```
 */
export async function quote(
  core: Core,
  call: Call,
  response: Response,
  options: QuoteOptions = {},
): Promise<Quote> {
  const { prepared } = call;
  const status = response.status;
  const answeredUrl = response.url || prepared.url;
  const url = redactUrl(answeredUrl);
  if (status !== 402 && status !== 412) {
    release(response);
    return { kind: 'free', url, status };
  }
  const signal = prepared.init.signal ?? undefined;
  let read: Awaited<ReturnType<typeof readOffers>>;
  try {
    read = await readOffers(core, response, prepared.url, prepared.method, {
      prepared,
      deadlineMs: call.timeoutMs,
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    release(response);
    if (!isStipendError(error) || error.code === 'TIMEOUT' || signal?.aborted) throw error;
    const refused = (error as { offers?: unknown }).offers;
    return {
      kind: 'unpayable',
      url,
      status,
      code: reasonCode(error),
      reason: error.shortMessage,
      refused: Array.isArray(refused) ? (refused as OfferDenial[]) : [],
    };
  }
  release(response);
  if (!read) {
    if (status === 412) return { kind: 'free', url, status };
    return {
      kind: 'unpayable',
      url,
      status,
      code: 'no_offers',
      reason: 'The 402 carries no payment challenge Stipend understands.',
      refused: [],
    };
  }

  const issuer = read.input.url;
  const blocked = blockedBeforeOffers(core, call, issuer, response.redirected);
  const verified = await verifyPayees(read.offers, core.wallets);
  const evaluations = await core.engine.evaluate(verified.offers, {
    url: issuer,
    tags: call.tags,
    override: call.override,
  });
  const quoted: Mutable<QuotedOffer>[] = [];
  for (const refusal of verified.refused) {
    const offer = read.offers.find((candidate) => candidate.id === refusal.offerId);
    if (offer) quoted.push(skipped(describe(offer), 'payee_unverified', refusal.reason));
  }
  for (const evaluation of evaluations) {
    quoted.push(await judge(core, evaluation, options, signal));
  }

  const candidates = rank(
    quoted.filter((offer) => offer.verdict === 'payable'),
    core.engine.policy.prefer,
  );
  const chosen = candidates[0];
  if (blocked) return priced(url, status, quoted, { outcome: 'deny', ...blocked });
  if (!chosen) return priced(url, status, quoted, nothingPayable(quoted));
  chosen.verdict = 'chosen';

  const rules = resolveCompiled(core.engine.policy, {
    hostname: issuer.hostname,
    tags: call.tags,
    ...(call.override ? { override: call.override } : {}),
  });
  const usdMicros = chosen.usdMicros!;
  const budget = await readBudget(core, rules.limits);
  const short = budget && tooLittle(budget, usdMicros);
  if (short) return priced(url, status, quoted, { outcome: 'deny', ...short }, budget);

  const approval =
    rules.action.value === 'ask'
      ? ('rule_ask' as const)
      : rules.approveAbove !== undefined && usdMicros > rules.approveAbove.value
        ? ('above_threshold' as const)
        : undefined;
  const what = `${chosen.rail} ${formatUsd(usdMicros)} to ${chosen.payee} with wallet ${chosen.walletId}`;
  const unread = budget ? '' : ' (the budget could not be read: the real call may still refuse)';
  const decision: QuoteDecision = {
    outcome: approval ? 'ask' : 'pay',
    offerId: chosen.id,
    walletId: chosen.walletId!,
    usdMicros,
    ...(approval ? { approval } : {}),
    reason:
      approval === 'rule_ask'
        ? `would ask for approval (the rule for ${rules.action.from} says "ask"), then pay ${what}${unread}`
        : approval === 'above_threshold'
          ? `would ask for approval (above approveAbove ${formatUsd(rules.approveAbove!.value)} for ${rules.approveAbove!.from}), then pay ${what}${unread}`
          : `would pay ${what}${unread}`,
  };
  return priced(url, status, quoted, decision, budget);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The checks the paying path makes before any offer is looked at (transport, body, redirect). */
function blockedBeforeOffers(
  core: Core,
  call: Call,
  issuer: URL,
  redirected: boolean,
): { code: string; reason: string } | undefined {
  const requested = new URL(call.prepared.url, pageHref());
  const allowed = retryHeadersFor(
    requested,
    issuer,
    new Headers(call.prepared.init.headers),
    call.prepared.method,
    redirected,
  );
  if (!allowed.ok) return { code: allowed.error.code, reason: allowed.error.shortMessage };
  if (!mayPayOver(issuer, core.allowHttp)) {
    return {
      code: 'INSECURE_TRANSPORT',
      reason: `would not pay over plain HTTP to ${issuer.origin}; use https, or set allowHttp (loopback is allowed by default)`,
    };
  }
  if (!call.prepared.replayable) {
    return {
      code: 'BODY_TOO_LARGE',
      reason: `the request body is larger than maxBodyBytes (${core.maxBodyBytes}) and could not be resent with a payment; raise maxBodyBytes or send a Blob/ArrayBuffer body`,
    };
  }
  return undefined;
}

/** One evaluated offer: skipped with the policy's reason, or the wallet that would pay it. */
async function judge(
  core: Core,
  evaluation: OfferEvaluation,
  options: QuoteOptions,
  signal: AbortSignal | undefined,
): Promise<Mutable<QuotedOffer>> {
  const base: Mutable<QuotedOffer> = {
    ...describe(evaluation.offer),
    ...(evaluation.usdMicros !== undefined ? { usdMicros: evaluation.usdMicros } : {}),
    ...(evaluation.feeUsdMicros !== undefined ? { feeUsdMicros: evaluation.feeUsdMicros } : {}),
  };
  if (!evaluation.ok) return skipped(base, evaluation.code, evaluation.reason);
  const choice = await chooseWallet(core.wallets, evaluation.offer, {
    ...(options.balanceTimeoutMs !== undefined ? { timeoutMs: options.balanceTimeoutMs } : {}),
    ...(signal ? { signal } : {}),
  });
  const funding = choice.funding.wallets.length > 0 ? { funding: choice.funding } : {};
  if (!choice.wallet) {
    return skipped(
      { ...base, ...funding },
      'no_wallet',
      `no wallet can pay it (${choice.reason}); add a wallet for ${base.rail} or fund the one you have`,
    );
  }
  return {
    ...base,
    ...funding,
    walletId: choice.wallet.id,
    verdict: 'payable',
    reason: choice.reason,
  };
}

function describe(offer: PaymentOffer): Mutable<QuotedOffer> {
  return {
    id: offer.id,
    protocol: offer.protocol,
    scheme: offer.scheme,
    rail: railOf(offer),
    amount: offer.amount,
    ...(offer.maxFee ? { maxFee: offer.maxFee } : {}),
    payee: offer.payee,
    payeeVerified: isPayeeVerified(offer),
    ...(offer.network ? { network: offer.network } : {}),
    ...(offer.asset ? { asset: offer.asset } : {}),
    ...(offer.expiresAt !== undefined ? { expiresAt: offer.expiresAt } : {}),
    reusable: offer.reusable,
    verdict: 'skipped',
  };
}

function skipped(
  offer: Mutable<QuotedOffer>,
  code: DenyCode,
  reason: string,
): Mutable<QuotedOffer> {
  return { ...offer, verdict: 'skipped', code, reason };
}

function rank<T extends QuotedOffer>(offers: readonly T[], prefer: readonly string[]): T[] {
  return rankOffers(offers, prefer, (offer) => ({
    usdMicros: offer.usdMicros!,
    protocol: offer.protocol.toLowerCase(),
    rail: offer.rail.toLowerCase(),
  }));
}

/** The deciding refusal when nothing is payable: the cheapest priced offer's, else the first. */
function nothingPayable(offers: readonly QuotedOffer[]): QuoteDecision {
  let pick: QuotedOffer | undefined;
  for (const offer of offers) {
    if (offer.usdMicros === undefined) continue;
    if (pick === undefined || offer.usdMicros < pick.usdMicros!) pick = offer;
  }
  pick ??= offers.find((offer) => offer.code === 'no_wallet') ?? offers[0];
  if (!pick)
    return { outcome: 'deny', code: 'no_offers', reason: 'the 402 offered nothing to pay' };
  return {
    outcome: 'deny',
    code: pick.code ?? 'no_offers',
    reason: `would pay nothing: ${pick.rail} ${pick.reason ?? 'is not payable'}`,
  };
}

async function readBudget(
  core: Core,
  limits: ReturnType<typeof resolveCompiled>['limits'],
): Promise<QuotedLimit[] | undefined> {
  const now = core.now();
  try {
    return await Promise.all(
      limits.map(async (limit): Promise<QuotedLimit> => {
        const use = await core.budget.usage(limit, now);
        const spent = use.committedUsdMicros + use.heldUsdMicros;
        return {
          scope: limit.scope,
          window: limit.window,
          ...(limit.maxUsdMicros !== undefined
            ? {
                maxUsdMicros: limit.maxUsdMicros,
                remainingUsdMicros: limit.maxUsdMicros > spent ? limit.maxUsdMicros - spent : 0n,
              }
            : {}),
          ...(limit.maxCount !== undefined
            ? {
                maxCount: limit.maxCount,
                remainingCount: Math.max(limit.maxCount - use.count, 0),
              }
            : {}),
        };
      }),
    );
  } catch {
    return undefined;
  }
}

function tooLittle(
  budget: readonly QuotedLimit[],
  usdMicros: bigint,
): { code: DenyCode; reason: string } | undefined {
  for (const limit of budget) {
    if (limit.remainingCount !== undefined && limit.remainingCount <= 0) {
      return {
        code: 'request_count_cap',
        reason: `would pay nothing: the limit of ${limit.maxCount} payments for ${limit.scope} is reached; wait for the window to move on or raise maxRequests`,
      };
    }
    if (limit.remainingUsdMicros !== undefined && usdMicros > limit.remainingUsdMicros) {
      return {
        code: 'window_cap',
        reason: `would pay nothing: it costs ${formatUsd(usdMicros)}, but the budget of ${limit.scope} has ${formatUsd(limit.remainingUsdMicros)} left; wait for the window to move on or raise limits`,
      };
    }
  }
  return undefined;
}

function priced(
  url: string,
  status: number,
  offers: readonly QuotedOffer[],
  decision: QuoteDecision,
  budget?: readonly QuotedLimit[],
): Quote {
  return {
    kind: 'priced',
    url,
    status,
    offers: offers.map((offer) => Object.freeze({ ...offer })),
    decision,
    ...(budget ? { budget } : {}),
  };
}

function reasonCode(error: { code: string; details: Readonly<Record<string, unknown>> }): string {
  const reason = error.details.reason;
  return typeof reason === 'string' ? reason : error.code;
}

/** Lets the connection go: the quote never returns the body. */
function release(response: Response): void {
  response.body?.cancel().catch(() => {});
}

function pageHref(): string | undefined {
  return (globalThis as { location?: { href?: string } }).location?.href;
}
