/**
 * A Lightning wallet backend that pays through the simulated network: the shape of
 * `@stipend/wallet-lightning`'s `LightningBackend`, written structurally so that the testkit
 * does not depend on the wallet package. It is a STAND-IN for a node: "paying" asks the
 * simulator, which hands back the invoice's preimage.
 *
 * @module
 */
import { LightningPaymentError } from './payment-error.js';
import type { LightningNetwork, LightningNode } from './simulator.js';

/** What the wallet asks the backend to pay (the fields this backend reads). */
export interface SimulatorPayRequest {
  readonly invoice: string;
  readonly paymentHash: string;
  readonly maxFeeMsat: bigint;
  readonly timeoutMs: number;
}

/** A settled payment. */
export interface SimulatorPayment {
  readonly preimage: string | Uint8Array;
  readonly feeMsat?: bigint;
}

/** The payer-side state of a payment hash, as a wallet backend reports it. */
export type SimulatorLookup =
  | ({ readonly status: 'succeeded' } & SimulatorPayment)
  | { readonly status: 'pending' }
  | { readonly status: 'failed'; readonly reason?: string }
  | { readonly status: 'not_found' };

/**
 * Builds the error a refused or failed payment rejects with. `outcome` is `'not_paid'` when
 * the simulator is sure nothing moved, `'unknown'` otherwise. Pass one that builds the
 * wallet's own error class (`new LightningBackendError(code, message, outcome, cause)`) so
 * that the wallet recognises a certain refusal without looking it up.
 */
export type SimulatorErrorFactory = (
  code: string,
  message: string,
  outcome: 'not_paid' | 'unknown',
  cause: unknown,
) => Error;

/** Options of {@link simulatorBackend}. */
export interface SimulatorBackendOptions {
  /** The payer's node in the simulator; its alias labels the payments. */
  readonly node?: LightningNode;
  /** Label of the payer in the simulator's payment records. Default: the node's alias, or `agent`. */
  readonly payer?: string;
  /** Re-encodes the preimage the backend reports (hex by default), to test a wallet's parsing. */
  readonly preimageAs?: (hex: string) => string | Uint8Array;
  /** Builds the errors it rejects with. Default: a {@link SimulatorBackendError}. */
  readonly error?: SimulatorErrorFactory;
}

/** A backend over the simulator, with the calls it received. */
export interface SimulatorBackend {
  readonly name: 'simulator';
  /** `pay <hash> fee<=<msat>` and `lookup <hash>`, in order. */
  readonly calls: readonly string[];
  pay(request: SimulatorPayRequest): Promise<SimulatorPayment>;
  lookup(paymentHash: string): Promise<SimulatorLookup>;
  /**
   * Creates an invoice on the payer's own node (`options.node`; amountless without
   * `amountMsat`): what a wallet needs for a Lightning session's return invoice. Only with a
   * node.
   */
  createInvoice?(request: {
    readonly amountMsat?: bigint;
    readonly memo?: string;
    readonly expirySec: number;
  }): Promise<{ readonly invoice: string; readonly paymentHash: string }>;
  /** The state of an invoice of the payer's own node (the refund check). Only with a node. */
  lookupInvoice?(paymentHash: string): Promise<{
    readonly state: 'open' | 'settled' | 'canceled';
    readonly amountPaidMsat?: bigint;
    readonly expiresAt?: number;
  }>;
}

/**
 * The default error of {@link simulatorBackend}: a stable `code` and whether money may have
 * moved (`outcome`).
 *
 * @example
 * ```ts
 * import { SimulatorBackendError } from '@stipend/testkit/lightning';
 * const error = new SimulatorBackendError('fee_limit_exceeded', 'no route within the fee cap', 'not_paid');
 * error.outcome; // 'not_paid'
 * ```
 */
export class SimulatorBackendError extends Error {
  override readonly name = 'SimulatorBackendError';
  readonly code: string;
  readonly outcome: 'not_paid' | 'unknown';
  constructor(code: string, message: string, outcome: 'not_paid' | 'unknown', cause?: unknown) {
    super(message, { cause });
    this.code = code;
    this.outcome = outcome;
  }
}

