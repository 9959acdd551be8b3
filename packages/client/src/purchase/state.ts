/**
 * The purchase lifecycle's states and the only transitions between them.
 *
 * One purchase = one logical thing bought (a caller's idempotency key, or one call). Each
 * state says where the money is; each transition is caused by a fact the client holds itself
 * (what it signed, what it sent, what the rail says on lookup, the clock against an
 * authorization's expiry), never by the seller's description of what happened.
 *
 * ```
 * decided ─claim─▶ authorizing ─wallet answers─▶ signed ─send─▶ sent ─2xx─▶ delivered
 *    │                 │   │                       │              ├─refused─▶ live ─expired / voided─▶ void
 *    └─refused─▶ void ◀┘   └─timeout─▶ unknown     └─unusable─▶ void (authorization never left)
 *                                        │                        └────────▶ paid (final money moved)
 *                                        └─lookup─▶ paid | void | live
 * paid ─stored proof sent, 2xx─▶ delivered
 * ```
 *
 * Budget per state: `decided` … `sent`, `live`, `unknown` hold the reservation; `paid` and
 * `delivered` commit it; `void` releases it. `booked` on a record says the budget store has
 * caught up with the state (a store failure after money moved leaves `booked: false`, and
 * reconciliation books it later; the state already tells the truth).
 *
 * @module
 */

/** Where one purchase stands. */
export type PurchaseState =
  /** Budget reserved (or an approval claimed) and the spend record written; nothing signed. */
  | 'decided'
  /** The wallet was asked to pay or sign: from here money may move. */
  | 'authorizing'
  /** The wallet answered with a proof that has not left this process yet. */
  | 'signed'
  /** The proof was sent to the seller; its answer is awaited. */
  | 'sent'
  /** The seller accepted the proof and the caller got the resource. Final. */
  | 'delivered'
  /** The seller refused, but the authorization it holds can still move money until `liveUntil`. */
  | 'live'
  /** Money may have moved and nobody knows yet: the rail is asked before anything else. */
  | 'unknown'
  /** Money moved (the wallet or the rail says so) and the resource was not delivered yet. */
  | 'paid'
  /** Provably no money moved and none can: the reservation is released. Final. */
  | 'void';

/** Every transition the lifecycle allows. Anything else is a bug and throws. */
export const TRANSITIONS: Readonly<Record<PurchaseState, readonly PurchaseState[]>> = {
  decided: ['authorizing', 'void'],
  authorizing: ['signed', 'unknown', 'paid', 'void'],
  signed: ['sent', 'paid', 'void', 'unknown'],
  sent: ['delivered', 'live', 'unknown', 'paid', 'void'],
  live: ['void', 'paid', 'unknown'],
  unknown: ['paid', 'void', 'live'],
  paid: ['delivered'],
  delivered: [],
  void: [],
};

/** States in which money may still move: the reservation must stay held. */
export const MONEY_IN_FLIGHT: ReadonlySet<PurchaseState> = new Set([
  'authorizing',
  'signed',
  'sent',
  'live',
  'unknown',
]);

/** States whose money counts as spent (committed). */
export const MONEY_SPENT: ReadonlySet<PurchaseState> = new Set(['paid', 'delivered']);

/** States that end a purchase. */
export const FINAL: ReadonlySet<PurchaseState> = new Set(['delivered', 'void']);

/**
 * Whether the lifecycle allows `from → to` (a state may also be patched in place).
 *
 * @example
 * ```ts
 * import { canMove } from '@stipend/client';
 * canMove('sent', 'live'); // true
 * canMove('live', 'decided'); // false
 * ```
 */
export function canMove(from: PurchaseState, to: PurchaseState): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}
