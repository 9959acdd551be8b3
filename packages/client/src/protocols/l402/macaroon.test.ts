import { attenuateL402Macaroon } from '@stipend/testkit/l402';
import { describe, expect, it } from 'vitest';
import { mint } from './l402.test-helpers.js';
import { readMacaroon } from './macaroon.js';

// aperture-originated regtest challenge (lsat-js tests/data.ts), protocols/l402.md §1.2.
const APERTURE =
  'AgEEbHNhdAJCAAAwpHpumws6ufQoDwiTLNcge0QPUIWA0+tVY+tKPYAJ/zSfmEGlIpNm3VzxuzCqLhEp5KGiyPLUM9L+kcB7uzS+AAIPc2VydmljZXM9bWVtZTowAAISbWVtZV9jYXBhYmlsaXRpZXM9AAAGILA1VCEIExukt4nG+XR9tX8WJ2BVMiHG3UNt1uYJ+NRD';

describe('readMacaroon', () => {
  it('reads the aperture golden vector: identifier fields and caveats', () => {
    const info = readMacaroon(APERTURE)!;
    expect(info.location).toBe('lsat');
    expect(info.identifier.length).toBe(66);
    expect(info.l402).toEqual({
      version: 0,
      paymentHash: '30a47a6e9b0b3ab9f4280f08932cd7207b440f508580d3eb5563eb4a3d8009ff',
      tokenId: '349f9841a5229366dd5cf1bb30aa2e1129e4a1a2c8f2d433d2fe91c07bbb34be',
    });
    expect(info.caveats).toEqual(['services=meme:0', 'meme_capabilities=']);
    expect(info.services).toEqual(['meme']);
    expect(info.thirdPartyCaveats).toBe(0);
    expect(info.expiresAt).toBeUndefined();
  });

  it('accepts URL-safe and unpadded base64 of the same bytes', () => {
    const urlSafe = APERTURE.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect(readMacaroon(urlSafe)?.l402?.tokenId).toBe(readMacaroon(APERTURE)?.l402?.tokenId);
  });

  it('reads testkit-minted tokens: services, the earliest expiry, attenuation', () => {
    const minted = mint({
      caveats: ['services=quotes:0,reports:1', 'quotes_valid_until=2000000000'],
    });
    const info = readMacaroon(minted.macaroon)!;
    expect(info.l402?.paymentHash).toBe(minted.paymentHash);
    expect(info.l402?.tokenId).toBe(minted.tokenId);
    expect(info.services).toEqual(['quotes', 'reports']);
    expect(info.expiresAt).toBe(2_000_000_000_000);

    const narrower = attenuateL402Macaroon(minted.macaroon, [
      'services=quotes:0',
      'quotes_valid_until=1900000000',
      'expiration=1800000000000',
    ]);
    const attenuated = readMacaroon(narrower)!;
    expect(attenuated.services).toEqual(['quotes']);
    expect(attenuated.expiresAt).toBe(1_800_000_000_000);
    expect(attenuated.caveats).toHaveLength(5);
  });

  it('returns undefined for tokens that are not v2 macaroons (opaque tokens are allowed)', () => {
    const bytes = Buffer.from(APERTURE, 'base64');
    for (const token of [
      '',
      'not base64!',
      'eyJwYXltZW50SGFzaCI6ImFiYyJ9.0123abcd',
      Buffer.from(bytes.subarray(0, bytes.length - 1)).toString('base64'),
      Buffer.concat([bytes, Buffer.from([0])]).toString('base64'),
      Buffer.concat([Buffer.from([1]), bytes.subarray(1)]).toString('base64'),
    ]) {
      expect(readMacaroon(token)).toBeUndefined();
    }
  });

  it('counts third-party caveats and keeps them out of the first-party list', () => {
    // v2: header, a third-party caveat (location, id, vid), a first-party caveat, signature.
    const parts = [
      [2],
      [1, 4, ...Buffer.from('lsat')],
      [2, 2, 0xaa, 0xbb],
      [0],
      [1, 3, ...Buffer.from('tpc')],
      [2, 3, ...Buffer.from('cid')],
      [4, 2, 1, 2],
      [0],
      [2, 17, ...Buffer.from('services=quotes:0')],
      [0],
      [0],
      [6, 32, ...new Array(32).fill(7)],
    ].flat();
    const info = readMacaroon(Buffer.from(parts).toString('base64'))!;
    expect(info.thirdPartyCaveats).toBe(1);
    expect(info.caveats).toEqual(['services=quotes:0']);
    expect(info.l402).toBeUndefined();
  });
});

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The same bytes with an unused bit of the last character set (a lenient decoder ignores it). */
function nonCanonical(padded: string): string {
  const body = padded.replace(/=+$/, '');
  const last = B64.indexOf(body.at(-1)!);
  return body.slice(0, -1) + B64[last | 1] + '='.repeat(padded.length - body.length);
}

describe('readMacaroon on hostile padding', () => {
  it('padding that is not exact makes a token not a macaroon (one token, one byte string)', () => {
    const unpadded = APERTURE.replace(/=+$/, '');
    expect(readMacaroon(unpadded)?.l402).toBeDefined();
    // A run of "=" or a non-canonical last character would otherwise read as the same macaroon.
    expect(readMacaroon(`${APERTURE}==`)).toBeUndefined();
    expect(readMacaroon(`${unpadded}===`)).toBeUndefined();
    const padded = ['x', 'xx', 'xxx']
      .map((c) => mint({ caveats: [`c=${c}`] }).macaroon)
      .find((token) => token.endsWith('='))!;
    expect(readMacaroon(padded)?.l402).toBeDefined();
    expect(readMacaroon(nonCanonical(padded))).toBeUndefined();
  });

  it('a long run of "=" followed by another character is refused in linear time', () => {
    // With /=+$/ this took seconds at 64 KiB; the test's own timeout is the guard.
    expect(readMacaroon(`${'='.repeat(64 * 1024)}x`)).toBeUndefined();
    expect(readMacaroon(`AgEE${'='.repeat(64 * 1024)}`)).toBeUndefined();
  }, 2_000);

  it('a token is read once: the same token gives back the one frozen reading, and no reader can alter the identifier the next one checks', () => {
    const first = readMacaroon(APERTURE)!;
    expect(readMacaroon(APERTURE)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.l402)).toBe(true);
    expect(Object.isFrozen(first.caveats)).toBe(true);
    expect(Object.isFrozen(first.services)).toBe(true);
    first.identifier.fill(0);
    expect(readMacaroon(APERTURE)!.identifier[2]).toBe(0x30);
    expect(readMacaroon('not a macaroon')).toBeUndefined();
    expect(readMacaroon('not a macaroon')).toBeUndefined();
  });
});
