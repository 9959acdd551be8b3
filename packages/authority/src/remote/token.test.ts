import {
  anyBase64ToBytes as fromBase64,
  bytesToBase64 as toBase64,
} from '@stipend/client/internal';
import { describe, expect, it } from 'vitest';
import { macaroonLib } from '../authority/macaroon-lib.js';
import { DelegationError } from './errors.js';
import { encodeMacaroon } from './macaroon-v2.js';
import { appendCaveats, attenuate, decodeToken, readToken } from './token.js';

const rootKey = new TextEncoder().encode('a-root-key-of-at-least-32-bytes!');
const ID = '0123456789abcdef0123456789abcdef';

/** A token minted with the macaroon library directly (what the authority does). */
function mint(caveats: string[], identifier = `stipend:1:${ID}`): string {
  const m = macaroonLib.newMacaroon({
    identifier,
    location: 'test-authority',
    rootKey,
    version: 2,
  });
  for (const caveat of caveats) m.addFirstPartyCaveat(caveat);
  return toBase64(
    encodeMacaroon({
      location: m.location,
      identifier: m.identifier,
      caveats: m.caveats.map((c) => ({ identifier: c.identifier })),
      signature: m.signature,
    }),
  );
}

function verifiesWithLibrary(token: string): boolean {
  try {
    macaroonLib.importMacaroon(fromBase64(token)!).verify(rootKey, () => null);
    return true;
  } catch {
    return false;
  }
}

const parent = mint([
  'stipend_total_usd=0.10',
  'stipend_methods=GET,HEAD',
  `stipend_expires=${Math.floor(Date.UTC(2026, 0, 2) / 1000)}`,
]);

describe('readToken', () => {
  it('reads the id, location, caveats and limits offline', () => {
    const info = readToken(parent);
    expect(info.id).toBe(ID);
    expect(info.location).toBe('test-authority');
    expect(info.caveats).toHaveLength(3);
    expect(info.depth).toBe(0);
    expect(info.limits).toEqual({
      totalUsdMicros: 100_000n,
      methods: ['GET', 'HEAD'],
      expiresAt: Date.UTC(2026, 0, 2),
    });
  });

  it('refuses what is not a delegation token', () => {
    const reason = (token: string) => {
      try {
        readToken(token);
        return 'accepted';
      } catch (error) {
        return error instanceof DelegationError ? error.reason : String(error);
      }
    };
    expect(reason('')).toBe('malformed');
    expect(reason('not base64!')).toBe('malformed');
    expect(reason(toBase64(new Uint8Array([2, 0])))).toBe('malformed');
    expect(reason(mint([], 'lsat-identifier'))).toBe('malformed');
    expect(reason(mint(['services=meme:0']))).toBe('unknown_caveat');
    expect(reason(mint(['stipend_total_usd=0.10', 'stipend_total_usd=0.20']))).toBe('widened');
  });
});

describe('attenuate (offline, no key)', () => {
  it('appends a delegation nonce and the caps; the HMAC chain still verifies with the root key', () => {
    const child = attenuate(parent, { totalUsd: '0.05', expiresAt: Date.UTC(2026, 0, 1, 1) });
    const info = readToken(child);
    expect(info.id).toBe(ID);
    expect(info.depth).toBe(1);
    expect(info.caveats.slice(0, 3)).toEqual(readToken(parent).caveats);
    expect(info.caveats[3]).toMatch(/^stipend_delegation=[0-9a-f]{32}$/);
    expect(info.caveats.slice(4)).toEqual([
      'stipend_total_usd=0.05',
      `stipend_expires=${Date.UTC(2026, 0, 1, 1) / 1000}`,
    ]);
    expect(info.limits.totalUsdMicros).toBe(50_000n);
    expect(verifiesWithLibrary(child)).toBe(true);
    // Standard padded base64.
    expect(child).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(child.length % 4).toBe(0);
  });

  it('gives siblings different tokens (different nonces)', () => {
    const a = attenuate(parent, { totalUsd: '0.05' });
    const b = attenuate(parent, { totalUsd: '0.05' });
    expect(a).not.toBe(b);
    expect(verifiesWithLibrary(a) && verifiesWithLibrary(b)).toBe(true);
  });

  it('attenuates to any depth', () => {
    let token = parent;
    for (let i = 0; i < 10; i++) token = attenuate(token, { totalUsd: `0.0${9 - i}` });
    expect(readToken(token).depth).toBe(10);
    expect(verifiesWithLibrary(token)).toBe(true);
  });

  it('refuses to widen, for every kind of cap', () => {
    const narrow = mint([
      'stipend_total_usd=0.10',
      'stipend_request_usd=0.02',
      'stipend_approve_above=0.01',
      'stipend_hosts=api.example.com',
      'stipend_methods=GET',
      'stipend_protocols=x402',
      'stipend_expires=2000000000',
    ]);
    const wider = [
      { totalUsd: '0.11' },
      { perRequestUsd: '0.03' },
      { approveAbove: '1' },
      { hosts: ['*.example.com'] },
      { methods: ['GET', 'POST'] },
      { protocols: ['x402', 'mpp'] },
      { expiresAt: 2_000_000_001_000 },
    ];
    for (const caps of wider) {
      expect(() => attenuate(narrow, caps), JSON.stringify(caps)).toThrow(/widen/);
    }
    // Equal caps are not wider.
    expect(() => attenuate(narrow, { totalUsd: '0.10', methods: ['GET'] })).not.toThrow();
  });

  it('appendCaveats writes raw caveats the authority will judge', () => {
    const widened = appendCaveats(parent, ['stipend_total_usd=5']);
    expect(verifiesWithLibrary(widened)).toBe(true); // the chain is intact...
    expect(() => readToken(widened)).toThrow(/widen/); // ...but the caveat widens
    expect(decodeToken(widened).conditions.at(-1)).toBe('stipend_total_usd=5');
  });
});
