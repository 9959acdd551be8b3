/**
 * The one interface every Lightning backend (LND gRPC, LND REST, NWC, a test simulator)
 * implements for the wallet.
 *
 * @module
 */
import { isStipendError, StipendError } from '@stipend/client';

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
  /**
   * Stops waiting early. `lightningWallet` does not pass one: once a payment is sent it waits
   * for the backend's own answer (bounded by `timeoutMs`), so a late payment is booked.
   */
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
   * Pays an invoice. Rejects with a {@link LightningBackendError} (or any error with
   * `outcome: 'not_paid'` or `paid: false`) only when the backend is sure nothing was sent;
   * anything else is treated as unknown and reconciled through
   * {@link LightningBackend.lookup} before anything is paid again. It must settle on its own
   * within `timeoutMs` (plus a margin): the wallet waits for its answer even after the
   * caller gave up, so that a late payment is booked.
   */
  pay(request: BackendPayRequest): Promise<BackendPayment>;
  /** The state of an outgoing payment, by payment hash. */
  lookup(paymentHash: string, options?: { signal?: AbortSignal }): Promise<BackendLookup>;
  /** Optional: closes connections the backend opened itself. */
  close?(): void;
  /**
   * Optional: what the node can spend now, in msat (LND: the local balance of its channels).
   * Read-only; the wallet reports it as `Wallet.balance` so offers it cannot fund are skipped.
   */
  balanceMsat?(options?: { signal?: AbortSignal }): Promise<bigint>;
  /**
   * Optional: creates an invoice on this node (the payee side), amountless when `amountMsat`
   * is left out. Lightning sessions need it for the return invoice the server refunds to;
   * without it the wallet does not open Lightning sessions.
   */
  createInvoice?(request: BackendInvoiceRequest): Promise<BackendInvoice>;
  /** Optional: the state of an invoice this node issued, by payment hash (the refund check). */
  lookupInvoice?(
    paymentHash: string,
    options?: { signal?: AbortSignal },
  ): Promise<BackendInvoiceState>;
}

/** What the wallet asks a backend to create (an invoice to be paid TO this node). */
export interface BackendInvoiceRequest {
  /** msat; omitted for an amountless invoice. */
  readonly amountMsat?: bigint;
  readonly memo?: string;
  /** Seconds until it expires. */
  readonly expirySec: number;
}

/** An invoice the backend created. */
export interface BackendInvoice {
  /** The BOLT 11 string. */
  readonly invoice: string;
  /** Its payment hash (lowercase hex). */
  readonly paymentHash: string;
}

/** An invoice of this node as the backend reports it. */
export interface BackendInvoiceState {
  readonly state: 'open' | 'settled' | 'canceled';
  /** What was received, msat (settled invoices). */
  readonly amountPaidMsat?: bigint;
  /** When an open invoice stops being payable (ms since epoch), when known. */
  readonly expiresAt?: number;
}

/** The stable codes of a {@link LightningBackendError}, one per outcome. */
export type LightningBackendErrorCode = 'LIGHTNING_BACKEND_NOT_PAID' | 'LIGHTNING_BACKEND_UNKNOWN';

/**
 * A backend could not pay. `outcome` (and `paid`) say whether money may have moved:
 * `'not_paid'` (the backend is sure nothing was sent; `paid: false`) or `'unknown'` (a
 * timeout or a lost answer). A Stipend error with a stable `code`
 * (`LIGHTNING_BACKEND_NOT_PAID` or `LIGHTNING_BACKEND_UNKNOWN`); the backend's own reason
 * (`no_route`, `INSUFFICIENT_BALANCE`, …) is `reason`. The wallet reads these fields, never
 * `instanceof`, so errors from another copy of this package (or any error carrying
 * `outcome: 'not_paid'`) are understood too.
 *
 * @example
 * ```ts
 * import { LightningBackendError } from '@stipend/wallet-lightning';
 * throw new LightningBackendError('no_route', 'No route to the payee', 'not_paid');
 * ```
 */
