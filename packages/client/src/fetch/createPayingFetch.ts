/**
 * `createPayingFetch`: a drop-in `fetch` that pays HTTP 402 challenges under a spend policy.
 *
 * The way of one request: prepare once (replayable body) → send → not a challenge: return
 * untouched → every adapter reads the 402 into offers → the policy picks one, reserves its
 * cost and asks a person when it must → a pending spend record is written → the wallet pays
 * → the adapter builds the proof → the same request is sent once more, to the origin that
 * issued the challenge only → commit, release or hold per what the server answered.
 *
 * @module
 */
import { createMemoryBudgetStore } from '../budget/memory.js';
import type { BudgetStore } from '../budget/store.js';
import { isStipendError, StipendError } from '../errors/base.js';
import { ChallengeParseError } from '../errors/challenge.js';
import { PaymentFailedError, type ResumeInfo } from '../errors/payment.js';
import { PolicyDeniedError } from '../errors/policy.js';
import { RequestError } from '../errors/request.js';
import { WalletError } from '../errors/wallet.js';
import { randomId } from '../internal/ids.js';
import { createEmitter, type Emitter, summarizeOffer } from '../ledger/events.js';
import { createMemoryLedger } from '../ledger/memory.js';
import type { Ledger, SpendRecord } from '../ledger/record.js';
import type { PriceSource } from '../money/price.js';
import { pegPriceSource } from '../money/price.js';
import { type PaymentOffer, railOf } from '../offer.js';
import { createPolicyEngine, type Decision, type PolicyEngine } from '../policy/engine.js';
import type { Approver, Rule, SpendPolicy, Usd } from '../policy/types.js';
import type { PaidOutcome, ProtocolAdapter } from '../protocols/adapter.js';
import type { Proof, Wallet } from '../wallet/wallet.js';
import { type PreparedRequest, prepareRequest } from './body.js';
import { challengeInput } from './challenge.js';
import { attachPayment, type PaymentOutcome } from './outcome.js';
import { installFetch, uninstallFetch } from './polyfill.js';
import { sendPaidRetry } from './retry.js';
import { type HttpRule, mayPayOver } from './transport.js';

/** Options for one call, passed as `init.payment`. They can only tighten the policy. */
export interface PaymentInit {
  /** Tags that select tag rules and budgets (`'research'`, an MCP tool name…). */
  readonly tags?: readonly string[];
  /** A per-call cap in USD (`'0.05'`); tighten-only. */
  readonly maxUsd?: Usd;
  /** A whole extra rule for this call; tighten-only (it is intersected with the policy). */
  readonly rule?: Rule;
  /** One key per logical purchase: pass the same key to resume a purchase without paying twice. */
  readonly idempotencyKey?: string;
  /** `false` returns 402 responses untouched, without paying. */
  readonly pay?: boolean;
}

/** `RequestInit` plus the optional `payment` options. */
export type PayingRequestInit = RequestInit & { payment?: PaymentInit };

/** Configuration of {@link createPayingFetch}. */
export interface PayingFetchConfig {
  /** Wallets that can pay; the first whose rails and `canPay` accept an offer pays it. */
  readonly wallets: readonly Wallet[];
  /** Protocol adapters (x402, L402, MPP…). */
  readonly adapters?: readonly ProtocolAdapter[];
  /** The spend policy. Without one, fail-closed defaults apply ($0.10 per request, $1 per day). */
  readonly policy?: SpendPolicy;
  /** Where budgets are counted. Default: in memory. */
  readonly budget?: BudgetStore;
  /** Prices for converting offers into USD. Default: USD stablecoins and USD at par. */
  readonly prices?: PriceSource;
  /** Asked when the policy says a person must approve. */
  readonly approver?: Approver;
  /** Where spend records go. Default: in memory. */
  readonly ledger?: Ledger;
  /** The fetch to send with. Default: `globalThis.fetch`, resolved at call time. */
  readonly fetch?: typeof fetch;
  /** Tags added to every call. */
  readonly tags?: readonly string[];
  /** Largest stream body kept for the paid retry, in bytes. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Largest 402 body read, in bytes. Default 64 KiB. */
  readonly maxChallengeBytes?: number;
  /** Plain `http:` payments: `'loopback'` (default) allows only loopback hosts. */
  readonly allowHttp?: HttpRule;
  /** How long a wallet may take before the outcome counts as unknown. Default 60 s. */
  readonly payTimeoutMs?: number;
  /** The clock (ms since epoch). */
  readonly now?: () => number;
}

