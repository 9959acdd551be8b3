/**
 * A small reader for L402 macaroons (libmacaroons v2 binary, base64): the identifier
 * (version ‖ payment hash ‖ token id) and the first-party caveats. Read-only: the client only
 * inspects tokens (to key its credential cache, cross-check the payment hash and expire
 * credentials early) and always sends them back exactly as received.
 *
 * @module
 */
import { toHex } from '../bolt11.js';

/** What the client reads from an L402 token that decodes as a v2 macaroon. */
export interface MacaroonInfo {
  /** The location field (`lsat` for aperture tokens), or `''`; bytes that are not UTF-8 read as U+FFFD. */
  readonly location: string;
  /** The raw identifier. */
  readonly identifier: Uint8Array;
  /**
   * The L402 identifier fields, when the identifier is 66 bytes (aperture layout). A
   * macaroon without them is NOT an opaque token: it cannot be bound to an invoice, so the
   * L402 adapter refuses it.
   */
  readonly l402?: {
    /** uint16 version; aperture knows only 0. */
    readonly version: number;
    /** 32 bytes, lowercase hex: the payment hash the token is bound to. */
    readonly paymentHash: string;
    /** 32 bytes, lowercase hex. */
    readonly tokenId: string;
  };
  /** First-party caveats as text (`condition=value`), in order. */
  readonly caveats: readonly string[];
  /** How many third-party caveats the token has (the client never discharges them). */
  readonly thirdPartyCaveats: number;
  /** Service names of the last `services` caveat, or `[]` when there is none. */
  readonly services: readonly string[];
  /** The earliest expiry found in `*_valid_until` (s) and `expiration` (ms) caveats, ms epoch. */
  readonly expiresAt?: number;
}

const FIELD_EOS = 0;
const FIELD_LOCATION = 1;
const FIELD_IDENTIFIER = 2;
const FIELD_VID = 4;
const FIELD_SIGNATURE = 6;
// Lenient: bytes that are not UTF-8 (a location, a caveat) do not make a macaroon opaque; the
// token is still a macaroon, bound (or not) to the invoice by its identifier.
const utf8 = new TextDecoder('utf-8');

/**
 * Reads an L402 token as a libmacaroons v2 binary macaroon in base64 (standard or URL-safe,
 * padding optional). Returns `undefined` for a token that is not one (an opaque token, paid
 * only when the adapter allows opaque tokens). A macaroon whose identifier is not the 66-byte
 * L402 layout, or whose location or caveats are not UTF-8, is still read (without `l402`).
 *
 * @example
 * ```ts
 * import { readMacaroon } from '@stipend/client';
 *
 * const info = readMacaroon(token);
 * info?.l402?.paymentHash; // must equal the invoice's payment hash
 * info?.services; // ['quotes']
 * ```
 */
export function readMacaroon(token: string): MacaroonInfo | undefined {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(token);
  } catch {
    return undefined;
  }
  try {
    return parse(bytes);
  } catch {
    return undefined;
  }
}

function parse(bytes: Uint8Array): MacaroonInfo {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = bytes[at++];
      if (byte === undefined) throw new Error('truncated');
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new Error('varint too long');
  };
  const peek = (): number => {
    const saved = at;
    const type = varint();
    at = saved;
    return type;
  };
  const field = (type: number): Uint8Array => {
    if (varint() !== type) throw new Error(`expected field ${type}`);
    if (type === FIELD_EOS) return new Uint8Array(0);
    const length = varint();
    if (at + length > bytes.length) throw new Error('truncated field');
    const out = bytes.subarray(at, at + length);
    at += length;
    return out;
  };
  if (bytes[at++] !== 2) throw new Error('not a v2 macaroon');
  const location = peek() === FIELD_LOCATION ? utf8.decode(field(FIELD_LOCATION)) : '';
  const identifier = field(FIELD_IDENTIFIER);
  field(FIELD_EOS);
  const caveats: string[] = [];
  let thirdParty = 0;
  while (peek() !== FIELD_EOS) {
    if (peek() === FIELD_LOCATION) field(FIELD_LOCATION);
    const id = field(FIELD_IDENTIFIER);
    if (peek() === FIELD_VID) {
      field(FIELD_VID);
      thirdParty++;
    } else {
      caveats.push(utf8.decode(id));
    }
    field(FIELD_EOS);
  }
  field(FIELD_EOS);
  if (field(FIELD_SIGNATURE).length !== 32 || at !== bytes.length) {
    throw new Error('bad signature');
  }

  let services: readonly string[] = [];
  let expiresAt: number | undefined;
  for (const caveat of caveats) {
    const split = caveat.indexOf('=');
    if (split < 0) continue;
    const condition = caveat.slice(0, split).trim();
    const value = caveat.slice(split + 1).trim();
    let until: number | undefined;
    if (condition === 'services') {
      services = value.split(',').map((entry) => entry.split(':')[0]!.trim());
    } else if (condition.endsWith('_valid_until') && /^\d{1,15}$/.test(value)) {
      until = Number(value) * 1000;
    } else if (condition === 'expiration' && /^\d{1,16}$/.test(value)) {
      until = Number(value);
    }
    if (until !== undefined && (expiresAt === undefined || until < expiresAt)) expiresAt = until;
  }

  const info: {
    -readonly [K in keyof MacaroonInfo]: MacaroonInfo[K];
  } = { location, identifier, caveats, thirdPartyCaveats: thirdParty, services };
  if (identifier.length === 66) {
    info.l402 = {
      version: (identifier[0]! << 8) | identifier[1]!,
      paymentHash: toHex(identifier.subarray(2, 34)),
      tokenId: toHex(identifier.subarray(34, 66)),
    };
  }
  if (expiresAt !== undefined) info.expiresAt = expiresAt;
  return info;
}

/** Decodes standard or URL-safe base64, with or without padding. Throws on anything else. */
function fromBase64(text: string): Uint8Array {
  // Trailing padding trimmed by hand: /=+$/ is quadratic on a long run of '=' followed by more.
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61) end--;
  const normal = text.slice(0, end).replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*$/.test(normal) || normal.length % 4 === 1) {
    throw new TypeError('not base64');
  }
  const binary = atob(normal + '='.repeat((4 - (normal.length % 4)) % 4));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
