import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  anyBase64ToBytes,
  base64ToBinary,
  base64ToBytes,
  base64UrlToBytes,
  binaryToBytes,
  bytesToBase64,
  bytesToBase64Url,
  bytesToHex,
  bytesToUtf8,
  decodeAnyBase64Json,
  decodeBase64UrlJson,
  encodeBase64Json,
  encodeBase64UrlJson,
  hexDigitValue,
  hexToBytes,
  isAscii,
  isHex,
  utf8ToBytes,
} from './codec.js';

const node = (bytes: Uint8Array, encoding: 'base64' | 'base64url' | 'hex') =>
  Buffer.from(bytes).toString(encoding);

describe('codec: encoders agree with Node for every length', () => {
  it('base64, base64url and hex match Buffer on random bytes (small and large)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 100 }),
          fc.uint8Array({ minLength: 700, maxLength: 3000 }),
        ),
        (bytes) => {
          expect(bytesToBase64(bytes)).toBe(node(bytes, 'base64'));
          expect(bytesToBase64Url(bytes)).toBe(node(bytes, 'base64url'));
          expect(bytesToHex(bytes)).toBe(node(bytes, 'hex'));
          expect([...base64ToBytes(bytesToBase64(bytes))]).toEqual([...bytes]);
          expect([...base64UrlToBytes(bytesToBase64Url(bytes))]).toEqual([...bytes]);
          expect([...anyBase64ToBytes(bytesToBase64(bytes))]).toEqual([...bytes]);
          expect([...anyBase64ToBytes(bytesToBase64Url(bytes))]).toEqual([...bytes]);
          expect([...hexToBytes(bytesToHex(bytes))]).toEqual([...bytes]);
          expect([...hexToBytes(bytesToHex(bytes).toUpperCase())]).toEqual([...bytes]);
        },
      ),
    );
  });

  it('encodes JSON as UTF-8 in both alphabets, like the reference servers', () => {
    const value = { note: 'café ✓ 𝄞', n: 1 };
    expect(encodeBase64Json(value)).toBe(Buffer.from(JSON.stringify(value)).toString('base64'));
    expect(encodeBase64UrlJson(value)).toBe(
      Buffer.from(JSON.stringify(value)).toString('base64url'),
    );
    expect(decodeBase64UrlJson(encodeBase64UrlJson(value))).toEqual(value);
    expect(encodeBase64UrlJson({ a: 1 })).toBe('eyJhIjoxfQ');
  });
});

describe('codec: strict standard base64 (padding required)', () => {
  it('decodes padded standard base64', () => {
    expect([...base64ToBytes('+/8=')]).toEqual([0xfb, 0xff]);
    expect([...base64ToBytes('AgE=')]).toEqual([2, 1]);
    expect([...base64ToBytes('')]).toEqual([]);
  });

  it.each([
    ['missing padding', 'AgE'],
    ['the URL alphabet', '-_8='],
    ['whitespace', 'Ag E='],
    ['a line break', 'AgEA\nAgE='],
    ['padding in the middle', 'Ag=EAgE='],
    ['three "="', 'A==='],
    ['padding past a quartet', 'AgE=='],
    ['a non-ASCII character', 'AgÉ='],
    ['only padding', '===='],
  ])('refuses %s', (_name, text) => {
    expect(() => base64ToBytes(text)).toThrow(TypeError);
  });
});

describe('codec: base64url and either alphabet (padding optional, exact when present)', () => {
  it('accepts exact padding or none', () => {
    expect([...base64UrlToBytes('aGk')]).toEqual([104, 105]);
    expect([...base64UrlToBytes('aGk=')]).toEqual([104, 105]);
    expect([...anyBase64ToBytes('-/8')]).toEqual([0xfb, 0xff]);
    expect([...anyBase64ToBytes('+_8=')]).toEqual([0xfb, 0xff]);
  });

  it.each([
    ['too much padding', 'aGk=='],
    ['padding in the middle', 'a=Gk'],
    ['the standard alphabet', 'aG+k'],
    ['an impossible length', 'a'],
    ['a space', 'a b'],
    ['padding that does not complete a quartet', 'aG='],
  ])('base64url refuses %s', (_name, text) => {
    expect(() => base64UrlToBytes(text)).toThrow(TypeError);
  });

  it.each([
    ['a run of "="', 'AgE==='],
    ['"=" without a whole quartet', 'AgEA='],
    ['stray characters', 'AgE!'],
  ])('either-alphabet decoding refuses %s', (_name, text) => {
    expect(() => anyBase64ToBytes(text)).toThrow(TypeError);
  });
});

describe('codec: one text means one byte string', () => {
  // RFC 4648 §3.5: 'AB==' and 'AA==' would otherwise both decode to [0x00].
  it('refuses non-zero unused bits in the last character, in every decoder', () => {
    expect([...base64ToBytes('AA==')]).toEqual([0]);
    expect(() => base64ToBytes('AB==')).toThrow(/unused bits/);
    expect(() => base64ToBytes('AAB=')).toThrow(/unused bits/);
    expect(() => base64UrlToBytes('AB')).toThrow(/unused bits/);
    expect(() => anyBase64ToBytes('AAB')).toThrow(/unused bits/);
  });
});

