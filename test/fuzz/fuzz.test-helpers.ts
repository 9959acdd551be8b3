/**
 * Shared set-up of the parser fuzz suites (`test/fuzz/*.fuzz.test.ts`).
 *
 * - CI mode (default): {@link CASES} = 4 000 cases per parser, split over its properties.
 * - Long mode: `STIPEND_FUZZ_RUNS=1000000` runs that many cases per parser (each property gets
 *   its share; the shares add up to at least the number asked for) and prints a tally.
 *
 * Every case must end in a documented way (a value, `undefined`, or the parser's documented
 * error type); anything else fails the property and fast-check shrinks it to a minimal input.
 * The timing check {@link expectLinearTime} compares a 16 KiB input with a 1 KiB one.
 */
import fc from 'fast-check';
import { afterAll, expect } from 'vitest';

const env = process.env;
const asked = Number.parseInt(env.STIPEND_FUZZ_RUNS ?? '', 10);

/** True when `STIPEND_FUZZ_RUNS` asks for a long run. */
export const LONG = Number.isSafeInteger(asked) && asked > 0;

/** Cases per parser. */
export const CASES = LONG ? asked : 4_000;

/** The number of cases a property with `weight` (0..1) of its parser's budget runs. */
export function share(weight: number): number {
  return Math.max(1, Math.ceil(CASES * weight));
}

/** A Vitest timeout for `cases` cases of about `perCaseMs` each (generous; CI mode ≥ 30 s). */
export function timeoutFor(cases: number, perCaseMs = 0.25): number {
  return Math.max(30_000, Math.ceil(cases * perCaseMs * 10));
}

/** Fixed seed in CI (reproducible); random in long mode (fast-check prints it on failure). */
export const SEED: number | undefined = LONG ? undefined : 0x5717_e4d;

/** Cases run and time spent, per parser, printed once per file in long mode. */
const tally = new Map<string, { cases: number; ms: number; slowestMs: number }>();

/**
 * Runs a synchronous or asynchronous property for `cases` cases, counting them and the slowest
 * single case for the tally. `check` must throw (or fail an `expect`) on a bad outcome.
 *
 * @example
 * ```ts
 * import { fuzz, share } from './fuzz.test-helpers.js';
 * await fuzz('bolt11', fc.string(), (s) => { try { readBolt11(s); } catch (e) { expect(e).toBeInstanceOf(TypeError); } }, share(0.5));
 * ```
 */
export async function fuzz<T>(
  parser: string,
  arbitrary: fc.Arbitrary<T>,
  check: (value: T) => void | Promise<void>,
  cases: number,
): Promise<void> {
  const entry = tally.get(parser) ?? { cases: 0, ms: 0, slowestMs: 0 };
  tally.set(parser, entry);
  const started = performance.now();
  const timed = async (value: T) => {
    // Let the event loop turn now and then: undici frees cloned response bodies from
    // FinalizationRegistry callbacks, which never run while only microtasks are queued (a
    // million in a row would otherwise exhaust the heap).
    if (entry.cases % 1_000 === 999) await new Promise((resolve) => setImmediate(resolve));
    const at = performance.now();
    await check(value);
    const spent = performance.now() - at;
    if (spent > entry.slowestMs) entry.slowestMs = spent;
    entry.cases++;
  };
  await fc.assert(fc.asyncProperty(arbitrary, timed), {
    numRuns: cases,
    ...(SEED !== undefined ? { seed: SEED } : {}),
  });
  entry.ms += performance.now() - started;
}

/** Synchronous variant of {@link fuzz}: much faster for pure parsers (no promise per case). */
export function fuzzSync<T>(
  parser: string,
  arbitrary: fc.Arbitrary<T>,
  check: (value: T) => void,
  cases: number,
): void {
  const entry = tally.get(parser) ?? { cases: 0, ms: 0, slowestMs: 0 };
  tally.set(parser, entry);
  const started = performance.now();
  fc.assert(
    fc.property(arbitrary, (value) => {
      const at = performance.now();
      check(value);
      const spent = performance.now() - at;
      if (spent > entry.slowestMs) entry.slowestMs = spent;
      entry.cases++;
    }),
    { numRuns: cases, ...(SEED !== undefined ? { seed: SEED } : {}) },
  );
  entry.ms += performance.now() - started;
}

