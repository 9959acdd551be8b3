/**
 * BOLT 11 decoding with signature recovery, for the checks made before paying: the
 * client's one BOLT 11 reader (`readBolt11` from `@stipend/client`) and secp256k1 public-key
 * recovery over SHA-256 of the signed bytes (`#secp-recover`: `tiny-secp256k1` in Node when
 * installed, else `@noble/curves`; browsers always get `@noble/curves`). No Node built-ins.
 *
 * @module
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { isStipendError, readBolt11, StipendError } from '@stipend/client';
import { secpRecover } from '#secp-recover';
import { bytesToHex } from './bytes.js';
import type { SecpRecover } from './secp/noble.js';

/** The Bitcoin networks a Lightning wallet can be on. */
export type LightningNetworkName = 'mainnet' | 'testnet' | 'signet' | 'regtest';

/** BOLT 11 default expiry when an invoice has no `x` tag. */
export const DEFAULT_INVOICE_EXPIRY_SECONDS = 3600;

/** The invoice prefix (`ln` + bech32 HRP) of each network. */
export const INVOICE_PREFIXES: Readonly<Record<LightningNetworkName, string>> = {
  mainnet: 'lnbc',
  testnet: 'lntb',
  signet: 'lntbs',
  regtest: 'lnbcrt',
};

/** A decoded, signature-checked invoice. */
export interface DecodedInvoice {
  /** The invoice, lower-cased. */
  readonly invoice: string;
  readonly network: LightningNetworkName;
  /** Amount in millisatoshi; `undefined` for an amountless invoice. */
  readonly amountMsat?: bigint;
  /** 32-byte payment hash, lowercase hex. */
  readonly paymentHash: string;
  /** Creation time, unix seconds. */
  readonly timestamp: number;
  /** The `x` tag, or 3600 s when absent. */
  readonly expirySeconds: number;
  /** `timestamp + expirySeconds`, unix seconds. */
  readonly expiresAt: number;
  /**
   * The payee node key recovered from the signature (33 bytes, hex). Any well-formed
   * signature recovers *some* key, so this means something only when compared with a
   * pinned key; with an `n` tag, the signature must match it.
   */
  readonly payeeNodeKey: string;
  readonly description?: string;
  /** The `h` tag (SHA-256 of the description), 32 bytes hex, when present. */
  readonly descriptionHash?: string;
}

/**
 * Thrown by {@link decodeInvoice} for anything but a valid, signed invoice. Code
 * `INVOICE_INVALID`; a Stipend error, so `isStipendError(e) && e.code === 'INVOICE_INVALID'`
 * works across copies of the packages.
 *
 * @example
 * ```ts
 * import { isStipendError } from '@stipend/client';
 * import { decodeInvoice } from '@stipend/wallet-lightning';
 * try {
 *   decodeInvoice(text);
 * } catch (error) {
 *   if (isStipendError(error) && error.code === 'INVOICE_INVALID') console.warn(error.shortMessage);
 * }
 * ```
 */
export class InvoiceError extends StipendError {
  override name = 'InvoiceError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('INVOICE_INVALID', message, { cause: options.cause });
  }
}

/**
 * Decodes a BOLT 11 invoice on any of the four networks and recovers the payee key from its
 * signature. With an `n` tag, the recovered key must be that key. Amounts are msat. An
 * invoice with a duplicated single field (two payment hashes, say) is refused.
 *
 * @example
 * ```ts
 * import { decodeInvoice } from '@stipend/wallet-lightning';
 * const { network, amountMsat, paymentHash, payeeNodeKey, expiresAt } = decodeInvoice(invoice);
 * ```
 */
export function decodeInvoice(invoice: string): DecodedInvoice {
  return decodeInvoiceWith(invoice, secpRecover);
}

/**
 * {@link decodeInvoice} with a given recovery implementation: the one decode, for tests that
 * compare implementations. Not part of the package's API.
 *
 * @internal
 * @example
 * ```ts
 * import { decodeInvoiceWith } from './invoice.js';
 * import { nobleRecover } from './secp/noble.js';
 * decodeInvoiceWith(invoice, nobleRecover).payeeNodeKey;
 * ```
 */
export function decodeInvoiceWith(invoice: string, secp: SecpRecover): DecodedInvoice {
  const text = invoice.trim().toLowerCase();
  if (networkOfInvoice(text) === undefined) {
    throw new InvoiceError('not a BOLT 11 invoice: expected a prefix lnbc, lntb, lntbs or lnbcrt');
  }
  let summary: ReturnType<typeof readBolt11>;
  try {
    summary = readBolt11(text);
  } catch (error) {
    if (isStipendError(error)) throw error;
    throw new InvoiceError(`invalid BOLT 11 invoice: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const payeeNodeKey = recoverPayee(summary.signature, secp);
  if (summary.payeeNodeKey !== undefined && summary.payeeNodeKey !== payeeNodeKey) {
    throw new InvoiceError(
      'invalid BOLT 11 invoice: the signature was not made by the payee key of its n tag',
    );
  }
  const out: { -readonly [K in keyof DecodedInvoice]: DecodedInvoice[K] } = {
    invoice: text,
    network: summary.network,
    paymentHash: summary.paymentHash,
    timestamp: summary.timestamp,
    expirySeconds: summary.expirySeconds,
    expiresAt: summary.timestamp + summary.expirySeconds,
    payeeNodeKey,
  };
  if (summary.amountMsat !== undefined) out.amountMsat = summary.amountMsat;
  if (summary.description !== undefined) out.description = summary.description;
  if (summary.descriptionHash !== undefined) out.descriptionHash = summary.descriptionHash;
  return Object.freeze(out);
}

/** The compressed key that made a BOLT 11 signature (secp256k1 recovery over SHA-256). */
function recoverPayee(
  signature: ReturnType<typeof readBolt11>['signature'],
  secp: SecpRecover,
): string {
  try {
    return bytesToHex(
      secp.recover(sha256(signature.message), signature.compact, signature.recoveryId),
    );
  } catch (error) {
    throw new InvoiceError(
      'invalid BOLT 11 invoice: no key could be recovered from its signature',
      { cause: error },
    );
  }
}

/**
 * The network an invoice's prefix names, or `undefined`.
 *
 * @example
 * ```ts
 * import { networkOfInvoice } from '@stipend/wallet-lightning';
 * networkOfInvoice('lntbs10u1p…'); // 'signet'
 * ```
 */
export function networkOfInvoice(invoice: string): LightningNetworkName | undefined {
  const text = invoice.toLowerCase();
  // Longest prefixes first: lnbcrt before lnbc, lntbs before lntb.
  if (text.startsWith('lnbcrt')) return 'regtest';
  if (text.startsWith('lntbs')) return 'signet';
  if (text.startsWith('lntb')) return 'testnet';
  if (text.startsWith('lnbc')) return 'mainnet';
  return undefined;
}
