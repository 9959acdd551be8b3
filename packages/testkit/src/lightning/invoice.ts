import { secp256k1 } from '@noble/curves/secp256k1.js';
import bolt11 from 'bolt11';
import { bytesToHex, hexToBytes, isHex32, randomBytes32 } from './bytes.js';

/**
 * Real, signed BOLT 11 invoices made offline with a local node key (`bolt11@1.4.1` for the
 * encoding and signature). Nothing here needs a Lightning node: the invoices are
 * byte-for-byte what an LND node with that key would print, and any BOLT 11 decoder
 * recovers the node key from the signature.
 */

/** Bitcoin networks a BOLT 11 invoice can name. */
export type LightningNetworkName = 'mainnet' | 'testnet' | 'signet' | 'regtest';

interface Bolt11Network {
  bech32: string;
  pubKeyHash: number;
  scriptHash: number;
  validWitnessVersions: number[];
}

/**
 * Network objects for `bolt11@1.4.1`. Regtest and signet must be passed explicitly (the
 * package rejects `lntbs` and only knows `bcrt` by accident of its defaults).
 */
export const BOLT11_NETWORKS: Readonly<Record<LightningNetworkName, Bolt11Network>> = {
  mainnet: { bech32: 'bc', pubKeyHash: 0x00, scriptHash: 0x05, validWitnessVersions: [0, 1] },
  testnet: { bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
  signet: { bech32: 'tbs', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
  regtest: { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
};

/** Invoice prefix (`ln` + bech32 network) per network. */
export const INVOICE_PREFIXES: Readonly<Record<LightningNetworkName, string>> = {
  mainnet: 'lnbc',
  testnet: 'lntb',
  signet: 'lntbs',
  regtest: 'lnbcrt',
};

/** BOLT 11 default expiry when an invoice has no `x` tag. */
export const DEFAULT_BOLT11_EXPIRY_SECONDS = 3600;

/** LND's default `AddInvoice` expiry (24 h), which aperture's invoices inherit. */
export const LND_DEFAULT_EXPIRY_SECONDS = 86_400;

/** A secp256k1 node identity key. */
export interface NodeKey {
  /** 32-byte secret key, lowercase hex. */
  privateKeyHex: string;
  /** 33-byte compressed public key, lowercase hex: the node id / pubkey. */
  publicKeyHex: string;
}

/**
 * Makes a node key, random unless a private key is given.
 *
 * @example
 * ```ts
 * import { createNodeKey } from '@stipend/testkit/l402';
 * const key = createNodeKey();
 * key.publicKeyHex; // '02…' or '03…', 66 hex chars
 * ```
 */
export function createNodeKey(privateKeyHex?: string): NodeKey {
  const secret =
    privateKeyHex === undefined ? secp256k1.utils.randomSecretKey() : hexToBytes(privateKeyHex);
  if (!secp256k1.utils.isValidSecretKey(secret)) {
    throw new RangeError('node private key must be 32 bytes in 1..n-1 (hex)');
  }
  return {
    privateKeyHex: bytesToHex(secret),
    publicKeyHex: bytesToHex(secp256k1.getPublicKey(secret, true)),
  };
}

/** Options of {@link createInvoice}. */
export interface CreateInvoiceOptions {
  /** The payee node key that signs the invoice. */
  nodeKey: NodeKey;
  /** Default `regtest` (`lnbcrt…`). */
  network?: LightningNetworkName;
  /** Amount in millisatoshis; omit for an amountless invoice. */
  amountMsat?: bigint;
  /** 32-byte payment hash, lowercase hex. */
  paymentHash: string;
  /** 32-byte payment secret (`s` tag), lowercase hex; random when omitted. */
  paymentSecret?: string;
  /** `d` tag; default empty (LND writes an empty memo too). aperture uses `L402`/`LSAT`. */
  description?: string;
  /**
   * `h` tag (BOLT 11 `purpose_commit_hash`): the SHA-256 of a long description, 32 bytes as
   * lowercase hex. With it the invoice carries no `d` tag (BOLT 11: one or the other), as LND
   * writes it for `description_hash`; x402 `lnbtc` puts the request hash here. Signed like
   * every other field.
   */
  descriptionHash?: string;
  /**
   * `x` tag in seconds. Default {@link LND_DEFAULT_EXPIRY_SECONDS}; `null` writes no `x`
   * tag, so decoders must apply the BOLT 11 default of 3600 s.
   */
  expirySeconds?: number | null;
  /** Creation time, unix seconds; default now. */
  timestamp?: number;
  /** `c` tag; default 80 (LND's default final CLTV delta). */
  minFinalCltvExpiry?: number;
  /** Also write the `n` tag (payee node key). LND does not by default. */
  includePayeeNodeKey?: boolean;
}

/** An invoice as created or decoded. */
export interface Invoice {
  /** The BOLT 11 string. */
  bolt11: string;
  network: LightningNetworkName;
  /** Amount in msat, `null` when amountless. */
  amountMsat: bigint | null;
  paymentHash: string;
  paymentSecret: string | null;
  description: string | null;
  /** The `h` tag (description hash), lowercase hex, or `null` when absent. */
  descriptionHash: string | null;
  /** Creation time, unix seconds. */
  timestamp: number;
  /** Expiry in seconds (the `x` tag, or 3600 when absent). */
  expirySeconds: number;
  /** Whether the invoice carries an explicit `x` tag. */
  hasExpiryTag: boolean;
  /** `timestamp + expirySeconds`, unix seconds. */
  expiresAt: number;
  /** Compressed payee key recovered from the signature (or from the `n` tag when present). */
  payeeNodeKey: string;
  minFinalCltvExpiry: number | null;
}

/** Thrown when a string is not a valid BOLT 11 invoice. */
export class InvoiceDecodeError extends Error {
  override readonly name = 'InvoiceDecodeError';
}

/**
 * Creates a real signed BOLT 11 invoice with a local node key: payment hash, payment secret
 * (with the `var_onion_optin` + `payment_secret` feature bits that make it valid), description,
 * expiry and timestamp.
 *
 * @example
 * ```ts
 * import { createInvoice, createNodeKey, sha256Hex, randomBytes32, bytesToHex } from '@stipend/testkit/l402';
 * const preimage = randomBytes32();
 * const invoice = createInvoice({
 *   nodeKey: createNodeKey(),
 *   amountMsat: 100_000n,
 *   paymentHash: sha256Hex(preimage),
 *   description: 'L402',
 * });
 * invoice.bolt11; // 'lnbcrt1u1p…'
 * ```
 */
export function createInvoice(options: CreateInvoiceOptions): Invoice {
  const network = options.network ?? 'regtest';
  if (!isHex32(options.paymentHash)) {
    throw new TypeError('paymentHash must be 64 lowercase hex characters (32 bytes)');
  }
  const paymentSecret = options.paymentSecret ?? bytesToHex(randomBytes32());
  if (!isHex32(paymentSecret)) {
    throw new TypeError('paymentSecret must be 64 lowercase hex characters (32 bytes)');
  }
  if (options.descriptionHash !== undefined) {
    if (!isHex32(options.descriptionHash)) {
      throw new TypeError('descriptionHash must be 64 lowercase hex characters (32 bytes)');
    }
    if (options.description !== undefined) {
      throw new TypeError('pass description or descriptionHash, not both (BOLT 11 d or h tag)');
    }
  }
  if (options.amountMsat !== undefined && options.amountMsat <= 0n) {
    throw new RangeError('amountMsat must be positive; omit it for an amountless invoice');
  }
  const expirySeconds =
    options.expirySeconds === undefined ? LND_DEFAULT_EXPIRY_SECONDS : options.expirySeconds;
  if (expirySeconds !== null && (!Number.isInteger(expirySeconds) || expirySeconds <= 0)) {
    throw new RangeError('expirySeconds must be a positive integer, or null for no x tag');
  }
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);

  const tags: Array<{ tagName: string; data: bolt11.TagData }> = [
    { tagName: 'payment_hash', data: options.paymentHash },
    { tagName: 'payment_secret', data: paymentSecret },
    options.descriptionHash === undefined
      ? { tagName: 'description', data: options.description ?? '' }
      : { tagName: 'purpose_commit_hash', data: options.descriptionHash },
  ];
  if (expirySeconds !== null) tags.push({ tagName: 'expire_time', data: expirySeconds });
  tags.push({ tagName: 'min_final_cltv_expiry', data: options.minFinalCltvExpiry ?? 80 });
  if (options.includePayeeNodeKey) {
    tags.push({ tagName: 'payee_node_key', data: options.nodeKey.publicKeyHex });
  }
  tags.push({
    tagName: 'feature_bits',
    data: {
      word_length: 4,
      var_onion_optin: { required: true },
      payment_secret: { required: true },
    },
  });

  const unsigned = bolt11.encode(
    {
      network: BOLT11_NETWORKS[network],
      timestamp,
      ...(options.amountMsat === undefined ? {} : { millisatoshis: options.amountMsat.toString() }),
      tags,
    },
    false,
  );
  const signed = bolt11.sign(unsigned, options.nodeKey.privateKeyHex);
  if (!signed.paymentRequest) throw new Error('bolt11.sign returned no payment request');
  return decodeInvoice(signed.paymentRequest);
}

/**
 * Decodes and signature-checks a BOLT 11 invoice on any of the four networks (the payee key
 * is recovered from the signature; with an `n` tag it must match). Amounts come back in msat.
 *
 * @example
 * ```ts
 * import { decodeInvoice } from '@stipend/testkit/l402';
 * const { network, amountMsat, paymentHash, payeeNodeKey } = decodeInvoice('lnbcrt1u1p…');
 * ```
 */
export function decodeInvoice(paymentRequest: string): Invoice {
  const text = paymentRequest.trim().toLowerCase();
  const network = networkOfPrefix(text);
  if (network === undefined) {
    throw new InvoiceDecodeError(
      'not a BOLT 11 invoice: expected a prefix lnbc, lntb, lntbs or lnbcrt',
    );
  }
  let decoded: ReturnType<typeof bolt11.decode>;
  try {
    decoded = bolt11.decode(text, BOLT11_NETWORKS[network]);
  } catch (error) {
    throw new InvoiceDecodeError(`invalid BOLT 11 invoice: ${(error as Error).message}`);
  }
  const tags = decoded.tagsObject;
  if (!tags.payment_hash) throw new InvoiceDecodeError('invoice has no payment hash (p tag)');
  if (!decoded.payeeNodeKey) throw new InvoiceDecodeError('invoice signature recovered no key');
  const hasExpiryTag = typeof tags.expire_time === 'number';
  const expirySeconds = hasExpiryTag ? (tags.expire_time as number) : DEFAULT_BOLT11_EXPIRY_SECONDS;
  const timestamp = decoded.timestamp ?? 0;
  return {
    bolt11: text,
    network,
    amountMsat: decoded.millisatoshis ? BigInt(decoded.millisatoshis) : null,
    paymentHash: tags.payment_hash,
    paymentSecret: tags.payment_secret ?? null,
    description: tags.description ?? null,
    descriptionHash: tags.purpose_commit_hash ?? null,
    timestamp,
    expirySeconds,
    hasExpiryTag,
    expiresAt: timestamp + expirySeconds,
    payeeNodeKey: decoded.payeeNodeKey,
    minFinalCltvExpiry: tags.min_final_cltv_expiry ?? null,
  };
}

function networkOfPrefix(text: string): LightningNetworkName | undefined {
  // Longest prefixes first: lnbcrt before lnbc, lntbs before lntb.
  if (text.startsWith('lnbcrt')) return 'regtest';
  if (text.startsWith('lntbs')) return 'signet';
  if (text.startsWith('lntb')) return 'testnet';
  if (text.startsWith('lnbc')) return 'mainnet';
  return undefined;
}
