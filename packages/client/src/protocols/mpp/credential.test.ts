import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StipendError } from '../../errors/base.js';
import type { Proof } from '../../wallet/wallet.js';
import { mppAdapter } from './adapter.js';
import { decodeBase64UrlJson, encodeBase64UrlJson } from './base64url.js';
import { buildCredential, idempotencyKeyFor, readProofSecret } from './credential.js';
import { IN_5_MIN, inputOf, payment, stripeRequest } from './fixtures.test-helpers.js';

const adapter = mppAdapter();
const offerFor = (params: Record<string, unknown>) =>
  (adapter.parse(inputOf({ 'www-authenticate': payment(params) })) as never[])[0]!;
const proofOf = (secret: unknown): Proof => ({
  offerId: 'x',
  reference: 'spt_1',
  settlement: 'authorization',
  secret,
});
const retry = (headers: Record<string, string> = {}) => ({
  method: 'GET',
  url: new URL('https://api.example.com/paid'),
  headers: new Headers(headers),
  idempotencyKey: 'GET https://api.example.com/paid',
});
const decode = (value: string) => {
  expect(value).toMatch(/^Payment [A-Za-z0-9_-]+$/);
  return decodeBase64UrlJson(value.slice('Payment '.length)) as Record<string, unknown>;
};

describe('the Payment credential', () => {
  it('echoes every challenge parameter exactly as received, with payload and source', () => {
    const opaque = encodeBase64UrlJson({ _mppx_scope: 'shop:1' });
    const offer = offerFor({
      id: 'abc',
      description: 'Premium',
      digest: 'sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE',
      opaque,
      future: 'kept',
    });
    const headers = adapter.proofHeaders(
      offer,
      proofOf({ payload: { spt: 'spt_1' }, source: 'did:example:1' }),
      retry(),
    );
    expect(Object.keys(headers).sort()).toEqual(['authorization', 'idempotency-key']);
    expect(decode(headers.authorization!)).toEqual({
      challenge: {
        id: 'abc',
        realm: 'api.example.com',
        method: 'stripe',
        intent: 'charge',
        request: encodeBase64UrlJson(stripeRequest()),
        expires: IN_5_MIN,
        description: 'Premium',
        digest: 'sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE',
        opaque,
        future: 'kept',
      },
      payload: { spt: 'spt_1' },
      source: 'did:example:1',
    });
  });

  it('goes in Payment-Authorization when asked, leaving the app Authorization alone', () => {
    const offer = offerFor({ header: 'Payment-Authorization' });
    const headers = adapter.proofHeaders(
      offer,
      proofOf({ payload: { spt: 'spt_1' } }),
      retry({ authorization: 'Bearer app-token' }),
    );
    expect(headers.authorization).toBeUndefined();
    expect(decode(headers['payment-authorization']!).payload).toEqual({ spt: 'spt_1' });
  });

  it('sends a stable Idempotency-Key per purchase and keeps the app one', () => {
    const offer = offerFor({});
    const proof = proofOf({ payload: { spt: 'spt_1' } });
    const first = adapter.proofHeaders(offer, proof, retry())['idempotency-key'];
    const again = adapter.proofHeaders(offerFor({ id: 'other' }), proof, retry())[
      'idempotency-key'
    ];
    expect(first).toMatch(/^stipend-[0-9a-f]{32}$/);
    expect(again).toBe(first);
    expect(first).not.toContain('example');
    const own = adapter.proofHeaders(offer, proof, retry({ 'Idempotency-Key': 'mine' }));
    expect(own['idempotency-key']).toBeUndefined();
  });

  it('derives distinct keys for distinct purchases', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        fc.pre(a !== b);
        expect(idempotencyKeyFor(a)).not.toBe(idempotencyKeyFor(b));
      }),
    );
  });

  it('refuses a wallet secret that is not an MPP payload', () => {
    for (const secret of [undefined, 'spt_1', { spt: 'x' }, { payload: 'x' }, { payload: [1] }]) {
      expect(() => readProofSecret(secret)).toThrow(StipendError);
    }
    expect(() => readProofSecret({ payload: {}, source: 1 })).toThrow(/source/);
    const offer = offerFor({});
    expect(() => adapter.proofHeaders(offer, proofOf({ preimage: 'ab' }), retry())).toThrow(
      /Proof\.secret must be \{ payload/,
    );
  });

  it('keeps non-ASCII description text intact through JSON', () => {
    const raw = {
      challenge: { id: 'u', realm: 'café', method: 'stripe', intent: 'charge', request: 'e30' },
      request: {},
    };
    expect(decode(buildCredential(raw, { payload: {} })).challenge).toMatchObject({
      realm: 'café',
    });
  });
});
