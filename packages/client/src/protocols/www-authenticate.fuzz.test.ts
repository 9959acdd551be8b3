import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Challenge,
  countParseSteps,
  formatAuthParam,
  parseWwwAuthenticate,
  parseWwwAuthenticateLenient,
  quoteString,
  WwwAuthenticateParseError,
} from './www-authenticate.js';

// Default runs keep this file at a few seconds; STIPEND_FUZZ_RUNS=20000 gives a long mode.
const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
const RUNS = Math.max(1, Number.parseInt(env?.STIPEND_FUZZ_RUNS ?? '', 10) || 600);
const LONG_RUNS = Math.max(5, Math.floor(RUNS / 40));

/** Loop iterations allowed per input character (the parser does a small constant). */
const STEPS_PER_CHAR = 8;
const UNCAPPED = { maxLength: 1 << 20, maxChallenges: 1 << 20, maxParams: 1 << 20 };

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const TCHARS = [...`${ALNUM}!#$%&'*+-.^_\`|~`];
const T68_CHARS = [...`${ALNUM}-._~+/`];
const BARE_CHARS = new Set(
  Array.from({ length: 0x7e - 0x20 }, (_, i) => String.fromCharCode(0x21 + i)).filter(
    (c) => c !== '"' && c !== ',' && c !== '\\',
  ),
);

const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 10 });
const token68 = fc
  .tuple(fc.string({ unit: fc.constantFrom(...T68_CHARS), minLength: 1, maxLength: 40 }), fc.nat(2))
  .map(([body, pad]) => body + '='.repeat(pad));
/** Any value quoteString accepts, biased towards characters that need care. */
const paramValue = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', '\\', ',', '=', ' ', '\t', '/', '+', 'L402 ', 'Payment '),
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
  ),
  maxLength: 24,
});

type Body =
  | { kind: 'none' }
  | { kind: 'token68'; token68: string }
  | { kind: 'params'; params: Array<[string, string]> };

interface Spec {
  scheme: string;
  body: Body;
}

const spec: fc.Arbitrary<Spec> = fc.record({
  scheme: token,
  body: fc.oneof(
    fc.constant<Body>({ kind: 'none' }),
    token68.map((t): Body => ({ kind: 'token68', token68: t })),
    fc
      .uniqueArray(fc.tuple(token, paramValue), {
        minLength: 1,
        maxLength: 8,
        selector: ([name]) => name.toLowerCase(),
      })
      .map((params): Body => ({ kind: 'params', params })),
  ),
});

/** How each challenge is written: separators, BWS, quoting. Indexes pick from the lists. */
interface Style {
  afterScheme: number;
  paramSep: number[];
  bws: number[];
  bare: boolean[];
}
const AFTER_SCHEME = [' ', '  ', '\t', ' \t '];
const PARAM_SEP = [', ', ',', ' , ', ' ', '\t', ',, ', ' ,\t,'];
const BWS = [
  ['', ''],
  [' ', ''],
  ['', ' '],
  ['\t', '  '],
] as const;
const CHALLENGE_SEP = [', ', ',', ' ,  , ', ',\t', ' , '];

const style: fc.Arbitrary<Style> = fc.record({
  afterScheme: fc.nat(AFTER_SCHEME.length - 1),
  paramSep: fc.array(fc.nat(PARAM_SEP.length - 1), { minLength: 8, maxLength: 8 }),
  bws: fc.array(fc.nat(BWS.length - 1), { minLength: 8, maxLength: 8 }),
  bare: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
});

function canBeBare(value: string): boolean {
  return value.length > 0 && value[0] !== '=' && [...value].every((c) => BARE_CHARS.has(c));
}

