/**
 * A very small validator for the decoded JSON the protocol adapters read (x402 terms and
 * receipts, MPP `request` objects). It validates and never rewrites: `safeParse` hands back
 * the very value it was given, typed, or every problem found with its path.
 *
 * Why not zod: `zod/mini` was 24.8 kB of the 143 kB minified browser bundle of
 * `createPayingFetch`, for about a dozen flat object shapes; this file is about 2 kB minified.
 * Swapping one for the other took the bundle from 49.4 to 42.4 kB gzipped (BENCHMARKS.md).
 * Its messages also say what was expected (zod/mini without a locale says "Invalid input").
 *
 * @module
 */

/** Where a problem is, from the root: object keys and array indexes. */
export type Path = readonly (string | number)[];

/** What kind of problem (the names zod uses, so messages read the same). */
export type IssueCode =
  | 'invalid_type'
  | 'invalid_format'
  | 'invalid_value'
  | 'too_small'
  | 'too_big';

/** One problem found by a {@link Shape}. */
export interface Issue {
  readonly path: Path;
  readonly code: IssueCode;
  /** What was expected, for people: `expected a string, got number`. */
  readonly message: string;
}

/** The result of {@link Shape.safeParse}: the input itself when valid. */
export type ParseResult<T> =
  | { readonly success: true; readonly data: T }
  | { readonly success: false; readonly error: { readonly issues: readonly Issue[] } };

/** A validator of values of type `T`. */
export interface Shape<T> {
  /** Set by {@link optional}: the key may be absent. */
  readonly optional?: true;
  /** Checks `value` at `path`, adding every problem to `issues`. */
  readonly run: (value: unknown, path: Path, issues: Issue[]) => void;
  /** Checks `value`; never throws. */
  safeParse(value: unknown): ParseResult<T>;
  /** Type only. */
  readonly _type?: T;
}

/** The type a shape accepts. */
export type Infer<S> = S extends Shape<infer T> ? T : never;

