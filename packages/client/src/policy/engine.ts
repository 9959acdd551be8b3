/**
 * The policy engine: checks a 402's offers against the spend policy, ranks the allowed ones by
 * USD cost, finds one a wallet can pay, reserves its cost in every budget it touches at once,
 * and asks the approver when the policy says so.
 *
 * The offer a {@link Decision} carries is the very (frozen) object that was checked: nothing is
 * paid that the policy did not approve, for that exact offer (invariant 1). Budgets are
 * reserved atomically by the store, so concurrent decisions cannot overspend (invariant 3).
 *
 * @module
 */
import type { BudgetStore, Reservation, ReserveRefusal } from '../budget/store.js';
import { windowKey } from '../budget/window.js';
import { StipendError } from '../errors/base.js';
import type { DenyCode, OfferDenial } from '../errors/policy.js';
import { ApprovalError, PolicyDeniedError } from '../errors/policy.js';
import type { Amount, PriceSource, Rate, Unit } from '../money/index.js';
import { amount, applyRate, formatUsd, toUsdMicros, unitKey } from '../money/index.js';
import type { PaymentOffer } from '../offer.js';
import { freezeOffer, railOf } from '../offer.js';
import { askApprover } from './approval.js';
import type { OfferEvaluation } from './checks.js';
import { amountKey, checkOffer, describeWindow, field, priceOffer, showAmount } from './checks.js';
import { rankOffers } from './rank.js';
import type { ResolvedRules } from './resolve.js';
import { resolveCompiled } from './resolve.js';
import type { ApprovalRequest, Approver, Rule, SpendPolicy } from './types.js';
import type { CompiledPolicy } from './validate.js';
import { compilePolicy } from './validate.js';

export type { OfferEvaluation } from './checks.js';

/** Configuration of {@link createPolicyEngine}. */
export interface PolicyEngineConfig {
  /** The spend policy; absent means `DEFAULT_POLICY` ($0.10 per request, $1 per UTC day). */
  readonly policy?: SpendPolicy;
  /** Where budgets are reserved and committed. */
  readonly budget: BudgetStore;
  /** Converts offer amounts into USD micro-units. */
  readonly prices: PriceSource;
  /** Asked when a rule says `ask` or a payment costs more than `approveAbove`. */
  readonly approver?: Approver;
  /** The clock, ms since epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Protocol names of custom adapters that rules may list (beyond x402, l402, mpp). */
  readonly protocols?: readonly string[];
}

/** What {@link PolicyEngine.evaluate} checks offers against. */
export interface EvaluationContext {
  /** The URL of the request being paid for. */
  readonly url: URL;
  /** The call's tags (select `policy.tags` rules). */
  readonly tags?: readonly string[];
  /** A per-call rule; it can only tighten the policy. */
  readonly override?: Rule;
  /** When given, allowed offers are also asked about (`no_wallet` when unpayable). */
  readonly canPay?: (offer: PaymentOffer) => Promise<true | string> | true | string;
}

/** What {@link PolicyEngine.decide} needs about the request. */
export interface DecisionContext extends EvaluationContext {
  /** The HTTP method, shown to the approver. */
  readonly method: string;
  /** Whether some wallet can pay an offer: `true`, or the reason it cannot. Called lazily. */
  readonly canPay: (offer: PaymentOffer) => Promise<true | string> | true | string;
  /** The id of the budget reservation (one per payment attempt). */
  readonly reservationId: string;
  /** Aborts a pending approval; the reservation is then released. */
  readonly signal?: AbortSignal;
  /**
   * Pending mode: when approval is needed, do not ask now; keep the reservation held and
   * return the decision with `pendingApproval` set (a person approves later).
   */
  readonly deferApproval?: boolean;
  /**
   * A session's deposit (MPP sessions): the offer's own `amount` is the unit price (per-request
   * caps apply to it), and this is what is reserved instead (windows apply to it), capped by
   * the rules' `maxDeposit`, and what `approveAbove` compares.
   */
  readonly deposit?: { readonly amount: Amount; readonly maxFee?: Amount };
  /** Secret-free notes added to the reservation's `meta` (`kind: 'session'`, the session id). */
  readonly meta?: Readonly<Record<string, string>>;
}

