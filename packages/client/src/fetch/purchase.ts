/**
 * Buying: the checks that come before any money (transport, replayable body), the decision
 * (a fresh policy decision, or a person's approval claimed atomically), the purchase opened
 * in the journal with its pending spend record, and the wallet's payment under a deadline.
 * Every step moves the purchase through the lifecycle of `purchase/state.ts`.
 *
 * @module
 */

import { deferApproval, pendingResponse, resumeApproval } from '../approvals/pending.js';
import { isStipendError, StipendError } from '../errors/base.js';
import { PaymentFailedError } from '../errors/payment.js';
import { ApprovalError, PolicyDeniedError } from '../errors/policy.js';
import { RequestError } from '../errors/request.js';
import { walletFailureFacts } from '../errors/wallet-facts.js';
import { isDeadlineError, withDeadline } from '../internal/deadline.js';
import { uniqueId } from '../internal/ids.js';
import { redactUrl } from '../internal/redact.js';
import { summarizeOffer } from '../ledger/events.js';
import { unitKey } from '../money/unit.js';
import { type PaymentOffer, railOf } from '../offer.js';
import type { Decision } from '../policy/engine.js';
import type { Rule } from '../policy/types.js';
import type { RetryRequest } from '../protocols/adapter.js';
import type { PurchaseRecord } from '../purchase/journal.js';
import { chooseWallet } from '../quote/wallet-choice.js';
import type { PayContext, Proof, Wallet } from '../wallet/wallet.js';
import type { PreparedRequest } from './body.js';
import { move, recordOf, resumeOf } from './book.js';
import { asStipendError, type Core, errorText, type Hands, reported } from './core.js';
import { verifyPayees } from './payees.js';
import { blockedError } from './prior.js';
import { mayPayOver } from './transport.js';

/** One call of the paying fetch, as the purchase sees it. */
export interface Call {
  readonly prepared: PreparedRequest;
  /** The purchase key: the caller's idempotency key, else `METHOD url` (query tagged). */
  readonly key: string;
  /** True when `key` is the caller's idempotency key. */
  readonly exclusive: boolean;
  readonly tags: readonly string[];
  readonly override: Rule | undefined;
  /** Deadline of each seller request and body read, ms. */
  readonly timeoutMs: number;
  /** May this call pay at all (`payment.pay !== false`)? */
  readonly mayPay: boolean;
}

/** What a purchase is for. */
export interface PurchaseRequest {
  readonly call: Call;
  /** The request as the adapters and the retry see it (URL of the issuing origin). */
  readonly retry: RetryRequest;
  readonly offers: readonly PaymentOffer[];
}

/** Pending mode: the purchase waits for a person; the caller gets this 202 response. */
export interface AwaitingApproval {
  readonly awaiting: Response;
}

/** A purchase whose proof is in hand (state `signed`), ready to be sent. */
export interface Bought {
  readonly hands: Hands & { proof: Proof; proofHeaders: Readonly<Record<string, string>> };
  readonly record: PurchaseRecord;
}

/**
 * Decides, opens, and pays. Throws a typed error, already booked and reported, when nothing
 * may or can be paid. In pending approval mode it may instead return the synthetic 202.
 */
