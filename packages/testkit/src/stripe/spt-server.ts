/**
 * A local HTTP server standing in for the parts of Stripe's API an MPP agent and an MPP seller
 * call around Shared Payment Tokens. It is NOT Stripe; it listens on 127.0.0.1 only.
 *
 * Endpoints (Stripe v1, form-encoded requests, JSON responses):
 * - `POST /v1/shared_payment/issued_tokens` (agent: issue an SPT)
 * - `GET  /v1/shared_payment/issued_tokens/:id` (agent: reconcile)
 * - `POST /v1/shared_payment/issued_tokens/:id/revoke` (agent: revoke an unused SPT)
 * - `POST /v1/payment_intents`, `GET /v1/payment_intents/:id` (seller: charge the SPT)
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import type { FormObject, FormValue } from './form-encoding.js';
import { canonicalParams, parseStripeForm } from './form-encoding.js';
import { IdempotencyCache, idempotencyConflict } from './idempotency-cache.js';
import type { PaymentIntentsStandIn } from './payment-intents-stand-in.js';
import {
  createPaymentIntentsStandIn,
  paymentIntentToStripeObject,
} from './payment-intents-stand-in.js';
import { SptLedger, sptToStripeObject } from './spt-ledger.js';
import {
  invalidParam,
  missingParam,
  resourceMissing,
  StripeApiError,
  unknownParam,
} from './stripe-errors.js';

/** The preview API version mppx 0.11 and the SPT API use. */
export const sptPreviewApiVersion = '2026-07-29.preview';

/** One HTTP request the stand-in received, for assertions. */
export interface RecordedStripeRequest {
  readonly method: string;
  readonly path: string;
  /** Request headers, lower-case names. `authorization` is redacted to its scheme. */
  readonly headers: Readonly<Record<string, string>>;
  readonly authScheme: 'bearer' | 'basic' | 'none' | 'other';
  readonly apiKeyValid: boolean;
  readonly stripeVersion: string | undefined;
  readonly idempotencyKey: string | undefined;
  readonly contentType: string | undefined;
  readonly rawBody: string;
  /** The decoded form body (`{}` for GET). */
  readonly params: Readonly<FormObject>;
  readonly status: number;
  readonly replayed: boolean;
  readonly responseBody: unknown;
}

/** Options of {@link startStripeStandIn}. */
export interface StartStripeStandInOptions {
  /** The only secret key accepted (Bearer or Basic). Default `sk_test_stipend_stand_in`. */
  secretKey?: string | undefined;
  /**
   * Refuse POSTs without `Idempotency-Key`. Stripe itself accepts them; the stand-in requires one
   * by default because an agent must make SPT creation safe to retry. Default `true`.
   */
  requireIdempotencyKey?: boolean | undefined;
  /** Seller profile a charge's SPT must have been issued for (checked when set). */
  sellerProfile?: string | undefined;
  /** Shared token state; a new {@link SptLedger} by default. */
  ledger?: SptLedger | undefined;
  /** PaymentIntents stand-in serving `/v1/payment_intents`; one sharing `ledger` by default. */
  paymentIntents?: PaymentIntentsStandIn | undefined;
  /** Clock in milliseconds for a default ledger. */
  now?: (() => number) | undefined;
}

/** A running Stripe stand-in. */
export interface StripeStandIn {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly secretKey: string;
  /** The preview version SPT calls must send (`Stripe-Version`). */
  readonly apiVersion: string;
  /** Issued tokens, shared with {@link StripeStandIn.paymentIntents}. */
  readonly ledger: SptLedger;
  /** Serves `/v1/payment_intents`; its `client` also works in-process for mppx. */
  readonly paymentIntents: PaymentIntentsStandIn;
  /** Every HTTP request received, oldest first. */
  readonly requests: readonly RecordedStripeRequest[];
  /**
   * A real `stripe` SDK client pointed at this stand-in (`host`, `port`, `protocol: 'http'`,
   * no retries, API version {@link StripeStandIn.apiVersion}).
   */
  createStripeClient(): Stripe;
  /** Stops the server. */
  close(): Promise<void>;
}

const issueParams = new Set([
  'payment_method',
  'usage_limits',
  'seller_details',
  'setup_future_usage',
  'use_stripe_sdk',
  'return_url',
]);

