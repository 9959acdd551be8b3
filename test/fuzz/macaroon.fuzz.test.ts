/**
 * Fuzzing the client's L402 macaroon reader (`readMacaroon`): libmacaroons v2 tokens with
 * random locations, identifiers and first- and third-party caveats, encoded by the testkit's
 * reference encoder (checked byte for byte against the `macaroon` package), in standard or
 * URL-safe base64 with or without padding, must read back exactly; byte-mutated and random
 * tokens must give `undefined` or a consistent reading, never an exception.
 *
 * Documented outcomes: a `MacaroonInfo`, or `undefined` for a token that is not a v2
 * macaroon (an opaque token). It never throws.
 */
import { readMacaroon } from '@stipend/client';
import { readMacaroonUncached } from '@stipend/client/internal';
import { encodeMacaroonV2, type MacaroonV2 } from '@stipend/testkit/lightning';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expectLinearTime,
  expectTally,
  fuzzSync,
  mutated,
  share,
  timeoutFor,
} from './fuzz.test-helpers.js';

const PARSER = 'macaroon';
expectTally([PARSER]);

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=';
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** First-party caveat conditions, mostly the ones the reader interprets. */
const conditionArb = fc.oneof(
  fc
    .array(fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.nat(3)), { minLength: 1, maxLength: 3 })
    .map((entries) => `services=${entries.map(([name, tier]) => `${name}:${tier}`).join(',')}`),
  fc
    .tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.integer({ min: 0, max: 99_999_999_999 }))
    .map(([service, at]) => `${service}_valid_until=${at}`),
  fc.integer({ min: 0, max: 9_999_999_999_999 }).map((at) => `expiration=${at}`),
  fc.string({ maxLength: 30 }).filter((s) => !s.includes('\uFFFD')),
);

interface Spec {
  macaroon: MacaroonV2;
  /** Each caveat: its condition (first-party) or null (third-party). */
  kinds: (string | null)[];
}

const specArb: fc.Arbitrary<Spec> = fc
  .record({
    location: fc.oneof(fc.constant('lsat'), fc.constant(''), fc.string({ maxLength: 12 })),
    identifier: fc.oneof(
      fc
        .tuple(fc.constantFrom(0, 1, 0xffff), bytes(32, 32), bytes(32, 32))
        .map(([version, hash, id]) =>
          Uint8Array.from([version >> 8, version & 0xff, ...hash, ...id]),
        ),
      bytes(0, 80),
    ),
    caveats: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: conditionArb.map((condition) => ({ condition })) },
        {
          weight: 1,
          arbitrary: fc.record({
            id: bytes(1, 40),
            vid: bytes(1, 60),
            location: fc.string({ maxLength: 10 }),
          }),
        },
      ),
      { maxLength: 6 },
    ),
    signature: bytes(32, 32),
  })
  .map((r) => {
    const kinds: (string | null)[] = [];
    const caveats = r.caveats.map((caveat) => {
      if ('condition' in caveat) {
        kinds.push(caveat.condition);
        return { identifier: new TextEncoder().encode(caveat.condition) };
      }
      kinds.push(null);
      return {
        identifier: caveat.id,
        vid: caveat.vid,
        ...(caveat.location ? { location: caveat.location } : {}),
      };
    });
    return {
      macaroon: {
        ...(r.location ? { location: r.location } : {}),
        identifier: r.identifier,
        caveats,
        signature: r.signature,
      },
      kinds,
    };
  });

