/**
 * LND over gRPC through the `lightning` npm package (12.5.0) — the library `ln-service`
 * wraps, with the same `payViaPaymentRequest` / `getPayment` calls. `ln-service` itself is
 * not used: its pinned dependency tree is not fully available on the registry this project
 * builds from, and it adds nothing the wallet needs. Node only (gRPC over HTTP/2 + TLS);
 * `lightning` is imported lazily on first use.
 *
 * @module
 */
import {
  type BackendLookup,
  type BackendPayment,
  type BackendPayRequest,
  isLightningBackendError,
  type LightningBackend,
  LightningBackendError,
  withDeadline,
} from './backend.js';

/** The calls of the `lightning` package this backend uses (structural, to stay decoupled). */
interface LightningLibrary {
  authenticatedLndGrpc(args: { cert?: string; macaroon: string; socket: string }): {
    lnd: unknown;
  };
  payViaPaymentRequest(args: {
    lnd: unknown;
    request: string;
    max_fee_mtokens: string;
    pathfinding_timeout?: number;
  }): Promise<{ secret: string; fee_mtokens?: string; id: string }>;
  getPayment(args: { lnd: unknown; id: string }): Promise<{
    is_confirmed: boolean;
    is_failed: boolean;
    is_pending: boolean;
    payment?: { secret: string; fee_mtokens?: string };
  }>;
}

/** Options of {@link lndGrpcBackend}: an authenticated `lnd` object, or how to make one. */
export type LndGrpcOptions =
  | {
      /** `authenticatedLndGrpc(...).lnd` from `lightning` or `ln-service`. */
      readonly lnd: unknown;
    }
  | {
      /** `host:port` of LND's gRPC interface (default port 10009). */
      readonly socket: string;
      /** LND's `tls.cert`, base64 or hex (PEM content base64-encoded). */
      readonly cert?: string;
      /** A macaroon with `offchain:read` and `offchain:write` (pay-only), base64 or hex. */
      readonly macaroon: string;
    };

// Outcomes `lightning` reports from a FAILED payment (nothing was paid).
const NOT_PAID = new Set([
  'PaymentRejectedByDestination',
  'InsufficientBalanceToAttemptPayment',
  'PaymentPathfindingFailedToFindPossibleRoute',
  'FailedToFindPayableRouteToDestination',
  'PaymentAttemptsTimedOut',
  'PaymentExecutionCanceled',
]);

/**
 * A {@link LightningBackend} on LND's gRPC API: pays with `routerrpc.SendPaymentV2` (an
 * explicit `fee_limit_msat`: LND treats an absent cap as "free routes only") and looks
 * payments up with `TrackPaymentV2` (`getPayment`), for reconciliation after a timeout.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { lightningWallet } from '@stipend/wallet-lightning';
 * import { lndGrpcBackend } from '@stipend/wallet-lightning/lnd-grpc';
 *
 * const backend = lndGrpcBackend({
 *   socket: '127.0.0.1:10009',
 *   cert: readFileSync('tls.cert').toString('base64'),
 *   macaroon: readFileSync('pay.macaroon').toString('hex'),
 * });
 * const wallet = lightningWallet({ backend, network: 'mainnet' });
 * ```
 */
export function lndGrpcBackend(options: LndGrpcOptions): LightningBackend {
  let ready: Promise<{ lib: LightningLibrary; lnd: unknown }> | undefined;
  let own: unknown;
  const connect = () => {
    ready ??= (async () => {
      const module = (await import('lightning')) as unknown as {
        default?: LightningLibrary;
      } & LightningLibrary;
      const lib = module.default ?? module;
      if ('lnd' in options) return { lib, lnd: options.lnd };
      own = lib.authenticatedLndGrpc({
        socket: options.socket,
        macaroon: options.macaroon,
        ...(options.cert ? { cert: options.cert } : {}),
      }).lnd;
      return { lib, lnd: own };
    })();
    return ready;
  };

  return {
    name: 'lnd-grpc',

    async pay(request: BackendPayRequest): Promise<BackendPayment> {
      let connection: Awaited<ReturnType<typeof connect>>;
      try {
        connection = await connect();
      } catch (error) {
        ready = undefined; // try again on the next payment
        // Nothing was sent: the gRPC client was never made.
        throw new LightningBackendError(
          'connect_failed',
          `LND gRPC: could not connect (${(error as Error)?.message ?? String(error)}); check lndGrpcBackend({ socket, cert, macaroon }) and that the lightning package is installed`,
          'not_paid',
          error,
        );
      }
      const { lib, lnd } = connection;
      let result: Awaited<ReturnType<LightningLibrary['payViaPaymentRequest']>>;
      try {
        result = await withDeadline(
          lib.payViaPaymentRequest({
            lnd,
            request: request.invoice,
            max_fee_mtokens: request.maxFeeMsat.toString(),
            pathfinding_timeout: request.timeoutMs,
          }),
          request.timeoutMs,
          'LND (SendPaymentV2)',
        );
      } catch (error) {
        throw classify(error);
      }
      return {
        preimage: result.secret,
        ...(result.fee_mtokens !== undefined ? { feeMsat: BigInt(result.fee_mtokens) } : {}),
      };
    },

    async lookup(paymentHash: string): Promise<BackendLookup> {
      const { lib, lnd } = await connect();
      try {
        const found = await lib.getPayment({ lnd, id: paymentHash });
        if (found.is_confirmed && found.payment) {
          return {
            status: 'succeeded',
            preimage: found.payment.secret,
            ...(found.payment.fee_mtokens !== undefined
              ? { feeMsat: BigInt(found.payment.fee_mtokens) }
              : {}),
          };
        }
        if (found.is_failed) return { status: 'failed' };
        return { status: 'pending' };
      } catch (error) {
        if (Array.isArray(error) && error[1] === 'SentPaymentNotFound') {
          return { status: 'not_found' };
        }
        throw error;
      }
    },

    close(): void {
      // Only the gRPC clients this backend made itself; a given `lnd` belongs to its owner.
      for (const client of Object.values((own ?? {}) as Record<string, { close?(): void }>)) {
        client?.close?.();
      }
    },
  };
}

/** Maps `lightning`'s `[code, message, details]` errors to a backend error. */
function classify(error: unknown): LightningBackendError {
  if (isLightningBackendError(error)) return error;
  if (!Array.isArray(error)) {
    return new LightningBackendError('unexpected', String(error), 'unknown', error);
  }
  const [status, code, details] = error as [number, string, { err?: { details?: string } }?];
  const text = details?.err?.details ?? '';
  if (NOT_PAID.has(code)) return new LightningBackendError(code, `LND: ${code}`, 'not_paid', error);
  if (/already paid|in transition/i.test(text)) {
    // Another attempt owns this hash: the lookup says how it ended.
    return new LightningBackendError('already_paid', `LND: ${text}`, 'unknown', error);
  }
  if (status === 400 || /invoice expired|invalid payment request/i.test(text)) {
    return new LightningBackendError(
      code,
      `LND refused: ${code} ${text}`.trim(),
      'not_paid',
      error,
    );
  }
  return new LightningBackendError(
    code ?? 'unexpected',
    `LND: ${code} ${text}`.trim(),
    'unknown',
    error,
  );
}
