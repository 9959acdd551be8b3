import { createRequire } from 'node:module';
import type { MacaroonLib } from '@stipend/testkit/l402';
import { describe, expect, it } from 'vitest';
import { toStdBase64 } from './bytes.js';
import { credentialStore, type L402Credential } from './credentials.js';
import { delegateL402Credential } from './delegate.js';
import { MacaroonError, readL402Token } from './macaroon.js';

const macaroon = createRequire(import.meta.url)('macaroon') as MacaroonLib;
const ORIGIN = 'https://api.example.com';

function parent(): L402Credential {
  const m = macaroon.newMacaroon({
    identifier: Uint8Array.from(Buffer.from(`0000${'ab'.repeat(32)}${'cd'.repeat(32)}`, 'hex')),
    location: 'lsat',
    rootKey: new Uint8Array(32),
    version: 2,
  });
  m.addFirstPartyCaveat('services=quotes:0,reports:0');
  return {
    id: 'ab'.repeat(32),
    origin: ORIGIN,
    token: toStdBase64(m.exportBinary()),
    preimage: '11'.repeat(32),
    services: ['quotes', 'reports'],
    paths: ['/quote', '/report'],
    expiresAt: 2_000_000_000_000,
    createdAt: 5,
  };
}

describe('delegateL402Credential', () => {
  it('narrows the parent credential into a one-credential store and a header', () => {
    const from = credentialStore([parent()]);
    const child = delegateL402Credential({
      from,
      origin: ORIGIN,
      service: 'quotes',
      services: ['quotes'],
      validUntil: 1_900_000_000,
    });
    expect(child.credential).toMatchObject({
      id: 'ab'.repeat(32),
      origin: ORIGIN,
      preimage: '11'.repeat(32),
      services: ['quotes'],
      paths: [],
      expiresAt: 1_900_000_000_000,
    });
    expect(child.credential.token).not.toBe(parent().token);
    expect(readL402Token(child.credential.token).validUntil).toEqual({ quotes: 1_900_000_000 });
    expect(child.headers.authorization).toBe(`L402 ${child.credential.token}:${'11'.repeat(32)}`);
    expect(child.store.list(ORIGIN)).toEqual([child.credential]);
    expect(child.store.list('https://other.example')).toEqual([]);
    // The parent keeps its wider credential.
    expect(from.list(ORIGIN)[0]!.token).toBe(parent().token);
  });

  it('keeps paths and the earlier expiry when only adding caveats', () => {
    const child = delegateL402Credential({ credential: parent(), caveats: ['agent=x'] });
    expect(child.credential.paths).toEqual(['/quote', '/report']);
    expect(child.credential.expiresAt).toBe(2_000_000_000_000);
    expect(readL402Token(child.credential.token).caveats).toContain('agent=x');
  });

  it('says what to do when there is nothing to delegate, and refuses to widen', () => {
    expect(() =>
      delegateL402Credential({ from: credentialStore(), origin: ORIGIN, services: ['quotes'] }),
    ).toThrow(/pay once with the parent's paying fetch first/);
    expect(() => delegateL402Credential({ credential: parent(), services: ['admin'] })).toThrow(
      MacaroonError,
    );
  });
});
