/**
 * The `lnbtc` seller's check of a `PAYMENT-SIGNATURE` (`scheme_exact_lnbtc.md`, "Facilitator
 * Validation", "Paid-but-expired Policy", "Settlement and Replay Protection" and "Receiver Key
 * Isolation" 2.2 and 2.3), done in process: the testkit seller is its own facilitator. The
 * expected terms are the ones the seller computes from the request it received, never the
 * client's echo.
 *
 * The replay store is in memory: enough for a test process, not for a deployment (the spec
 * asks for a restart-durable one).
 *
 * @module
 */
import { bytesToHex, hexToBytes, sha256Hex } from '../lightning/bytes.js';
import { decodeInvoice, type Invoice, type LightningNetworkName } from '../lightning/invoice.js';
import type { LightningNetwork } from '../lightning/simulator.js';
import { LnbtcSellerError, type LnbtcSellerReason } from './reasons.js';

/** The `lnbtc` CAIP-2 id of each network (the first 32 hex of its genesis block hash). */
export const LNBTC_NETWORK_IDS: Readonly<Record<LightningNetworkName, string>> = {
  mainnet: 'lnbtc:000000000019d6689c085ae165831e93',
  testnet: 'lnbtc:000000000933ea01ad0ee984209779ba',
  signet: 'lnbtc:00000008819873e925422c1ff0f99f7c',
  regtest: 'lnbtc:0f9188f13cb7b2c71f2a335e3a4fc328',
};

/** An `lnbtc` payment requirement as the seller sends it. */
export interface LnbtcRequirement {
  readonly scheme: 'exact';
  readonly network: string;
  readonly amount: string;
  readonly asset: 'BTC';
  readonly payTo: string;
  readonly maxTimeoutSeconds: number;
  readonly extra: {
    readonly assetTransferMethod: 'bolt11';
    readonly paymentFlow: 'upfront';
    readonly requestHash: string;
    readonly requestBindingProfile: 'http:1';
    readonly requestBindingParams: { readonly headers: readonly string[] };
    readonly invoice?: string;
  };
}

/** An invoice the seller issued, kept for Receiver Key Isolation 2.2. */
export interface IssuedLnbtcInvoice {
  readonly bolt11: string;
  readonly network: string;
  readonly amount: string;
  readonly requestHash: string;
}

/** What {@link verifyLnbtcProof} needs. */
export interface VerifyLnbtcProof {
  /** The `PAYMENT-SIGNATURE` header value. */
  readonly header: string;
  /** The requirement computed from this request (its invoice, if any, is ignored). */
  readonly expected: LnbtcRequirement;
  /** Validation time, unix seconds. */
  readonly nowSec: number;
  readonly clockSkewSec: number;
  /** The simulated rail, asked whether the invoice was settled to the receiver. */
  readonly rail: LightningNetwork;
  /** Invoices this seller issued, by payment hash. */
  readonly issued: ReadonlyMap<string, IssuedLnbtcInvoice>;
  /** The replay store: `network:paymentHash` of every proof accepted. */
  readonly consumed: Set<string>;
}

/** A proof that passed: the payment it proves. */
export interface VerifiedLnbtcProof {
  readonly paymentHash: string;
  readonly amountMsat: bigint;
  readonly network: string;
}

function fail(reason: LnbtcSellerReason, message: string): never {
  throw new LnbtcSellerError(reason, message);
}

