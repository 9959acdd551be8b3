/**
 * Checks what a sub-agent sends before anything is priced or paid: the request (method, URL),
 * the offer (rebuilt field by field and frozen), the idempotency key and the TTL cap.
 *
 * @module
 */
import {
  type Amount,
  amount,
  freezeOffer,
  type PaymentOffer,
  StipendError,
  type Unit,
} from '@stipend/client';

/** A payment request as the authority takes it. */
export interface PayInput {
  readonly method: string;
  readonly url: URL;
  readonly offer: PaymentOffer;
  readonly idempotencyKey: string;
  readonly maxAuthorizationTtlSec: number;
}

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_TEXT = 2048;

/**
 * The error for a malformed request to the authority (HTTP 400).
 *
 * @example
 * ```ts
 * import { badRequest } from './request-input.js';
 * throw badRequest('offer.origin must be a URL origin');
 * ```
 */
export function badRequest(message: string): StipendError {
  return new StipendError('AUTHORITY_BAD_REQUEST', `The payment request is malformed: ${message}.`);
}

/**
 * Validates a pay request body.
 *
 * @throws {StipendError} code `AUTHORITY_BAD_REQUEST` naming the field to fix.
 * @example
 * ```ts
 * import { readPayInput } from './request-input.js';
 * const input = readPayInput({ request: { method: 'GET', url }, offer, idempotencyKey: 'k', maxAuthorizationTtlSec: 300 });
 * ```
 */
export function readPayInput(
  body: {
    readonly request?: unknown;
    readonly offer?: unknown;
    readonly idempotencyKey?: unknown;
    readonly maxAuthorizationTtlSec?: unknown;
  },
  trustUnit: (unit: Unit) => Unit = (unit) => unit,
): PayInput {
  const request = object(body.request, 'request');
  const method = text(request.method, 'request.method', 32);
  if (!METHOD.test(method)) throw badRequest('request.method must be an HTTP method');
  const url = parseUrl(request.url, 'request.url');
  const offer = readOffer(body.offer, trustUnit);
  if (offer.origin !== url.origin) {
    throw badRequest(
      `offer.origin ${offer.origin} is not the origin of request.url (${url.origin}); a proof goes only to the origin that issued the challenge`,
    );
  }
  const idempotencyKey = text(body.idempotencyKey, 'idempotencyKey', 256);
  const ttl = body.maxAuthorizationTtlSec;
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0) {
    throw badRequest('maxAuthorizationTtlSec must be a whole number of seconds > 0');
  }
  return { method: method.toUpperCase(), url, offer, idempotencyKey, maxAuthorizationTtlSec: ttl };
}

/**
 * Rebuilds an offer from JSON, field by field, and freezes it. `trustUnit` replaces what the
 * sender claims about each unit (decimals, peg) with what the authority knows, or throws.
 *
 * @throws {StipendError} code `AUTHORITY_BAD_REQUEST`.
 * @example
 * ```ts
 * import { readOffer } from './request-input.js';
 * const offer = readOffer(JSON.parse(text));
 * ```
 */
export function readOffer(
  value: unknown,
  trustUnit: (unit: Unit) => Unit = (unit) => unit,
): PaymentOffer {
  const o = object(value, 'offer');
  const protocol = text(o.protocol, 'offer.protocol', 64);
  if (!NAME.test(protocol)) throw badRequest('offer.protocol must be a protocol name');
  const origin = parseUrl(o.origin, 'offer.origin');
  if (origin.origin !== o.origin) throw badRequest('offer.origin must be a bare origin');
  parseUrl(o.resource, 'offer.resource');
  if (typeof o.reusable !== 'boolean') throw badRequest('offer.reusable must be a boolean');
  const offer: PaymentOffer = {
    id: text(o.id, 'offer.id', 512),
    protocol,
    scheme: text(o.scheme, 'offer.scheme', 64),
    amount: readAmount(o.amount, 'offer.amount', trustUnit),
    ...(o.maxFee !== undefined ? { maxFee: readAmount(o.maxFee, 'offer.maxFee', trustUnit) } : {}),
    payee: text(o.payee, 'offer.payee', MAX_TEXT),
    ...(o.network !== undefined ? { network: text(o.network, 'offer.network', 128) } : {}),
    ...(o.asset !== undefined ? { asset: text(o.asset, 'offer.asset', 256) } : {}),
    origin: origin.origin,
    resource: o.resource as string,
    ...(o.expiresAt !== undefined ? { expiresAt: whole(o.expiresAt, 'offer.expiresAt') } : {}),
    ...(o.authorizationTtlSec !== undefined
      ? { authorizationTtlSec: whole(o.authorizationTtlSec, 'offer.authorizationTtlSec') }
      : {}),
    reusable: o.reusable,
    raw: o.raw,
  };
  return freezeOffer(offer);
}

function readAmount(value: unknown, field: string, trustUnit: (unit: Unit) => Unit): Amount {
  const a = object(value, field);
  if (typeof a.value !== 'bigint') throw badRequest(`${field}.value must be a bigint`);
  let checked: Amount;
  try {
    checked = amount(a.value, a.unit as Unit);
  } catch (error) {
    throw badRequest(`${field}: ${(error as Error).message}`);
  }
  return amount(checked.value, trustUnit(checked.unit));
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`${field} must be an object`);
  }
  return value as Record<string, unknown>;
}

function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw badRequest(`${field} must be a string of 1 to ${max} characters`);
  }
  return value;
}

function whole(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(`${field} must be a whole number >= 0`);
  }
  return value;
}

function parseUrl(value: unknown, field: string): URL {
  const raw = text(value, field, 8192);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badRequest(`${field} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw badRequest(`${field} must be an http(s) URL`);
  }
  return url;
}
