/**
 * One purchase: the checks that come before any money (transport, replayable body, earlier
 * unknown outcomes), the policy decision, the pending ledger record, the wallet's payment
 * and the proof headers.
 *
 * @module
 */

import { deferApproval, pendingResponse, resumeApproval } from '../approvals/pending.js';
import { isStipendError } from '../errors/base.js';
import { PaymentFailedError } from '../errors/payment.js';
import { ApprovalError, PolicyDeniedError } from '../errors/policy.js';
import { RequestError } from '../errors/request.js';
import { WalletError } from '../errors/wallet.js';
import { randomId } from '../internal/ids.js';
import { summarizeOffer } from '../ledger/events.js';
import { type PaymentOffer, railOf } from '../offer.js';
import type { Decision } from '../policy/engine.js';
import type { Rule } from '../policy/types.js';
import type { RetryRequest } from '../protocols/adapter.js';
import type { Proof, Wallet } from '../wallet/wallet.js';
import type { PreparedRequest } from './body.js';
import { commitPayment, holdPayment, recordOf, releasePayment, resumeOf } from './book.js';
import { asStipendError, type Core, errorText, type HeldPayment, reported } from './core.js';
import { reconcileHeld } from './reconcile.js';
import { mayPayOver } from './transport.js';

/** What a purchase is for. */
export interface PurchaseRequest {
  readonly prepared: PreparedRequest;
  /** The request as the adapters and the retry see it (URL of the issuing origin). */
  readonly retry: RetryRequest;
  /**
   * What an unknown outcome and a pending approval are scoped to: the caller's idempotency key,
   * else `METHOD url` (conservative: a held outcome blocks new payments for that URL until
   * the rail answers). Wallets and adapters get `retry.idempotencyKey`, unique per call.
   */
  readonly purchaseKey: string;
  readonly offers: readonly PaymentOffer[];
  readonly tags: readonly string[];
  readonly override: Rule | undefined;
}

/** A paid (or signed) purchase, ready to be sent. */
export interface Purchase extends HeldPayment {
  readonly proof: Proof;
  readonly proofHeaders: Readonly<Record<string, string>>;
  readonly retry: RetryRequest;
}

/** Pending mode: the purchase waits for a person; the caller gets this 202 response. */
export interface AwaitingApproval {
  readonly awaiting: Response;
}

/**
 * Decides, books and pays. Throws a typed error, already booked and reported, when nothing
 * may or can be paid. In pending approval mode it may instead return the synthetic 202.
 */
