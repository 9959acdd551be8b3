/**
 * A stand-in for Stripe's PaymentIntents API, as mppx's server-side `stripe` charge method uses
 * it to charge a Shared Payment Token (SPT). It is NOT Stripe: nothing leaves the process.
 *
 * mppx 0.11 (`mppx/dist/stripe/server/Charge.js`, `createWithClient`) calls
 * `client.paymentIntents.create(params, { apiVersion: '2026-07-29.preview', idempotencyKey: 'mpp_<challengeId>_<spt>' })`
 * with `params = { amount, currency, confirm: true, automatic_payment_methods: { enabled: true,
 * allow_redirects: 'never' }, metadata, shared_payment_granted_token }`, then reads `id`,
 * `status` and `lastResponse.headers['idempotent-replayed'] === 'true'` (a replay is refused as
 * "already processed"). `status: 'requires_action'` becomes a `payment-action-required` problem;
 * any thrown error becomes `verification-failed`.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { canonicalParams } from './form-encoding.js';
import { IdempotencyCache, idempotencyConflict } from './idempotency-cache.js';
import type { SptLedger } from './spt-ledger.js';
import { testPaymentMethods } from './spt-ledger.js';
import type { StripeErrorBody } from './stripe-errors.js';
import { invalidParam, missingParam, StripeApiError, unknownParam } from './stripe-errors.js';

/** PaymentIntent statuses the stand-in produces. */
export type PaymentIntentStatus =
  | 'succeeded'
  | 'requires_action'
  | 'requires_payment_method'
  | 'requires_confirmation';

/** One PaymentIntent the stand-in created (replays and refused calls create none). */
export interface PaymentIntentRecord {
  readonly id: string;
  /** Minor units (cents for `usd`). */
  readonly amount: bigint;
  readonly currency: string;
  /** The Shared Payment Token charged. */
  readonly spt: string;
  /** Where the SPT was passed: top-level `shared_payment_granted_token` (mppx) or `payment_method_data[...]`. */
  readonly sptParam:
    | 'shared_payment_granted_token'
    | 'payment_method_data.shared_payment_granted_token';
  readonly idempotencyKey: string | undefined;
  readonly apiVersion: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
  readonly status: PaymentIntentStatus;
  readonly confirm: boolean;
  /** Unix seconds. */
  readonly created: number;
  /** `client` for the in-process client, `http` for `POST /v1/payment_intents` on the HTTP stand-in. */
  readonly via: 'client' | 'http';
  readonly lastPaymentError: {
    readonly code: string;
    readonly declineCode: string;
    readonly message: string;
  } | null;
  /** The params exactly as received. */
  readonly params: Readonly<Record<string, unknown>>;
}

/** One call to create a PaymentIntent, whatever its outcome. */
export interface PaymentIntentCall {
  readonly via: 'client' | 'http';
  readonly idempotencyKey: string | undefined;
  readonly apiVersion: string | undefined;
  /** `created`: a new PaymentIntent; `replayed`: an idempotent replay; `rejected`: refused before creating one. */
  readonly outcome: 'created' | 'replayed' | 'rejected';
  readonly httpStatus: number;
  readonly paymentIntentId: string | undefined;
  readonly error: StripeErrorBody['error'] | undefined;
}

/** The duck type mppx's server `stripe.charge({ client })` accepts (`StripeClient` in mppx). */
export interface MppxStripeClient {
  paymentIntents: {
    create(
      params: Record<string, unknown>,
      options?: { apiVersion?: string; idempotencyKey?: string; stripeAccount?: string },
    ): Promise<StripePaymentIntentResponse>;
  };
}

/** A PaymentIntent JSON object plus the `lastResponse` the `stripe` SDK attaches. */
export type StripePaymentIntentResponse = Record<string, unknown> & {
  id: string;
  status: string;
  lastResponse: {
    headers: Record<string, string>;
    requestId: string;
    statusCode: number;
    apiVersion?: string | undefined;
    idempotencyKey?: string | undefined;
  };
};

