/**
 * JSON for scripts: bigints become decimal strings, everything else as `JSON.stringify` does;
 * and, for `--json` outputs, every amount in one shape: `{ value, unit, display }`.
 *
 * @module
 */
import { type Amount, formatAmount, formatUsd, unitKey } from '@stipend/client';

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

/** How every `--json` output writes an amount. */
export interface JsonAmount {
  /** Atomic units (or USD micro-units), a decimal string. */
  readonly value: string;
  /** The unit key: `eip155:8453/0x…`, `lightning:msat`, `iso4217:USD`, or `usd:micro`. */
  readonly unit: string;
  /** For people: `0.001 USDC`, `1500 sat`, `$0.05`. */
  readonly display: string;
}

/** The unit of budget amounts (USD micro-units, `1000000` = $1). */
export const USD_MICRO = 'usd:micro';

/**
 * The `--json` form of a command's output: every amount becomes `{ value, unit, display }`
 * — an `Amount` (`{ value: bigint, unit: {…} }`), a USD micro-unit bigint (fields named
 * `…UsdMicros` / `usdMicros`), and an offer denial's `"1000 eip155:…/0x…"` string — then
 * JSON with bigints as strings.
 *
 * @example
 * ```ts
 * import { toJsonOutput } from './json.js';
 * toJsonOutput({ reservedUsdMicros: 1000n });
 * // '{"reservedUsdMicros":{"value":"1000","unit":"usd:micro","display":"$0.001"}}'
 * ```
 */
export function toJsonOutput(value: unknown, indent?: number): string {
  return toJson(withJsonAmounts(value), indent);
}

/**
 * Rewrites every amount inside `value` as a {@link JsonAmount} (a new value; the input is not
 * changed).
 *
 * @example
 * ```ts
 * import { withJsonAmounts } from './json.js';
 * import { msat } from '@stipend/client';
 * withJsonAmounts({ amount: msat(5000n) }); // { amount: { value: '5000', unit: 'lightning:msat', display: '5 sat' } }
 * ```
 */
export function withJsonAmounts(value: unknown, key = ''): unknown {
  if (typeof value === 'bigint') {
    return /usdmicros$/i.test(key) ? usdAmount(value) : value;
  }
  if (typeof value === 'string' && /usdmicros$/i.test(key) && /^-?\d+$/.test(value)) {
    return usdAmount(BigInt(value));
  }
  if (typeof value === 'string' && key === 'amount') {
    const match = /^(\d+) (\S+)$/.exec(value);
    if (match) return { value: match[1]!, unit: match[2]!, display: `${match[1]} ${match[2]}` };
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => withJsonAmounts(item, key));
  if (typeof value !== 'object' || value === null) return value;
  if (isAmount(value)) return jsonAmount(value);
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) out[name] = withJsonAmounts(item, name);
  return out;
}

/**
 * One amount as a {@link JsonAmount}.
 *
 * @example
 * ```ts
 * import { jsonAmount } from './json.js';
 * import { msat } from '@stipend/client';
 * jsonAmount(msat(5000n)); // { value: '5000', unit: 'lightning:msat', display: '5 sat' }
 * ```
 */
export function jsonAmount(amount: Amount): JsonAmount {
  let unit: string;
  let display: string;
  try {
    unit = unitKey(amount.unit);
    display = formatAmount(amount);
  } catch {
    unit = 'unknown';
    display = `${amount.value} (unknown unit)`;
  }
  return { value: amount.value.toString(), unit, display };
}

function usdAmount(micros: bigint): JsonAmount {
  return { value: micros.toString(), unit: USD_MICRO, display: formatUsd(micros) };
}

function isAmount(value: object): value is Amount {
  const candidate = value as { value?: unknown; unit?: unknown };
  return (
    typeof candidate.value === 'bigint' &&
    typeof candidate.unit === 'object' &&
    candidate.unit !== null &&
    typeof (candidate.unit as { kind?: unknown }).kind === 'string'
  );
}
