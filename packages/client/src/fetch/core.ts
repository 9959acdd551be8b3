/**
 * The shared state of one paying fetch, passed to the modules of the request flow.
 *
 * @module
 */
import type { ApprovalStore } from '../approvals/store.js';
import type { BudgetStore } from '../budget/store.js';
import { isStipendError, StipendError } from '../errors/base.js';
import type { Emitter } from '../ledger/events.js';
import type { Ledger } from '../ledger/record.js';
import type { PaymentOffer } from '../offer.js';
import type { Decision, PolicyEngine } from '../policy/engine.js';
import type { ProtocolAdapter, RetryRequest } from '../protocols/adapter.js';
import type { PurchaseJournal } from '../purchase/journal.js';
import type { KeyedLock } from '../purchase/lock.js';
import type { Proof, Wallet } from '../wallet/wallet.js';
import type { HttpRule } from './transport.js';

/**
 * What a paying fetch shares with all its children: one journal, one lock per purchase key,
 * and the in-process parts of purchases under way. A child never has state of its own here
 * (a key its parent paid is paid for the child too).
 */
export interface Shared {
  readonly journal: PurchaseJournal;
  readonly locks: KeyedLock;
  /** The parts of a purchase that cannot be journaled (objects, proofs), per purchase id. */
  readonly hands: Map<string, Hands>;
  /** Reusable purchases under way, per reuse key (single flight). */
  readonly inflight: Map<string, Promise<void>>;
  /**
   * Remembered terms (pre-authorization offer ids) a seller refused: not pre-paid again, so a
   * route whose terms changed is asked afresh instead of signing stale terms on every call.
   */
  readonly refusedPreauth: Set<string>;
  /** This paying fetch family's id in journal records (to find orphans of dead processes). */
  readonly owner: string;
  /** Whether orphans of other processes were looked for since start. */
  orphansChecked: boolean;
}

/**
 * The in-process parts of one purchase. The proof is kept (never journaled or logged) so a
 * purchase paid but not delivered can be completed with it instead of being bought again.
 */
export interface Hands {
  readonly id: string;
  readonly decision: Decision;
  readonly wallet: Wallet;
  readonly offer: PaymentOffer;
  readonly adapter: ProtocolAdapter;
  readonly retry: RetryRequest;
  proof?: Proof;
  proofHeaders?: Readonly<Record<string, string>>;
}

/** Everything the request flow needs, built once by `createPayingFetch`. */
export interface Core {
  readonly adapters: readonly ProtocolAdapter[];
  readonly wallets: readonly Wallet[];
  readonly engine: PolicyEngine;
  readonly budget: BudgetStore;
  readonly ledger: Ledger;
  readonly emitter: Emitter;
  readonly now: () => number;
  /** The underlying fetch (resolved late). */
  readonly send: typeof fetch;
  readonly tags: readonly string[];
  readonly maxBodyBytes: number;
  readonly maxChallengeBytes: number;
  readonly allowHttp: HttpRule;
  readonly payTimeoutMs: number;
  /** The default deadline of each request to a seller and of each body read. */
  readonly timeoutMs: number;
  readonly preauthorize: boolean;
  /** How approvals are asked: now (`block`) or later (`pending`, with a synthetic 202). */
  readonly approvals: {
    readonly mode: 'block' | 'pending';
    readonly store: ApprovalStore;
    readonly ttlMs: number;
  };
  readonly shared: Shared;
}

/** Emits an `error` event and returns the error, for `throw`. */
export function reported(core: Core, url: string, error: StipendError): StipendError {
  core.emitter.emit('error', { url, error });
  return error;
}

/** Any thrown value as a StipendError. */
export function asStipendError(error: unknown): StipendError {
  if (isStipendError(error)) return error;
  return new StipendError('INTERNAL', `Unexpected failure while paying: ${errorText(error)}`, {
    cause: error,
  });
}

/** A short, secret-free text for any thrown value. */
export function errorText(error: unknown): string {
  if (isStipendError(error)) return error.shortMessage;
  if (error instanceof Error) return error.message;
  return String(error);
}
