/**
 * Before a key is bought again: what did earlier purchases of it leave? An unknown outcome is
 * asked of the rail; a live authorization of an idempotency key blocks a second one; a
 * purchase the rail confirms as paid is delivered with its stored proof instead of being
 * bought again; an idempotency key already delivered is never paid again.
 *
 * @module
 */
import type { StipendError } from '../errors/base.js';
import { PaymentFailedError } from '../errors/payment.js';
import type { PaymentOffer } from '../offer.js';
import type { PurchaseRecord } from '../purchase/journal.js';
import { openConflict } from '../purchase/journal.js';
import type { PaymentStatus, Wallet } from '../wallet/wallet.js';
import { move, resumeOf } from './book.js';
import type { Core, Hands } from './core.js';
import type { Bought, Call } from './purchase.js';

/** The error for a purchase that blocks a new one of the same key. */
export function blockedError(blocking: PurchaseRecord): StipendError {
  const resume = resumeOf(blocking);
  switch (blocking.state) {
    case 'delivered':
    case 'paid':
      return new PaymentFailedError({
        code: 'ALREADY_PAID',
        reason: 'already_paid',
        paid: true,
        message:
          blocking.state === 'delivered'
            ? `The purchase with idempotency key "${blocking.key}" was already paid and delivered; it is not paid again. Use a new key for a new purchase.`
            : `The purchase "${blocking.key}" was paid but its resource could not be delivered here (the proof is not held by this process). It is not paid again; see payingFetch.purchases.list() and resolve it with payingFetch.reconcile({ resolve: { id: "${blocking.id}", as: "delivered" } }) once settled with the seller.`,
        resume,
      });
    case 'live':
      return new PaymentFailedError({
        code: 'AUTHORIZATION_LIVE',
        reason: 'authorization_live',
        paid: 'unknown',
        message: `The seller refused the payment for "${blocking.key}" but still holds a valid authorization${blocking.liveUntil ? ` until ${new Date(blocking.liveUntil).toISOString()}` : ''}; a second one is not signed. Call again after that time (payingFetch.reconcile() then releases it if unused).`,
        resume,
      });
    case 'unknown':
      return new PaymentFailedError({
        code: 'OUTCOME_UNKNOWN',
        reason: 'outcome_unknown',
        paid: 'unknown',
        message: `An earlier payment for "${blocking.key}" has an unknown outcome that the wallet cannot settle yet; nothing new is paid. Run payingFetch.reconcile() (or \`stipend reconcile\`), or resolve it by hand with payingFetch.reconcile({ resolve: { id: "${blocking.id}", as: "paid" | "void" } }).`,
        resume,
      });
    default:
      return new PaymentFailedError({
        code: 'PURCHASE_IN_PROGRESS',
        reason: 'purchase_in_progress',
        paid: 'unknown',
        message: `A purchase for "${blocking.key}" is under way (state ${blocking.state}, opened by ${blocking.owner}); this call pays nothing. Call again once it ends.`,
        resume,
      });
  }
}

/**
 * Asks the rail about a purchase whose money may be moving (`unknown`, an expired `live`, or
 * an orphan left by a crash) and moves it by the answer. Returns the record after the move.
 */
export async function askRail(core: Core, record: PurchaseRecord): Promise<PurchaseRecord> {
  const hands = core.shared.hands.get(record.id);
  const wallet =
    hands?.wallet ?? core.wallets.find((candidate) => candidate.id === record.walletId);
  const offer = hands?.offer ?? offerOf(record);
  let status: PaymentStatus = 'pending';
  if (wallet?.lookup && record.reference) {
    try {
      status = await wallet.lookup(record.reference, offer);
    } catch {
      status = 'pending';
    }
  }
  const from = [record.state];
  if (status === 'paid') {
    const proof = hands?.proof;
    return (
      (await move(core, record.id, from, 'paid', {
        ...(proof ? { actual: proof.paid, fee: proof.fee } : {}),
      })) ?? record
    );
  }
  // `failed` means provably did not and cannot move (the wallet contract): void.
  if (status === 'failed') return (await move(core, record.id, from, 'void')) ?? record;
  if (record.settlement !== 'final' && record.reference && wallet?.void) {
    // The wallet voids only what provably can no longer move money (a revoked token).
    let voided = false;
    try {
      voided = await wallet.void(record.reference, offer);
    } catch {
      voided = false;
    }
    if (voided) return (await move(core, record.id, from, 'void')) ?? record;
  }
  return record;
}

/** A stand-in offer for a rail lookup after a restart (only what the journal knows). */
function offerOf(record: PurchaseRecord): PaymentOffer {
  return Object.freeze({
    id: record.offerId,
    protocol: record.protocol,
    scheme: record.scheme,
    amount: {
      value: BigInt(record.amount.value),
      unit: { kind: 'unknown', key: record.amount.unit },
    },
    payee: record.payee,
    ...(record.network ? { network: record.network } : {}),
    ...(record.asset ? { asset: record.asset } : {}),
    origin: record.origin,
    resource: record.resource,
    reusable: false,
    raw: undefined,
  }) as unknown as PaymentOffer;
}

/** The wallet that paid a record, if this paying fetch has it. */
export function walletOf(core: Core, record: PurchaseRecord): Wallet | undefined {
  return (
    core.shared.hands.get(record.id)?.wallet ??
    core.wallets.find((candidate) => candidate.id === record.walletId)
  );
}

/**
 * Settles what earlier purchases of the call's key left, before anything new is bought.
 * Returns the response when an earlier purchase, paid but not delivered, was delivered now
 * with its stored (or recovered) proof; throws the typed error of a purchase in the way;
 * `undefined` when a new purchase may open.
 */
export async function settlePrior(
  core: Core,
  call: Call,
  deliver: (bought: Bought) => Promise<Response>,
): Promise<Response | undefined> {
  const records = await core.shared.journal.byKey(call.key);
  for (let index = records.length - 1; index >= 0; index--) {
    let record = records[index]!;
    const expired = record.liveUntil !== undefined && core.now() > record.liveUntil;
    if (record.state === 'unknown' || (record.state === 'live' && (expired || call.exclusive)))
      record = await askRail(core, record);
    if (record.state === 'paid') {
      const hands = core.shared.hands.get(record.id);
      if (hands && (await withProof(hands, record))) {
        return deliver({ hands: hands as Bought['hands'], record });
      }
      // Paid and not deliverable here: never bought again; a person resolves it.
      throw blockedError(record);
    }
    const blocking = openConflict([record], call.exclusive);
    if (blocking) throw blockedError(blocking);
  }
  return undefined;
}

/**
 * Makes sure the hands hold a proof that can be sent again, asking the rail for it if needed.
 * Only a final payment's proof (a preimage: a bearer credential) can deliver twice; an
 * authorization the seller already settled would be refused as replayed.
 */
async function withProof(hands: Hands, record: PurchaseRecord): Promise<boolean> {
  if (record.settlement === 'authorization' || hands.proof?.settlement === 'authorization')
    return false;
  if (!hands.proof && record.reference && hands.wallet.recover) {
    try {
      const proof = await hands.wallet.recover(record.reference, hands.offer);
      if (proof && proof.offerId === hands.offer.id) hands.proof = proof;
    } catch {
      return false;
    }
  }
  if (!hands.proof) return false;
  if (!hands.proofHeaders) {
    try {
      hands.proofHeaders = hands.adapter.proofHeaders(hands.offer, hands.proof, hands.retry);
    } catch {
      return false;
    }
  }
  return true;
}
