import { describe, expect, it } from 'vitest';
import type { PaymentOffer } from '../../offer.js';
import type { Proof } from '../../wallet/wallet.js';
import type { RetryRequest } from '../adapter.js';
import { x402Adapter } from './adapter.js';
import { decodeBase64Json } from './base64.js';
import {
  b64,
  challenge,
  SPEC_PAYMENT_REQUIRED,
  SPEC_REQUIRED_DECODED,
  SPEC_SETTLE_SUCCESS,
} from './fixtures.test-helpers.js';
import type { X402OfferRaw } from './terms.js';

const URL_ = 'https://api.example.com/premium-data';
const retry = (idempotencyKey?: string, url = URL_, method = 'GET'): RetryRequest => ({
  method,
  url: new URL(url),
  headers: new Headers(),
  idempotencyKey: idempotencyKey ?? `${method} ${url}`,
});
let nonce = 0;
const proofFor = (offer: PaymentOffer, validUntil = Date.now() + 60_000): Proof => ({
  offerId: offer.id,
  reference: `ref-${++nonce}`,
  settlement: 'authorization',
  validUntil,
  secret: { payload: { signature: `0x${nonce}`, authorization: { nonce: String(nonce) } } },
});
const paid = () => new Response('ok', { headers: { 'PAYMENT-RESPONSE': SPEC_SETTLE_SUCCESS } });
const sentOf = (headers: Record<string, string>) =>
  decodeBase64Json(headers['PAYMENT-SIGNATURE']!) as {
    payload: { signature: string };
    extensions?: { 'payment-identifier'?: { info: { id?: string; required: boolean } } };
  };

describe('detect', () => {
  const adapter = x402Adapter();
  it.each([
    ['a v2 402', { headers: { 'payment-required': 'x' } }, true],
    ['a 412 with PAYMENT-REQUIRED', { status: 412, headers: { 'payment-required': 'x' } }, true],
    ['a 412 without it', { status: 412 }, false],
    ['the plain form', { headers: { 'x-payment-required': '{}' } }, true],
    ['a JSON 402 (maybe v1)', { headers: { 'content-type': 'application/json' } }, true],
    ['a 402 without a content type', {}, true],
    ['an HTML 402', { headers: { 'content-type': 'text/html' } }, false],
    [
      'an L402 challenge',
      {
        headers: {
          'content-type': 'application/json',
          'www-authenticate': 'L402 macaroon="a", invoice="b"',
        },
      },
      false,
    ],
    ['a 401', { status: 401, headers: { 'payment-required': 'x' } }, false],
  ])('%s → %s', (_name, parts, expected) => {
    expect(adapter.detect(challenge(parts))).toBe(expected);
  });
});

describe('proof headers and payment-identifier', () => {
  const withIdentifier = challenge({
    headers: {
      'PAYMENT-REQUIRED': b64({
        ...SPEC_REQUIRED_DECODED,
        extensions: { 'payment-identifier': { info: { required: false }, schema: {} } },
      }),
    },
  });

  it('sends no payment id when the server does not advertise the extension', async () => {
    const adapter = x402Adapter();
    const [offer] = await adapter.parse(
      challenge({ headers: { 'PAYMENT-REQUIRED': SPEC_PAYMENT_REQUIRED } }),
    );
    const sent = sentOf(adapter.proofHeaders(offer!, proofFor(offer!), retry('purchase-1')));
    expect(sent.extensions).toBeUndefined();
  });

  it('derives the id from the idempotency key and re-sends the SAME signed payload on a retry', async () => {
    const adapter = x402Adapter();
    const [offer] = await adapter.parse(withIdentifier);
    const first = adapter.proofHeaders(offer!, proofFor(offer!), retry('order-42'));
    const id = sentOf(first).extensions?.['payment-identifier']?.info.id;
    expect(id).toMatch(/^pay_[0-9a-f]{32}$/);
    expect(sentOf(first).extensions?.['payment-identifier']?.info.required).toBe(false);

    // The first attempt's outcome was lost; the purchase is retried with the same key.
    const again = adapter.proofHeaders(offer!, proofFor(offer!), retry('order-42'));
    expect(again).toEqual(first);

    // Another purchase: another id, another payload.
    const other = adapter.proofHeaders(offer!, proofFor(offer!), retry('order-43'));
    expect(sentOf(other).extensions?.['payment-identifier']?.info.id).not.toBe(id);
    expect(sentOf(other).payload).not.toEqual(sentOf(first).payload);

    // A new adapter (a new process) derives the same id for the same purchase.
    const [sameOffer] = await x402Adapter().parse(withIdentifier);
    const fresh = x402Adapter().proofHeaders(sameOffer!, proofFor(sameOffer!), retry('order-42'));
    expect(sentOf(fresh).extensions?.['payment-identifier']?.info.id).toBe(id);
  });

  it('signs anew once the cached payload is about to expire', async () => {
    const adapter = x402Adapter();
    const [offer] = await adapter.parse(withIdentifier);
    const first = adapter.proofHeaders(
      offer!,
      proofFor(offer!, Date.now() + 5_000),
      retry('order-1'),
    );
    const again = adapter.proofHeaders(offer!, proofFor(offer!), retry('order-1'));
    expect(sentOf(again).payload).not.toEqual(sentOf(first).payload);
  });

  it('forgets the payload once the purchase was accepted', async () => {
    const adapter = x402Adapter();
    const [offer] = await adapter.parse(withIdentifier);
    const proof = proofFor(offer!);
    const first = adapter.proofHeaders(offer!, proof, retry('order-7'));
    expect(await adapter.settle(offer!, proof, paid())).toMatchObject({ kind: 'accepted' });
    const next = adapter.proofHeaders(offer!, proofFor(offer!), retry('order-7'));
    expect(sentOf(next).payload).not.toEqual(sentOf(first).payload);
  });

  it('gives calls without an idempotency key a fresh random id each', async () => {
    const adapter = x402Adapter();
    const [offer] = await adapter.parse(withIdentifier);
    const a = sentOf(adapter.proofHeaders(offer!, proofFor(offer!), retry()));
    const b = sentOf(adapter.proofHeaders(offer!, proofFor(offer!), retry()));
    const idA = a.extensions?.['payment-identifier']?.info.id;
    expect(idA).toMatch(/^pay_[0-9a-f]{32}$/);
    expect(b.extensions?.['payment-identifier']?.info.id).not.toBe(idA);
    expect(b.payload).not.toEqual(a.payload);
  });

  it('refuses a proof without a scheme payload', async () => {
    const adapter = x402Adapter();
    const [offer] = await adapter.parse(withIdentifier);
    expect(() =>
      adapter.proofHeaders(offer!, { ...proofFor(offer!), secret: 'sig' }, retry('k')),
    ).toThrow(/secret: \{ payload \}/);
  });
});

