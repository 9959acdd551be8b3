import { fromStdBase64 } from '../lightning/bytes.js';
import { macaroonToBase64 } from '../lightning/macaroon-binary.js';
import { macaroonLib } from '../lightning/macaroon-lib.js';

/**
 * Adds first-party caveats to an L402 macaroon (no root key needed: each caveat chains the
 * HMAC signature) and returns the new token as standard padded base64. Uses the `macaroon`
 * package's `addFirstPartyCaveat` and our v2 binary encoder (never its `exportBinary`).
 *
 * @example
 * ```ts
 * import { attenuateL402Macaroon } from '@stipend/testkit/l402';
 * const narrower = attenuateL402Macaroon(token, ['quotes_valid_until=1700000000']);
 * // send `Authorization: L402 ${narrower}:${preimage}`
 * ```
 */
export function attenuateL402Macaroon(token: string, caveats: string[]): string {
  const m = macaroonLib.importMacaroon(fromStdBase64(token));
  for (const caveat of caveats) m.addFirstPartyCaveat(caveat);
  return macaroonToBase64(m);
}
