/**
 * The Lightning session credentials (draft-lightning-session-00 §8): `open` (deposit
 * preimage + return invoice), `bearer` (session id + preimage), `topUp` (session id + the
 * top-up preimage) and `close` (session id + preimage), each a `Payment` credential echoing a
 * challenge exactly as received. Built with the MPP credential builder (one encoder).
 *
 * @module
 */
import { buildCredential } from '../credential.js';

/** A session credential payload. */
export type LightningSessionPayload =
  | { readonly action: 'open'; readonly preimage: string; readonly returnInvoice: string }
  | { readonly action: 'bearer'; readonly sessionId: string; readonly preimage: string }
  | { readonly action: 'topUp'; readonly sessionId: string; readonly topUpPreimage: string }
  | { readonly action: 'close'; readonly sessionId: string; readonly preimage: string };

/**
 * The headers that carry a session credential: the challenge's `header` (Authorization or
 * Payment-Authorization, as checked when the challenge was read) with `Payment <token>`.
 *
 * @example
 * ```ts
 * import { sessionCredentialHeaders } from './credential.js';
 * sessionCredentialHeaders(challenge, { action: 'bearer', sessionId, preimage });
 * // { authorization: 'Payment eyJ…' }
 * ```
 */
export function sessionCredentialHeaders(
  challenge: Readonly<Record<string, string>>,
  payload: LightningSessionPayload,
): Record<string, string> {
  const value = buildCredential({ challenge, request: {} }, { payload });
  const name = (challenge.header ?? 'authorization').toLowerCase();
  return { [name]: value };
}
