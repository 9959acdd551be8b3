/**
 * The budget store contract: atomic reservations across every scope a payment touches.
 *
 * Amounts are USD micro-units (1e-6 USD) as bigint. A payment first *reserves* its worst-case
 * cost in every applicable limit at once (all or nothing), then *commits* the actual cost or
 * *releases* the reservation. A reservation whose outcome is unknown stays held until
 * reconciliation decides it.
 *
 * @module
 */

/** A budget window. */
export type BudgetWindow =
  /** The last `ms` milliseconds, sliding. */
  | { readonly kind: 'rolling'; readonly ms: number }
  /** A UTC calendar period: the current day, ISO week (Monday first) or month. */
  | { readonly kind: 'calendar'; readonly unit: 'day' | 'week' | 'month' }
  /** Forever (a lifetime cap). */
  | { readonly kind: 'total' };

/** One limit a reservation must fit in. */
export interface BudgetLimit {
  /** What the limit counts: `global`, `host:<pattern>`, `tag:<name>`, or any id. */
  readonly scope: string;
  readonly window: BudgetWindow;
  /** The most that may be reserved + committed in the window, in USD micro-units. */
  readonly maxUsdMicros?: bigint;
  /** The most payments (reservations not released) in the window. */
  readonly maxCount?: number;
}

/** A reservation request. */
export interface ReserveRequest {
  /** Unique id chosen by the caller (used for commit/release; idempotent). */
  readonly id: string;
  /** Every limit this payment touches; all must fit or nothing is reserved. */
  readonly limits: readonly BudgetLimit[];
  /** Worst-case cost in USD micro-units (amount + maximum fee, rounded up). */
  readonly usdMicros: bigint;
  /** The time the spend counts at (ms since epoch). */
  readonly now: number;
  /** After this time (ms) a still-held reservation is due for reconciliation. */
  readonly expiresAt: number;
  /** Secret-free notes kept with the reservation (origin, offer id…). */
  readonly meta?: Readonly<Record<string, string>>;
}

/** A held reservation. */
export interface Reservation {
  readonly id: string;
  readonly limits: readonly BudgetLimit[];
  readonly usdMicros: bigint;
  readonly at: number;
  readonly expiresAt: number;
  readonly state: 'held' | 'committed' | 'released';
  /** The committed cost, once committed. */
  readonly committedUsdMicros?: bigint;
  readonly meta?: Readonly<Record<string, string>>;
}

/** Why a reservation did not fit. */
export interface ReserveRefusal {
  readonly ok: false;
  /** The first limit that would be exceeded. */
  readonly limit: BudgetLimit;
  /** `usd` or `count`. */
  readonly exceeded: 'usd' | 'count';
  /** What is left in that limit (USD micro-units, or payments for `count`). */
  readonly remaining: bigint;
}

/** Current use of one limit. */
export interface BudgetUsage {
  /** Committed spend in the window. */
  readonly committedUsdMicros: bigint;
  /** Held (not yet committed or released) reservations in the window. */
  readonly heldUsdMicros: bigint;
  /** Payments counted in the window (held + committed). */
  readonly count: number;
}

/**
 * Where budgets live. Implementations: in memory (this package), file, browser, Redis.
 *
 * @example
 * ```ts
 * import { createMemoryBudgetStore } from '@stipend/client';
 *
 * const store = createMemoryBudgetStore();
 * const limits = [{ scope: 'global', window: { kind: 'calendar', unit: 'day' }, maxUsdMicros: 1_000_000n }] as const;
 * const r = await store.reserve({ id: 'r1', limits, usdMicros: 10_000n, now: Date.now(), expiresAt: Date.now() + 60_000 });
 * if (r.ok) await store.commit('r1', 10_000n);
 * ```
 */
export interface BudgetStore {
  /** Atomically reserves `usdMicros` in every limit, or nothing. Idempotent per id. */
  reserve(
    request: ReserveRequest,
  ): Promise<{ readonly ok: true; readonly reservation: Reservation } | ReserveRefusal>;
  /**
   * Commits a held reservation at its actual cost (which may be lower than reserved).
   * Committing twice is a no-op; committing a released reservation throws.
   */
  commit(id: string, actualUsdMicros: bigint): Promise<Reservation>;
  /** Releases a held reservation. Releasing twice is a no-op; a committed one throws. */
  release(id: string): Promise<Reservation>;
  /** Current use of a limit's scope and window at `now`. */
  usage(limit: Pick<BudgetLimit, 'scope' | 'window'>, now: number): Promise<BudgetUsage>;
  /** A reservation by id. */
  get(id: string): Promise<Reservation | undefined>;
  /** Held reservations whose `expiresAt` is at or before `now`: due for reconciliation. */
  expired(now: number): Promise<readonly Reservation[]>;
}
