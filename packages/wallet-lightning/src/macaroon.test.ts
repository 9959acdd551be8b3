import { createRequire } from 'node:module';
import { type MacaroonLib, verifyL402Caveats } from '@stipend/testkit/l402';
import { describe, expect, it } from 'vitest';
import { bytesToHex, fromBase64, toStdBase64 } from './bytes.js';
import {
  addCaveats,
  attenuateL402Token,
  decodeMacaroon,
  encodeMacaroon,
  MacaroonError,
  readL402Token,
} from './macaroon.js';

const macaroon = createRequire(import.meta.url)('macaroon') as MacaroonLib;
const ROOT = new Uint8Array(32).fill(9);
const HASH = 'ab'.repeat(32);
const TOKEN_ID = 'cd'.repeat(32);
const IDENTIFIER = Uint8Array.from(Buffer.from(`0000${HASH}${TOKEN_ID}`, 'hex'));

function minted(caveats: string[]) {
  const m = macaroon.newMacaroon({
    identifier: IDENTIFIER,
    location: 'lsat',
    rootKey: ROOT,
    version: 2,
  });
  for (const caveat of caveats) m.addFirstPartyCaveat(caveat);
  return m;
}

/** A library macaroon serialised with our encoder (its exportBinary explodes past 2 caveats). */
function fields(m: ReturnType<typeof minted>) {
  return {
    location: m.location,
    identifier: m.identifier,
    caveats: m.caveats.map((c) => ({
      identifier: c.identifier,
      ...(c.location ? { location: c.location } : {}),
      ...(c.vid ? { vid: c.vid } : {}),
    })),
    signature: m.signature,
  };
}

/** Verifies with the root key and aperture's caveat rules; returns null or the reason. */
function serverCheck(token: string, service: string, nowSeconds = 1_700_000_000): string | null {
  const m = macaroon.importMacaroon(fromBase64(token));
  try {
    m.verify(ROOT, () => null);
  } catch (error) {
    return `signature: ${(error as Error).message}`;
  }
  return verifyL402Caveats(
    m.caveats.map((c) => Buffer.from(c.identifier).toString('utf8')),
    { service, nowSeconds },
  );
}

const APERTURE =
  'AgEEbHNhdAJCAAAwpHpumws6ufQoDwiTLNcge0QPUIWA0+tVY+tKPYAJ/zSfmEGlIpNm3VzxuzCqLhEp5KGiyPLUM9L+kcB7uzS+AAIPc2VydmljZXM9bWVtZTowAAISbWVtZV9jYXBhYmlsaXRpZXM9AAAGILA1VCEIExukt4nG+XR9tX8WJ2BVMiHG3UNt1uYJ+NRD';

describe('v2 binary codec', () => {
  it.each([0, 1, 2])(
    'encodes byte-for-byte like macaroon@3.0.4 exportBinary with %i caveats',
    (count) => {
      const m = minted(['services=quotes:0', 'quotes_valid_until=1800000000'].slice(0, count));
      const reference = m.exportBinary();
      const decoded = decodeMacaroon(reference);
      expect(decoded.caveats).toHaveLength(count);
      expect(bytesToHex(encodeMacaroon(decoded))).toBe(bytesToHex(reference));
    },
  );

  it('round-trips the aperture golden vector and keeps third-party caveats', () => {
    const bytes = fromBase64(APERTURE);
    expect(toStdBase64(encodeMacaroon(decodeMacaroon(bytes)))).toBe(APERTURE);
    const withThirdParty = minted([]);
    withThirdParty.addThirdPartyCaveat(new Uint8Array(32).fill(1), 'discharge-me', 'https://tp');
    const reference = withThirdParty.exportBinary();
    const decoded = decodeMacaroon(reference);
    expect(decoded.caveats[0]?.location).toBe('https://tp');
    expect(decoded.caveats[0]?.vid?.length).toBeGreaterThan(0);
    expect(bytesToHex(encodeMacaroon(decoded))).toBe(bytesToHex(reference));
    expect(readL402Token(toStdBase64(reference)).caveats).toEqual([]);
  });

  it('refuses malformed bytes with a MacaroonError', () => {
    const bytes = fromBase64(APERTURE);
    for (const bad of [
      bytes.subarray(0, 20),
      Uint8Array.from([...bytes, 0]),
      Uint8Array.from([1, ...bytes.subarray(1)]),
      new Uint8Array(0),
    ]) {
      expect(() => decodeMacaroon(bad)).toThrow(MacaroonError);
    }
  });
});

