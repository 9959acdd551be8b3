/**
 * Strict decimal strings <-> bigint atomic units. No floats anywhere: a decimal string is split
 * into digit runs and scaled with bigint arithmetic only.
 *
 * Accepted grammar: `0` or a digit run without leading zeros, optionally followed by one `.` and
 * at least one fractional digit (`/^(0|[1-9][0-9]*)(\.[0-9]+)?$/`). Rejected on purpose:
 * exponents (`1e-3`), signs (`-1`, `+1`), whitespace, empty strings, `.5` and `5.`, redundant
 * leading zeros (`007`), `Infinity`/`NaN`, thousands separators (`1,000`, `1_000`), and strings
 * longer than {@link MAX_DECIMAL_TEXT_LENGTH} characters.
 */

import { AmountError } from './errors.js';
import type { UsdMicros } from './unit.js';

/**
 * Largest number of decimals a unit may have. 10^77 is the largest power of ten below 2^256,
 * so one whole unit of such a token still fits in a uint256.
 */
export const MAX_DECIMALS = 77;

/** Largest number of integer digits accepted (a uint256 has at most 78 decimal digits). */
export const MAX_INTEGER_DIGITS = 78;

/** Longest decimal string accepted, checked before anything else (hostile input). */
export const MAX_DECIMAL_TEXT_LENGTH = MAX_INTEGER_DIGITS + 1 + MAX_DECIMALS;

/** Decimals of USD micro-units (1e-6 USD). */
export const USD_MICROS_DECIMALS = 6;

const USD_MICROS_PER_DOLLAR = 1_000_000n;

const DECIMAL_PATTERN = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

interface DecimalParts {
  readonly integer: string;
  readonly fraction: string;
}