export async function purchase(
  core: Core,
  request: PurchaseRequest,
): Promise<Bought | AwaitingApproval> {
  const { call, retry } = request;
  const url = redactUrl(retry.url);
  checkTransport(core, call, retry, url);

  // Payees are what the wallets verified (an invoice's signing key), never a seller's claim.
  const verified = core.wallets.some((wallet) => wallet.payeeOf)
    ? await verifyPayees(request.offers, core.wallets)
    : { offers: request.offers, refused: [] };
  if (verified.offers.length === 0) {
    throw reported(
      core,
      url,
      new PolicyDeniedError({
        reason: 'payee_unverified',
        message: `No offer's payee could be verified, so nothing was paid: ${verified.refused.map((refusal) => refusal.reason).join('; ')}`,
        offers: [],
        url,
      }),
    );
  }
  const chosen = new Map<string, Wallet>();
  const decided = await decideOrResume(core, { ...request, offers: verified.offers }, chosen, url);
  if ('awaiting' in decided) return decided;
  const decision = decided;
  const offer = decision.offer;
  const wallet = chosen.get(offer.id);
  const adapter = core.adapters.find((candidate) => candidate.protocol === offer.protocol);
  if (!wallet || !adapter) {
    await core.engine.release(decision);
    throw reported(
      core,
      url,
      new PolicyDeniedError({
        reason: 'no_wallet',
        message: `No wallet pays ${railOf(offer)} for the approved offer; add a wallet whose rails include it.`,
        offers: [],
        url,
      }),
    );
  }

  // The purchase is journaled (atomically, across every process sharing the journal) and its
  // pending spend record written before any money can move.
  const record = await open(core, call, decision, wallet, url);
  const hands: Hands = { id: record.id, decision, wallet, offer, adapter, retry };
  core.shared.hands.set(record.id, hands);
  core.emitter.emit('decision', {
    url,
    offer: summarizeOffer(offer),
    usdMicros: decision.usdMicros,
    approved: decision.approved,
    walletId: wallet.id,
  });
  return pay(core, call, hands, record, url);
}

function checkTransport(core: Core, call: Call, retry: RetryRequest, url: string): void {
  if (!mayPayOver(retry.url, core.allowHttp)) {
    throw reported(
      core,
      url,
      new RequestError(
        'INSECURE_TRANSPORT',
        `Refusing to pay over plain HTTP to ${retry.url.origin}. Use https, or set allowHttp (loopback is allowed by default).`,
        { origin: retry.url.origin },
      ),
    );
  }
  if (!call.prepared.replayable) {
    throw reported(
      core,
      url,
      new RequestError(
        'BODY_TOO_LARGE',
        `The request body is larger than maxBodyBytes (${core.maxBodyBytes}) and cannot be resent with a payment. Raise maxBodyBytes or send a Blob/ArrayBuffer body.`,
        { maxBodyBytes: core.maxBodyBytes },
      ),
    );
  }
}

/** A person's approval claimed for this purchase, or a fresh policy decision. */
async function decideOrResume(
  core: Core,
  request: PurchaseRequest,
  chosen: Map<string, Wallet>,
  url: string,
): Promise<Decision | AwaitingApproval> {
  const { call, retry, offers } = request;
  const pendingMode = core.approvals.mode === 'pending';
  if (pendingMode) {
    const { store } = core.approvals;
    const resumed = await resumeApproval(
      store,
      core.budget,
      call.key,
      offers,
      core.now(),
      call.tags,
    );
    if (resumed.kind === 'pending') return { awaiting: pendingResponse(resumed.approval) };
    if (resumed.kind === 'denied') {
      throw reported(
        core,
        url,
        new ApprovalError({
          reason: 'approval_denied',
          message: `A person denied this payment (approval ${resumed.approval.id}); nothing was paid.`,
          details: { approvalId: resumed.approval.id },
        }),
      );
    }
    if (resumed.kind === 'approved') {
      const decision = resumed.decision;
      // This caller's own rules still apply (a per-call cap, a narrower child); and a wallet
      // must still take the offer. Only then is the approval claimed: approved → used, once.
      const [evaluation] = await core.engine.evaluate([decision.offer], {
        url: retry.url,
        tags: call.tags,
        override: call.override,
      });
      const payable = evaluation?.ok ? await findWallet(core, decision.offer, chosen) : false;
      if (payable === true && (await store.transition(resumed.approval.id, 'approved', 'used')))
        return decision;
      chosen.delete(decision.offer.id);
      // Claimed by another call, or not this caller's to pay: decide afresh below.
    }
  }
  let decision: Decision;
  try {
    decision = await core.engine.decide(offers, {
      url: retry.url,
      method: retry.method,
      tags: call.tags,
      override: call.override,
      reservationId: uniqueId('r_'),
      canPay: (offer) => findWallet(core, offer, chosen, offers.length),
      signal: call.prepared.init.signal ?? undefined,
      deferApproval: pendingMode,
    });
  } catch (error) {
    throw reported(core, url, asStipendError(error));
  }
  if (decision.pendingApproval) {
    const approval = await deferApproval(
      core.approvals.store,
      decision,
      call.key,
      core.now(),
      core.approvals.ttlMs,
    );
    return { awaiting: pendingResponse(approval) };
  }
  return decision;
}