/** A payment the policy allows, with its budget reserved. */
export interface Decision {
  /** The chosen offer: the very frozen object that was given and checked. */
  readonly offer: PaymentOffer;
  /** Its reserved cost incl. maximum fee, USD micro-units. */
  readonly usdMicros: bigint;
  /** The rate the amount was priced with (used again by `commit`). */
  readonly rate: Rate;
  /** The maximum fee's share of `usdMicros`, when the offer has a `maxFee`. */
  readonly feeUsdMicros?: bigint;
  /** The rate the maximum fee was priced with. */
  readonly feeRate?: Rate;
  /** The held budget reservation. */
  readonly reservation: Reservation;
  /** The longest a signed authorization may stay valid, in seconds. */
  readonly maxAuthorizationTtlSec: number;
  /** True when the approver said yes; false when no approval was needed. */
  readonly approved: boolean;
  /** Pending mode only: the approval this payment waits for (the reservation stays held). */
  readonly pendingApproval?: ApprovalRequest;
  /** Every offer's evaluation, in the order given (`no_wallet` for those a wallet refused). */
  readonly evaluations: readonly OfferEvaluation[];
}

/** Checks offers, decides which to pay, and settles its budget reservation. */
export interface PolicyEngine {
  /** The compiled policy in force. */
  readonly policy: CompiledPolicy;
  /** Checks every offer without reserving, asking anyone, or calling a wallet (unless `ctx.canPay`). */
  evaluate(offers: readonly PaymentOffer[], ctx: EvaluationContext): Promise<OfferEvaluation[]>;
  /**
   * Picks the cheapest allowed, payable offer, reserves its cost in every limit at once and asks
   * the approver when needed.
   *
   * @throws {PolicyDeniedError} when no offer may be paid (with a denial per offer).
   * @throws {ApprovalError} when approval is needed and missing, refused or too late.
   */
  decide(offers: readonly PaymentOffer[], ctx: DecisionContext): Promise<Decision>;
  /**
   * Commits the reservation at the actual cost: `actual` (and `fee`) converted with the
   * decision's rates, rounded up; the full reservation when `actual` is absent. Returns the
   * committed USD micro-units.
   *
   * @throws {StipendError} code `BUDGET_COMMIT_INVALID` when the actual cost is above the
   *   reservation or in another unit; the reservation then stays held (it over-counts, never under).
   */
  commit(decision: Decision, actual?: Amount, fee?: Amount): Promise<bigint>;
  /** Releases the reservation (nothing was paid). */
  release(decision: Decision): Promise<void>;
  /**
   * The `maxDeposit` cap (sessions) for a request in `unit`'s atomic units, or `undefined` when
   * no rule caps deposits in it: the lowest native cap for that unit and the USD cap converted
   * with the engine's price source, rounded DOWN (so a deposit at the cap never prices above
   * it). The conversion uses only the decimals and rates the client knows: a unit the price
   * source cannot price (unknown, stale, or with decimals a server stated) gets no USD-derived
   * cap, and `decide` then refuses its deposit.
   *
   * @example
   * ```ts
   * const cap = await engine.depositCap({ url: new URL('https://api.example.com/') }, offer.amount.unit);
   * // open at min(the server's suggestion, cap)
   * ```
   */
  depositCap(ctx: EvaluationContext, unit: Unit): Promise<bigint | undefined>;
}

/**
 * Creates a policy engine. The policy is validated here, so a mistake fails at start-up.
 *
 * @throws {StipendError} code `POLICY_INVALID` when the policy is invalid.
 * @example
 * ```ts
 * import { createPolicyEngine, createMemoryBudgetStore, pegPriceSource } from '@stipend/client';
 *
 * const engine = createPolicyEngine({
 *   policy: { global: { maxPerRequest: { usd: '0.10' }, limits: [{ usd: '5', window: { calendar: 'day' } }] } },
 *   budget: createMemoryBudgetStore(),
 *   prices: pegPriceSource(),
 * });
 * const decision = await engine.decide(offers, {
 *   url: new URL('https://api.example.com/data'),
 *   method: 'GET',
 *   canPay: (offer) => wallet.canPay(offer),
 *   reservationId: crypto.randomUUID(),
 * });
 * // ... pay decision.offer, then:
 * await engine.commit(decision);
 * ```
 */
