import { describe, expect, it } from 'vitest';
import { bytesToHex, randomBytes32 } from '../lightning/bytes.js';
import { macaroonFromBase64 } from '../lightning/macaroon-binary.js';
import { parseL402Authorization } from './authorization.js';
import { decodeL402Identifier, encodeL402Identifier } from './identifier.js';

// Aperture-minted token from Tierion/lsat-js tests/data.ts (protocols/l402.md §1.2).
const APERTURE_TOKEN =
  'AgEEbHNhdAJCAAAwpHpumws6ufQoDwiTLNcge0QPUIWA0+tVY+tKPYAJ/zSfmEGlIpNm3VzxuzCqLhEp5KGiyPLUM9L+kcB7uzS+AAIPc2VydmljZXM9bWVtZTowAAISbWVtZV9jYXBhYmlsaXRpZXM9AAAGILA1VCEIExukt4nG+XR9tX8WJ2BVMiHG3UNt1uYJ+NRD';

describe('L402 identifier', () => {
  it('decodes the aperture vector', () => {
    const id = decodeL402Identifier(macaroonFromBase64(APERTURE_TOKEN).identifier);
    expect(id).toEqual({
      version: 0,
      paymentHash: '30a47a6e9b0b3ab9f4280f08932cd7207b440f508580d3eb5563eb4a3d8009ff',
      tokenId: '349f9841a5229366dd5cf1bb30aa2e1129e4a1a2c8f2d433d2fe91c07bbb34be',
    });
  });

  it('round-trips and lays out version, hash, token id big-endian', () => {
    const paymentHash = bytesToHex(randomBytes32());
    const tokenId = bytesToHex(randomBytes32());
    const bytes = encodeL402Identifier({ version: 0, paymentHash, tokenId });
    expect(bytes).toHaveLength(66);
    expect(bytesToHex(bytes)).toBe(`0000${paymentHash}${tokenId}`);
    expect(decodeL402Identifier(bytes)).toEqual({ version: 0, paymentHash, tokenId });
  });

  it('refuses other lengths and versions', () => {
    expect(() => decodeL402Identifier(new Uint8Array(65))).toThrow(/66 bytes/);
    const v1 = new Uint8Array(66);
    v1[1] = 1;
    expect(() => decodeL402Identifier(v1)).toThrow(/unknown L402 identifier version 1/);
    expect(() =>
      encodeL402Identifier({ version: 0, paymentHash: 'ab', tokenId: '00'.repeat(32) }),
    ).toThrow(/64 lowercase hex/);
  });
});

describe('parseL402Authorization', () => {
  const pre = 'ab'.repeat(32);
  it('accepts aperture forms', () => {
    expect(parseL402Authorization(`L402 ${APERTURE_TOKEN}:${pre}`)).toEqual({
      scheme: 'L402',
      macaroon: APERTURE_TOKEN,
      preimage: pre,
    });
    expect(parseL402Authorization(`LSAT ${APERTURE_TOKEN}:${pre}`)?.scheme).toBe('LSAT');
  });

  it('refuses what aperture refuses', () => {
    for (const value of [
      undefined,
      `l402 ${APERTURE_TOKEN}:${pre}`,
      `L402 ${APERTURE_TOKEN}:${pre.toUpperCase()}`,
      `L402 ${APERTURE_TOKEN}:${pre}0`,
      `L402 a,b:${pre}`,
      `L402 :${pre}`,
      `Payment ${APERTURE_TOKEN}`,
    ]) {
      expect(parseL402Authorization(value)).toBeNull();
    }
  });
});
