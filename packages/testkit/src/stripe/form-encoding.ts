/**
 * Stripe's v1 request encoding: `application/x-www-form-urlencoded` with bracketed keys
 * (`usage_limits[max_amount]=75`, `payment_method_types[0]=card`, `metadata[key]=value`).
 *
 * @module
 */
import { StripeApiError } from './stripe-errors.js';

/** A decoded form value: every leaf is a string, as on the wire. */
export type FormValue = string | FormValue[] | FormObject;
/** A decoded form object. */
export interface FormObject {
  [key: string]: FormValue;
}

function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open === -1) return [key];
  const head = key.slice(0, open);
  const rest = key.slice(open);
  const parts = [head];
  const pattern = /\[([^[\]]*)\]/gy;
  let consumed = 0;
  for (let match = pattern.exec(rest); match !== null; match = pattern.exec(rest)) {
    parts.push(match[1] ?? '');
    consumed = pattern.lastIndex;
  }
  if (consumed !== rest.length || head === '') {
    throw new StripeApiError({
      status: 400,
      type: 'invalid_request_error',
      message: `Invalid form key '${key}': use name[sub][...] brackets, as Stripe's v1 encoding does.`,
    });
  }
  return parts;
}

function conflict(key: string): StripeApiError {
  return new StripeApiError({
    status: 400,
    type: 'invalid_request_error',
    param: key,
    message: `Invalid form key '${key}': it is sent both as a value and as an object.`,
  });
}

/** Turns objects whose keys are exactly 0..n-1 into arrays, recursively. */
function arrayify(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const entries = keys.map((k) => [k, arrayify(value[k] as FormValue)] as const);
  const isList = keys.length > 0 && keys.every((k, i) => k === String(i));
  if (isList) return entries.map(([, v]) => v);
  return Object.fromEntries(entries);
}

/**
 * Decodes a Stripe v1 form body into nested objects (leaves stay strings).
 *
 * Throws a Stripe-shaped 400 {@link StripeApiError} for malformed keys or a key used both as a
 * value and as an object.
 *
 * @example
 * ```ts
 * import { parseStripeForm } from '@stipend/testkit/stripe';
 *
 * parseStripeForm('usage_limits[currency]=usd&usage_limits[max_amount]=75');
 * // { usage_limits: { currency: 'usd', max_amount: '75' } }
 * ```
 */
export function parseStripeForm(body: string): FormObject {
  const root: FormObject = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const parts = splitKey(key);
    let node: FormObject = root;
    for (let i = 0; i < parts.length; i++) {
      let part = parts[i] as string;
      const last = i === parts.length - 1;
      if (part === '') part = String(Object.keys(node).length);
      const existing = node[part];
      if (last) {
        if (existing !== undefined && typeof existing !== 'string') throw conflict(key);
        node[part] = value;
      } else {
        if (existing === undefined) node[part] = {};
        const next = node[part];
        if (typeof next === 'string' || Array.isArray(next) || next === undefined) {
          throw conflict(key);
        }
        node = next;
      }
    }
  }
  return arrayify(root) as FormObject;
}

/**
 * A canonical string for a params object (sorted keys, leaves as strings), used to decide whether
 * two requests carrying the same idempotency key have the same parameters.
 *
 * @example
 * ```ts
 * import { canonicalParams } from '@stipend/testkit/stripe';
 *
 * canonicalParams({ b: 1, a: 'x' }) === canonicalParams({ a: 'x', b: '1' }); // true
 * ```
 */
export function canonicalParams(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return `[${value.map(canonicalParams).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value as Record<string, unknown>)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys
      .map((k) => `${JSON.stringify(k)}:${canonicalParams((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(String(value));
}
