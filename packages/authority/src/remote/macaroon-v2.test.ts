import {
  anyBase64ToBytes as fromBase64,
  bytesToBase64 as toBase64,
} from '@stipend/client/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { macaroonLib } from '../authority/macaroon-lib.js';
import { decodeMacaroon, encodeMacaroon, MAX_TOKEN_BYTES } from './macaroon-v2.js';

const utf8 = new TextEncoder();
const rootKey = utf8.encode('0123456789abcdef0123456789abcdef');
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

// Aperture-minted regtest token (Tierion/lsat-js tests/data.ts; protocols/l402.md §1.2).
const APERTURE_TOKEN =
  'AgEEbHNhdAJCAAAwpHpumws6ufQoDwiTLNcge0QPUIWA0+tVY+tKPYAJ/zSfmEGlIpNm3VzxuzCqLhEp5KGiyPLUM9L+kcB7uzS+AAIPc2VydmljZXM9bWVtZTowAAISbWVtZV9jYXBhYmlsaXRpZXM9AAAGILA1VCEIExukt4nG+XR9tX8WJ2BVMiHG3UNt1uYJ+NRD';

function fromLib(m: ReturnType<typeof macaroonLib.newMacaroon>) {
  return {
    ...(m.location ? { location: m.location } : {}),
    identifier: m.identifier,
    caveats: m.caveats.map((c) => ({ identifier: c.identifier })),
    signature: m.signature,
  };
}

describe('encodeMacaroon against macaroon@3.0.4 exportBinary', () => {
  const cases: [string, string | undefined, string[]][] = [
    ['0 caveats, with location', 'stipend', []],
    ['1 caveat, with location', 'stipend', ['stipend_total_usd=0.10']],
    ['2 caveats, with location', 'stipend', ['stipend_total_usd=0.10', 'stipend_methods=GET,HEAD']],
    ['0 caveats, no location', undefined, []],
    ['2 caveats, no location', undefined, ['stipend_expires=1767225600', 'x'.repeat(200)]],
  ];
  for (const [name, location, caveats] of cases) {
    it(`is byte-identical: ${name}`, () => {
      const m = macaroonLib.newMacaroon({
        identifier: 'stipend:1:0123456789abcdef0123456789abcdef',
        ...(location ? { location } : {}),
        rootKey,
        version: 2,
      });
      for (const caveat of caveats) m.addFirstPartyCaveat(caveat);
      const ours = encodeMacaroon(fromLib(m));
      expect(hex(ours)).toBe(hex(m.exportBinary()));
      // And the library reads ours back to the same macaroon.
      const back = macaroonLib.importMacaroon(ours);
      expect(hex(back.signature)).toBe(hex(m.signature));
      expect(back.caveats.map((c) => new TextDecoder().decode(c.identifier))).toEqual(caveats);
    });
  }

  it('round-trips the aperture token byte for byte', () => {
    const bytes = fromBase64(APERTURE_TOKEN)!;
    const decoded = decodeMacaroon(bytes);
    expect(decoded.location).toBe('lsat');
    expect(decoded.identifier.length).toBe(66);
    expect(decoded.caveats.map((c) => new TextDecoder().decode(c.identifier))).toEqual([
      'services=meme:0',
      'meme_capabilities=',
    ]);
    expect(toBase64(encodeMacaroon(decoded))).toBe(APERTURE_TOKEN);
  });

  it('encodes many caveats where exportBinary cannot', () => {
    const m = macaroonLib.newMacaroon({ identifier: 'id', rootKey, version: 2 });
    for (let i = 0; i < 40; i++) m.addFirstPartyCaveat(`c${i}=v`);
    const ours = encodeMacaroon(fromLib(m));
    const back = macaroonLib.importMacaroon(ours);
    expect(back.caveats.length).toBe(40);
    expect(() => back.verify(rootKey, () => null)).not.toThrow();
  });

  it('round-trips arbitrary macaroons', () => {
    fc.assert(
      fc.property(
        fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { maxLength: 10 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (location, identifier, caveats, signature) => {
          const macaroon = {
            ...(location ? { location } : {}),
            identifier,
            caveats: caveats.map((c) => ({ identifier: c })),
            signature,
          };
          const decoded = decodeMacaroon(encodeMacaroon(macaroon));
          expect(hex(encodeMacaroon(decoded))).toBe(hex(encodeMacaroon(macaroon)));
          expect(decoded.caveats.length).toBe(caveats.length);
        },
      ),
    );
  });
});

describe('decodeMacaroon refuses what is not one well-formed macaroon', () => {
  const good = fromBase64(APERTURE_TOKEN)!;
  const cases: [string, Uint8Array, RegExp][] = [
    ['a v1 / other version byte', Uint8Array.from([1, ...good.slice(1)]), /version 2/],
    ['a truncated token', good.slice(0, good.length - 5), /end|past/],
    ['bytes after the signature', Uint8Array.from([...good, 0]), /follow the signature/],
    [
      'a short signature',
      Uint8Array.from([...good.slice(0, good.length - 34), 6, 31, ...good.slice(good.length - 31)]),
      /signature/,
    ],
    ['no identifier', Uint8Array.from([2, 0, 0, 6, 32, ...new Uint8Array(32)]), /no identifier/],
    [
      'an unknown field',
      Uint8Array.from([2, 2, 1, 65, 0, 3, 1, 65, 0, 0, 6, 32, ...new Uint8Array(32)]),
      /unknown field/,
    ],
    [
      'repeated fields',
      Uint8Array.from([2, 2, 1, 65, 2, 1, 65, 0, 0, 6, 32, ...new Uint8Array(32)]),
      /out of order/,
    ],
    ['an oversized token', new Uint8Array(MAX_TOKEN_BYTES + 1), /above/],
  ];
  for (const [name, bytes, message] of cases) {
    it(name, () => {
      expect(() => decodeMacaroon(bytes)).toThrow(message);
    });
  }
});