/** A fetch that pays. Same call signature as `fetch`, plus helpers. */
export interface PayingFetch {
  (input: RequestInfo | URL, init?: PayingRequestInit): Promise<Response>;
  /** The underlying fetch, never paying. */
  readonly rawFetch: typeof fetch;
  /** Subscribes to an event; returns the unsubscribe function. */
  readonly on: Emitter['on'];
  /** Replaces `globalThis.fetch` with this paying fetch (idempotent). */
  polyfill(): void;
  /** Puts the previous `globalThis.fetch` back, unless someone else replaced ours since. */
  restore(): boolean;
  /** Asks the wallets about held payments whose authorization has expired. */
  reconcile(): Promise<{ committed: number; released: number; pending: number }>;
  readonly ledger: Ledger;
  readonly budget: BudgetStore;
  readonly engine: PolicyEngine;
}

interface HeldPayment {
  readonly decision: Decision;
  readonly wallet: Wallet;
  readonly offer: PaymentOffer;
  readonly recordId: string;
  readonly reference?: string;
  readonly purchaseKey: string;
}

/**
 * Creates a `fetch` that pays HTTP 402 challenges under a spend policy.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { evmWallet } from '@stipend/wallet-evm';
 *
 * const payingFetch = createPayingFetch({
 *   wallets: [evmWallet({ account })],
 *   policy: {
 *     global: { maxPerRequest: { usd: '0.05' }, limits: [{ usd: '2.00', window: { calendar: 'day' } }] },
 *     hosts: { 'api.example.com': { approveAbove: '0.01' } },
 *   },
 *   approver: async (req) => confirm(`Pay ${req.usdMicros} µUSD to ${req.origin}?`),
 * });
 * const res = await payingFetch('https://api.example.com/report');
 * ```
 */
