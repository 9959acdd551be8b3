/**
 * The one BOLT 11 reader of Stipend, shared by the L402 and MPP adapters and by
 * `@stipend/wallet-lightning`: bech32 (checksum checked), the human-readable part (network,
 * amount with its multiplier), every tagged field a payer checks, and what signature
 * recovery needs (the signed bytes, the 64-byte signature and its recovery id).
 *
 * It does not recover the signer itself (that needs secp256k1, which the client does not
 * carry): `@stipend/wallet-lightning` recovers the payee key from {@link Bolt11Summary.signature}.
 * An invoice with two of a field that BOLT 11 allows once (two `p`, `s`, `h`, `n`, `x`, `c`,
 * `d`, `m` or `9`) is refused: readers that take the first and readers that take the last
 * would otherwise pay one invoice and check another.
 *
 * Dependency-free and browser-safe.
 *
 * @module
 */
import { bytesToHex } from '../internal/codec.js';

/** The Bitcoin networks a BOLT 11 prefix names. */
export type Bolt11Network = 'mainnet' | 'testnet' | 'signet' | 'regtest';

/** What signature recovery needs (BOLT 11: the signer signs SHA-256 of `message`). */
export interface Bolt11Signature {
  /** The signed bytes: the human-readable part (UTF-8) ‖ the data words before the signature, as bytes (zero-padded). */
  readonly message: Uint8Array;
  /** `r ‖ s`, 64 bytes. */
  readonly compact: Uint8Array;
  /** The recovery id, 0 to 3. */
  readonly recoveryId: number;
}

/** What an invoice says. Hex is lowercase. */
export interface Bolt11Summary {
  /** The network named by the prefix (`lnbc`, `lntb`, `lntbs`, `lnbcrt`). */
  readonly network: Bolt11Network;
  /** Amount in millisatoshi, `undefined` for an amountless invoice. */
  readonly amountMsat?: bigint;
  /** Creation time, unix seconds. */
  readonly timestamp: number;
  /** The `x` tag, or the BOLT 11 default of 3600 s when absent. */
  readonly expirySeconds: number;
  /** 32-byte payment hash (`p` tag), hex. */
  readonly paymentHash: string;
  /** The `n` tag (payee node key, 33 bytes hex) when the invoice carries one. A claim until the signature is checked. */
  readonly payeeNodeKey?: string;
  /** The `s` tag (payment secret, 32 bytes hex). */
  readonly paymentSecret?: string;
  /** The `d` tag (description), decoded as UTF-8. */
  readonly description?: string;
  /** The `h` tag (SHA-256 of a long description, 32 bytes hex). */
  readonly descriptionHash?: string;
  /** The `c` tag (min_final_cltv_expiry_delta), when present. */
  readonly minFinalCltvExpiry?: number;
  /** The `m` tag (payment metadata), hex. */
  readonly metadata?: string;
  /** The `9` tag as the indices of the feature bits that are set (bit 0 is the last bit). */
  readonly features?: readonly number[];
  /** What the wallet needs to recover the signing key. */
  readonly signature: Bolt11Signature;
}

/** CAIP-2 ids of the Bitcoin networks (bip122 + genesis block hash prefix). */
export const BITCOIN_CAIP2: Readonly<Record<Bolt11Network, string>> = {
  mainnet: 'bip122:000000000019d6689c085ae165831e93',
  testnet: 'bip122:000000000933ea01ad0ee984209779ba',
  signet: 'bip122:00000008819873e925422c1ff0f99f7c',
  regtest: 'bip122:0f9188f13cb7b2c71f2a335e3a4fc328',
};

/** BOLT 11 default expiry when the invoice has no `x` tag. */
export const DEFAULT_INVOICE_EXPIRY_SECONDS = 3600;

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const WORD: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < CHARSET.length; i++) table[CHARSET.charCodeAt(i)] = i;
  return table;
})();
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

// Tagged field types (the bech32 value of the tag letter).
const P = 1; // payment hash
const X = 6; // expiry
const FEATURES = 5; // '9'
const D = 13; // description
const S = 16; // payment secret
const N = 19; // payee node key
const H = 23; // description hash
const C = 24; // min_final_cltv_expiry_delta
const M = 27; // metadata
const LETTER: Readonly<Record<number, string>> = {
  [P]: 'p',
  [X]: 'x',
  [FEATURES]: '9',
  [D]: 'd',
  [S]: 's',
  [N]: 'n',
  [H]: 'h',
  [C]: 'c',
  [M]: 'm',
};
const utf8 = new TextDecoder();
const ascii = new TextEncoder();

// The last invoices read, by their exact text (bounded, oldest first out). Refusals are not
// kept: a hostile server's garbage costs one read per challenge either way.
const readings = new Map<string, Bolt11Summary>();
const MAX_READINGS = 64;

/**
 * Reads a BOLT 11 invoice (without recovering the signer). Throws a `TypeError` saying what
 * is wrong for anything that is not a well-formed invoice with exactly one payment hash.
 *
 * An invoice is read once: the last invoices read are kept, and the same text gives back the
 * same frozen summary (the L402 adapter and `@stipend/wallet-lightning` share one reading).
 * Its signature bytes are copied on each access, so no caller can alter what the next one
 * recovers the signer from.
 *
 * @example
 * ```ts
 * import { readBolt11 } from '@stipend/client';
 *
 * const { network, amountMsat, paymentHash, signature } = readBolt11(invoice);
 * ```
 */
export function readBolt11(invoice: string): Bolt11Summary {
  const known = typeof invoice === 'string' ? readings.get(invoice) : undefined;
  if (known !== undefined) return known;
  const summary = sealed(decodeBolt11(invoice));
  if (readings.size >= MAX_READINGS) readings.delete(readings.keys().next().value as string);
  readings.set(invoice, summary);
  return summary;
}

