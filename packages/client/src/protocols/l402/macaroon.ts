/**
 * A small reader for L402 macaroons (libmacaroons v2 binary, base64): the identifier
 * (version ‖ payment hash ‖ token id) and the first-party caveats. Read-only: the client only
 * inspects tokens (to key its credential cache, cross-check the payment hash and expire
 * credentials early) and always sends them back exactly as received.
 *
 * @module
 */
import { anyBase64ToBytes, bytesToHex } from '../../internal/codec.js';
import { decodeMacaroonV2, type MacaroonV2 } from '../../internal/macaroon.js';

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

// Lenient: bytes that are not UTF-8 (a location, a caveat) do not make a macaroon opaque; the
// token is still a macaroon, bound (or not) to the invoice by its identifier.
const utf8 = new TextDecoder('utf-8');

/**
 * Reads an L402 token as a libmacaroons v2 binary macaroon in base64 (standard or URL-safe,
 * padding optional but exact when present, canonical last character) with the one macaroon
 * codec. Returns `undefined` for a token that is not one (an opaque token, paid only when the
 * adapter allows opaque tokens). A macaroon whose identifier is not the 66-byte L402 layout,
 * or whose location or caveats are not UTF-8, is still read (without `l402`).
 *
 * A token is read once: the last tokens read are kept, and the same token gives back the same
 * frozen reading (the L402 adapter and `@stipend/wallet-lightning` share one); its
 * `identifier` bytes are copied on each access.
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
  const known = readings.get(token);
  if (known !== undefined) return known === OPAQUE ? undefined : known;
  const info = readMacaroonUncached(token);
  if (typeof token === 'string' && token.length <= MAX_KEPT_TOKEN) {
    if (readings.size >= MAX_READINGS) readings.delete(readings.keys().next().value as string);
    readings.set(token, info ?? OPAQUE);
  }
  return info;
}

// The last tokens read (bounded, oldest first out), so a challenge's token is decoded once.
const OPAQUE = Symbol('opaque');
const readings = new Map<string, MacaroonInfo | typeof OPAQUE>();
const MAX_READINGS = 64;
// The adapter refuses longer tokens before reading them.
const MAX_KEPT_TOKEN = 16_384;

/**
 * {@link readMacaroon} without its memory of recent tokens: every call decodes. For tests that
 * time the decoder itself (the memory would answer the small inputs).
 *
 * @example
 * ```ts
 * import { readMacaroonUncached } from '@stipend/client/internal';
 * readMacaroonUncached(token)?.services;
 * ```
 */
export function readMacaroonUncached(token: string): MacaroonInfo | undefined {
  let macaroon: MacaroonV2;
  try {
    macaroon = decodeMacaroonV2(anyBase64ToBytes(token), { text: 'lenient' });
  } catch {
    return undefined;
  }
  const location = macaroon.location ?? '';
  const identifier = macaroon.identifier;
  const caveats: string[] = [];
  let thirdParty = 0;
  for (const caveat of macaroon.caveats) {
    if (caveat.vid !== undefined) thirdParty++;
    else caveats.push(utf8.decode(caveat.identifier));
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

  // Frozen for sharing; the identifier's bytes are copied on each access.
  const info: {
    -readonly [K in keyof MacaroonInfo]: MacaroonInfo[K];
  } = {
    location,
    get identifier() {
      return identifier.slice();
    },
    caveats: Object.freeze(caveats),
    thirdPartyCaveats: thirdParty,
    services: Object.freeze([...services]),
  };
  if (identifier.length === 66) {
    info.l402 = Object.freeze({
      version: (identifier[0]! << 8) | identifier[1]!,
      paymentHash: bytesToHex(identifier.subarray(2, 34)),
      tokenId: bytesToHex(identifier.subarray(34, 66)),
    });
  }
  if (expiresAt !== undefined) info.expiresAt = expiresAt;
  return Object.freeze(info);
}
