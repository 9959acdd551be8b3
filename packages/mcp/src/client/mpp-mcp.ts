/**
 * The MPP MCP transport (`draft-payment-transport-mcp-00`, as mppx 0.11 speaks it): a paid tool
 * answers with the JSON-RPC error `-32042` whose `data.challenges` lists `Payment` challenges
 * (their `request` a JSON object, not base64url), or with a tool result carrying the same data
 * in `_meta["org.paymentauth/payment-required"]`; the retry carries the credential object in
 * `_meta["org.paymentauth/credential"]`; the receipt comes back in
 * `_meta["org.paymentauth/receipt"]`; a refused credential is a JSON-RPC error (`-32043` and
 * others) whose `data.problem` is an RFC 9457 problem.
 *
 * Here the challenges become a `WWW-Authenticate: Payment …` header for the MPP adapter, and
 * the adapter's `Payment` credential becomes the MCP credential object again, echoing the
 * server's challenge object exactly as received.
 *
 * @module
 */
import { ChallengeParseError } from '@stipend/client';
import { decodeAnyBase64Json, encodeBase64UrlJson } from '@stipend/client/internal';

/** JSON-RPC error code: payment required. */
export const PAYMENT_REQUIRED_CODE = -32042;
/** JSON-RPC error code: payment verification failed. */
export const VERIFICATION_FAILED_CODE = -32043;
/** `_meta` key of the credential (client → server). */
export const MPP_CREDENTIAL_META = 'org.paymentauth/credential';
/** `_meta` key of the receipt (server → client). */
export const MPP_RECEIPT_META = 'org.paymentauth/receipt';
/** `_meta` key of payment-required data in a tool result. */
export const MPP_PAYMENT_REQUIRED_META = 'org.paymentauth/payment-required';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_CHALLENGES = 16;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `data` of an MPP payment error or payment-required result, when it has challenges. */
export interface MppPaymentData {
  readonly challenges: readonly Readonly<Record<string, unknown>>[];
  /** RFC 9457 problem details, when the server sent them. */
  readonly problem?: Readonly<Record<string, unknown>>;
  /** The HTTP status the error stands for (402 by default). */
  readonly httpStatus?: number;
}

/**
 * Reads MPP payment data from a JSON-RPC error's `data` (or a result's payment-required meta).
 * `undefined` when it carries neither challenges nor a problem.
 *
 * @example
 * ```ts
 * import { mppDataOf } from './mpp-mcp.js';
 * mppDataOf({ httpStatus: 402, challenges: [{ id: 'x', method: 'stripe', intent: 'charge' }] });
 * ```
 */
export function mppDataOf(data: unknown): MppPaymentData | undefined {
  if (!isObject(data)) return undefined;
  const challenges = Array.isArray(data.challenges)
    ? data.challenges.filter(isObject).slice(0, MAX_CHALLENGES)
    : [];
  const problem = isObject(data.problem) ? data.problem : undefined;
  if (challenges.length === 0 && !problem) return undefined;
  return {
    challenges,
    ...(problem ? { problem } : {}),
    ...(typeof data.httpStatus === 'number' ? { httpStatus: data.httpStatus } : {}),
  };
}

/**
 * The payment-required data a tool result carries in `_meta`, if any.
 *
 * @example
 * ```ts
 * import { mppResultData } from './mpp-mcp.js';
 * mppResultData({ _meta: { 'org.paymentauth/payment-required': { challenges: [] } } }); // undefined
 * ```
 */
export function mppResultData(result: { readonly _meta?: unknown }): MppPaymentData | undefined {
  return isObject(result._meta) ? mppDataOf(result._meta[MPP_PAYMENT_REQUIRED_META]) : undefined;
}

/**
 * A quoted-string the way mppx writes one: `"` and `\` escaped, characters above U+00FF as
 * `\uXXXX` (header values are byte strings; the MPP adapter decodes these escapes). Control
 * characters other than tab are refused.
 */
function quote(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) {
      throw new TypeError('a challenge parameter holds a control character');
    }
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (code > 0xff) {
      for (const unit of char) {
        for (let i = 0; i < unit.length; i++) {
          out += `\\u${unit.charCodeAt(i).toString(16).padStart(4, '0')}`;
        }
      }
    } else out += char;
  }
  return `${out}"`;
}

