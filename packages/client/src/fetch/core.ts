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
import type { ProtocolAdapter } from '../protocols/adapter.js';
import type { Wallet } from '../wallet/wallet.js';
import type { HttpRule } from './transport.js';

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
  readonly preauthorize: boolean;
  /** How approvals are asked: now (`block`) or later (`pending`, with a synthetic 202). */
  readonly approvals: {
    readonly mode: 'block' | 'pending';
    readonly store: ApprovalStore;
    readonly ttlMs: number;
  };
  /** Payments with an unknown outcome, per purchase key (invariant 6). */
  readonly held: Map<string, HeldPayment>;
  /** Reusable purchases under way, per reuse key (single flight). */
  readonly inflight: Map<string, Promise<void>>;
  /** Purchases under way per caller-supplied idempotency key: one at a time. */
  readonly purchasing: Map<string, Promise<void>>;
  /** Purchase keys whose payment was committed (recent ones; checked for explicit keys). */
  readonly paidKeys: Set<string>;
}

/** A payment the core has decided on and booked; what it needs to settle it later. */
export interface HeldPayment {
  readonly decision: Decision;
  readonly wallet: Wallet;
  readonly offer: PaymentOffer;
  readonly adapter: ProtocolAdapter;
  readonly recordId: string;
  readonly purchaseKey: string;
  /** Secret-free payment reference, once the wallet gave one. */
  readonly reference?: string;
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