export function createPolicyEngine(config: PolicyEngineConfig): PolicyEngine {
  const compiled = compilePolicy(config.policy, { protocols: config.protocols ?? [] });
  const { budget, prices, approver } = config;
  const clock = config.now ?? Date.now;

  async function evaluateWith(
    offers: readonly PaymentOffer[],
    rules: ResolvedRules,
    now: number,
  ): Promise<OfferEvaluation[]> {
    const priced = await Promise.all(
      offers.map((offer) => priceOffer(offer, prices, now, compiled.maxRateAgeMs)),
    );
    return offers.map((offer, i) => checkOffer(offer, i, rules, priced[i]!, now));
  }

  async function evaluate(
    offers: readonly PaymentOffer[],
    ctx: EvaluationContext,
  ): Promise<OfferEvaluation[]> {
    const now = clock();
    const rules = resolveCompiled(compiled, resolveInput(ctx));
    const evaluations = await evaluateWith(offers, rules, now);
    const canPay = ctx.canPay;
    if (canPay === undefined) return evaluations;
    return Promise.all(
      evaluations.map(async (evaluation) => {
        if (!evaluation.ok) return evaluation;
        const answer = await askWallet(canPay, evaluation.offer);
        return answer === true ? evaluation : noWallet(evaluation, answer);
      }),
    );
  }

  async function decide(offers: readonly PaymentOffer[], ctx: DecisionContext): Promise<Decision> {
    ctx.signal?.throwIfAborted();
    for (const offer of offers) freezeOffer(offer);
    const now = clock();
    const rules = resolveCompiled(compiled, resolveInput(ctx));
    const evaluations = await evaluateWith(offers, rules, now);
    const where = describeRequest(ctx);
    const url = `${ctx.url.origin}${ctx.url.pathname}`;

    if (offers.length === 0) {
      throw new PolicyDeniedError({
        reason: 'no_offers',
        message: `${where}: the 402 response offered no payment option Stipend understands`,
        offers: [],
        url,
      });
    }

    // Outcome per offer, updated as wallets are asked.
    const outcomes: OfferEvaluation[] = [...evaluations];
    const ranked = rank(
      evaluations.filter((e) => e.ok),
      compiled.prefer,
    );
    let chosen: OfferEvaluation | undefined;
    for (const candidate of ranked) {
      const answer = await askWallet(ctx.canPay, candidate.offer);
      if (answer === true) {
        chosen = candidate;
        break;
      }
      outcomes[candidate.index] = noWallet(candidate, answer);
    }
    if (chosen === undefined) {
      await sayNoWalletFirst(outcomes, ctx.canPay);
      throw denied(outcomes, rules, where, url, undefined);
    }
    ctx.signal?.throwIfAborted();

    let usdMicros = chosen.usdMicros!;
    const offer = chosen.offer;
    let priced: { rate: Rate; feeUsdMicros?: bigint; feeRate?: Rate } = chosen as {
      rate: Rate;
      feeUsdMicros?: bigint;
      feeRate?: Rate;
    };
    if (ctx.deposit !== undefined) {
      const held = await priceOffer(
        { ...offer, amount: ctx.deposit.amount, maxFee: ctx.deposit.maxFee } as PaymentOffer,
        prices,
        now,
        compiled.maxRateAgeMs,
      );
      const refusal =
        'error' in held
          ? `its deposit cannot be priced: ${held.error}`
          : depositRefusal(rules, ctx.deposit.amount, held.amountUsdMicros);
      if (refusal !== undefined || 'error' in held) {
        outcomes[chosen.index] = refuse(
          chosen,
          'error' in held ? 'price_unavailable' : 'deposit_cap',
          refusal!,
        );
        throw denied(outcomes, rules, where, url, undefined);
      }
      usdMicros = held.usdMicros;
      priced = held;
    }
    const reserved = await budget.reserve({
      id: ctx.reservationId,
      limits: rules.limits,
      usdMicros,
      now,
      expiresAt: now + rules.maxAuthorizationTtlSec * 1000,
      meta: {
        origin: ctx.url.origin,
        method: ctx.method,
        offerId: offer.id,
        rail: railOf(offer),
        payee: offer.payee,
        ...ctx.meta,
      },
    });
    if (!reserved.ok) {
      const denial = budgetDenial(reserved, usdMicros, rules);
      // Every offer not yet refused would need at least as much budget (count caps: any payment).
      for (const candidate of ranked) {
        if (outcomes[candidate.index]?.ok) {
          outcomes[candidate.index] = refuse(
            candidate,
            denial.code,
            budgetDenial(reserved, candidate.usdMicros!, rules).reason,
          );
        }
      }
      throw denied(outcomes, rules, where, url, denial.code);
    }
    const reservation = reserved.reservation;
    const decisionOf = (extra: {
      approved: boolean;
      pendingApproval?: ApprovalRequest;
    }): Decision =>
      Object.freeze({
        offer,
        usdMicros,
        rate: priced.rate,
        ...(priced.feeUsdMicros !== undefined ? { feeUsdMicros: priced.feeUsdMicros } : {}),
        ...(priced.feeRate !== undefined ? { feeRate: priced.feeRate } : {}),
        reservation,
        maxAuthorizationTtlSec: rules.maxAuthorizationTtlSec,
        ...extra,
        evaluations: Object.freeze(outcomes),
      });

    const why: ApprovalRequest['why'] | undefined =
      rules.action.value === 'ask'
        ? 'rule_ask'
        : rules.approveAbove !== undefined && usdMicros > rules.approveAbove.value
          ? 'above_threshold'
          : undefined;
    let approved = false;
    if (why !== undefined) {
      const need =
        why === 'rule_ask'
          ? `the rule for ${rules.action.from} says action "ask"`
          : `it costs ${formatUsd(usdMicros)}, above approveAbove ${formatUsd(rules.approveAbove!.value)} for ${rules.approveAbove!.from}`;
      const subject = `${offer.protocol}/${offer.scheme} payment of ${showAmount(offer.amount)} to ${offer.payee} for ${where}`;
      const details = { offerId: offer.id, usdMicros, method: ctx.method, url };
      if (ctx.deferApproval) {
        let request: ApprovalRequest;
        try {
          request = await approvalRequest(offer, usdMicros, rules, ctx, why, now);
        } catch (error) {
          await releaseQuietly(budget, reservation.id);
          throw error;
        }
        return decisionOf({ approved: false, pendingApproval: request });
      }
      if (approver === undefined) {
        await releaseQuietly(budget, reservation.id);
        const fix =
          why === 'rule_ask'
            ? `change ${field(rules.action.path, 'action')} to "allow"`
            : `raise ${field(rules.approveAbove!.path, 'approveAbove')}`;
        throw new ApprovalError({
          reason: 'approval_required',
          message: `The ${subject} needs approval (${need}), but no approver is configured; pass an approver to createPolicyEngine or ${fix}`,
          details,
        });
      }
      let outcome: Awaited<ReturnType<typeof askApprover>>;
      try {
        const request = await approvalRequest(offer, usdMicros, rules, ctx, why, now);
        outcome = await askApprover(approver, request, compiled.approvalTimeoutMs, ctx.signal);
      } catch (error) {
        // Reading the budget for the request failed: nothing may stay reserved for a refusal.
        await releaseQuietly(budget, reservation.id);
        throw error;
      }
      if (outcome.kind !== 'approved') {
        await releaseQuietly(budget, reservation.id);
        if (outcome.kind === 'aborted') throw outcome.reason;
        if (outcome.kind === 'timeout') {
          throw new ApprovalError({
            reason: 'approval_timeout',
            message: `Nobody approved the ${subject} within ${compiled.approvalTimeoutMs} ms (${need}); answer sooner or raise policy.approvalTimeoutMs`,
            details,
          });
        }
        throw new ApprovalError({
          reason: 'approval_denied',
          message:
            outcome.kind === 'threw'
              ? `The approver failed on the ${subject}, so it is denied: ${(outcome.error as Error)?.message ?? String(outcome.error)}`
              : `The approver refused the ${subject} (${need})`,
          details,
          ...(outcome.kind === 'threw' ? { cause: outcome.error } : {}),
        });
      }
      approved = true;
    }

    return decisionOf({ approved });
  }

  async function approvalRequest(
    offer: PaymentOffer,
    usdMicros: bigint,
    rules: ResolvedRules,
    ctx: DecisionContext,
    why: ApprovalRequest['why'],
    now: number,
  ): Promise<ApprovalRequest> {
    const remaining: { scope: string; window: string; usdMicros: bigint }[] = [];
    for (const limit of rules.limits) {
      if (limit.maxUsdMicros === undefined) continue;
      const use = await budget.usage(limit, now);
      const left = limit.maxUsdMicros - use.committedUsdMicros - use.heldUsdMicros;
      remaining.push({
        scope: limit.scope,
        window: windowKey(limit.window),
        usdMicros: left > 0n ? left : 0n,
      });
    }
    const request: ApprovalRequest = {
      origin: offer.origin,
      resource: offer.resource,
      method: ctx.method,
      protocol: offer.protocol,
      scheme: offer.scheme,
      payee: offer.payee,
      ...(offer.network !== undefined ? { network: offer.network } : {}),
      amount: offer.amount,
      usdMicros,
      remaining: Object.freeze(remaining.map((r) => Object.freeze(r))),
      ...(offer.expiresAt !== undefined ? { expiresAt: offer.expiresAt } : {}),
      why,
      tags: rules.tags,
    };
    return Object.freeze(request);
  }

  async function commit(decision: Decision, actual?: Amount, fee?: Amount): Promise<bigint> {
    const reserved = decision.reservation.usdMicros;
    let usd = decision.usdMicros;
    if (actual !== undefined || fee !== undefined) {
      usd = 0n;
      for (const part of [actual, fee]) {
        if (part !== undefined) usd += convertActual(decision, part);
      }
    }
    if (usd > reserved) {
      throw new StipendError(
        'BUDGET_COMMIT_INVALID',
        `The actual cost ${formatUsd(usd)} is above the ${formatUsd(reserved)} reserved for offer ${decision.offer.id}; nothing was committed and the reservation stays held until reconciled`,
        {
          details: {
            reservationId: decision.reservation.id,
            actualUsdMicros: usd,
            reservedUsdMicros: reserved,
          },
        },
      );
    }
    await budget.commit(decision.reservation.id, usd);
    return usd;
  }

  async function release(decision: Decision): Promise<void> {
    await budget.release(decision.reservation.id);
  }

  async function depositCap(ctx: EvaluationContext, unit: Unit): Promise<bigint | undefined> {
    const rules = resolveCompiled(compiled, resolveInput(ctx));
    const key = unitKey(unit).toLowerCase();
    let lowest: bigint | undefined;
    for (const cap of rules.depositNativeCaps ?? []) {
      if (cap.value.unit === key && (lowest === undefined || cap.value.max < lowest))
        lowest = cap.value.max;
    }
    const usd = rules.maxDepositUsd?.value;
    if (usd === undefined) return lowest;
    let rate: Rate;
    try {
      rate = (
        await toUsdMicros(amount(0n, unit), prices, {
          now: clock(),
          maxAgeMs: compiled.maxRateAgeMs,
        })
      ).rate;
    } catch {
      return lowest;
    }
    // The most atomic units whose price, rounded up as `decide` prices it, stays within the cap.
    const fromUsd = (usd * rate.denominator) / rate.usdMicrosPerUnitNumerator;
    return lowest === undefined || fromUsd < lowest ? fromUsd : lowest;
  }

  return Object.freeze({ policy: compiled, evaluate, decide, commit, release, depositCap });
}

