/**
 * LND over its REST gateway, with `fetch` only: usable in Node and in browsers.
 *
 * @module
 */
import {
  type BackendInvoice,
  type BackendInvoiceRequest,
  type BackendInvoiceState,
  type BackendLookup,
  type BackendPayment,
  type BackendPayRequest,
  isLightningBackendError,
  type LightningBackend,
  LightningBackendError,
} from './backend.js';
import { bytesToHex, fromBase64, hexToBytes, toStdBase64 } from './bytes.js';

/** Options of {@link lndRestBackend}. */
export interface LndRestOptions {
  /** LND's REST address, e.g. `https://127.0.0.1:8080`. */
  readonly url: string;
  /** A pay-only macaroon (`offchain:read`, `offchain:write`), hex or base64. */
  readonly macaroon: string;
  /**
   * The fetch to use: in Node, one that trusts LND's self-signed certificate (an undici
   * `Agent` with its `tls.cert`). Default `globalThis.fetch`.
   */
  readonly fetch?: typeof fetch;
}

/** One `lnrpc.Payment` as the REST gateway renders it (int64 as strings). */
interface RestPayment {
  readonly payment_hash?: string;
  readonly status?: string;
  readonly payment_preimage?: string;
  readonly fee_msat?: string;
  readonly failure_reason?: string;
}

/**
 * A {@link LightningBackend} on LND's REST API: `POST /v2/router/send` (SendPaymentV2, an
 * explicit `fee_limit_msat`, final update only) and `GET /v2/router/track/{hash}`
 * (TrackPaymentV2) for reconciliation. The macaroon goes in `Grpc-Metadata-macaroon` (hex).
 *
 * @example
 * ```ts
 * import { lightningWallet, lndRestBackend } from '@stipend/wallet-lightning';
 * const wallet = lightningWallet({
 *   network: 'mainnet',
 *   backend: lndRestBackend({ url: 'https://my-node.example:8080', macaroon: payMacaroonHex }),
 * });
 * ```
 */