export async function purchase(
  core: Core,
  request: PurchaseRequest,
): Promise<Purchase | AwaitingApproval> {
  const { prepared, retry } = request;
  const url = retry.url.href;
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
  if (!prepared.replayable) {
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
  await reconcileHeld(core, request.purchaseKey, url);

  const chosen = new Map<string, Wallet>();
  const pendingMode = core.approvals.mode === 'pending';
  let decision: Decision | undefined;
  let approvalId: string | undefined;
  if (pendingMode) {
    const { store } = core.approvals;
    const resumed = await resumeApproval(
      store,
      core.budget,
      request.purchaseKey,
      request.offers,
      core.now(),
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
      decision = resumed.decision;
      approvalId = resumed.approval.id;
      if ((await findWallet(core, decision.offer, chosen)) !== true)
        chosen.delete(decision.offer.id);
    }
  }
  if (!decision) {
    try {
      decision = await core.engine.decide(request.offers, {
        url: retry.url,
        method: retry.method,
        tags: request.tags,
        override: request.override,
        reservationId: randomId('r_'),
        canPay: (offer) => findWallet(core, offer, chosen),
        signal: prepared.init.signal ?? undefined,
        deferApproval: pendingMode,
      });
    } catch (error) {
      throw reported(core, url, asStipendError(error));
    }
    if (decision.pendingApproval) {
      const approval = await deferApproval(
        core.approvals.store,
        decision,
        request.purchaseKey,
        core.now(),
        core.approvals.ttlMs,
      );
      return { awaiting: pendingResponse(approval) };
    }
  }
  if (approvalId) await core.approvals.store.update(approvalId, { state: 'used' });
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
        message: 'No wallet was chosen for the approved offer.',
        offers: [],
        url,
      }),
    );
  }
  core.emitter.emit('decision', {
    url,
    offer: summarizeOffer(offer),
    usdMicros: decision.usdMicros,
    approved: decision.approved,
    walletId: wallet.id,
  });

  // The pending record exists before any money can move.
  const recordId = randomId('s_');
  const time = core.now();
  await core.ledger.append({
    id: recordId,
    purchaseKey: request.purchaseKey,
    reservationId: decision.reservation.id,
    protocol: offer.protocol,
    scheme: offer.scheme,
    method: retry.method,
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
    tags: request.tags,
    createdAt: time,
    updatedAt: time,
  });
  const booked: HeldPayment = {
    decision,
    wallet,
    offer,
    adapter,
    recordId,
    purchaseKey: request.purchaseKey,
  };

  let proof: Proof;
  try {
    proof = await withTimeout(
      wallet.pay(offer, {
        request: { method: retry.method, url },
        idempotencyKey: retry.idempotencyKey,
        maxAuthorizationTtlSec: decision.maxAuthorizationTtlSec,
        reservationId: decision.reservation.id,
        signal: prepared.init.signal ?? undefined,
        now: core.now(),
      }),
      core.payTimeoutMs,
    );
    if (proof.offerId !== offer.id) {
      throw new WalletError({
        walletId: wallet.id,
        message: `Wallet ${wallet.id} returned a proof for another offer.`,
        paid: 'unknown',
      });
    }
  } catch (error) {
    throw await walletFailed(core, booked, error, url);
  }

  await core.ledger.update(recordId, { reference: proof.reference, updatedAt: core.now() });
  const paid = { ...booked, reference: proof.reference };
  core.emitter.emit('payment', { url, record: await recordOf(core, recordId) });
  let proofHeaders: Readonly<Record<string, string>>;
  try {
    proofHeaders = adapter.proofHeaders(offer, proof, retry);
  } catch (error) {
    // The proof never left this process: an authorization that was not sent moved nothing;
    // a final payment did move money.
    const failure = { code: 'PROOF_UNUSABLE', message: errorText(error) };
    if (proof.settlement === 'final')
      await commitPayment(core, paid, undefined, { outcome: 'rejected', failure });
    else await releasePayment(core, paid, { outcome: 'rejected', failure });
    throw reported(
      core,
      url,
      new PaymentFailedError({
        code: 'PROOF_UNUSABLE',
        reason: 'proof_unusable',
        paid: proof.settlement === 'final',
        message: `The ${offer.protocol} adapter could not build the proof headers: ${failure.message}`,
        resume: resumeOf(paid),
        cause: error,
      }),
    );
  }
  return { ...paid, proof, proofHeaders, retry };
}

/** Books a wallet failure by what it says about money, and returns the error to throw. */
async function walletFailed(
  core: Core,
  payment: HeldPayment,
  error: unknown,
  url: string,
): Promise<PaymentFailedError> {
  const paid =
    error instanceof TimeoutError
      ? 'unknown'
      : error instanceof WalletError
        ? error.paid
        : isStipendError(error) && 'paid' in error
          ? (error as WalletError).paid
          : false;
  if (paid === 'unknown') {
    const reference = error instanceof WalletError ? error.reference : undefined;
    const known = reference ? { ...payment, reference } : payment;
    return holdUnknown(core, known, url, error);
  }
  const failure = {
    code: isStipendError(error) ? error.code : 'WALLET_ERROR',
    message: errorText(error),
  };
  if (paid === true)
    await commitPayment(core, payment, undefined, { outcome: 'wallet_failed', failure });
  else await releasePayment(core, payment, { outcome: 'wallet_failed', failure });
  return reported(
    core,
    url,
    new PaymentFailedError({
      code: 'WALLET_FAILED',
      reason: 'wallet_failed',
      paid,
      message: `Wallet ${payment.wallet.id} could not pay: ${failure.message}`,
      resume: resumeOf(payment),
      cause: error,
    }),
  ) as PaymentFailedError;
}

/** Holds a payment whose outcome is unknown and returns the error to throw. */
export async function holdUnknown(
  core: Core,
  payment: HeldPayment,
  url: string,
  cause: unknown,
): Promise<PaymentFailedError> {
  await holdPayment(core, payment, {
    outcome: 'unknown',
    failure: { code: 'OUTCOME_UNKNOWN', message: errorText(cause) },
    ...(payment.reference ? { reference: payment.reference } : {}),
  });
  return reported(
    core,
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
  ) as PaymentFailedError;
}

/** The first wallet whose rails and `canPay` accept the offer; or why none does. */
async function findWallet(
  core: Core,
  offer: PaymentOffer,
  chosen: Map<string, Wallet>,
): Promise<true | string> {
  const rail = railOf(offer);
  const reasons: string[] = [];
  for (const wallet of core.wallets) {
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
  return reasons.length > 0 ? reasons.join('; ') : `no wallet pays ${rail}`;
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