function asObject(value: FormValue | undefined, param: string): FormObject | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' || Array.isArray(value)) {
    throw invalidParam(param, `Invalid ${param}: send it as an object (${param}[field]=value).`);
  }
  return value;
}

function asString(value: FormValue | undefined, param: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidParam(param, `Invalid ${param}: expected a string.`);
  return value;
}

function asInteger(value: FormValue | undefined, param: string): bigint | undefined {
  const text = asString(value, param);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) {
    throw invalidParam(param, `Invalid integer: ${text}.`, 'parameter_invalid_integer');
  }
  return BigInt(text);
}

function checkKeys(object: FormObject, allowed: readonly string[], prefix: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      const hint =
        prefix === 'seller_details' && key === 'network_id'
          ? 'The field is named seller_details[network_business_profile] in the SPT API.'
          : '';
      throw unknownParam(`${prefix}[${key}]`, hint);
    }
  }
}

function issueFromParams(ledger: SptLedger, params: FormObject) {
  for (const key of Object.keys(params)) if (!issueParams.has(key)) throw unknownParam(key);
  const paymentMethod = asString(params.payment_method, 'payment_method');
  if (paymentMethod === undefined) throw missingParam('payment_method');
  const limits = asObject(params.usage_limits, 'usage_limits');
  if (limits === undefined) throw missingParam('usage_limits');
  checkKeys(limits, ['currency', 'max_amount', 'expires_at'], 'usage_limits');
  const currency = asString(limits.currency, 'usage_limits[currency]');
  if (currency === undefined) throw missingParam('usage_limits[currency]');
  const maxAmount = asInteger(limits.max_amount, 'usage_limits[max_amount]');
  if (maxAmount === undefined) throw missingParam('usage_limits[max_amount]');
  const expiresAt = asInteger(limits.expires_at, 'usage_limits[expires_at]');
  const seller = asObject(params.seller_details, 'seller_details');
  if (seller === undefined) throw missingParam('seller_details');
  checkKeys(seller, ['network_business_profile', 'external_id'], 'seller_details');
  const useStripeSdk = asString(params.use_stripe_sdk, 'use_stripe_sdk');
  if (useStripeSdk !== undefined && useStripeSdk !== 'true' && useStripeSdk !== 'false') {
    throw invalidParam(
      'use_stripe_sdk',
      `Invalid boolean: ${useStripeSdk}.`,
      'parameter_invalid_boolean',
    );
  }
  return ledger.issue({
    paymentMethod,
    currency,
    maxAmount,
    expiresAt: expiresAt === undefined ? undefined : Number(expiresAt),
    networkBusinessProfile: asString(
      seller.network_business_profile,
      'seller_details[network_business_profile]',
    ),
    externalId: asString(seller.external_id, 'seller_details[external_id]'),
    setupFutureUsage: asString(params.setup_future_usage, 'setup_future_usage'),
    useStripeSdk: useStripeSdk === undefined ? undefined : useStripeSdk === 'true',
    returnUrl: asString(params.return_url, 'return_url'),
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function authOf(header: string | undefined, secretKey: string) {
  if (!header) return { scheme: 'none' as const, valid: false, key: undefined };
  const [scheme = '', value = ''] = header.split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer') {
    return { scheme: 'bearer' as const, valid: value === secretKey, key: value };
  }
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const key = decoded.split(':', 1)[0] ?? '';
    return { scheme: 'basic' as const, valid: key === secretKey, key };
  }
  return { scheme: 'other' as const, valid: false, key: undefined };
}

function redactKey(key: string): string {
  return key.length > 12 ? `${key.slice(0, 8)}${'*'.repeat(4)}${key.slice(-4)}` : '****';
}

/**
 * Starts a local HTTP server (127.0.0.1, free port) standing in for Stripe's Shared Payment
 * Token and PaymentIntents endpoints, so the real `stripe` Node SDK can issue, retrieve and
 * revoke SPTs (agent side) and charge them (seller side) without network. It is not Stripe.
 *
 * Each request is checked as Stripe would: a valid secret key (`Authorization: Bearer sk_…` as
 * the SDK sends, or Basic as mppx's raw-fetch path sends), `Content-Type:
 * application/x-www-form-urlencoded` on POST, a `Stripe-Version` ending in `.preview` on SPT calls
 * and on PaymentIntent creation (the SPT parameter is preview-only), an `Idempotency-Key` on POST (configurable), and known parameters only.
 * A repeated idempotency key with the same parameters replays the first response with
 * `Idempotent-Replayed: true`; with other parameters it is a `400 idempotency_error`. Errors are
 * Stripe-shaped (`{"error":{"type","code","param","message"}}`). Every request is recorded.
 *
 * The `stripe` 23.1.0 SDK has no typed resource for `shared_payment/issued_tokens`; call these
 * endpoints with `stripe.rawRequest(method, path, params, { apiVersion, idempotencyKey })`.
 *
 * @example
 * ```ts
 * import { startStripeStandIn } from '@stipend/testkit/stripe';
 *
 * const stripeApi = await startStripeStandIn();
 * const stripe = stripeApi.createStripeClient();
 * const token = await stripe.rawRequest('POST', '/v1/shared_payment/issued_tokens', {
 *   payment_method: 'pm_card_visa',
 *   usage_limits: { currency: 'usd', max_amount: 50, expires_at: Math.floor(Date.now() / 1000) + 300 },
 *   seller_details: { network_business_profile: 'profile_test_seller' },
 * }, { apiVersion: stripeApi.apiVersion, idempotencyKey: 'spt-for-challenge-1' });
 * await stripeApi.close();
 * ```
 */
export async function startStripeStandIn(
  options: StartStripeStandInOptions = {},
): Promise<StripeStandIn> {
  const secretKey = options.secretKey ?? 'sk_test_stipend_stand_in';
  const requireIdempotencyKey = options.requireIdempotencyKey ?? true;
  const ledger = options.ledger ?? new SptLedger({ now: options.now });
  const paymentIntents =
    options.paymentIntents ??
    createPaymentIntentsStandIn({ ledger, sellerProfile: options.sellerProfile });
  const requests: RecordedStripeRequest[] = [];
  const cache = new IdempotencyCache<{ status: number; body: unknown }>();

  type Outcome = { status: number; body: unknown; replayed: boolean };

  function route(
    method: string,
    path: string,
    params: FormObject,
    meta: {
      stripeVersion: string | undefined;
      idempotencyKey: string | undefined;
    },
  ): Outcome {
    const ok = (body: unknown): Outcome => ({ status: 200, body, replayed: false });
    const tokenMatch = /^\/v1\/shared_payment\/issued_tokens\/([^/]+)(\/revoke)?$/.exec(path);
    const piMatch = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
    // PaymentIntent creation checks its own version (only the SPT param needs the preview).
    if (path.startsWith('/v1/shared_payment/') && !meta.stripeVersion?.endsWith('.preview')) {
      throw new StripeApiError({
        status: 400,
        type: 'invalid_request_error',
        code: 'stand_in_preview_version_required',
        message: `${path} is a preview API: send Stripe-Version ending in '.preview' (e.g. ${sptPreviewApiVersion}); got '${meta.stripeVersion ?? 'none'}'.`,
      });
    }
    if (method === 'POST' && path === '/v1/shared_payment/issued_tokens') {
      return ok(sptToStripeObject(issueFromParams(ledger, params)));
    }
    if (method === 'GET' && tokenMatch && !tokenMatch[2]) {
      const id = decodeURIComponent(tokenMatch[1] as string);
      const token = ledger.get(id);
      if (!token) throw resourceMissing('shared_payment.issued_token', id);
      return ok(sptToStripeObject(token));
    }
    if (method === 'POST' && tokenMatch?.[2]) {
      if (Object.keys(params).length > 0) throw unknownParam(Object.keys(params)[0] as string);
      return ok(sptToStripeObject(ledger.revoke(decodeURIComponent(tokenMatch[1] as string))));
    }
    if (method === 'POST' && path === '/v1/payment_intents') {
      const result = paymentIntents.handleCreate(params, {
        apiVersion: meta.stripeVersion,
        idempotencyKey: meta.idempotencyKey,
        via: 'http',
      });
      return { status: result.httpStatus, body: result.body, replayed: result.replayed };
    }
    if (method === 'GET' && piMatch) {
      const id = decodeURIComponent(piMatch[1] as string);
      const record = paymentIntents.retrieve(id);
      if (!record) throw resourceMissing('payment_intent', id);
      return ok(paymentIntentToStripeObject(record));
    }
    throw new StripeApiError({
      status: 404,
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${method}: ${path}). The stand-in serves /v1/shared_payment/issued_tokens[/:id[/revoke]] and /v1/payment_intents[/:id].`,
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const rawBody = await readBody(req);
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    };
    const auth = authOf(header('authorization'), secretKey);
    const stripeVersion = header('stripe-version');
    const idempotencyKey = header('idempotency-key');
    const contentType = header('content-type');
    const requestId = `req_${randomBytes(8).toString('hex')}`;
    let params: FormObject = {};
    let outcome: Outcome;
    try {
      if (!auth.valid) {
        throw new StripeApiError({
          status: 401,
          type: 'invalid_request_error',
          message:
            auth.key === undefined
              ? 'You did not provide an API key. Send it as Authorization: Bearer <secret key>.'
              : `Invalid API Key provided: ${redactKey(auth.key)}`,
        });
      }
      if (method === 'POST') {
        if (!contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
          throw new StripeApiError({
            status: 400,
            type: 'invalid_request_error',
            message: `Invalid request: Stripe v1 POST bodies must be application/x-www-form-urlencoded, not '${contentType ?? 'none'}'.`,
          });
        }
        params = parseStripeForm(rawBody);
      } else if (rawBody.length > 0) {
        throw new StripeApiError({
          status: 400,
          type: 'invalid_request_error',
          message: `${method} requests take no body; put parameters in the path or query.`,
        });
      }
      if (method === 'POST' && requireIdempotencyKey && !idempotencyKey) {
        throw new StripeApiError({
          status: 400,
          type: 'invalid_request_error',
          code: 'stand_in_idempotency_key_required',
          message:
            'This stand-in requires an Idempotency-Key header on POST (pass { idempotencyKey } as a request option) so retries cannot create a second object.',
        });
      }
      const fingerprint = `${method} ${path} ${canonicalParams(params)}`;
      const cached =
        method === 'POST' && idempotencyKey && path !== '/v1/payment_intents'
          ? cache.lookup(idempotencyKey, fingerprint)
          : { kind: 'miss' as const };
      if (cached.kind === 'conflict') throw idempotencyConflict(idempotencyKey as string);
      if (cached.kind === 'replay') {
        outcome = { ...cached.result, replayed: true };
      } else {
        outcome = route(method, path, params, { stripeVersion, idempotencyKey });
        if (
          method === 'POST' &&
          idempotencyKey &&
          path !== '/v1/payment_intents' &&
          outcome.status < 400
        ) {
          cache.store(idempotencyKey, fingerprint, { status: outcome.status, body: outcome.body });
        }
      }
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      outcome = { status: error.status, body: error.toJSON(), replayed: false };
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'request-id': requestId,
      ...(stripeVersion && { 'stripe-version': stripeVersion }),
      ...(idempotencyKey && { 'idempotency-key': idempotencyKey }),
      ...(outcome.replayed && { 'idempotent-replayed': 'true' }),
    };
    const recordedHeaders = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [
        k,
        k === 'authorization' ? auth.scheme : Array.isArray(v) ? v.join(', ') : (v ?? ''),
      ]),
    );
    requests.push({
      method,
      path,
      headers: recordedHeaders,
      authScheme: auth.scheme,
      apiKeyValid: auth.valid,
      stripeVersion,
      idempotencyKey,
      contentType,
      rawBody,
      params,
      status: outcome.status,
      replayed: outcome.replayed,
      responseBody: outcome.body,
    });
    res.writeHead(outcome.status, headers);
    res.end(JSON.stringify(outcome.body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { type: 'api_error', message: `Stand-in failure: ${String(error)}` },
        }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    host: '127.0.0.1',
    port,
    secretKey,
    apiVersion: sptPreviewApiVersion,
    ledger,
    paymentIntents,
    requests,
    createStripeClient() {
      return new Stripe(secretKey, {
        host: '127.0.0.1',
        port,
        protocol: 'http',
        maxNetworkRetries: 0,
        telemetry: false,
        // The SDK's types only accept its pinned version; SPT calls need the preview one.
        apiVersion: sptPreviewApiVersion as Stripe.LatestApiVersion,
      });
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
