/**
 * The `stipend-test` dialect on the wire (a test stand-in, not a real protocol):
 * - challenge: `402` with `Stipend-Test-Challenge: <JSON array of offers>`;
 * - proof: `Stipend-Test-Proof: <offer id> <secret>`;
 * - receipt: `Stipend-Test-Receipt: <reference>` on success;
 * - refusal: `402` with `Stipend-Test-Error: <reason>` and a fresh challenge.
 *
 * @module
 */
import type { Unit } from '@stipend/client';

export const CHALLENGE_HEADER = 'stipend-test-challenge';
export const PROOF_HEADER = 'stipend-test-proof';
export const RECEIPT_HEADER = 'stipend-test-receipt';
export const ERROR_HEADER = 'stipend-test-error';
export const PROTOCOL = 'stipend-test';
export const SCHEME = 'charge';

/** One offer as the server sends it. */
export interface WireOffer {
  readonly id: string;
  /** Atomic units, decimal string. */
  readonly amount: string;
  readonly unit: Unit;
  readonly payee: string;
  readonly maxFee?: string;
  readonly expiresAt?: number;
}
