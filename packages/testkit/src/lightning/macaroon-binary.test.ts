import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, fromStdBase64, toStdBase64 } from './bytes.js';
import {
  decodeMacaroonV2,
  encodeMacaroonV2,
  MacaroonDecodeError,
  type MacaroonV2,
  macaroonFromBase64,
  macaroonToBase64,
  macaroonV2FromLib,
} from './macaroon-binary.js';
import { macaroonLib } from './macaroon-lib.js';

const utf8 = new TextEncoder();
const rootKey = utf8.encode('0123456789abcdef0123456789abcdef');
const identifier = Uint8Array.from({ length: 66 }, (_, i) => (i * 7) % 256);

function libMacaroon(caveats: string[]) {
  const m = macaroonLib.newMacaroon({ identifier, location: 'lsat', rootKey, version: 2 });
  for (const c of caveats) m.addFirstPartyCaveat(c);
  return m;
}

// Aperture-minted regtest token published in Tierion/lsat-js tests/data.ts (protocols/l402.md §1.2).
const APERTURE_TOKEN =
  'AgEEbHNhdAJCAAAwpHpumws6ufQoDwiTLNcge0QPUIWA0+tVY+tKPYAJ/zSfmEGlIpNm3VzxuzCqLhEp5KGiyPLUM9L+kcB7uzS+AAIPc2VydmljZXM9bWVtZTowAAISbWVtZV9jYXBhYmlsaXRpZXM9AAAGILA1VCEIExukt4nG+XR9tX8WJ2BVMiHG3UNt1uYJ+NRD';

describe('encodeMacaroonV2 against macaroon@3.0.4 exportBinary', () => {
  for (const caveats of [
    [],
    ['services=quotes:0'],
    ['services=quotes:0', 'quotes_valid_until=1'],
  ]) {
    it(`is byte-identical with ${caveats.length} caveat(s)`, () => {
      const m = libMacaroon(caveats);
      const ours = encodeMacaroonV2(macaroonV2FromLib(m));
      const theirs = m.exportBinary();
      expect(bytesToHex(ours)).toBe(bytesToHex(theirs));
      expect(ours[0]).toBe(2);
    });
  }

  it('is byte-identical for a third-party caveat (location + vid)', () => {
    const m = macaroonLib.newMacaroon({ identifier: 'id-1', location: 'loc', rootKey });
    m.addThirdPartyCaveat(utf8.encode('third-party-root-key-32-bytes!!!'), 'tp-id', 'https://tp');
    const ours = encodeMacaroonV2(macaroonV2FromLib(m));
    expect(bytesToHex(ours)).toBe(bytesToHex(m.exportBinary()));
    const decoded = decodeMacaroonV2(ours);
    expect(decoded.caveats[0]?.location).toBe('https://tp');
    expect(decoded.caveats[0]?.vid?.length).toBeGreaterThan(0);
  });

  it('omits the location field when the macaroon has none', () => {
    const m = macaroonLib.newMacaroon({ identifier: 'x', rootKey });
    const ours = encodeMacaroonV2(macaroonV2FromLib(m));
    expect(bytesToHex(ours)).toBe(bytesToHex(m.exportBinary()));
    expect(bytesToHex(ours.slice(0, 4))).toBe('02020178');
    expect(decodeMacaroonV2(ours).location).toBeUndefined();
  });
});

