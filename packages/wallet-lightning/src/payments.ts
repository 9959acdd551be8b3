/**
 * The wallet's record of its own payments, written before anything is paid, so that a crash
 * or a timeout never leads to paying the same purchase twice.
 *
 * @module
 */

/** One payment the wallet started. Plain JSON (amounts as decimal strings). */
export interface LightningPaymentRecord {
  /** The payment hash (lowercase hex): the key. */
  readonly paymentHash: string;
  readonly invoice: string;
  /** The origin the offer came from. */
  readonly origin: string;
  /** `l402:bolt11` or `mpp:lightning.charge`. */
  readonly rail: string;
  /** msat, decimal. */
  readonly amountMsat: string;
  /** The fee cap used, msat, decimal. */
  readonly maxFeeMsat: string;
  /** `pending` until the backend says; `succeeded` carries the preimage. */
  readonly state: 'pending' | 'succeeded' | 'failed';
  /** 64 lowercase hex, once succeeded. A secret: stores must not expose it. */
  readonly preimage?: string;
  /** msat, decimal, when known. */
  readonly feeMsat?: string;
  readonly startedAt: number;
  readonly updatedAt: number;
}

/** Where payment records live. Writes must be durable before they resolve. */
export interface PaymentStore {
  get(paymentHash: string): Promise<LightningPaymentRecord | undefined>;
  put(record: LightningPaymentRecord): Promise<void>;
  /** Records still `pending` (reconciled before new payments to the same origin). */
  pending(): Promise<readonly LightningPaymentRecord[]>;
}

/**
 * The default payment store: in memory, so it protects one process. Use
 * `filePaymentStore` (Node) to survive restarts.
 *
 * @example
 * ```ts
 * import { lightningWallet, memoryPaymentStore } from '@stipend/wallet-lightning';
 * const wallet = lightningWallet({ backend, network: 'mainnet', payments: memoryPaymentStore() });
 * ```
 */
export function memoryPaymentStore(): PaymentStore {
  const records = new Map<string, LightningPaymentRecord>();
  // Pending records apart: the wallet asks for them before every payment, and settled records
  // pile up (a payment hash is never paid twice), so a scan of them all would grow with each.
  const pending = new Map<string, LightningPaymentRecord>();
  return {
    get: async (hash) => records.get(hash),
    put: async (record) => {
      const kept = Object.freeze({ ...record });
      records.set(kept.paymentHash, kept);
      if (kept.state === 'pending') pending.set(kept.paymentHash, kept);
      else pending.delete(kept.paymentHash);
    },
    pending: async () => [...pending.values()],
  };
}
