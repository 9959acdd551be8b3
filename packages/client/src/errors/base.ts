/**
 * The root of every error Stipend throws.
 *
 * Modelled on viem's `BaseError` (short message, details, meta lines) and undici's stable
 * `code`s: switch on `error.code`, never on the message text. A `Symbol.for` brand makes
 * `isStipendError()` and `instanceof` work across duplicate copies of the package (two
 * bundles, an iframe, a worker).
 */

import type { StipendErrorCode } from './codes.js';

const brand = Symbol.for('stipend.error');

/** Everything a subclass passes to {@link StipendError}. */
export interface StipendErrorParameters {
  /** Extra lines shown under the short message (what to change, which offer, …). */
  metaMessages?: readonly string[];
  /** Structured, secret-free facts about the failure; also what `toJSON()` carries. */
  details?: Readonly<Record<string, unknown>>;
  /** The underlying error, when there is one. */
  cause?: unknown;
}

/**
 * Base class of all Stipend errors.
 *
 * @example
 * ```ts
 * import { isStipendError } from '@stipend/client';
 *
 * try {
 *   await payingFetch('https://api.example.com/paid');
 * } catch (error) {
 *   if (isStipendError(error) && error.code === 'POLICY_DENIED') console.warn(error.shortMessage);
 * }
 * ```
 */
export class StipendError extends Error {
  /** A stable, machine-readable code: one of {@link StipendErrorCode}. */
  readonly code: StipendErrorCode;
  /** One line saying what went wrong, without the meta lines. */
  readonly shortMessage: string;
  /** Secret-free structured facts. */
  readonly details: Readonly<Record<string, unknown>>;
  /** Extra human-readable lines. */
  readonly metaMessages: readonly string[];
  override name = 'StipendError';

  constructor(
    code: StipendErrorCode,
    shortMessage: string,
    parameters: StipendErrorParameters = {},
  ) {
    const meta = parameters.metaMessages ?? [];
    super([shortMessage, ...meta].join('\n'), { cause: parameters.cause });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = Object.freeze({ ...(parameters.details ?? {}) });
    this.metaMessages = meta;
  }

  /** Marks instances so that {@link isStipendError} works across realms and bundles. */
  get [brand](): true {
    return true;
  }

  /**
   * `error instanceof StipendError` is true for errors from any copy of the package; for
   * subclasses, `instanceof` keeps its usual prototype meaning.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof was asked about.
    if (this === StipendError) return isStipendError(value);
    // biome-ignore lint/complexity/noThisInStatic: as above.
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /** Walks the `cause` chain and returns the first error for which `fn` is true. */
  walk(fn: (error: unknown) => boolean): unknown {
    let current: unknown = this;
    for (let depth = 0; current !== undefined && depth < 32; depth++) {
      if (fn(current)) return current;
      current = (current as { cause?: unknown }).cause;
    }
    return undefined;
  }

  /** A JSON form that survives tool and process boundaries (no stack, no secrets). */
  toJSON(): {
    name: string;
    code: StipendErrorCode;
    message: string;
    details: Record<string, unknown>;
  } {
    return {
      name: this.name,
      code: this.code,
      message: this.shortMessage,
      details: jsonSafe(this.details) as Record<string, unknown>,
    };
  }
}

/**
 * Tells whether a value is a Stipend error, even one made by another copy of the package.
 *
 * @example
 * ```ts
 * import { isStipendError } from '@stipend/client';
 * if (isStipendError(err)) console.warn(err.code);
 * ```
 */
export function isStipendError(value: unknown): value is StipendError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[brand] === true
  );
}

/** Turns bigints into decimal strings so details can go through `JSON.stringify`. */
export function jsonSafe(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => jsonSafe(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = jsonSafe(item, depth + 1);
  return out;
}
