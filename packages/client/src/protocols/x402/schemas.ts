/**
 * Schemas of the x402 messages a client reads. They validate; they never rewrite: the adapter
 * keeps the objects exactly as received (the chosen requirement is echoed byte for byte), so
 * every object schema is loose (unknown fields pass).
 *
 * `import * as z` (not `{ z }`) keeps bundlers from pulling in all of zod.
 *
 * @module
 */
import * as z from 'zod/mini';

/** A non-negative integer in atomic units, as a decimal string without leading zeros. */
const atomic = z.string().check(z.regex(/^(0|[1-9][0-9]{0,77})$/, 'an atomic amount'));
const text = z.string().check(z.minLength(1), z.maxLength(256));
const seconds = z.int().check(z.gte(1));
const record = z.record(z.string(), z.unknown());

/** One v2 `accepts` entry (`PaymentRequirements`). */
export const RequirementV2 = z.looseObject({
  scheme: text,
  network: text,
  amount: atomic,
  asset: text,
  payTo: text,
  maxTimeoutSeconds: seconds,
  extra: z.optional(record),
});

/** One v1 `accepts` entry: `maxAmountRequired` instead of `amount`, a per-offer `resource`. */
export const RequirementV1 = z.looseObject({
  scheme: text,
  network: text,
  maxAmountRequired: atomic,
  asset: text,
  payTo: text,
  maxTimeoutSeconds: seconds,
  resource: z.optional(z.string()),
  extra: z.optional(z.nullable(record)),
});

const accepts = z.array(z.unknown()).check(z.minLength(1), z.maxLength(32));

/** The decoded `PAYMENT-REQUIRED` header (v2). Entries of `accepts` are checked one by one. */
export const PaymentRequiredV2 = z.looseObject({
  x402Version: z.literal(2),
  error: z.optional(z.string()),
  resource: z.looseObject({ url: z.string().check(z.minLength(1)) }),
  accepts,
  extensions: z.optional(record),
});

/** A v1 402 JSON body. */
export const PaymentRequiredV1 = z.looseObject({
  x402Version: z.literal(1),
  error: z.optional(z.string()),
  accepts,
});

/** The plain `X-Payment-Required` JSON form: a decimal price in a named currency. */
export const PlainTerms = z.looseObject({
  price: z.string().check(z.maxLength(100)),
  currency: text,
  network: text,
  address: text,
  facilitator: z.optional(z.string()),
  maxTimeoutSeconds: z.optional(seconds),
});

/** `PAYMENT-RESPONSE` / `X-PAYMENT-RESPONSE`: the server's settlement claim. */
export const SettlementResponse = z.looseObject({
  success: z.boolean(),
  transaction: z.optional(z.string()),
  network: z.optional(z.string()),
  payer: z.optional(z.string()),
  errorReason: z.optional(z.string()),
  errorMessage: z.optional(z.string()),
  amount: z.optional(atomic),
});

/**
 * The first problem of a failed parse, as one short line.
 *
 * @example
 * ```ts
 * import { firstIssue, SettlementResponse } from './schemas.js';
 * const parsed = SettlementResponse.safeParse({ success: 'yes' });
 * if (!parsed.success) firstIssue(parsed.error); // 'success: Invalid input: expected boolean, received string'
 * ```
 */
export function firstIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${path}${issue.message}`;
}