/**
 * After the file: every parser ran at least {@link CASES} cases (shrinking adds a few), no
 * single case took longer than `maxCaseMs`, and in long mode the tally is printed.
 */
export function expectTally(parsers: readonly string[], maxCaseMs = 1_000): void {
  afterAll(() => {
    for (const parser of parsers) {
      const entry = tally.get(parser);
      expect(entry?.cases ?? 0, `${parser}: cases run`).toBeGreaterThanOrEqual(CASES);
      expect(entry?.slowestMs ?? 0, `${parser}: slowest case (ms)`).toBeLessThan(maxCaseMs);
      if (LONG && entry) {
        process.stderr.write(
          `[fuzz] ${parser}: ${entry.cases} cases in ${(entry.ms / 1000).toFixed(1)} s, ` +
            `slowest case ${entry.slowestMs.toFixed(2)} ms\n`,
        );
      }
    }
  });
}

/** Swallows the errors a parser documents; rethrows anything else. */
export function only(documented: (error: unknown) => boolean, run: () => unknown): unknown {
  try {
    return run();
  } catch (error) {
    if (!documented(error)) throw error;
    return error;
  }
}

/** Wall-clock time of `iterations` calls of `run(input)`, in ms. */
function batch(run: (input: string) => unknown, input: string, iterations: number): number {
  const at = performance.now();
  for (let i = 0; i < iterations; i++) run(input);
  return performance.now() - at;
}

/**
 * Asserts that `run` takes about linear time: the time for a 16 KiB input is at most
 * `16 × factor` times the time for a 1 KiB input (`factor` 4 by default: generous, since the
 * machine is shared). The small batch is sized to take at least 3 ms; each size is timed
 * `repeats` times, interleaved, and the fastest batch of each is compared (noise only ever
 * adds time). Returns the ratio.
 *
 * @example
 * ```ts
 * import { expectLinearTime } from './fuzz.test-helpers.js';
 * expectLinearTime((s) => readBolt11(s), (n) => 'q'.repeat(n));
 * ```
 */
export function expectLinearTime(
  run: (input: string) => unknown,
  make: (size: number) => string,
  options: { small?: number; large?: number; factor?: number; repeats?: number } = {},
): number {
  const small = make(options.small ?? 1024);
  const large = make(options.large ?? 16_384);
  const factor = options.factor ?? 4;
  const repeats = options.repeats ?? 3;
  const sizeRatio = large.length / small.length;
  let iterations = 1;
  while (iterations < 4096 && batch(run, small, iterations) < 3) iterations *= 2;
  let bestSmall = Number.POSITIVE_INFINITY;
  let bestLarge = Number.POSITIVE_INFINITY;
  for (let r = 0; r < repeats; r++) {
    bestSmall = Math.min(bestSmall, batch(run, small, iterations));
    bestLarge = Math.min(bestLarge, batch(run, large, iterations));
  }
  const ratio = bestLarge / Math.max(bestSmall, 0.001);
  expect(
    ratio,
    `time(${large.length} chars) / time(${small.length} chars) = ${ratio.toFixed(1)} ` +
      `(${bestLarge.toFixed(2)} ms vs ${bestSmall.toFixed(2)} ms for ${iterations} calls)`,
  ).toBeLessThanOrEqual(sizeRatio * factor);
  return ratio;
}

/**
 * Structure-aware mutations of a valid sample: replace, insert or delete a few characters
 * (from `alphabet`), truncate, duplicate a slice. Keeps most of the sample's structure so the
 * parser goes deep before it fails.
 */
export function mutated(samples: readonly string[], alphabet: string): fc.Arbitrary<string> {
  const char = fc.constantFrom(...alphabet);
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), char }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), char }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.nat(40) }),
  );
  return fc
    .tuple(fc.constantFrom(...samples), fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([sample, edits]) => {
      let text = sample;
      for (const e of edits) {
        const at = text.length === 0 ? 0 : e.at % (text.length + 1);
        if (e.kind === 'set') text = text.slice(0, at) + e.char + text.slice(at + 1);
        else if (e.kind === 'insert') text = text.slice(0, at) + e.char + text.slice(at);
        else if (e.kind === 'delete') text = text.slice(0, at) + text.slice(at + 1);
        else if (e.kind === 'truncate') text = text.slice(0, at);
        else text = text.slice(0, at) + text.slice(at, at + e.length) + text.slice(at);
      }
      return text;
    });
}