/** A summary frozen for sharing: the signature's bytes are copied on each access. */
function sealed(summary: Bolt11Summary): Bolt11Summary {
  const { message, compact, recoveryId } = summary.signature;
  const signature = Object.freeze({
    get message() {
      return message.slice();
    },
    get compact() {
      return compact.slice();
    },
    recoveryId,
  });
  const features = summary.features && Object.freeze([...summary.features]);
  return Object.freeze({ ...summary, ...(features ? { features } : {}), signature });
}

function decodeBolt11(invoice: string): Bolt11Summary {
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
  const words = new Uint8Array(text.length - separator - 1);
  for (let i = separator + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const word = code < 128 ? WORD[code]! : -1;
    if (word < 0) throw new TypeError(`the invoice has a non-bech32 character at ${i}`);
    words[i - separator - 1] = word;
  }
  if (!checksumOk(hrp, words)) throw new TypeError('the invoice bech32 checksum is wrong');
  const data = words.length - 6 - SIGNATURE_WORDS;
  if (data < 7) throw new TypeError('the invoice is too short to hold a timestamp and signature');

  let timestamp = 0;
  for (let i = 0; i < 7; i++) timestamp = timestamp * 32 + words[i]!;
  const fields: {
    -readonly [K in keyof Bolt11Summary]?: Bolt11Summary[K];
  } = {};
  const seen = new Set<number>();
  const once = (type: number) => {
    if (seen.has(type)) {
      throw new TypeError(
        `the invoice has two "${LETTER[type]}" fields; BOLT 11 allows one, so it is refused`,
      );
    }
    seen.add(type);
  };
  for (let at = 7; at < data; ) {
    if (at + 3 > data) throw new TypeError('the invoice has a truncated tagged field');
    const type = words[at]!;
    const length = words[at + 1]! * 32 + words[at + 2]!;
    const start = at + 3;
    at = start + length;
    if (at > data) throw new TypeError('a tagged field of the invoice runs past its end');
    switch (type) {
      // BOLT 11: readers skip p, h, s and n fields of the wrong length.
      case P:
      case S:
      case H:
        if (length !== 52) break;
        once(type);
        fields[type === P ? 'paymentHash' : type === S ? 'paymentSecret' : 'descriptionHash'] =
          bytesToHex(wordsToBytes(words, start, length, false));
        break;
      case N:
        if (length !== 53) break;
        once(type);
        fields.payeeNodeKey = bytesToHex(wordsToBytes(words, start, length, false));
        break;
      case X:
      case C: {
        once(type);
        const value = wordsToInt(words, start, at, type === X ? 'expiry' : 'min_final_cltv');
        if (type === X) fields.expirySeconds = value;
        else fields.minFinalCltvExpiry = value;
        break;
      }
      case D:
        once(type);
        fields.description = utf8.decode(wordsToBytes(words, start, length, false));
        break;
      case M:
        once(type);
        fields.metadata = bytesToHex(wordsToBytes(words, start, length, false));
        break;
      case FEATURES: {
        once(type);
        const bits: number[] = [];
        for (let i = at - 1, bit = 0; i >= start; i--, bit += 5) {
          const word = words[i]!;
          for (let j = 0; j < 5; j++) if ((word >> j) & 1) bits.push(bit + j);
        }
        fields.features = bits;
        break;
      }
      default:
        break; // r, f and unknown fields: not read here
    }
  }
  if (fields.paymentHash === undefined) {
    throw new TypeError('the invoice has no payment hash (p tag)');
  }

  const signatureBytes = wordsToBytes(words, data, SIGNATURE_WORDS, false);
  const recoveryId = signatureBytes[64]!;
  if (recoveryId > 3) throw new TypeError('the invoice signature has an invalid recovery id');
  const hrpBytes = ascii.encode(hrp);
  const body = wordsToBytes(words, 0, data, true);
  const message = new Uint8Array(hrpBytes.length + body.length);
  message.set(hrpBytes);
  message.set(body, hrpBytes.length);

  const summary = {
    network: PREFIXES[match[1]!]!,
    timestamp,
    expirySeconds: DEFAULT_INVOICE_EXPIRY_SECONDS,
    ...fields,
    paymentHash: fields.paymentHash,
    signature: { message, compact: signatureBytes.subarray(0, 64), recoveryId },
  } as { -readonly [K in keyof Bolt11Summary]: Bolt11Summary[K] };
  if (match[2] !== undefined) summary.amountMsat = amountOf(match[2], match[3] ?? '');
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

function checksumOk(hrp: string, words: Uint8Array): boolean {
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

function wordsToInt(words: Uint8Array, start: number, end: number, name: string): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 32 + words[i]!;
  if (!Number.isSafeInteger(value)) throw new TypeError(`the invoice ${name} is too large`);
  return value;
}

/**
 * 5-bit words to bytes. Without `pad`, trailing bits that do not fill a byte are dropped (a
 * 52-word field holds 32 bytes + 4 bits); with `pad`, they are zero-filled into a last byte.
 */
function wordsToBytes(words: Uint8Array, start: number, count: number, pad: boolean): Uint8Array {
  const out = new Uint8Array(pad ? Math.ceil((count * 5) / 8) : Math.floor((count * 5) / 8));
  let acc = 0;
  let bits = 0;
  let index = 0;
  for (let i = start; i < start + count; i++) {
    acc = ((acc << 5) | words[i]!) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      if (index < out.length) out[index++] = (acc >> bits) & 0xff;
    }
  }
  if (pad && bits > 0 && index < out.length) out[index] = (acc << (8 - bits)) & 0xff;
  return out;
}