type Fields = Record<string, Shape<unknown>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends { readonly optional: true } ? K : never;
}[keyof F];
/** The object type of a field map: optional shapes give optional keys. */
export type ObjectOf<F extends Fields> = Simplify<
  { readonly [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> } & {
    readonly [K in OptionalKeys<F>]?: Infer<F[K]>;
  }
>;

function shape<T>(run: Shape<T>['run'], optional?: true): Shape<T> {
  return {
    ...(optional ? { optional } : {}),
    run,
    safeParse(value) {
      const issues: Issue[] = [];
      run(value, [], issues);
      return issues.length === 0
        ? { success: true, data: value as T }
        : { success: false, error: { issues } };
    },
  };
}

const kind = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

/** A type check: `missing, expected X` when undefined, else `expected X, got Y`. */
function typed<T>(expected: string, test: (value: unknown) => boolean): Shape<T>['run'] {
  return (value, path, issues) => {
    if (!test(value)) {
      issues.push({
        path,
        code: 'invalid_type',
        message:
          value === undefined
            ? `missing, expected ${expected}`
            : `expected ${expected}, got ${kind(value)}`,
      });
    }
  };
}

/** Length or value bounds: `too_small` / `too_big` with what was expected. */
function bounds(
  size: number,
  min: number | undefined,
  max: number | undefined,
  unit: string,
  path: Path,
  issues: Issue[],
): void {
  if (min !== undefined && size < min) {
    issues.push({ path, code: 'too_small', message: `expected at least ${min}${unit}` });
  }
  if (max !== undefined && size > max) {
    issues.push({ path, code: 'too_big', message: `expected at most ${max}${unit}` });
  }
}

/** Options of {@link string}. */
export interface StringOptions {
  readonly min?: number;
  readonly max?: number;
  /** The text must match it. */
  readonly pattern?: RegExp;
  /** What the pattern means, for the message: `'a positive integer'`. */
  readonly what?: string;
}

/**
 * A string, optionally with a length range and a pattern.
 *
 * @example
 * ```ts
 * import { string } from '../internal/shape.js';
 * string({ pattern: /^0x[0-9a-f]{40}$/i, what: 'an EVM address' }).safeParse('0x12').success; // false
 * ```
 */
export function string(options: StringOptions = {}): Shape<string> {
  const { min, max, pattern, what } = options;
  const type = typed<string>('a string', (value) => typeof value === 'string');
  return shape((value, path, issues) => {
    if (typeof value !== 'string') return type(value, path, issues);
    bounds(value.length, min, max, ' character(s)', path, issues);
    if (pattern && !pattern.test(value)) {
      issues.push({ path, code: 'invalid_format', message: `expected ${what ?? String(pattern)}` });
    }
  });
}

/**
 * A safe integer (a JSON number without a fraction), optionally in a range.
 *
 * @example
 * ```ts
 * import { int } from '../internal/shape.js';
 * int({ min: 1 }).safeParse(0).success; // false
 * ```
 */
export function int(options: { readonly min?: number; readonly max?: number } = {}): Shape<number> {
  const { min, max } = options;
  const type = typed<number>('an integer', Number.isSafeInteger);
  return shape((value, path, issues) => {
    if (!Number.isSafeInteger(value)) return type(value, path, issues);
    bounds(value as number, min, max, '', path, issues);
  });
}

/**
 * A boolean.
 *
 * @example
 * ```ts
 * import { boolean } from '../internal/shape.js';
 * boolean().safeParse('yes').success; // false
 * ```
 */
export function boolean(): Shape<boolean> {
  return shape(typed('a boolean', (value) => typeof value === 'boolean'));
}

/**
 * Anything at all (the key may also be absent).
 *
 * @example
 * ```ts
 * import { unknown } from '../internal/shape.js';
 * unknown().safeParse(undefined).success; // true
 * ```
 */
export function unknown(): Shape<unknown> {
  return shape(() => {});
}

/**
 * One of a few exact values (`===`).
 *
 * @example
 * ```ts
 * import { oneOf } from '../internal/shape.js';
 * oneOf([1, 2] as const).safeParse(3).success; // false: 'expected 1 or 2, got 3'
 * ```
 */
export function oneOf<const V extends string | number | boolean>(values: readonly V[]): Shape<V> {
  const expected = values.map((value) => JSON.stringify(value)).join(' or ');
  return shape((value, path, issues) => {
    if (!values.includes(value as V)) {
      const got = value === undefined ? 'nothing' : (JSON.stringify(value) ?? kind(value));
      issues.push({
        path,
        code: 'invalid_value',
        message: `expected ${expected}, got ${got.slice(0, 40)}`,
      });
    }
  });
}

/**
 * The same shape, or `undefined` (an absent key).
 *
 * @example
 * ```ts
 * import { optional, string } from '../internal/shape.js';
 * optional(string()).safeParse(undefined).success; // true
 * ```
 */
export function optional<T>(inner: Shape<T>): Shape<T | undefined> & { readonly optional: true } {
  return shape<T | undefined>(
    (value, path, issues) => value === undefined || inner.run(value, path, issues),
    true,
  ) as Shape<T | undefined> & { readonly optional: true };
}

/**
 * The same shape, or `null`.
 *
 * @example
 * ```ts
 * import { nullable, string } from '../internal/shape.js';
 * nullable(string()).safeParse(null).success; // true
 * ```
 */
export function nullable<T>(inner: Shape<T>): Shape<T | null> {
  return shape((value, path, issues) => value === null || inner.run(value, path, issues));
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * An array whose items all fit `item`, optionally with a length range.
 *
 * @example
 * ```ts
 * import { array, unknown } from '../internal/shape.js';
 * array(unknown(), { min: 1 }).safeParse([]).success; // false: 'expected at least 1 item(s)'
 * ```
 */
export function array<T>(
  item: Shape<T>,
  options: { readonly min?: number; readonly max?: number } = {},
): Shape<T[]> {
  const { min, max } = options;
  const type = typed<T[]>('an array', Array.isArray);
  return shape((value, path, issues) => {
    if (!Array.isArray(value)) return type(value, path, issues);
    bounds(value.length, min, max, ' item(s)', path, issues);
    for (let index = 0; index < value.length; index++)
      item.run(value[index], [...path, index], issues);
  });
}

/**
 * A JSON object whose values all fit `value` (any keys).
 *
 * @example
 * ```ts
 * import { record, string } from '../internal/shape.js';
 * record(string()).safeParse({ a: 1 }).success; // false: 'a: expected a string, got number'
 * ```
 */
export function record<T>(value: Shape<T>): Shape<Record<string, T>> {
  const type = typed<Record<string, T>>('an object', isObject);
  return shape((input, path, issues) => {
    if (!isObject(input)) return type(input, path, issues);
    for (const key of Object.keys(input)) value.run(input[key], [...path, key], issues);
  });
}

/**
 * A JSON object with these fields (checked in order; other keys are allowed and kept, since
 * nothing is rewritten).
 *
 * @example
 * ```ts
 * import { object, optional, string } from '../internal/shape.js';
 * const Terms = object({ payTo: string({ min: 1 }), memo: optional(string()) });
 * Terms.safeParse({}).success; // false: 'payTo: missing, expected a string'
 * ```
 */
export function object<F extends Fields>(fields: F): Shape<ObjectOf<F>> {
  const type = typed<ObjectOf<F>>('an object', isObject);
  const entries = Object.entries(fields);
  return shape((value, path, issues) => {
    if (!isObject(value)) return type(value, path, issues);
    for (const [key, field] of entries) {
      field.run(Object.hasOwn(value, key) ? value[key] : undefined, [...path, key], issues);
    }
  });
}

/**
 * One issue as a short line, `path: message` (no path at the root).
 *
 * @example
 * ```ts
 * import { describeIssue, object, string } from '../internal/shape.js';
 * const parsed = object({ a: string() }).safeParse({ a: 1 });
 * if (!parsed.success) describeIssue(parsed.error.issues[0]!); // 'a: expected a string, got number'
 * ```
 */
export function describeIssue(issue: Issue): string {
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}
