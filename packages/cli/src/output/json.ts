/**
 * JSON for scripts: bigints become decimal strings, everything else as `JSON.stringify` does.
 *
 * @module
 */

/**
 * Serialises a value as JSON, writing bigints as decimal strings.
 *
 * @example
 * ```ts
 * import { toJson } from './json.js';
 * toJson({ usdMicros: 1000n }); // '{"usdMicros":"1000"}'
 * ```
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_key, item) => (typeof item === 'bigint' ? item.toString() : item),
    indent,
  );
}
