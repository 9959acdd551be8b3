import { describe, expect, it } from 'vitest';
import { ChallengeParseError } from '../../errors/challenge.js';
import type { PaymentOffer } from '../../offer.js';
import { mppAdapter } from './adapter.js';
import { encodeBase64UrlJson } from './base64url.js';
import type { MppOfferRaw } from './challenge.js';
import {
  evmRequest,
  IN_5_MIN,
  inputOf,
  NOW,
  ORIGIN,
  payment,
  stripeRequest,
} from './fixtures.test-helpers.js';

const adapter = mppAdapter();
const parse = (www: string, options: Parameters<typeof inputOf>[1] = {}) =>
  adapter.parse(inputOf({ 'www-authenticate': www }, options)) as readonly PaymentOffer[];

function parseError(www: string, a = adapter): ChallengeParseError {
  try {
    a.parse(inputOf({ 'www-authenticate': www }));
  } catch (error) {
    if (error instanceof ChallengeParseError) return error;
    throw error;
  }
  throw new Error('expected a ChallengeParseError');
}

describe('reading Payment challenges', () => {
  it('turns the real mppx stripe challenge into a frozen offer with raw as received', () => {
    const request =
      'eyJhbW91bnQiOiI3NSIsImN1cnJlbmN5IjoidXNkIiwibWV0aG9kRGV0YWlscyI6eyJuZXR3b3JrSWQiOiJwcm9maWxlX3Rlc3RfMTIzIiwicGF5bWVudE1ldGhvZFR5cGVzIjpbImNhcmQiLCJsaW5rIl19fQ';
    const www = `Payment id="jQa31SruV51kHC0KInQN3QKh-ItQjiiCMXzBjZCvLPo", realm="api.example.com", method="stripe", intent="charge", request="${request}", description="Premium API call", expires="${IN_5_MIN}"`;
    const offers = parse(www);
    expect(offers).toHaveLength(1);
    const offer = offers[0]!;
    expect(offer).toMatchObject({
      id: 'mpp:jQa31SruV51kHC0KInQN3QKh-ItQjiiCMXzBjZCvLPo',
      protocol: 'mpp',
      scheme: 'stripe.charge',
      amount: { value: 75n, unit: { kind: 'fiat', currency: 'USD', exponent: 2 } },
      payee: 'profile_test_123',
      origin: ORIGIN,
      resource: `${ORIGIN}/paid`,
      expiresAt: Date.parse(IN_5_MIN) - 30_000,
      authorizationTtlSec: 300,
      reusable: false,
    });
    expect(Object.isFrozen(offer)).toBe(true);
    expect(Object.isFrozen((offer.raw as MppOfferRaw).challenge)).toBe(true);
    expect(offer.raw).toEqual({
      challenge: {
        id: 'jQa31SruV51kHC0KInQN3QKh-ItQjiiCMXzBjZCvLPo',
        realm: 'api.example.com',
        method: 'stripe',
        intent: 'charge',
        request,
        description: 'Premium API call',
        expires: IN_5_MIN,
      },
      request: stripeRequest(),
    });
  });

  it('offers every Payment challenge of a folded header mixed with L402 and Bearer', () => {
    const www = [
      'Bearer realm="api", error="invalid_token"',
      payment({ id: 'a', description: 'cheap, "quoted", Payment id=fake' }),
      'L402 macaroon="AgEE", invoice="lnbc1"',
      payment({ id: 'b', request: stripeRequest({ amount: '100' }) }),
      payment({ id: 'c', method: 'evm', request: evmRequest() }),
    ].join(', ');
    const offers = parse(www);
    expect(offers.map((o) => [o.id, o.scheme, o.amount.value])).toEqual([
      ['mpp:a', 'stripe.charge', 75n],
      ['mpp:b', 'stripe.charge', 100n],
      ['mpp:c', 'evm.charge', 10000n],
    ]);
    expect(offers[2]).toMatchObject({ network: 'eip155:8453', authorizationTtlSec: 300 });
  });

  it('detects Payment challenges case-insensitively and ignores other schemes', () => {
    expect(
      adapter.detect(inputOf({ 'www-authenticate': payment({}).replace('Payment', 'payment') })),
    ).toBe(true);
    expect(adapter.detect(inputOf({ 'www-authenticate': 'Bearer realm="x"' }))).toBe(false);
    expect(adapter.detect(inputOf({}))).toBe(false);
    expect(parse('Bearer realm="x"')).toEqual([]);
  });

  it('keeps the good challenges when one is bad, and throws when none is left', () => {
    const www = `${payment({ id: 'bad', request: 'not base64!' })}, ${payment({ id: 'good' })}`;
    expect(parse(www).map((o) => o.id)).toEqual(['mpp:good']);
    const error = parseError(payment({ request: '@@@' }));
    expect(error.code).toBe('CHALLENGE_INVALID');
    expect(error.protocol).toBe('mpp');
    expect(error.shortMessage).toMatch(
      /No MPP challenge can be paid safely\. Payment challenge 1 \(stripe\.charge\): its request is not base64url-encoded UTF-8 JSON/,
    );
  });

  it.each([
    ['an empty id', { id: '' }, /no id/],
    ['no id', { id: undefined }, /no id/],
    ['no realm', { realm: undefined }, /no realm/],
    ['an upper-case method', { method: 'Stripe' }, /method/],
    ['a malformed intent', { intent: 'char ge' }, /intent/],
    [
      'a request that is not an object',
      { request: encodeBase64UrlJson([1, 2]) },
      /not a JSON object/,
    ],
    [
      'a decimal amount',
      { request: encodeBase64UrlJson(stripeRequest({ amount: '7.5' })) },
      /amount: invalid_format/,
    ],
    ['an opaque that is not base64url', { opaque: 'e30x' }, /opaque is not base64url/],
    [
      'an opaque that is not a string map',
      { opaque: encodeBase64UrlJson({ a: 1 }) },
      /flat JSON object of strings/,
    ],
    [
      'a third credential header',
      { header: 'X-Payment' },
      /header "X-Payment"; only Authorization and Payment-Authorization/,
    ],
    ['an unreadable expires', { expires: 'tomorrow' }, /RFC 3339/],
    ['a date without time', { expires: '2026-11-24' }, /RFC 3339/],
    ['no expires', { expires: undefined }, /no expires/],
    ['a past expires', { expires: '2026-11-24T11:59:00Z' }, /expired at 2026-11-24T11:59:00\.000Z/],
    ['an expires inside the skew margin', { expires: '2026-11-24T12:00:20Z' }, /clock-skew margin/],
  ])('refuses a challenge with %s', (_label, params, reason) => {
    expect(parseError(payment(params)).shortMessage).toMatch(reason);
  });

  it('refuses a request longer than 16 KiB and a repeated id', () => {
    const long = encodeBase64UrlJson(stripeRequest({ pad: 'x'.repeat(13_000) }));
    expect(long.length).toBeGreaterThan(16 * 1024);
    expect(() => adapter.parse({ ...inputOf({}), challenges: [fakeChallenge(long)] })).toThrow(
      /request is longer than 16384 characters/,
    );
    expect(parse(`${payment({ id: 'x' })}, ${payment({ id: 'x' })}`).map((o) => o.id)).toEqual([
      'mpp:x',
    ]);
  });

  it('accepts the credential header names in any case, and opaque as a flat string map', () => {
    const opaque = encodeBase64UrlJson({ _mppx_scope: 'shop:order:1' });
    const [offer] = parse(payment({ header: 'payment-authorization', opaque }));
    expect((offer!.raw as MppOfferRaw).challenge).toMatchObject({
      header: 'payment-authorization',
      opaque,
    });
    expect(parse(payment({ header: 'Authorization' }))).toHaveLength(1);
  });

  it('can accept challenges without expires for a documented window', () => {
    const lenient = mppAdapter({ missingExpires: { ttlSec: 60 } });
    const [offer] = lenient.parse(
      inputOf({ 'www-authenticate': payment({ expires: undefined }) }),
    ) as readonly PaymentOffer[];
    expect(offer).toMatchObject({ expiresAt: NOW + 60_000 - 30_000, authorizationTtlSec: 60 });
    expect(() => mppAdapter({ missingExpires: { ttlSec: 0 } })).toThrow(/ttlSec/);
    expect(() => mppAdapter({ clockSkewMs: -1 })).toThrow(/clockSkewMs/);
  });

  it('uses the clock-skew margin it is given', () => {
    const tight = mppAdapter({ clockSkewMs: 0 });
    expect(
      tight.parse(inputOf({ 'www-authenticate': payment({ expires: '2026-11-24T12:00:20Z' }) })),
    ).toHaveLength(1);
  });

  it('decodes mppx \\uXXXX escapes so echoed values match what the server signed', () => {
    const www = `Payment id="u1", realm="caf\\u00e9.example \\u2014 shop", method="stripe", intent="charge", request="${encodeBase64UrlJson(stripeRequest())}", description="Pay \\u20ac", expires="${IN_5_MIN}"`;
    const [offer] = parse(www);
    expect((offer!.raw as MppOfferRaw).challenge).toMatchObject({
      realm: 'café.example — shop',
      description: 'Pay €',
    });
  });

  it('never uses description for a decision', () => {
    const [plain] = parse(payment({}));
    const [described] = parse(
      payment({ description: 'FREE! amount 0, pay to attacker, expires never' }),
    );
    const { raw: _a, ...a } = plain!;
    const { raw: _b, ...b } = described!;
    expect(b).toEqual(a);
  });

  it('binds offers to the answering origin', () => {
    const [offer] = parse(payment({}), { url: 'https://other.example.org/x?q=1' });
    expect(offer).toMatchObject({
      origin: 'https://other.example.org',
      resource: 'https://other.example.org/x?q=1',
    });
  });
});

function fakeChallenge(request: string) {
  const params = Object.assign(Object.create(null), {
    id: 'long',
    realm: 'r',
    method: 'stripe',
    intent: 'charge',
    request,
    expires: IN_5_MIN,
  });
  return { scheme: 'Payment', schemeLower: 'payment', params, raw: 'Payment …' };
}
