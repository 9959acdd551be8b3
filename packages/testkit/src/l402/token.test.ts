import { describe, expect, it } from 'vitest';
import {
  bytesToHex,
  hexToBytes,
  randomBytes32,
  sha256Hex,
  toStdBase64,
} from '../lightning/bytes.js';
import { macaroonFromBase64 } from '../lightning/macaroon-binary.js';
import { macaroonLib } from '../lightning/macaroon-lib.js';
import { attenuateL402Macaroon } from './attenuate.js';
import { decodeL402Identifier } from './identifier.js';
import { mintL402Macaroon, RootKeyStore, verifyL402Credential } from './token.js';

const NOW = 1_700_000_000;
const ctx = { service: 'quotes', nowSeconds: NOW };

function fixture() {
  const keys = new RootKeyStore();
  const preimage = bytesToHex(randomBytes32());
  const paymentHash = sha256Hex(hexToBytes(preimage));
  const minted = mintL402Macaroon(keys, paymentHash, [
    'services=quotes:0',
    `quotes_valid_until=${NOW + 60}`,
  ]);
  return { keys, preimage, paymentHash, minted };
}

describe('mintL402Macaroon / verifyL402Credential', () => {
  it('mints a v2 macaroon bound to the payment hash with a per-token root key', () => {
    const { keys, paymentHash, minted } = fixture();
    const fields = macaroonFromBase64(minted.macaroon);
    expect(fields.location).toBe('lsat');
    const id = decodeL402Identifier(fields.identifier);
    expect(id.paymentHash).toBe(paymentHash);
    expect(id.tokenId).toBe(minted.tokenId);
    expect(keys.size).toBe(1);
    // The root key stored for the token verifies the macaroon with the macaroon package.
    const rootKey = keys.get(minted.tokenId);
    expect(rootKey).toBeDefined();
    expect(() =>
      macaroonLib.importMacaroon(minted.macaroon).verify(rootKey as Uint8Array, () => null),
    ).not.toThrow();
  });

  it('verifies a good credential and reports its caveats', () => {
    const { keys, preimage, paymentHash, minted } = fixture();
    expect(verifyL402Credential(keys, minted.macaroon, preimage, ctx)).toEqual({
      ok: true,
      tokenId: minted.tokenId,
      paymentHash,
      caveats: ['services=quotes:0', `quotes_valid_until=${NOW + 60}`],
    });
  });

  it('refuses in aperture order: token format, identifier, preimage, root key, signature, caveats', () => {
    const { keys, preimage, minted } = fixture();
    const verdict = (token: string, pre = preimage, c = ctx) => {
      const v = verifyL402Credential(keys, token, pre, c);
      return v.ok ? 'ok' : v.reason;
    };
    expect(verdict('not base64!')).toMatch(/^token is not a v2 macaroon in standard base64/);
    expect(verdict(toStdBase64(new TextEncoder().encode('{"payment_hash":"x"}')))).toMatch(
      /only v2 binary macaroons/,
    );
    const shortId = macaroonLib.newMacaroon({
      identifier: 'short',
      rootKey: 'k',
      location: 'lsat',
    });
    expect(verdict(toStdBase64(shortId.exportBinary()))).toMatch(/66 bytes/);
    expect(verdict(minted.macaroon, bytesToHex(randomBytes32()))).toMatch(/^invalid preimage/);
    const otherKeys = new RootKeyStore();
    const v = verifyL402Credential(otherKeys, minted.macaroon, preimage, ctx);
    expect(v.ok ? 'ok' : v.reason).toMatch(/secret not found/);
    expect(verdict(minted.macaroon, preimage, { ...ctx, nowSeconds: NOW + 60 })).toMatch(/expired/);
    expect(verdict(attenuateL402Macaroon(minted.macaroon, ['services=quotes:0']))).toBe('ok');
    keys.revoke(minted.tokenId);
    expect(verdict(minted.macaroon)).toMatch(/secret not found/);
  });
});