/**
 * Serialises MCP challenge objects as a `WWW-Authenticate` value of `Payment` challenges: every
 * string parameter as it is, `request` as base64url JSON. Objects other than `request` (mppx's
 * parsed `meta`) are left out; their wire form (`opaque`) is a string and is kept.
 *
 * @throws {ChallengeParseError} when a challenge has no id or cannot be put in a header.
 * @example
 * ```ts
 * import { wwwAuthenticateOf } from './mpp-mcp.js';
 * wwwAuthenticateOf([{ id: 'a', realm: 'r', method: 'stripe', intent: 'charge', request: { amount: '50' } }]);
 * // 'Payment id="a", realm="r", method="stripe", intent="charge", request="eyJhbW91bnQiOiI1MCJ9"'
 * ```
 */
export function wwwAuthenticateOf(
  challenges: readonly Readonly<Record<string, unknown>>[],
): string {
  const parts: string[] = [];
  for (const challenge of challenges) {
    if (typeof challenge.id !== 'string' || challenge.id === '') {
      throw new ChallengeParseError({
        protocol: 'mpp',
        message: 'An MCP payment challenge has no id; it cannot be paid.',
      });
    }
    const params: string[] = [];
    for (const [name, value] of Object.entries(challenge)) {
      if (!TOKEN.test(name)) continue;
      let text: string | undefined;
      if (name === 'request') {
        text =
          typeof value === 'string' ? value : isObject(value) ? encodeBase64UrlJson(value) : '';
      } else if (typeof value === 'string') {
        text = value;
      }
      if (text === undefined) continue;
      try {
        params.push(`${name}=${quote(text)}`);
      } catch (error) {
        throw new ChallengeParseError({
          protocol: 'mpp',
          message: `The MCP payment challenge ${challenge.id} cannot be read: its ${name} ${(error as Error).message}.`,
          cause: error,
        });
      }
    }
    parts.push(`Payment ${params.join(', ')}`);
  }
  return parts.join(', ');
}

/**
 * Turns the adapter's `Payment <base64url>` credential into the MCP credential object:
 * `{ challenge, payload, source? }` where `challenge` is the server's challenge object for that
 * id exactly as it was received.
 *
 * @throws {TypeError} when the credential is unreadable or names a challenge this call never got.
 * @example
 * ```ts
 * import { mcpCredentialOf } from './mpp-mcp.js';
 * const credential = mcpCredentialOf(headers.get('authorization')!, challengesById);
 * // { challenge: { id, realm, method, intent, request: { … }, … }, payload: { spt: 'spt_…' } }
 * ```
 */
export function mcpCredentialOf(
  header: string,
  challenges: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
): Record<string, unknown> {
  const match = /^Payment\s+([A-Za-z0-9_\-+/=]+)$/i.exec(header.trim());
  if (!match) throw new TypeError('the MPP credential is not "Payment <base64url>"');
  const decoded = decodeAnyBase64Json(match[1]!) as {
    challenge?: { id?: unknown };
    payload?: unknown;
    source?: unknown;
  };
  const id = decoded?.challenge?.id;
  const original = typeof id === 'string' ? challenges.get(id) : undefined;
  if (!original) throw new TypeError('the MPP credential answers a challenge this call never got');
  return {
    challenge: original,
    payload: decoded.payload,
    ...(typeof decoded.source === 'string' ? { source: decoded.source } : {}),
  };
}

/**
 * The receipt in a result's `_meta["org.paymentauth/receipt"]`, if any.
 *
 * @example
 * ```ts
 * import { mppReceiptOf } from './mpp-mcp.js';
 * mppReceiptOf({ _meta: { 'org.paymentauth/receipt': { reference: 'pi_1' } } }); // { reference: 'pi_1' }
 * ```
 */
export function mppReceiptOf(result: {
  readonly _meta?: unknown;
}): Record<string, unknown> | undefined {
  const receipt = isObject(result._meta) ? result._meta[MPP_RECEIPT_META] : undefined;
  return isObject(receipt) ? receipt : undefined;
}