function serialize(s: Spec, st: Style): string {
  if (s.body.kind === 'none') return s.scheme;
  const head = s.scheme + AFTER_SCHEME[st.afterScheme];
  if (s.body.kind === 'token68') return head + s.body.token68;
  const parts = s.body.params.map(([name, value], i) => {
    const [before, after] = BWS[st.bws[i] ?? 0] ?? BWS[0];
    if (st.bare[i] && canBeBare(value)) return `${name}${before}=${after}${value}`;
    if (before === '' && after === '') return formatAuthParam(name, value);
    return `${name}${before}=${after}${quoteString(value)}`;
  });
  return (
    head +
    parts.reduce((out, part, i) => (i === 0 ? part : out + PARAM_SEP[st.paramSep[i] ?? 0] + part))
  );
}

function expected(s: Spec, raw: string): Challenge {
  const base = { scheme: s.scheme, schemeLower: s.scheme.toLowerCase(), raw };
  if (s.body.kind === 'token68') return { ...base, token68: s.body.token68, params: {} };
  if (s.body.kind === 'none') return { ...base, params: {} };
  return {
    ...base,
    params: Object.fromEntries(s.body.params.map(([n, v]) => [n.toLowerCase(), v])),
  };
}

const challengeList = fc.array(fc.tuple(spec, style), { minLength: 1, maxLength: 6 });

describe('parseWwwAuthenticate properties: serialise then parse', () => {
  it('round-trips challenge lists folded onto one line', () => {
    fc.assert(
      fc.property(
        challengeList,
        fc.array(fc.nat(CHALLENGE_SEP.length - 1), { minLength: 6, maxLength: 6 }),
        (list, seps) => {
          const raws = list.map(([s, st]) => serialize(s, st));
          const header = raws.reduce((out, raw, i) =>
            i === 0 ? raw : out + CHALLENGE_SEP[seps[i] ?? 0] + raw,
          );
          const want = list.map(([s], i) => expected(s, raws[i]!));
          expect(parseWwwAuthenticate(header)).toEqual(want);
          expect(parseWwwAuthenticateLenient(header)).toEqual({ challenges: want, errors: [] });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('round-trips challenge lists sent as separate header lines', () => {
    fc.assert(
      fc.property(challengeList, fc.boolean(), (list, pad) => {
        const raws = list.map(([s, st]) => serialize(s, st));
        const lines = raws.map((raw) => (pad ? ` ${raw} ` : raw));
        const want = list.map(([s], i) => expected(s, raws[i]!));
        expect(parseWwwAuthenticate(lines)).toEqual(want);
        // Node's fetch joins the lines with ", ": the same challenges come back.
        expect(parseWwwAuthenticate(lines.join(', '))).toEqual(want);
      }),
      { numRuns: RUNS },
    );
  });
});

/** Adversarial pieces: quotes, escapes, separators, "=", scheme names, controls, non-ASCII. */
const hostileUnit = fc.oneof(
  fc.constantFrom('"', '\\', ',', '=', ' ', '\t', 'a', 'B', '/', '+', '==', 'x="', '\\"'),
  fc.constantFrom('L402 ', 'Payment ', 'macaroon=', ', ', ';', ':', '\n', '\r\n', '\u0000'),
  fc.constantFrom('\u00e9', '\u2014', '\u{1f600}', '\u007f'),
  fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)),
);

/** Any code point (lone surrogates included), mostly ASCII so that some inputs parse. */
const anyCodePoint = fc
  .oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 0x7f }) },
    { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0x10ffff }) },
  )
  .map((cp) => String.fromCodePoint(cp));

/** Checks everything that must hold for any input, whether or not it parses. */
function checkAnyInput(input: string | string[]): void {
  const lines = typeof input === 'string' ? [input] : input;
  let strict: Challenge[] | undefined;
  try {
    strict = parseWwwAuthenticate(input, UNCAPPED);
  } catch (error) {
    expect(error).toBeInstanceOf(WwwAuthenticateParseError);
    const e = error as WwwAuthenticateParseError;
    expect(e.code).toBe('CHALLENGE_INVALID');
    expect(e.position).toBeGreaterThanOrEqual(0);
    expect(e.position).toBeLessThanOrEqual(lines[e.lineIndex]?.length ?? -1);
  }
  const lenient = parseWwwAuthenticateLenient(input, UNCAPPED);
  if (strict) {
    expect(lenient).toEqual({ challenges: strict, errors: [] });
  } else {
    expect(lenient.errors.length).toBeGreaterThan(0);
  }
  for (const c of lenient.challenges) {
    expect(lines.some((line) => line.includes(c.raw))).toBe(true);
    expect(c.raw).toBe(c.raw.trim());
    expect(c.raw.startsWith(c.scheme)).toBe(true);
    expect(c.schemeLower).toBe(c.scheme.toLowerCase());
  }
  const length = lines.reduce((n, line) => n + line.length, 0);
  expect(countParseSteps(input, UNCAPPED)).toBeLessThanOrEqual(
    STEPS_PER_CHAR * (length + lines.length),
  );
}

