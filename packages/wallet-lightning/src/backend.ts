/**
 * The one interface every Lightning backend (LND gRPC, LND REST, NWC, a test simulator)
 * implements for the wallet.
 *
 * @module
 */

/** What the wallet asks a backend to pay. */
export interface BackendPayRequest {
  /** The BOLT 11 invoice, already decoded and checked by the wallet. */
  readonly invoice: string;
  /** Its payment hash (lowercase hex). */
  readonly paymentHash: string;
  /** Its amount, msat. */
  readonly amountMsat: bigint;
  /** The routing-fee cap, msat: backends must pass it explicitly (LND treats 0 as "free only"). */
  readonly maxFeeMsat: bigint;
  /** How long the backend may take before it gives up waiting (the payment may still settle). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** A settled payment as a backend reports it. */
export interface BackendPayment {
  /** Hex (any case), base64, or bytes: the wallet normalises and checks it. */
  readonly preimage: string | Uint8Array;
  /** The routing fee paid, msat, when the backend says. */
  readonly feeMsat?: bigint;
}

/** What a backend knows about an outgoing payment, by payment hash. */
export type BackendLookup =
  | ({ readonly status: 'succeeded' } & BackendPayment)
  | { readonly status: 'pending' }
  | { readonly status: 'failed'; readonly reason?: string }
  /** The backend has no record of a payment with this hash. */
  | { readonly status: 'not_found' };

/** A Lightning node or wallet service the wallet pays through. */
export interface LightningBackend {
  /** A short name for errors (`lnd-grpc`, `lnd-rest`, `nwc`). */
  readonly name: string;
  /**
   * Pays an invoice. Rejects with a {@link LightningBackendError}: `outcome: 'not_paid'` only
   * when the backend is sure nothing was sent; anything else is treated as unknown and
   * reconciled through {@link LightningBackend.lookup} before anything is paid again.
   */
  pay(request: BackendPayRequest): Promise<BackendPayment>;
  /** The state of an outgoing payment, by payment hash. */
  lookup(paymentHash: string, options?: { signal?: AbortSignal }): Promise<BackendLookup>;
  /** Optional: closes connections the backend opened itself. */
  close?(): void;
}

/**
 * A backend could not pay. `outcome` says whether money may have moved: `'not_paid'` (the
 * backend is sure nothing was sent) or `'unknown'` (a timeout or a lost answer).
 *
 * @example
 * ```ts
 * import { LightningBackendError } from '@stipend/wallet-lightning';
 * throw new LightningBackendError('no_route', 'No route to the payee', 'not_paid');
 * ```
 */
export class LightningBackendError extends Error {
  override name = 'LightningBackendError';
  readonly code: string;
  readonly outcome: 'not_paid' | 'unknown';
  constructor(code: string, message: string, outcome: 'not_paid' | 'unknown', cause?: unknown) {
    super(message, { cause });
    this.code = code;
    this.outcome = outcome;
  }
}

/**
 * Races a promise against a timer; on timeout rejects with an `unknown`-outcome
 * {@link LightningBackendError} (the payment may still settle).
 *
 * @example
 * ```ts
 * import { withDeadline } from './backend.js';
 * const result = await withDeadline(client.payInvoice({ invoice }), 30_000, 'my wallet');
 * ```
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new LightningBackendError(
            'timeout',
            `${what} did not answer within ${ms} ms; the payment may still settle`,
            'unknown',
          ),
        ),
      ms,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
