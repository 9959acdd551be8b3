import { type MacaroonLibMacaroon, macaroonLib } from '@stipend/testkit/l402';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isStipendError } from '../errors/base.js';
import { base64ToBytes, bytesToHex } from './codec.js';
import { decodeMacaroonV2, encodeMacaroonV2, type MacaroonV2 } from './macaroon.js';

const utf8 = new TextEncoder();
const rootKey = utf8.encode('0123456789abcdef0123456789abcdef');
const identifier = Uint8Array.from({ length: 66 }, (_, i) => (i * 7) % 256);

// Aperture-minted regtest token published in Tierion/lsat-js tests/data.ts (protocols/l402.md §1.2).
const APERTURE =
  'AgEEbHNhdAJCAAAwpHpumws6ufQoDwiTLNcge0QPUIWA0+tVY+tKPYAJ/zSfmEGlIpNm3VzxuzCqLhEp5KGiyPLUM9L+kcB7uzS+AAIPc2VydmljZXM9bWVtZTowAAISbWVtZV9jYXBhYmlsaXRpZXM9AAAGILA1VCEIExukt4nG+XR9tX8WJ2BVMiHG3UNt1uYJ+NRD';

/** The fields of a `macaroon` package object, read without `exportBinary()`. */
function fieldsOf(m: MacaroonLibMacaroon): MacaroonV2 {
  return {
    ...(m.location ? { location: m.location } : {}),
    identifier: m.identifier,
    caveats: m.caveats.map((c) => ({
      identifier: c.identifier,
      ...(c.location ? { location: c.location } : {}),
      ...(c.vid ? { vid: c.vid } : {}),
    })),
    signature: m.signature,
  };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isStipendError(error) ? error.code : `not a Stipend error: ${String(error)}`;
  }
  return undefined;
}

describe('encodeMacaroonV2 is byte-identical to macaroon@3.0.4 exportBinary', () => {
  // exportBinary() allocates gigabytes beyond two caveats (ENVIRONMENT.md), so 0-2 only.
  for (const caveats of [
    [],
    ['services=quotes:0'],
    ['services=quotes:0', 'quotes_valid_until=1'],
  ]) {
    it(`with ${caveats.length} first-party caveat(s)`, () => {
      const m = macaroonLib.newMacaroon({ identifier, location: 'lsat', rootKey, version: 2 });
      for (const c of caveats) m.addFirstPartyCaveat(c);
      const ours = encodeMacaroonV2(fieldsOf(m));
      expect(bytesToHex(ours)).toBe(bytesToHex(m.exportBinary()));
      expect(bytesToHex(encodeMacaroonV2(decodeMacaroonV2(ours)))).toBe(bytesToHex(ours));
    });
  }

  it('with a third-party caveat (location and vid)', () => {
    const m = macaroonLib.newMacaroon({ identifier: 'id-1', location: 'loc', rootKey });
    m.addThirdPartyCaveat(utf8.encode('third-party-root-key-32-bytes!!!'), 'tp-id', 'https://tp');
    const ours = encodeMacaroonV2(fieldsOf(m));
    expect(bytesToHex(ours)).toBe(bytesToHex(m.exportBinary()));
    const decoded = decodeMacaroonV2(ours);
    expect(decoded.caveats[0]?.location).toBe('https://tp');
    expect(decoded.caveats[0]?.vid?.length).toBeGreaterThan(0);
  });

  it('without a location, and with a multi-byte length varint', () => {
    const m = macaroonLib.newMacaroon({ identifier: 'x'.repeat(300), rootKey });
    const ours = encodeMacaroonV2(fieldsOf(m));
    expect(bytesToHex(ours)).toBe(bytesToHex(m.exportBinary()));
    expect(bytesToHex(ours.subarray(0, 4))).toBe('0202ac02'); // 300 = LEB128 ac 02
    expect(decodeMacaroonV2(ours).location).toBeUndefined();
  });

  it('and beyond two caveats the library itself verifies what we wrote', () => {
    const m = macaroonLib.newMacaroon({ identifier, location: 'lsat', rootKey, version: 2 });
    const conditions = Array.from({ length: 6 }, (_, i) => `c${i}=v${i}`);
    for (const c of conditions) m.addFirstPartyCaveat(c);
    const back = macaroonLib.importMacaroon(encodeMacaroonV2(fieldsOf(m)));
    const seen: string[] = [];
    back.verify(rootKey, (c) => {
      seen.push(c);
      return null;
    });
    expect(seen).toEqual(conditions);
  });
});

