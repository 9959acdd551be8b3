/**
 * Pending mode: instead of waiting for a person, the call answers a synthetic `202 Accepted`
 * that describes the approval; the reservation stays held; `approve(id)` / `deny(id)` decide;
 * the agent's next call for the same purchase (same idempotency key) pays if approved and the
 * terms are still offered, and asks again otherwise.
 *
 * @module
 */
import type { BudgetStore } from '../budget/store.js';
import { StipendError } from '../errors/base.js';
import { randomId } from '../internal/ids.js';
import { formatUsd } from '../money/decimal.js';
import { unitKey } from '../money/unit.js';
import type { PaymentOffer } from '../offer.js';
import type { Decision } from '../policy/engine.js';
import type { ApprovalStore, PendingApproval } from './store.js';

/** What an earlier pending approval says about a purchase. */
export type Resumed =
  | { readonly kind: 'none' }
  | { readonly kind: 'pending'; readonly approval: PendingApproval }
  | { readonly kind: 'denied'; readonly approval: PendingApproval }
  | { readonly kind: 'approved'; readonly approval: PendingApproval; readonly decision: Decision };

/**
 * Looks up the purchase's pending approval. An expired one, or an approved one whose terms are
 * no longer offered, releases its reservation and reads as `none` (ask again). An approval
 * asked under other tags (a parent's, another child's) is not this caller's: it reads as
 * `none` and is left alone, so a child never pays on an approval outside its own rules.
 * An approved one is returned unclaimed: the caller claims it (approved → used) atomically
 * before anything is signed.
 */
export async function resumeApproval(
  store: ApprovalStore,
  budget: BudgetStore,
  purchaseKey: string,
  offers: readonly PaymentOffer[],
  now: number,
  tags: readonly string[],
): Promise<Resumed> {
  const approval = await store.forPurchase(purchaseKey);
  if (!approval || approval.state === 'expired') return { kind: 'none' };
  if (!sameTags(approval.request.tags, tags)) return { kind: 'none' };
  if (approval.state === 'denied') {
    // Claimed like an approval: one caller learns of the denial, later ones ask again.
    if (!(await store.transition(approval.id, 'denied', 'used'))) return { kind: 'none' };
    return { kind: 'denied', approval };
  }
  if (now >= approval.expiresAt) {
    await expire(store, budget, approval);
    return { kind: 'none' };
  }
  if (approval.state === 'pending') return { kind: 'pending', approval };
  const offer = offers.find(
    (candidate) => sameTerms(candidate, approval) && (candidate.expiresAt ?? Infinity) > now,
  );
  const reservation = await budget.get(approval.reservationId);
  if (!offer || reservation?.state !== 'held') {
    await expire(store, budget, approval);
    return { kind: 'none' };
  }
  const decision: Decision = Object.freeze({
    offer,
    usdMicros: approval.usdMicros,
    rate: {
      usdMicrosPerUnitNumerator: approval.rate.numerator,
      denominator: approval.rate.denominator,
      source: approval.rate.source,
      asOf: approval.rate.asOf,
    },
    reservation,
    maxAuthorizationTtlSec: approval.maxAuthorizationTtlSec,
    approved: true,
    evaluations: [],
  });
  return { kind: 'approved', approval, decision };
}

/** Stores a new pending approval for a decision whose reservation is held. */
export async function deferApproval(
  store: ApprovalStore,
  decision: Decision,
  purchaseKey: string,
  now: number,
  ttlMs: number,
): Promise<PendingApproval> {
  const offer = decision.offer;
  const approval: PendingApproval = {
    id: randomId('a_'),
    purchaseKey,
    state: 'pending',
    request: decision.pendingApproval!,
    terms: {
      offerId: offer.id,
      protocol: offer.protocol,
      scheme: offer.scheme,
      amount: offer.amount.value.toString(),
      unit: unitKey(offer.amount.unit),
      payee: offer.payee,
    },
    reservationId: decision.reservation.id,
    usdMicros: decision.usdMicros,
    rate: {
      numerator: decision.rate.usdMicrosPerUnitNumerator,
      denominator: decision.rate.denominator,
      source: decision.rate.source,
      asOf: decision.rate.asOf,
    },
    maxAuthorizationTtlSec: decision.maxAuthorizationTtlSec,
    createdAt: now,
    expiresAt: Math.min(now + ttlMs, offer.expiresAt ?? Infinity, decision.reservation.expiresAt),
  };
  await store.put(approval);
  return approval;
}

