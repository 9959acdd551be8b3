/**
 * The `stipend-test` rail: a tiny in-memory settlement network for testing the core and
 * agents' policies without real money. It is a stand-in, not a protocol anyone runs: it
 * records every payment, lets a server redeem a proof exactly once, and answers lookups.
 *
 * @module
 */
import { bytesToHex } from '@stipend/client/internal';

/** One payment on the test rail. */
export interface TestRailPayment {
  readonly reference: string;
  readonly offerId: string;
  readonly amount: bigint;
  readonly payee: string;
  /** `final`: money moved at pay time. `authorization`: it moves when the server redeems. */
  readonly settlement: 'final' | 'authorization';
  /** Whether money has moved. */
  settled: boolean;
  /** Whether a server has accepted the proof. */
  redeemed: boolean;
  /** An authorization that was never redeemed and can no longer be. */
  voided: boolean;
}

/** Why a redemption failed. */
export type RedeemResult = 'ok' | 'unknown' | 'replayed' | 'mismatch' | 'voided';

/** The test rail's handle. */
export interface TestRail {
  /** Pays (final) or authorizes an offer; returns the secret proof and a public reference. */
  pay(input: {
    offerId: string;
    amount: bigint;
    payee: string;
    settlement: 'final' | 'authorization';
  }): { reference: string; secret: string };
  /** A server redeems a proof for exactly these terms, once. */
  redeem(secret: string, terms: { offerId: string; amount: bigint; payee: string }): RedeemResult;
  /** Voids an unredeemed authorization (it expired). */
  void(reference: string): void;
  /** What became of a payment, as a wallet's lookup reports it. */
  lookup(reference: string): 'paid' | 'failed' | 'pending';
  /** Every payment, oldest first. */
  payments(): readonly TestRailPayment[];
  /** The total that moved (settled payments), in atomic units. */
  settledTotal(): bigint;
}

/**
 * Creates a test rail.
 *
 * @example
 * ```ts
 * import { createTestRail } from '@stipend/testkit/core';
 *
 * const rail = createTestRail();
 * const { secret } = rail.pay({ offerId: 'o1', amount: 10n, payee: 'shop', settlement: 'final' });
 * rail.redeem(secret, { offerId: 'o1', amount: 10n, payee: 'shop' }); // 'ok'
 * ```
 */
export function createTestRail(): TestRail {
  const bySecret = new Map<string, TestRailPayment>();
  const byReference = new Map<string, TestRailPayment>();
  const all: TestRailPayment[] = [];
  let counter = 0;
  return {
    pay(input) {
      counter += 1;
      const reference = `ref_${counter}`;
      const secret = `secret_${counter}_${randomHex(8)}`;
      const payment: TestRailPayment = {
        reference,
        offerId: input.offerId,
        amount: input.amount,
        payee: input.payee,
        settlement: input.settlement,
        settled: input.settlement === 'final',
        redeemed: false,
        voided: false,
      };
      bySecret.set(secret, payment);
      byReference.set(reference, payment);
      all.push(payment);
      return { reference, secret };
    },
    redeem(secret, terms) {
      const payment = bySecret.get(secret);
      if (!payment) return 'unknown';
      if (payment.voided) return 'voided';
      if (payment.redeemed) return 'replayed';
      if (
        payment.offerId !== terms.offerId ||
        payment.amount !== terms.amount ||
        payment.payee !== terms.payee
      ) {
        return 'mismatch';
      }
      payment.redeemed = true;
      payment.settled = true;
      return 'ok';
    },
    void(reference) {
      const payment = byReference.get(reference);
      if (payment && !payment.settled) payment.voided = true;
    },
    lookup(reference) {
      const payment = byReference.get(reference);
      if (!payment) return 'failed';
      if (payment.settled) return 'paid';
      return payment.voided ? 'failed' : 'pending';
    },
    payments() {
      return all.slice();
    },
    settledTotal() {
      let total = 0n;
      for (const payment of all) if (payment.settled) total += payment.amount;
      return total;
    },
  };
}

function randomHex(bytes: number): string {
  const buffer = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(buffer);
  return bytesToHex(buffer);
}