/** Opens the purchase in the journal and writes its pending spend record. */
async function open(
  core: Core,
  call: Call,
  decision: Decision,
  wallet: Wallet,
  url: string,
): Promise<PurchaseRecord> {
  const offer = decision.offer;
  const time = core.now();
  const record: PurchaseRecord = {
    id: uniqueId('s_'),
    key: call.key,
    exclusive: call.exclusive,
    state: 'decided',
    booked: true,
    reservationId: decision.reservation.id,
    walletId: wallet.id,
    offerId: offer.id,
    protocol: offer.protocol,
    scheme: offer.scheme,
    origin: offer.origin,
    resource: redactUrl(offer.resource),
    payee: offer.payee,
    ...(offer.network ? { network: offer.network } : {}),
    ...(offer.asset ? { asset: offer.asset } : {}),
    amount: { value: offer.amount.value.toString(), unit: unitKey(offer.amount.unit) },
    owner: core.shared.owner,
    createdAt: time,
    updatedAt: time,
  };
  let opened: Awaited<ReturnType<typeof core.shared.journal.open>>;
  try {
    opened = await core.shared.journal.open(record);
  } catch (error) {
    await core.engine.release(decision).catch(() => {});
    throw reported(core, url, asStipendError(error));
  }
  if (!opened.ok) {
    // Another process opened this key first (the in-process lock covers this one).
    await core.engine.release(decision).catch(() => {});
    throw reported(core, url, blockedError(opened.blocking));
  }
  try {
    await core.ledger.append({
      id: record.id,
      purchaseKey: call.key,
      reservationId: decision.reservation.id,
      protocol: offer.protocol,
      scheme: offer.scheme,
      method: call.prepared.method,
      origin: offer.origin,
      resource: record.resource,
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
      tags: call.tags,
      createdAt: time,
      updatedAt: time,
    });
  } catch (error) {
    // Nothing was signed: the purchase is void.
    await core.shared.journal.transition(record.id, ['decided'], 'void', {}, core.now());
    await core.engine.release(decision).catch(() => {});
    throw reported(core, url, asStipendError(error));
  }
  return record;
}

