/**
 * Every `code` a Stipend error can carry, across all Stipend packages. Switch on these, never
 * on message text. A code is added here before any package throws it: the constructor of
 * `StipendError` takes only these, and `codes.test.ts` scans the sources for any other.
 *
 * @module
 */

/**
 * Every {@link StipendErrorCode}, grouped by the package that throws it. A runtime list so that
 * codes that arrive from elsewhere (an authority's JSON answer) can be checked with
 * {@link isStipendErrorCode}; bundlers drop it where nobody calls that.
 */
export const STIPEND_ERROR_CODES = [
  // ---- @stipend/client: policy and approvals
  /** The policy paid nothing (`PolicyDeniedError`; `reason` and `offers` say why). */
  'POLICY_DENIED',
  /** A `SpendPolicy` (or a per-call override) is malformed. */
  'POLICY_INVALID',
  /** A person (or the approver) said no. */
  'APPROVAL_DENIED',
  /** Nobody answered the approval in time. */
  'APPROVAL_TIMEOUT',
  /** No pending approval has that id. */
  'APPROVAL_NOT_FOUND',
  /** The approval was already decided or claimed. */
  'APPROVAL_CONFLICT',
  /** The approval expired before it was used. */
  'APPROVAL_EXPIRED',
  /** The call waits for a person's approval (pending mode). */
  'APPROVAL_PENDING',
  // ---- budgets, money, ledger, config
  /** Invalid budget input (limits, windows, amounts). */
  'BUDGET_INVALID',
  /** No reservation has that id. */
  'BUDGET_NOT_FOUND',
  /** A reservation id was reused, or already committed or released. */
  'BUDGET_CONFLICT',
  /** A commit above what was reserved. */
  'BUDGET_COMMIT_INVALID',
  /** An amount or unit that cannot be read or combined. */
  'AMOUNT_INVALID',
  /** No price (or only a stale one) to convert an amount to USD. */
  'PRICE_UNAVAILABLE',
  /** A ledger record that cannot be stored. */
  'LEDGER_INVALID',
  /** A ledger record updated before it was appended. */
  'LEDGER_NOT_FOUND',
  /** A ledger record appended twice. */
  'LEDGER_CONFLICT',
  /** `createPayingFetch` (or another factory) got an option it cannot use. */
  'CONFIG_INVALID',
  // ---- challenges and requests
  /** A 402 challenge that cannot be read safely (`ChallengeParseError`, `WwwAuthenticateParseError`). */
  'CHALLENGE_INVALID',
  /** CORS hid the challenge headers from the browser. */
  'CHALLENGE_HIDDEN',
  /** Plain `http:` to a non-loopback origin. */
  'INSECURE_TRANSPORT',
  /** A request body too large to replay for the paid retry. */
  'BODY_TOO_LARGE',
  /** A redirect that the paying fetch does not follow. */
  'REDIRECT_NOT_FOLLOWED',
  /** A 402 reached through a redirect (the proof would go to another origin). */
  'REDIRECTED_CHALLENGE',
  /** A request that fetch itself would refuse. */
  'INVALID_REQUEST',
  /** A read, a request or a wallet did not answer within its deadline. */
  'TIMEOUT',
  // ---- discovery documents (`discover/`)
  /** A discovery document that is not valid JSON, or nested too deep. */
  'DISCOVERY_INVALID',
  /** A discovery document request was redirected. */
  'DISCOVERY_REDIRECTED',
  /** A discovery document larger than `maxBytes`. */
  'DISCOVERY_TOO_LARGE',
  /** A discovery document could not be fetched. */
  'DISCOVERY_UNAVAILABLE',
  // ---- payments and the purchase lifecycle
  /** A payment was attempted and did not buy the resource (`PaymentFailedError`). */
  'PAYMENT_FAILED',
  /** This purchase was paid already; resume it rather than paying again. */
  'ALREADY_PAID',
  /** Money may have moved; reconciled with the rail before any new payment. */
  'OUTCOME_UNKNOWN',
  /** The seller refused, but an authorization for this purchase is still valid. */
  'AUTHORIZATION_LIVE',
  /** Another call holds this purchase key. */
  'PURCHASE_IN_PROGRESS',
  /** The purchase journal disagrees with the requested transition. */
  'PURCHASE_CONFLICT',
  /** No purchase has that key or id. */
  'PURCHASE_NOT_FOUND',
  /** Money moved but the spend could not be booked (`paid: true`, proof kept). */
  'BOOKING_FAILED',
  /** An MPP session is closed at the server; its refund has not reached the client's node yet. */
  'REFUND_PENDING',
  /** The wallet's proof could not be sent (the retry could not be built). */
  'PROOF_UNUSABLE',
  /** A wallet returned a proof of the wrong shape. */
  'PROOF_INVALID',
  /** A Lightning wallet returned no 32-byte hex preimage for an L402 offer. */
  'L402_PREIMAGE_INVALID',
  /** The wallet failed (see `cause`). */
  'WALLET_FAILED',
  /** The default code of a `WalletError`. */
  'WALLET_ERROR',
  /** A bug: a state the code should never reach. Please report it. */
  'INTERNAL',
  // ---- @stipend/stores
  /** The backing file, database or server cannot be used right now. */
  'STORE_UNAVAILABLE',
  /** Persisted state contradicts itself. */
  'STORE_CORRUPT',
  /** The store could forget spend on a restart (e.g. Redis without persistence). */
  'STORE_NOT_DURABLE',
  /** A purchase record that cannot be stored or replayed. */
  'JOURNAL_INVALID',
  /** A purchase recorded twice. */
  'JOURNAL_CONFLICT',
  // ---- @stipend/wallet-evm
  /** The payment was aborted before signing. */
  'ABORTED',
  /** The payer holds less than the payment needs. */
  'INSUFFICIENT_FUNDS',
  /** The offer does not match what the wallet would sign. */
  'OFFER_MISMATCH',
  /** Permit2 needs a token approval first. */
  'PERMIT2_APPROVAL_REQUIRED',
  /** The account could not sign. */
  'SIGNING_FAILED',
  /** The authorization lifetime asked for is not allowed. */
  'TTL_INVALID',
  /** The challenge expired before signing. */
  'EXPIRED',
  /** The purchase carries no idempotency key to derive a nonce from. */
  'IDEMPOTENCY_KEY_MISSING',
  // ---- @stipend/wallet-lightning (and the client's macaroon codec)
  /** A BOLT 11 invoice that cannot be decoded or verified. */
  'INVOICE_INVALID',
  /** Bytes that are not a v2 macaroon, or an attenuation that would widen. */
  'MACAROON_INVALID',
  /** The Lightning backend is sure nothing was paid. */
  'LIGHTNING_BACKEND_NOT_PAID',
  /** The Lightning backend cannot say whether it paid. */
  'LIGHTNING_BACKEND_UNKNOWN',
  /** The Lightning payment was aborted before it was sent. */
  'LIGHTNING_ABORTED',
  /** The invoice's payee could not be verified from its signature. */
  'LIGHTNING_PAYEE_UNVERIFIED',
  /** The Lightning wallet refused the offer before paying. */
  'LIGHTNING_REFUSED',
  /** The backend's preimage does not hash to the payment hash. */
  'LIGHTNING_PREIMAGE_INVALID',
  /** The Lightning payment failed; nothing was paid. */
  'LIGHTNING_PAYMENT_FAILED',
  /** An earlier payment of this invoice is still pending. */
  'LIGHTNING_EARLIER_PAYMENT_PENDING',
  /** The Lightning payment's outcome is unknown. */
  'LIGHTNING_OUTCOME_UNKNOWN',
  // ---- @stipend/wallet-stripe
  /** The offer expired before the token was created. */
  'WALLET_OFFER_EXPIRED',
  /** The payment was aborted. */
  'WALLET_ABORTED',
  /** Stripe refused or failed. */
  'WALLET_STRIPE_ERROR',
  /** The wallet's options cannot work (e.g. a `createToken` that returns a bare string). */
  'WALLET_CONFIG_INVALID',
  /** The payment needs an action by the customer (3-D Secure and the like). */
  'WALLET_ACTION_REQUIRED',
  // ---- @stipend/authority
  /** A delegation token that is malformed, tampered with, widened or revoked. */
  'DELEGATION_INVALID',
  /** A delegation token past its expiry. */
  'DELEGATION_EXPIRED',
  /** Over a delegation token's USD cap. */
  'DELEGATION_EXCEEDED',
  /** The host, method or protocol is outside what the token allows. */
  'DELEGATION_OUT_OF_SCOPE',
  /** The rail's proof would hand the sub-agent a secret. */
  'DELEGATION_RAIL_REFUSED',
  /** A malformed request to the spend authority. */
  'AUTHORITY_BAD_REQUEST',
  /** The spend authority's configuration cannot work. */
  'AUTHORITY_CONFIG_INVALID',
  /** The spend authority failed (see its logs). */
  'AUTHORITY_ERROR',
  /** No such route on the spend authority. */
  'AUTHORITY_NOT_FOUND',
  /** An asset the spend authority does not know. */
  'AUTHORITY_UNKNOWN_ASSET',
  /** The spend authority's answer could not be read. */
  'AUTHORITY_UNREADABLE',
  // ---- @stipend/mcp
  /** A tool call's input is invalid. */
  'TOOL_INPUT_INVALID',
  /** The MCP tool call ended without an answer. */
  'MCP_NO_ANSWER',
  /** An MCP server name that cannot be used. */
  'MCP_SERVER_NAME_INVALID',
  /** The fetch tool's request failed. */
  'FETCH_FAILED',
  /** The policy file cannot be read. */
  'POLICY_FILE_UNREADABLE',
  /** An `--allow-hosts` entry that cannot be used. */
  'ALLOW_HOSTS_INVALID',
  /** A target address the MCP server refuses to reach (private or loopback). */
  'TARGET_BLOCKED',
] as const;

