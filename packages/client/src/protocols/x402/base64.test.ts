import { describe, expect, it } from 'vitest';
import { decodeBase64Json, encodeBase64Json, MAX_HEADER_CHARS } from './base64.js';
import { SPEC_PAYMENT_REQUIRED, SPEC_REQUIRED_DECODED } from './fixtures.test-helpers.js';

describe('x402 header base64', () => {
  it('decodes the spec PAYMENT-REQUIRED vector', () => {
    expect(decodeBase64Json(SPEC_PAYMENT_REQUIRED)).toEqual(SPEC_REQUIRED_DECODED);
  });

  it('encodes compact UTF-8 JSON in standard padded base64, like the reference servers', () => {
    const value = { note: 'café ✓ 𝄞', n: 1 };
    const encoded = encodeBase64Json(value);
    expect(encoded).toBe(Buffer.from(JSON.stringify(value), 'utf8').toString('base64'));
    expect(decodeBase64Json(encoded)).toEqual(value);
  });

  it('encodes payloads larger than one chunk', () => {
    const value = { big: 'é'.repeat(20_000) };
    const encoded = encodeBase64Json(value);
    expect(encoded).toBe(Buffer.from(JSON.stringify(value), 'utf8').toString('base64'));
    expect(decodeBase64Json(encoded)).toEqual(value);
  });

  it.each([
    ['base64url alphabet', Buffer.from('{"a":"??>>"}').toString('base64url')],
    ['missing padding', 'eyJhIjoxfQ'],
    ['whitespace', 'eyJh IjoxfQ=='],
    ['a line break', 'eyJhIjox\nfQ=='],
    ['empty', ''],
  ])('refuses %s', (_name, value) => {
    expect(() => decodeBase64Json(value)).toThrow(/base64|empty/);
  });

  it('one header text means one payload: a non-canonical last character is refused', () => {
    // 'e30=' and 'e31=' both decode to '{}' with a lenient decoder (RFC 4648 §3.5).
    expect(decodeBase64Json('e30=')).toEqual({});
    expect(() => decodeBase64Json('e31=')).toThrow('the header is not standard padded base64');
  });

  it('refuses invalid UTF-8 and non-JSON with a reason', () => {
    expect(() => decodeBase64Json(Buffer.from([0xff, 0xfe, 0x7b]).toString('base64'))).toThrow(
      /UTF-8/,
    );
    expect(() => decodeBase64Json(Buffer.from('not json').toString('base64'))).toThrow(/JSON/);
  });

  it('refuses a header longer than the cap before decoding it', () => {
    expect(() => decodeBase64Json('A'.repeat(MAX_HEADER_CHARS + 4))).toThrow(/longer/);
  });
});
