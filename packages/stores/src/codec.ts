/**
 * A lossless JSON encoding for what the stores persist: bigints and non-finite numbers survive,
 * and no user-supplied key can be mistaken for a tag.
 *
 * - `123n` is written `{"$b":"123"}`, `Infinity` / `-Infinity` `{"$n":"Infinity"}`;
 * - an object key starting with `$` is written with one more `$` (`"$x"` → `"$$x"`), so a tag
 *   is always a one-key object whose key is `$b` or `$n`;
 * - `undefined` properties are dropped (as `JSON.stringify` does); `NaN` is refused.
 *
 * @module
 */

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Turns a value into JSON-safe data (see the module notes for the tags).
 *
 * @param value - Plain data: objects, arrays, strings, booleans, null, numbers, bigints.
 * @returns The same data with bigints and infinities tagged.
 * @throws {TypeError} for NaN, functions, symbols or class instances other than plain objects.
 *
 * @example
 * ```ts
 * import { encodeJson } from './codec.js';
 * JSON.stringify(encodeJson({ usd: 5n })); // '{"usd":{"$b":"5"}}'
 * ```
 */
export function encodeJson(value: unknown): Json {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return { $b: value.toString() };
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    if (Number.isNaN(value)) throw new TypeError('NaN cannot be stored.');
    return { $n: value > 0 ? 'Infinity' : '-Infinity' };
  }
  if (Array.isArray(value)) return value.map((item) => encodeJson(item ?? null));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`Only plain objects can be stored, not ${proto?.constructor?.name}.`);
    }
    const out: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      setOwn(out, key.startsWith('$') ? `$${key}` : key, encodeJson(item));
    }
    return out;
  }
  throw new TypeError(`A ${typeof value} cannot be stored.`);
}

/**
 * Reverses {@link encodeJson}.
 *
 * @param value - Data produced by `encodeJson` (after a JSON round trip).
 * @returns The original data, with bigints and infinities restored.
 * @throws {TypeError} for a malformed tag.
 *
 * @example
 * ```ts
 * import { decodeJson } from './codec.js';
 * decodeJson(JSON.parse('{"usd":{"$b":"5"}}')); // { usd: 5n }
 * ```
 */
export function decodeJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decodeJson);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1) {
    const only = keys[0]!;
    const tagged = record[only];
    if (only === '$b') {
      if (typeof tagged !== 'string' || !/^-?(0|[1-9][0-9]*)$/.test(tagged)) {
        throw new TypeError(`Malformed bigint tag ${JSON.stringify(tagged)}.`);
      }
      return BigInt(tagged);
    }
    if (only === '$n') {
      if (tagged === 'Infinity') return Number.POSITIVE_INFINITY;
      if (tagged === '-Infinity') return Number.NEGATIVE_INFINITY;
      throw new TypeError(`Malformed number tag ${JSON.stringify(tagged)}.`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (key.startsWith('$') && !key.startsWith('$$')) {
      throw new TypeError(`Unknown tag "${key}" in stored data.`);
    }
    setOwn(out, key.startsWith('$') ? key.slice(1) : key, decodeJson(record[key]));
  }
  return out;
}

/** Sets an own data property, even for a key such as `__proto__`. */
function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * `JSON.stringify(encodeJson(value))`.
 *
 * @example
 * ```ts
 * import { stringifyJson } from './codec.js';
 * stringifyJson([1n, Infinity]); // '[{"$b":"1"},{"$n":"Infinity"}]'
 * ```
 */
export function stringifyJson(value: unknown): string {
  return JSON.stringify(encodeJson(value));
}

/**
 * `decodeJson(JSON.parse(text))`.
 *
 * @example
 * ```ts
 * import { parseJson } from './codec.js';
 * parseJson('{"$$weird":{"$b":"7"}}'); // { $weird: 7n }
 * ```
 */
export function parseJson(text: string): unknown {
  return decodeJson(JSON.parse(text));
}
