import { bytesToHex, hexToBytes, isHex32 } from '../lightning/bytes.js';

/** Length of an aperture L402 macaroon identifier: uint16 version ‖ payment hash ‖ token id. */
export const L402_IDENTIFIER_LENGTH = 66;

/** The only identifier version aperture knows. */
export const L402_IDENTIFIER_VERSION = 0;

/** Decoded L402 macaroon identifier (protocols/l402.md §2.1). */
export interface L402Identifier {
  version: number;
  /** 32 bytes, lowercase hex: the invoice payment hash the token is bound to. */
  paymentHash: string;
  /** 32 random bytes, lowercase hex: the token's id (root-key and metering key). */
  tokenId: string;
}

/**
 * Encodes an identifier as 66 bytes, big-endian version first.
 *
 * @example
 * ```ts
 * import { encodeL402Identifier } from '@stipend/testkit/l402';
 * const id = encodeL402Identifier({ version: 0, paymentHash, tokenId });
 * id.length; // 66
 * ```
 */
export function encodeL402Identifier(identifier: L402Identifier): Uint8Array {
  if (identifier.version !== L402_IDENTIFIER_VERSION) {
    throw new RangeError(`L402 identifier version must be 0, got ${identifier.version}`);
  }
  if (!isHex32(identifier.paymentHash) || !isHex32(identifier.tokenId)) {
    throw new TypeError('paymentHash and tokenId must be 64 lowercase hex characters each');
  }
  const out = new Uint8Array(L402_IDENTIFIER_LENGTH);
  out[0] = (identifier.version >> 8) & 0xff;
  out[1] = identifier.version & 0xff;
  out.set(hexToBytes(identifier.paymentHash), 2);
  out.set(hexToBytes(identifier.tokenId), 34);
  return out;
}

/**
 * Decodes a 66-byte identifier; throws for another length or an unknown version (as
 * aperture's `DecodeIdentifier` does).
 *
 * @example
 * ```ts
 * import { decodeL402Identifier, macaroonFromBase64 } from '@stipend/testkit/l402';
 * const { paymentHash, tokenId } = decodeL402Identifier(macaroonFromBase64(token).identifier);
 * ```
 */
export function decodeL402Identifier(bytes: Uint8Array): L402Identifier {
  if (bytes.length !== L402_IDENTIFIER_LENGTH) {
    throw new RangeError(
      `an L402 identifier is ${L402_IDENTIFIER_LENGTH} bytes (version, payment hash, token id), got ${bytes.length}`,
    );
  }
  const version = ((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0);
  if (version !== L402_IDENTIFIER_VERSION) {
    throw new RangeError(`unknown L402 identifier version ${version}`);
  }
  return {
    version,
    paymentHash: bytesToHex(bytes.subarray(2, 34)),
    tokenId: bytesToHex(bytes.subarray(34, 66)),
  };
}