describe('decodeMacaroonV2', () => {
  it('parses the aperture-minted vector and re-encodes it to the same bytes', () => {
    const fields = macaroonFromBase64(APERTURE_TOKEN);
    expect(fields.location).toBe('lsat');
    expect(fields.identifier.length).toBe(66);
    expect(bytesToHex(fields.identifier.slice(0, 2))).toBe('0000');
    expect(bytesToHex(fields.identifier.slice(2, 34))).toBe(
      '30a47a6e9b0b3ab9f4280f08932cd7207b440f508580d3eb5563eb4a3d8009ff',
    );
    expect(fields.caveats.map((c) => new TextDecoder().decode(c.identifier))).toEqual([
      'services=meme:0',
      'meme_capabilities=',
    ]);
    expect(macaroonToBase64(fields)).toBe(APERTURE_TOKEN);
    expect(encodeMacaroonV2(fields).length).toBe(150);
  });

  it('reproduces the aperture authenticator_test vector', () => {
    const m = macaroonLib.newMacaroon({
      identifier: utf8.encode('AA=='),
      location: 'aperture',
      rootKey: utf8.encode('aabbccddeeff00112233445566778899'),
      version: 2,
    });
    m.addFirstPartyCaveat(
      'preimage=49349dfea4abed3cd14f6d356afa83de9787b609f088c8df09bacc7b4bd21b39',
    );
    expect(macaroonToBase64(m)).toBe(
      'AgEIYXBlcnR1cmUCBEFBPT0AAklwcmVpbWFnZT00OTM0OWRmZWE0YWJlZDNjZDE0ZjZkMzU2YWZhODNkZTk3ODdiNjA5ZjA4OGM4ZGYwOWJhY2M3YjRiZDIxYjM5AAAGIKMp8NcUmtVBYudEjYaIJemlCNTelfuG1dAGAAJJPKa1',
    );
  });

  it('serialises many caveats (where exportBinary would allocate gigabytes) and the library re-imports and verifies them', () => {
    const caveats = Array.from({ length: 12 }, (_, i) => `c${i}=v${i}`);
    const m = libMacaroon(caveats);
    const token = macaroonToBase64(m);
    const reimported = macaroonLib.importMacaroon(token);
    const seen: string[] = [];
    reimported.verify(rootKey, (cond) => {
      seen.push(cond);
      return null;
    });
    expect(seen).toEqual(caveats);
  });

  it('round-trips arbitrary macaroons and agrees with the library importer', () => {
    const bytes = (max: number) => fc.uint8Array({ minLength: 1, maxLength: max });
    // A caveat location only exists on third-party caveats (with a vid) in the library's model.
    const firstParty = fc.record({ identifier: bytes(300) });
    const thirdParty = fc.record(
      {
        identifier: bytes(300),
        location: fc.string({ minLength: 1, maxLength: 20 }),
        vid: bytes(80),
      },
      { requiredKeys: ['identifier', 'vid'] },
    );
    const caveat = fc.oneof(firstParty, thirdParty);
    const macaroon = fc.record(
      {
        location: fc.string({ minLength: 1, maxLength: 200 }),
        identifier: bytes(400),
        caveats: fc.array(caveat, { maxLength: 8 }),
        signature: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      },
      { requiredKeys: ['identifier', 'caveats', 'signature'] },
    );
    fc.assert(
      fc.property(macaroon, (m: MacaroonV2) => {
        const encoded = encodeMacaroonV2(m);
        expect(decodeMacaroonV2(encoded)).toEqual(m);
        const lib = macaroonLib.importMacaroon(encoded);
        expect(bytesToHex(lib.signature)).toBe(bytesToHex(m.signature));
        expect(lib.caveats.length).toBe(m.caveats.length);
        expect(toStdBase64(encodeMacaroonV2(macaroonV2FromLib(lib)))).toBe(toStdBase64(encoded));
      }),
      { numRuns: 150 },
    );
  });

  it('uses multi-byte varints for fields of 128 bytes or more', () => {
    const long = new Uint8Array(300).fill(0x61);
    const encoded = encodeMacaroonV2({
      identifier: long,
      caveats: [],
      signature: new Uint8Array(32),
    });
    // 300 = 0b10_0101100 -> LEB128 0xac 0x02
    expect(bytesToHex(encoded.slice(0, 4))).toBe('0202ac02');
    expect(decodeMacaroonV2(encoded).identifier).toEqual(long);
  });

  it('rejects malformed input with a precise error', () => {
    const good = fromStdBase64(APERTURE_TOKEN);
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(), /unexpected end/],
      [Uint8Array.from([1, ...good.slice(1)]), /only v2 binary/],
      [Uint8Array.from([...good, 0]), /unexpected bytes after the signature/],
      [good.slice(0, good.length - 1), /exceeds the 31 bytes left/],
      [Uint8Array.from([2, 9, 1, 0]), /expected field type 2 \(identifier\), found 9/],
      [Uint8Array.from([2, 2, 1, 0x41, 0, 0, 6, 2, 1, 2]), /signature must be 32 bytes/],
      [Uint8Array.from([2, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), /varint longer than 5 bytes/],
      [Uint8Array.from([2, 1, 1, 0xff, 2, 0]), /location is not valid UTF-8/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => decodeMacaroonV2(bytes)).toThrow(MacaroonDecodeError);
      expect(() => decodeMacaroonV2(bytes)).toThrow(message);
    }
  });

  it('refuses URL-safe or unpadded base64 the way aperture (Go StdEncoding) does', () => {
    const urlSafe = APERTURE_TOKEN.replaceAll('+', '-').replaceAll('/', '_');
    expect(() => macaroonFromBase64(urlSafe)).toThrow(/standard padded base64/);
    const m = macaroonLib.newMacaroon({ identifier: 'x', rootKey }); // 40 bytes: needs '=='
    const unpadded = macaroonToBase64(m).replace(/=+$/, '');
    expect(unpadded.length % 4).not.toBe(0);
    expect(() => macaroonFromBase64(unpadded)).toThrow(/standard padded base64/);
  });

  it('refuses to encode a signature that is not 32 bytes', () => {
    expect(() =>
      encodeMacaroonV2({ identifier: identifier, caveats: [], signature: new Uint8Array(31) }),
    ).toThrow(/32 bytes, got 31/);
  });
});
