import { type PaymentOffer, type Proof, type Wallet, WalletError } from '@stipend/client';
import type { TestRail } from './rail.js';

/** What the wallet needs of a rail; a remote rail may answer asynchronously. */
export type TestRailClient = {
  pay(
    ...args: Parameters<TestRail['pay']>
  ): ReturnType<TestRail['pay']> | Promise<ReturnType<TestRail['pay']>>;
  lookup(
    reference: string,
  ): ReturnType<TestRail['lookup']> | Promise<ReturnType<TestRail['lookup']>>;
};

import { PROTOCOL, SCHEME } from './wire.js';

/** A fault the test wallet injects into its next payment. */
export type TestWalletFault =
  /** Refuses before paying: nothing moves. */
  | 'fail'
  /** Pays, then reports a timeout: the outcome is unknown to the caller. */
  | 'unknown-after-paying'
  /** Reports a timeout without paying. */
  | 'unknown-without-paying'
  /** Pays, then hangs past the core's wallet timeout. */
  | 'hang-after-paying';

/** The test wallet: a {@link Wallet} with a call log and fault injection. */
export interface TestWallet extends Wallet {
  /** Every `pay` call, in order (offer ids). */
  readonly calls: string[];
  /** Makes the next payment misbehave. */
  injectFault(fault: TestWalletFault): void;
}

/**
 * A wallet for the `stipend-test` rail, for the core's own tests and for testing policies.
 *
 * @example
 * ```ts
 * import { createTestRail, testWallet } from '@stipend/testkit/core';
 *
 * const wallet = testWallet({ rail: createTestRail(), settlement: 'final' });
 * ```
 */
export function testWallet(options: {
  /** The rail, or anything that pays and looks up like it (a remote rail in a browser). */
  rail: TestRailClient;
  id?: string;
  /** `authorization` (default, like x402) or `final` (like Lightning). */
  settlement?: 'final' | 'authorization';
  /** An extra check; return a reason to refuse an offer. */
  canPay?: (offer: PaymentOffer) => true | string;
}): TestWallet {
  const id = options.id ?? 'test-wallet';
  const settlement = options.settlement ?? 'authorization';
  const calls: string[] = [];
  const faults: TestWalletFault[] = [];
  // What each payment proved, by reference: a Lightning node gives the preimage of a payment
  // it made when asked by payment hash; this is the stand-in of that lookup.
  const proven = new Map<string, { offerId: string; secret: unknown }>();
  return {
    id,
    rails: [`${PROTOCOL}:${SCHEME}`],
    calls,
    injectFault(fault) {
      faults.push(fault);
    },
    canPay(offer) {
      return options.canPay ? options.canPay(offer) : true;
    },
    async pay(offer, context): Promise<Proof> {
      calls.push(offer.id);
      const fault = faults.shift();
      if (fault === 'fail')
        throw new WalletError({ walletId: id, message: 'injected failure', paid: false });
      if (fault === 'unknown-without-paying') {
        throw new WalletError({ walletId: id, message: 'injected timeout', paid: 'unknown' });
      }
      const { reference, secret } = await options.rail.pay({
        offerId: offer.id,
        amount: offer.amount.value,
        payee: offer.payee,
        settlement,
      });
      proven.set(reference, { offerId: offer.id, secret });
      if (fault === 'unknown-after-paying') {
        throw new WalletError({
          walletId: id,
          message: 'injected timeout after paying',
          paid: 'unknown',
          reference,
        });
      }
      if (fault === 'hang-after-paying') await new Promise(() => {});
      return {
        offerId: offer.id,
        reference,
        settlement,
        validUntil: context.now + context.maxAuthorizationTtlSec * 1000,
        secret,
      };
    },
    async lookup(reference) {
      return options.rail.lookup(reference);
    },
    async recover(reference, offer) {
      const known = proven.get(reference);
      if (settlement !== 'final' || !known || known.offerId !== offer.id) return undefined;
      if ((await options.rail.lookup(reference)) !== 'paid') return undefined;
      return { offerId: offer.id, reference, settlement, secret: known.secret };
    },
  };
}
