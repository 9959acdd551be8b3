import { describe, expect, it } from 'vitest';
import { decodeBase64Json } from './base64.js';
import { PAY_TO, SPEC_REQUIRED_DECODED, SPEC_V1_BODY } from './fixtures.test-helpers.js';
import { advertisesPaymentId, proofHeader } from './proof.js';
import type { X402OfferRaw } from './terms.js';

const payload = {
  signature: '0x2d6a',
  authorization: {
    from: '0x857b',
    to: PAY_TO,
    value: '10000',
    validAfter: '0',
    validBefore: '9',
    nonce: '0xf3',
  },
};
const requirement = SPEC_REQUIRED_DECODED.accepts[0]!;

describe('x402 proof headers', () => {
  it('v2: PAYMENT-SIGNATURE echoes the requirement byte for byte, copies resource and echoes extensions', () => {
    const extensions = { bazaar: { info: { x: 1 }, schema: {} }, other: 'kept' };
    const raw: X402OfferRaw = {
      form: 'v2',
      x402Version: 2,
      requirement,
      resource: SPEC_REQUIRED_DECODED.resource,
      extensions,
      transfer: 'eip3009',
    };
    const { name, value } = proofHeader(raw, payload, 'https://ignored.example/');
    expect(name).toBe('PAYMENT-SIGNATURE');
    expect(value).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    const sent = decodeBase64Json(value) as Record<string, unknown>;
    expect(sent).toEqual({
      x402Version: 2,
      resource: SPEC_REQUIRED_DECODED.resource,
      accepted: requirement,
      payload,
      extensions,
    });
    expect(JSON.stringify(sent.accepted)).toBe(JSON.stringify(requirement));
  });

  it('v2: adds the payment id to the payment-identifier extension, keeping its other fields', () => {
    const extensions = {
      'payment-identifier': { info: { required: true }, schema: { type: 'object' } },
    };
    const raw: X402OfferRaw = {
      form: 'v2',
      x402Version: 2,
      requirement,
      resource: SPEC_REQUIRED_DECODED.resource,
      extensions,
      transfer: 'eip3009',
    };
    expect(advertisesPaymentId(extensions)).toBe(true);
    const sent = decodeBase64Json(proofHeader(raw, payload, '', 'pay_0123456789abcdef').value) as {
      extensions: unknown;
    };
    expect(sent.extensions).toEqual({
      'payment-identifier': {
        info: { required: true, id: 'pay_0123456789abcdef' },
        schema: { type: 'object' },
      },
    });
    expect(extensions['payment-identifier'].info).toEqual({ required: true });
  });

  it('v1: X-PAYMENT carries version, scheme, the v1 network name and the payload', () => {
    const raw: X402OfferRaw = {
      form: 'v1',
      x402Version: 1,
      requirement: SPEC_V1_BODY.accepts[0]!,
      transfer: 'eip3009',
    };
    const { name, value } = proofHeader(raw, payload, '');
    expect(name).toBe('X-PAYMENT');
    expect(decodeBase64Json(value)).toEqual({
      x402Version: 1,
      scheme: 'exact',
      network: 'base-sepolia',
      payload,
    });
  });

  it('plain: X-Payment-Signature carries a v2 payload for the derived requirement', () => {
    const raw: X402OfferRaw = { form: 'plain', x402Version: 2, requirement, transfer: 'eip3009' };
    const { name, value } = proofHeader(raw, payload, 'https://api.example.com/r');
    expect(name).toBe('X-Payment-Signature');
    expect(decodeBase64Json(value)).toEqual({
      x402Version: 2,
      resource: { url: 'https://api.example.com/r' },
      accepted: requirement,
      payload,
    });
  });

  it('does not see a payment-identifier extension without info', () => {
    expect(advertisesPaymentId({ 'payment-identifier': { schema: {} } })).toBe(false);
    expect(advertisesPaymentId(undefined)).toBe(false);
  });
});