/** The wallet pays under a deadline; a late answer is booked, never dropped. */
async function pay(
  core: Core,
  call: Call,
  hands: Hands,
  record: PurchaseRecord,
  url: string,
): Promise<Bought> {
  const { offer, wallet, decision, retry } = hands;
  const context: PayContext = {
    request: { method: retry.method, url },
    idempotencyKey: retry.idempotencyKey,
    maxAuthorizationTtlSec: decision.maxAuthorizationTtlSec,
    reservationId: decision.reservation.id,
    now: core.now(),
  };
  let reference: string | undefined;
  try {
    reference = wallet.referenceFor?.(offer, context);
  } catch {
    reference = undefined;
  }
  const authorizing = await move(core, record.id, ['decided'], 'authorizing', {
    patch: reference ? { reference } : {},
  });
  if (!authorizing) throw moved(core, record, url);

  // The wallet gets a signal that aborts at its deadline or when the caller gives up (made
  // only if the wallet reads it); the call stops waiting then, and whatever the wallet answers
  // later is still booked.
  const callerSignal = call.prepared.init.signal ?? undefined;
  let paying: Promise<Proof> = Promise.reject(new Error('not started'));
  paying.catch(() => {});
  let proof: Proof;
  try {
    proof = await withDeadline(
      (scope) => {
        const withSignal: PayContext = {
          request: context.request,
          idempotencyKey: context.idempotencyKey,
          maxAuthorizationTtlSec: context.maxAuthorizationTtlSec,
          reservationId: context.reservationId,
          now: context.now,
          get signal() {
            return scope.signal;
          },
        };
        paying = Promise.resolve().then(() => wallet.pay(offer, withSignal));
        paying.catch(() => {});
        return paying;
      },
      core.payTimeoutMs,
      `Wallet ${wallet.id}`,
      callerSignal,
    );
    if (proof.offerId !== offer.id) {
      throw Object.assign(new Error(`Wallet ${wallet.id} returned a proof for another offer.`), {
        paid: 'unknown',
      });
    }
  } catch (error) {
    // Stopped waiting (deadline or the caller's abort) while the wallet may still be paying.
    const stoppedWaiting = isDeadlineError(error) || callerSignal?.aborted === true;
    const reported = isDeadlineError(error)
      ? new StipendError(
          'TIMEOUT',
          `Wallet ${wallet.id} did not answer within ${core.payTimeoutMs} ms; raise payTimeoutMs.`,
          { details: { timeoutMs: core.payTimeoutMs }, cause: error },
        )
      : error;
    throw await walletFailed(core, hands, authorizing, reported, url, paying, stoppedWaiting);
  }

  const signed = await move(core, record.id, ['authorizing'], 'signed', {
    patch: {
      reference: proof.reference,
      settlement: proof.settlement,
      ...(proof.validUntil !== undefined ? { liveUntil: proof.validUntil } : {}),
    },
  });
  if (!signed) throw moved(core, record, url);
  hands.proof = proof;
  if (core.emitter.has('payment'))
    core.emitter.emit('payment', { url, record: await recordOf(core, record.id) });
  let proofHeaders: Readonly<Record<string, string>>;
  try {
    proofHeaders = hands.adapter.proofHeaders(offer, proof, retry);
  } catch (error) {
    // The proof never left this process: an authorization that was not sent moved nothing;
    // a final payment did move money (paid, not delivered: kept for resuming).
    const failure = { code: 'PROOF_UNUSABLE', message: errorText(error) };
    const final = proof.settlement === 'final';
    await move(core, record.id, ['signed'], final ? 'paid' : 'void', {
      ledger: { outcome: 'rejected', failure },
      ...(final ? { actual: proof.paid, fee: proof.fee } : {}),
    });
    throw reported(
      core,
      url,
      new PaymentFailedError({
        code: 'PROOF_UNUSABLE',
        reason: 'proof_unusable',
        paid: final,
        message: `The ${offer.protocol} adapter could not build the proof headers: ${failure.message}`,
        resume: resumeOf(signed),
        cause: error,
      }),
    );
  }
  hands.proofHeaders = proofHeaders;
  return { hands: hands as Bought['hands'], record: signed };
}

/** Books a wallet failure by what it says about money, and returns the error to throw. */
async function walletFailed(
  core: Core,
  hands: Hands,
  record: PurchaseRecord,
  error: unknown,
  url: string,
  paying: Promise<Proof>,
  stoppedWaiting: boolean,
): Promise<StipendError> {
  const paid: boolean | 'unknown' = stoppedWaiting ? 'unknown' : paidOf(error);
  const failure = {
    code: isStipendError(error) ? error.code : 'WALLET_ERROR',
    message: errorText(error),
  };
  const reference = referenceOf(error) ?? record.reference;
  if (paid === 'unknown') {
    const held = await move(core, record.id, ['authorizing'], 'unknown', {
      patch: reference ? { reference } : {},
      ledger: {
        outcome: 'unknown',
        failure: { code: 'OUTCOME_UNKNOWN', message: failure.message },
      },
    });
    if (stoppedWaiting) bookLate(core, hands, paying);
    return reported(
      core,
      url,
      new PaymentFailedError({
        code: 'OUTCOME_UNKNOWN',
        reason: 'outcome_unknown',
        paid: 'unknown',
        message: `The payment outcome is unknown (${failure.message}). The budget stays reserved; the rail is asked (payingFetch.reconcile()) before this purchase is paid again.`,
        resume: resumeOf(held ?? record),
        cause: error,
      }),
    );
  }
  await move(core, record.id, ['authorizing'], paid ? 'paid' : 'void', {
    ledger: { outcome: 'wallet_failed', failure },
  });
  return reported(
    core,
    url,
    new PaymentFailedError({
      code: 'WALLET_FAILED',
      reason: 'wallet_failed',
      paid,
      message: `Wallet ${hands.wallet.id} could not pay: ${failure.message}`,
      resume: resumeOf({ ...record, ...(reference ? { reference } : {}) }),
      cause: error,
    }),
  );
}

