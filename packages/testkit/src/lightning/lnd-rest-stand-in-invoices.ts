/**
 * The invoice routes of the LND REST stand-in: AddInvoice (`POST /v1/invoices`) and
 * LookupInvoice (`GET /v1/invoice/{r_hash_str}`), answered in LND's REST wire format
 * (grpc-gateway JSON: int64 as decimal strings, bytes as standard base64) from the payer's own
 * node on the simulator. They are what a Lightning session needs of the payer's node: a
 * return invoice for the refund, then its state. This is the wire protocol only, over the
 * simulator; it is not LND.
 *
 * @module
 */
import type { LightningNode } from './simulator.js';

/** An answer: the HTTP status and the JSON body. */
export interface LndRestAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** LND's cap on an invoice's expiry (one year), seconds. */
const MAX_EXPIRY_SECONDS = 365 * 24 * 3600;
/** LND's default expiry when none (or 0) is asked for, seconds. */
const DEFAULT_EXPIRY_SECONDS = 86_400;
/** LND's cap on a memo (BOLT 11 `d` tag), bytes. */
const MAX_MEMO_BYTES = 639;
const INT64_MAX = 2n ** 63n - 1n;

/** grpc-gateway's answer to a field it cannot convert: 400, gRPC InvalidArgument. */
const invalid = (message: string): LndRestAnswer => ({ status: 400, body: { code: 3, message } });
/** LND's own refusals (plain errors): 500, gRPC Unknown. */
const refused = (message: string): LndRestAnswer => ({ status: 500, body: { code: 2, message } });

/**
 * An int64 field as grpc-gateway reads it (a decimal string or a JSON integer), 0 when absent,
 * or undefined when it is not one.
 */
function int64(value: unknown): bigint | undefined {
  if (value === undefined || value === null) return 0n;
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' && Number.isSafeInteger(value)
        ? String(value)
        : undefined;
  if (text === undefined || !/^-?\d{1,19}$/.test(text)) return undefined;
  const parsed = BigInt(text);
  return parsed > INT64_MAX || parsed < -INT64_MAX - 1n ? undefined : parsed;
}

/**
 * AddInvoice: issues an invoice on `node` from LND's `lnrpc.Invoice` request body (`value` in
 * sat or `value_msat`, `memo`, `expiry` in seconds) and answers `r_hash`, `payment_request`,
 * `add_index` and `payment_addr`.
 *
 * @example
 * ```ts
 * import { addInvoice } from './lnd-rest-stand-in-invoices.js';
 * const { status, body } = addInvoice(node, { value_msat: '40000', memo: 'refund', expiry: '3600' });
 * ```
 */
export function addInvoice(node: LightningNode, request: unknown): LndRestAnswer {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return invalid('the body must be a JSON object (lnrpc.Invoice)');
  }
  const asked = request as Record<string, unknown>;
  const sat = int64(asked.value);
  const msat = int64(asked.value_msat);
  const expiry = int64(asked.expiry);
  if (sat === undefined) return invalid('value must be an int64 (sat)');
  if (msat === undefined) return invalid('value_msat must be an int64');
  if (expiry === undefined) return invalid('expiry must be an int64 (seconds)');
  if (asked.memo !== undefined && typeof asked.memo !== 'string') {
    return invalid('memo must be a string');
  }
  if (sat !== 0n && msat !== 0n) return refused('value and value_msat are mutually exclusive');
  const amount = sat !== 0n ? sat * 1000n : msat;
  if (amount < 0n) return refused('payment of negative value is not allowed');
  if (expiry < 0n) return refused('expiry must be non-negative');
  if (expiry > BigInt(MAX_EXPIRY_SECONDS)) {
    return refused(`expiry of ${expiry} seconds greater than max invoice expiry of 1 year`);
  }
  const memo = asked.memo ?? '';
  const memoBytes = Buffer.byteLength(memo, 'utf8');
  if (memoBytes > MAX_MEMO_BYTES) {
    return refused(`memo too large: ${memoBytes} bytes (maxsize=${MAX_MEMO_BYTES})`);
  }
  const issued = node.createInvoice({
    ...(amount > 0n ? { amountMsat: amount } : {}),
    ...(memo !== '' ? { description: memo } : {}),
    expirySeconds: expiry === 0n ? DEFAULT_EXPIRY_SECONDS : Number(expiry),
  });
  return {
    status: 200,
    body: {
      r_hash: Buffer.from(issued.paymentHash, 'hex').toString('base64'),
      payment_request: issued.bolt11,
      add_index: String(node.invoiceCount),
      ...(issued.paymentSecret
        ? { payment_addr: Buffer.from(issued.paymentSecret, 'hex').toString('base64') }
        : {}),
    },
  };
}

/**
 * LookupInvoice: the state of an invoice `node` issued, by payment hash (hex), as LND's
 * `lnrpc.Invoice`: `state` (`OPEN`, `ACCEPTED`, `SETTLED`, or `CANCELED` once an unpaid
 * invoice has expired, as LND's registry cancels it), `amt_paid_msat`, `creation_date`,
 * `expiry`. The preimage (`r_preimage`) is left out: nobody here needs the secret. An invoice
 * of another node is not found, as on a real node.
 *
 * @example
 * ```ts
 * import { lookupInvoice } from './lnd-rest-stand-in-invoices.js';
 * const { body } = lookupInvoice(node, '9f…'); // { state: 'SETTLED', amt_paid_msat: '34000', … }
 * ```
 */
export function lookupInvoice(node: LightningNode, hashHex: string): LndRestAnswer {
  if (!/^[0-9a-fA-F]{64}$/.test(hashHex)) {
    return invalid('r_hash_str must be a 32-byte payment hash in hex');
  }
  const found = node.lookupInvoice(hashHex.toLowerCase());
  if (!found) return { status: 404, body: { code: 5, message: 'unable to locate invoice' } };
  const { invoice } = found;
  const state =
    found.state === 'settled'
      ? 'SETTLED'
      : found.state === 'accepted'
        ? 'ACCEPTED'
        : found.expired
          ? 'CANCELED'
          : 'OPEN';
  const paid = found.amountPaidMsat ?? 0n;
  const value = invoice.amountMsat ?? 0n;
  return {
    status: 200,
    body: {
      memo: invoice.description ?? '',
      r_hash: Buffer.from(invoice.paymentHash, 'hex').toString('base64'),
      value: String(value / 1000n),
      value_msat: String(value),
      settled: state === 'SETTLED',
      creation_date: String(invoice.timestamp),
      settle_date: String(found.settledAt === null ? 0 : Math.floor(found.settledAt / 1000)),
      payment_request: invoice.bolt11,
      expiry: String(invoice.expirySeconds),
      amt_paid_sat: String(paid / 1000n),
      amt_paid_msat: String(paid),
      state,
    },
  };
}
