/**
 * The few Stripe API calls the Stripe wallet makes, over `fetch` (form-encoded requests,
 * Bearer secret key, `Stripe-Version`, `Idempotency-Key`), so the command needs no Stripe SDK.
 *
 * @module
 */
import type { StripeRawRequester } from '@stipend/wallet-stripe';

/** Options of {@link stripeApi}. */
export interface StripeApiOptions {
  /** The secret key (`sk_…`); it only ever goes to `apiUrl`. */
  readonly secretKey: string;
  /** Default `https://api.stripe.com`. */
  readonly apiUrl?: string;
  readonly fetch?: typeof fetch;
}

/**
 * A Stripe API error, shaped like the SDK's (`type`, `code`, `statusCode`), so the Stripe
 * wallet reports it the same way.
 *
 * @example
 * ```ts
 * import { StripeApiError } from './stripe-api.js';
 * const error = new StripeApiError('No such token', 'invalid_request_error', 404, 'resource_missing');
 * ```
 */
export class StripeApiError extends Error {
  override readonly name = 'StripeApiError';
  readonly type: string;
  readonly code?: string;
  readonly statusCode: number;
  constructor(message: string, type: string, statusCode: number, code?: string) {
    super(message);
    this.type = type;
    this.statusCode = statusCode;
    if (code !== undefined) this.code = code;
  }
}

/**
 * Encodes parameters the way Stripe reads them: nested objects as `a[b]=…`, arrays as
 * `a[0]=…`, `undefined` skipped.
 *
 * @example
 * ```ts
 * import { formEncode } from './stripe-api.js';
 * formEncode({ usage_limits: { currency: 'usd', max_amount: '50' } });
 * // 'usage_limits%5Bcurrency%5D=usd&usage_limits%5Bmax_amount%5D=50'
 * ```
 */
export function formEncode(params: Record<string, unknown>): string {
  const pairs: string[] = [];
  const add = (key: string, value: unknown) => {
    if (value === undefined) return;
    if (value === null) {
      pairs.push(`${encodeURIComponent(key)}=`);
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) add(`${key}[${i}]`, item);
    } else if (typeof value === 'object') {
      for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
        add(`${key}[${name}]`, item);
      }
    } else {
      pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
    }
  };
  for (const [key, value] of Object.entries(params)) add(key, value);
  return pairs.join('&');
}

/**
 * A `rawRequest` client for the Stripe wallet, over fetch.
 *
 * @example
 * ```ts
 * import { stripeWallet } from '@stipend/wallet-stripe';
 * import { stripeApi } from './stripe-api.js';
 * const wallet = stripeWallet({ stripe: stripeApi({ secretKey: process.env.STIPEND_STRIPE_SECRET_KEY! }), paymentMethod: 'pm_…' });
 * ```
 */
export function stripeApi(options: StripeApiOptions): StripeRawRequester {
  const base = (options.apiUrl ?? 'https://api.stripe.com').replace(/\/+$/, '');
  return {
    async rawRequest(method, path, params = {}, requestOptions = {}) {
      const upper = method.toUpperCase();
      const query = formEncode(params);
      const headers: Record<string, string> = {
        authorization: `Bearer ${options.secretKey}`,
        accept: 'application/json',
      };
      if (requestOptions.apiVersion) headers['stripe-version'] = requestOptions.apiVersion;
      if (requestOptions.idempotencyKey) headers['idempotency-key'] = requestOptions.idempotencyKey;
      let url = `${base}${path}`;
      let body: string | undefined;
      if (upper === 'GET' || upper === 'DELETE') {
        if (query) url += `?${query}`;
      } else {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = query;
      }
      const response = await (options.fetch ?? globalThis.fetch)(url, {
        method: upper,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : {};
      } catch {
        throw new StripeApiError(
          `Stripe answered HTTP ${response.status} with a body that is not JSON`,
          'api_error',
          response.status,
        );
      }
      if (!response.ok) {
        const error = (json as { error?: { message?: string; type?: string; code?: string } })
          .error;
        throw new StripeApiError(
          error?.message ?? `Stripe answered HTTP ${response.status}`,
          error?.type ?? 'api_error',
          response.status,
          error?.code,
        );
      }
      return json;
    },
  };
}
