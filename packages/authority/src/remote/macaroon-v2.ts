/**
 * Delegation tokens are libmacaroons version 2 binary macaroons, read and written by the
 * client's one macaroon codec (`@stipend/client/internal`). This module adds only the
 * authority's rules: a size cap checked before parsing, and `RangeError`s that say what is
 * wrong (what `decodeToken` turns into a `malformed` delegation error).
 *
 * @module
 */
import {
  decodeMacaroonV2,
  encodeMacaroonV2,
  type MacaroonCaveat,
  type MacaroonV2,
} from '@stipend/client/internal';

/** Tokens bigger than this are refused before parsing (a delegation token is a few hundred bytes). */
export const MAX_TOKEN_BYTES = 16 * 1024;

/** One caveat; first-party when `vid` is absent. */
export type CaveatPacket = MacaroonCaveat;

/** The fields of a version 2 macaroon. */
export type MacaroonPackets = MacaroonV2;

/**
 * Serialises a macaroon in the v2 binary format.
 *
 * @throws {RangeError} when the signature is not 32 bytes.
 * @example
 * ```ts
 * import { encodeMacaroon } from './macaroon-v2.js';
 * const bytes = encodeMacaroon({ identifier, caveats: [{ identifier: caveatBytes }], signature });
 * ```
 */
export function encodeMacaroon(macaroon: MacaroonPackets): Uint8Array {
  try {
    return encodeMacaroonV2(macaroon);
  } catch (error) {
    throw new RangeError((error as Error).message, { cause: error });
  }
}

/**
 * Parses a v2 binary macaroon of at most {@link MAX_TOKEN_BYTES}. Throws a `RangeError`
 * saying what is wrong for anything that is not exactly one well-formed macaroon.
 *
 * @example
 * ```ts
 * import { decodeMacaroon } from './macaroon-v2.js';
 * const { identifier, caveats, signature } = decodeMacaroon(bytes);
 * ```
 */
export function decodeMacaroon(bytes: Uint8Array): MacaroonPackets {
  if (bytes.length > MAX_TOKEN_BYTES) {
    throw new RangeError(
      `the token is ${bytes.length} bytes, above the ${MAX_TOKEN_BYTES} allowed`,
    );
  }
  try {
    return decodeMacaroonV2(bytes);
  } catch (error) {
    throw new RangeError((error as Error).message, { cause: error });
  }
}