/**
 * The stable code of a {@link StipendError}.
 *
 * @example
 * ```ts
 * import { isStipendError, type StipendErrorCode } from '@stipend/client';
 *
 * function hint(code: StipendErrorCode): string {
 *   switch (code) {
 *     case 'POLICY_DENIED':
 *       return 'raise a cap in your SpendPolicy';
 *     case 'OUTCOME_UNKNOWN':
 *       return 'call payingFetch.reconcile()';
 *     default:
 *       return code;
 *   }
 * }
 * try {
 *   await payingFetch(url);
 * } catch (error) {
 *   if (isStipendError(error)) console.warn(hint(error.code));
 * }
 * ```
 */
export type StipendErrorCode = (typeof STIPEND_ERROR_CODES)[number];

let known: ReadonlySet<string> | undefined;

/**
 * Whether a value is one of the {@link StipendErrorCode}s, e.g. a `code` read from JSON
 * another process sent.
 *
 * @example
 * ```ts
 * import { isStipendErrorCode } from '@stipend/client/internal';
 * const code = isStipendErrorCode(body.code) ? body.code : 'AUTHORITY_ERROR';
 * ```
 */
export function isStipendErrorCode(value: unknown): value is StipendErrorCode {
  known ??= new Set(STIPEND_ERROR_CODES);
  return typeof value === 'string' && known.has(value);
}
