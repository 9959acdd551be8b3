/**
 * Nostr Wallet Connect (NIP-47) through `@getalby/sdk` 8.0.3's `NWCClient`.
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

/**
 * The part of `@getalby/sdk`'s `NWCClient` this backend calls (so any NIP-47 client with the
 * same shape fits): `pay_invoice` and `lookup_invoice`.
 */
export interface NwcClientLike {
  payInvoice(request: { invoice: string }): Promise<{ preimage: string; fees_paid?: number }>;
  lookupInvoice(request: { payment_hash: string }): Promise<{
    state?: string;
    preimage?: string;
    fees_paid?: number;
    settled_at?: number;
  }>;
  close?(): void;
}

/** Options of {@link nwcBackend}: a connection string, or a ready client. */
export type NwcOptions =
  | {
      /** `nostr+walletconnect://…`: an `NWCClient` is made from it on first use. */
      readonly url: string;
    }
  | { readonly client: NwcClientLike };

// NIP-47 error codes that mean the wallet service refused before paying. PAYMENT_FAILED is
// not one: NIP-47 also uses it for timeouts, so it is looked up instead.
const REFUSED = new Set([
  'RATE_LIMITED',
  'NOT_IMPLEMENTED',
  'INSUFFICIENT_BALANCE',
  'QUOTA_EXCEEDED',
  'RESTRICTED',
  'UNAUTHORIZED',
  'UNSUPPORTED_ENCRYPTION',
]);

/**
 * A {@link LightningBackend} on Nostr Wallet Connect: `pay_invoice` (NIP-47 `fees_paid` is
 * msat) and `lookup_invoice` by payment hash for reconciliation. NIP-47 has no per-payment
 * fee cap: the wallet service's own budget is the fee limit, so use a connection with a
 * budget (`getBudget`) and keep Stipend's policy as the first line. A reply timeout is an
 * unknown outcome (the payment may still settle) and is looked up before anything is paid
 * again.
 *
 * @example
 * ```ts
 * import { lightningWallet, nwcBackend } from '@stipend/wallet-lightning';
 * const wallet = lightningWallet({
 *   network: 'mainnet',
 *   backend: nwcBackend({ url: process.env.NWC_URL! }),
 * });
 * ```
 */
export function nwcBackend(options: NwcOptions): LightningBackend {
  let client: Promise<NwcClientLike> | undefined;
  const connect = () => {
    client ??=
      'client' in options
        ? Promise.resolve(options.client)
        : import('@getalby/sdk/nwc').then(
            ({ NWCClient }) =>
              new NWCClient({ nostrWalletConnectUrl: options.url }) as unknown as NwcClientLike,
          );
    return client;
  };

  return {
    name: 'nwc',

    async pay(request: BackendPayRequest): Promise<BackendPayment> {
      let nwc: NwcClientLike;
      try {
        nwc = await connect();
      } catch (error) {
        client = undefined; // try again on the next payment
        // Nothing was sent: the connection was never made.
        throw new LightningBackendError(
          'connect_failed',
          `NWC: could not connect (${(error as Error)?.message ?? String(error)}); check nwcBackend({ url })`,
          'not_paid',
          error,
        );
      }
      try {
        const result = await withDeadline(
          nwc.payInvoice({ invoice: request.invoice }),
          request.timeoutMs,
          'the NWC wallet',
        );
        return {
          preimage: result.preimage,
          ...(typeof result.fees_paid === 'number' ? { feeMsat: BigInt(result.fees_paid) } : {}),
        };
      } catch (error) {
        throw classify(error);
      }
    },

    async lookup(paymentHash: string): Promise<BackendLookup> {
      const nwc = await connect();
      let found: Awaited<ReturnType<NwcClientLike['lookupInvoice']>>;
      try {
        found = await nwc.lookupInvoice({ payment_hash: paymentHash });
      } catch (error) {
        if ((error as { code?: string }).code === 'NOT_FOUND') return { status: 'not_found' };
        throw error;
      }
      if (found.state === 'settled' || (found.preimage && found.settled_at)) {
        return {
          status: 'succeeded',
          preimage: found.preimage ?? '',
          ...(typeof found.fees_paid === 'number' ? { feeMsat: BigInt(found.fees_paid) } : {}),
        };
      }
      if (found.state === 'failed') return { status: 'failed' };
      return { status: 'pending' };
    },

    close(): void {
      // Only a client this backend made from a URL; a given client belongs to its owner.
      if ('url' in options) void client?.then((c) => c.close?.()).catch(() => {});
    },
  };
}

/** `Nip47WalletError` with a refusal code: not paid. Timeouts and the rest: unknown. */
function classify(error: unknown): LightningBackendError {
  if (isLightningBackendError(error)) return error;
  const code = (error as { code?: string }).code ?? 'error';
  const kind = (error as Error)?.constructor?.name ?? '';
  const message = (error as Error)?.message ?? String(error);
  if (kind === 'Nip47WalletError' && REFUSED.has(code)) {
    return new LightningBackendError(code, `NWC wallet refused: ${message}`, 'not_paid', error);
  }
  return new LightningBackendError(code, `NWC: ${message}`, 'unknown', error);
}
