/**
 * The L402 adapter's own typed refusal: a token that is not bound to its invoice.
 *
 * @module
 */
import { ChallengeParseError } from '../../errors/challenge.js';

/**
 * Why an L402 token was refused before paying:
 * - `unbound`: a macaroon whose identifier does not carry the invoice's payment hash
 *   (another hash, not the 66-byte L402 layout, an unknown identifier version);
 * - `opaque`: not a macaroon at all, and `allowOpaqueTokens` is off.
 */
export type L402TokenRefusal = 'unbound' | 'opaque';

/**
 * An L402 challenge was refused because its token is not provably bound to its invoice:
 * paying would buy a credential the server may never accept. Nothing was paid. A
 * `ChallengeParseError` (code `CHALLENGE_INVALID`, like every unpayable challenge) whose
 * `refusal` says which case it is; read it as a field (it survives copies of the package),
 * not with `instanceof`.
 *
 * @example
 * ```ts
 * import { isStipendError } from '@stipend/client';
 *
 * try {
 *   await payingFetch('https://api.example.com/quote');
 * } catch (error) {
 *   if (isStipendError(error) && (error as { refusal?: string }).refusal === 'opaque') {
 *     // The server's tokens are not macaroons: allow them with l402Adapter({ allowOpaqueTokens: true }).
 *   }
 * }
 * ```
 */
export class L402TokenError extends ChallengeParseError {
  override name = 'L402TokenError';
  readonly refusal: L402TokenRefusal;
  constructor(params: { refusal: L402TokenRefusal; message: string }) {
    super({ protocol: 'l402', message: params.message });
    this.refusal = params.refusal;
  }
}
