import {
  anyBase64ToBytes as fromBase64,
  bytesToBase64 as toBase64,
} from '@stipend/client/internal';
import { describe, expect, it } from 'vitest';
import { DelegationError } from '../remote/errors.js';
import { decodeMacaroon, encodeMacaroon } from '../remote/macaroon-v2.js';
import { appendCaveats, attenuate } from '../remote/token.js';
import { scopeLimits, tokenKeys } from './tokens.js';

const rootKey = new Uint8Array(32).fill(7);
const keys = tokenKeys(rootKey);
const ID = 'fedcba9876543210fedcba9876543210';
const root = keys.mint(ID, [
  'stipend_total_usd=0.10',
  'stipend_methods=GET,HEAD',
  'stipend_expires=2000000000',
]);

function reason(token: string, using = keys): string {
  try {
    using.verify(token);
    return 'valid';
  } catch (error) {
    return error instanceof DelegationError ? `${error.code}/${error.reason}` : String(error);
  }
}

function tamper(token: string, edit: (bytes: Uint8Array) => void): string {
  const bytes = fromBase64(token)!;
  edit(bytes);
  return toBase64(bytes);
}

describe('tokenKeys.verify', () => {
  it('accepts minted and attenuated tokens', () => {
    expect(reason(root)).toBe('valid');
    const child = attenuate(root, { totalUsd: '0.05', methods: ['GET'] });
    const grandchild = attenuate(child, { hosts: ['api.example.com'] });
    expect(reason(child)).toBe('valid');
    expect(reason(grandchild)).toBe('valid');
    const verified = keys.verify(grandchild);
    expect(verified.id).toBe(ID);
    expect(verified.depth).toBe(2);
    expect(verified.limits).toMatchObject({
      totalUsdMicros: 50_000n,
      methods: ['GET'],
      hosts: ['api.example.com'],
    });
  });

  it('refuses a tampered token: any bit of signature, caveat or identifier', () => {
    const bytes = fromBase64(root)!;
    // Flip one bit in every byte position that is content (identifier, caveats, signature).
    let refused = 0;
    for (let i = 1; i < bytes.length; i++) {
      const token = tamper(root, (b) => {
        b[i] = b[i]! ^ 1;
      });
      const outcome = reason(token);
      expect(outcome, `byte ${i}`).not.toBe('valid');
      expect(outcome, `byte ${i}`).toMatch(/^DELEGATION_INVALID\//);
      refused++;
    }
    expect(refused).toBe(bytes.length - 1);
  });

  it('refuses caveats edited, removed or reordered (the chain breaks)', () => {
    const decoded = decodeMacaroon(fromBase64(root)!);
    const reencode = (caveats: typeof decoded.caveats) =>
      toBase64(encodeMacaroon({ ...decoded, caveats }));
    const utf8 = new TextEncoder();
    expect(reason(reencode(decoded.caveats.slice(1)))).toBe('DELEGATION_INVALID/signature');
    expect(reason(reencode([...decoded.caveats].reverse()))).toBe('DELEGATION_INVALID/signature');
    expect(
      reason(
        reencode([
          { identifier: utf8.encode('stipend_total_usd=99') },
          ...decoded.caveats.slice(1),
        ]),
      ),
    ).toBe('DELEGATION_INVALID/signature');
  });

  it('refuses a token minted with another root key', () => {
    const other = tokenKeys(new Uint8Array(32).fill(8));
    expect(reason(root, other)).toBe('DELEGATION_INVALID/signature');
  });

  it('refuses a widened token (every kind) and an unknown caveat, with a valid chain', () => {
    const widenings = [
      'stipend_total_usd=0.11',
      'stipend_methods=GET,POST',
      'stipend_expires=2000000001',
    ];
    const narrow = keys.mint(ID, [
      'stipend_total_usd=0.10',
      'stipend_request_usd=0.01',
      'stipend_approve_above=0.01',
      'stipend_hosts=api.example.com',
      'stipend_methods=GET',
      'stipend_protocols=x402:exact',
      'stipend_expires=2000000000',
    ]);
    for (const caveat of [
      ...widenings,
      'stipend_request_usd=0.02',
      'stipend_approve_above=0.02',
      'stipend_hosts=*.example.com',
      'stipend_protocols=x402',
    ]) {
      expect(reason(appendCaveats(narrow, [caveat])), caveat).toBe('DELEGATION_INVALID/widened');
    }
    expect(reason(appendCaveats(root, ['services=meme:0']))).toBe(
      'DELEGATION_INVALID/unknown_caveat',
    );
  });
});

describe('scopes', () => {
  it('a sub-token counts against its own cap and every ancestor cap', () => {
    const child = attenuate(root, { totalUsd: '0.05' });
    const grandchild = attenuate(child, { totalUsd: '0.02' });
    const r = keys.verify(root).scopes;
    const c = keys.verify(child).scopes;
    const g = keys.verify(grandchild).scopes;
    expect(r.map((s) => s.capUsdMicros)).toEqual([100_000n]);
    expect(c.map((s) => s.capUsdMicros)).toEqual([100_000n, 50_000n]);
    expect(g.map((s) => s.capUsdMicros)).toEqual([100_000n, 50_000n, 20_000n]);
    expect(c[0]!.scope).toBe(r[0]!.scope);
    expect(g[1]!.scope).toBe(c[1]!.scope);
    expect(scopeLimits(keys.verify(grandchild))).toEqual(
      g.map((s) => ({ scope: s.scope, window: { kind: 'total' }, maxUsdMicros: s.capUsdMicros })),
    );
  });

  it('siblings have separate scopes; copies share one', () => {
    const a = attenuate(root, { totalUsd: '0.05' });
    const b = attenuate(root, { totalUsd: '0.05' });
    expect(keys.verify(a).scopes[1]!.scope).not.toBe(keys.verify(b).scopes[1]!.scope);
    expect(keys.verify(a).scopes[0]!.scope).toBe(keys.verify(b).scopes[0]!.scope);
    expect(keys.verify(a).scopes[1]!.scope).toBe(keys.verify(`${a}`).scopes[1]!.scope);
  });

  it('a caveat after the total does not change the scope; the cap is the lowest so far', () => {
    const narrowed = appendCaveats(root, ['stipend_methods=GET']);
    expect(keys.verify(narrowed).scopes).toEqual(keys.verify(root).scopes);
    const lower = appendCaveats(root, ['stipend_total_usd=0.03', 'stipend_total_usd=0.03']);
    expect(keys.verify(lower).scopes.map((s) => s.capUsdMicros)).toEqual([
      100_000n,
      30_000n,
      30_000n,
    ]);
  });

  it('names scopes with hashes: no signature of any prefix appears', () => {
    const child = attenuate(root, { totalUsd: '0.05' });
    const verified = keys.verify(child);
    const signatureHex = Array.from(decodeMacaroon(fromBase64(root)!).signature, (b) =>
      b.toString(16).padStart(2, '0'),
    ).join('');
    for (const s of verified.scopes) {
      expect(s.scope).toMatch(new RegExp(`^delegation:${ID}:[0-9a-f]{32}$`));
      expect(signatureHex.includes(s.scope.split(':')[2]!)).toBe(false);
    }
  });
});
