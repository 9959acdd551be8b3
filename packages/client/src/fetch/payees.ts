/**
 * Payees from what is verified, never from what a server claims (invariant 8).
 *
 * A Lightning invoice names its payee only through its signature (the `n` tag, when present,
 * is a claim the signature must match). The client carries no secp256k1, so a wallet that
 * can check the signature (`Wallet.payeeOf`, e.g. `lightningWallet`) tells the core who
 * would really be paid; the policy's payee allow and deny lists then apply to that key.
 *
 * @module
 */
import { freezeOffer, type PaymentOffer, railOf } from '../offer.js';
import type { Wallet } from '../wallet/wallet.js';

/** Offers whose `payee` a wallet verified. Module-level: an offer is frozen, so it stays true. */
const verified = new WeakSet<PaymentOffer>();

/** An offer left out because its payee could not be verified, and why. */
export interface PayeeRefusal {
  readonly offerId: string;
  /** Secret-free: the wallet's own words. */
  readonly reason: string;
}

/** What {@link verifyPayees} returns. */
export interface VerifiedPayees {
  /**
   * The offers, in the order given: verified ones replaced by a frozen copy (same `id`)
   * whose `payee` is the verified one; offers of rails no wallet verifies, unchanged;
   * offers whose payee could not be verified, left out.
   */
  readonly offers: readonly PaymentOffer[];
  /** The offers left out, with the reason each gave. */
  readonly refused: readonly PayeeRefusal[];
}

/**
 * Asks the wallets who each offer really pays. For each offer, the first wallet whose
 * `rails` include the offer's rail and that has `payeeOf` verifies it: the offer is replaced
 * by a frozen copy with that payee, marked verified (see {@link isPayeeVerified}). When
 * `payeeOf` throws, the offer is left out and its reason returned in `refused`. Offers of
 * rails no wallet verifies pass unchanged (and unverified). Call it right before the policy
 * decides, so payee lists apply to verified payees.
 *
 * @example
 * ```ts
 * import { isPayeeVerified, verifyPayees } from './payees.js';
 *
 * const { offers, refused } = await verifyPayees(parsedOffers, wallets);
 * offers.filter(isPayeeVerified); // payees recovered from invoice signatures
 * ```
 */
export async function verifyPayees(
  offers: readonly PaymentOffer[],
  wallets: readonly Wallet[],
): Promise<VerifiedPayees> {
  type Result = { readonly offer: PaymentOffer } | { readonly refusal: PayeeRefusal };
  const results = await Promise.all(
    offers.map(async (offer): Promise<Result> => {
      if (verified.has(offer)) return { offer };
      const rail = railOf(offer);
      const wallet = wallets.find((w) => w.rails.includes(rail) && typeof w.payeeOf === 'function');
      if (!wallet) return { offer };
      let payee: unknown;
      try {
        payee = await wallet.payeeOf!(offer);
      } catch (error) {
        return { refusal: { offerId: offer.id, reason: reasonOf(wallet, error) } };
      }
      if (typeof payee !== 'string' || payee.length === 0) {
        const reason = `wallet ${wallet.id} gave no payee for it (payeeOf must return the verified payee as a string)`;
        return { refusal: { offerId: offer.id, reason } };
      }
      const copy = payee === offer.payee ? offer : freezeOffer({ ...offer, payee });
      verified.add(copy);
      return { offer: copy };
    }),
  );
  const kept: PaymentOffer[] = [];
  const refused: PayeeRefusal[] = [];
  for (const result of results) {
    if ('offer' in result) kept.push(result.offer);
    else refused.push(result.refusal);
  }
  return { offers: kept, refused };
}

/**
 * Whether a wallet verified this offer's payee (it came out of {@link verifyPayees}). Payee
 * allow and deny lists refuse Lightning offers whose payee is not verified.
 *
 * @example
 * ```ts
 * import { isPayeeVerified } from './payees.js';
 * if (!isPayeeVerified(offer)) console.warn(`${offer.payee} is only what the server claims`);
 * ```
 */
export function isPayeeVerified(offer: PaymentOffer): boolean {
  return verified.has(offer);
}

function reasonOf(wallet: Wallet, error: unknown): string {
  const text =
    (error as { shortMessage?: unknown } | null)?.shortMessage ?? (error as Error | null)?.message;
  const said = typeof text === 'string' && text.length > 0 ? text.slice(0, 300) : String(error);
  return `its payee could not be verified by wallet ${wallet.id}: ${said}`;
}