describe('codec: hex', () => {
  it('reads either case and writes lowercase', () => {
    expect([...hexToBytes('DEad')]).toEqual([0xde, 0xad]);
    expect(bytesToHex(new Uint8Array([0xde, 0xad]))).toBe('dead');
  });

  it.each([
    ['odd length', 'abc'],
    ['a prefix', '0xab'],
    ['a space', 'ab cd'],
    ['a non-hex letter', 'zz'],
    ['a non-ASCII digit', '١٢'],
  ])('refuses %s', (_name, text) => {
    expect(() => hexToBytes(text)).toThrow(TypeError);
  });

  it('isHex checks length and digits', () => {
    expect(isHex('ab'.repeat(32), 32)).toBe(true);
    expect(isHex('AB'.repeat(32), 32)).toBe(true);
    expect(isHex('ab'.repeat(31), 32)).toBe(false);
    expect(isHex('abc')).toBe(false);
    expect(isHex('0xab')).toBe(false);
    expect(isHex('')).toBe(true);
  });

  it('never repeats the input in its errors (it may be a preimage)', () => {
    const secret = 'f'.repeat(63);
    expect(() => hexToBytes(secret)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(secret) }),
    );
    expect(() => base64ToBytes('secret!=')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('secret') }),
    );
  });
});

describe('codec: the native fast paths read exactly what the table decoders read', () => {
  const texts = fc.oneof(
    fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64')),
    fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64url')),
    fc.string({ unit: fc.constantFrom(...'AB+/-_=\n é'), maxLength: 12 }),
  );
  const outcome = (run: () => unknown) => {
    try {
      return { value: run() };
    } catch (error) {
      return { error: (error as Error).name };
    }
  };

  it('base64ToBinary accepts and refuses the same texts as base64ToBytes', () => {
    fc.assert(
      fc.property(texts, (text) => {
        const bytes = outcome(() => [...base64ToBytes(text)]);
        const binary = outcome(() => [...base64ToBinary(text)].map((c) => c.charCodeAt(0)));
        expect(binary).toEqual(bytes);
      }),
    );
  });

  it('decodeBase64UrlJson and decodeAnyBase64Json agree with the byte decoders', () => {
    const json = fc.jsonValue().map((v) => ({ v }));
    fc.assert(
      fc.property(json, (value) => {
        const text = encodeBase64UrlJson(value);
        expect(text).toBe(Buffer.from(JSON.stringify(value)).toString('base64url'));
        expect(decodeBase64UrlJson(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(decodeAnyBase64Json(encodeBase64Json(value))).toEqual(decodeBase64UrlJson(text));
      }),
    );
    fc.assert(
      fc.property(texts, (text) => {
        const viaBytes = outcome(() => base64UrlToBytes(text));
        const viaJson = outcome(() => decodeBase64UrlJson(text));
        if ('error' in viaBytes) expect(viaJson).toEqual({ error: 'TypeError' });
      }),
    );
  });

  it('binaryToBytes reads binary strings and refuses wider characters', () => {
    expect([...binaryToBytes('\u00c3\u00a9')]).toEqual([0xc3, 0xa9]);
    expect(() => binaryToBytes('é€')).toThrow(TypeError);
  });

  it('isAscii and hexDigitValue', () => {
    expect(isAscii('{"a":1}\u007f')).toBe(true);
    expect(isAscii('é')).toBe(false);
    expect(hexDigitValue('F'.charCodeAt(0))).toBe(15);
    expect(hexDigitValue('a'.charCodeAt(0))).toBe(10);
    expect(hexDigitValue('g'.charCodeAt(0))).toBe(-1);
    expect(hexDigitValue(0x661)).toBe(-1);
  });
});

describe('codec: UTF-8 and JSON', () => {
  it('refuses invalid UTF-8 instead of replacing it', () => {
    expect(() => bytesToUtf8(new Uint8Array([0xff, 0xfe]))).toThrow(TypeError);
    expect(() => decodeBase64UrlJson(bytesToBase64Url(new Uint8Array([0xff])))).toThrow(TypeError);
    expect(bytesToUtf8(utf8ToBytes('é𝄞'))).toBe('é𝄞');
  });

  it('refuses non-JSON with a SyntaxError', () => {
    expect(() => decodeBase64UrlJson('bm90IGpzb24')).toThrow(SyntaxError);
  });

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
});

describe('codec: linear time on hostile input', () => {
  it('decodes a long run of "=" and a 1 MB text without backtracking', () => {
    const started = performance.now();
    expect(() => anyBase64ToBytes(`${'='.repeat(200_000)}A`)).toThrow(TypeError);
    expect(base64ToBytes('AAAA'.repeat(250_000)).length).toBe(750_000);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
