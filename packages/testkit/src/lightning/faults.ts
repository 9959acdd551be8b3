/**
 * Faults the simulated Lightning network can inject into a payment, modelled on what real
 * wallets and nodes do (see protocols/l402.md §3.8–3.10 and §4.5).
 */
export type LightningFault =
  /**
   * `pay` rejects at once with a `timeout` error, but the HTLC is in flight and settles
   * `settleAfterMs` later (0: already settled when the rejection is seen). `lookup` reports
   * `in_flight` and then `succeeded` with the preimage.
   */
  | { kind: 'timeoutThenSettle'; settleAfterMs: number }
  /** The payment fails in the network (nothing paid); `lookup` reports `failed`. */
  | { kind: 'fail'; reason: string }
  /**
   * The payment settles, but the wallet reports a preimage that does not hash to the
   * payment hash (as a backend with an encoding bug would); `lookup` reports the same.
   */
  | { kind: 'wrongPreimage' }
  /** Settlement takes `ms`; when `ms` exceeds the call's `timeoutMs`, the call times out first. */
  | { kind: 'slow'; ms: number }
  /** The only route costs `maxFeeMsat + 1` msat: the payment fails without paying. */
  | { kind: 'feeAboveCap' };

/**
 * Constructors for {@link LightningFault}s.
 *
 * @example
 * ```ts
 * import { createLightningNetwork, lightningFaults } from '@stipend/testkit/l402';
 * const network = createLightningNetwork();
 * network.injectFault(lightningFaults.timeoutThenSettle({ settleAfterMs: 20 }));
 * network.injectFault(lightningFaults.fail(), { paymentHash });
 * ```
 */
export const lightningFaults = {
  /** See {@link LightningFault} `timeoutThenSettle`. */
  timeoutThenSettle(options: { settleAfterMs?: number } = {}): LightningFault {
    return { kind: 'timeoutThenSettle', settleAfterMs: nonNegative(options.settleAfterMs ?? 0) };
  },
  /** See {@link LightningFault} `fail`. */
  fail(reason = 'FAILURE_REASON_NO_ROUTE'): LightningFault {
    return { kind: 'fail', reason };
  },
  /** See {@link LightningFault} `wrongPreimage`. */
  wrongPreimage(): LightningFault {
    return { kind: 'wrongPreimage' };
  },
  /** See {@link LightningFault} `slow`. */
  slow(ms: number): LightningFault {
    return { kind: 'slow', ms: nonNegative(ms) };
  },
  /** See {@link LightningFault} `feeAboveCap`. */
  feeAboveCap(): LightningFault {
    return { kind: 'feeAboveCap' };
  },
} as const;

function nonNegative(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`a delay must be a finite number of milliseconds >= 0, got ${ms}`);
  }
  return ms;
}