/** The synthetic `202 Accepted` that tells the agent a person must approve first. */
export function pendingResponse(approval: PendingApproval): Response {
  const request = approval.request;
  const body = {
    approval: {
      id: approval.id,
      status: approval.state,
      amount: approval.terms.amount,
      unit: approval.terms.unit,
      usd: formatUsd(approval.usdMicros),
      payee: approval.terms.payee,
      protocol: approval.terms.protocol,
      origin: request.origin,
      resource: request.resource,
      expiresAt: new Date(approval.expiresAt).toISOString(),
    },
    message:
      'Payment awaits approval by a person. Call again with the same idempotency key once it is decided.',
  };
  return new Response(JSON.stringify(body), {
    status: 202,
    headers: {
      'content-type': 'application/json',
      'stipend-approval-id': approval.id,
      'stipend-approval-status': approval.state,
      'stipend-approval-expires': new Date(approval.expiresAt).toISOString(),
    },
  });
}

/** Decides a pending approval: `approve` keeps the reservation, `deny` releases it. */
export async function decideApproval(
  store: ApprovalStore,
  budget: BudgetStore,
  id: string,
  verdict: 'approved' | 'denied',
  now: number,
): Promise<PendingApproval> {
  const approval = await store.get(id);
  if (!approval)
    throw new StipendError(
      'APPROVAL_NOT_FOUND',
      `No pending approval ${id}; list them with payingFetch.approvals.list().`,
    );
  if (approval.state !== 'pending') {
    throw new StipendError(
      'APPROVAL_CONFLICT',
      `Approval ${id} is ${approval.state}, not pending; it cannot be ${verdict} now.`,
    );
  }
  if (now >= approval.expiresAt) {
    await expire(store, budget, approval);
    throw new StipendError(
      'APPROVAL_EXPIRED',
      `Approval ${id} expired at ${new Date(approval.expiresAt).toISOString()}; the agent will ask again.`,
    );
  }
  if (verdict === 'denied') await budget.release(approval.reservationId);
  await store.update(id, { state: verdict });
  return { ...approval, state: verdict };
}

/** Releases the reservation of every expired pending or approved approval. */
export async function expireApprovals(
  store: ApprovalStore,
  budget: BudgetStore,
  now: number,
): Promise<number> {
  let count = 0;
  for (const approval of await store.list()) {
    if (
      (approval.state === 'pending' || approval.state === 'approved') &&
      now >= approval.expiresAt
    ) {
      await expire(store, budget, approval);
      count++;
    }
  }
  return count;
}

async function expire(
  store: ApprovalStore,
  budget: BudgetStore,
  approval: PendingApproval,
): Promise<void> {
  const reservation = await budget.get(approval.reservationId);
  if (reservation?.state === 'held') await budget.release(approval.reservationId);
  await store.update(approval.id, { state: 'expired' });
}

function sameTerms(offer: PaymentOffer, approval: PendingApproval): boolean {
  const terms = approval.terms;
  return (
    offer.id === terms.offerId &&
    offer.protocol === terms.protocol &&
    offer.scheme === terms.scheme &&
    offer.amount.value.toString() === terms.amount &&
    unitKey(offer.amount.unit) === terms.unit &&
    offer.payee === terms.payee
  );
}

function sameTags(asked: readonly string[] | undefined, tags: readonly string[]): boolean {
  const a = new Set(asked ?? []);
  const b = new Set(tags);
  if (a.size !== b.size) return false;
  for (const tag of a) if (!b.has(tag)) return false;
  return true;
}
