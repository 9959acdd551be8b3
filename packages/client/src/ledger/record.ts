/**
 * Spend records: one per payment attempt, written *before* the wallet pays and updated as
 * the attempt resolves, so that nothing paid is ever missing from the ledger.
 *
 * @module
 */
import type { Amount } from '../money/unit.js';
import type { Protocol } from '../offer.js';

/**
 * Where a payment attempt stands.
 * - `pending`: approved and reserved; the wallet is paying (or the process died here).
 * - `committed`: money moved; the cost counts against the budget.
 * - `released`: provably no money moved; the reservation was given back.
 * - `held`: the outcome is unknown; the reservation stays until the rail is asked.
 */
export type SpendStatus = 'pending' | 'committed' | 'released' | 'held';

/** One payment attempt. Secret-free by construction: it holds references, never proofs. */
export interface SpendRecord {
  readonly id: string;
  /** The purchase's idempotency key. */
  readonly purchaseKey: string;
  readonly reservationId: string;
  readonly protocol: Protocol;
  readonly scheme: string;
  readonly method: string;
  readonly origin: string;
  readonly resource: string;
  readonly payee: string;
  readonly network?: string;
  readonly offerId: string;
  /** The offered amount (the maximum for `upto`). */
  readonly amount: Amount;
  /** Reserved cost incl. maximum fee, USD micro-units. */
  readonly reservedUsdMicros: bigint;
  /** Committed cost, once committed. */
  readonly committedUsdMicros?: bigint;
  /** The price used: USD micro-units = ceil(value × numerator / denominator). */
  readonly rate: {
    readonly numerator: bigint;
    readonly denominator: bigint;
    readonly source: string;
    readonly asOf: number;
  };
  readonly walletId: string;
  /** Secret-free payment reference from the wallet. */
  readonly reference?: string;
  /** Secret-free receipt reference from the server. */
  readonly receiptReference?: string;
  readonly status: SpendStatus;
  /** How the paid request ended, once known. */
  readonly outcome?: 'accepted' | 'rejected' | 'wallet_failed' | 'unknown';
  /** Why it was rejected or failed (a code and a short secret-free message). */
  readonly failure?: { readonly code: string; readonly message: string };
  readonly tags: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Where spend records go. The core appends before paying and updates as it learns more. */
export interface Ledger {
  append(record: SpendRecord): void | Promise<void>;
  update(id: string, patch: Partial<SpendRecord>): void | Promise<void>;
  /** Records, oldest first. */
  list(): readonly SpendRecord[] | Promise<readonly SpendRecord[]>;
  /** One record by id (optional: the core falls back to `list()`). */
  get?(id: string): SpendRecord | undefined | Promise<SpendRecord | undefined>;
}