export function createPayingFetch(config: PayingFetchConfig): PayingFetch {
  const adapters = config.adapters ?? [];
  const wallets = config.wallets;
  const now = config.now ?? Date.now;
  const budget = config.budget ?? createMemoryBudgetStore();
  const ledger = config.ledger ?? createMemoryLedger();
  const emitter = createEmitter();
  const maxBodyBytes = config.maxBodyBytes ?? 1024 * 1024;
  const maxChallengeBytes = config.maxChallengeBytes ?? 64 * 1024;
  const allowHttp = config.allowHttp ?? 'loopback';
  const payTimeoutMs = config.payTimeoutMs ?? 60_000;
  const engine = createPolicyEngine({
    policy: config.policy,
    budget,
    prices: config.prices ?? pegPriceSource(),
    approver: config.approver,
    now,
    protocols: adapters.map((adapter) => adapter.protocol),
  });
  /** Unknown outcomes per purchase: reconciled before that purchase pays again (invariant 6). */
  const held = new Map<string, HeldPayment>();
  let installedOver: typeof fetch | undefined;

  const base: typeof fetch = (input, init) => {
    const underlying = config.fetch ?? installedOver ?? globalThis.fetch;
    return underlying(input, init);
  };

  const payingFetch = (async (input: RequestInfo | URL, init?: PayingRequestInit) => {
    const prepared = await prepareRequest(input, init, maxBodyBytes);
    const response = await base(prepared.firstInput, prepared.firstInit);
    if (response.status !== 402 && response.status !== 412) return response;
    if (init?.payment?.pay === false) return response;
    return handleChallenge(prepared, init?.payment ?? {}, response);
  }) as PayingFetch;

  async function handleChallenge(
    prepared: PreparedRequest,
    options: PaymentInit,
    response: Response,
  ): Promise<Response> {
    const time = now();
    const { input, headerErrors } = challengeInput(
      response,
      prepared.url,
      prepared.method,
      time,
      maxChallengeBytes,
    );
    const relevant = adapters.filter((adapter) => adapter.detect(input));
    if (relevant.length === 0) {
      // A 412 or a 402 that speaks no protocol we know: nothing to pay.
      return response;
    }

    const offers: PaymentOffer[] = [];
    const parseErrors: StipendError[] = [];
    for (const adapter of relevant) {
      try {
        for (const offer of await adapter.parse(input)) {
          // Offers are bound to the origin that issued the challenge (invariant 4).
          if (offer.origin === input.url.origin) offers.push(offer);
        }
      } catch (error) {
        parseErrors.push(
          isStipendError(error)
            ? error
            : new ChallengeParseError({
                protocol: adapter.protocol,
                message: `The ${adapter.protocol} challenge could not be read.`,
                cause: error,
              }),
        );
      }
    }
    const url = input.url.href;
    emitter.emit('challenge', {
      url,
      offers: offers.map(summarizeOffer),
      errors: [...headerErrors, ...parseErrors.map((error) => error.shortMessage)],
    });
    if (offers.length === 0) {
      const error =
        parseErrors[0] ??
        new ChallengeParseError({
          protocol: relevant[0]!.protocol,
          message: 'The 402 response carried no payable offer for this origin.',
        });
      return fail(url, error);
    }

    if (!mayPayOver(input.url, allowHttp)) {
      return fail(
        url,
        new RequestError(
          'INSECURE_TRANSPORT',
          `Refusing to pay over plain HTTP to ${input.url.origin}. Use https, or set allowHttp (loopback is allowed by default).`,
          { origin: input.url.origin },
        ),
      );
    }
    if (!prepared.replayable) {
      return fail(
        url,
        new RequestError(
          'BODY_TOO_LARGE',
          `The request body is larger than maxBodyBytes (${maxBodyBytes}) and cannot be resent with a payment. Raise maxBodyBytes or send a Blob/ArrayBuffer body.`,
          { maxBodyBytes },
        ),
      );
    }

    const method = prepared.method;
    const purchaseKey = options.idempotencyKey ?? `${method} ${url}`;
    await reconcileHeld(purchaseKey, url);

    const tags = [...(config.tags ?? []), ...(options.tags ?? [])];
    const override = callRule(options);
    const chosenWallet = new Map<string, Wallet>();
    const reservationId = randomId('r_');

    let decision: Decision;
    try {
      decision = await engine.decide(offers, {
        url: input.url,
        method,
        tags,
        override,
        reservationId,
        canPay: (offer) => findWallet(offer, chosenWallet),
        signal: prepared.init.signal ?? undefined,
      });
    } catch (error) {
      return fail(url, asStipendError(error));
    }
    const offer = decision.offer;
    const wallet = chosenWallet.get(offer.id);
    if (!wallet) {
      await engine.release(decision);
      return fail(
        url,
        new PolicyDeniedError({
          reason: 'no_wallet',
          message: 'No wallet was chosen for the approved offer.',
          offers: [],
          url,
        }),
      );
    }
    emitter.emit('decision', {
      url,
      offer: summarizeOffer(offer),
      usdMicros: decision.usdMicros,
      approved: decision.approved,
      walletId: wallet.id,
    });

    // The pending record exists before any money can move.
    const recordId = randomId('s_');
    const record: SpendRecord = {
      id: recordId,
      purchaseKey,
      reservationId: decision.reservation.id,
      protocol: offer.protocol,
      scheme: offer.scheme,
      method,
      origin: offer.origin,
      resource: offer.resource,
      payee: offer.payee,
      ...(offer.network ? { network: offer.network } : {}),
      offerId: offer.id,
      amount: offer.amount,
      reservedUsdMicros: decision.usdMicros,
      rate: {
        numerator: decision.rate.usdMicrosPerUnitNumerator,
        denominator: decision.rate.denominator,
        source: decision.rate.source,
        asOf: decision.rate.asOf,
      },
      walletId: wallet.id,
      status: 'pending',
      tags,
      createdAt: time,
      updatedAt: time,
    };
    await ledger.append(record);

    let proof: Proof;
    try {
      proof = await withTimeout(
        wallet.pay(offer, {
          request: { method, url },
          idempotencyKey: purchaseKey,
          maxAuthorizationTtlSec: decision.maxAuthorizationTtlSec,
          reservationId: decision.reservation.id,
          signal: prepared.init.signal ?? undefined,
          now: now(),
        }),
        payTimeoutMs,
      );
      if (proof.offerId !== offer.id) {
        throw new WalletError({
          walletId: wallet.id,
          message: `Wallet ${wallet.id} returned a proof for another offer.`,
          paid: 'unknown',
        });
      }
    } catch (error) {
      return walletFailed(error, { decision, wallet, offer, recordId, purchaseKey }, url);
    }

    await ledger.update(recordId, { reference: proof.reference, updatedAt: now() });
    emitter.emit('payment', { url, record: await recordOf(recordId) });

    const adapter = adapters.find((candidate) => candidate.protocol === offer.protocol)!;
    const retryHeaders = new Headers(prepared.init.headers);
    const proofHeaders = adapter.proofHeaders(offer, proof, {
      method,
      url: input.url,
      headers: retryHeaders,
      idempotencyKey: purchaseKey,
    });
    const heldPayment: HeldPayment = {
      decision,
      wallet,
      offer,
      recordId,
      reference: proof.reference,
      purchaseKey,
    };

    let paid: { first: Response; final: Response };
    try {
      paid = await sendPaidRetry({
        fetch: base,
        url: input.url,
        init: prepared.init,
        headers: retryHeaders,
        proofHeaders,
      });
    } catch (error) {
      // The proof may have reached the server: the outcome is unknown.
      return holdUnknown(heldPayment, url, error);
    }

    let outcome: PaidOutcome;
    try {
      outcome = await adapter.settle(offer, proof, paid.first);
    } catch (error) {
      outcome = {
        kind: 'rejected',
        reason: 'unknown',
        moneyMoved: 'unknown',
        message: `The ${offer.protocol} adapter could not read the paid response: ${errorText(error)}`,
      };
    }
    return finish(heldPayment, proof, outcome, paid.final, url);
  }

  async function finish(
    payment: HeldPayment,
    proof: Proof,
    outcome: PaidOutcome,
    response: Response,
    url: string,
  ): Promise<Response> {
    const { decision, recordId } = payment;
    if (outcome.kind === 'accepted') {
      const committed = await engine.commit(decision, outcome.settled ?? outcome.receipt?.settled);
      await ledger.update(recordId, {
        status: 'committed',
        outcome: 'accepted',
        committedUsdMicros: committed,
        ...(outcome.receipt?.reference ? { receiptReference: outcome.receipt.reference } : {}),
        updatedAt: now(),
      });
      const record = await recordOf(recordId);
      emitter.emit('receipt', { url, record, status: response.status });
      const result: PaymentOutcome = outcome.receipt
        ? { status: 'paid', record, receipt: outcome.receipt }
        : { status: 'paid', record };
      return attachPayment(response, result);
    }

    const moved = proof.settlement === 'final' ? 'yes' : outcome.moneyMoved;
    const error = new PaymentFailedError({
      reason: outcome.reason,
      paid: moved === 'yes' ? true : moved === 'no' ? false : 'unknown',
      message: `The server refused the paid request (${outcome.reason}): ${outcome.message}`,
      resume: resumeOf(payment),
      details: { status: response.status, url },
    });
    const failure = { code: error.code, message: error.shortMessage };
    if (moved === 'yes') {
      const committed = await engine.commit(decision, outcome.receipt?.settled);
      await ledger.update(recordId, {
        status: 'committed',
        outcome: 'rejected',
        committedUsdMicros: committed,
        failure,
        updatedAt: now(),
      });
    } else if (moved === 'no') {
      await engine.release(decision);
      await ledger.update(recordId, {
        status: 'released',
        outcome: 'rejected',
        failure,
        updatedAt: now(),
      });
    } else {
      held.set(payment.purchaseKey, payment);
      await ledger.update(recordId, {
        status: 'held',
        outcome: 'unknown',
        failure,
        updatedAt: now(),
      });
    }
    const record = await recordOf(recordId);
    emitter.emit('receipt', { url, record, status: response.status });
    emitter.emit('error', { url, error });
    return attachPayment(response, {
      status: moved === 'unknown' ? 'unknown' : 'rejected',
      record,
      error,
      ...(outcome.receipt ? { receipt: outcome.receipt } : {}),
    });
  }

  async function walletFailed(error: unknown, payment: HeldPayment, url: string): Promise<never> {
    const paid =
      error instanceof TimeoutError
        ? 'unknown'
        : isStipendError(error) && 'paid' in error
          ? (error as WalletError).paid
          : false;
    if (paid === 'unknown') {
      const reference = error instanceof WalletError ? error.reference : undefined;
      if (reference) {
        await ledger.update(payment.recordId, { reference, updatedAt: now() });
        return holdUnknown({ ...payment, reference }, url, error);
      }
      return holdUnknown(payment, url, error);
    }
    const failure = {
      code: isStipendError(error) ? error.code : 'WALLET_ERROR',
      message: errorText(error),
    };
    if (paid === true) {
      const committed = await engine.commit(payment.decision);
      await ledger.update(payment.recordId, {
        status: 'committed',
        outcome: 'wallet_failed',
        committedUsdMicros: committed,
        failure,
        updatedAt: now(),
      });
    } else {
      await engine.release(payment.decision);
      await ledger.update(payment.recordId, {
        status: 'released',
        outcome: 'wallet_failed',
        failure,
        updatedAt: now(),
      });
    }
    return fail(
      url,
      new PaymentFailedError({
        code: 'WALLET_FAILED',
        reason: 'wallet_failed',
        paid,
        message: `Wallet ${payment.wallet.id} could not pay: ${failure.message}`,
        resume: resumeOf(payment),
        cause: error,
      }),
    );
  }

  async function holdUnknown(payment: HeldPayment, url: string, cause: unknown): Promise<never> {
    held.set(payment.purchaseKey, payment);
    await ledger.update(payment.recordId, {
      status: 'held',
      outcome: 'unknown',
      failure: { code: 'OUTCOME_UNKNOWN', message: errorText(cause) },
      updatedAt: now(),
    });
    return fail(
      url,
      new PaymentFailedError({
        code: 'OUTCOME_UNKNOWN',
        reason: 'outcome_unknown',
        paid: 'unknown',
        message:
          'The payment outcome is unknown (timeout or lost response). The budget stays reserved and the rail is asked before this purchase is paid again.',
        resume: resumeOf(payment),
        cause,
      }),
    );
  }

  /** Invariant 6: an unknown outcome is settled with the rail before the purchase pays again. */
  async function reconcileHeld(purchaseKey: string, url: string): Promise<void> {
    const payment = held.get(purchaseKey);
    if (!payment) return;
    const status = await askRail(payment);
    if (status === 'failed') return;
    if (status === 'paid') {
      throw await failAndReturn(
        url,
        new PaymentFailedError({
          code: 'ALREADY_PAID',
          reason: 'already_paid',
          paid: true,
          message:
            'This purchase was already paid (the rail confirmed it); it is not paid again. Resume with the recorded reference.',
          resume: resumeOf(payment),
        }),
      );
    }
    throw await failAndReturn(
      url,
      new PaymentFailedError({
        code: 'OUTCOME_UNKNOWN',
        reason: 'outcome_unknown',
        paid: 'unknown',
        message:
          'An earlier payment for this purchase has an unknown outcome that the wallet cannot settle yet; nothing new is paid. Try again after the authorization expires.',
        resume: resumeOf(payment),
      }),
    );
  }

  /** Looks a held payment up; commits or releases it when the rail knows. */
  async function askRail(payment: HeldPayment): Promise<'paid' | 'failed' | 'pending'> {
    let status: 'paid' | 'failed' | 'pending' = 'pending';
    if (payment.wallet.lookup && payment.reference) {
      try {
        status = await payment.wallet.lookup(payment.reference, payment.offer);
      } catch {
        status = 'pending';
      }
    }
    if (status === 'paid') {
      const committed = await engine.commit(payment.decision);
      await ledger.update(payment.recordId, {
        status: 'committed',
        committedUsdMicros: committed,
        updatedAt: now(),
      });
      held.delete(payment.purchaseKey);
    } else if (status === 'failed') {
      await engine.release(payment.decision);
      await ledger.update(payment.recordId, { status: 'released', updatedAt: now() });
      held.delete(payment.purchaseKey);
    }
    return status;
  }

  async function findWallet(
    offer: PaymentOffer,
    chosen: Map<string, Wallet>,
  ): Promise<true | string> {
    const rail = railOf(offer);
    const reasons: string[] = [];
    for (const wallet of wallets) {
      if (!wallet.rails.includes(rail)) continue;
      let verdict: true | string;
      try {
        verdict = await wallet.canPay(offer);
      } catch (error) {
        verdict = `wallet ${wallet.id} failed its check: ${errorText(error)}`;
      }
      if (verdict === true) {
        chosen.set(offer.id, wallet);
        return true;
      }
      reasons.push(`${wallet.id}: ${verdict}`);
    }
    return reasons.length > 0
      ? reasons.join('; ')
      : `no wallet pays ${rail}; add a wallet for this rail`;
  }

  async function recordOf(id: string): Promise<SpendRecord> {
    const records = await ledger.list();
    for (let index = records.length - 1; index >= 0; index--) {
      if (records[index]!.id === id) return records[index]!;
    }
    throw new StipendError('LEDGER_INCONSISTENT', `Spend record ${id} is missing from the ledger.`);
  }

  async function failAndReturn(url: string, error: StipendError): Promise<StipendError> {
    emitter.emit('error', { url, error });
    return error;
  }

  async function fail(url: string, error: StipendError): Promise<never> {
    throw await failAndReturn(url, error);
  }

  Object.defineProperties(payingFetch, {
    rawFetch: { value: base, enumerable: true },
    on: { value: emitter.on, enumerable: true },
    ledger: { value: ledger, enumerable: true },
    budget: { value: budget, enumerable: true },
    engine: { value: engine, enumerable: true },
    polyfill: {
      value: () => {
        const previous = installFetch(payingFetch);
        if (previous) installedOver = previous;
      },
    },
    restore: {
      value: () => {
        const restored = uninstallFetch(payingFetch);
        if (restored) installedOver = undefined;
        return restored;
      },
    },
    reconcile: {
      value: async () => {
        const counts = { committed: 0, released: 0, pending: 0 };
        const time = now();
        for (const payment of [...held.values()]) {
          if (payment.decision.reservation.expiresAt > time) {
            counts.pending++;
            continue;
          }
          const status = await askRail(payment);
          if (status === 'paid') counts.committed++;
          else if (status === 'failed') counts.released++;
          else counts.pending++;
        }
        return counts;
      },
    },
  });
  return payingFetch;
}

/** What a caller needs to resume a purchase: its key and the secret-free references. */
function resumeOf(payment: HeldPayment): ResumeInfo {
  return {
    idempotencyKey: payment.purchaseKey,
    offerId: payment.offer.id,
    walletId: payment.wallet.id,
    ...(payment.reference ? { reference: payment.reference } : {}),
  };
}

function callRule(options: PaymentInit): Rule | undefined {
  if (options.rule === undefined && options.maxUsd === undefined) return undefined;
  const rule = options.rule ?? {};
  if (options.maxUsd === undefined) return rule;
  return { ...rule, maxPerRequest: { ...rule.maxPerRequest, usd: options.maxUsd } };
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`The wallet did not answer within ${ms} ms.`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function asStipendError(error: unknown): StipendError {
  if (isStipendError(error)) return error;
  return new StipendError(
    'INTERNAL',
    `Unexpected failure while deciding a payment: ${errorText(error)}`,
    {
      cause: error,
    },
  );
}

function errorText(error: unknown): string {
  if (isStipendError(error)) return error.shortMessage;
  if (error instanceof Error) return error.message;
  return String(error);
}
