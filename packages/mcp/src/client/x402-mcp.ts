/**
 * The x402 MCP transport (coinbase/x402 `specs/transports-v2/mcp.md`), as a client reads it: a
 * paid tool answers with a tool result whose `isError` is true and whose `structuredContent`
 * (or `structuredContent["x402/error"].data`, or the JSON in `content[0].text`) is the x402
 * `PaymentRequired`; the retry carries the `PaymentPayload` object in `_meta["x402/payment"]`;
 * the settlement comes back in `_meta["x402/payment-response"]` (or, on a settlement failure,
 * inside the `PaymentRequired` under the same key).
 *
 * @module
 */

/** `_meta` key of the payment payload (client → server). */
export const X402_PAYMENT_META = 'x402/payment';
/** `_meta` key of the settlement response (server → client). */
export const X402_RESPONSE_META = 'x402/payment-response';
/** Wrapper key of the `content[0].text` fallback. */
const X402_ERROR_KEY = 'x402/error';
/** Largest `content[0].text` parsed for terms, in characters. */
const MAX_TEXT_CHARS = 64 * 1024;

/** A tool result as this module reads it (any extra fields are ignored). */
export interface ToolResultLike {
  readonly content?: unknown;
  readonly structuredContent?: unknown;
  readonly isError?: unknown;
  readonly _meta?: unknown;
}

/** The x402 terms found in a tool result. */
export interface X402ToolTerms {
  /** The `PaymentRequired` object, without a settlement response inside it. */
  readonly paymentRequired: Readonly<Record<string, unknown>>;
  /** The settlement response that came with it (a failed settlement), if any. */
  readonly settlement?: Readonly<Record<string, unknown>>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A `PaymentRequired` (v1 or v2) by shape: its version and an `accepts` array. */
function isPaymentRequired(value: unknown): value is Record<string, unknown> {
  return (
    isObject(value) &&
    (value.x402Version === 1 || value.x402Version === 2) &&
    Array.isArray(value.accepts)
  );
}

function unwrap(value: unknown): Record<string, unknown> | undefined {
  if (isPaymentRequired(value)) return value;
  if (isObject(value)) {
    const wrapped = value[X402_ERROR_KEY];
    if (isObject(wrapped) && isPaymentRequired(wrapped.data)) return wrapped.data;
  }
  return undefined;
}

function firstText(content: unknown): string | undefined {
  if (!Array.isArray(content)) return undefined;
  const first = content[0] as { type?: unknown; text?: unknown } | undefined;
  return first?.type === 'text' && typeof first.text === 'string' ? first.text : undefined;
}

/**
 * Finds x402 terms in a tool result, in the order the spec gives: `structuredContent`, its
 * `x402/error` wrapper, then the JSON of `content[0].text` (either form). Only results with
 * `isError: true` carry terms.
 *
 * @example
 * ```ts
 * import { x402TermsOf } from '@stipend/mcp';
 * const terms = x402TermsOf(await client.callTool({ name: 'get_weather' }));
 * if (terms) console.warn(terms.paymentRequired.accepts);
 * ```
 */
export function x402TermsOf(result: ToolResultLike): X402ToolTerms | undefined {
  if (result.isError !== true) return undefined;
  let found = unwrap(result.structuredContent);
  if (!found) {
    const text = firstText(result.content);
    if (text !== undefined && text.length <= MAX_TEXT_CHARS) {
      try {
        found = unwrap(JSON.parse(text));
      } catch {
        found = undefined;
      }
    }
  }
  if (!found) return undefined;
  const { [X402_RESPONSE_META]: inside, ...paymentRequired } = found;
  const settlement = isObject(inside) ? inside : settlementOf(result);
  return settlement ? { paymentRequired, settlement } : { paymentRequired };
}

/**
 * The settlement response in a result's `_meta["x402/payment-response"]`, if any.
 *
 * @example
 * ```ts
 * import { settlementOf } from './x402-mcp.js';
 * settlementOf({ _meta: { 'x402/payment-response': { success: true } } }); // { success: true }
 * ```
 */
export function settlementOf(result: ToolResultLike): Record<string, unknown> | undefined {
  const meta = result._meta;
  if (!isObject(meta)) return undefined;
  const settlement = meta[X402_RESPONSE_META];
  return isObject(settlement) ? settlement : undefined;
}
