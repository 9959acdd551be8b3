/**
 * Hostile invoices for tests: real BOLT 11 strings re-encoded (valid bech32 checksum) with
 * extra tagged fields and a fresh signature by a given key, or with any signature bytes at all.
 *
 * @module
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes } from './bytes.js';

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** Regroups `from`-bit values into `to`-bit values (bech32 words ↔ bytes). */
export function regroup(
  values: readonly number[],
  from: number,
  to: number,
  pad: boolean,
): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const value of values) {
    acc = (acc << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & ((1 << to) - 1));
    }
    acc &= (1 << bits) - 1;
  }
  if (pad && bits > 0) out.push((acc << (to - bits)) & ((1 << to) - 1));
  return out;
}

function checksum(hrp: string, words: readonly number[]): string {
  let chk = 1;
  const values = [
    ...[...hrp].map((c) => c.charCodeAt(0) >> 5),
    0,
    ...[...hrp].map((c) => c.charCodeAt(0) & 31),
    ...words,
    0,
    0,
    0,
    0,
    0,
    0,
  ];
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
  }
  chk ^= 1;
  return [0, 1, 2, 3, 4, 5].map((i) => CHARSET[(chk >>> (5 * (5 - i))) & 31]).join('');
}

function parts(invoice: string, fields: ReadonlyArray<[type: number, words: number[]]>) {
  const separator = invoice.lastIndexOf('1');
  const hrp = invoice.slice(0, separator);
  const all = [...invoice.slice(separator + 1, -6)].map((c) => CHARSET.indexOf(c));
  const data = all.slice(0, -104);
  const extra = fields.flatMap(([type, words]) => [
    type,
    words.length >> 5,
    words.length & 31,
    ...words,
  ]);
  const words = [...data.slice(0, 7), ...extra, ...data.slice(7)];
  return { hrp, words };
}

function encode(hrp: string, words: readonly number[], signature: readonly number[]): string {
  const body = [...words, ...regroup(signature, 8, 5, true)];
  return `${hrp}1${body.map((w) => CHARSET[w]).join('')}${checksum(hrp, body)}`;
}

/** The SHA-256 a BOLT 11 signer signs: of the HRP (UTF-8) ‖ the data words as bytes. */
function signedHash(hrp: string, words: readonly number[]): Uint8Array {
  return sha256(Uint8Array.from([...new TextEncoder().encode(hrp), ...regroup(words, 5, 8, true)]));
}

/**
 * Re-signs an invoice (a real BOLT 11 signature by `privateKeyHex`) after inserting tagged
 * fields right after its timestamp: an invoice a hostile node could really issue. With
 * `highS`, the signature is the high-S twin of the one made (s → n − s, recovery id flipped):
 * still a valid signature by the same key.
 */
export function resigned(
  invoice: string,
  privateKeyHex: string,
  fields: ReadonlyArray<[type: number, words: number[]]> = [],
  options: { highS?: boolean } = {},
): string {
  const { hrp, words } = parts(invoice, fields);
  const recovered = secp256k1.sign(signedHash(hrp, words), hexToBytes(privateKeyHex), {
    prehash: false,
    format: 'recovered',
  });
  const compact = recovered.slice(1);
  let recoveryId = recovered[0]!;
  if (options.highS) {
    const n = secp256k1.Point.CURVE().n;
    const s = BigInt(
      `0x${[...compact.subarray(32)].map((b) => b.toString(16).padStart(2, '0')).join('')}`,
    );
    compact.set(hexToBytes((n - s).toString(16).padStart(64, '0')), 32);
    recoveryId ^= 1;
  }
  return encode(hrp, words, [...compact, recoveryId]);
}

/** The invoice with its signature replaced by `compact` (64 bytes) and `recoveryId`, as is. */
export function withSignature(invoice: string, compact: Uint8Array, recoveryId: number): string {
  const { hrp, words } = parts(invoice, []);
  return encode(hrp, words, [...compact, recoveryId]);
}
