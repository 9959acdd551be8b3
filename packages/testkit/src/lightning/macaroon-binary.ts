import { isStipendError, StipendError } from '@stipend/client';
import {
  decodeMacaroonV2 as decodeMacaroon,
  encodeMacaroonV2 as encodeMacaroon,
} from '@stipend/client/internal';
import { fromStdBase64, toStdBase64 } from './bytes.js';
import type { MacaroonLibMacaroon } from './macaroon-lib.js';

/**
 * The libmacaroons version 2 binary format, the one aperture and go-macaroon emit:
 *
 * ```
 * 0x02                                     format version
 * [01 len location] 02 len identifier 00   header (location optional), EOS
 * ( [01 len location] 02 len id [04 len vid] 00 )*   one packet run per caveat, EOS
 * 00                                       end of caveats
 * 06 len signature                         32-byte signature, no trailing EOS
 * ```
 *
 * Lengths and field types are unsigned LEB128 varints. The bytes are read and written by the
 * client's one macaroon codec (`@stipend/client/internal`), because `macaroon@3.0.4`'s
 * `exportBinary()` doubles its buffer on every append; this module keeps the testkit's names
 * and its mutable field types.
 */

/** One caveat of a macaroon: first-party when `vid` is absent. */
export interface MacaroonV2Caveat {
  /** The caveat identifier (for first-party caveats, the UTF-8 condition such as `services=quotes:0`). */
  identifier: Uint8Array;
  /** Location hint of a third-party caveat. */
  location?: string;
  /** Verification id of a third-party caveat. */
  vid?: Uint8Array;
}

/** The fields of a version 2 macaroon. */
export interface MacaroonV2 {
  /** Location hint (`lsat` for aperture tokens); omitted from the encoding when empty. */
  location?: string;
  identifier: Uint8Array;
  caveats: MacaroonV2Caveat[];
  /** 32-byte HMAC-SHA256 chain signature. */
  signature: Uint8Array;
}

/**
 * Thrown by {@link decodeMacaroonV2} for bytes that are not a well-formed v2 macaroon. A
 * Stipend error with code `MACAROON_INVALID`, like the client's codec it wraps.
 */
export class MacaroonDecodeError extends StipendError {
  override name = 'MacaroonDecodeError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('MACAROON_INVALID', message, { cause: options.cause });
  }
}

/**
 * Serialises a macaroon in the libmacaroons v2 binary format (byte-identical to
 * `macaroon@3.0.4` `exportBinary()` and to go-macaroon `MarshalBinary()`).
 *
 * @example
 * ```ts
 * import { encodeMacaroonV2, macaroonLib, macaroonV2FromLib } from '@stipend/testkit/l402';
 * const m = macaroonLib.newMacaroon({ identifier: id, location: 'lsat', rootKey, version: 2 });
 * m.addFirstPartyCaveat('services=quotes:0');
 * const bytes = encodeMacaroonV2(macaroonV2FromLib(m));
 * ```
 */
export function encodeMacaroonV2(macaroon: MacaroonV2): Uint8Array {
  return encodeMacaroon(macaroon);
}

/**
 * Parses a libmacaroons v2 binary macaroon. Strict: wrong version byte, fields out of
 * order, unknown field types, a signature that is not 32 bytes, or trailing bytes throw
 * {@link MacaroonDecodeError}.
 *
 * @example
 * ```ts
 * import { decodeMacaroonV2, fromStdBase64 } from '@stipend/testkit/l402';
 * const { identifier, caveats } = decodeMacaroonV2(fromStdBase64(tokenBase64));
 * ```
 */
export function decodeMacaroonV2(bytes: Uint8Array): MacaroonV2 {
  let decoded: ReturnType<typeof decodeMacaroon>;
  try {
    decoded = decodeMacaroon(bytes);
  } catch (error) {
    throw new MacaroonDecodeError(isStipendError(error) ? error.shortMessage : String(error), {
      cause: error,
    });
  }
  const out: MacaroonV2 = {
    identifier: decoded.identifier,
    caveats: decoded.caveats.map((c) => ({ ...c })),
    signature: decoded.signature,
  };
  if (decoded.location !== undefined) out.location = decoded.location;
  return out;
}

/**
 * Reads the fields of a `macaroon` package object without calling its `exportBinary()`.
 *
 * @example
 * ```ts
 * import { macaroonLib, macaroonV2FromLib } from '@stipend/testkit/l402';
 * const fields = macaroonV2FromLib(macaroonLib.importMacaroon(tokenBase64));
 * ```
 */
export function macaroonV2FromLib(macaroon: MacaroonLibMacaroon): MacaroonV2 {
  const out: MacaroonV2 = {
    identifier: macaroon.identifier,
    caveats: macaroon.caveats.map((c) => {
      const caveat: MacaroonV2Caveat = { identifier: c.identifier };
      if (c.location) caveat.location = c.location;
      if (c.vid) caveat.vid = c.vid;
      return caveat;
    }),
    signature: macaroon.signature,
  };
  if (macaroon.location) out.location = macaroon.location;
  return out;
}

/**
 * Standard padded base64 of a macaroon's v2 binary encoding: the token form aperture puts
 * in `macaroon="…"` and expects back in `Authorization: L402 <token>:<preimage>`.
 *
 * @example
 * ```ts
 * import { macaroonLib, macaroonToBase64 } from '@stipend/testkit/l402';
 * const m = macaroonLib.importMacaroon(token);
 * m.addFirstPartyCaveat('services=quotes:0');
 * const attenuated = macaroonToBase64(m);
 * ```
 */
export function macaroonToBase64(macaroon: MacaroonLibMacaroon | MacaroonV2): string {
  const fields = 'addFirstPartyCaveat' in macaroon ? macaroonV2FromLib(macaroon) : macaroon;
  return toStdBase64(encodeMacaroonV2(fields));
}

/**
 * Decodes a standard padded base64 token into macaroon fields (strict, like aperture).
 *
 * @example
 * ```ts
 * import { macaroonFromBase64 } from '@stipend/testkit/l402';
 * const { identifier } = macaroonFromBase64(token);
 * ```
 */
export function macaroonFromBase64(token: string): MacaroonV2 {
  return decodeMacaroonV2(fromStdBase64(token));
}