/** The outcome of one create call, before it is turned into HTTP or SDK form. */
export interface PaymentIntentResult {
  readonly httpStatus: number;
  readonly body: Record<string, unknown>;
  readonly replayed: boolean;
  readonly requestId: string;
}

/** How the next new PaymentIntent should fail. */
export interface DeclineOptions {
  /** Stripe `decline_code`; default `generic_decline`. */
  declineCode?: string | undefined;
  /** Error message; default `Your card was declined.` */
  message?: string | undefined;
}

/** Options of {@link createPaymentIntentsStandIn}. */
export interface PaymentIntentsStandInOptions {
  /**
   * Shared SPT state. When given, a charge must name a token in it that is active, unexpired,
   * issued for `sellerProfile` (when set), in the same currency and within its remaining
   * `max_amount`; a successful charge captures the amount on the token. Without a ledger any
   * `spt_…` string is accepted.
   */
  ledger?: SptLedger | undefined;
  /** The seller's Stripe profile (`networkId` in the MPP challenge) that tokens must be issued for. */
  sellerProfile?: string | undefined;
  /**
   * Refuse calls whose API version does not end in `.preview`, as Stripe refuses
   * `shared_payment_granted_token` outside the preview API. Default `true`.
   */
  requirePreviewApiVersion?: boolean | undefined;
}

/** A Stripe PaymentIntents stand-in: an mppx-compatible client plus what it recorded. */
export interface PaymentIntentsStandIn {
  /** Pass this to mppx: `stripe.charge({ client: standIn.client, ... })`. */
  readonly client: MppxStripeClient;
  /** Every PaymentIntent created, oldest first. */
  readonly paymentIntents: readonly PaymentIntentRecord[];
  /** Every create call, including idempotent replays and refused calls. */
  readonly calls: readonly PaymentIntentCall[];
  /** Creates (or replays) a PaymentIntent and returns the raw outcome; never throws for API errors. */
  handleCreate(
    params: Record<string, unknown>,
    options: {
      apiVersion?: string | undefined;
      idempotencyKey?: string | undefined;
      via: 'client' | 'http';
    },
  ): PaymentIntentResult;
  /** Looks a created PaymentIntent up by id. */
  retrieve(id: string): PaymentIntentRecord | undefined;
  /** The next new PaymentIntent is declined (`402 card_error`), as Stripe declines a card. */
  declineNext(options?: DeclineOptions): void;
  /** The next new PaymentIntent comes back `requires_action` with a `next_action`. */
  requireActionNext(): void;
  /** Forgets records, idempotency keys and pending forced outcomes. */
  reset(): void;
}

const knownParams = new Set([
  'amount',
  'currency',
  'confirm',
  'automatic_payment_methods',
  'metadata',
  'shared_payment_granted_token',
  'payment_method_data',
  'customer',
  'receipt_email',
  'hooks',
  'application_fee_amount',
  'on_behalf_of',
  'transfer_data',
  'transfer_group',
  'description',
  'payment_method_types',
  'off_session',
]);

/** Stripe's general minimum charge per currency, in minor units (subset; others unchecked). */
const minimumCharge: Record<string, bigint> = { usd: 50n, eur: 50n, gbp: 30n, cad: 50n, aud: 50n };

type Forced =
  | { kind: 'decline'; declineCode: string; message: string }
  | { kind: 'requires_action' };

function readAmount(value: unknown): bigint {
  if (value === undefined) throw missingParam('amount');
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || !/^\d+$/.test(text)) {
    throw invalidParam(
      'amount',
      `Invalid integer: ${String(value)}. amount is an integer in minor units (e.g. 50 for $0.50).`,
      'parameter_invalid_integer',
    );
  }
  return BigInt(text);
}