function decodeHeader(header: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {}
  return fail('invalid_payload', 'PAYMENT-SIGNATURE is not base64 JSON');
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('invalid_payload', `${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

/** Steps 1–3: the echoed terms against the ones computed here. */
function checkAccepted(accepted: Record<string, unknown>, expected: LnbtcRequirement): void {
  if (accepted.scheme !== 'exact') fail('unsupported_scheme', 'accepted.scheme is not exact');
  if (accepted.network !== expected.network) fail('network_mismatch', 'another network');
  if (accepted.asset !== 'BTC') fail('invalid_exact_lnbtc_asset', 'asset is not BTC');
  if (accepted.amount !== expected.amount) fail('invalid_exact_lnbtc_amount_mismatch', 'amount');
  if (accepted.payTo !== expected.payTo) fail('invalid_exact_lnbtc_pay_to_mismatch', 'payTo');
  if (accepted.maxTimeoutSeconds !== expected.maxTimeoutSeconds) {
    fail('invalid_exact_lnbtc_max_timeout_mismatch', 'maxTimeoutSeconds');
  }
  const extra = record(accepted.extra, 'accepted.extra');
  if (extra.paymentFlow !== 'upfront') fail('invalid_exact_lnbtc_payment_flow', 'not upfront');
  if (extra.assetTransferMethod !== undefined && extra.assetTransferMethod !== 'bolt11') {
    fail('invalid_exact_lnbtc_asset_transfer_method', 'not bolt11');
  }
  const { requestHash, requestBindingProfile, requestBindingParams } = extra;
  if (
    typeof requestHash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(requestHash) ||
    requestBindingProfile === undefined ||
    requestBindingParams === undefined
  ) {
    fail('invalid_exact_lnbtc_request_binding', 'the accepted binding fields are missing');
  }
  const params = record(requestBindingParams, 'requestBindingParams');
  const sameParams =
    Object.keys(params).length === 1 &&
    Array.isArray(params.headers) &&
    JSON.stringify(params.headers) === JSON.stringify(expected.extra.requestBindingParams.headers);
  if (
    requestHash !== expected.extra.requestHash ||
    requestBindingProfile !== 'http:1' ||
    !sameParams
  ) {
    fail('invalid_exact_lnbtc_request_mismatch', 'the accepted binding is not this request');
  }
}

/** Step 5: the accepted invoice against the expected terms. */
function checkInvoice(invoice: Invoice, input: VerifyLnbtcProof): void {
  const { expected } = input;
  if (invoice.description !== null || invoice.descriptionHash === null) {
    fail('invalid_exact_lnbtc_invoice_description', 'the invoice has no description hash alone');
  }
  if (invoice.descriptionHash !== expected.extra.requestHash) {
    fail('invalid_exact_lnbtc_invoice_request_mismatch', 'the invoice binds another request');
  }
  if (invoice.payeeNodeKey !== expected.payTo) {
    fail('invalid_exact_lnbtc_invoice_payee_mismatch', 'the invoice is not signed by payTo');
  }
  if (LNBTC_NETWORK_IDS[invoice.network] !== expected.network) {
    fail('invalid_exact_lnbtc_invoice_currency_mismatch', `a ${invoice.network} invoice`);
  }
  if (invoice.amountMsat === null || invoice.amountMsat.toString() !== expected.amount) {
    fail('invalid_exact_lnbtc_invoice_amount_mismatch', 'the invoice amount is not the price');
  }
  if (invoice.expirySeconds !== expected.maxTimeoutSeconds) {
    fail('invalid_exact_lnbtc_invoice_expiry_mismatch', 'expiry is not maxTimeoutSeconds');
  }
  if (invoice.timestamp > input.nowSec + input.clockSkewSec) {
    fail('invalid_exact_lnbtc_invoice_created_in_future', 'created in the future');
  }
}

/**
 * Checks a `PAYMENT-SIGNATURE` for an `lnbtc` requirement and, when every check passes,
 * consumes its payment hash (once per network). Throws an {@link LnbtcSellerError} with the
 * spec's reason otherwise; nothing is consumed then.
 *
 * @example
 * ```ts
 * import { verifyLnbtcProof } from '@stipend/testkit/lnbtc';
 * const paid = verifyLnbtcProof({ header, expected, nowSec, clockSkewSec: 60, rail, issued, consumed });
 * paid.paymentHash; // the receipt's `transaction`
 * ```
 */
export function verifyLnbtcProof(input: VerifyLnbtcProof): VerifiedLnbtcProof {
  const payload = decodeHeader(input.header);
  if (payload.x402Version !== 2) fail('invalid_payload', 'x402Version is not 2');
  const accepted = record(payload.accepted, 'accepted');
  checkAccepted(accepted, input.expected);
  const bolt11 = record(accepted.extra, 'accepted.extra').invoice;
  if (typeof bolt11 !== 'string' || bolt11 === '') {
    fail('invalid_exact_lnbtc_invoice_missing', 'accepted.extra.invoice is missing');
  }
  let invoice: Invoice;
  try {
    invoice = decodeInvoice(bolt11);
  } catch (error) {
    return fail('invalid_exact_lnbtc_invoice_decode_failed', (error as Error).message);
  }
  checkInvoice(invoice, input);

  const preimage = record(payload.payload, 'payload').preimage;
  if (preimage === undefined) fail('invalid_exact_lnbtc_preimage_missing', 'no preimage');
  if (typeof preimage !== 'string' || !/^[0-9a-f]{64}$/.test(preimage)) {
    fail('invalid_exact_lnbtc_preimage_malformed', 'not 64 lowercase hex');
  }
  if (sha256Hex(hexToBytes(preimage)) !== invoice.paymentHash) {
    fail('invalid_exact_lnbtc_preimage_hash_mismatch', 'the preimage is not the payment hash');
  }
  if (input.nowSec > invoice.expiresAt + input.clockSkewSec) {
    fail('invalid_exact_lnbtc_invoice_expired', 'past the paid-but-expired window');
  }

  // Receiver Key Isolation 2.2: only invoices issued here, for these terms.
  const issued = input.issued.get(invoice.paymentHash);
  if (
    !issued ||
    issued.bolt11 !== invoice.bolt11 ||
    issued.network !== input.expected.network ||
    issued.amount !== input.expected.amount ||
    issued.requestHash !== input.expected.extra.requestHash
  ) {
    fail(
      'exact_lnbtc_invoice_not_issued',
      'this seller did not issue that invoice for this request',
    );
  }
  // 2.3: the receiver node was paid (a preimage alone could have leaked).
  const status = input.rail.invoiceStatus(invoice.paymentHash);
  if (status?.state !== 'settled' || (status.amountPaidMsat ?? 0n) < (invoice.amountMsat ?? 0n)) {
    fail('exact_lnbtc_invoice_not_settled', 'the receiver has not been paid for that invoice');
  }
  const key = `${input.expected.network}:${invoice.paymentHash}`;
  if (input.consumed.has(key)) fail('duplicate_settlement', 'this payment was already used');
  input.consumed.add(key);
  return {
    paymentHash: bytesToHex(hexToBytes(invoice.paymentHash)),
    amountMsat: invoice.amountMsat!,
    network: input.expected.network,
  };
}
