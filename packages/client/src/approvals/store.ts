/**
 * Pending approvals: payments that wait for a person, kept in a store so that the decision
 * survives until the agent asks again (and, with a persistent store, a restart).
 *
 * @module
 */
import type { ApprovalRequest } from '../policy/types.js';

/** Where a pending approval stands. */
export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired' | 'used';

/** One payment waiting for a person. Secret-free. */
export interface PendingApproval {
  readonly id: string;
  /** The purchase's idempotency key: the agent's next call with it resumes the purchase. */
  readonly purchaseKey: string;
  readonly state: ApprovalState;
  /** What the person is asked. */
  readonly request: ApprovalRequest;
  /** The terms approved, to check that the next challenge offers the same ones. */
  readonly terms: {
    readonly offerId: string;
    readonly protocol: string;
    readonly scheme: string;
    readonly amount: string;
    readonly unit: string;
    readonly payee: string;
  };
  /** The budget reservation held meanwhile, and how it was priced. */
  readonly reservationId: string;
  readonly usdMicros: bigint;
  readonly rate: {
    readonly numerator: bigint;
    readonly denominator: bigint;
    readonly source: string;
    readonly asOf: number;
  };
  readonly maxAuthorizationTtlSec: number;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** Where pending approvals live. Memory by default; persistent stores implement the same. */
export interface ApprovalStore {
  put(approval: PendingApproval): void | Promise<void>;
  get(id: string): PendingApproval | undefined | Promise<PendingApproval | undefined>;
  /** The latest approval of a purchase that is not `used`. */
  forPurchase(
    purchaseKey: string,
  ): PendingApproval | undefined | Promise<PendingApproval | undefined>;
  update(id: string, patch: Partial<PendingApproval>): void | Promise<void>;
  /**
   * Compare-and-set on the state: moves approval `id` from `from` to `to` and returns `true`,
   * or returns `false` when its state is not `from` (another call claimed it first). Atomic
   * across every process sharing the store: an approved approval is claimed (`approved` →
   * `used`) by exactly one purchase before anything is signed.
   */
  transition(id: string, from: ApprovalState, to: ApprovalState): boolean | Promise<boolean>;
  list(): readonly PendingApproval[] | Promise<readonly PendingApproval[]>;
}

/**
 * Pending approvals kept in memory.
 *
 * @example
 * ```ts
 * import { createMemoryApprovalStore, createPayingFetch } from '@stipend/client';
 *
 * const payingFetch = createPayingFetch({ wallets, approvals: { mode: 'pending', store: createMemoryApprovalStore() } });
 * ```
 */
export function createMemoryApprovalStore(): ApprovalStore {
  const approvals = new Map<string, PendingApproval>();
  return {
    put(approval) {
      approvals.set(approval.id, Object.freeze({ ...approval }));
    },
    get(id) {
      return approvals.get(id);
    },
    forPurchase(purchaseKey) {
      let found: PendingApproval | undefined;
      for (const approval of approvals.values()) {
        if (approval.purchaseKey === purchaseKey && approval.state !== 'used') found = approval;
      }
      return found;
    },
    update(id, patch) {
      const approval = approvals.get(id);
      if (!approval) throw new Error(`no pending approval ${id}`);
      approvals.set(id, Object.freeze({ ...approval, ...patch, id }));
    },
    transition(id, from, to) {
      const approval = approvals.get(id);
      if (!approval || approval.state !== from) return false;
      approvals.set(id, Object.freeze({ ...approval, state: to }));
      return true;
    },
    list() {
      return [...approvals.values()];
    },
  };
}
