/**
 * BOLT 11 decoding with signature recovery, for the checks made before paying.
 *
 * @module
 */
import bolt11 from 'bolt11';

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

// `bolt11@1.4.1` only knows bc/tb/bcrt/sb by default and throws on signet's `tbs`: every
// network is passed explicitly (ENVIRONMENT.md quirk).
const NETWORKS: Readonly<Record<LightningNetworkName, bolt11.Network>> = {
  mainnet: { bech32: 'bc', pubKeyHash: 0x00, scriptHash: 0x05, validWitnessVersions: [0, 1] },
  testnet: { bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
  signet: { bech32: 'tbs', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
  regtest: { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
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
}

/** Thrown by {@link decodeInvoice} for anything but a valid, signed invoice. */
export class InvoiceError extends TypeError {
  override name = 'InvoiceError';
}

/**
 * Decodes a BOLT 11 invoice on any of the four networks and recovers the payee key from its
 * signature (`bolt11` package: native secp256k1 when available). Amounts are msat.
 *
 * @example
 * ```ts
 * import { decodeInvoice } from '@stipend/wallet-lightning';
 * const { network, amountMsat, paymentHash, payeeNodeKey, expiresAt } = decodeInvoice(invoice);
 * ```
 */
export function decodeInvoice(invoice: string): DecodedInvoice {
  const text = invoice.trim().toLowerCase();
  const network = networkOfInvoice(text);
  if (network === undefined) {
    throw new InvoiceError('not a BOLT 11 invoice: expected a prefix lnbc, lntb, lntbs or lnbcrt');
  }
  let decoded: ReturnType<typeof bolt11.decode>;
  try {
    decoded = bolt11.decode(text, NETWORKS[network]);
  } catch (error) {
    throw new InvoiceError(`invalid BOLT 11 invoice: ${(error as Error).message}`);
  }
  const tags = decoded.tagsObject;
  if (!tags.payment_hash || !/^[0-9a-f]{64}$/.test(tags.payment_hash)) {
    throw new InvoiceError('the invoice has no 32-byte payment hash (p tag)');
  }
  if (!decoded.payeeNodeKey) throw new InvoiceError('no key could be recovered from the signature');
  const expirySeconds =
    typeof tags.expire_time === 'number' ? tags.expire_time : DEFAULT_INVOICE_EXPIRY_SECONDS;
  const timestamp = decoded.timestamp ?? 0;
  const out: { -readonly [K in keyof DecodedInvoice]: DecodedInvoice[K] } = {
    invoice: text,
    network,
    paymentHash: tags.payment_hash,
    timestamp,
    expirySeconds,
    expiresAt: timestamp + expirySeconds,
    payeeNodeKey: decoded.payeeNodeKey,
  };
  if (decoded.millisatoshis) out.amountMsat = BigInt(decoded.millisatoshis);
  if (typeof tags.description === 'string') out.description = tags.description;
  return out;
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
