import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  base64UrlToBytes,
  bytesToBase64Url,
  decodeBase64UrlJson,
  encodeBase64UrlJson,
} from './base64url.js';

describe('base64url', () => {
  it('decodes the request of a real mppx challenge', () => {
    expect(
      decodeBase64UrlJson(
        'eyJhbW91bnQiOiI3NSIsImN1cnJlbmN5IjoidXNkIiwibWV0aG9kRGV0YWlscyI6eyJuZXR3b3JrSWQiOiJwcm9maWxlX3Rlc3RfMTIzIiwicGF5bWVudE1ldGhvZFR5cGVzIjpbImNhcmQiLCJsaW5rIl19fQ',
      ),
    ).toEqual({
      amount: '75',
      currency: 'usd',
      methodDetails: { networkId: 'profile_test_123', paymentMethodTypes: ['card', 'link'] },
    });
  });

  it('encodes without padding and with the URL alphabet', () => {
    expect(bytesToBase64Url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
    expect(encodeBase64UrlJson({ a: 'é' })).toBe('eyJhIjoiw6kifQ');
    expect(new TextDecoder().decode(base64UrlToBytes('eyJhIjoiw6kifQ'))).toBe('{"a":"é"}');
  });

  it('accepts exact padding and refuses anything else', () => {
    expect([...base64UrlToBytes('aGk=')]).toEqual([104, 105]);
    expect(() => base64UrlToBytes('aGk==')).toThrow(/padding|length/);
    expect(() => base64UrlToBytes('a=Gk')).toThrow(/padding|alphabet/);
    expect(() => base64UrlToBytes('aG+k')).toThrow(/alphabet/);
    expect(() => base64UrlToBytes('aGk/')).toThrow(/alphabet/);
    expect(() => base64UrlToBytes('a')).toThrow(/length/);
    expect(() => base64UrlToBytes('a b')).toThrow(/alphabet/);
  });

  it('refuses invalid UTF-8 and non-JSON', () => {
    expect(() => decodeBase64UrlJson(bytesToBase64Url(new Uint8Array([0xff, 0xfe])))).toThrow();
    expect(() => decodeBase64UrlJson('bm90IGpzb24')).toThrow(SyntaxError);
  });

  it('round-trips any bytes and any JSON string value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = bytesToBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect([...base64UrlToBytes(text)]).toEqual([...bytes]);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        expect(decodeBase64UrlJson(encodeBase64UrlJson({ s }))).toEqual({ s });
      }),
    );
  });
});