describe('decodeMacaroonV2', () => {
  it('reads the aperture golden vector and writes it back byte for byte', () => {
    const bytes = base64ToBytes(APERTURE);
    const m = decodeMacaroonV2(bytes);
    expect(m.location).toBe('lsat');
    expect(m.identifier.length).toBe(66);
    expect(m.caveats.map((c) => new TextDecoder().decode(c.identifier))).toEqual([
      'services=meme:0',
      'meme_capabilities=',
    ]);
    expect(bytesToHex(encodeMacaroonV2(m))).toBe(bytesToHex(bytes));
  });

  it('returns copies, not views of the input', () => {
    const bytes = base64ToBytes(APERTURE);
    const m = decodeMacaroonV2(bytes);
    bytes.fill(0);
    expect(m.identifier.some((b) => b !== 0)).toBe(true);
  });

  it('round-trips any macaroon', () => {
    const bytesArb = fc.uint8Array({ maxLength: 200 });
    const caveat = fc.record(
      { identifier: bytesArb, location: fc.string({ minLength: 1 }), vid: bytesArb },
      { requiredKeys: ['identifier'] },
    );
    fc.assert(
      fc.property(
        fc.record(
          {
            location: fc.string({ minLength: 1 }),
            identifier: bytesArb,
            caveats: fc.array(caveat, { maxLength: 5 }),
            signature: fc.uint8Array({ minLength: 32, maxLength: 32 }),
          },
          { requiredKeys: ['identifier', 'caveats', 'signature'] },
        ),
        (m) => {
          const bytes = encodeMacaroonV2(m);
          expect(bytesToHex(encodeMacaroonV2(decodeMacaroonV2(bytes)))).toBe(bytesToHex(bytes));
        },
      ),
    );
  });

  it('refuses a malformed macaroon with MACAROON_INVALID and a precise message', () => {
    const good = base64ToBytes(APERTURE);
    const zeros = new Array(32).fill(0);
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(), /unexpected end/],
      ['another version', Uint8Array.from([1, ...good.slice(1)]), /only v2 binary/],
      ['a truncated token', good.slice(0, good.length - 1), /exceeds the 31 bytes left/],
      ['bytes after the signature', Uint8Array.from([...good, 0]), /after the signature/],
      ['a short signature', Uint8Array.from([2, 2, 1, 0x41, 0, 0, 6, 2, 1, 2]), /32 bytes/],
      ['no identifier', Uint8Array.from([2, 0, 0, 6, 32, ...zeros]), /no identifier/],
      [
        'an unknown field',
        Uint8Array.from([2, 2, 1, 65, 0, 3, 1, 65, 0, 0, 6, 32, ...zeros]),
        /found 3 \(unknown field\)/,
      ],
      [
        'a repeated field',
        Uint8Array.from([2, 2, 1, 65, 2, 1, 65, 0, 0, 6, 32, ...zeros]),
        /out of order/,
      ],
      [
        'a vid in the header',
        Uint8Array.from([2, 2, 1, 65, 4, 1, 65, 0, 0, 6, 32, ...zeros]),
        /expected field type 0/,
      ],
      [
        'a 6-byte varint',
        Uint8Array.from([2, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        /longer than 5 bytes/,
      ],
      ['a varint above 32 bits', Uint8Array.from([2, 2, 0xff, 0xff, 0xff, 0xff, 0x7f]), /32 bits/],
      ['a location that is not UTF-8', Uint8Array.from([2, 1, 1, 0xff, 2, 0]), /not valid UTF-8/],
      ['no end of caveats', Uint8Array.from([2, 2, 1, 65, 0]), /unexpected end/],
    ];
    for (const [name, bytes, message] of cases) {
      expect(
        codeOf(() => decodeMacaroonV2(bytes)),
        name,
      ).toBe('MACAROON_INVALID');
      expect(() => decodeMacaroonV2(bytes), name).toThrow(message);
    }
  });

  it('reads a location that is not UTF-8 as U+FFFD only when asked to be lenient', () => {
    const bytes = Uint8Array.from([2, 1, 1, 0xff, 2, 1, 65, 0, 0, 6, 32, ...new Array(32).fill(0)]);
    expect(() => decodeMacaroonV2(bytes)).toThrow(/UTF-8/);
    expect(decodeMacaroonV2(bytes, { text: 'lenient' }).location).toBe('\uFFFD');
  });

  it('refuses to encode a signature that is not 32 bytes', () => {
    expect(
      codeOf(() => encodeMacaroonV2({ identifier, caveats: [], signature: new Uint8Array(31) })),
    ).toBe('MACAROON_INVALID');
  });
});