/** Standard or URL-safe base64, padded or not. */
function encode(data: Uint8Array, style: number): string {
  const standard = Buffer.from(data).toString('base64');
  const urlSafe = style & 1 ? standard.replace(/\+/g, '-').replace(/\//g, '_') : standard;
  return style & 2 ? urlSafe.replace(/=+$/, '') : urlSafe;
}

/** What the reader must say about a spec, computed independently. */
function expected(spec: Spec) {
  const first = spec.kinds.filter((k): k is string => k !== null);
  let services: string[] = [];
  let expiresAt: number | undefined;
  for (const caveat of first) {
    const at = caveat.indexOf('=');
    if (at < 0) continue;
    const condition = caveat.slice(0, at).trim();
    const value = caveat.slice(at + 1).trim();
    let until: number | undefined;
    if (condition === 'services') services = value.split(',').map((e) => e.split(':')[0]!.trim());
    else if (condition.endsWith('_valid_until') && /^\d{1,15}$/.test(value))
      until = Number(value) * 1000;
    else if (condition === 'expiration' && /^\d{1,16}$/.test(value)) until = Number(value);
    if (until !== undefined && (expiresAt === undefined || until < expiresAt)) expiresAt = until;
  }
  return {
    location: spec.macaroon.location ?? '',
    caveats: first,
    thirdPartyCaveats: spec.kinds.length - first.length,
    services,
    expiresAt,
  };
}

function readNeverThrows(token: string) {
  const info = readMacaroon(token);
  if (info !== undefined) {
    expect(info.identifier).toBeInstanceOf(Uint8Array);
    expect(Array.isArray(info.caveats)).toBe(true);
    for (const caveat of info.caveats) expect(typeof caveat).toBe('string');
    expect(info.thirdPartyCaveats).toBeGreaterThanOrEqual(0);
    if (info.l402) {
      expect(info.identifier).toHaveLength(66);
      expect(info.l402.paymentHash).toMatch(/^[0-9a-f]{64}$/);
    }
  }
  return info;
}

const POOL = fc
  .sample(fc.tuple(specArb, fc.nat(3)), { numRuns: 16, seed: 11 })
  .map(([spec, style]) => encode(encodeMacaroonV2(spec.macaroon), style));

describe('readMacaroon under fuzzing', () => {
  it(
    'reads every generated v2 macaroon exactly, in every base64 style',
    () => {
      fuzzSync(
        PARSER,
        fc.tuple(specArb, fc.nat(3)),
        ([spec, style]) => {
          const info = readMacaroon(encode(encodeMacaroonV2(spec.macaroon), style));
          expect(info).toBeDefined();
          const want = expected(spec);
          expect(info!.location).toBe(want.location);
          expect(hex(info!.identifier)).toBe(hex(spec.macaroon.identifier));
          expect(info!.caveats).toEqual(want.caveats);
          expect(info!.thirdPartyCaveats).toBe(want.thirdPartyCaveats);
          expect(info!.services).toEqual(want.services);
          expect(info!.expiresAt).toBe(want.expiresAt);
          if (spec.macaroon.identifier.length === 66) {
            expect(info!.l402?.paymentHash).toBe(hex(spec.macaroon.identifier.subarray(2, 34)));
          } else {
            expect(info!.l402).toBeUndefined();
          }
        },
        share(0.3),
      );
    },
    timeoutFor(share(0.3)),
  );

  it(
    'byte-level mutations of real tokens: undefined or a consistent reading, never a throw',
    () => {
      fuzzSync(
        PARSER,
        fc
          .tuple(
            specArb,
            fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(2)), {
              minLength: 1,
              maxLength: 4,
            }),
            fc.nat(3),
          )
          .map(([spec, edits, style]) => {
            let data = Array.from(encodeMacaroonV2(spec.macaroon));
            for (const [at, byte, kind] of edits) {
              const i = at % (data.length + 1);
              if (kind === 0) data[i] = byte;
              else if (kind === 1) data.splice(i, 0, byte);
              else data = data.slice(0, i);
            }
            return encode(Uint8Array.from(data), style);
          }),
        (token) => {
          readNeverThrows(token);
        },
        share(0.35),
      );
    },
    timeoutFor(share(0.35)),
  );

  it(
    'text-level mutations and random strings: undefined or a consistent reading',
    () => {
      fuzzSync(
        PARSER,
        fc.oneof(mutated(POOL, B64), fc.string({ maxLength: 200 })),
        (token) => {
          readNeverThrows(token);
        },
        share(0.35),
      );
    },
    timeoutFor(share(0.35)),
  );
});

describe('readMacaroon: a macaroon is never taken for an opaque token', () => {
  it('a non-UTF-8 location or caveat, or any identifier length, still reads as a macaroon', () => {
    fuzzSync(
      PARSER,
      fc.tuple(specArb, bytes(1, 8), fc.nat(3)),
      ([spec, junk, style]) => {
        // Bytes 0x80-0xff alone are never valid UTF-8 as a whole sequence of continuation bytes.
        const location = Uint8Array.from(junk, (b) => 0x80 | (b & 0x3f));
        const encoded = encodeMacaroonV2({
          ...spec.macaroon,
          location: 'x'.repeat(location.length),
        });
        const bytesOut = Uint8Array.from(encoded);
        bytesOut.set(location, 3);
        const info = readMacaroon(encode(bytesOut, style));
        expect(info).toBeDefined();
        expect(hex(info!.identifier)).toBe(hex(spec.macaroon.identifier));
        expect(info!.l402 !== undefined).toBe(spec.macaroon.identifier.length === 66);
      },
      share(0.1),
    );
  });
});

describe('readMacaroon time on long input', () => {
  const many = (n: number) => {
    const caveats = Array.from({ length: Math.max(1, Math.floor(n / 30)) }, (_, i) => ({
      identifier: new TextEncoder().encode(i % 2 ? `services=s${i}:0` : `s${i}_valid_until=${i}`),
    }));
    return encode(
      encodeMacaroonV2({
        location: 'lsat',
        identifier: new Uint8Array(66),
        caveats,
        signature: new Uint8Array(32),
      }),
      0,
    );
  };
  it.each([
    ['base64 that is not a macaroon', (n: number) => 'A'.repeat(n)],
    // Was quadratic (a backtracking /=+$/): test/reliability/README.md, "Bugs found", 5.
    ['a run of "=" followed by one more character', (n: number) => `${'='.repeat(n - 1)}A`],
    ['padding runs between base64 groups', (n: number) => 'AAAA===='.repeat(n / 8)],
    ['URL-safe characters', (n: number) => '-_'.repeat(n / 2)],
    ['a macaroon with many caveats', many],
    [
      'a long caveat',
      (n: number) =>
        encode(
          encodeMacaroonV2({
            identifier: new Uint8Array(66),
            caveats: [
              { identifier: new TextEncoder().encode(`services=${'a,'.repeat((n * 3) / 8)}`) },
            ],
            signature: new Uint8Array(32),
          }),
          0,
        ),
    ],
  ])('%s: 16 KiB about 16 times 1 KiB', (_name, make) => {
    // The decoder itself: readMacaroon remembers recent tokens, which would answer the small
    // inputs from memory and make the ratio meaningless.
    expectLinearTime((s) => readMacaroonUncached(s), make);
  });
});
