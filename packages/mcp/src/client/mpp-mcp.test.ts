import { ChallengeParseError, parseWwwAuthenticateLenient } from '@stipend/client';
import { encodeBase64UrlJson } from '@stipend/client/internal';
import { describe, expect, it } from 'vitest';
import {
  mcpCredentialOf,
  mppDataOf,
  mppReceiptOf,
  mppResultData,
  wwwAuthenticateOf,
} from './mpp-mcp.js';

const challenge = {
  id: 'ch_1',
  realm: 'mcp.example',
  method: 'stripe',
  intent: 'charge',
  request: { amount: '50', currency: 'usd', methodDetails: { networkId: 'profile_x' } },
  expires: '2030-01-01T00:00:00.000Z',
  description: 'Article — “quoted” \\ path',
  opaque: 'eyJyb3V0ZSI6ImEifQ',
  meta: { route: 'a' },
};

describe('wwwAuthenticateOf', () => {
  it('writes every string parameter and request as base64url JSON, parsed back exactly', () => {
    const header = wwwAuthenticateOf([challenge, { ...challenge, id: 'ch_2', method: 'tempo' }]);
    const { challenges, errors } = parseWwwAuthenticateLenient(header, {
      decodeUnicodeEscapes: true,
    });
    expect(errors).toEqual([]);
    expect(challenges).toHaveLength(2);
    expect(challenges[0]?.params).toEqual({
      id: 'ch_1',
      realm: 'mcp.example',
      method: 'stripe',
      intent: 'charge',
      request: encodeBase64UrlJson(challenge.request),
      expires: challenge.expires,
      description: challenge.description,
      opaque: challenge.opaque,
    });
    expect(challenges[1]?.params.method).toBe('tempo');
    // Header values are byte strings: nothing above U+00FF is written as such.
    expect([...header].every((char) => char.charCodeAt(0) <= 0xff)).toBe(true);
  });

  it('refuses a challenge without an id or with a control character', () => {
    expect(() => wwwAuthenticateOf([{ realm: 'r' }])).toThrow(ChallengeParseError);
    expect(() => wwwAuthenticateOf([{ ...challenge, description: 'a\r\nb' }])).toThrow(
      ChallengeParseError,
    );
  });
});

describe('mcpCredentialOf', () => {
  it('echoes the challenge object exactly as received, with the payload and source', () => {
    const header = `Payment ${encodeBase64UrlJson({
      challenge: { id: 'ch_1', request: 'ignored-string-form' },
      payload: { spt: 'spt_123' },
      source: 'did:example:payer',
    })}`;
    expect(mcpCredentialOf(header, new Map([['ch_1', challenge]]))).toEqual({
      challenge,
      payload: { spt: 'spt_123' },
      source: 'did:example:payer',
    });
  });

  it('refuses a credential for a challenge this call never received', () => {
    const header = `Payment ${encodeBase64UrlJson({ challenge: { id: 'other' }, payload: {} })}`;
    expect(() => mcpCredentialOf(header, new Map([['ch_1', challenge]]))).toThrow(/never got/);
    expect(() => mcpCredentialOf('Bearer abc', new Map())).toThrow(/not "Payment/);
  });
});

describe('mppDataOf / mppResultData / mppReceiptOf', () => {
  it('reads challenges, problem and status from error data', () => {
    const problem = { type: 'https://paymentauth.org/problems/verification-failed' };
    expect(mppDataOf({ httpStatus: 402, challenges: [challenge, 'junk'], problem })).toEqual({
      challenges: [challenge],
      problem,
      httpStatus: 402,
    });
    expect(mppDataOf({ elicitations: [] })).toBeUndefined();
    expect(mppDataOf('x')).toBeUndefined();
  });

  it('reads payment-required data and receipts from tool results', () => {
    expect(
      mppResultData({ _meta: { 'org.paymentauth/payment-required': { challenges: [challenge] } } })
        ?.challenges,
    ).toEqual([challenge]);
    expect(mppReceiptOf({ _meta: { 'org.paymentauth/receipt': { reference: 'pi_1' } } })).toEqual({
      reference: 'pi_1',
    });
    expect(mppReceiptOf({ _meta: {} })).toBeUndefined();
  });
});