/** Why a session deposit breaks a `maxDeposit` cap (naming it), or `undefined`. */
function depositRefusal(
  rules: ResolvedRules,
  deposit: Amount,
  depositUsdMicros: bigint,
): string | undefined {
  const cap = rules.maxDepositUsd;
  if (cap !== undefined && depositUsdMicros > cap.value) {
    return `its deposit of ${showAmount(deposit)} costs ${formatUsd(depositUsdMicros)}, above maxDeposit ${formatUsd(cap.value)} for ${cap.from}; raise ${field(cap.path, 'maxDeposit')}.usd to open this session`;
  }
  const key = safeKey(deposit)?.toLowerCase();
  for (const native of rules.depositNativeCaps ?? []) {
    if (native.value.unit === key && deposit.value > native.value.max) {
      return `its deposit of ${showAmount(deposit)} is above maxDeposit ${native.value.max} ${native.value.unit} for ${native.from}; raise ${field(native.path, 'maxDeposit')}.native to open this session`;
    }
  }
  return undefined;
}

function convertActual(decision: Decision, part: Amount): bigint {
  const key = safeKey(part);
  const offer = decision.offer;
  if (key !== undefined && key === safeKey(offer.amount))
    return applyRate(part.value, decision.rate);
  if (
    key !== undefined &&
    offer.maxFee !== undefined &&
    decision.feeRate !== undefined &&
    key === safeKey(offer.maxFee)
  ) {
    return applyRate(part.value, decision.feeRate);
  }
  throw new StipendError(
    'BUDGET_COMMIT_INVALID',
    `The actual amount ${amountKey(part)} is not in the unit of offer ${offer.id} (${amountKey(offer.amount)}); commit the amount in the offer's unit`,
    { details: { reservationId: decision.reservation.id, offerId: offer.id } },
  );
}