describe('reading tokens', () => {
  it('reads the aperture vector', () => {
    expect(readL402Token(APERTURE)).toEqual({
      location: 'lsat',
      identifier: {
        version: 0,
        paymentHash: '30a47a6e9b0b3ab9f4280f08932cd7207b440f508580d3eb5563eb4a3d8009ff',
        tokenId: '349f9841a5229366dd5cf1bb30aa2e1129e4a1a2c8f2d433d2fe91c07bbb34be',
      },
      caveats: ['services=meme:0', 'meme_capabilities='],
      services: [{ name: 'meme', tier: 0 }],
      validUntil: {},
      capabilities: { meme: [] },
    });
  });

  it('reads services, per-service expiry and capabilities of a minted token', () => {
    const token = toStdBase64(
      encodeMacaroon(
        fields(
          minted([
            'services=quotes:0,reports:2',
            'quotes_valid_until=1800000000',
            'quotes_valid_until=1750000000',
            'reports_capabilities=read,write',
          ]),
        ),
      ),
    );
    const info = readL402Token(token);
    expect(info.identifier).toEqual({ version: 0, paymentHash: HASH, tokenId: TOKEN_ID });
    expect(info.services).toEqual([
      { name: 'quotes', tier: 0 },
      { name: 'reports', tier: 2 },
    ]);
    expect(info.validUntil).toEqual({ quotes: 1_750_000_000 });
    expect(info.capabilities).toEqual({ reports: ['read', 'write'] });
    expect(info.expiresAt).toBe(1_750_000_000_000);
  });

  it('says an opaque token is not a macaroon', () => {
    expect(() => readL402Token('eyJhIjoxfQ.abc')).toThrow(MacaroonError);
  });
});

describe('attenuation without the root key', () => {
  const parent = toStdBase64(
    minted(['services=quotes:0,reports:1', 'reports_capabilities=read,write']).exportBinary(),
  );

  it('chains the HMAC like the macaroon library, for any number of caveats', () => {
    const caveats = ['a=1', 'b=2', 'c=3', 'd=4', 'e=5'];
    const ours = decodeMacaroon(fromBase64(addCaveats(parent, caveats)));
    const theirs = macaroon.importMacaroon(fromBase64(parent));
    for (const caveat of caveats) theirs.addFirstPartyCaveat(caveat);
    expect(bytesToHex(ours.signature)).toBe(bytesToHex(theirs.signature));
    expect(() =>
      macaroon.importMacaroon(encodeMacaroon(ours)).verify(ROOT, () => null),
    ).not.toThrow();
    expect(addCaveats(parent, caveats)).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('narrows services, expiry and capabilities, and the server accepts it', () => {
    const child = attenuateL402Token(parent, {
      services: ['quotes'],
      validUntil: new Date(1_800_000_000_000),
      capabilities: { reports: ['read'] },
      caveats: ['agent=child-1'],
    });
    expect(readL402Token(child).caveats.slice(2)).toEqual([
      'services=quotes:0',
      'quotes_valid_until=1800000000',
      'reports_capabilities=read',
      'agent=child-1',
    ]);
    expect(serverCheck(child, 'quotes')).toBeNull();
    // The narrowed token no longer opens the dropped service, and expires.
    expect(serverCheck(child, 'reports')).toMatch(/not authorized/);
    expect(serverCheck(child, 'quotes', 1_800_000_000)).toMatch(/expired/);
    expect(serverCheck(parent, 'reports')).toBeNull();
  });

  it('refuses to widen: a service not in the token, a later expiry, a new capability', () => {
    expect(() => attenuateL402Token(parent, { services: ['quotes', 'admin'] })).toThrow(
      /"admin" is not in the token/,
    );
    const short = attenuateL402Token(parent, { services: ['quotes'], validUntil: 1_750_000_000 });
    expect(() =>
      attenuateL402Token(short, { services: ['quotes'], validUntil: 1_760_000_000 }),
    ).toThrow(/later than the token's 1750000000/);
    expect(() => attenuateL402Token(parent, { capabilities: { reports: ['delete'] } })).toThrow(
      /delete are not in the token/,
    );
    expect(() => attenuateL402Token(parent, { caveats: ['no-equals'] })).toThrow(/condition=value/);
    expect(() => attenuateL402Token(parent, { services: [] })).toThrow(/at least one/);
  });

  it('a hand-made widening caveat is rejected by the server (fresh 402), not by us', () => {
    const narrow = addCaveats(parent, ['services=quotes:0']);
    const widened = addCaveats(narrow, ['services=quotes:0,reports:1']);
    expect(serverCheck(widened, 'reports')).toMatch(/not previously allowed/);
  });
});
