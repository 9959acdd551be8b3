/**
 * A small, dependency-free BOLT 11 reader for pricing L402 offers in the client: bech32
 * (checksum checked), the human-readable part (network, amount with its multiplier) and the
 * tagged fields the client needs (payment hash, expiry, payee key when present).
 *
 * It does NOT recover the signature: the client cannot tell who signed the invoice. The
 * Lightning wallet decodes the invoice again with signature recovery before paying.
 *
 * @module
 */

/** The Bitcoin networks a BOLT 11 prefix names. */
export type Bolt11Network = 'mainnet' | 'testnet' | 'signet' | 'regtest';

/** What the client reads from an invoice. */
export interface Bolt11Summary {
  /** The network named by the prefix (`lnbc`, `lntb`, `lntbs`, `lnbcrt`). */
  readonly network: Bolt11Network;
  /** Amount in millisatoshi, `undefined` for an amountless invoice. */
  readonly amountMsat?: bigint;
  /** Creation time, unix seconds. */
  readonly timestamp: number;
  /** The `x` tag, or the BOLT 11 default of 3600 s when absent. */
  readonly expirySeconds: number;
  /** 32-byte payment hash, lowercase hex. */
  readonly paymentHash: string;
  /** The `n` tag (payee node key, 33 bytes hex) when the invoice carries one. */
  readonly payeeNodeKey?: string;
}

/** BOLT 11 default expiry when the invoice has no `x` tag. */
export const DEFAULT_INVOICE_EXPIRY_SECONDS = 3600;

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
const PREFIXES: Readonly<Record<string, Bolt11Network>> = {
  bc: 'mainnet',
  tb: 'testnet',
  tbs: 'signet',
  bcrt: 'regtest',
};
// msat per unit of each multiplier: 1 BTC = 1e11 msat.
const MULTIPLIER_MSAT: Readonly<Record<string, bigint>> = {
  '': 100_000_000_000n,
  m: 100_000_000n,
  u: 100_000n,
  n: 100n,
};
const HRP = /^ln(bcrt|bc|tbs|tb)(?:([1-9]\d{0,17})([munp]?))?$/;
const SIGNATURE_WORDS = 104;
const MAX_INVOICE_LENGTH = 7089;

/**
 * Reads a BOLT 11 invoice without checking its signature. Throws a `TypeError` saying what
 * is wrong for anything that is not a well-formed invoice with a payment hash.
 *
 * @example
 * ```ts
 * import { readBolt11 } from '@stipend/client';
 *
 * const { network, amountMsat, paymentHash } = readBolt11(invoice);
 * ```
 */
export function readBolt11(invoice: string): Bolt11Summary {
  if (typeof invoice !== 'string' || invoice.length > MAX_INVOICE_LENGTH) {
    throw new TypeError('the invoice must be a BOLT 11 string of at most 7089 characters');
  }
  const text = invoice.toLowerCase();
  if (text !== invoice && invoice.toUpperCase() !== invoice) {
    throw new TypeError('the invoice mixes upper and lower case, which bech32 forbids');
  }
  const separator = text.lastIndexOf('1');
  const hrp = text.slice(0, separator);
  const match = HRP.exec(hrp);
  if (separator < 0 || !match) {
    throw new TypeError(
      `"${hrp.slice(0, 24)}" is not a BOLT 11 prefix (lnbc, lntb, lntbs or lnbcrt, then an optional amount)`,
    );
  }
  const words: number[] = [];
  for (let i = separator + 1; i < text.length; i++) {
    const word = CHARSET.indexOf(text[i]!);
    if (word < 0) throw new TypeError(`the invoice has a non-bech32 character at ${i}`);
    words.push(word);
  }
  if (!checksumOk(hrp, words)) throw new TypeError('the invoice bech32 checksum is wrong');
  const data = words.length - 6 - SIGNATURE_WORDS;
  if (data < 7) throw new TypeError('the invoice is too short to hold a timestamp and signature');

  let timestamp = 0;
  for (let i = 0; i < 7; i++) timestamp = timestamp * 32 + words[i]!;
  let paymentHash: string | undefined;
  let payeeNodeKey: string | undefined;
  let expirySeconds = DEFAULT_INVOICE_EXPIRY_SECONDS;
  for (let at = 7; at < data; ) {
    if (at + 3 > data) throw new TypeError('the invoice has a truncated tagged field');
    const type = words[at]!;
    const length = words[at + 1]! * 32 + words[at + 2]!;
    const start = at + 3;
    at = start + length;
    if (at > data) throw new TypeError('a tagged field of the invoice runs past its end');
    // BOLT 11: readers skip p and n fields of the wrong length and use the first valid one.
    if (type === 1 && length === 52 && paymentHash === undefined) {
      paymentHash = toHex(wordsToBytes(words, start, length, 32));
    } else if (type === 19 && length === 53 && payeeNodeKey === undefined) {
      payeeNodeKey = toHex(wordsToBytes(words, start, length, 33));
    } else if (type === 6) {
      let value = 0;
      for (let i = start; i < at; i++) value = value * 32 + words[i]!;
      if (!Number.isSafeInteger(value)) throw new TypeError('the invoice expiry is too large');
      expirySeconds = value;
    }
  }
  if (paymentHash === undefined) throw new TypeError('the invoice has no payment hash (p tag)');

  const summary: {
    network: Bolt11Network;
    amountMsat?: bigint;
    timestamp: number;
    expirySeconds: number;
    paymentHash: string;
    payeeNodeKey?: string;
  } = { network: PREFIXES[match[1]!]!, timestamp, expirySeconds, paymentHash };
  if (match[2] !== undefined) summary.amountMsat = amountOf(match[2], match[3] ?? '');
  if (payeeNodeKey !== undefined) summary.payeeNodeKey = payeeNodeKey;
  return summary;
}

function amountOf(digits: string, multiplier: string): bigint {
  const value = BigInt(digits);
  if (multiplier === 'p') {
    // 1 pico-BTC is 0.1 msat: only multiples of 10 name a whole msat.
    if (value % 10n !== 0n) {
      throw new TypeError('a pico-BTC invoice amount must end in 0 (sub-millisatoshi amount)');
    }
    return value / 10n;
  }
  return value * MULTIPLIER_MSAT[multiplier]!;
}

function checksumOk(hrp: string, words: readonly number[]): boolean {
  let chk = 1;
  const step = (value: number) => {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ value;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i]!;
  };
  for (let i = 0; i < hrp.length; i++) step(hrp.charCodeAt(i) >> 5);
  step(0);
  for (let i = 0; i < hrp.length; i++) step(hrp.charCodeAt(i) & 31);
  for (const word of words) step(word);
  return chk === 1;
}

function wordsToBytes(words: readonly number[], start: number, count: number, size: number) {
  const out = new Uint8Array(size);
  let acc = 0;
  let bits = 0;
  let index = 0;
  for (let i = start; i < start + count && index < size; i++) {
    acc = ((acc << 5) | words[i]!) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/**
 * Lowercase hex of bytes.
 *
 * @example
 * ```ts
 * import { toHex } from './bolt11.js';
 * toHex(new Uint8Array([0xde, 0xad])); // 'dead'
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}