/** Shows untrusted text in a message, shortened. */
function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** Explains the most likely reason a string does not match the grammar. */
function hint(text: string): string {
  if (text === '') return 'it is empty';
  if (/\s/.test(text)) return 'remove the whitespace';
  if (/[eE]/.test(text) && /[0-9]/.test(text) && !/[a-df-zA-DF-Z]/.test(text)) {
    return 'exponents are not accepted; write the digits out (e.g. "0.001", not "1e-3")';
  }
  if (/^[+-]/.test(text)) return 'signs are not accepted; amounts are non-negative';
  if (/[,_']/.test(text)) return 'remove the thousands separators';
  if (text.startsWith('.')) return 'write a leading zero (e.g. "0.5", not ".5")';
  if (text.endsWith('.'))
    return 'drop the trailing point or add digits after it (e.g. "5" or "5.0")';
  if (/^0[0-9]/.test(text)) return 'remove the leading zeros';
  if ((text.match(/\./g) ?? []).length > 1) return 'use a single decimal point';
  return 'use plain digits with an optional single decimal point, e.g. "12.345"';
}

function splitDecimal(text: unknown, label: string): DecimalParts {
  if (typeof text !== 'string') {
    throw new AmountError(
      `${label} must be a decimal string such as "0.01", got ${typeof text}; ` +
        'JavaScript numbers are not accepted for money',
    );
  }
  if (text.length > MAX_DECIMAL_TEXT_LENGTH) {
    throw new AmountError(
      `${label} is ${text.length} characters long; at most ${MAX_DECIMAL_TEXT_LENGTH} are accepted`,
    );
  }
  const match = DECIMAL_PATTERN.exec(text);
  if (match === null) {
    throw new AmountError(`${label} ${quote(text)} is not a plain decimal: ${hint(text)}`);
  }
  const integer = match[1] ?? '';
  if (integer.length > MAX_INTEGER_DIGITS) {
    throw new AmountError(
      `${label} ${quote(text)} has ${integer.length} integer digits; at most ${MAX_INTEGER_DIGITS} are accepted`,
    );
  }
  return { integer, fraction: match[2] ?? '' };
}

function checkDecimals(decimals: unknown): number {
  if (
    typeof decimals !== 'number' ||
    !Number.isInteger(decimals) ||
    decimals < 0 ||
    decimals > MAX_DECIMALS
  ) {
    throw new AmountError(
      `decimals must be an integer from 0 to ${MAX_DECIMALS}, got ${String(decimals)}`,
    );
  }
  return decimals;
}

function parseScaled(text: unknown, decimals: number, label: string): bigint {
  const scale = checkDecimals(decimals);
  const { integer, fraction } = splitDecimal(text, label);
  let kept = fraction;
  if (fraction.length > scale) {
    const dropped = fraction.slice(scale);
    if (/[1-9]/.test(dropped)) {
      throw new AmountError(
        `${label} ${quote(text as string)} has ${fraction.length} fractional digits but only ` +
          `${scale} are allowed; rounding is never implicit, so round the value yourself ` +
          '(up, for a cost) before passing it',
      );
    }
    kept = fraction.slice(0, scale);
  }
  return BigInt(integer + kept.padEnd(scale, '0'));
}

/**
 * Parses a strict decimal string into atomic units: `value * 10^decimals`, exactly.
 * Extra fractional digits are accepted only when they are all zeros; anything that would need
 * rounding throws. See the module comment for the grammar (`.5`, `5.`, `1e-3`, `-1`, `1,000`,
 * leading zeros and whitespace are all rejected).
 *
 * @throws {AmountError} on any malformed string, excess precision or invalid `decimals`.
 * @example
 * ```ts
 * import { parseDecimal } from '@stipend/client';
 * parseDecimal('0.001', 6); // 1000n
 * parseDecimal('1.50', 1); // 15n (trailing zeros beyond the decimals are fine)
 * parseDecimal('0.0000001', 6); // throws AmountError: 7 fractional digits
 * ```
 */
export function parseDecimal(text: string, decimals: number): bigint {
  return parseScaled(text, decimals, 'amount');
}

/**
 * Parses a strict decimal string into an exact fraction `numerator / denominator` with
 * `denominator = 10^(fractional digits)`, not reduced. Same grammar as {@link parseDecimal}.
 *
 * @throws {AmountError} on any malformed string.
 * @example
 * ```ts
 * import { parseDecimalFraction } from '@stipend/client';
 * parseDecimalFraction('97123.45'); // { numerator: 9712345n, denominator: 100n }
 * ```
 */
export function parseDecimalFraction(text: string): {
  numerator: bigint;
  denominator: bigint;
} {
  const { integer, fraction } = splitDecimal(text, 'decimal');
  return {
    numerator: BigInt(integer + fraction),
    denominator: 10n ** BigInt(fraction.length),
  };
}

/**
 * Formats atomic units as a decimal string: the inverse of {@link parseDecimal}. Trailing
 * fractional zeros are trimmed; the result is at least `"0"`.
 *
 * @throws {AmountError} when `value` is not a non-negative bigint or `decimals` is invalid.
 * @example
 * ```ts
 * import { formatDecimal } from '@stipend/client';
 * formatDecimal(1000n, 6); // '0.001'
 * formatDecimal(1_500_000n, 6); // '1.5'
 * formatDecimal(0n, 6); // '0'
 * ```
 */
export function formatDecimal(value: bigint, decimals: number): string {
  const scale = checkDecimals(decimals);
  if (typeof value !== 'bigint' || value < 0n) {
    throw new AmountError(
      `value must be a non-negative bigint, got ${typeof value === 'bigint' ? `${value}n` : typeof value}`,
    );
  }
  const digits = value.toString().padStart(scale + 1, '0');
  const integer = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  return fraction === '' ? integer : `${integer}.${fraction}`;
}

/**
 * Parses a USD amount into micro-dollars (1e-6 USD). A string is decimal dollars with at most
 * 6 significant decimals and an optional leading `$` (`'0.10'`, `'$0.000123'`); a bigint is
 * taken as micro-dollars already. Numbers are rejected.
 *
 * @throws {AmountError} on a malformed string, more than 6 non-zero decimals, or a negative bigint.
 * @example
 * ```ts
 * import { parseUsd } from '@stipend/client';
 * parseUsd('0.10'); // 100000n
 * parseUsd('$2'); // 2000000n
 * parseUsd(250n); // 250n (already micro-dollars)
 * ```
 */
export function parseUsd(text: string | bigint): UsdMicros {
  if (typeof text === 'bigint') {
    if (text < 0n) {
      throw new AmountError(`USD micro-units must not be negative, got ${text}n`);
    }
    return text;
  }
  if (typeof text !== 'string') {
    throw new AmountError(
      `USD amount must be a decimal string like "0.10" or a bigint of micro-dollars, got ${typeof text}`,
    );
  }
  const body = text.startsWith('$') ? text.slice(1) : text;
  return parseScaled(body, USD_MICROS_DECIMALS, 'USD amount');
}

/**
 * Formats micro-dollars for display: `$` with at least 2 decimals and as many more (up to 6) as
 * needed to be exact. Negative values get a leading `-`.
 *
 * @throws {AmountError} when `micros` is not a bigint.
 * @example
 * ```ts
 * import { formatUsd } from '@stipend/client';
 * formatUsd(100_000n); // '$0.10'
 * formatUsd(123n); // '$0.000123'
 * formatUsd(12_345_600n); // '$12.3456'
 * ```
 */
export function formatUsd(micros: UsdMicros): string {
  if (typeof micros !== 'bigint') {
    throw new AmountError(`USD micro-units must be a bigint, got ${typeof micros}`);
  }
  const negative = micros < 0n;
  const magnitude = negative ? -micros : micros;
  const dollars = magnitude / USD_MICROS_PER_DOLLAR;
  const fraction = (magnitude % USD_MICROS_PER_DOLLAR)
    .toString()
    .padStart(USD_MICROS_DECIMALS, '0')
    .replace(/0+$/, '')
    .padEnd(2, '0');
  return `${negative ? '-' : ''}$${dollars}.${fraction}`;
}
