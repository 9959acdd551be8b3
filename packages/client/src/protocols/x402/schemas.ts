/**
 * Schemas of the x402 messages a client reads. They validate; they never rewrite: the adapter
 * keeps the objects exactly as received (the chosen requirement is echoed byte for byte), and
 * every object schema allows unknown fields.
 *
 * @module
 */
import {
  array,
  boolean,
  describeIssue,
  type Issue,
  int,
  nullable,
  object,
  oneOf,
  optional,
  record,
  string,
  unknown,
} from '../../internal/shape.js';

/** A non-negative integer in atomic units, as a decimal string without leading zeros. */
const atomic = string({
  pattern: /^(0|[1-9][0-9]{0,77})$/,
  what: 'an atomic amount: a whole number of the smallest unit, digits only, no leading zeros',
});
const text = string({ min: 1, max: 256 });
const seconds = int({ min: 1 });
const map = record(unknown());

/** One v2 `accepts` entry (`PaymentRequirements`). */
export const RequirementV2 = object({
  scheme: text,
  network: text,
  amount: atomic,
  asset: text,
  payTo: text,
  maxTimeoutSeconds: seconds,
  extra: optional(map),
});

/** One v1 `accepts` entry: `maxAmountRequired` instead of `amount`, a per-offer `resource`. */
export const RequirementV1 = object({
  scheme: text,
  network: text,
  maxAmountRequired: atomic,
  asset: text,
  payTo: text,
  maxTimeoutSeconds: seconds,
  resource: optional(string()),
  extra: optional(nullable(map)),
});

const accepts = array(unknown(), { min: 1, max: 32 });

/** The decoded `PAYMENT-REQUIRED` header (v2). Entries of `accepts` are checked one by one. */
export const PaymentRequiredV2 = object({
  x402Version: oneOf([2]),
  error: optional(string()),
  resource: object({ url: string({ min: 1 }) }),
  accepts,
  extensions: optional(map),
});

/** A v1 402 JSON body. */
export const PaymentRequiredV1 = object({
  x402Version: oneOf([1]),
  error: optional(string()),
  accepts,
});

/** The plain `X-Payment-Required` JSON form: a decimal price in a named currency. */
export const PlainTerms = object({
  price: string({ max: 100 }),
  currency: text,
  network: text,
  address: text,
  facilitator: optional(string()),
  maxTimeoutSeconds: optional(seconds),
});

/** `PAYMENT-RESPONSE` / `X-PAYMENT-RESPONSE`: the server's settlement claim. */
export const SettlementResponse = object({
  success: boolean(),
  transaction: optional(string()),
  network: optional(string()),
  payer: optional(string()),
  errorReason: optional(string()),
  errorMessage: optional(string()),
  amount: optional(atomic),
});

/**
 * The first problem of a failed parse, as one short line.
 *
 * @example
 * ```ts
 * import { firstIssue, SettlementResponse } from './schemas.js';
 * const parsed = SettlementResponse.safeParse({ success: 'yes' });
 * if (!parsed.success) firstIssue(parsed.error); // 'success: expected a boolean, got string'
 * ```
 */
export function firstIssue(error: { readonly issues: readonly Issue[] }): string {
  const issue = error.issues[0];
  return issue ? describeIssue(issue) : 'invalid';
}