function readBoolean(value: unknown, param: string): boolean {
  if (value === undefined) return false;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalidParam(param, `Invalid boolean: ${String(value)}.`, 'parameter_invalid_boolean');
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidParam('metadata', 'metadata must be an object of string values.');
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

function readSpt(params: Record<string, unknown>): {
  spt: string;
  sptParam: PaymentIntentRecord['sptParam'];
} {
  const top = params.shared_payment_granted_token;
  const data = params.payment_method_data as Record<string, unknown> | undefined;
  const nested =
    typeof data === 'object' && data !== null ? data.shared_payment_granted_token : undefined;
  if (top !== undefined && nested !== undefined) {
    throw invalidParam(
      'shared_payment_granted_token',
      'Pass the SPT once: either shared_payment_granted_token or payment_method_data[shared_payment_granted_token].',
    );
  }
  const raw = top ?? nested;
  if (raw === undefined) throw missingParam('shared_payment_granted_token');
  if (typeof raw !== 'string' || !raw.startsWith('spt_')) {
    throw invalidParam(
      'shared_payment_granted_token',
      `Invalid shared payment token '${String(raw)}': it must be an id starting with 'spt_'.`,
    );
  }
  return {
    spt: raw,
    sptParam:
      top !== undefined
        ? 'shared_payment_granted_token'
        : 'payment_method_data.shared_payment_granted_token',
  };
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

function toObject(record: PaymentIntentRecord): Record<string, unknown> {
  return {
    id: record.id,
    object: 'payment_intent',
    amount: Number(record.amount),
    amount_received: record.status === 'succeeded' ? Number(record.amount) : 0,
    automatic_payment_methods: record.params.automatic_payment_methods ?? null,
    capture_method: 'automatic',
    confirmation_method: 'automatic',
    created: record.created,
    currency: record.currency,
    last_payment_error: record.lastPaymentError
      ? {
          type: 'card_error',
          code: record.lastPaymentError.code,
          decline_code: record.lastPaymentError.declineCode,
          message: record.lastPaymentError.message,
        }
      : null,
    livemode: false,
    metadata: record.metadata,
    next_action:
      record.status === 'requires_action'
        ? { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect' } }
        : null,
    shared_payment_granted_token: record.spt,
    status: record.status,
  };
}

/**
 * Creates a stand-in for Stripe's PaymentIntents API to give to mppx's server `stripe` charge
 * method. It records every PaymentIntent (amount, currency, SPT, idempotency key, metadata),
 * replays a repeated idempotency key with `lastResponse.headers['idempotent-replayed'] = 'true'`
 * (which mppx refuses as "already processed"), refuses a reused key with different params
 * (`idempotency_error`), and can be told to decline the next charge or require `next_action`.
 * Errors are thrown as the real `stripe` SDK error classes (`StripeCardError`, ...).
 *
 * It stands in for Stripe's API; it is not Stripe. Pair it with {@link SptLedger} (or use
 * `startStripeStandIn`, which does) to check charges against issued tokens.
 *
 * @example
 * ```ts
 * import { Mppx, stripe } from 'mppx/server';
 * import { createPaymentIntentsStandIn } from '@stipend/testkit/stripe';
 *
 * const standIn = createPaymentIntentsStandIn();
 * const mppx = Mppx.create({
 *   secretKey: 'a-secret-of-at-least-thirty-two-bytes!!',
 *   methods: [stripe.charge({ client: standIn.client, networkId: 'profile_test', currency: 'usd', decimals: 2, paymentMethodTypes: ['card'] })],
 * });
 * // ...after a paid request:
 * standIn.paymentIntents.length; // 1
 * ```
 */
export function createPaymentIntentsStandIn(
  options: PaymentIntentsStandInOptions = {},
): PaymentIntentsStandIn {
  const requirePreview = options.requirePreviewApiVersion ?? true;
  const records: PaymentIntentRecord[] = [];
  const calls: PaymentIntentCall[] = [];
  const forced: Forced[] = [];
  const cache = new IdempotencyCache<PaymentIntentResult>();
  const nowSeconds = () => options.ledger?.nowSeconds() ?? Math.floor(Date.now() / 1000);

  function reject(
    error: StripeApiError,
    meta: {
      apiVersion?: string | undefined;
      idempotencyKey?: string | undefined;
      via: 'client' | 'http';
    },
  ): PaymentIntentResult {
    const body = error.toJSON();
    calls.push({
      via: meta.via,
      idempotencyKey: meta.idempotencyKey,
      apiVersion: meta.apiVersion,
      outcome: 'rejected',
      httpStatus: error.status,
      paymentIntentId: undefined,
      error: body.error,
    });
    return {
      httpStatus: error.status,
      body: { ...body },
      replayed: false,
      requestId: newId('req'),
    };
  }

  function create(
    params: Record<string, unknown>,
    meta: {
      apiVersion?: string | undefined;
      idempotencyKey?: string | undefined;
      via: 'client' | 'http';
    },
  ): PaymentIntentResult {
    const fingerprint = `POST /v1/payment_intents ${canonicalParams(params)}`;
    if (meta.idempotencyKey !== undefined) {
      const found = cache.lookup(meta.idempotencyKey, fingerprint);
      if (found.kind === 'conflict') return reject(idempotencyConflict(meta.idempotencyKey), meta);
      if (found.kind === 'replay') {
        const result = { ...found.result, replayed: true, requestId: newId('req') };
        const error = (result.body as Partial<StripeErrorBody>).error;
        calls.push({
          via: meta.via,
          idempotencyKey: meta.idempotencyKey,
          apiVersion: meta.apiVersion,
          outcome: 'replayed',
          httpStatus: result.httpStatus,
          paymentIntentId:
            typeof result.body.id === 'string'
              ? result.body.id
              : (error?.payment_intent?.id as string | undefined),
          error,
        });
        return result;
      }
    }
    try {
      if (requirePreview && !meta.apiVersion?.endsWith('.preview')) {
        throw invalidParam(
          'shared_payment_granted_token',
          `shared_payment_granted_token needs a preview API version (Stripe-Version ending in '.preview', e.g. 2026-07-29.preview); this request used '${meta.apiVersion ?? 'none'}'.`,
          'parameter_unknown',
        );
      }
      for (const key of Object.keys(params)) {
        if (params[key] !== undefined && !knownParams.has(key)) throw unknownParam(key);
      }
      const amount = readAmount(params.amount);
      const currency = params.currency;
      if (currency === undefined) throw missingParam('currency');
      if (typeof currency !== 'string' || !/^[a-z]{3}$/.test(currency)) {
        throw invalidParam('currency', `Invalid currency: ${String(currency)}. Use e.g. 'usd'.`);
      }
      const minimum = minimumCharge[currency];
      if (minimum !== undefined && amount < minimum) {
        throw new StripeApiError({
          status: 400,
          type: 'invalid_request_error',
          code: 'amount_too_small',
          param: 'amount',
          message: `Amount must be at least ${minimum} ${currency} minor units.`,
        });
      }
      const confirm = readBoolean(params.confirm, 'confirm');
      const metadata = readMetadata(params.metadata);
      const { spt, sptParam } = readSpt(params);
      const token = options.ledger?.checkCharge({
        spt,
        amount,
        currency,
        sellerProfile: options.sellerProfile,
      });

      let status: PaymentIntentStatus = confirm ? 'succeeded' : 'requires_confirmation';
      let lastPaymentError: PaymentIntentRecord['lastPaymentError'] = null;
      if (confirm) {
        const next = forced.shift();
        const pm = token?.paymentMethod;
        if (next?.kind === 'requires_action') status = 'requires_action';
        else if (next?.kind === 'decline') {
          lastPaymentError = {
            code: 'card_declined',
            declineCode: next.declineCode,
            message: next.message,
          };
        } else if (pm === testPaymentMethods.chargeDeclined) {
          lastPaymentError = {
            code: 'card_declined',
            declineCode: 'generic_decline',
            message: 'Your card was declined.',
          };
        } else if (pm === testPaymentMethods.chargeDeclinedInsufficientFunds) {
          lastPaymentError = {
            code: 'card_declined',
            declineCode: 'insufficient_funds',
            message: 'Your card has insufficient funds.',
          };
        }
        if (lastPaymentError) status = 'requires_payment_method';
      }

      const record: PaymentIntentRecord = {
        id: newId('pi'),
        amount,
        currency,
        spt,
        sptParam,
        idempotencyKey: meta.idempotencyKey,
        apiVersion: meta.apiVersion,
        metadata,
        status,
        confirm,
        created: nowSeconds(),
        via: meta.via,
        lastPaymentError,
        params: structuredClone(params),
      };
      records.push(record);
      if (status === 'succeeded' && options.ledger) options.ledger.capture(spt, amount);

      const object = toObject(record);
      const result: PaymentIntentResult = lastPaymentError
        ? {
            httpStatus: 402,
            body: new StripeApiError({
              status: 402,
              type: 'card_error',
              code: lastPaymentError.code,
              declineCode: lastPaymentError.declineCode,
              message: lastPaymentError.message,
              paymentIntent: object,
            }).toJSON() as unknown as Record<string, unknown>,
            replayed: false,
            requestId: newId('req'),
          }
        : { httpStatus: 200, body: object, replayed: false, requestId: newId('req') };
      if (meta.idempotencyKey !== undefined) cache.store(meta.idempotencyKey, fingerprint, result);
      calls.push({
        via: meta.via,
        idempotencyKey: meta.idempotencyKey,
        apiVersion: meta.apiVersion,
        outcome: 'created',
        httpStatus: result.httpStatus,
        paymentIntentId: record.id,
        error: lastPaymentError ? (result.body as unknown as StripeErrorBody).error : undefined,
      });
      return result;
    } catch (error) {
      if (error instanceof StripeApiError) return reject(error, meta);
      throw error;
    }
  }

  const client: MppxStripeClient = {
    paymentIntents: {
      async create(params, requestOptions) {
        const result = create(params, {
          apiVersion: requestOptions?.apiVersion,
          idempotencyKey: requestOptions?.idempotencyKey,
          via: 'client',
        });
        const headers: Record<string, string> = {
          'request-id': result.requestId,
          ...(requestOptions?.apiVersion && { 'stripe-version': requestOptions.apiVersion }),
          ...(requestOptions?.idempotencyKey && {
            'idempotency-key': requestOptions.idempotencyKey,
          }),
          ...(result.replayed && { 'idempotent-replayed': 'true' }),
        };
        if (result.httpStatus >= 400) {
          const { error } = result.body as unknown as StripeErrorBody;
          throw Stripe.errors.generateV1Error({
            ...error,
            payment_intent: error.payment_intent as unknown as Stripe.PaymentIntent,
            statusCode: result.httpStatus,
            headers,
            requestId: result.requestId,
          });
        }
        return {
          ...structuredClone(result.body),
          id: result.body.id as string,
          status: result.body.status as string,
          lastResponse: {
            headers,
            requestId: result.requestId,
            statusCode: result.httpStatus,
            apiVersion: requestOptions?.apiVersion,
            idempotencyKey: requestOptions?.idempotencyKey,
          },
        };
      },
    },
  };

  return {
    client,
    paymentIntents: records,
    calls,
    handleCreate: create,
    retrieve: (id) => records.find((r) => r.id === id),
    declineNext(decline = {}) {
      forced.push({
        kind: 'decline',
        declineCode: decline.declineCode ?? 'generic_decline',
        message: decline.message ?? 'Your card was declined.',
      });
    },
    requireActionNext() {
      forced.push({ kind: 'requires_action' });
    },
    reset() {
      records.length = 0;
      calls.length = 0;
      forced.length = 0;
      cache.clear();
    },
  };
}

/**
 * The PaymentIntent JSON object for a record, as Stripe would return it.
 *
 * @example
 * ```ts
 * import { createPaymentIntentsStandIn, paymentIntentToStripeObject } from '@stipend/testkit/stripe';
 *
 * const standIn = createPaymentIntentsStandIn();
 * const first = standIn.paymentIntents[0];
 * if (first) paymentIntentToStripeObject(first).object; // 'payment_intent'
 * ```
 */
export function paymentIntentToStripeObject(record: PaymentIntentRecord): Record<string, unknown> {
  return toObject(record);
}