export class LightningBackendError extends StipendError {
  override name = 'LightningBackendError';
  override readonly code: LightningBackendErrorCode;
  /** The backend's own reason, e.g. `no_route`, `timeout`, `INSUFFICIENT_BALANCE`. */
  readonly reason: string;
  readonly outcome: 'not_paid' | 'unknown';
  /** `false` when nothing was sent, `'unknown'` otherwise. */
  readonly paid: false | 'unknown';
  constructor(reason: string, message: string, outcome: 'not_paid' | 'unknown', cause?: unknown) {
    const code =
      outcome === 'not_paid' ? 'LIGHTNING_BACKEND_NOT_PAID' : 'LIGHTNING_BACKEND_UNKNOWN';
    super(code, message, { details: { reason, outcome }, cause });
    this.code = code;
    this.reason = reason;
    this.outcome = outcome;
    this.paid = outcome === 'not_paid' ? false : 'unknown';
  }
}

/**
 * What an error from a backend says about the money, read from its fields (never
 * `instanceof`): `'not_paid'` for a {@link LightningBackendError} of any copy with that
 * outcome, or any error with `outcome: 'not_paid'` or `paid: false`; `'unknown'` otherwise.
 *
 * @example
 * ```ts
 * import { backendOutcome } from './backend.js';
 * backendOutcome({ outcome: 'not_paid' }); // 'not_paid'
 * backendOutcome(new Error('socket hang up')); // 'unknown'
 * ```
 */
export function backendOutcome(error: unknown): 'not_paid' | 'unknown' {
  if (typeof error !== 'object' || error === null) return 'unknown';
  const fields = error as { code?: unknown; outcome?: unknown; paid?: unknown };
  if (isStipendError(error) && fields.code === 'LIGHTNING_BACKEND_NOT_PAID') return 'not_paid';
  if (fields.outcome === 'not_paid' || fields.paid === false) return 'not_paid';
  return 'unknown';
}

/**
 * Whether a value is a {@link LightningBackendError} of any copy of this package (by the
 * Stipend brand and code, not `instanceof`).
 *
 * @example
 * ```ts
 * import { isLightningBackendError } from './backend.js';
 * if (isLightningBackendError(error)) console.warn(error.reason, error.outcome);
 * ```
 */
export function isLightningBackendError(error: unknown): error is LightningBackendError {
  return (
    isStipendError(error) &&
    (error.code === 'LIGHTNING_BACKEND_NOT_PAID' || error.code === 'LIGHTNING_BACKEND_UNKNOWN')
  );
}

/**
 * The backend's reason for an error (`reason`, else a string `code`), for messages.
 *
 * @example
 * ```ts
 * import { backendReason } from './backend.js';
 * backendReason(new LightningBackendError('no_route', 'No route', 'not_paid')); // 'no_route'
 * ```
 */
export function backendReason(error: unknown): string {
  const fields = (error ?? {}) as { reason?: unknown; code?: unknown };
  if (typeof fields.reason === 'string') return fields.reason;
  if (typeof fields.code === 'string') return fields.code;
  return 'error';
}

/**
 * Checks, where the wallet is made, that `backend` is a {@link LightningBackend}: an object
 * with a `name` and `pay` and `lookup` methods. Throws a `TypeError` naming the option.
 *
 * @example
 * ```ts
 * import { assertBackend } from './backend.js';
 * assertBackend(options.backend); // throws: lightningWallet({ backend }) needs …
 * ```
 */
export function assertBackend(backend: unknown): asserts backend is LightningBackend {
  const b = backend as Partial<Record<keyof LightningBackend, unknown>> | null | undefined;
  const missing: string[] = [];
  if (typeof b !== 'object' || b === null) {
    throw new TypeError(
      'lightningWallet({ backend }) needs a Lightning backend: pass lndRestBackend(...), nwcBackend(...), lndGrpcBackend(...) or an object with name, pay(request) and lookup(paymentHash)',
    );
  }
  if (typeof b.pay !== 'function') missing.push('pay(request)');
  if (typeof b.lookup !== 'function') missing.push('lookup(paymentHash)');
  if (typeof b.name !== 'string' || b.name.length === 0) missing.push('a name');
  if (missing.length > 0) {
    throw new TypeError(
      `lightningWallet({ backend }): the backend has no ${missing.join(', no ')}; pass lndRestBackend(...), nwcBackend(...), lndGrpcBackend(...) or an object with name, pay(request) and lookup(paymentHash)`,
    );
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