describe('pre-authorization', () => {
  const spec = challenge({ headers: { 'PAYMENT-REQUIRED': SPEC_PAYMENT_REQUIRED } });

  it('offers nothing for a route it never paid', () => {
    expect(x402Adapter().preauthorize!(retry(), Date.now())).toBeUndefined();
  });

  it("re-offers a paid route's terms with a fresh expiry, for that origin, method and path only", async () => {
    let clock = 1_000_000;
    const adapter = x402Adapter({ now: () => clock });
    const [offer] = await adapter.parse(spec);
    adapter.remember!(offer!, proofFor(offer!), retry(), paid());

    clock += 5_000;
    const [again, ...rest] = adapter.preauthorize!(retry(undefined, `${URL_}?page=2`), clock) ?? [];
    expect(rest).toEqual([]);
    expect(again).toMatchObject({
      protocol: 'x402',
      scheme: 'exact',
      amount: offer!.amount,
      payee: offer!.payee,
      origin: 'https://api.example.com',
      resource: `${URL_}?page=2`,
      expiresAt: clock + 60_000,
    });
    expect(Object.isFrozen(again)).toBe(true);
    const raw = again!.raw as X402OfferRaw;
    expect(JSON.stringify(raw.requirement)).toBe(JSON.stringify(SPEC_REQUIRED_DECODED.accepts[0]));
    expect(raw.resource).toEqual({ ...SPEC_REQUIRED_DECODED.resource, url: `${URL_}?page=2` });

    expect(adapter.preauthorize!(retry(undefined, URL_, 'POST'), clock)).toBeUndefined();
    expect(
      adapter.preauthorize!(retry(undefined, 'https://api.example.com/other'), clock),
    ).toBeUndefined();
    expect(
      adapter.preauthorize!(retry(undefined, 'https://evil.example.com/premium-data'), clock),
    ).toBeUndefined();
  });

  it('forgets terms after rememberForMs, and when the server refuses them', async () => {
    const clock = 0;
    const adapter = x402Adapter({ now: () => clock, rememberForMs: 1_000 });
    const [offer] = await adapter.parse(spec);
    adapter.remember!(offer!, proofFor(offer!), retry(), paid());
    expect(adapter.preauthorize!(retry(), 1_001)).toBeUndefined();

    adapter.remember!(offer!, proofFor(offer!), retry(), paid());
    const [again] = adapter.preauthorize!(retry(), 10) ?? [];
    const refused = new Response('{}', {
      status: 402,
      headers: {
        'PAYMENT-REQUIRED': b64({
          ...SPEC_REQUIRED_DECODED,
          error: 'No matching payment requirements',
        }),
      },
    });
    expect(await adapter.settle(again!, proofFor(again!), refused)).toMatchObject({
      kind: 'rejected',
      moneyMoved: 'no',
    });
    expect(adapter.preauthorize!(retry(), 20)).toBeUndefined();
  });
});