function safeKey(value: Amount): string | undefined {
  try {
    return unitKey(value.unit);
  } catch {
    return undefined;
  }
}

function resolveInput(ctx: EvaluationContext) {
  return {
    hostname: ctx.url.hostname,
    ...(ctx.tags !== undefined ? { tags: ctx.tags } : {}),
    ...(ctx.override !== undefined ? { override: ctx.override } : {}),
  };
}

/** Cheapest first; then the policy's `prefer` order; then the order given. Never just "first". */
function rank(allowed: readonly OfferEvaluation[], prefer: readonly string[]): OfferEvaluation[] {
  return rankOffers(allowed, prefer, (evaluation) => ({
    usdMicros: evaluation.usdMicros!,
    protocol: evaluation.offer.protocol.toLowerCase(),
    rail: railOf(evaluation.offer).toLowerCase(),
  }));
}

async function askWallet(
  canPay: NonNullable<EvaluationContext['canPay']>,
  offer: PaymentOffer,
): Promise<true | string> {
  try {
    const answer = await canPay(offer);
    return answer === true ? true : String(answer || 'the wallet gave no reason');
  } catch (error) {
    return `the wallet check failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function noWallet(evaluation: OfferEvaluation, answer: string): OfferEvaluation {
  return refuse(evaluation, 'no_wallet', noWalletReason(evaluation.offer, answer));
}

/**
 * An offer that could not be priced may also have no wallet at all; then "no wallet" is the
 * first thing to fix (a price alone would not make it payable), so it is said first.
 */
async function sayNoWalletFirst(
  outcomes: OfferEvaluation[],
  canPay: DecisionContext['canPay'],
): Promise<void> {
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.ok || outcome.code !== 'price_unavailable') continue;
    const answer = await askWallet(canPay, outcome.offer);
    if (answer === true) continue;
    const { reason } = outcome as OfferEvaluation & { reason: string };
    outcomes[i] = refuse(
      outcome,
      'no_wallet',
      `${noWalletReason(outcome.offer, answer)} (then it also needs a price: ${reason})`,
    );
  }
}

function noWalletReason(offer: PaymentOffer, answer: string): string {
  return `no wallet can pay it (${answer}); add a wallet for ${railOf(offer)} or fund the one you have`;
}

function refuse(evaluation: OfferEvaluation, code: DenyCode, reason: string): OfferEvaluation {
  const { ok: _ok, ...rest } = evaluation as OfferEvaluation & { code?: unknown; reason?: unknown };
  return Object.freeze({ ...rest, ok: false as const, code, reason });
}

function budgetDenial(
  refusal: ReserveRefusal,
  usdMicros: bigint,
  rules: ResolvedRules,
): { code: DenyCode; reason: string } {
  const { limit } = refusal;
  const owner = rules.rules.find((rule) => rule.scope === limit.scope);
  const name = owner?.label ?? limit.scope;
  const path = owner?.path ?? 'global';
  const window = describeWindow(limit.window);
  if (refusal.exceeded === 'count') {
    return {
      code: 'request_count_cap',
      reason:
        `the limit of ${limit.maxCount} payments per ${window} for ${name} is reached ` +
        `(${refusal.remaining} left); wait for the window to move on or raise ${field(path, 'maxRequests')}`,
    };
  }
  return {
    code: 'window_cap',
    reason:
      `costs ${formatUsd(usdMicros)}, but the ${formatUsd(limit.maxUsdMicros ?? 0n)} per ${window} budget ` +
      `of ${name} has ${formatUsd(refusal.remaining)} left; wait for the window to move on or raise ${field(path, 'limits')}`,
  };
}

function denied(
  outcomes: readonly OfferEvaluation[],
  rules: ResolvedRules,
  where: string,
  url: string,
  budgetCode: DenyCode | undefined,
): PolicyDeniedError {
  const denials: OfferDenial[] = outcomes.map((e) => {
    const refusal = e as OfferEvaluation & { code: DenyCode; reason: string };
    return Object.freeze({
      offerId: e.offer.id,
      protocol: e.offer.protocol,
      scheme: e.offer.scheme,
      amount: amountKey(e.offer.amount),
      ...(e.usdMicros !== undefined ? { usdMicros: e.usdMicros } : {}),
      code: refusal.ok ? 'no_wallet' : refusal.code,
      reason: refusal.ok ? 'not tried' : refusal.reason,
    });
  });
  const telling = mostTelling(outcomes, rules, budgetCode);
  const lead = denials[telling.index];
  return new PolicyDeniedError({
    reason: telling.code,
    message: `Stipend paid nothing for ${where}: ${lead ? `${lead.protocol}/${lead.scheme} ${lead.reason}` : telling.code}`,
    offers: denials,
    url,
  });
}

/** The deciding code: a budget refusal, a deny rule, else the cheapest offer's own code. */
function mostTelling(
  outcomes: readonly OfferEvaluation[],
  rules: ResolvedRules,
  budgetCode: DenyCode | undefined,
): { code: DenyCode; index: number } {
  const codeOf = (e: OfferEvaluation): DenyCode => (e.ok ? 'no_wallet' : e.code);
  if (budgetCode !== undefined) {
    const at = outcomes.findIndex((e) => !e.ok && e.code === budgetCode);
    return { code: budgetCode, index: Math.max(at, 0) };
  }
  if (rules.action.value === 'deny') {
    const at = outcomes.findIndex((e) => !e.ok && e.code === 'host_denied');
    return { code: 'host_denied', index: Math.max(at, 0) };
  }
  let best: OfferEvaluation | undefined;
  for (const e of outcomes) {
    if (e.usdMicros === undefined) continue;
    if (best === undefined || e.usdMicros < best.usdMicros!) best = e;
  }
  // Nothing could be priced: a missing wallet is what to fix first.
  const pick = best ?? outcomes.find((e) => !e.ok && e.code === 'no_wallet') ?? outcomes[0]!;
  return { code: codeOf(pick), index: pick.index };
}

/** `GET https://host/path` without the query string (it may hold secrets). */
function describeRequest(ctx: { url: URL; method?: string }): string {
  const url = `${ctx.url.origin}${ctx.url.pathname}`;
  return ctx.method ? `${ctx.method.toUpperCase()} ${url}` : url;
}

async function releaseQuietly(budget: BudgetStore, id: string): Promise<void> {
  try {
    await budget.release(id);
  } catch {
    // A reservation that cannot be released stays held: the budget over-counts until
    // reconciliation, which is the safe direction. The caller gets the approval error.
  }
}