export function lndRestBackend(options: LndRestOptions): LightningBackend {
  const base = options.url.replace(/\/+$/, '');
  const macaroon = /^[0-9a-fA-F]+$/.test(options.macaroon)
    ? options.macaroon.toLowerCase()
    : bytesToHex(fromBase64(options.macaroon));
  const doFetch = (input: string, init: RequestInit) =>
    (options.fetch ?? globalThis.fetch)(input, init);
  const headers = { 'grpc-metadata-macaroon': macaroon, 'content-type': 'application/json' };

  return {
    name: 'lnd-rest',

    async pay(request: BackendPayRequest): Promise<BackendPayment> {
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), request.timeoutMs);
      const onAbort = () => abort.abort();
      request.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const response = await doFetch(`${base}/v2/router/send`, {
          method: 'POST',
          headers,
          signal: abort.signal,
          body: JSON.stringify({
            payment_request: request.invoice,
            fee_limit_msat: request.maxFeeMsat.toString(),
            timeout_seconds: Math.max(1, Math.ceil(request.timeoutMs / 1000)),
            no_inflight_updates: true,
          }),
        });
        // With no_inflight_updates, LND sends the final update and closes the stream.
        const text = await response.text();
        const messages = text
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => parseMessage(l.trim(), response.status));
        for (const message of messages) {
          if (message.error) throw refusal(message.error);
          const payment = message.result as RestPayment | undefined;
          if (payment?.status === 'SUCCEEDED' && payment.payment_preimage) {
            return {
              preimage: payment.payment_preimage,
              ...(payment.fee_msat !== undefined ? { feeMsat: BigInt(payment.fee_msat) } : {}),
            };
          }
          if (payment?.status === 'FAILED') {
            throw new LightningBackendError(
              payment.failure_reason ?? 'FAILED',
              `LND: the payment failed (${payment.failure_reason ?? 'no reason'})`,
              'not_paid',
            );
          }
        }
        throw new LightningBackendError(
          'stream_ended',
          'LND closed the stream before a final status',
          'unknown',
        );
      } catch (error) {
        if (isLightningBackendError(error)) throw error;
        // A request that never reached LND did not pay; anything later is unknown.
        throw new LightningBackendError(
          abort.signal.aborted ? 'timeout' : 'network',
          `LND REST: ${(error as Error).message}`,
          'unknown',
          error,
        );
      } finally {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
      }
    },

    async createInvoice(request: BackendInvoiceRequest): Promise<BackendInvoice> {
      // POST /v1/invoices (AddInvoice): value_msat 0 is an amountless invoice.
      const response = await doFetch(`${base}/v1/invoices`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          value_msat: (request.amountMsat ?? 0n).toString(),
          memo: request.memo ?? '',
          expiry: String(request.expirySec),
        }),
      });
      if (!response.ok) throw new Error(`LND answered ${response.status} to POST /v1/invoices`);
      const body = (await response.json()) as { payment_request?: unknown; r_hash?: unknown };
      if (typeof body.payment_request !== 'string' || typeof body.r_hash !== 'string') {
        throw new Error('LND gave no payment_request and r_hash for the new invoice');
      }
      return {
        invoice: body.payment_request,
        paymentHash: bytesToHex(fromBase64(body.r_hash)),
      };
    },

    async lookupInvoice(paymentHash: string, lookupOptions: { signal?: AbortSignal } = {}) {
      if (!/^[0-9a-f]{64}$/.test(paymentHash)) throw new Error('paymentHash must be 64 hex digits');
      // GET /v1/invoice/{r_hash_str} (LookupInvoice, hex).
      const response = await doFetch(`${base}/v1/invoice/${paymentHash}`, {
        headers,
        ...(lookupOptions.signal ? { signal: lookupOptions.signal } : {}),
      });
      if (!response.ok) throw new Error(`LND answered ${response.status} to /v1/invoice`);
      const body = (await response.json()) as {
        state?: unknown;
        amt_paid_msat?: unknown;
        creation_date?: unknown;
        expiry?: unknown;
      };
      const paid =
        typeof body.amt_paid_msat === 'string' && /^\d{1,20}$/.test(body.amt_paid_msat)
          ? BigInt(body.amt_paid_msat)
          : undefined;
      const created = Number(body.creation_date);
      const expiry = Number(body.expiry);
      const expiresAt =
        Number.isFinite(created) && Number.isFinite(expiry) ? (created + expiry) * 1000 : undefined;
      const state =
        body.state === 'SETTLED' ? 'settled' : body.state === 'CANCELED' ? 'canceled' : 'open';
      return {
        state,
        ...(paid !== undefined ? { amountPaidMsat: paid } : {}),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
      } as BackendInvoiceState;
    },

    async balanceMsat(balanceOptions: { signal?: AbortSignal } = {}): Promise<bigint> {
      const response = await doFetch(`${base}/v1/balance/channels`, {
        headers,
        ...(balanceOptions.signal ? { signal: balanceOptions.signal } : {}),
      });
      if (!response.ok) throw new Error(`LND answered ${response.status} to /v1/balance/channels`);
      const body = (await response.json()) as { local_balance?: { msat?: unknown } };
      const msat = body.local_balance?.msat;
      if (typeof msat !== 'string' || !/^\d{1,20}$/.test(msat))
        throw new Error('LND gave no local_balance.msat');
      return BigInt(msat);
    },

    async lookup(
      paymentHash: string,
      lookupOptions: { signal?: AbortSignal } = {},
    ): Promise<BackendLookup> {
      const id = toStdBase64(hexToBytes(paymentHash)).replace(/\+/g, '-').replace(/\//g, '_');
      const response = await doFetch(
        `${base}/v2/router/track/${encodeURIComponent(id)}?no_inflight_updates=false`,
        {
          method: 'GET',
          headers,
          ...(lookupOptions.signal ? { signal: lookupOptions.signal } : {}),
        },
      );
      for await (const message of ndjson(response)) {
        if (message.error) {
          if (/isn't initiated|not found/i.test(message.error.message ?? '')) {
            return { status: 'not_found' };
          }
          throw refusal(message.error);
        }
        const payment = message.result as RestPayment | undefined;
        if (!payment) continue;
        // The first update is the current state: stop reading the stream there.
        if (payment.status === 'SUCCEEDED' && payment.payment_preimage) {
          return {
            status: 'succeeded',
            preimage: payment.payment_preimage,
            ...(payment.fee_msat !== undefined ? { feeMsat: BigInt(payment.fee_msat) } : {}),
          };
        }
        if (payment.status === 'FAILED') {
          return {
            status: 'failed',
            ...(payment.failure_reason ? { reason: payment.failure_reason } : {}),
          };
        }
        return { status: 'pending' };
      }
      return { status: 'pending' };
    },
  };
}

interface RestMessage {
  readonly result?: unknown;
  readonly error?: { readonly code?: number; readonly message?: string };
}

/** Reads newline-delimited JSON messages (grpc-gateway server streams); a JSON error body too. */
async function* ndjson(response: Response): AsyncGenerator<RestMessage> {
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (value) buffered += value;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) yield parseMessage(line, response.status);
        newline = buffered.indexOf('\n');
      }
      if (done) break;
    }
    if (buffered.trim()) yield parseMessage(buffered.trim(), response.status);
  } finally {
    await reader.cancel().catch(() => {});
  }
}

function parseMessage(line: string, status: number): RestMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { error: { code: status, message: `not JSON (HTTP ${status}): ${line.slice(0, 80)}` } };
  }
  const message = parsed as RestMessage & { code?: number; message?: string };
  // A unary error body is `{code, message}` without the `error` wrapper.
  if (message.result === undefined && message.error === undefined && message.message) {
    return { error: { code: message.code ?? status, message: message.message } };
  }
  return message;
}

/** An error LND sent before paying: nothing moved, unless another attempt owns the hash. */
function refusal(error: { code?: number; message?: string }): LightningBackendError {
  const text = error.message ?? 'unknown error';
  if (/already paid|in transition|already exists/i.test(text)) {
    return new LightningBackendError('already_paid', `LND: ${text}`, 'unknown');
  }
  return new LightningBackendError(
    `lnd_${error.code ?? 'error'}`,
    `LND refused: ${text}`,
    'not_paid',
  );
}
