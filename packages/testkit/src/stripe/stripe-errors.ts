/**
 * Stripe-shaped API errors for the local Stripe stand-ins.
 *
 * Stripe answers a failed call with an HTTP status and a JSON body
 * `{"error": {"type", "code", "param", "message", "decline_code", ...}}`. The stand-ins raise
 * {@link StripeApiError} internally and turn it into that body at the HTTP edge, or into the
 * matching `stripe` SDK error class for in-process clients. Codes that Stripe documents
 * (`parameter_missing`, `resource_missing`, `card_declined`, `amount_too_small`, ...) keep their
 * Stripe names; codes for SPT-specific refusals whose real names are not documented are prefixed
 * `stand_in_`, so nobody mistakes them for Stripe's.
 *
 * @module
 */

/** The `error.type` values Stripe uses that the stand-ins can produce. */
export type StripeErrorType =
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error';

/** The JSON body of a Stripe error response. */
export interface StripeErrorBody {
  error: {
    type: StripeErrorType;
    message: string;
    code?: string;
    param?: string;
    decline_code?: string;
    payment_intent?: Record<string, unknown>;
  };
}

/** Fields of a {@link StripeApiError}. */
export interface StripeApiErrorInit {
  status: number;
  type: StripeErrorType;
  message: string;
  code?: string | undefined;
  param?: string | undefined;
  declineCode?: string | undefined;
  /** For card errors: the PaymentIntent left in `requires_payment_method`. */
  paymentIntent?: Record<string, unknown> | undefined;
}

/**
 * An error as Stripe's API would report it: HTTP status plus the `error` object.
 *
 * @example
 * ```ts
 * import { StripeApiError } from '@stipend/testkit/stripe';
 *
 * const error = new StripeApiError({ status: 404, type: 'invalid_request_error', message: 'No such thing' });
 * error.toJSON(); // { error: { type: 'invalid_request_error', message: 'No such thing' } }
 * ```
 */
export class StripeApiError extends Error {
  override readonly name = 'StripeApiError';
  readonly status: number;
  readonly type: StripeErrorType;
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly declineCode: string | undefined;
  readonly paymentIntent: Record<string, unknown> | undefined;

  constructor(init: StripeApiErrorInit) {
    super(init.message);
    this.status = init.status;
    this.type = init.type;
    this.code = init.code;
    this.param = init.param;
    this.declineCode = init.declineCode;
    this.paymentIntent = init.paymentIntent;
  }

  /** The Stripe JSON error body for this error. */
  toJSON(): StripeErrorBody {
    return {
      error: {
        type: this.type,
        message: this.message,
        ...(this.code !== undefined && { code: this.code }),
        ...(this.param !== undefined && { param: this.param }),
        ...(this.declineCode !== undefined && { decline_code: this.declineCode }),
        ...(this.paymentIntent !== undefined && { payment_intent: this.paymentIntent }),
      },
    };
  }
}

/**
 * `400 parameter_missing`, as Stripe reports an absent required parameter.
 *
 * @example
 * ```ts
 * import { missingParam, unknownParam, invalidParam, resourceMissing } from '@stipend/testkit/stripe';
 *
 * missingParam('usage_limits[max_amount]').toJSON().error.code; // 'parameter_missing'
 * ```
 */
export function missingParam(param: string): StripeApiError {
  return new StripeApiError({
    status: 400,
    type: 'invalid_request_error',
    code: 'parameter_missing',
    param,
    message: `Missing required param: ${param}.`,
  });
}

/**
 * `400 parameter_unknown`, as Stripe reports a parameter it does not know; `hint` says what to send instead.
 *
 * @example
 * ```ts
 * import { missingParam, unknownParam, invalidParam, resourceMissing } from '@stipend/testkit/stripe';
 *
 * unknownParam('seller_details[network_id]').param; // 'seller_details[network_id]'
 * ```
 */
export function unknownParam(param: string, hint = ''): StripeApiError {
  return new StripeApiError({
    status: 400,
    type: 'invalid_request_error',
    code: 'parameter_unknown',
    param,
    message: `Received unknown parameter: ${param}.${hint ? ` ${hint}` : ''}`,
  });
}

/**
 * `400 parameter_invalid_*`, for a parameter with a value of the wrong form.
 *
 * @example
 * ```ts
 * import { missingParam, unknownParam, invalidParam, resourceMissing } from '@stipend/testkit/stripe';
 *
 * invalidParam('amount', 'Invalid integer: 1.5.', 'parameter_invalid_integer').status; // 400
 * ```
 */
export function invalidParam(param: string, message: string, code = 'parameter_invalid_string') {
  return new StripeApiError({ status: 400, type: 'invalid_request_error', code, param, message });
}

/**
 * `404 resource_missing`, as Stripe reports an unknown object id.
 *
 * @example
 * ```ts
 * import { missingParam, unknownParam, invalidParam, resourceMissing } from '@stipend/testkit/stripe';
 *
 * resourceMissing('payment_intent', 'pi_123').message; // "No such payment_intent: 'pi_123'"
 * ```
 */
export function resourceMissing(objectName: string, id: string, param?: string): StripeApiError {
  return new StripeApiError({
    status: 404,
    type: 'invalid_request_error',
    code: 'resource_missing',
    param,
    message: `No such ${objectName}: '${id}'`,
  });
}
