/**
 * The payment outcome attached to a response, read with {@link getPayment}. Kept in a
 * WeakMap so the Response itself is returned untouched.
 *
 * @module
 */
import type { StipendError } from '../errors/base.js';
import type { SpendRecord } from '../ledger/record.js';
import type { Receipt } from '../protocols/adapter.js';

/** What happened to the payment of one call. */
export interface PaymentOutcome {
  /**
   * `paid`: the server accepted the proof. `rejected`: the paid retry was refused (see
   * `record.status` for whether money moved). `unknown`: it must be reconciled.
   */
  readonly status: 'paid' | 'rejected' | 'unknown';
  readonly record: SpendRecord;
  readonly receipt?: Receipt;
  readonly error?: StipendError;
}

const outcomes = new WeakMap<Response, PaymentOutcome>();

/** Attaches an outcome to a response (internal). */
export function attachPayment(response: Response, outcome: PaymentOutcome): Response {
  outcomes.set(response, outcome);
  return response;
}

/**
 * The payment made for a response, if one was made.
 *
 * @example
 * ```ts
 * import { createPayingFetch, getPayment } from '@stipend/client';
 *
 * const res = await payingFetch('https://api.example.com/paid');
 * const payment = getPayment(res);
 * if (payment?.status === 'paid') console.warn('paid', payment.record.committedUsdMicros);
 * ```
 */
export function getPayment(response: Response): PaymentOutcome | undefined {
  return outcomes.get(response);
}

/** A held credential that a response was obtained with (no new payment). */
export interface CredentialUse {
  readonly protocol: string;
  /** Secret-free reference of the payment that bought the credential. */
  readonly reference: string;
}

const credentialUses = new WeakMap<Response, CredentialUse>();

/** Marks a response as obtained with a held credential (internal). */
export function attachCredentialUse(response: Response, use: CredentialUse): Response {
  credentialUses.set(response, use);
  return response;
}

/**
 * The held credential a response was obtained with (an L402 token paid earlier), if any.
 * Such a call made no new payment, so {@link getPayment} returns `undefined` for it.
 *
 * @example
 * ```ts
 * import { getCredentialUse } from '@stipend/client';
 *
 * const res = await payingFetch('https://api.example.com/quote');
 * if (getCredentialUse(res)) console.warn('reused a paid credential');
 * ```
 */
export function getCredentialUse(response: Response): CredentialUse | undefined {
  return credentialUses.get(response);
}
