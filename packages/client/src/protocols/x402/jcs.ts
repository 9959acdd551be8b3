/**
 * JSON Canonicalization Scheme (RFC 8785) for the values x402 hashes: the `lnbtc` request
 * binding (`http:1`, `mcp:1`). Small on purpose: members sorted by UTF-16 code units, strings
 * escaped as ECMAScript `JSON.stringify` escapes them (which is what RFC 8785 specifies), numbers
 * in ECMAScript shortest form. Values outside the JSON data model (`undefined`, bigint,
 * functions, non-finite numbers, strings with lone surrogates) are refused, never dropped.
 *
 * @module
 */

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The RFC 8785 serialization of a JSON value. Throws a `TypeError` naming the first value
 * outside the JSON data model.
 *
 * @example
 * ```ts
 * import { canonicalJson } from './jcs.js';
 * canonicalJson({ b: 1, a: [true, null, 'x'] }); // '{"a":[true,null,"x"],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

function write(value: unknown, depth: number): string {
  if (depth > 64) throw new TypeError('JSON value nested deeper than 64 levels');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('a non-finite number is not JSON');
      return JSON.stringify(value);
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new TypeError('a string holds invalid Unicode');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((item) => write(item, depth + 1)).join(',')}]`;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        throw new TypeError('only plain objects are JSON objects');
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      const members = keys.map((key) => {
        if (LONE_SURROGATE.test(key)) throw new TypeError('a member name holds invalid Unicode');
        return `${JSON.stringify(key)}:${write(record[key], depth + 1)}`;
      });
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`a ${typeof value} is not a JSON value`);
  }
}
