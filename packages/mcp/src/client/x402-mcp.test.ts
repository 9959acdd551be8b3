import { describe, expect, it } from 'vitest';
import { settlementOf, x402TermsOf } from './x402-mcp.js';

const required = {
  x402Version: 2,
  error: 'Payment required',
  resource: { url: 'mcp://tool/get_weather' },
  accepts: [{ scheme: 'exact', network: 'eip155:31337', amount: '1000' }],
};

describe('x402TermsOf', () => {
  it('reads structuredContent first', () => {
    const terms = x402TermsOf({
      isError: true,
      structuredContent: required,
      content: [{ type: 'text', text: 'not json' }],
    });
    expect(terms).toEqual({ paymentRequired: required });
  });

  it('reads the x402/error wrapper in structuredContent', () => {
    expect(
      x402TermsOf({
        isError: true,
        structuredContent: { 'x402/error': { code: 402, message: 'pay', data: required } },
      }),
    ).toEqual({ paymentRequired: required });
  });

  it('falls back to content[0].text, plain or wrapped', () => {
    expect(
      x402TermsOf({ isError: true, content: [{ type: 'text', text: JSON.stringify(required) }] }),
    ).toEqual({ paymentRequired: required });
    const wrapped = JSON.stringify({ 'x402/error': { code: 402, message: 'pay', data: required } });
    expect(x402TermsOf({ isError: true, content: [{ type: 'text', text: wrapped }] })).toEqual({
      paymentRequired: required,
    });
  });

  it('separates a settlement response carried inside the terms or in _meta', () => {
    const failure = { success: false, errorReason: 'insufficient_funds', transaction: '' };
    expect(
      x402TermsOf({
        isError: true,
        structuredContent: { ...required, 'x402/payment-response': failure },
      }),
    ).toEqual({ paymentRequired: required, settlement: failure });
    expect(
      x402TermsOf({
        isError: true,
        structuredContent: required,
        _meta: { 'x402/payment-response': failure },
      }),
    ).toEqual({ paymentRequired: required, settlement: failure });
  });

  it('finds nothing in successful results or in results without x402 terms', () => {
    expect(x402TermsOf({ structuredContent: required })).toBeUndefined();
    expect(
      x402TermsOf({ isError: true, content: [{ type: 'text', text: 'boom' }] }),
    ).toBeUndefined();
    expect(
      x402TermsOf({ isError: true, structuredContent: { x402Version: 3, accepts: [] } }),
    ).toBeUndefined();
    expect(
      x402TermsOf({ isError: true, structuredContent: { x402Version: 2, accepts: 'no' } }),
    ).toBeUndefined();
  });
});

describe('settlementOf', () => {
  it('reads _meta["x402/payment-response"]', () => {
    expect(settlementOf({ _meta: { 'x402/payment-response': { success: true } } })).toEqual({
      success: true,
    });
    expect(settlementOf({ _meta: { 'x402/payment-response': 'yes' } })).toBeUndefined();
    expect(settlementOf({})).toBeUndefined();
  });
});