/**
 * A wallet that answers after its deadline is booked when it does: a final payment becomes
 * `paid` (its proof kept, so the purchase can still be delivered), an authorization that never
 * left this process is `void`, a failure is `void` unless it says money moved.
 */
function bookLate(core: Core, hands: Hands, paying: Promise<Proof>): void {
  paying.then(
    async (proof) => {
      if (proof.offerId !== hands.offer.id) return;
      hands.proof = proof;
      const final = proof.settlement === 'final';
      if (final) {
        try {
          hands.proofHeaders = hands.adapter.proofHeaders(hands.offer, proof, hands.retry);
        } catch {
          // Without headers the purchase stays paid, not delivered; resumable by the rail.
        }
      }
      await move(core, hands.id, ['unknown'], final ? 'paid' : 'void', {
        patch: { reference: proof.reference, settlement: proof.settlement },
        ledger: { outcome: final ? 'unknown' : 'wallet_failed' },
        ...(final ? { actual: proof.paid, fee: proof.fee } : {}),
      }).catch(() => {});
    },
    async (error) => {
      const paid = paidOf(error);
      if (paid === 'unknown') return;
      await move(core, hands.id, ['unknown'], paid ? 'paid' : 'void', {
        ledger: {
          outcome: 'wallet_failed',
          failure: {
            code: isStipendError(error) ? error.code : 'WALLET_ERROR',
            message: errorText(error),
          },
        },
      }).catch(() => {});
    },
  );
}

/** What a wallet's error says about money, read by shape (works across package copies). */
function paidOf(error: unknown): boolean | 'unknown' {
  return walletFailureFacts(error).paid;
}

function referenceOf(error: unknown): string | undefined {
  return walletFailureFacts(error).reference;
}

/** Another path moved the purchase under us: a bug or a crashed store; never pay on. */
function moved(core: Core, record: PurchaseRecord, url: string): StipendError {
  return reported(
    core,
    url,
    new PaymentFailedError({
      code: 'PURCHASE_CONFLICT',
      reason: 'purchase_conflict',
      paid: 'unknown',
      message: `Purchase ${record.id} was moved by another caller; nothing more is paid for it. Inspect payingFetch.purchases.list().`,
      resume: resumeOf(record),
    }),
  );
}

/**
 * The wallet that pays the offer: the first whose rails and `canPay` accept it and that is not
 * provably short of funds (`Wallet.balance`); or why none does.
 */
export async function findWallet(
  core: Core,
  offer: PaymentOffer,
  chosen: Map<string, Wallet>,
  offers = 2,
): Promise<true | string> {
  // Balances matter only when there is a choice to make: another offer to fall back to, or
  // another wallet for this rail.
  const rail = railOf(offer);
  const balances = offers > 1 || core.wallets.filter((w) => w.rails.includes(rail)).length > 1;
  const found = await chooseWallet(core.wallets, offer, { balances });
  if (!found.wallet) return found.reason;
  chosen.set(offer.id, found.wallet);
  return true;
}
