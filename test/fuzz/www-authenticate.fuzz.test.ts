/**
 * Fuzzing the shared `WWW-Authenticate` parser (RFC 9110 §11.6.1), beyond its property tests
 * beside the code (which round-trip generated grammar): here real-world headers (aperture's two
 * L402/LSAT lines, mppx's composed `Payment` challenges with `\uXXXX` escapes, Bearer realms)
 * are mutated, random text is thrown at both parsers with and without `decodeUnicodeEscapes`,
 * and wall-clock time on 16 KiB is compared with 1 KiB.
 *
 * Documented outcomes: `parseWwwAuthenticate` returns frozen challenges or throws
 * `WwwAuthenticateParseError` (code `CHALLENGE_INVALID`); `parseWwwAuthenticateLenient` never
 * throws under its default caps (at most 32 challenges).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Challenge,
  countParseSteps,
  parseWwwAuthenticate,
  parseWwwAuthenticateLenient,
  WwwAuthenticateParseError,
} from '../../packages/client/src/protocols/www-authenticate.js';
import {
  expectLinearTime,
  expectTally,
  fuzzSync,
  mutated,
  share,
  timeoutFor,
} from './fuzz.test-helpers.js';

const PARSER = 'www-authenticate';
expectTally([PARSER]);

const SAMPLES = [
  'LSAT macaroon="AgEEbHNhdAJCAAD6g3+Ww1Jm5Q==", invoice="lnbcrt10u1pjq9z4dpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq8v9jhxapqxqyjw5q"',
  'L402 macaroon="AgEEbHNhdAJCAAD6g3+Ww1Jm5Q==", invoice="lnbcrt10u1pjq9z4dpp5qqqsyqcyq5rqwzqfq", version="0"',
  'Payment id="kM9xPqWvT2nL8rYs", realm="api.example.com", method="stripe", intent="charge", request="eyJhbW91bnQiOiI1MCIsImN1cnJlbmN5IjoidXNkIn0", expires="2030-01-15T12:05:00Z", description="Caf\\u00e9 \\u2014 article"',
  'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
  'Payment id="a", realm="r", method="tempo", intent="session", request="e30", Payment id="b", realm="r", method="stripe", intent="charge", request="e30", opaque="eyJrIjoidiJ9"',
  'Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXagMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCqKCAUA=',
  'Basic realm="Dev", charset="UTF-8", Digest realm="x", qop="auth, auth-int", nonce="abc"',
];
const ALPHABET = ' \t,="\\=:;/+-_.aZ09éuPLN\u0000\n\u00ff\u2014';

/** Checks that hold for any input: documented errors, raw text, linear work. */
function checkAny(input: string | string[], decodeUnicodeEscapes: boolean): void {
  const options = { decodeUnicodeEscapes };
  let strict: Challenge[] | undefined;
  try {
    strict = parseWwwAuthenticate(input, options);
  } catch (error) {
    expect(error).toBeInstanceOf(WwwAuthenticateParseError);
    expect((error as WwwAuthenticateParseError).code).toBe('CHALLENGE_INVALID');
  }
  const lenient = parseWwwAuthenticateLenient(input, options);
  expect(lenient.challenges.length).toBeLessThanOrEqual(32);
  if (strict) expect(lenient.challenges).toEqual(strict);
  else expect(lenient.errors.length).toBeGreaterThan(0);
  const lines = typeof input === 'string' ? [input] : input;
  for (const challenge of lenient.challenges) {
    expect(Object.isFrozen(challenge)).toBe(true);
    expect(lines.some((line) => line.includes(challenge.raw))).toBe(true);
    expect(challenge.schemeLower).toBe(challenge.scheme.toLowerCase());
    for (const name of Object.keys(challenge.params)) expect(name).toBe(name.toLowerCase());
  }
  const length = lines.reduce((sum, line) => sum + line.length, 0);
  expect(countParseSteps(input, options)).toBeLessThanOrEqual(8 * (length + lines.length));
}

describe('WWW-Authenticate parser under fuzzing', () => {
  it(
    'mutated real-world headers: documented errors only, raw text kept, linear work',
    () => {
      fuzzSync(
        PARSER,
        fc.tuple(mutated(SAMPLES, ALPHABET), fc.boolean()),
        ([header, escapes]) => checkAny(header, escapes),
        share(0.4),
      );
    },
    timeoutFor(share(0.4)),
  );

  it(
    'random code points (lone surrogates included): documented errors only',
    () => {
      const unit = fc
        .oneof(
          { weight: 5, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
          { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x10ffff }) },
        )
        .map((cp) => String.fromCodePoint(cp));
      fuzzSync(
        PARSER,
        fc.tuple(fc.string({ unit, maxLength: 300 }), fc.boolean()),
        ([header, escapes]) => checkAny(header, escapes),
        share(0.3),
      );
    },
    timeoutFor(share(0.3)),
  );

  it(
    'several header lines, each mutated: documented errors only',
    () => {
      fuzzSync(
        PARSER,
        fc.tuple(
          fc.array(mutated(SAMPLES, ALPHABET), { minLength: 1, maxLength: 4 }),
          fc.boolean(),
        ),
        ([lines, escapes]) => checkAny(lines, escapes),
        share(0.3),
      );
    },
    timeoutFor(share(0.3)),
  );

  it('an unmutated sample parses strictly into the challenges it names', () => {
    const names = SAMPLES.map((sample) => parseWwwAuthenticate(sample).map((c) => c.schemeLower));
    expect(names).toEqual([
      ['lsat'],
      ['l402'],
      ['payment'],
      ['bearer'],
      ['payment', 'payment'],
      ['negotiate'],
      ['basic', 'digest'],
    ]);
    const [mppx] = parseWwwAuthenticate(SAMPLES[2]!, { decodeUnicodeEscapes: true });
    expect(mppx?.params.description).toBe('Café — article');
  });
});

describe('WWW-Authenticate parser time on long input', () => {
  const uncapped = { maxLength: 1 << 20, maxChallenges: 1 << 20, maxParams: 1 << 20 };
  const patterns: readonly string[] = [
    '"',
    '\\',
    'a="\\u00e9',
    '\\u00',
    'Payment id="\\u',
    'L402 macaroon=AgEE==, ',
    ', ,\t=',
    'a=b, ',
    'Foo a b, ',
  ];
  it.each(patterns)('pattern %j: 16 KiB takes about 16 times as long as 1 KiB', (pattern) => {
    const make = (size: number) => pattern.repeat(Math.ceil(size / pattern.length)).slice(0, size);
    for (const escapes of [false, true]) {
      const options = { ...uncapped, decodeUnicodeEscapes: escapes };
      expectLinearTime((s) => parseWwwAuthenticateLenient(s, options), make);
      const steps = countParseSteps(make(16_384), options);
      expect(steps).toBeLessThanOrEqual(8 * 16_385);
    }
  });
});