describe('parseWwwAuthenticate properties: hostile input', () => {
  it('only ever throws WwwAuthenticateParseError, in linear work (short strings)', () => {
    fc.assert(
      fc.property(fc.string({ unit: hostileUnit, maxLength: 120 }), (s) => checkAnyInput(s)),
      { numRuns: RUNS },
    );
  });

  it('only ever throws WwwAuthenticateParseError, in linear work (arbitrary code points)', () => {
    fc.assert(
      fc.property(fc.string({ unit: anyCodePoint, maxLength: 200 }), (s) => checkAnyInput(s)),
      { numRuns: RUNS },
    );
  });

  it('handles hostile lists of header lines', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: hostileUnit, maxLength: 60 }), { maxLength: 5 }),
        (lines) => checkAnyInput(lines),
      ),
      { numRuns: RUNS },
    );
  });

  it('handles long hostile strings up to 16 KiB', () => {
    fc.assert(
      fc.property(fc.string({ unit: hostileUnit, minLength: 4096, maxLength: 16_384 }), (s) =>
        checkAnyInput(s),
      ),
      { numRuns: LONG_RUNS },
    );
  });

  it('never throws from the lenient parser under the default caps', () => {
    fc.assert(
      fc.property(fc.string({ unit: hostileUnit, maxLength: 400 }), (s) => {
        const result = parseWwwAuthenticateLenient(s);
        expect(result.challenges.length).toBeLessThanOrEqual(32);
        expect(result.errors.length).toBeLessThanOrEqual(33);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('parseWwwAuthenticate work grows linearly', () => {
  // Repeated patterns that make naive parsers backtrack or rescan: open quotes, escape runs,
  // separators, "=" runs, params that look like schemes and schemes that look like params.
  const patterns = [
    '"',
    '\\',
    '"\\',
    'a="\\',
    ',',
    ', a',
    'a ',
    'a=',
    '==',
    '=,',
    'a=b ',
    'a=b, ',
    'Foo a=b, ',
    'Foo a b, ',
    'Foo abc, ',
    'L402 macaroon=AgEE== ',
    'a="x" ',
    'x, y="',
    'Payment id="',
    ', ,\t',
  ];

  it.each(patterns)('pattern %j: 16 KiB costs about 16 times 1 KiB', (pattern) => {
    const make = (size: number) => pattern.repeat(Math.ceil(size / pattern.length)).slice(0, size);
    for (const prefix of ['', 'Foo ', 'Foo a=']) {
      const small = countParseSteps(prefix + make(1024), UNCAPPED);
      const large = countParseSteps(prefix + make(16_384), UNCAPPED);
      expect(small).toBeGreaterThan(0);
      expect(large).toBeLessThanOrEqual(STEPS_PER_CHAR * (16_384 + prefix.length + 1));
      expect(large).toBeLessThanOrEqual(16 * small * 1.25 + 64);
    }
  });

  it('caps the work of a 16 KiB header under the default caps too', () => {
    for (const pattern of patterns) {
      const input = pattern.repeat(Math.ceil(16_384 / pattern.length)).slice(0, 16_384);
      expect(countParseSteps(input)).toBeLessThanOrEqual(STEPS_PER_CHAR * 16_385);
      expect(() => parseWwwAuthenticateLenient(input)).not.toThrow();
    }
  });
});
