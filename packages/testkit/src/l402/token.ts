import {
  bytesToHex,
  fromStdBase64,
  hexToBytes,
  randomBytes32,
  sha256Hex,
} from '../lightning/bytes.js';
import { decodeMacaroonV2, macaroonToBase64 } from '../lightning/macaroon-binary.js';
import { macaroonLib } from '../lightning/macaroon-lib.js';
import { type CaveatContext, verifyL402Caveats } from './caveats.js';
import { decodeL402Identifier, encodeL402Identifier } from './identifier.js';

/** Location aperture writes into every L402 macaroon. */
export const L402_MACAROON_LOCATION = 'lsat';

/**
 * Root keys by token id, as aperture's secret store keeps them (one fresh 32-byte key per
 * minted token).
 *
 * @example
 * ```ts
 * import { RootKeyStore } from '@stipend/testkit/l402';
 * const keys = new RootKeyStore();
 * const rootKey = keys.create(tokenId);
 * keys.revoke(tokenId); // the token no longer verifies
 * ```
 */
export class RootKeyStore {
  private readonly keys = new Map<string, Uint8Array>();

  /** Creates and stores a fresh 32-byte root key for a token id. */
  create(tokenId: string): Uint8Array {
    const key = randomBytes32();
    this.keys.set(tokenId, key);
    return key;
  }

  get(tokenId: string): Uint8Array | undefined {
    return this.keys.get(tokenId);
  }

  /** Forgets a token's root key: the token can no longer verify (aperture `RevokeSecret`). */
  revoke(tokenId: string): boolean {
    return this.keys.delete(tokenId);
  }

  get size(): number {
    return this.keys.size;
  }
}

/** A freshly minted L402 macaroon. */
export interface MintedMacaroon {
  /** Standard padded base64 of the v2 binary macaroon. */
  macaroon: string;
  tokenId: string;
  paymentHash: string;
  caveats: string[];
}

/**
 * Mints a v2 macaroon the way aperture does: identifier = version 0 ‖ payment hash ‖ random
 * token id, a new root key stored under the token id, location `lsat`, then the caveats in
 * order. Made with the `macaroon` package, serialised with our v2 binary encoder.
 *
 * @example
 * ```ts
 * import { mintL402Macaroon, RootKeyStore } from '@stipend/testkit/l402';
 * const keys = new RootKeyStore();
 * const minted = mintL402Macaroon(keys, paymentHash, ['services=quotes:0']);
 * minted.macaroon; // 'AgEEbHNhdAJC…'
 * ```
 */
export function mintL402Macaroon(
  keys: RootKeyStore,
  paymentHash: string,
  caveats: string[],
): MintedMacaroon {
  const tokenId = bytesToHex(randomBytes32());
  const identifier = encodeL402Identifier({ version: 0, paymentHash, tokenId });
  const rootKey = keys.create(tokenId);
  const m = macaroonLib.newMacaroon({
    identifier,
    location: L402_MACAROON_LOCATION,
    rootKey,
    version: 2,
  });
  for (const caveat of caveats) m.addFirstPartyCaveat(caveat);
  return { macaroon: macaroonToBase64(m), tokenId, paymentHash, caveats: [...caveats] };
}

/** Outcome of {@link verifyL402Credential}. */
export type CredentialVerdict =
  | { ok: true; tokenId: string; paymentHash: string; caveats: string[] }
  | { ok: false; reason: string; tokenId?: string; paymentHash?: string };

/**
 * Verifies an L402 credential like aperture's `VerifyL402`: decode the token (strict standard
 * base64, v2 binary), decode the identifier, check `sha256(preimage)` equals its payment hash,
 * look up the root key by token id, verify the HMAC chain, then the caveats.
 *
 * @example
 * ```ts
 * import { verifyL402Credential } from '@stipend/testkit/l402';
 * const verdict = verifyL402Credential(keys, token, preimage, { service: 'quotes', nowSeconds });
 * if (!verdict.ok) console.error(verdict.reason);
 * ```
 */
export function verifyL402Credential(
  keys: RootKeyStore,
  token: string,
  preimage: string,
  context: CaveatContext,
): CredentialVerdict {
  let tokenBytes: Uint8Array;
  let identifierBytes: Uint8Array;
  try {
    tokenBytes = fromStdBase64(token);
    identifierBytes = decodeMacaroonV2(tokenBytes).identifier;
  } catch (error) {
    return {
      ok: false,
      reason: `token is not a v2 macaroon in standard base64: ${(error as Error).message}`,
    };
  }
  let tokenId: string;
  let paymentHash: string;
  try {
    ({ tokenId, paymentHash } = decodeL402Identifier(identifierBytes));
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  if (sha256Hex(hexToBytes(preimage)) !== paymentHash) {
    return {
      ok: false,
      reason: `invalid preimage for payment hash ${paymentHash}`,
      tokenId,
      paymentHash,
    };
  }
  const rootKey = keys.get(tokenId);
  if (!rootKey)
    return {
      ok: false,
      reason: 'secret not found (unknown or revoked token)',
      tokenId,
      paymentHash,
    };
  const caveats: string[] = [];
  try {
    macaroonLib.importMacaroon(tokenBytes).verify(rootKey, (condition) => {
      caveats.push(condition);
      return null;
    });
  } catch (error) {
    return { ok: false, reason: (error as Error).message, tokenId, paymentHash };
  }
  const problem = verifyL402Caveats(caveats, context);
  if (problem) return { ok: false, reason: problem, tokenId, paymentHash };
  return { ok: true, tokenId, paymentHash, caveats };
}