/**
 * A Lightning wallet backend (structurally a `LightningBackend` of
 * `@stipend/wallet-lightning`) that pays invoices through the simulated network. Refusals
 * the simulator is sure about (expired, no route within the fee cap, unknown invoice…) reject
 * with `outcome: 'not_paid'`; a timeout, "already paid" and "in flight" with `'unknown'`, so
 * the wallet looks the payment up before paying again.
 *
 * @example
 * ```ts
 * import { createLightningNetwork, simulatorBackend } from '@stipend/testkit/lightning';
 * import { LightningBackendError, lightningWallet } from '@stipend/wallet-lightning';
 *
 * const network = createLightningNetwork();
 * const agent = network.createNode({ alias: 'agent' });
 * const wallet = lightningWallet({
 *   network: 'regtest',
 *   backend: simulatorBackend(network, {
 *     node: agent,
 *     error: (code, message, outcome, cause) => new LightningBackendError(code, message, outcome, cause),
 *   }),
 * });
 * ```
 */
export function simulatorBackend(
  network: LightningNetwork,
  options: SimulatorBackendOptions = {},
): SimulatorBackend {
  const calls: string[] = [];
  const payer = options.payer ?? options.node?.alias ?? 'agent';
  const encode = options.preimageAs ?? ((hex: string) => hex);
  const makeError: SimulatorErrorFactory =
    options.error ??
    ((code, message, outcome, cause) => new SimulatorBackendError(code, message, outcome, cause));
  const node = options.node;
  const invoices: Pick<SimulatorBackend, 'createInvoice' | 'lookupInvoice'> = node
    ? {
        async createInvoice(request) {
          calls.push('createInvoice');
          const issued = node.createInvoice({
            ...(request.amountMsat !== undefined ? { amountMsat: request.amountMsat } : {}),
            ...(request.memo !== undefined ? { description: request.memo } : {}),
            expirySeconds: request.expirySec,
          });
          return { invoice: issued.bolt11, paymentHash: issued.paymentHash };
        },
        async lookupInvoice(paymentHash) {
          calls.push(`lookupInvoice ${paymentHash}`);
          const found = node.lookupInvoice(paymentHash);
          if (!found) return { state: 'canceled' };
          const expiresAt = (found.invoice.timestamp + found.invoice.expirySeconds) * 1000;
          if (found.state === 'settled') {
            return { state: 'settled', amountPaidMsat: found.amountPaidMsat ?? 0n, expiresAt };
          }
          return { state: 'open', expiresAt };
        },
      }
    : {};
  return {
    name: 'simulator',
    calls,
    ...invoices,
    async pay(request) {
      calls.push(`pay ${request.paymentHash} fee<=${request.maxFeeMsat}`);
      try {
        const result = await network.pay(request.invoice, {
          maxFeeMsat: request.maxFeeMsat,
          timeoutMs: request.timeoutMs,
          payer,
        });
        return { preimage: encode(result.preimage), feeMsat: result.feeMsat };
      } catch (error) {
        if (!(error instanceof LightningPaymentError)) throw error;
        // Another attempt owns the hash (or we gave up waiting): money may have moved.
        const unknown =
          error.settled === 'unknown' ||
          error.code === 'invoice_already_paid' ||
          error.code === 'payment_in_flight';
        throw makeError(error.code, error.message, unknown ? 'unknown' : 'not_paid', error);
      }
    },
    async lookup(paymentHash) {
      calls.push(`lookup ${paymentHash}`);
      const found = network.lookup(paymentHash);
      switch (found.status) {
        case 'succeeded':
          return { status: 'succeeded', preimage: encode(found.preimage), feeMsat: found.feeMsat };
        case 'in_flight':
          return { status: 'pending' };
        case 'failed':
          return { status: 'failed', reason: found.reason };
        default:
          return { status: 'not_found' };
      }
    },
  };
}
